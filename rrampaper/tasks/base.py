"""What an experiment of the paper is made of: data splits, a model, a loss, a metric and the
hyper-parameters of each profile. The training loop (:mod:`rrampaper.experiments.train`) knows nothing else.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.errors import ParameterError
from rrampaper.topology import reads

#: Learning-rate schedules a :class:`Hyper` can name.
SCHEDULES: tuple[str, ...] = ("cosine", "constant")


@dataclass(frozen=True)
class Hyper:
    """Hyper-parameters of one task in one profile.

    Attributes
    ----------
    epochs, batch_size, eval_batch_size:
        Training length and batch sizes.
    optimizer:
        ``"sgd"`` (with ``momentum``) or ``"adam"``.
    lr, momentum, weight_decay:
        Optimizer settings; weight decay applies to every trainable parameter (the scores in TO).
    schedule:
        ``"cosine"`` (annealed over this profile's ``epochs``) or ``"constant"``.
    n_train:
        Training images used after the validation split (``None``: all).
    n_validation:
        Images carved out of the training set for model selection and the limit-size schedule.
    n_test:
        Test images evaluated (``None``: all); the test set never drives a decision.
    limit_size:
        ``(start, stop, steps)`` of the hardware limit-size schedule (docs/paper.md#limit-size-rule).

    Every field is checked when a ``Hyper`` is built (also by ``dataclasses.replace``, so the
    overrides of an experiment are checked too): ``lr`` in (0, 10], ``momentum`` in [0, 1),
    ``weight_decay`` in [0, 1], counts >= 1 and ``0 <= stop <= start`` (finite) in
    ``limit_size``; a bad value raises :class:`~rrampaper.errors.ParameterError` naming it.
    """

    epochs: int
    batch_size: int
    eval_batch_size: int
    optimizer: str
    lr: float
    momentum: float
    weight_decay: float
    schedule: str
    n_train: int | None
    n_validation: int
    n_test: int | None
    limit_size: tuple[float, float, int]

    def __post_init__(self) -> None:
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("eval_batch_size", self.eval_batch_size)
        check_choice("optimizer", self.optimizer, ("sgd", "adam"))
        check_choice("schedule", self.schedule, SCHEDULES)
        check_range("lr", self.lr, 0.0, 10.0, low_open=True)
        check_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        if self.n_train is not None:
            check_positive_int("n_train", self.n_train)
        check_positive_int("n_validation", self.n_validation)
        if self.n_test is not None:
            check_positive_int("n_test", self.n_test)
        if not isinstance(self.limit_size, tuple | list) or len(self.limit_size) != 3:
            raise ParameterError(f"limit_size={self.limit_size!r} must be a tuple "
                                 f"(start, stop, steps)")
        start, stop, steps = self.limit_size
        check_range("limit_size start", start, 0.0)
        if not math.isfinite(start):
            raise ParameterError(f"limit_size start={start!r} must be a finite number >= 0")
        check_range("limit_size stop", stop, 0.0, start)
        check_positive_int("limit_size steps", steps)


@dataclass(frozen=True)
class Splits:
    """Training, validation and test tensors ``(inputs, targets)`` of a task."""

    train: tuple[Tensor, Tensor]
    validation: tuple[Tensor, Tensor]
    test: tuple[Tensor, Tensor]

    def sizes(self) -> dict[str, int]:
        """Number of samples per split."""
        return {"train": len(self.train[1]), "validation": len(self.validation[1]),
                "test": len(self.test[1])}


class Task(ABC):
    """One experiment of the paper. Subclasses set the class attributes and implement the rest.

    Attributes
    ----------
    name:
        Registry name (``rrampaper.tasks.get_task(name)``).
    metric:
        Name of the reported metric (higher is better), e.g. ``"accuracy"``.
    software_weights:
        Software initializer of the random weights in software TO (docs/paper.md#weight-initialization).
    """

    name: str
    metric: str
    software_weights: str

    @abstractmethod
    def hyper(self, profile: str) -> Hyper:
        """Hyper-parameters of ``profile`` (``"smoke"``, ``"quick"`` or ``"paper"``)."""

    @abstractmethod
    def splits(self, hyper: Hyper, seed: int) -> Splits:
        """Training/validation/test tensors; the validation split is drawn with ``seed``."""

    def run_splits(self, hyper: Hyper, seed: int, *, folder: str | Path | None = None) -> Splits:
        """The splits a run whose files live in results folder ``folder`` trains on.

        Default: :meth:`splits` (``folder`` unused). A task that caches data it derives (e.g.
        features computed from recordings) overrides this to keep the cache in ``folder``, like
        every other file of the run (``None``: :func:`rrampaper.paths.results_dir`).
        """
        return self.splits(hyper, seed)

    @abstractmethod
    def build_model(self) -> nn.Module:
        """A fresh dense model (plain PyTorch)."""

    def data_signature(self) -> str:
        """Names the data the task reads, so that stored results are keyed by it.

        Default ``"registry"``: the files are SHA-256 checked against the pooch registry, so
        they cannot change silently. Tasks whose data the user supplies or that fall back to a
        stand-in (DRIVE, ImageNet-100) return where the data came from.
        """
        return "registry"

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        """Training loss; default: negative log-likelihood of log-probabilities."""
        return nn.functional.nll_loss(output, target)

    def score(self, outputs: Tensor, targets: Tensor) -> float:
        """The metric over a whole split from concatenated outputs; default: top-1 accuracy."""
        return float((outputs.argmax(dim=1) == targets).double().mean())

    def evaluate(self, model: nn.Module, split: tuple[Tensor, Tensor], batch_size: int,
                 device: torch.device) -> float:
        """The metric of ``model`` on one split (model selection and reports call this).

        Default: :meth:`score` of the batched predictions. A task whose evaluation is not a
        plain batch loop (e.g. whole images stitched from patches) overrides it.
        """
        return self.score(predict(model, split[0], batch_size, device), split[1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, metric={self.metric!r})"


@torch.no_grad()
def predict(model: nn.Module, inputs: Tensor, batch_size: int, device: torch.device) -> Tensor:
    """Model outputs for ``inputs`` in evaluation mode, batch by batch (returned on the CPU).

    Hardware models read the device afresh for every batch, starting from read 0 at each call,
    so two evaluations of the same model see the same device reads.
    """
    reads.begin_evaluation(model)
    outputs = [model(inputs[i:i + batch_size].to(device)).float().cpu()
               for i in range(0, len(inputs), batch_size)]
    return torch.cat(outputs)


def take(tensors: tuple[Tensor, Tensor], n: int | None) -> tuple[Tensor, Tensor]:
    """The first ``n`` samples (all if ``n`` is ``None`` or larger than the split)."""
    if n is None:
        return tensors
    return tensors[0][:n], tensors[1][:n]


def seeded_subset(tensors: tuple[Tensor, Tensor], n: int | None, seed: int) -> tuple[Tensor, Tensor]:
    """A seeded random subset of ``n`` samples (all if ``n`` is ``None`` or too large)."""
    if n is None or n >= len(tensors[1]):
        return tensors
    order = torch.randperm(len(tensors[1]), generator=torch.Generator().manual_seed(seed))[:n]
    order = order.sort().values
    return tensors[0][order], tensors[1][order]
