"""Where a ResNet-50 training step of topology optimization (TO) spends its CPU time.

Builds ResNet-50 (base width 64, 100 classes, ImageNet stem, non-affine BatchNorm, no fully
connected bias: 23,659,712 prunable weights on 181 macros) three ways, exactly as
:func:`rrampaper.analysis.scaling.measure_scaling` does (its ``_Run`` class builds them here):

- ``dense``: every weight trained;
- ``software TO``: signed Kaiming constants, one trained score per weight, exact top-k mask per
  layer (``keep_ratio`` 0.5);
- ``hardware TO``: the weights are conductances of a ``Chip("taox_post_verify_static")``, read
  afresh (one standard normal per pair) every batch; no limit-size rule, as in
  ``measure_scaling``;
- ``hardware TO + limit size`` (only with ``--limit-size T > 0``): the same, with the
  limit-size rule at the constant threshold ``T`` set on every masked weight.

The step is the one ``measure_scaling`` times: ``zero_grad(set_to_none=True)``, forward,
``nll_loss``, backward, ``SGD(lr=0.1, momentum=0.9, weight_decay=5e-4).step()`` on a fixed
random batch. Prints, for each model:

1. the median step time (and quartiles) over ``--steps`` steps after ``--warmup`` untimed ones,
   the models taking turns step by step, and the ratio to the dense step;
2. the top-20 operators by self CPU time from ``torch.profiler`` (CPU activities,
   ``record_shapes=False``) over ``--profile-steps`` steps;
3. the step broken down into categories (ms per step and share of the profiled step), and the
   operators that make up each category.

Attribution. The package has no profiler scopes, and this script does not edit it: while
profiling it wraps package functions at runtime in ``torch.profiler.record_function`` scopes
(``topk_mask`` as seen by ``masked_weight``, ``apply_limit_size``, ``MaskedWeight.current_mask``,
``MaskedWeight._count_flips``, ``MaskedWeight.forward``, ``_MaskedWeightFn.forward``,
``DeviceWeights.read``) and restores them afterwards; the step phases (zero_grad, forward + loss,
backward, optimizer step) get scopes of their own. Every profiler event's *self* CPU time goes
to the innermost enclosing scope, so NumPy and Python time inside a wrapped function (e.g. the
``np.partition`` of the top-k threshold) is counted in that function's category and the
categories add up to the profiled step. The straight-through backward of the masked weight is
recognised by its autograd node (``_MaskedWeightFnBackward``). Timed steps (1.) run without the
profiler and without the wrappers.

Finally the top-k threshold is split into its NumPy parts (``np.partition``, tie check,
comparison + cast) by timing them directly on the software-TO model's score magnitudes.

Run (from the repository root)::

    .venv/bin/python benchmarks/profile_resnet50.py --threads 2 [--batch 8] [--image-size 32]
        [--steps 9] [--warmup 2] [--profile-steps 5] [--limit-size 0.01]

The defaults (batch 8 of 32 x 32 images) are notebook 07's ``quick`` sizes for ResNet-50 (the
measurement the issue quotes); the four models together peak at about 7 GB resident. The load
average is printed at the start and the end: the timings assume a quiet machine (with
``--threads 2`` on 2 cores, one busy process elsewhere slows the many small parallel regions of
a TO step far more than a dense step).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.autograd.profiler_util import EventList, FunctionEvent
from torch.profiler import ProfilerActivity, profile, record_function

from rrampaper.analysis.scaling import _Run, macros_needed
from rrampaper.devices.chip import DeviceWeights
from rrampaper.models import weight_count
from rrampaper.models.resnet import ResNetSpec
from rrampaper.topology import LimitSizeSchedule, masked_weights
from rrampaper.topology import masked_weight as mw_module
from rrampaper.topology.masked_weight import MaskedWeight, _MaskedWeightFn

#: Categories of the breakdown, in print order.
CATEGORIES: tuple[str, ...] = (
    "mask selection (top-k threshold)",
    "score bookkeeping (|S|, cache, mask swap)",
    "limit-size comparisons",
    "SET/RESET counters",
    "device reads (normal per pair + addcmul)",
    "weight assembly, forward (W*M / addcmul)",
    "straight-through score gradient (backward)",
    "forward arithmetic (conv, BN, ReLU, fc, loss)",
    "backward arithmetic (+ grad accumulation)",
    "optimizer (zero_grad + SGD step)",
    "other (between the phases)",
)

#: Scope label -> category. Labels of wrapped package functions start with ``rrampaper::``.
SCOPES: dict[str, str] = {
    "rrampaper::topk_mask": CATEGORIES[0],
    "rrampaper::MaskedWeight.current_mask": CATEGORIES[1],
    "rrampaper::apply_limit_size": CATEGORIES[2],
    "rrampaper::MaskedWeight._count_flips": CATEGORIES[3],
    "rrampaper::DeviceWeights.read": CATEGORIES[4],
    "rrampaper::MaskedWeight.forward": CATEGORIES[5],
    "rrampaper::_MaskedWeightFn.forward": CATEGORIES[5],
    "phase::zero_grad": CATEGORIES[9],
    "phase::forward": CATEGORIES[7],
    "phase::backward": CATEGORIES[8],
    "phase::optimizer_step": CATEGORIES[9],
}
#: Autograd node of the masked weight's backward (matched as a substring of the event name).
STE_NODE = "_MaskedWeightFnBackward"


# --------------------------------------------------------------------------- building and steps
def build_runs(spec: ResNetSpec, limit_size: float, seed: int = 0) -> dict[str, _Run]:
    """The models and optimizers of ``measure_scaling`` (its defaults), by method name."""
    common: dict[str, Any] = {
        "num_classes": 100, "stem": "imagenet", "keep_ratio": 0.5, "seed": seed, "lr": 0.1,
        "momentum": 0.9, "weight_decay": 5e-4, "device": torch.device("cpu"),
        "macro_rows": 512, "macro_cols": 512,
    }
    runs = {m: _Run(m, spec, **common) for m in ("dense", "software TO", "hardware TO")}
    if limit_size > 0:
        run = _Run("hardware TO", spec, **common)
        schedule = LimitSizeSchedule.constant(limit_size)  # shared, as make_prunable shares it
        for _, masked in masked_weights(run.model):
            masked.limit_size = schedule
        run.method = "hardware TO + limit size"
        runs[run.method] = run
    return runs


def scoped_step(run: _Run, x: torch.Tensor, y: torch.Tensor) -> None:
    """``run.step`` with one profiler scope per phase (same operations, same order)."""
    with record_function("phase::zero_grad"):
        run.optimizer.zero_grad(set_to_none=True)
    with record_function("phase::forward"):
        loss = F.nll_loss(run.model(x), y)
    with record_function("phase::backward"):
        loss.backward()
    with record_function("phase::optimizer_step"):
        run.optimizer.step()


def time_steps(runs: dict[str, _Run], x: torch.Tensor, y: torch.Tensor, steps: int,
               warmup: int) -> dict[str, list[float]]:
    """Seconds per step of each run, taking turns step by step (as ``measure_scaling``)."""
    for _ in range(warmup):
        for run in runs.values():
            run.step(x, y)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(steps):
        for name, run in runs.items():
            times[name].append(run.timed_step(x, y))
    return times


# --------------------------------------------------------------------------- runtime scopes
def _scoped(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with record_function(label):
            return function(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def package_scopes() -> Iterator[None]:
    """Wrap the package functions of :data:`SCOPES` in ``record_function``; restore on exit."""
    targets: list[tuple[Any, str, str, bool]] = [
        # (owner, attribute, label, is staticmethod)
        (mw_module, "topk_mask", "rrampaper::topk_mask", False),
        (mw_module, "apply_limit_size", "rrampaper::apply_limit_size", False),
        (MaskedWeight, "current_mask", "rrampaper::MaskedWeight.current_mask", False),
        (MaskedWeight, "_count_flips", "rrampaper::MaskedWeight._count_flips", False),
        (MaskedWeight, "forward", "rrampaper::MaskedWeight.forward", False),
        (_MaskedWeightFn, "forward", "rrampaper::_MaskedWeightFn.forward", True),
        (DeviceWeights, "read", "rrampaper::DeviceWeights.read", False),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _, _ in targets]
    try:
        for owner, name, label, static in targets:
            wrapped = _scoped(label, getattr(owner, name))
            setattr(owner, name, staticmethod(wrapped) if static else wrapped)
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


# --------------------------------------------------------------------------- attribution
def category_of(event: FunctionEvent) -> str:
    """Category of the innermost scope (or masked-weight backward node) enclosing ``event``."""
    node: FunctionEvent | None = event
    while node is not None:
        if node.name in SCOPES:
            return SCOPES[node.name]
        if STE_NODE in node.name:
            return CATEGORIES[6]
        node = node.cpu_parent
    return CATEGORIES[-1]


def breakdown(events: EventList, n_steps: int
              ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """ms per step by category, and by category the ms per step of each event name (self
    time; a scope's own self time, i.e. Python/NumPy work inside it, is listed under its
    label)."""
    by_category: dict[str, float] = defaultdict(float)
    by_op: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for event in events:
        category = category_of(event)
        ms = event.self_cpu_time_total / 1e3 / n_steps
        by_category[category] += ms
        by_op[category][event.name] += ms
    return dict(by_category), {k: dict(v) for k, v in by_op.items()}


def profile_run(run: _Run, x: torch.Tensor, y: torch.Tensor, n_steps: int
                ) -> tuple[EventList, float]:
    """Profile ``n_steps`` scoped steps; returns the events and the wall ms per step."""
    scoped_step(run, x, y)  # one untimed step with the wrappers in place
    with profile(activities=[ProfilerActivity.CPU], record_shapes=False) as prof:
        start = time.perf_counter()
        for _ in range(n_steps):
            with record_function("profile::step"):
                scoped_step(run, x, y)
        wall_ms = (time.perf_counter() - start) * 1e3 / n_steps
    return prof.events(), wall_ms


# --------------------------------------------------------------------------- threshold parts
def threshold_parts(run: _Run, repeats: int = 3) -> dict[str, float]:
    """ms of each NumPy part of ``topk_mask``'s CPU fast path, summed over the layers of
    ``run`` (median of ``repeats``), on the current score magnitudes."""
    layers = [(m.scores.detach().abs().reshape(-1).numpy(), m.n_kept)
              for _, m in masked_weights(run.model)]
    parts: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        totals: dict[str, float] = defaultdict(float)
        for values, k in layers:
            n = values.size
            t0 = time.perf_counter()
            partitioned = np.partition(values, n - k)
            t1 = time.perf_counter()
            threshold = partitioned[n - k]
            _ = partitioned[: n - k].max() >= threshold
            t2 = time.perf_counter()
            keep = values >= threshold
            mask = torch.from_numpy(keep.astype(np.float32))
            t3 = time.perf_counter()
            del mask
            totals["np.partition (introselect, copies |S|)"] += (t1 - t0) * 1e3
            totals["tie check (max of the pruned part)"] += (t2 - t1) * 1e3
            totals["comparison + cast to float32 mask"] += (t3 - t2) * 1e3
        for name, value in totals.items():
            parts[name].append(value)
    return {name: statistics.median(values) for name, values in parts.items()}


# --------------------------------------------------------------------------- printing
def print_category_table(breakdowns: dict[str, dict[str, float]], totals: dict[str, float],
                         medians: dict[str, float]) -> None:
    """Markdown table: ms per step and share by category, one column pair per method."""
    names = list(breakdowns)
    head = "| category | " + " | ".join(f"{n} ms | {n} %" for n in names) + " |"
    print(head)
    print("| --- |" + " --- | --- |" * len(names))
    for category in CATEGORIES:
        if not any(breakdowns[n].get(category, 0.0) > 0.005 for n in names):
            continue
        cells = []
        for n in names:
            ms = breakdowns[n].get(category, 0.0)
            cells.append(f"{ms:.1f} | {100 * ms / totals[n]:.1f}")
        print(f"| {category} | " + " | ".join(cells) + " |")
    cells = [f"**{totals[n]:.1f}** | 100" for n in names]
    print("| **profiled step (sum of self times)** | " + " | ".join(cells) + " |")
    cells = [f"{totals[n] / totals['dense']:.2f}x | " for n in names]
    print("| profiled step / dense profiled step | " + " | ".join(cells) + " |")
    cells = [f"{medians[n]:.1f} | " for n in names]
    print("| timed median step, no profiler (ms) | " + " | ".join(cells) + " |")
    cells = [f"{medians[n] / medians['dense']:.2f}x | " for n in names]
    print("| timed median / dense timed median | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (2)")
    parser.add_argument("--batch", type=int, default=8, help="batch size (8)")
    parser.add_argument("--image-size", type=int, default=32, help="image side in pixels (32)")
    parser.add_argument("--steps", type=int, default=9, help="timed steps per model (9)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (2)")
    parser.add_argument("--profile-steps", type=int, default=5,
                        help="steps recorded by torch.profiler per model (5)")
    parser.add_argument("--limit-size", type=float, default=0.01,
                        help="threshold of a 4th model, hardware TO with the limit-size rule "
                             "(0.01: Fashion-MNIST's start value); 0 skips it")
    parser.add_argument("--width", type=int, default=64, help="base width (64: ResNet-50)")
    parser.add_argument("--layers", type=int, nargs=4, default=(3, 4, 6, 3),
                        help="bottleneck blocks per stage (3 4 6 3: ResNet-50)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    spec = ResNetSpec(tuple(args.layers), args.width)
    generator = torch.Generator().manual_seed(0)  # the batch of measure_scaling(seed=0)
    x = torch.randn((args.batch, 3, args.image_size, args.image_size), generator=generator)
    y = torch.randint(0, 100, (args.batch,), generator=generator)

    print("load average at start (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    start = time.perf_counter()
    runs = build_runs(spec, args.limit_size)
    weights = weight_count(runs["dense"].model)
    print(f"{spec.name}: {weights:,} prunable weights, {macros_needed(weights)} macros; "
          f"batch {args.batch} x 3 x {args.image_size} x {args.image_size}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"built in {time.perf_counter() - start:.1f} s")

    times = time_steps(runs, x, y, args.steps, args.warmup)
    medians = {n: 1e3 * statistics.median(t) for n, t in times.items()}
    print(f"\n## Step time ({args.steps} timed steps after {args.warmup} warm-up, taking turns)")
    print("| model | median ms | q1 ms | q3 ms | / dense |\n| --- | --- | --- | --- | --- |")
    for name, t in times.items():
        q1, _, q3 = np.quantile(np.array(t) * 1e3, [0.25, 0.5, 0.75])
        print(f"| {name} | {medians[name]:.1f} | {q1:.1f} | {q3:.1f} | "
              f"{medians[name] / medians['dense']:.2f} |")

    breakdowns: dict[str, dict[str, float]] = {}
    ops: dict[str, dict[str, dict[str, float]]] = {}
    totals: dict[str, float] = {}
    with package_scopes():
        for name, run in runs.items():
            events, wall_ms = profile_run(run, x, y, args.profile_steps)
            breakdowns[name], ops[name] = breakdown(events, args.profile_steps)
            totals[name] = sum(breakdowns[name].values())
            print(f"\n## {name}: top-20 operators by self CPU time "
                  f"({args.profile_steps} profiled steps, {wall_ms:.1f} ms wall per step)")
            print(events.key_averages().table(sort_by="self_cpu_time_total", row_limit=20,
                                              max_name_column_width=48))

    print("\n## Step by category (ms per step from the profiler, % of the profiled step)")
    print_category_table(breakdowns, totals, medians)
    print("\n## Operators by category (ms per step, self time, top 4 per category)")
    for name, by_category in ops.items():
        print(f"\n### {name}")
        for category in CATEGORIES:
            if category not in by_category:
                continue
            top = sorted(by_category[category].items(), key=lambda kv: -kv[1])[:4]
            listed = "; ".join(f"{op} {ms:.1f}" for op, ms in top)
            print(f"- {category} ({breakdowns[name][category]:.1f} ms): {listed}")

    per_million = weights / 1e6
    print(f"\n## Mask selection per million weights ({weights / 1e6:.2f} M weights)")
    for name, by_category in breakdowns.items():
        if name == "dense":
            continue
        ms = by_category.get(CATEGORIES[0], 0.0)
        bookkeeping = sum(by_category.get(c, 0.0) for c in CATEGORIES[:4])
        print(f"- {name}: threshold {ms:.1f} ms/step = {ms / per_million:.2f} ms per M weights; "
              f"mask + bookkeeping + limit size + counters {bookkeeping:.1f} ms = "
              f"{bookkeeping / per_million:.2f} ms per M weights")
    parts = threshold_parts(runs["software TO"])
    print("\n## Top-k threshold split (timed directly, software-TO scores, all layers)")
    for part, ms in parts.items():
        print(f"- {part}: {ms:.1f} ms = {ms / per_million:.2f} ms per M weights")
    print("\nload average at end (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    del runs
    gc.collect()


if __name__ == "__main__":
    main()
