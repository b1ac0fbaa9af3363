"""Documented model parameters: unit, default, valid range and source in one place.

Every device model in :mod:`rrampaper.devices` declares its parameters as a tuple of
:class:`Parameter`. The same declaration validates user input (``ValueError`` naming the
parameter, its value and the valid range), fills the ``attrs`` of exported ``xarray`` datasets
and renders the parameter tables of the folder README and the notebooks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rrampaper._checks import check_range


@dataclass(frozen=True)
class Parameter:
    """One scalar model parameter.

    Attributes
    ----------
    name:
        Keyword name in the model's constructor.
    unit:
        SI unit (``"V"``, ``"s"``, ``"S"``, ``"A"``, ``"nm"``, ``"nm^2"``, ``"S/m"``) or ``""``.
    default:
        Default value, in ``unit``.
    low, high:
        Valid interval; ``low_open``/``high_open`` exclude the bound itself.
    source:
        Where the default comes from. Text starting with ``"ASSUMPTION"`` marks a value that
        this project chose because the paper's number is NOT FOUND; it then names the literature
        anchor it rests on.
    """

    name: str
    unit: str
    default: float
    low: float
    high: float
    source: str
    low_open: bool = False
    high_open: bool = False

    def check(self, value: Any) -> float:
        """Return ``value`` as ``float`` or raise ``ValueError`` naming the valid range."""
        check_range(
            self.name,
            value,
            self.low,
            self.high,
            low_open=self.low_open,
            high_open=self.high_open,
            unit=self.unit,
        )
        return float(value)

    @property
    def is_assumption(self) -> bool:
        """Whether the default is this project's assumption rather than a measured number."""
        return self.source.startswith("ASSUMPTION")

    def interval(self) -> str:
        """The valid interval as text, e.g. ``"(0, 20] V"``."""
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        unit = f" {self.unit}" if self.unit else ""
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}{unit}"


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def validate(specs: Iterable[Parameter], values: Mapping[str, Any]) -> dict[str, float]:
    """Check every value in ``values`` against its :class:`Parameter`; return them as floats."""
    table = {p.name: p for p in specs}
    out = {}
    for name, value in values.items():
        if name not in table:
            raise ValueError(f"{name!r} is not a parameter; valid names: {', '.join(table)}")
        out[name] = table[name].check(value)
    return out


def table(specs: Iterable[Parameter], values: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Parameters as a table (name, value, unit, valid range, source) for notebooks and docs."""
    rows = []
    for p in specs:
        value = p.default if values is None else values.get(p.name, p.default)
        rows.append(
            {
                "parameter": p.name,
                "value": value,
                "unit": p.unit,
                "valid range": p.interval(),
                "source": p.source,
            }
        )
    return pd.DataFrame(rows).set_index("parameter")


def as_attrs(prefix: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten parameter values into netCDF-safe attributes (``prefix.name`` -> number/str)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            out[f"{prefix}.{key}"] = int(value)
        elif isinstance(value, int | float | str):
            out[f"{prefix}.{key}"] = value
        elif isinstance(value, tuple | list):
            out[f"{prefix}.{key}"] = [float(v) for v in value]
        else:
            out[f"{prefix}.{key}"] = str(value)
    return out


class ParameterSet:
    """Mixin for a model whose scalar parameters are declared in ``PARAMETERS``.

    :meth:`_set_params` validates keyword values against the declarations (defaults for the
    rest); the values are then readable as attributes and as :attr:`params`.
    """

    PARAMETERS: tuple[Parameter, ...] = ()

    def _set_params(self, params: Mapping[str, Any]) -> None:
        values = {p.name: p.default for p in self.PARAMETERS}
        values.update(validate(self.PARAMETERS, params))
        self._p = values

    def __getattr__(self, name: str) -> float:
        p = self.__dict__.get("_p")
        if p is not None and name in p:
            return p[name]
        raise AttributeError(name)

    @property
    def params(self) -> dict[str, float]:
        """All parameter values (a copy), keyed by name."""
        return dict(self._p)

    def parameter_table(self) -> pd.DataFrame:
        """Parameters, units, valid ranges and sources as a :class:`pandas.DataFrame`."""
        return table(self.PARAMETERS, self._p)
