r"""Tutorial 1 · A random network grown by electroforming.

The library code of ``notebooks/tutorials/01_random_network.ipynb`` (and of its solution twin).

What the notebook calls: the explorer of one forming pulse (:func:`explore_forming`, drawn by
:func:`draw_forming`), a short table of the model's key numbers (:func:`key_parameters`) and the
exercise checks (:func:`check_formed_fraction`, :func:`check_half_formed_voltage`,
:func:`check_median_formed_conductance`). The physics is the package's own filament model,
:class:`rrampaper.devices.filament.FilamentModel` (docs/devices.md#forming-statistics,
docs/devices.md#filament-conductance, docs/devices.md#compliance); nothing here changes it.

The explorer's macro
--------------------
A 512 × 512 macro of differential pairs (docs/devices.md#differential-pairs) is drawn once per
seed (:func:`pristine_macro`): every random cell gets its own uniform numbers, so that moving
the voltage slider forms *more cells of the same chip* instead of a new random chip.

* Cell *i* forms when its uniform :math:`u_i` lies below the formed fraction
  :math:`F(V, t) = 1 - e^{-\lambda(V, t)}`. This is the same as saying that each cell has its
  own breakdown voltage :math:`V_{\mathrm{BD},i} = F^{-1}(u_i)` (Weibull) and forms when the
  pulse exceeds it; a cell formed at 3.4 V is therefore still formed at 3.5 V.
* A formed cell's conductance is the quantile :math:`q_i` (a second uniform) of the model's
  formed-cell law at that pulse (:meth:`FilamentModel.formed_conductance_distribution`:
  filaments summed, then limited by the cell's compliance).
* Unformed cells keep their pristine conductance, the off-state reference cell of each pair is
  lognormal around the ``taox_post_verify_static`` preset's off state, and each pair has a
  random sign: weight :math:`w = s\,(G_\mathrm{cell} - G_\mathrm{off})`.

At one pulse every statistic is exactly the model's (formed fraction, conductance law); only
the coupling between pulses (same :math:`u_i, q_i`) is a choice of this illustration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.ticker import FuncFormatter, NullLocator

from rrampaper._checks import check_positive_int, check_range
from rrampaper.devices import FilamentModel, technology
from rrampaper.teaching import widgets

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rrampaper.teaching.widgets import Explorer

#: Siemens to microsiemens.
US = 1e6

#: Rows = columns of differential pairs in one macro of the paper's chip (docs/paper.md#chip).
MACRO_PAIRS = 512
#: Rows = columns of the corner of the macro the weight map shows (every pair stays visible).
MAP_PAIRS = 128

#: Forming pulse the explorer starts from: amplitude (V) and width (s).
DEFAULT_VOLTAGE_V = 3.4
DEFAULT_WIDTH_S = 1e-6
#: Voltage slider: lowest, highest value and step (V). At 1 µs the formed fraction goes from
#: 1 % (2.78 V) to 99 % (3.78 V); 100 ns and 10 µs shift that window by about ±0.2 V.
VOLTAGE_SLIDER_V = (2.6, 4.0, 0.02)
#: Pulse widths of the width slider (s): 100 ns … 10 µs, about two per decade.
WIDTHS_S = (1e-7, 3e-7, 1e-6, 3e-6, 1e-5)
#: Seeds (chips) the seed control offers.
SEEDS = (0, 1, 2, 3)

#: Range the drawing accepts (the curve is drawn over it): V and s.
VOLTAGE_RANGE_V = (2.0, 4.5)
WIDTH_RANGE_S = (1e-8, 1e-4)

#: Preset whose off-state reference cells the pairs use (docs/devices.md#pristine-and-off-state).
PAIR_TECHNOLOGY = "taox_post_verify_static"

_FORMED, _UNFORMED, _OFF = "#d55e00", "#0173b2", "#7f7f7f"


# ---------------------------------------------------------------------------------------
# Units and the model
# ---------------------------------------------------------------------------------------
def format_width(width_s: float) -> str:
    """A pulse width in seconds as text with an SI prefix.

    >>> format_width(1e-6), format_width(3e-7), format_width(1e-5)
    ('1 µs', '300 ns', '10 µs')
    """
    check_range("width_s", width_s, 0.0, math.inf, low_open=True, unit="s")
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if width_s >= scale * 0.9995:
            return f"{width_s / scale:.3g} {unit}"
    return f"{width_s / 1e-12:.3g} ps"


def filament_model() -> FilamentModel:
    """The package's filament model, documented defaults (docs/devices.md#forming-statistics)."""
    return FilamentModel()


def key_parameters() -> pd.DataFrame:
    """The numbers of the filament model a first reader needs, with units and where they come from.

    Columns ``value``, ``unit``, ``meaning``, ``see``; the full table with every source string is
    ``FilamentModel().parameter_table()``.
    """

    m = filament_model()
    tech = technology(PAIR_TECHNOLOGY)
    rows = [
        ("Weibull scale η at 1 µs", m.weibull_scale_v, "V",
         "pulse amplitude that forms 63.2 % of the cells", "forming-statistics"),
        ("Weibull shape β", m.weibull_shape_v, "",
         "steepness of the formed-fraction curve", "forming-statistics"),
        ("voltage exponent n", m.voltage_exponent, "",
         "t_BD ∝ V^-n: ten times longer pulse → η lower by 10^(1/n)", "forming-statistics"),
        ("median filament conductance", m.filament_median_s * US, "µS",
         "one conductance quantum G0 (a calibration)", "filament-conductance"),
        ("median compliance limit I_cc / V_c", m.conductance_cap_s * US, "µS",
         "100 µA / 0.4 V: the transistor stops the filament from growing", "compliance"),
        ("pristine cell", m.pristine_conductance_s * US, "µS",
         "unformed oxide, about 10 MΩ", "pristine-and-off-state"),
        ("off-state reference cell", tech.hrs_median_s * US, "µS",
         "the second cell of each differential pair", "pristine-and-off-state"),
    ]
    table = pd.DataFrame(rows, columns=["quantity", "value", "unit", "meaning", "see"])
    table["value"] = table["value"].map(lambda v: float(f"{v:.4g}"))
    table["see"] = "docs/devices.md#" + table["see"]
    return table.set_index("quantity")


def _check_pulse(voltage_v: float, width_s: float) -> tuple[float, float]:
    check_range("voltage_v", voltage_v, *VOLTAGE_RANGE_V, unit="V")
    check_range("width_s", width_s, *WIDTH_RANGE_S, unit="s")
    return float(voltage_v), float(width_s)


# ---------------------------------------------------------------------------------------
# The macro of the explorer
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PristineMacro:
    """A macro of ``pairs × pairs`` differential pairs before forming (numpy, float64).

    Attributes
    ----------
    breakdown_quantile:
        ``[pairs, pairs]`` uniform u_i: the cell forms when u_i < F(V, t).
    conductance_quantile:
        ``[pairs, pairs]`` uniform q_i: a formed cell conducts the q_i-quantile of the formed law.
    pristine_s:
        ``[pairs, pairs]`` conductance (S) of the random cell while unformed.
    off_s:
        ``[pairs, pairs]`` conductance (S) of the off-state reference cell.
    sign:
        ``[pairs, pairs]`` ±1, which column of the pair the random cell sits on.
    """

    breakdown_quantile: np.ndarray
    conductance_quantile: np.ndarray
    pristine_s: np.ndarray
    off_s: np.ndarray
    sign: np.ndarray

    @property
    def n_cells(self) -> int:
        """Number of random cells (one per pair)."""
        return int(self.sign.size)

    def form(self, voltage_v: float, width_s: float) -> FormedMacro:
        """Apply one forming pulse (amplitude ``voltage_v`` in V, width ``width_s`` in s)."""
        voltage_v, width_s = _check_pulse(voltage_v, width_s)
        model = filament_model()
        probability = float(model.formed_probability(voltage_v, width_s))
        formed = self.breakdown_quantile < probability
        law = model.formed_conductance_distribution(voltage_v, width_s)
        conductance = self.pristine_s.copy()
        conductance[formed] = law.ppf(self.conductance_quantile[formed])
        return FormedMacro(
            voltage_v=voltage_v,
            width_s=width_s,
            probability=probability,
            formed=formed,
            conductance_s=conductance,
            off_s=self.off_s,
            weight_s=self.sign * (conductance - self.off_s),
        )


@dataclass(frozen=True)
class FormedMacro:
    """The macro after one forming pulse.

    Attributes
    ----------
    voltage_v, width_s:
        The pulse (V, s).
    probability:
        The model's formed fraction F(V, t) (``FilamentModel.formed_probability``).
    formed:
        ``[pairs, pairs]`` bool, whether the random cell formed.
    conductance_s:
        ``[pairs, pairs]`` random cell's conductance (S).
    off_s:
        ``[pairs, pairs]`` off-state reference cell's conductance (S).
    weight_s:
        ``[pairs, pairs]`` differential weight sign · (G_cell − G_off) in siemens.
    """

    voltage_v: float
    width_s: float
    probability: float
    formed: np.ndarray
    conductance_s: np.ndarray
    off_s: np.ndarray
    weight_s: np.ndarray

    @property
    def formed_fraction(self) -> float:
        """Fraction of this macro's random cells that formed (a sample of ``probability``)."""
        return float(self.formed.mean())

    @property
    def median_formed_s(self) -> float:
        """Median conductance (S) of the formed cells; nan if none formed."""
        g = self.conductance_s[self.formed]
        return float(np.median(g)) if g.size else math.nan


@lru_cache(maxsize=len(SEEDS))
def pristine_macro(seed: int = 0, pairs: int = MACRO_PAIRS) -> PristineMacro:
    """The macro of chip ``seed`` before forming, ``pairs × pairs`` pairs (cached).

    Pristine cells are lognormal around ``FilamentModel().pristine_conductance_s`` (10 MΩ), the
    off-state cells lognormal as in the ``taox_post_verify_static`` preset
    (docs/devices.md#pristine-and-off-state).
    """
    seed = check_positive_int("seed", seed, minimum=0)
    pairs = check_positive_int("pairs", pairs)
    if pairs > 2048:
        raise ValueError(f"pairs={pairs!r} is outside the valid range [1, 2048]")
    rng = np.random.default_rng(seed)
    shape = (pairs, pairs)
    model = filament_model()
    tech = technology(PAIR_TECHNOLOGY)
    return PristineMacro(
        breakdown_quantile=rng.random(shape),
        conductance_quantile=rng.random(shape),
        pristine_s=model.pristine_conductance_s
        * np.exp(model.pristine_sigma * rng.standard_normal(shape)),
        off_s=tech.hrs_median_s * np.exp(tech.hrs_sigma * rng.standard_normal(shape)),
        sign=rng.integers(0, 2, shape) * 2.0 - 1.0,
    )


# ---------------------------------------------------------------------------------------
# The explorer
# ---------------------------------------------------------------------------------------
def caption(macro: FormedMacro) -> str:
    """The explorer's one-line caption; it starts with ``formed fraction: 42.9 %`` (the model's
    F(V, t), one decimal), then the pulse and what this macro's sample gave."""
    median = macro.median_formed_s * US
    median_text = f"{median:.0f} µS" if math.isfinite(median) else "none formed"
    return (
        f"formed fraction: {100 * macro.probability:.1f} % at {macro.voltage_v:.2f} V, "
        f"{format_width(macro.width_s)} (model); this {macro.formed.shape[0]} × "
        f"{macro.formed.shape[1]} macro: {100 * macro.formed_fraction:.1f} % of "
        f"{macro.formed.size:,} cells formed, median formed cell {median_text}"
    )


def draw_forming(
    voltage_v: float = DEFAULT_VOLTAGE_V, width_s: float = DEFAULT_WIDTH_S, seed: int = 0
) -> tuple[Figure, str]:
    """Figure and caption of one forming pulse on the 512 × 512 macro of chip ``seed``.

    Left: formed fraction against amplitude for this width (and 100 ns / 10 µs for contrast),
    the pulse marked. Middle: conductance histogram (µS, log axis) of formed, unformed and
    off-state cells of the whole macro. Right: the differential weights of its first
    128 × 128 pairs (µS). ``voltage_v`` in [2, 4.5] V, ``width_s`` in [10 ns, 100 µs].
    """

    macro = pristine_macro(seed).form(voltage_v, width_s)
    # fixed margins: tight_layout would double the time of a redraw (< 1 s is the budget)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), gridspec_kw={"width_ratios": [1, 1.1, 1]})
    fig.subplots_adjust(left=0.05, right=0.97, bottom=0.13, top=0.92, wspace=0.28)
    _plot_curve(axes[0], macro)
    _plot_histogram(axes[1], macro)
    _plot_weight_map(fig, axes[2], macro)
    return fig, caption(macro)


def _plot_curve(ax: Any, macro: FormedMacro) -> None:
    model = filament_model()
    low, high = VOLTAGE_SLIDER_V[:2]
    v = np.linspace(min(low, macro.voltage_v - 0.1), max(high, macro.voltage_v + 0.1), 200)
    for width in (WIDTHS_S[0], WIDTHS_S[-1]):
        if not math.isclose(width, macro.width_s):
            ax.plot(v, 100 * model.formed_probability(v, width), color="0.75", lw=1.2)
            v_mid = model.voltage_for_formed_fraction(0.5, width)
            ax.annotate(format_width(width), (v_mid, 50), fontsize=8, color="0.45",
                        xytext=(4, 0), textcoords="offset points")
    ax.plot(v, 100 * model.formed_probability(v, macro.width_s), color=_FORMED, lw=2,
            label=f"model, {format_width(macro.width_s)} pulse")
    p = 100 * macro.probability
    ax.plot([macro.voltage_v] * 2, [0, p], color="k", ls=":", lw=1)
    ax.plot([v[0], macro.voltage_v], [p] * 2, color="k", ls=":", lw=1)
    ax.plot(macro.voltage_v, p, "o", color="k", ms=7,
            label=f"{macro.voltage_v:.2f} V → {p:.1f} %")
    ax.set(xlim=(v[0], v[-1]), ylim=(-2, 102), xlabel="forming voltage (V)",
           ylabel="formed fraction (%)", title="Which cells form")
    ax.legend(loc="upper left", fontsize=8)


def _plot_histogram(ax: Any, macro: FormedMacro) -> None:
    bins = np.geomspace(1e-2, 1e3, 76)  # µS
    groups = (
        ("formed cells", macro.conductance_s[macro.formed], _FORMED),
        ("unformed (pristine) cells", macro.conductance_s[~macro.formed], _UNFORMED),
        ("off-state reference cells", macro.off_s.reshape(-1), _OFF),
    )
    for label, g, colour in groups:
        counts, _ = np.histogram(g * US, bins=bins)
        ax.stairs(counts, bins, fill=True, alpha=0.45, color=colour, label=f"{label}: {g.size:,}")
    median = macro.median_formed_s * US
    if math.isfinite(median):
        ax.axvline(median, color=_FORMED, ls="--", lw=1)
        ax.annotate(f"median\n{median:.0f} µS", (median, 0.97), xycoords=("data", "axes fraction"),
                    fontsize=8, color=_FORMED, ha="right", va="top", xytext=(-3, 0),
                    textcoords="offset points")
    ax.set(xscale="log", xlim=(bins[0], bins[-1]), xlabel="cell conductance (µS)",
           ylabel="cells per bin", title="How conductive they are")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
    ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks cost a tenth of a second
    ax.legend(loc="upper left", fontsize=8)


def _plot_weight_map(fig: Figure, ax: Any, macro: FormedMacro) -> None:
    n = min(MAP_PAIRS, macro.weight_s.shape[0])
    limit = filament_model().conductance_cap_s * US
    im = ax.imshow(macro.weight_s[:n, :n] * US, cmap="RdBu_r", interpolation="nearest",
                   norm=Normalize(-limit, limit))
    fig.colorbar(im, ax=ax, label="weight G⁺ − G⁻ (µS)", shrink=0.9)
    ax.set(xlabel="column (pair)", ylabel="row (pair)",
           title=f"Weights of the first {n} × {n} pairs")
    ax.grid(False)


def controls(
    voltage_v: float = DEFAULT_VOLTAGE_V, width_s: float = DEFAULT_WIDTH_S, seed: int = 0
) -> dict[str, Any]:
    """The explorer's ipywidgets controls by keyword of :func:`draw_forming`.

    ``voltage_v``: a ``FloatSlider`` over :data:`VOLTAGE_SLIDER_V` described "forming voltage
    (V)"; ``width_s``: a ``SelectionSlider`` over :data:`WIDTHS_S`; ``seed``: a ``Dropdown`` of
    :data:`SEEDS`. ``width_s`` must be one of :data:`WIDTHS_S`, ``seed`` one of :data:`SEEDS`.
    """

    low, high, step = VOLTAGE_SLIDER_V
    check_range("voltage_v", voltage_v, low, high, unit="V")
    if not any(math.isclose(width_s, x) for x in WIDTHS_S):
        choices = ", ".join(format_width(x) for x in WIDTHS_S)
        raise ValueError(f"width_s={width_s!r} s is not one of the slider's widths ({choices})")
    if seed not in SEEDS:
        raise ValueError(f"seed={seed!r} is not one of {SEEDS}")
    wide = {"description_width": "initial"}
    return {
        "voltage_v": w.FloatSlider(
            value=voltage_v, min=low, max=high, step=step, description="forming voltage (V)",
            readout_format=".2f", continuous_update=False, style=wide,
            layout=w.Layout(width="520px"),
        ),
        "width_s": w.SelectionSlider(
            options=[(format_width(x), x) for x in WIDTHS_S],
            value=next(x for x in WIDTHS_S if math.isclose(width_s, x)),
            description="pulse width", continuous_update=False, style=wide,
            layout=w.Layout(width="520px"),
        ),
        "seed": w.Dropdown(options=list(SEEDS), value=seed, description="chip (seed)", style=wide),
    }


def explore_forming(
    voltage_v: float = DEFAULT_VOLTAGE_V, width_s: float = DEFAULT_WIDTH_S, seed: int = 0
) -> Explorer:
    """Show the forming explorer (figure, caption, sliders) starting from this pulse."""
    return widgets.explore(draw_forming, controls(voltage_v, width_s, seed))


# ---------------------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------------------
class ExerciseError(AssertionError):
    """An exercise answer is wrong; the message says what was expected and what was given."""


#: Exercise 1: the pulse (V, s) whose formed fraction the student reports, and the tolerance.
EXERCISE_FRACTION_PULSE = (3.3, 1e-5)
EXERCISE_FRACTION_TOLERANCE = 0.02
#: Exercise 2: the target fraction, pulse width (s) and tolerance (V).
EXERCISE_HALF_WIDTH_S = 1e-6
EXERCISE_HALF_TOLERANCE_V = 0.02
#: Exercise 3: the pulse (V, s) and the relative tolerance of the median formed conductance.
EXERCISE_MEDIAN_PULSE = (3.5, 1e-6)
EXERCISE_MEDIAN_RELATIVE = 0.05


def expected_formed_fraction() -> float:
    """Exercise 1's answer: F at 3.3 V, 10 µs (docs/devices.md#forming-statistics)."""
    return float(filament_model().formed_probability(*EXERCISE_FRACTION_PULSE))


def expected_half_formed_voltage() -> float:
    """Exercise 2's answer: the amplitude (V) that forms 50 % of the cells with a 1 µs pulse."""
    return filament_model().voltage_for_formed_fraction(0.5, EXERCISE_HALF_WIDTH_S)


def expected_median_formed_conductance_us() -> float:
    """Exercise 3's answer: median conductance (µS) of a formed cell after 3.5 V, 1 µs
    (docs/devices.md#filament-conductance, docs/devices.md#compliance)."""
    law = filament_model().formed_conductance_distribution(*EXERCISE_MEDIAN_PULSE)
    return float(law.ppf(0.5)) * US


def _literal(seconds: float) -> str:
    """A width as a short Python literal for hints: ``1e-05`` → ``"1e-5"``."""
    mantissa, exponent = f"{seconds:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _number(answer: Any, what: str) -> float:
    if isinstance(answer, bool | str | bytes):
        raise ExerciseError(f"your {what} should be a number; you gave {answer!r}")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise ExerciseError(f"your {what} should be a number; you gave {answer!r}") from None
    if not math.isfinite(value):
        raise ExerciseError(f"your {what} should be a finite number; you gave {answer!r}")
    return value


def _check(answer: Any, what: str, low: float, high: float, fmt: str, unit: str,
           hint: str, advice: str = "") -> bool:
    if answer is None:
        print(f"not answered yet: {hint}")
        return False
    value = _number(answer, what)
    if not low <= value <= high:
        raise ExerciseError(
            f"your {what} should be between {low:{fmt}} and {high:{fmt}}{unit}; "
            f"you gave {answer!r}{advice}"
        )
    print(f"correct: {what} = {value:{fmt}}{unit} (expected {low:{fmt}} to {high:{fmt}}{unit})")
    return True


def check_formed_fraction(answer: float | None) -> bool:
    """Exercise 1: the fraction (0 to 1) of cells that forms at 3.3 V with a 10 µs pulse.

    ``None``: prints a hint, returns False. Within ±0.02 of ``FilamentModel().formed_probability``:
    prints a confirmation, returns True. Otherwise raises :class:`ExerciseError`.
    """
    v, t = EXERCISE_FRACTION_PULSE
    target = expected_formed_fraction()
    tol = EXERCISE_FRACTION_TOLERANCE
    advice = ""
    if isinstance(answer, int | float) and not isinstance(answer, bool) and 1 < answer <= 100:
        advice = " (a fraction between 0 and 1, not a percentage)"
    return _check(
        answer, f"formed fraction at {v:.2f} V, {format_width(t)}", target - tol, target + tol,
        ".3f", "",
        f"set the explorer to {v:.2f} V and {format_width(t)} and read the caption, or call "
        f"model.formed_probability({v}, {_literal(t)}); give a fraction between 0 and 1",
        advice,
    )


def check_half_formed_voltage(answer: float | None) -> bool:
    """Exercise 2: the amplitude (V) that forms half of the cells with a 1 µs pulse (±0.02 V)."""
    target = expected_half_formed_voltage()
    tol = EXERCISE_HALF_TOLERANCE_V
    width = format_width(EXERCISE_HALF_WIDTH_S)
    return _check(
        answer, f"voltage for 50 % formed at {width}", target - tol, target + tol, ".3f", " V",
        f"move the voltage slider (at {width}) until the caption says 50 %, or call "
        f"model.voltage_for_formed_fraction(0.5, {_literal(EXERCISE_HALF_WIDTH_S)}); "
        "answer in volts",
    )


def check_median_formed_conductance(answer: float | None) -> bool:
    """Exercise 3: the median conductance, in µS, of a formed cell after 3.5 V, 1 µs (±5 %)."""
    v, t = EXERCISE_MEDIAN_PULSE
    target = expected_median_formed_conductance_us()
    rel = EXERCISE_MEDIAN_RELATIVE
    advice = ""
    if isinstance(answer, int | float) and not isinstance(answer, bool) and 0 < answer < 1e-2:
        advice = " (that looks like siemens: multiply by 1e6 to get µS)"
    return _check(
        answer, f"median formed conductance at {v:.2f} V, {format_width(t)}",
        target * (1 - rel), target * (1 + rel), ".2f", " µS",
        f"sample cells with model.sample(...) and take the median of the formed ones, or use "
        f"model.formed_conductance_distribution({v}, {_literal(t)}).ppf(0.5); answer in µS",
        advice,
    )
