"""Tutorial 3 · Why programming analog weights is hard (``notebooks/tutorials/03_programming.ipynb``).

Weight optimization (WO) trains weights in software and then *programs* them into analog
conductances; topology optimization (TO), the paper's method, never programs a target: it only
SETs or RESETs the randomly formed pairs of a chip. This module holds what the tutorial's cells
call; everything device-related is the package's own machinery:

1. **One cell** (:func:`cell_targets`, :func:`programming_table`, :func:`plot_programming`): the
   targets go through :func:`rrampaper.devices.program_conductances` with ``"open_loop"`` (one
   unverified pulse, ``target + sigma_open(target) * z``) or ``"write_verify"`` (pulse, noisy verify
   read, again until inside ``max(tolerance * target, atol_s)`` or out of pulses); see
   ``docs/devices.md#programming``.
2. **Relaxation** (:func:`relaxation_errors`, :func:`plot_relaxation`): the programmed state moves
   after programming by the technology's law (:meth:`rrampaper.devices.Technology.relax`,
   ``docs/devices.md#device-effects``); write-verify ends about 1 s after programming and cannot
   undo it.
3. **TO against WO on one chip** (:func:`prepare_comparison`, :class:`Comparison`,
   :func:`draw_comparison`, :func:`comparison_explorer`): a tiny bias-free MLP on two moons,
   trained once in software (WO) and once as hardware TO on ``Chip(technology, seed)``; the
   explorer only *programs* the trained WO weights (:func:`rrampaper.baselines.program_model`)
   and relaxes both chips, as ``docs/device-conditions.md`` does for the real tasks.
4. **Exercises** (:func:`check_open_loop_sigma`, :func:`check_write_verify_pulses`,
   :func:`check_crossing`): ``None`` prints a hint and returns ``False``; a right answer prints a
   confirmation and returns ``True``; a wrong one raises :class:`ExerciseError` naming the
   expected range.

Examples
--------
>>> from rrampaper.teaching import programming as tut
>>> targets = tut.cell_targets(cells_per_target=2)
>>> [round(g * 1e6, 1) for g in targets[::2].tolist()][:3]     # µS, on the macro's 32 levels
[2.0, 30.8, 59.5]
>>> tut.time_label(86400.0)
'1 day'
>>> tut.check_open_loop_sigma(None)
not answered yet: the open-loop law of technology('taox_40nm_macro') is its programming_sigma(g_s): siemens in, siemens out; give σ at 40 µS in µS
False
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Image
from matplotlib.figure import Figure
from sklearn.datasets import make_moons
from torch import Tensor, nn

from rrampaper import baselines, devices, topology
from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.devices.programming import ProgramResult
from rrampaper.devices.relaxation import T_MAX_S
from rrampaper.experiments.approaches import APPROACHES
from rrampaper.teaching.widgets import Explorer, explore, one_thread, png_bytes

US = 1e-6  # one microsiemens in siemens

#: The tutorial's technology: the paper's 40 nm TaOx macro with every effect switched on.
DEFAULT_TECHNOLOGY = "taox_40nm_macro"

#: The two programming methods the tutorial compares (``docs/devices.md#programming``).
METHODS: tuple[str, ...] = ("open_loop", "write_verify")

#: Times after programming (label -> seconds), the time axis of ``docs/device-conditions.md``.
TIMES_S: dict[str, float] = {
    "1 s": 1.0,
    "1 h": 3600.0,
    "1 day": 86400.0,
    "1 year": 365.25 * 86400.0,
    "10 years": 3652.5 * 86400.0,
}

#: Programming-noise multiples of the explorer (the noise axis of ``docs/device-conditions.md``).
NOISE_MULTIPLES: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0)

#: The tiny network: 3 inputs (x, y and a constant 1 that plays the bias), two hidden ReLU
#: layers of this width, 2 outputs, no bias anywhere (the paper's networks have none).
HIDDEN = 64
#: Full-batch Adam steps and learning rates of the two trainings (chosen so that both take about
#: a second on one CPU core and reach about 96 % on the test points at seed 0).
WO_STEPS, WO_LR = 300, 0.02
TO_STEPS, TO_LR = 300, 0.05
#: Fraction of each layer's random pairs TO keeps.
KEEP_RATIO = 0.5
#: Figure colours: those of the package's figures (WO open-loop, WO write-verify, hardware TO).
COLOURS: dict[str, str] = {
    "open_loop": str(APPROACHES["wo_open_loop"].colour),
    "write_verify": str(APPROACHES["wo_write_verify"].colour),
    "TO": str(APPROACHES["hardware_TO"].colour),
}


class ExerciseError(AssertionError):
    """A wrong exercise answer; the message says what was expected and what was given."""


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def time_label(t_s: float) -> str:
    """Human label of a time after programming (s): ``"1 day"`` for 86400, else ``"5 s"``."""
    for label, seconds in TIMES_S.items():
        if math.isclose(t_s, seconds):
            return label
    return f"{t_s:g} s"


def as_image(fig: Figure) -> Any:
    """``fig`` as an :class:`IPython.display.Image` (PNG; the figure is closed): shown by every
    notebook front end and kept in executed notebooks whatever the matplotlib backend."""

    return Image(data=png_bytes(fig))


def _check_method(method: str) -> str:
    return check_choice("method", method, METHODS)


def _check_time(t_s: float) -> float:
    return float(check_range("t_s", t_s, 0.0, T_MAX_S, unit="s"))


def _check_noise(noise: float) -> float:
    return float(check_range("noise", noise, 0.0, 100.0))


# ---------------------------------------------------------------------------------------------
# 1 · Programming one cell
# ---------------------------------------------------------------------------------------------
def cell_targets(
    technology: str | devices.Technology = DEFAULT_TECHNOLOGY,
    n_targets: int = 8,
    cells_per_target: int = 50,
) -> Tensor:
    """Target conductances (siemens, float64): ``n_targets`` values spread over the
    technology's programmable range, each repeated for ``cells_per_target`` cells.

    The values sit on the technology's programmable levels (``levels``, 32 for
    ``taox_40nm_macro``, ``docs/devices.md#device-effects``) so that the snapping
    :func:`~rrampaper.devices.program_conductances` does first leaves them where they are; a
    technology without levels gets evenly spaced values from ``g_min_s`` to ``g_max_s``.
    """
    tech = devices.technology(technology)
    n_targets = check_positive_int("n_targets", n_targets)
    cells_per_target = check_positive_int("cells_per_target", cells_per_target)
    levels = int(tech.levels) if tech.levels else 0
    if levels:
        if n_targets > levels:
            raise ValueError(f"n_targets={n_targets} is more than the {levels} levels of "
                             f"technology {tech.name!r}; give at most {levels}")
        grid = torch.linspace(tech.g_min_s, tech.g_max_s, levels, dtype=torch.float64)
        step = max(levels // n_targets, 1)
        values = grid[::step][:n_targets]
    else:
        values = torch.linspace(tech.g_min_s, tech.g_max_s, n_targets, dtype=torch.float64)
    return values.repeat_interleave(cells_per_target)


def programming_table(targets_s: Tensor, results: Mapping[str, ProgramResult]) -> pd.DataFrame:
    """One row per method: RMS error to the target (µS), mean and largest pulses per cell, and
    the share of cells whose last verify read passed (%; open-loop does not verify: 100 %)."""
    target = torch.as_tensor(targets_s, dtype=torch.float64)
    rows = {}
    for method, result in results.items():
        error = result.conductance_s - target
        rows[method] = {
            "rms_error_uS": float(error.square().mean().sqrt()) / US,
            "mean_pulses": float(result.pulses.double().mean()),
            "max_pulses": int(result.pulses.max()),
            "converged_%": 100.0 * float(result.converged.double().mean()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").round(3)


def plot_programming(
    targets_s: Tensor,
    results: Mapping[str, ProgramResult],
    technology: str | devices.Technology = DEFAULT_TECHNOLOGY,
) -> Figure:
    """(a) programmed against target conductance (µS) for each method, with the technology's
    open-loop spread ``target ± sigma_open(target)`` shaded; (b) mean pulses per cell at each
    target."""
    tech = devices.technology(technology)
    target = torch.as_tensor(targets_s, dtype=torch.float64)
    levels = torch.unique(target)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=(1.4, 1))
    sigma = tech.programming_sigma(levels)
    lo, hi = (levels - sigma) / US, (levels + sigma) / US
    ax1.fill_between(levels / US, lo, hi, color="0.88", label="open-loop ±σ(G)")
    ax1.plot(levels / US, levels / US, color="0.3", lw=1, label="target")
    width = float(levels.diff().min()) / US if len(levels) > 1 else 1.0
    for k, (method, result) in enumerate(results.items()):
        shift = (k - (len(results) - 1) / 2) * 0.25 * width
        ax1.scatter(target / US + shift, result.conductance_s / US, s=6, alpha=0.5,
                    color=COLOURS.get(method), label=method)
        means = [float(result.pulses[target == g].double().mean()) for g in levels]
        ax2.bar(levels / US + shift, means, width=0.25 * width, color=COLOURS.get(method),
                label=method)
    ax1.set(xlabel="target conductance (µS)", ylabel="programmed conductance (µS)",
            title=f"(a) one programming of each cell, {tech.name}")
    ax1.legend(fontsize=8, markerscale=2)
    ax2.set(xlabel="target conductance (µS)", ylabel="pulses per cell (mean)",
            title="(b) what it costs")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# 2 · Relaxation after programming
# ---------------------------------------------------------------------------------------------
def relaxation_errors(
    targets_s: Tensor,
    results: Mapping[str, ProgramResult],
    technology: str | devices.Technology = DEFAULT_TECHNOLOGY,
    times_s: Mapping[str, float] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """RMS distance to the target (µS) of programmed cells at times after programming.

    Rows: the time labels of ``times_s`` (default :data:`TIMES_S`); columns: the methods of
    ``results``. Every cell keeps one standard normal for all times (drawn from ``seed``), so a
    later time only adds to an earlier one, as :meth:`rrampaper.devices.Technology.relax` asks
    (the technology's relaxation law, ``docs/devices.md#device-effects``).
    """
    tech = devices.technology(technology)
    times = dict(TIMES_S if times_s is None else times_s)
    target = torch.as_tensor(targets_s, dtype=torch.float64)
    gen = torch.Generator().manual_seed(check_positive_int("seed", seed, minimum=0))
    z = torch.randn(target.shape, generator=gen, dtype=torch.float64)
    rows = {}
    for label, t in times.items():
        t = float(check_range("times_s", t, 0.0, T_MAX_S, unit="s"))
        rows[label] = {
            method: float((tech.relax(result.conductance_s, t, z) - target).square().mean().sqrt())
            / US
            for method, result in results.items()
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "time after programming"
    frame.attrs["times_s"] = times
    return frame


def plot_relaxation(errors: pd.DataFrame) -> Figure:
    """RMS error to the target (µS) against time after programming (log axis), one line per
    method: the output of :func:`relaxation_errors`."""
    times = errors.attrs.get("times_s") or {label: TIMES_S[label] for label in errors.index}
    t = np.array([times[label] for label in errors.index])
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for method in errors.columns:
        ax.plot(t, errors[method].to_numpy(), marker="o", label=method,
                color=COLOURS.get(method))
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(t, list(errors.index), rotation=30)
    ax.set(xlabel="time after programming", ylabel="RMS error to target (µS)",
           title="Programmed cells relax; write-verify cannot undo it", ylim=(0, None))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# 3 · TO against WO on the same chip
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MoonsData:
    """Two interleaved half moons (scikit-learn ``make_moons``), standardized with the training
    points' mean and std, plus a constant third input 1 that plays the bias.

    ``x_*``: float32 ``[n, 3]``; ``y_*``: int64 ``[n]``; ``extent``: plotting box
    ``(x_min, x_max, y_min, y_max)`` in standardized units.
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    extent: tuple[float, float, float, float]

    def grid(self, n: int = 120) -> tuple[np.ndarray, np.ndarray, Tensor]:
        """An ``n x n`` grid over :attr:`extent`: ``(xx, yy, inputs [n*n, 3])``."""
        x0, x1, y0, y1 = self.extent
        xx, yy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        flat = np.c_[xx.ravel(), yy.ravel(), np.ones(xx.size)]
        return xx, yy, torch.tensor(flat, dtype=torch.float32)


def moons_data(n_train: int = 400, n_test: int = 200, noise: float = 0.2, seed: int = 0) -> MoonsData:
    """:class:`MoonsData` of ``n_train + n_test`` points with Gaussian ``noise`` (std, in the
    units of ``make_moons``), shuffled by ``seed``."""

    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    check_range("noise", noise, 0.0, 2.0)
    seed = check_positive_int("seed", seed, minimum=0)
    x, y = make_moons(n_train + n_test, noise=noise, random_state=seed)
    mean, std = x[:n_train].mean(0), x[:n_train].std(0)
    x = (x - mean) / std
    inputs = torch.tensor(np.c_[x, np.ones(len(x))], dtype=torch.float32)
    labels = torch.tensor(y, dtype=torch.int64)
    pad = 0.5
    extent = (float(x[:, 0].min() - pad), float(x[:, 0].max() + pad),
              float(x[:, 1].min() - pad), float(x[:, 1].max() + pad))
    return MoonsData(inputs[:n_train], labels[:n_train], inputs[n_train:], labels[n_train:], extent)


def tiny_mlp(hidden: int = HIDDEN, seed: int = 0) -> nn.Sequential:
    """``3 -> hidden -> hidden -> 2`` bias-free ReLU MLP with PyTorch's default initialization
    drawn from ``seed`` (the global generator is left as it was)."""
    hidden = check_positive_int("hidden", hidden)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_positive_int("seed", seed, minimum=0))
        return nn.Sequential(
            nn.Linear(3, hidden, bias=False), nn.ReLU(),
            nn.Linear(hidden, hidden, bias=False), nn.ReLU(),
            nn.Linear(hidden, 2, bias=False),
        )


def _fit(model: nn.Module, data: MoonsData, steps: int, lr: float) -> nn.Module:
    """Full-batch Adam on the cross-entropy of the training points (trainable parameters only)."""
    steps = check_positive_int("steps", steps)
    check_range("lr", lr, 0.0, 10.0, low_open=True)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(data.x_train), data.y_train).backward()
        optimizer.step()
    return model.eval()


def train_software_wo(data: MoonsData, hidden: int = HIDDEN, steps: int = WO_STEPS,
                      lr: float = WO_LR, seed: int = 0) -> nn.Module:
    """WO's first half: train every weight of :func:`tiny_mlp` in software (float32)."""
    return _fit(tiny_mlp(hidden, seed), data, steps, lr)


def hardware_to_model(technology: str | devices.Technology, hidden: int = HIDDEN,
                      keep_ratio: float = KEEP_RATIO, seed: int = 0) -> tuple[nn.Module, devices.Chip]:
    """:func:`tiny_mlp` made prunable on ``Chip(technology, seed)``: its weights are the chip's
    random formed pairs, its only parameters one score per pair (``rrampaper.topology``, as the
    ``hardware_TO`` approach of :mod:`rrampaper.experiments.approaches` builds it). Returns the
    model (the chip's output ADC attached) and the chip."""
    chip = devices.Chip(technology, seed=seed)
    model = topology.make_prunable(tiny_mlp(hidden, seed), chip, keep_ratio=keep_ratio, seed=seed)
    return model, chip


def train_hardware_to(data: MoonsData, technology: str | devices.Technology = DEFAULT_TECHNOLOGY,
                      hidden: int = HIDDEN, keep_ratio: float = KEEP_RATIO,
                      steps: int = TO_STEPS, lr: float = TO_LR, seed: int = 0) -> nn.Module:
    """Hardware TO: train only the scores of :func:`hardware_to_model` (a fresh noisy chip read
    per step), i.e. choose which random pairs to keep; returns the model in eval mode."""
    model, _ = hardware_to_model(technology, hidden, keep_ratio, seed)
    return _fit(model, data, steps, lr)


def predict(model: nn.Module, inputs: Tensor) -> Tensor:
    """Class of every input row (int64), from evaluation read 0 of the model's device
    (:func:`rrampaper.topology.begin_evaluation`), so that two calls see the same reads."""
    topology.begin_evaluation(model)
    with torch.no_grad():
        return model(inputs).argmax(1)


def accuracy(model: nn.Module, inputs: Tensor, labels: Tensor) -> float:
    """Share of correctly classified points, in %."""
    return 100.0 * float((predict(model, inputs) == labels).double().mean())


@dataclass
class Comparison:
    """WO and hardware TO of one tiny MLP, trained once, for one technology and chip seed.

    Build it with :func:`prepare_comparison`. Its methods never train: :meth:`wo_on_device`
    programs the trained weights (milliseconds), :meth:`to_on_device` relaxes TO's chip.

    Attributes
    ----------
    technology:
        Preset name.
    seed:
        Chip seed: WO is programmed onto ``Chip(technology, seed)``'s pairs (its fault map)
        and TO trained on the same chip.
    data:
        The two-moons points.
    wo_model, to_model:
        The software-trained MLP and the trained TO model.
    software_accuracy:
        WO's test accuracy in software (%), before any programming.
    precompute_s:
        Seconds spent on the data, both trainings and TO's chips (one per noise multiple).
    """

    technology: str
    seed: int
    data: MoonsData
    wo_model: nn.Module
    to_model: nn.Module
    hidden: int = HIDDEN
    keep_ratio: float = KEEP_RATIO
    software_accuracy: float = math.nan
    precompute_s: float = math.nan
    _to_chips: dict[float, tuple[nn.Module, devices.Chip]] = field(default_factory=dict, repr=False)

    def wo_on_device(self, noise: float = 1.0, t_s: float = 1.0, method: str = "write_verify"
                     ) -> tuple[nn.Module, baselines.ProgrammingReport]:
        """The trained WO weights programmed onto the chip (:func:`rrampaper.baselines.program_model`):
        programming noise times ``noise``, read ``t_s`` seconds after programming, ``method``
        one of :data:`METHODS`."""
        return baselines.program_model(
            self.wo_model, self.technology, _check_method(method), seed=self.seed,
            programming_noise_scale=_check_noise(noise), t_inference_s=_check_time(t_s))

    def to_on_device(self, noise: float = 1.0, t_s: float = 1.0) -> nn.Module:
        """The trained TO model on the same chip with its technology's programming noise times
        ``noise`` (:class:`rrampaper.devices.ScaledNoise`), relaxed to ``t_s`` seconds after its
        last SET/RESET (:meth:`rrampaper.devices.Chip.set_time`).

        TO never programs a target, so ``noise`` reaches no cell of it in this package's model
        (``docs/device-conditions.md``): the model is rebuilt on the scaled chip anyway, to show
        it, and cached per multiple."""
        noise, t_s = _check_noise(noise), _check_time(t_s)
        if noise not in self._to_chips:
            scaled = devices.ScaledNoise(self.technology, programming_scale=noise)
            model, chip = hardware_to_model(scaled, self.hidden, self.keep_ratio, self.seed)
            model.load_state_dict(self.to_model.state_dict())
            self._to_chips[noise] = (model.eval(), chip)
        model, chip = self._to_chips[noise]
        chip.set_time(t_s)
        return model

    def accuracies(self, noise: float = 1.0, t_s: float = 1.0, method: str = "write_verify"
                   ) -> dict[str, float]:
        """Test accuracy (%) of ``"WO"`` (programmed) and ``"TO"`` (on the chip) and WO's
        programming pulses (``"WO pulses"``) at one device condition."""
        with one_thread():
            wo, report = self.wo_on_device(noise, t_s, method)
            to = self.to_on_device(noise, t_s)
            return {"WO": accuracy(wo, self.data.x_test, self.data.y_test),
                    "TO": accuracy(to, self.data.x_test, self.data.y_test),
                    "WO pulses": report.total_pulses}

    def table(self, t_s: float = 1.0, noises: Iterable[float] = NOISE_MULTIPLES) -> pd.DataFrame:
        """Accuracies (%) and WO's pulses at ``t_s`` for every noise multiple and method:
        rows ``(noise, method)``."""
        rows = {(noise, method): self.accuracies(noise, t_s, method)
                for noise in noises for method in METHODS}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.names = ["noise ×", "method"]
        return frame


def prepare_comparison(technology: str = DEFAULT_TECHNOLOGY, seed: int = 0, hidden: int = HIDDEN,
                       keep_ratio: float = KEEP_RATIO) -> Comparison:
    """The tutorial's one precomputation (a few seconds on one core): the moons, WO trained in
    software, hardware TO trained on ``Chip(technology, seed)``, and TO's chip rebuilt for every
    multiple of :data:`NOISE_MULTIPLES` (:meth:`Comparison.to_on_device`)."""
    check_choice("technology", technology, devices.TECHNOLOGIES)
    start = time.perf_counter()
    with one_thread():
        data = moons_data(seed=seed)
        wo = train_software_wo(data, hidden, seed=seed)
        to = train_hardware_to(data, technology, hidden, keep_ratio, seed=seed)
        comparison = Comparison(
            technology=technology, seed=seed, data=data, wo_model=wo, to_model=to,
            hidden=hidden, keep_ratio=keep_ratio,
            software_accuracy=accuracy(wo, data.x_test, data.y_test))
        for noise in NOISE_MULTIPLES:  # TO's chip per multiple, so that no redraw builds one
            comparison.to_on_device(noise)
    comparison.precompute_s = time.perf_counter() - start
    return comparison


#: Technologies of the explorer's dropdown: the paper's TaOx macro, HfOx RRAM and PCM
#: (``docs/devices.md#technologies``); each gets its own hardware TO, trained on its own chip.
EXPLORER_TECHNOLOGIES: tuple[str, ...] = ("taox_40nm_macro", "hfox_rram", "pcm")


def prepare_comparisons(technologies: Iterable[str] = EXPLORER_TECHNOLOGIES, seed: int = 0,
                        base: Comparison | None = None) -> dict[str, Comparison]:
    """:func:`prepare_comparison` for every technology of ``technologies`` (a second or two
    each); ``base``, an already prepared comparison, is reused for its own technology."""
    out: dict[str, Comparison] = {}
    for name in technologies:
        check_choice("technologies", name, devices.TECHNOLOGIES)
        if base is not None and base.technology == name and base.seed == seed:
            out[name] = base
        else:
            out[name] = prepare_comparison(name, seed=seed)
    if not out:
        raise ValueError("technologies is empty; give at least one preset name")
    return out


def _boundary(ax: Any, model: nn.Module, data: MoonsData, title: str) -> None:
    """Decision regions of ``model`` on the grid, the test points, misclassified ones crossed."""
    xx, yy, grid = data.grid()
    regions = predict(model, grid).reshape(xx.shape).numpy()
    ax.contourf(xx, yy, regions, levels=[-0.5, 0.5, 1.5], colors=["#cfe2f3", "#fce5cd"])
    x, y = data.x_test.numpy(), data.y_test.numpy()
    wrong = predict(model, data.x_test).numpy() != y
    ax.scatter(x[:, 0], x[:, 1], c=np.where(y == 1, "#e69f00", "#0072b2"), s=9)
    ax.scatter(x[wrong, 0], x[wrong, 1], marker="x", color="k", s=22, lw=1)
    ax.set(title=title, xticks=[], yticks=[])


def draw_comparison(comparison: Comparison, noise: float = 2.0, t_s: float = 86400.0,
                    method: str = "write_verify") -> tuple[Figure, str]:
    """Decision boundaries of WO-on-device and TO-on-device with the test points (crosses:
    misclassified) and both accuracies; the caption, e.g.
    ``"WO 85.5 % · TO 92.0 % · noise ×2 · 1 day · write_verify"``. Programs, never trains."""
    data = comparison.data
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(10.5, 3.5), width_ratios=(1, 1, 0.55))
    with one_thread():
        wo, report = comparison.wo_on_device(noise, t_s, method)
        to = comparison.to_on_device(noise, t_s)
        acc = {"WO": accuracy(wo, data.x_test, data.y_test),
               "TO": accuracy(to, data.x_test, data.y_test)}
        _boundary(ax1, wo, data, f"WO programmed: {acc['WO']:.1f} %\n"
                                 f"({method}, {report.total_pulses:,} pulses)")
        _boundary(ax2, to, data, f"hardware TO: {acc['TO']:.1f} %\n(no target programmed)")
    ax3.bar(["WO", "TO"], [acc["WO"], acc["TO"]], color=[COLOURS[method], COLOURS["TO"]])
    ax3.axhline(comparison.software_accuracy, color="0.3", ls="--", lw=1)
    ax3.text(0.5, comparison.software_accuracy + 0.8, "WO in software", fontsize=7, ha="center")
    ax3.set(ylim=(50, 104), ylabel="test accuracy (%)",
            title=f"noise ×{noise:g}, {time_label(t_s)}")
    fig.tight_layout()
    caption = (f"WO {acc['WO']:.1f} % · TO {acc['TO']:.1f} % · noise ×{noise:g} · "
               f"{time_label(t_s)} · {method}")
    return fig, caption


def comparison_controls(noise: float = 2.0, t_s: float = 86400.0,
                        method: str = "write_verify") -> dict[str, Any]:
    """The explorer's ipywidgets: ``noise`` (programming-noise multiple, a SelectionSlider over
    :data:`NOISE_MULTIPLES`), ``t_s`` (time after programming, over :data:`TIMES_S`) and
    ``method`` (a Dropdown of :data:`METHODS`), set to the given values."""

    check_choice("noise", noise, NOISE_MULTIPLES)
    check_choice("t_s", t_s, tuple(TIMES_S.values()))
    _check_method(method)
    style = {"description_width": "150px"}
    layout = w.Layout(width="420px")
    return {
        "noise": w.SelectionSlider(options=[(f"×{n:g}", n) for n in NOISE_MULTIPLES], value=noise,
                                   description="programming noise", style=style, layout=layout),
        "t_s": w.SelectionSlider(options=list(TIMES_S.items()), value=t_s,
                                 description="time after programming", style=style, layout=layout),
        "method": w.Dropdown(options=list(METHODS), value=method, description="WO programming",
                             style=style, layout=layout),
    }


def comparison_explorer(comparison: Comparison | dict[str, Comparison], **defaults: Any) -> Explorer:
    """Show :func:`draw_comparison` with :func:`comparison_controls` (``defaults``: their
    starting values) through :func:`rrampaper.teaching.widgets.explore`. Given several
    comparisons (``{technology: Comparison}``, :func:`prepare_comparisons`), a ``technology``
    dropdown switches between them (each was trained beforehand: the dropdown never trains)."""
    if isinstance(comparison, Comparison):
        def draw(noise: float, t_s: float, method: str) -> tuple[Figure, str]:
            return draw_comparison(comparison, noise, t_s, method)

        return explore(draw, comparison_controls(**defaults))
    if not comparison:
        raise ValueError("comparison is an empty mapping; give {technology: Comparison}")
    first = next(iter(comparison))
    chosen = defaults.pop("technology", first)
    check_choice("technology", chosen, tuple(comparison))
    controls = comparison_controls(**defaults)
    controls["technology"] = w.Dropdown(options=list(comparison), value=chosen,
                                        description="technology",
                                        style={"description_width": "150px"},
                                        layout=w.Layout(width="420px"))

    def draw_one(noise: float, t_s: float, method: str, technology: str) -> tuple[Figure, str]:
        fig, caption = draw_comparison(comparison[technology], noise, t_s, method)
        return fig, f"{caption} · {technology}"

    return explore(draw_one, controls)


# ---------------------------------------------------------------------------------------------
# 4 · Exercises
# ---------------------------------------------------------------------------------------------
#: Exercise 1: the target (µS) at which to give the open-loop spread, and the accepted error (µS).
SIGMA_TARGET_US, SIGMA_TOLERANCE_US = 40.0, 0.1
#: Exercise 2: the write-verify window, the seed, and the accepted error (pulses per cell).
PULSES_TOLERANCE, PULSES_SEED, PULSES_ATOL = 0.02, 0, 0.05
#: Exercise 3: the accuracy gap (points, TO minus WO) that counts as a crossing.
CROSSING_GAP_POINTS = 5.0


def _not_answered(hint: str) -> bool:
    print(f"not answered yet: {hint}")
    return False


def _number(answer: Any, what: str) -> float:
    """``answer`` as a float, or ExerciseError saying a number was expected."""
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.number | Tensor):
        raise ExerciseError(f"{what} should be a number; you gave {answer!r}")
    if isinstance(answer, Tensor):
        if answer.numel() != 1:
            raise ExerciseError(f"{what} should be one number; you gave a tensor of shape "
                                f"{tuple(answer.shape)}")
        answer = answer.item()
    return float(answer)


def _check_between(value: float, low: float, high: float, what: str, unit: str) -> bool:
    if not low <= value <= high:
        raise ExerciseError(f"{what} should be between {low:.3g} and {high:.3g}{unit}; "
                            f"you gave {value:.4g}")
    print(f"right: {what} is {value:.4g}{unit} (accepted {low:.3g} to {high:.3g}{unit})")
    return True


def expected_open_loop_sigma_us(target_us: float = SIGMA_TARGET_US,
                                technology: str = DEFAULT_TECHNOLOGY) -> float:
    """The technology's open-loop programming spread σ (µS) at ``target_us`` (µS)
    (:meth:`rrampaper.devices.Technology.programming_sigma`)."""
    tech = devices.technology(technology)
    target = torch.tensor(check_range("target_us", target_us, 0.0, low_open=True) * US,
                          dtype=torch.float64)
    return float(tech.programming_sigma(target)) / US


def check_open_loop_sigma(answer: Any, target_us: float = SIGMA_TARGET_US,
                          technology: str = DEFAULT_TECHNOLOGY) -> bool:
    """Exercise 1: the open-loop spread σ in µS at ``target_us`` µS, within
    :data:`SIGMA_TOLERANCE_US` µS."""
    if answer is None:
        return _not_answered(
            f"the open-loop law of technology({technology!r}) is its programming_sigma(g_s): "
            f"siemens in, siemens out; give σ at {target_us:g} µS in µS")
    what = f"the open-loop spread at {target_us:g} µS"
    value = _number(answer, what)
    expected = expected_open_loop_sigma_us(target_us, technology)
    return _check_between(value, expected - SIGMA_TOLERANCE_US, expected + SIGMA_TOLERANCE_US,
                          what, " µS")


def expected_write_verify_pulses(tolerance: float = PULSES_TOLERANCE, seed: int = PULSES_SEED,
                                 technology: str = DEFAULT_TECHNOLOGY) -> float:
    """Mean write-verify pulses per cell on :func:`cell_targets` of ``technology`` with the
    acceptance window ``tolerance`` (relative) and ``seed``
    (:func:`rrampaper.devices.program_conductances`)."""
    result = devices.program_conductances(cell_targets(technology), technology, "write_verify",
                                          tolerance=tolerance, seed=seed)
    return float(result.pulses.double().mean())


def check_write_verify_pulses(answer: Any, tolerance: float = PULSES_TOLERANCE,
                              seed: int = PULSES_SEED,
                              technology: str = DEFAULT_TECHNOLOGY) -> bool:
    """Exercise 2: the mean number of write-verify pulses per cell on ``cell_targets()`` with
    a ``tolerance`` window and ``seed``, within :data:`PULSES_ATOL` pulses."""
    if answer is None:
        return _not_answered(
            f"program cell_targets() with program_conductances(..., 'write_verify', "
            f"tolerance={tolerance:g}, seed={seed}) and average its .pulses")
    what = f"the mean number of write-verify pulses per cell at a {tolerance:.0%} window"
    value = _number(answer, what)
    expected = expected_write_verify_pulses(tolerance, seed, technology)
    return _check_between(value, expected - PULSES_ATOL, expected + PULSES_ATOL, what, "")


def expected_crossing(comparison: Comparison, method: str = "open_loop",
                      gap_points: float = CROSSING_GAP_POINTS, t_s: float = 1.0) -> float | None:
    """The smallest multiple of :data:`NOISE_MULTIPLES` at which TO beats WO programmed by
    ``method`` by at least ``gap_points`` accuracy points on the test points, ``t_s`` after
    programming (the crossing of ``docs/device-conditions.md``, on the levels only); ``None``
    if none does."""
    _check_method(method)
    check_range("gap_points", gap_points, 0.0, 100.0)
    for noise in NOISE_MULTIPLES:
        acc = comparison.accuracies(noise, t_s, method)
        if acc["TO"] - acc["WO"] >= gap_points:
            return noise
    return None


def check_crossing(answer: Any, comparison: Comparison, method: str = "open_loop",
                   gap_points: float = CROSSING_GAP_POINTS) -> bool:
    """Exercise 3: the smallest programming-noise multiple (one of :data:`NOISE_MULTIPLES`) at
    which TO beats WO programmed by ``method`` by ``gap_points`` or more, 1 s after
    programming; ``"none"`` if it never does (:func:`expected_crossing`)."""
    _check_method(method)
    if answer is None:
        return _not_answered(
            f"compute comparison.accuracies(noise, 1.0, {method!r}) for noise in "
            f"{list(NOISE_MULTIPLES)} and give the first noise at which 'TO' - 'WO' >= "
            f"{gap_points:g}")
    expected = expected_crossing(comparison, method, gap_points)
    shown = "'none'" if expected is None else f"{expected:g}"
    what = (f"the first noise multiple at which TO beats WO {method} by {gap_points:g} points "
            "or more")
    if isinstance(answer, str):
        if answer.strip().lower() == "none" and expected is None:
            print(f"right: {what}: none of {list(NOISE_MULTIPLES)}")
            return True
        raise ExerciseError(f"{what} should be {shown}; you gave {answer!r}")
    value = _number(answer, what)
    if expected is None or not math.isclose(value, expected):
        raise ExerciseError(f"{what} should be {shown} (one of {list(NOISE_MULTIPLES)}); "
                            f"you gave {value:g}")
    print(f"right: {what} is ×{expected:g}")
    return True


def comparison_summary(comparison: Comparison) -> str:
    """One line: the software accuracy of WO, TO's accuracy on its chip at 1 s, and the
    precompute time."""
    to = accuracy(comparison.to_on_device(1.0, 1.0), comparison.data.x_test, comparison.data.y_test)
    return (f"{comparison.technology}, chip seed {comparison.seed}: WO in software "
            f"{comparison.software_accuracy:.1f} %, hardware TO {to:.1f} % "
            f"(both trained in {comparison.precompute_s:.1f} s)")


__all__ = [
    "DEFAULT_TECHNOLOGY",
    "METHODS",
    "NOISE_MULTIPLES",
    "TIMES_S",
    "Comparison",
    "ExerciseError",
    "MoonsData",
    "accuracy",
    "as_image",
    "cell_targets",
    "check_crossing",
    "check_open_loop_sigma",
    "check_write_verify_pulses",
    "comparison_controls",
    "comparison_explorer",
    "comparison_summary",
    "draw_comparison",
    "expected_crossing",
    "expected_open_loop_sigma_us",
    "expected_write_verify_pulses",
    "hardware_to_model",
    "moons_data",
    "one_thread",
    "plot_programming",
    "plot_relaxation",
    "predict",
    "prepare_comparison",
    "programming_table",
    "relaxation_errors",
    "time_label",
    "tiny_mlp",
    "train_hardware_to",
    "train_software_wo",
]
