"""Tutorial 2 · Finding a sub-network by pruning (``notebooks/tutorials/02_pruning.ipynb``).

Topology optimization (TO, ``docs/paper.md#topology-optimization``) never trains a weight: every
weight keeps its random value (a software draw, or the conductance an electroformed
resistive-memory pair happened to get) and one *score* per weight is trained instead. Each
forward uses only the ``keep_ratio`` fraction of each layer's weights with the largest score
magnitudes, exactly ``kept_count(numel, keep_ratio) = ceil(keep_ratio * numel)`` of them
(:mod:`rrampaper.topology.mask`); the gradient reaches the scores straight through that top-k.

This module holds everything the tutorial needs beyond short calls:

- the toy problem: two interleaved half-moons (:func:`moons`, scikit-learn's ``make_moons``)
  and a 3-64-64-2 ReLU network whose third input is a constant 1, so that the bias of each
  first-layer unit is one more prunable connection (:func:`build_network`);
- the precomputation (:func:`precompute`): TO of the scores for a few keep ratios, with a
  :class:`Snapshot` after every epoch (masks, decision boundary on a grid, test accuracy,
  SET/RESET counts), a few seconds on a laptop CPU;
- the interactive explorer (:func:`explorer`, :func:`draw`), which only *reads* snapshots;
- the limit-size rule on an emulated chip (:func:`limit_size_study`,
  :func:`limit_size_figure`; ``docs/paper.md#limit-size-rule``);
- the exercise checks (:func:`check_kept_count`, :func:`check_programmed_mask`,
  :func:`check_smallest_keep_ratio`): ``None`` prints a hint and returns ``False``, a right
  answer returns ``True``, a wrong one raises :class:`ExerciseError` saying what was expected.

Everything uses the package's TO machinery (:func:`rrampaper.topology.make_prunable`,
:func:`~rrampaper.topology.masks`, :func:`~rrampaper.topology.programming_counts`,
:class:`~rrampaper.topology.LimitSizeSchedule`, :func:`~rrampaper.topology.apply_limit_size`)
and, for the on-chip runs, :class:`rrampaper.devices.Chip` as the source of the random weights,
as the ``hardware_TO`` approach does (:mod:`rrampaper.experiments.approaches`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Image, display
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from sklearn.datasets import make_moons
from torch import Tensor, nn

from rrampaper import topology
from rrampaper.devices import Chip
from rrampaper.errors import ParameterError
from rrampaper.teaching.widgets import Explorer, explore, one_thread, png_bytes

#: Keep ratios the explorer offers (fraction of each layer's weights kept).
KEEP_RATIOS: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
#: Training epochs of every precomputed run (snapshots 0, the initial mask, to EPOCHS).
EPOCHS = 30
#: Hidden units per layer of the toy network.
HIDDEN = 64
#: The layer the explorer shows: the 64 x 64 hidden-to-hidden weights.
SHOWN_LAYER = "2.weight"
#: Limit-size thresholds compared on the chip (relative change of |score|; None: rule off).
LIMIT_THRESHOLDS: tuple[float | None, ...] = (None, 0.01, 0.05)
#: Memory technology of the on-chip runs: the paper's 40 nm TaOx macro (rrampaper.devices).
TECHNOLOGY = "taox_40nm_macro"
#: Test accuracy (fraction) that exercise 3 asks about.
TARGET_ACCURACY = 0.95
#: Learning rate of Adam on the scores, and the minibatch size (points).
LEARNING_RATE = 0.01
BATCH_SIZE = 64
#: Decision-boundary grid: ``GRID_POINTS`` x ``GRID_POINTS`` points over this box (input units).
GRID_BOX = (-1.6, 2.6, -1.1, 1.6)
GRID_POINTS = 90


class ExerciseError(AssertionError):
    """A wrong exercise answer; the message says what was expected and what was given."""


# --------------------------------------------------------------------------------------------
# Data and network
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moons:
    """The two-moons problem: raw points (``[n, 2]``, input units) and labels (0 or 1).

    ``mean`` and ``std`` are the training points' per-coordinate statistics the network's
    inputs are standardized with (:meth:`inputs`)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    def inputs(self, points: np.ndarray) -> Tensor:
        """Network inputs ``[n, 3]``: standardized coordinates and a constant 1 (the bias)."""
        scaled = (np.asarray(points, dtype=np.float64) - self.mean) / self.std
        ones = np.ones((len(scaled), 1))
        return torch.from_numpy(np.hstack([scaled, ones]).astype(np.float32))


def moons(n_train: int = 512, n_test: int = 512, noise: float = 0.15, seed: int = 0) -> Moons:
    """Two interleaved half-moons (``sklearn.datasets.make_moons``), split into train and test.

    Parameters
    ----------
    n_train, n_test:
        Number of points of each split (>= 2).
    noise:
        Standard deviation of the Gaussian noise added to the points (input units), >= 0.
    seed:
        Seed of the draw (the same seed gives the same points).
    """

    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not isinstance(value, int) or value < 2:
            raise ParameterError(f"{name}={value!r} must be an integer >= 2")
    if not noise >= 0:
        raise ParameterError(f"noise={noise!r} must be >= 0")
    points, labels = make_moons(n_train + n_test, noise=noise, random_state=seed)
    x_train, x_test = points[:n_train], points[n_train:]
    return Moons(
        x_train=x_train,
        y_train=labels[:n_train],
        x_test=x_test,
        y_test=labels[n_train:],
        mean=x_train.mean(axis=0),
        std=x_train.std(axis=0),
    )


def build_network(
    keep_ratio: float,
    *,
    hardware: bool = False,
    limit_size: float | None = None,
    seed: int = 0,
) -> nn.Module:
    """The prunable 3-64-64-2 ReLU network (no biases: the third input is a constant 1).

    Parameters
    ----------
    keep_ratio:
        Fraction of each layer's weights kept, in (0, 1].
    hardware:
        ``False``: software TO, fixed weights ``±sqrt(2) / sqrt(keep_ratio * fan_in)`` with random
        signs (edge-popup's signed Kaiming constant, ``docs/paper.md#weight-initialization``).
        ``True``: hardware TO, the weights are the conductance differences of the pairs of an
        emulated chip (``Chip(TECHNOLOGY, seed)``), every forward uses read 0 as the official
        training did (``docs/paper.md#read-policy``).
    limit_size:
        Constant threshold of the limit-size rule (``docs/paper.md#limit-size-rule``), or
        ``None`` for the plain top-k mask.
    seed:
        Seed of the software weights (or the chip) and of the initial scores.

    Returns
    -------
    The network from :func:`rrampaper.topology.make_prunable`: its only parameters are the
    scores, one per weight.
    """
    dense = nn.Sequential(
        nn.Linear(3, HIDDEN, bias=False),
        nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN, bias=False),
        nn.ReLU(),
        nn.Linear(HIDDEN, 2, bias=False),
    )
    if hardware:
        chip = Chip(TECHNOLOGY, seed=seed)
        return topology.make_prunable(
            dense, chip, keep_ratio=keep_ratio, limit_size=limit_size, seed=seed,
            train_reads="fixed", eval_reads="fixed",
        )
    return topology.make_prunable(
        dense, "signed_constant", keep_ratio=keep_ratio, limit_size=limit_size, seed=seed
    )


def grid(box: tuple[float, float, float, float] = GRID_BOX,
         points: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``(xx, yy)``, each ``[points, points]``, of a regular grid over ``box``
    ``(x_min, x_max, y_min, y_max)`` in input units."""
    x_min, x_max, y_min, y_max = box
    return np.meshgrid(np.linspace(x_min, x_max, points), np.linspace(y_min, y_max, points))


# --------------------------------------------------------------------------------------------
# Training with snapshots
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The network after ``epoch`` epochs (0: the initial mask, before any training).

    Attributes
    ----------
    masks:
        Mask of every layer by parameter name (``"0.weight"``, ...): boolean, ``True`` = kept.
    boundary:
        Probability of class 1 on the decision grid, ``[GRID_POINTS, GRID_POINTS]``.
    accuracy:
        Fraction of test points classified right.
    sets, resets:
        Pairs switched pruned -> kept (SET) and kept -> pruned (RESET) during this epoch,
        summed over the layers (what programming the chip would cost).
    """

    epoch: int
    masks: dict[str, np.ndarray]
    boundary: np.ndarray
    accuracy: float
    sets: int
    resets: int

    @property
    def switches(self) -> int:
        """SETs plus RESETs of this epoch."""
        return self.sets + self.resets


@dataclass(frozen=True)
class Run:
    """One TO run: its settings and a :class:`Snapshot` per epoch (index = epoch)."""

    keep_ratio: float
    hardware: bool
    limit_size: float | None
    snapshots: tuple[Snapshot, ...]
    initial_resets: int
    seconds: float

    @property
    def accuracy(self) -> np.ndarray:
        """Test accuracy (fraction) per epoch, ``[epochs + 1]``."""
        return np.array([s.accuracy for s in self.snapshots])

    @property
    def switches(self) -> np.ndarray:
        """SET + RESET operations per epoch, ``[epochs + 1]`` (0 at epoch 0)."""
        return np.array([s.switches for s in self.snapshots])

    @property
    def final_accuracy(self) -> float:
        """Test accuracy after the last epoch."""
        return self.snapshots[-1].accuracy

    def density(self, layer: str = SHOWN_LAYER) -> float:
        """Kept fraction of ``layer``'s last mask (differs from keep_ratio only with the
        limit-size rule)."""
        return float(self.snapshots[-1].masks[layer].mean())


def _snapshot(
    net: nn.Module, data: Moons, grid_inputs: Tensor, epoch: int, counts: dict[str, dict[str, int]]
) -> Snapshot:
    """Evaluate ``net`` (eval mode, no gradient) and copy its masks; ``grid_inputs`` are the
    inputs of the :func:`grid` points, row by row."""
    net.eval()
    with torch.no_grad():
        predicted = net(data.inputs(data.x_test)).argmax(dim=1).numpy()
        probability = torch.softmax(net(grid_inputs), dim=1)[:, 1].numpy()
    return Snapshot(
        epoch=epoch,
        masks={name: mask.numpy().copy() for name, mask in topology.masks(net).items()},
        boundary=probability.reshape(GRID_POINTS, GRID_POINTS).astype(np.float32),
        accuracy=float((predicted == data.y_test).mean()),
        sets=sum(c["set"] for c in counts.values()),
        resets=sum(c["reset"] for c in counts.values()),
    )


def train(
    keep_ratio: float,
    data: Moons,
    *,
    hardware: bool = False,
    limit_size: float | None = None,
    epochs: int = EPOCHS,
    seed: int = 0,
) -> Run:
    """Train the scores of :func:`build_network` on ``data``; snapshot after every epoch.

    Adam (learning rate :data:`LEARNING_RATE`) on the scores only, cross-entropy, minibatches
    of :data:`BATCH_SIZE` training points in a seeded random order. The SET/RESET counters
    of :func:`rrampaper.topology.programming_counts` are read and zeroed once per epoch.
    Deterministic in ``seed`` (torch runs on one thread meanwhile). Takes ~0.3-0.6 s for 30
    epochs on one CPU core, plus ~2 s once per process: the first optimizer imports
    ``torch._dynamo``.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ParameterError(f"epochs={epochs!r} must be an integer >= 1")
    with one_thread():
        return _train(keep_ratio, data, hardware, limit_size, epochs, seed)


def _train(keep_ratio: float, data: Moons, hardware: bool, limit_size: float | None,
           epochs: int, seed: int) -> Run:
    """:func:`train` without argument checks."""
    start = time.perf_counter()
    net = build_network(keep_ratio, hardware=hardware, limit_size=limit_size, seed=seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    order = torch.Generator().manual_seed(seed)
    x_train, y_train = data.inputs(data.x_train), torch.from_numpy(data.y_train).long()
    xx, yy = grid()
    grid_inputs = data.inputs(np.column_stack([xx.ravel(), yy.ravel()]))
    snapshots = [_snapshot(net, data, grid_inputs, 0, topology.programming_counts(net))]
    initial_resets = sum(c["initial_resets"] for c in topology.programming_counts(net).values())
    for epoch in range(1, epochs + 1):
        net.train()
        for batch in torch.randperm(len(x_train), generator=order).split(BATCH_SIZE):
            loss = nn.functional.cross_entropy(net(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        counts = topology.programming_counts(net)
        topology.reset_programming_counts(net)
        snapshots.append(_snapshot(net, data, grid_inputs, epoch, counts))
    return Run(
        keep_ratio=float(keep_ratio),
        hardware=hardware,
        limit_size=limit_size,
        snapshots=tuple(snapshots),
        initial_resets=int(initial_resets),
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True)
class Sweep:
    """The precomputed software-TO runs the explorer reads, by keep ratio."""

    data: Moons
    runs: dict[float, Run]
    seconds: float
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def keep_ratios(self) -> tuple[float, ...]:
        """The precomputed keep ratios, ascending."""
        return tuple(sorted(self.runs))

    @property
    def epochs(self) -> int:
        """Training epochs of every run (snapshots ``0 .. epochs``)."""
        return len(next(iter(self.runs.values())).snapshots) - 1

    def run(self, keep_ratio: float) -> Run:
        """The run of ``keep_ratio``; a ratio that was not precomputed raises
        :class:`~rrampaper.errors.ParameterError` naming the valid ones."""
        for ratio, run in self.runs.items():
            if math.isclose(ratio, float(keep_ratio), rel_tol=0, abs_tol=1e-9):
                return run
        valid = ", ".join(f"{r:g}" for r in self.keep_ratios)
        raise ParameterError(
            f"keep_ratio={keep_ratio!r} was not precomputed; valid keep ratios: {valid}"
        )

    def snapshot(self, keep_ratio: float, epoch: int) -> Snapshot:
        """The snapshot of ``keep_ratio`` after ``epoch`` epochs (``0 <= epoch <= epochs``)."""
        run = self.run(keep_ratio)
        if not isinstance(epoch, int | np.integer) or not 0 <= epoch <= self.epochs:
            raise ParameterError(
                f"epoch={epoch!r} is not a snapshot; valid epochs: integers 0 to {self.epochs}"
            )
        return run.snapshots[int(epoch)]


def precompute(
    keep_ratios: Sequence[float] = KEEP_RATIOS,
    *,
    epochs: int = EPOCHS,
    seed: int = 0,
    data: Moons | None = None,
) -> Sweep:
    """Train software TO once per keep ratio (same data, weights and initial scores).

    Everything the explorer shows comes from here; about 2 s on a 2-core laptop CPU for the
    defaults (5 keep ratios x 30 epochs).
    """
    if not keep_ratios:
        raise ParameterError("keep_ratios is empty; give at least one keep ratio in (0, 1]")
    for ratio in keep_ratios:
        if not 0 < ratio <= 1:
            raise ParameterError(f"keep_ratio={ratio!r} in keep_ratios must be in (0, 1]")
    start = time.perf_counter()
    data = moons(seed=seed) if data is None else data
    runs = {float(k): train(k, data, epochs=epochs, seed=seed) for k in keep_ratios}
    first = next(iter(runs.values())).snapshots[0]
    shapes = {name: tuple(mask.shape) for name, mask in first.masks.items()}
    return Sweep(data=data, runs=runs, seconds=time.perf_counter() - start, shapes=shapes)


def limit_size_study(
    thresholds: Sequence[float | None] = LIMIT_THRESHOLDS,
    *,
    keep_ratio: float = 0.5,
    epochs: int = EPOCHS,
    seed: int = 0,
    data: Moons | None = None,
) -> dict[float | None, Run]:
    """Hardware TO on the emulated chip once per limit-size threshold (``None``: rule off).

    Same chip, data and initial scores for every threshold, so only the rule differs. About
    0.5 s per threshold on one CPU core.
    """
    data = moons(seed=seed) if data is None else data
    return {
        t: train(keep_ratio, data, hardware=True, limit_size=t, epochs=epochs, seed=seed)
        for t in thresholds
    }


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------

#: Mask image colours: pruned, kept, SET this epoch (pruned -> kept), RESET this epoch.
MASK_COLOURS = ("#e8e8e8", "#1f4e79", "#2ca02c", "#d62728")
_MASK_LABELS = ("pruned", "kept", "SET this epoch", "RESET this epoch")


def mask_states(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Per weight: 0 pruned, 1 kept, 2 switched on (SET), 3 switched off (RESET) since
    ``previous`` (boolean masks of the same shape, ``True`` = kept).

    >>> mask_states(np.array([True, True, False, False]),
    ...             np.array([True, False, True, False])).tolist()
    [1, 3, 2, 0]
    """
    states = current.astype(np.int8)
    states[current & ~previous] = 2
    states[~current & previous] = 3
    return states


def _label(threshold: float | None) -> str:
    return "no limit-size rule" if threshold is None else f"limit size {threshold:g}"


def draw(
    sweep: Sweep, keep_ratio: float, epoch: int, layer: str = SHOWN_LAYER
) -> tuple[Figure, str]:
    """The explorer's figure and caption for one snapshot (reads it only: ~0.2 s).

    Left: probability of class 1 on the grid, the 0.5 contour (the decision boundary) and the
    test points; middle: ``layer``'s mask (rows: output units, columns: input units) with the
    switches of this epoch; right: test accuracy per epoch of every keep ratio, this one bold.
    """
    snap = sweep.snapshot(keep_ratio, epoch)
    if layer not in snap.masks:
        raise ParameterError(f"layer={layer!r} is not a layer; valid layers: {sorted(snap.masks)}")
    run = sweep.run(keep_ratio)
    data = sweep.data
    fig, (ax_b, ax_m, ax_a) = plt.subplots(
        1, 3, figsize=(13, 3.9), gridspec_kw={"width_ratios": [1.25, 1, 1.25]}
    )
    xx, yy = grid()
    ax_b.contourf(xx, yy, snap.boundary, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.6)
    ax_b.contour(xx, yy, snap.boundary, levels=[0.5], colors="k", linewidths=1.2)
    for label, colour in ((0, "#b2182b"), (1, "#2166ac")):
        points = data.x_test[data.y_test == label]
        ax_b.scatter(points[:, 0], points[:, 1], s=7, c=colour, edgecolors="white",
                     linewidths=0.3, label=f"class {label}")
    ax_b.set(xlabel="$x_1$", ylabel="$x_2$", title="decision boundary (test points)")
    ax_b.set_xlim(GRID_BOX[0], GRID_BOX[1])
    ax_b.set_ylim(GRID_BOX[2], GRID_BOX[3])
    ax_b.grid(False)

    previous = run.snapshots[max(epoch - 1, 0)].masks[layer]
    states = mask_states(previous, snap.masks[layer])
    ax_m.imshow(states, cmap=ListedColormap(MASK_COLOURS), vmin=-0.5, vmax=3.5,
                interpolation="nearest")
    rows, cols = states.shape
    ax_m.set(xlabel="input unit", ylabel="output unit", title=f"mask of layer {layer} ({rows}×{cols})")
    ax_m.grid(False)
    ax_m.legend(handles=[Patch(color=c, label=t) for c, t in zip(MASK_COLOURS, _MASK_LABELS,
                                                                 strict=True)],
                loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)

    epochs = np.arange(sweep.epochs + 1)
    for ratio in sweep.keep_ratios:
        other = sweep.run(ratio)
        current = other is run
        ax_a.plot(epochs, 100 * other.accuracy, lw=2.2 if current else 0.9,
                  color="C0" if current else "0.7", label=f"keep {ratio:g}" if current else None,
                  zorder=3 if current else 2)
    ax_a.plot(epochs, np.full(len(epochs), np.nan), color="0.7", lw=0.9, label="other ratios")
    ax_a.axvline(epoch, color="k", lw=0.8, ls=":")
    ax_a.plot([epoch], [100 * snap.accuracy], "o", color="C3", zorder=4)
    ax_a.set(xlabel="epoch", ylabel="test accuracy (%)", title="accuracy vs epoch", ylim=(20, 101))
    ax_a.legend(loc="lower right", fontsize=8)
    fig.tight_layout()

    kept = int(snap.masks[layer].sum())
    caption = (
        f"accuracy: {100 * snap.accuracy:.1f} % · keep ratio {keep_ratio:g} · epoch {epoch} · "
        f"{kept:,} of {snap.masks[layer].size:,} weights kept in layer {layer} · "
        f"{snap.sets:,} SET + {snap.resets:,} RESET in this epoch (all layers)"
    )
    return fig, caption


def controls(sweep: Sweep, keep_ratio: float = 0.5, epoch: int | None = None) -> dict[str, Any]:
    """The explorer's widgets: ``keep_ratio`` (a ``SelectionSlider`` over the precomputed
    ratios) and ``epoch`` (an ``IntSlider`` over the snapshots; default: the last)."""

    run = sweep.run(keep_ratio)
    epoch = sweep.epochs if epoch is None else epoch
    sweep.snapshot(run.keep_ratio, epoch)  # validates epoch
    style = {"description_width": "initial"}
    return {
        "keep_ratio": ipywidgets.SelectionSlider(
            options=[(f"{r:g}", r) for r in sweep.keep_ratios], value=run.keep_ratio,
            description="keep ratio", continuous_update=False, style=style,
        ),
        "epoch": ipywidgets.IntSlider(
            value=epoch, min=0, max=sweep.epochs, step=1, description="epoch",
            continuous_update=False, style=style,
        ),
    }


def explorer(sweep: Sweep, keep_ratio: float = 0.5, epoch: int | None = None) -> Explorer:
    """Show the interactive explorer of ``sweep`` (see :func:`draw` and :func:`controls`)."""
    return explore(partial(draw, sweep), controls(sweep, keep_ratio, epoch))


def limit_size_figure(study: dict[float | None, Run]) -> Figure:
    """SET + RESET operations per epoch (left, log scale) and test accuracy per epoch (right)
    of each limit-size threshold of :func:`limit_size_study`."""
    fig, (ax_s, ax_a) = plt.subplots(1, 2, figsize=(10, 3.4))
    for i, (threshold, run) in enumerate(study.items()):
        epochs = np.arange(len(run.snapshots))
        label = f"{_label(threshold)} ({run.switches.sum():,} in all)"
        ax_s.plot(epochs[1:], run.switches[1:], marker=".", color=f"C{i}", label=label)
        ax_a.plot(epochs, 100 * run.accuracy, color=f"C{i}", label=_label(threshold))
    ax_s.set(yscale="log", xlabel="epoch", ylabel="SET + RESET per epoch",
             title="programming operations")
    ax_a.set(xlabel="epoch", ylabel="test accuracy (%)", title="accuracy", ylim=(20, 101))
    ax_s.legend(fontsize=8)
    ax_a.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def show_figure(fig: Figure) -> None:
    """Display ``fig`` in the notebook as a PNG, whatever matplotlib's backend, and close it."""

    display(Image(data=png_bytes(fig)))


def limit_size_table(study: dict[float | None, Run], layer: str = SHOWN_LAYER) -> pd.DataFrame:
    """One row per threshold: SET + RESET over all epochs, final test accuracy (%), and the
    kept fraction of ``layer``'s last mask (the rule lets it drift from keep_ratio)."""
    rows = [
        {
            "limit size": _label(threshold),
            "SET + RESET": int(run.switches.sum()),
            "final accuracy (%)": round(100 * run.final_accuracy, 1),
            f"kept fraction of {layer}": round(run.density(layer), 3),
        }
        for threshold, run in study.items()
    ]
    return pd.DataFrame(rows).set_index("limit size")


# --------------------------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------------------------

#: Exercise 1: the keep ratio asked about and the size of the hidden layer (64 x 64 weights).
KEPT_COUNT_QUESTION = {"numel": HIDDEN * HIDDEN, "keep_ratio": 0.3}


def _not_answered(hint: str) -> bool:
    print(f"not answered yet: {hint}")
    return False


def _right(message: str) -> bool:
    print(f"right: {message}")
    return True


def check_kept_count(answer: int | None) -> bool:
    """Exercise 1: how many of the 64 x 64 = 4,096 hidden-layer weights are kept at keep
    ratio 0.3? (The package's rule, ``docs/paper.md#topology-optimization``.)"""
    numel, ratio = KEPT_COUNT_QUESTION["numel"], KEPT_COUNT_QUESTION["keep_ratio"]
    if answer is None:
        return _not_answered(
            f"set answer to the number of weights kept of {numel:,} at keep ratio {ratio:g} "
            "(section 1 gives the package's rule; mind the rounding)"
        )
    expected = topology.kept_count(numel, ratio)
    if not _same_number(answer, expected):  # 1229 and 1229.0 (e.g. from np.ceil) are right
        raise ExerciseError(
            f"the kept count at keep ratio {ratio:g} of {numel:,} weights should be "
            f"{expected:,}; you gave {answer!r}"
        )
    return _right(f"{expected:,} = ceil({ratio:g} × {numel:,}) weights are kept")


def limit_size_question() -> dict[str, Any]:
    """Exercise 2: a layer of 4 weights keeping 2, scores before (``old_scores``) and after
    (``new_scores``) an optimizer step, and the limit-size ``threshold`` (relative change of
    ``|score|``). Which mask does the chip hold after the step?"""
    return {
        "old_scores": torch.tensor([0.90, -0.50, 0.45, -0.10]),
        "new_scores": torch.tensor([0.90, -0.48, 0.52, -0.10]),
        "kept": 2,
        "threshold": 0.1,
    }


def _expected_programmed_mask() -> list[int]:
    """Exercise 2's answer, from the package: top-k of the new scores, held by the rule."""
    q = limit_size_question()
    old, new = q["old_scores"].abs(), q["new_scores"].abs()
    mask = topology.apply_limit_size(
        topology.topk_mask(new, q["kept"]), topology.topk_mask(old, q["kept"]), new, old,
        q["threshold"],
    )
    return [int(v) for v in mask.tolist()]


def check_programmed_mask(answer: Sequence[int] | Tensor | np.ndarray | None) -> bool:
    """Exercise 2: the mask (4 values, 1 = kept, 0 = pruned) after the step of
    :func:`limit_size_question` under the limit-size rule (``docs/paper.md#limit-size-rule``)."""
    if answer is None:
        return _not_answered(
            "set answer to the 4 mask values (1 kept, 0 pruned) after the step; a weight may "
            "change state only if | |new| - |old| | >= threshold × |old|"
        )
    expected = _expected_programmed_mask()
    given = np.asarray(answer.tolist() if isinstance(answer, Tensor) else answer).ravel().tolist()
    if given != expected:  # True == 1 and 1.0 == 1: booleans and floats are fine
        raise ExerciseError(f"the programmed mask should be {expected}; you gave {given}")
    q = limit_size_question()
    old, new = q["old_scores"].abs(), q["new_scores"].abs()
    moved = ((new - old).abs() / old).tolist()
    return _right(
        f"the chip holds {expected}: weight 1's |score| moved by {100 * moved[1]:.0f} % "
        f"(< {100 * q['threshold']:g} %), so it stays kept although it left the top {q['kept']}; "
        f"weight 2's moved by {100 * moved[2]:.0f} %, so it is set: {sum(expected)} weights are "
        f"kept, not {q['kept']} (the rule lets the kept fraction drift)"
    )


def _same_number(answer: Any, expected: float) -> bool:
    """Whether ``answer`` is a real number equal to ``expected`` (within 1e-9)."""
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.number):
        return False
    return math.isclose(float(answer), expected, rel_tol=0, abs_tol=1e-9)


def smallest_keep_ratio(sweep: Sweep, target: float = TARGET_ACCURACY) -> float | None:
    """The smallest precomputed keep ratio whose test accuracy after the last epoch is at least
    ``target`` (a fraction), or ``None`` if none reaches it."""
    reached = [k for k in sweep.keep_ratios if sweep.run(k).final_accuracy >= target]
    return min(reached) if reached else None


def check_smallest_keep_ratio(answer: float | None, sweep: Sweep,
                              target: float = TARGET_ACCURACY) -> bool:
    """Exercise 3: the smallest keep ratio of the explorer whose accuracy at the last epoch is
    at least ``target`` (default 95 %)."""
    if answer is None:
        return _not_answered(
            f"move the explorer to the last epoch and find the smallest keep ratio with a test "
            f"accuracy of at least {100 * target:g} %"
        )
    expected = smallest_keep_ratio(sweep, target)
    finals = ", ".join(f"{k:g}: {100 * sweep.run(k).final_accuracy:.1f} %"
                       for k in sweep.keep_ratios)
    if expected is None or not _same_number(answer, expected):
        raise ExerciseError(
            f"the smallest keep ratio reaching {100 * target:g} % at the last epoch should be "
            f"{expected}; you gave {answer!r} (final accuracies: {finals})"
        )
    return _right(f"keep ratio {expected:g} is the smallest to reach {100 * target:g} % "
                  f"({finals})")
