"""One-at-a-time sensitivity of the energy reduction to each constant, and its tornado chart.

Each constant is set to the low and the high end of its cited range (``Constant.low/high``),
or divided and multiplied by ``factor`` where it has none, the others kept; the reduction
``100 * (1 - E_hybrid / E_gpu)`` is recomputed. Constants whose value is 0 (a component the
preset leaves out) are skipped.

Examples
--------
>>> import torch
>>> from torch import nn
>>> from rrampaper.analysis.energy import Workload, constants, count_operations, sensitivity
>>> ops = count_operations(nn.Sequential(nn.Linear(64, 32, bias=False)), torch.zeros(1, 64))
>>> table = sensitivity(ops, constants(), Workload(input_bits=4))
>>> table.index[0]      # the constant that moves the reduction most
'adc_fom_j'
"""

from __future__ import annotations

import pandas as pd

from rrampaper._checks import check_range
from rrampaper.analysis.energy.constants import EnergyConstants
from rrampaper.analysis.energy.model import DEFAULT_SCENARIO, Workload, compare


def _ends(spec, value: float, factor: float, use_ranges: bool) -> tuple[float, float, str]:
    if use_ranges and spec.low is not None and spec.high is not None:
        return float(spec.low), float(spec.high), "cited range"
    low, high = value / factor, value * factor
    if spec.integer:
        low, high = max(round(low), spec.valid_low), round(high)
    return max(low, spec.valid_low), min(high, spec.valid_high), f"/{factor:g} x{factor:g}"


def sensitivity(ops: pd.DataFrame, c: EnergyConstants, workload: Workload,
                scenario: str = DEFAULT_SCENARIO, factor: float = 2.0,
                use_ranges: bool = True) -> pd.DataFrame:
    """Reduction (percent) at both ends of every constant's range, sorted by swing.

    Returns
    -------
    pandas.DataFrame
        Indexed by constant: ``value``, ``low``, ``high`` (the values tried), ``how`` (cited
        range or factor), ``reduction_low``, ``reduction_high`` (percent), ``swing``
        (``|high - low|`` in percentage points); attribute ``attrs["baseline"]`` holds the
        reduction at the constants' values.
    """
    check_range("factor", factor, 1.0, low_open=True)
    baseline = compare(ops, c, workload, scenario).reduction_percent
    rows = {}
    for name, spec in c.specs.items():
        value = c[name]
        if value == 0:
            continue
        low, high, how = _ends(spec, value, factor, use_ranges)
        r_low = compare(ops, c.replace(**{name: low}), workload, scenario).reduction_percent
        r_high = compare(ops, c.replace(**{name: high}), workload, scenario).reduction_percent
        rows[name] = {"value": value, "low": low, "high": high, "how": how,
                      "reduction_low": r_low, "reduction_high": r_high,
                      "swing": abs(r_high - r_low)}
    table = pd.DataFrame.from_dict(rows, orient="index").sort_values("swing", ascending=False)
    table.attrs["baseline"] = baseline
    return table
