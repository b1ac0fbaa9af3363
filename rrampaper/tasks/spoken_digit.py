"""Spoken-digit classification with the paper's CRNN (docs/paper.md#spoken-digit), on two inputs.

- :class:`SpokenDigitTask` (``"spoken_digit"``) reads the paper's own pre-extracted 23x20
  features (:func:`rrampaper.data.load_spoken_features`) with their 2,100/900 random split of
  all FSDD v1.0.10 recordings: **this is the paper's setting**.
- :class:`SpokenDigitFSDDTask` (``"spoken_digit_fsdd"``) reads 23x20 features computed here from
  the raw recordings (:mod:`rrampaper.tasks.spoken_digit_features`, librosa) with FSDD's official split by take
  index (takes 0-4: 300 test recordings; takes 5-49: 2,700 training recordings).

Both carve a seeded, stratified validation split out of their *training* recordings (10 %:
210 and 270); it selects the epoch and drives the hardware limit-size schedule. The test split
never drives a decision (the official scripts select on the test set; this package does not).

Profiles (sizes for the paper-feature task; the FSDD task uses the same epochs, batches and
``n_train``, with 270 validation and at most 300 test recordings):

========  ======  =====  ==========================  ===========================================
profile   epochs  batch  train / validation / test   purpose
========  ======  =====  ==========================  ===========================================
smoke     3       30     420 / 210 / 300             nbval / CI: seconds per run
quick     15      30     1,890 / 210 / 900           the notebook with 3 seeds of every approach
                                                     in under 10 minutes on 2 CPU cores
paper     60      30     1,890 / 210 / 900           the official scripts' settings
========  ======  =====  ==========================  ===========================================

SGD, lr 0.1, momentum 0.9, weight decay 5e-4, cosine schedule over the profile's own epochs
(``Spoken_digit_software_TO.py``; the official *hardware* script has no momentum, weight decay
or schedule: this package trains every method with the same optimizer so that they differ only
in what they train), 3-bit activations and hidden state (:class:`~rrampaper.models.
SpokenDigitCRNN`), limit size 0.009 -> 0.007 in 10 steps (``Spoken_digit_hardware_TO.py``).
Software TO uses the signed Kaiming constant as its random weights, as the official spoken
script does (``init_bin = True``; docs/paper.md#weight-initialization).

Examples
--------
>>> from rrampaper.tasks import get_task
>>> get_task("spoken_digit").hyper("paper").epochs
60
>>> splits = get_task("spoken_digit").splits(get_task("spoken_digit").hyper("quick"), seed=0)  # doctest: +SKIP
>>> splits.sizes()                                                                            # doctest: +SKIP
{'train': 1890, 'validation': 210, 'test': 900}
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import Tensor, nn

from rrampaper._checks import check_choice
from rrampaper.data import SpokenFeatures, load_spoken_features
from rrampaper.models import SPOKEN_BITS, SpokenDigitCRNN
from rrampaper.profiles import PROFILES
from rrampaper.tasks.base import Hyper, Splits, Task, seeded_subset
from rrampaper.tasks.spoken_digit_features import fsdd_features

_COMMON = {
    "batch_size": 30,
    "eval_batch_size": 900,
    "optimizer": "sgd",
    "lr": 0.1,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "schedule": "cosine",
    "n_validation": 210,
    "n_test": None,
    "limit_size": (0.009, 0.007, 10),
}

#: Hyper-parameters of the paper-feature task (2,100 training / 900 test recordings).
HYPER: dict[str, Hyper] = {
    "smoke": Hyper(epochs=3, n_train=420, **{**_COMMON, "n_test": 300}),
    "quick": Hyper(epochs=15, n_train=None, **_COMMON),
    "paper": Hyper(epochs=60, n_train=None, **_COMMON),
}

#: Hyper-parameters of the FSDD task (2,700 training / 300 test recordings): 10 % validation.
HYPER_FSDD: dict[str, Hyper] = {
    name: dataclasses.replace(hyper, n_validation=270) for name, hyper in HYPER.items()
}


def _tensors(features: SpokenFeatures) -> tuple[Tensor, Tensor]:
    dataset = features.to_tensor_dataset()
    return dataset.tensors[0], dataset.tensors[1]


def make_splits(train: SpokenFeatures, test: SpokenFeatures, hyper: Hyper, seed: int) -> Splits:
    """Validation (seeded, stratified) carved out of ``train``; ``n_train`` and ``n_test`` subsets.

    The validation split depends on ``seed``; the test subset does not (every seed is tested on
    the same recordings).
    """
    fit, validation = train.train_validation_split(hyper.n_validation, seed=seed)
    return Splits(
        train=seeded_subset(_tensors(fit), hyper.n_train, seed),
        validation=_tensors(validation),
        test=seeded_subset(_tensors(test), hyper.n_test, 0),
    )


class SpokenDigitTask(Task):
    """The paper's spoken-digit experiment on its pre-extracted features: 10 digits, accuracy.

    Parameters
    ----------
    activation_bits:
        Bits of the CRNN's activations and hidden state (the paper: 3; ``None``: ideal).
    """

    name = "spoken_digit"
    metric = "accuracy"
    #: The official spoken-digit software script sets ``init_bin = True`` (docs/paper.md#weight-initialization).
    software_weights = "signed_constant"
    #: Names of the ten classes, in label order.
    classes: tuple[str, ...] = tuple(str(d) for d in range(10))

    def __init__(self, activation_bits: int | None = SPOKEN_BITS) -> None:
        self.activation_bits = activation_bits

    def hyper(self, profile: str) -> Hyper:
        return HYPER[check_choice("profile", profile, PROFILES)]

    def features(self) -> tuple[SpokenFeatures, SpokenFeatures]:
        """The (train, test) features this task reads."""
        return load_spoken_features("train"), load_spoken_features("test")

    def splits(self, hyper: Hyper, seed: int) -> Splits:
        return make_splits(*self.features(), hyper, seed)

    def build_model(self) -> nn.Module:
        return SpokenDigitCRNN(activation_bits=self.activation_bits)


class SpokenDigitFSDDTask(SpokenDigitTask):
    """The same experiment on features computed from the FSDD audio, official take split.

    Features come from :func:`rrampaper.tasks.spoken_digit_features.fsdd_features`, cached in the results folder
    of the run (:meth:`run_splits`; :meth:`splits` and :meth:`features` use the default one).
    """

    name = "spoken_digit_fsdd"

    def hyper(self, profile: str) -> Hyper:
        return HYPER_FSDD[check_choice("profile", profile, PROFILES)]

    def features(self, folder: str | Path | None = None) -> tuple[SpokenFeatures, SpokenFeatures]:
        """The (train, test) features, cached in ``folder`` (default: the results folder)."""

        computed = fsdd_features(folder=folder)
        return computed.official_split("train"), computed.official_split("test")

    def run_splits(self, hyper: Hyper, seed: int, *, folder: str | Path | None = None) -> Splits:
        return make_splits(*self.features(folder), hyper, seed)


def example_batch(n: int = 8) -> torch.Tensor:
    """The first ``n`` paper test features ``[n, 23, 20]`` (for shape checks and demos)."""
    return torch.from_numpy(load_spoken_features("test").X[:n])
