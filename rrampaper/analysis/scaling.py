"""What a training step of topology optimization costs against dense weight training, by model size.

The paper claims its co-design scales to ResNet-50 on ImageNet-100
(docs/paper.md#generality-and-scalability) and publishes no cost figure.
:func:`measure_scaling` measures, for every model of a family
(:func:`rrampaper.models.resnet.resnet_family`) and in one run, so that both sides see the same
machine load:

- **step time** (seconds): one SGD step (zero grad, forward, ``nll_loss``, backward, optimizer
  step) on a fixed random batch, timed ``steps`` times after ``warmup`` untimed steps. The
  methods take turns step by step, so a change of machine load hits them alike; the median and
  quartiles are reported, and ``time_ratio`` = median / median of ``"dense"``;
- **memory** (bytes), accounted, not sampled from the allocator: ``state`` (parameters and
  buffers: dense weights; or fixed weights, scores, masks and counters), ``gradients``,
  ``optimizer`` (momentum buffers) and ``activations`` (tensors autograd saves for the
  backward, counted once per storage, parameters and buffers excluded). On CUDA the measured
  increase of allocated memory during a step is reported as well (``cuda_step_peak``). The
  conductance arrays a hardware-TO run caches to *emulate* the chip are not counted: on the chip
  they are the chip;
- **weights** (convolution and fully connected weights: what TO prunes) and **macros**, the
  512 x 512-cell macros holding them at two cells per weight (131,072 weights per macro;
  :class:`rrampaper.devices.Chip` tiles a network over them the same way);
- **programming operations per step**: TO's SET + RESET operations (mask flips, counted by
  :func:`rrampaper.topology.programming_counts`) averaged over the timed steps, and for dense
  training the weights one step changed (each a re-programming of an analog pair, at least one
  pulse). TO's first mask prunes every pair it does not keep: ``initial_resets``.

Methods: ``"software TO"`` (signed Kaiming constants, scores trained), ``"hardware TO"`` (the
weights are conductances of a :class:`~rrampaper.devices.Chip`, read afresh every batch) and
``"dense"`` (every weight trained). All use SGD with the same learning rate, momentum and weight
decay on their trainable parameters, and the same architecture (non-affine BatchNorm, no fully
connected bias, as in :mod:`rrampaper.tasks.imagenet100`).

Examples
--------
>>> from rrampaper.models.resnet import ResNetSpec
>>> table = measure_scaling([ResNetSpec((1, 1, 1, 1), 4)], image_size=16, batch_size=2,
...                         steps=2, warmup=1, num_classes=10)
>>> table["weights"].item(), table["macros"].item()
(33068, 1)
>>> bool((table["step_time"] > 0).all())
True
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr
from torch import Tensor, nn

from rrampaper import __version__
from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.devices import Chip
from rrampaper.experiments import approaches
from rrampaper.models import weight_count
from rrampaper.models.resnet import ResNetSpec
from rrampaper.topology import make_prunable, programming_counts, reset_programming_counts

#: The approaches timed, by their labels in :data:`rrampaper.experiments.approaches.APPROACHES`.
METHODS: tuple[str, ...] = tuple(approaches.label(k) for k in ("software_TO", "hardware_TO", "dense"))
MEMORY_PARTS: tuple[str, ...] = ("state", "gradients", "optimizer", "activations")

#: Cells of the paper's macro (512 x 512 = 256K, docs/paper.md#chip) and cells per weight (one
#: differential pair, docs/paper.md#measured-data-format).
MACRO_ROWS = MACRO_COLS = 512
CELLS_PER_WEIGHT = 2


def macros_needed(weights: int, macro_rows: int = MACRO_ROWS, macro_cols: int = MACRO_COLS) -> int:
    """512 x 512 macros that hold ``weights`` differential pairs, filled in order:
    ``ceil(weights / (rows * cols / 2))``.

    >>> macros_needed(62272), macros_needed(131072), macros_needed(131073)
    (1, 1, 2)
    """
    weights = check_positive_int("weights", weights)
    pairs = check_positive_int("macro_rows", macro_rows) * check_positive_int("macro_cols",
                                                                              macro_cols)
    return math.ceil(weights / (pairs // CELLS_PER_WEIGHT))


def _storages(tensors: Any) -> dict[int, int]:
    """``{storage pointer: bytes}`` of tensors (shared storages counted once)."""
    return {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
            for t in tensors if t is not None and t.numel() > 0}


def saved_activation_bytes(model: nn.Module, x: Tensor, y: Tensor) -> int:
    """Bytes of the tensors autograd saves for the backward of one loss on ``(x, y)``, each
    storage once, the model's parameters and buffers excluded (the backward is run too)."""
    saved: dict[int, int] = {}

    def pack(tensor: Tensor) -> Tensor:
        if tensor.numel() > 0:
            storage = tensor.untyped_storage()
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = F.nll_loss(model(x), y)
    # Saved tensors stay alive until the backward, so their addresses are distinct; the model's
    # parameters and buffers are read only now, because a forward may replace buffers (a new
    # mask) and free addresses that a saved tensor then reuses.
    known = set(_storages(model.parameters())) | set(_storages(model.buffers()))
    total = sum(nbytes for pointer, nbytes in saved.items() if pointer not in known)
    loss.backward()
    return total


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _Run:
    """One method's model and optimizer, and its step."""

    def __init__(self, method: str, spec: ResNetSpec, *, num_classes: int, stem: str,
                 keep_ratio: float, seed: int, lr: float, momentum: float, weight_decay: float,
                 device: torch.device, macro_rows: int, macro_cols: int) -> None:
        torch.manual_seed(seed)
        model = spec.build(num_classes, stem=stem, norm_affine=False, fc_bias=False)
        self.chip: Chip | None = None
        if method == "software TO":
            model = make_prunable(model, "signed_constant", keep_ratio=keep_ratio, seed=seed)
        elif method == "hardware TO":
            self.chip = Chip("taox_post_verify_static", seed=seed, macro_rows=macro_rows, macro_cols=macro_cols)
            model = make_prunable(model, self.chip, keep_ratio=keep_ratio, seed=seed)
        self.method = method
        self.model = model.to(device).train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.SGD(params, lr=lr, momentum=momentum,
                                         weight_decay=weight_decay)
        self.device = device

    def step(self, x: Tensor, y: Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        F.nll_loss(self.model(x), y).backward()
        self.optimizer.step()

    def timed_step(self, x: Tensor, y: Tensor) -> float:
        _sync(self.device)
        start = time.perf_counter()
        self.step(x, y)
        _sync(self.device)
        return time.perf_counter() - start

    def memory(self, x: Tensor, y: Tensor) -> dict[str, int]:
        """Accounted bytes by part after one more (untimed) step."""
        self.optimizer.zero_grad(set_to_none=True)
        activations = saved_activation_bytes(self.model, x, y)
        self.optimizer.step()
        params = list(self.model.parameters())
        state = _storages([*params, *self.model.buffers()])
        grads = _storages(p.grad for p in params)
        moments = _storages(v for s in self.optimizer.state.values() for v in s.values()
                            if isinstance(v, Tensor))
        return {"state": sum(state.values()), "gradients": sum(grads.values()),
                "optimizer": sum(moments.values()), "activations": activations}

    def cuda_step_peak(self, x: Tensor, y: Tensor) -> float:
        """Measured increase of allocated CUDA memory during one step (NaN off CUDA)."""
        if self.device.type != "cuda":
            return math.nan
        self.optimizer.zero_grad(set_to_none=True)
        _sync(self.device)
        before = torch.cuda.memory_allocated(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        self.step(x, y)
        _sync(self.device)
        return float(torch.cuda.max_memory_allocated(self.device) - before)

    def writes_per_step(self, x: Tensor, y: Tensor) -> int:
        """Dense: weights (conv/linear) changed by one more step."""
        weights = [m.weight for m in self.model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
        before = [w.detach().clone() for w in weights]
        self.step(x, y)
        return int(sum(int((w.detach() != b).sum()) for w, b in zip(weights, before, strict=True)))


def measure_scaling(
    specs: Sequence[ResNetSpec],
    *,
    image_size: int = 32,
    batch_size: int = 8,
    steps: int = 5,
    warmup: int = 1,
    num_classes: int = 100,
    stem: str = "imagenet",
    methods: Sequence[str] = ("software TO", "dense"),
    keep_ratio: float = 0.5,
    lr: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    seed: int = 0,
    device: str | torch.device = "cpu",
    macro_rows: int = MACRO_ROWS,
    macro_cols: int = MACRO_COLS,
) -> xr.Dataset:
    """Step time, memory, weights, macros and programming operations of each model and method.

    Parameters
    ----------
    specs:
        The models (distinct names).
    image_size, batch_size:
        Random input batch ``[batch_size, 3, image_size, image_size]`` and random labels.
    steps, warmup:
        Timed steps per method, after ``warmup`` untimed ones (the first mask, lazy allocations).
    num_classes, stem:
        Output classes and stem of :meth:`ResNetSpec.build`.
    methods:
        Any of :data:`METHODS`; ``"dense"`` is needed for ``time_ratio``.
    keep_ratio:
        Fraction of each layer's weights TO keeps.
    lr, momentum, weight_decay:
        SGD settings, the same for every method.
    seed:
        Seeds the weights, scores, chip and batch.
    device:
        ``"cpu"`` or ``"cuda"``. Threads are the caller's choice (``torch.set_num_threads``);
        the number used is stored in the attributes.
    macro_rows, macro_cols:
        Macro size in cells (hardware TO's chip and the ``macros`` count).

    Returns
    -------
    xarray.Dataset
        Over ``model`` (coordinates ``weights``, ``depth``, ``width``), ``approach`` (the
        methods; not named ``method``, which ``.sel`` reserves) and, for memory, ``part``: ``step_time``, ``step_time_q1``, ``step_time_q3`` (s), ``time_ratio``,
        ``memory`` (bytes by part), ``memory_total``, ``memory_ratio``, ``cuda_step_peak``
        (bytes, NaN off CUDA), ``programming_ops`` (per step), ``initial_resets``, ``macros``,
        ``chip_macros`` (macros the hardware-TO chip opened; -1 without hardware TO).
    """
    specs = list(specs)
    if not specs:
        raise ValueError("specs is empty: give at least one ResNetSpec")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"specs must have distinct names, got {names}")
    methods = [check_choice("methods", m, METHODS) for m in methods]
    if not methods or len(set(methods)) != len(methods):
        raise ValueError(f"methods={methods!r} must be distinct names of {METHODS}")
    image_size = check_positive_int("image_size", image_size)
    batch_size = check_positive_int("batch_size", batch_size)
    steps = check_positive_int("steps", steps)
    warmup = check_positive_int("warmup", warmup, minimum=0)
    check_range("keep_ratio", keep_ratio, 0.0, 1.0, low_open=True)
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((batch_size, 3, image_size, image_size), generator=generator).to(device)
    y = torch.randint(0, num_classes, (batch_size,), generator=generator).to(device)

    n_models, n_methods = len(specs), len(methods)
    times = np.zeros((n_models, n_methods, steps))
    memory = np.zeros((n_models, n_methods, len(MEMORY_PARTS)))
    peak = np.full((n_models, n_methods), math.nan)
    ops = np.zeros((n_models, n_methods))
    initial = np.zeros((n_models, n_methods), dtype=np.int64)
    weights = np.zeros(n_models, dtype=np.int64)
    chip_macros = np.full(n_models, -1, dtype=np.int64)
    common = {"num_classes": num_classes, "stem": stem, "keep_ratio": keep_ratio, "seed": seed,
              "lr": lr, "momentum": momentum, "weight_decay": weight_decay, "device": device,
              "macro_rows": macro_rows, "macro_cols": macro_cols}
    for i, spec in enumerate(specs):
        runs = [_Run(method, spec, **common) for method in methods]
        weights[i] = weight_count(runs[0].model)
        for _ in range(warmup):
            for run in runs:
                run.step(x, y)
        for run in runs:
            reset_programming_counts(run.model)
        for k in range(steps):
            for j, run in enumerate(runs):
                times[i, j, k] = run.timed_step(x, y)
        for j, run in enumerate(runs):
            if run.method == "dense":
                ops[i, j] = run.writes_per_step(x, y)
            else:
                counts = programming_counts(run.model).values()
                ops[i, j] = sum(c["set"] + c["reset"] for c in counts) / steps
                initial[i, j] = sum(c["initial_resets"] for c in counts)
            if run.chip is not None:
                chip_macros[i] = run.chip.n_macros
            memory[i, j] = [run.memory(x, y)[part] for part in MEMORY_PARTS]
            peak[i, j] = run.cuda_step_peak(x, y)
        del runs
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()

    median = np.median(times, axis=2)
    coords = {
        "model": names,
        "approach": methods,
        "part": list(MEMORY_PARTS),
        "weights": ("model", weights),
        "depth": ("model", [s.depth for s in specs]),
        "width": ("model", [s.width for s in specs]),
    }
    total = memory.sum(axis=2)
    ds = xr.Dataset(
        {
            "step_time": (("model", "approach"), median),
            "step_time_q1": (("model", "approach"), np.quantile(times, 0.25, axis=2)),
            "step_time_q3": (("model", "approach"), np.quantile(times, 0.75, axis=2)),
            "memory": (("model", "approach", "part"), memory),
            "memory_total": (("model", "approach"), total),
            "cuda_step_peak": (("model", "approach"), peak),
            "programming_ops": (("model", "approach"), ops),
            "initial_resets": (("model", "approach"), initial),
            "macros": ("model", [macros_needed(int(w), macro_rows, macro_cols) for w in weights]),
            "chip_macros": ("model", chip_macros),
        },
        coords=coords,
    )
    if "dense" in methods:
        ds["time_ratio"] = ds["step_time"] / ds["step_time"].sel(approach="dense", drop=True)
        ds["memory_ratio"] = ds["memory_total"] / ds["memory_total"].sel(approach="dense",
                                                                             drop=True)
    ds["step_time"].attrs["units"] = "s"
    ds["memory"].attrs["units"] = "bytes"
    ds["programming_ops"].attrs["long_name"] = (
        "per step: TO SET+RESET (mask flips); dense: weights changed")
    ds.attrs.update({
        "image_size": image_size, "batch_size": batch_size, "steps": steps, "warmup": warmup,
        "num_classes": num_classes, "stem": stem, "keep_ratio": keep_ratio, "lr": lr,
        "momentum": momentum, "weight_decay": weight_decay, "seed": seed,
        "device": str(device), "threads": torch.get_num_threads(),
        "torch_version": str(torch.__version__), "rrampaper_version": __version__,
        "macro_cells": macro_rows * macro_cols,
    })
    return ds
