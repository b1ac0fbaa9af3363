"""Workloads of the paper's three tasks: networks, activation bits, training sizes, and the
programming operations, measured by the experiments or from the count model.

Examples
--------
>>> from rrampaper.analysis.energy.workloads import count_model_programming
>>> count_model_programming([576, 9216, 51200, 1280], keep_ratio=0.5, steps=10,
...                         flips_per_weight_step=0.0)["initial_resets"]
31136
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.analysis.energy.operations import count_operations, unet_operations
from rrampaper.models import FashionCNN, SpokenDigitCRNN
from rrampaper.topology import kept_count

#: The three tasks of the paper's energy claim.
ENERGY_TASKS: tuple[str, ...] = ("fashion_mnist", "spoken_digit", "drive")


@dataclass(frozen=True)
class TaskSpec:
    """What the energy model needs of a task.

    Attributes
    ----------
    input_bits:
        Activation bits (docs/paper.md#quantization).
    epochs, n_train, batch_size:
        The official scripts' training settings (docs/paper.md#hyper-parameters), for a paper-size
        training workload.
    source:
        Where the numbers come from.
    """

    input_bits: int
    epochs: int
    n_train: int
    batch_size: int
    source: str


#: The official settings of each task.
TASK_SPECS: dict[str, TaskSpec] = {
    "fashion_mnist": TaskSpec(4, 65, 60000, 60, "docs/paper.md#hyper-parameters, #fashion-mnist: "
                              "4-bit activations, 65 epochs, 60,000 training images, batch 60"),
    "spoken_digit": TaskSpec(3, 60, 2100, 30, "docs/paper.md#hyper-parameters, #spoken-digit: "
                             "3-bit activations, 60 epochs, 2,100 training samples, batch 30"),
    "drive": TaskSpec(6, 60, 4500, 64, "docs/paper.md#hyper-parameters, #drive: 6-bit "
                      "activations, "
                      "60 epochs, batch 64 (argparse); ASSUMPTION: 4,500 training patches "
                      "(config.py N_patches 5000 minus the 0.1 validation ratio; the saved "
                      "loaders' size is NOT FOUND)"),
}


def task_operations(task: str, patch: int = 48) -> pd.DataFrame:
    """Per-layer operation counts of ``task``'s network for one sample.

    Fashion-MNIST: :class:`rrampaper.models.FashionCNN` on a 28x28 image; spoken digit:
    :class:`rrampaper.models.SpokenDigitCRNN` on 23x20 features; DRIVE: the U-Net of
    docs/paper.md#drive on a ``patch x patch`` patch (48: the training crop), from
    :func:`rrampaper.analysis.energy.operations.unet_operations`.
    """


    check_choice("task", task, ENERGY_TASKS)
    if task == "drive":
        return unet_operations(patch, patch)

    gen = torch.Generator().manual_seed(0)
    if task == "fashion_mnist":
        return count_operations(FashionCNN(), torch.randn(1, 1, 28, 28, generator=gen))
    return count_operations(SpokenDigitCRNN(), torch.rand(1, 23, 20, generator=gen))


def initial_resets(weights_per_layer: Sequence[int], keep_ratio: float) -> int:
    """RESETs of the first mask: ``numel - kept_count(numel, keep_ratio)`` per layer (all pairs
    start formed; the kept count is :func:`rrampaper.topology.kept_count`, the one TO keeps)."""
    check_range("keep_ratio", keep_ratio, 0.0, 1.0, low_open=True)
    return int(sum(int(n) - kept_count(int(n), keep_ratio) for n in weights_per_layer))


def count_model_programming(weights_per_layer: Sequence[int], keep_ratio: float, steps: float,
                            flips_per_weight_step: float) -> dict[str, float]:
    """Programming operations of a TO run that was not (yet) trained: the count model.

    ``initial_resets`` from :func:`initial_resets`; during training
    ``flips_per_weight_step * weights * steps`` mask flips, half SET and half RESET (the kept
    count is fixed per layer, so every SET has its RESET). The flip rate is an input: take it
    from a measured run (:func:`measured_programming`) of another task.
    """
    check_range("steps", steps, 0.0)
    check_range("flips_per_weight_step", flips_per_weight_step, 0.0, 1.0)
    weights = float(sum(int(n) for n in weights_per_layer))
    flips = flips_per_weight_step * weights * steps
    return {"set_ops": flips / 2, "reset_ops": flips / 2,
            "initial_resets": initial_resets(weights_per_layer, keep_ratio)}


def measured_programming(grid, approach: str) -> dict[str, float]:
    """Programming operations of ``approach`` in a :func:`rrampaper.experiments.study.train_grid` result,
    mean over seeds: SET and RESET summed over epochs, and the initial RESETs."""
    sel = grid.sel(approach=approach)
    return {"set_ops": float(sel["set_ops"].sum("epoch").mean("seed")),
            "reset_ops": float(sel["reset_ops"].sum("epoch").mean("seed")),
            "initial_resets": float(sel["initial_resets"].mean("seed"))}


def training_size(epochs: int, n_train: int, batch_size: int) -> dict[str, float]:
    """``samples`` (epochs x n_train) and ``steps`` (epochs x ceil(n_train / batch_size))."""
    check_positive_int("epochs", epochs)
    check_positive_int("n_train", n_train)
    check_positive_int("batch_size", batch_size)
    return {"samples": float(epochs * n_train),
            "steps": float(epochs * math.ceil(n_train / batch_size))}
