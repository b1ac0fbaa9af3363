"""Fashion-MNIST classification with the paper's CNN (docs/paper.md#fashion-mnist).

Profiles:

========  ======  =====  =======  =========  ================================================
profile   epochs  batch  n_train  n_test     purpose
========  ======  =====  =======  =========  ================================================
smoke     2       100    2,000    1,000      nbval / CI: seconds
quick     10      100    20,000   10,000     2-core laptop; shows every qualitative claim
paper     65      60     55,000   10,000     the official script's settings (GPU)
========  ======  =====  =======  =========  ================================================

The paper's script trains on all 60,000 images and selects the epoch on the test set; here
5,000 training images (stratified, seeded) form the validation split that selects the epoch and
drives the limit-size schedule. SGD, lr 0.1, momentum 0.9, weight decay 5e-4, cosine schedule
over the profile's own epochs, 4-bit activations; limit size 0.01 -> 0.007 in 15 steps
(official ``FashionMNIST_hardware_TO.py``; docs/paper.md#hyper-parameters).
"""

from __future__ import annotations

import torch
from torch import nn

from rrampaper._checks import check_choice
from rrampaper.data import load_fashion_mnist
from rrampaper.models import FashionCNN
from rrampaper.profiles import PROFILES
from rrampaper.tasks.base import Hyper, Splits, Task, seeded_subset

_COMMON = {
    "optimizer": "sgd",
    "lr": 0.1,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "schedule": "cosine",
    "n_validation": 5000,
    "limit_size": (0.01, 0.007, 15),
}

HYPER: dict[str, Hyper] = {
    "smoke": Hyper(epochs=2, batch_size=100, eval_batch_size=1000, n_train=2000, n_test=1000,
                   **{**_COMMON, "n_validation": 1000}),
    "quick": Hyper(epochs=10, batch_size=100, eval_batch_size=2000, n_train=20000, n_test=None,
                   **_COMMON),
    "paper": Hyper(epochs=65, batch_size=60, eval_batch_size=2000, n_train=None, n_test=None,
                   **_COMMON),
}


class FashionMNISTTask(Task):
    """The paper's Fashion-MNIST experiment: 10 classes, top-1 accuracy."""

    name = "fashion_mnist"
    metric = "accuracy"
    #: The official Fashion-MNIST software script never passes ``init_bin``, so its random
    #: weights are Kaiming-normal Gaussians (docs/paper.md#weight-initialization).
    software_weights = "kaiming_normal"

    def __init__(self, activation_bits: int | None = 4) -> None:
        self.activation_bits = activation_bits

    def hyper(self, profile: str) -> Hyper:
        return HYPER[check_choice("profile", profile, PROFILES)]

    def splits(self, hyper: Hyper, seed: int) -> Splits:
        full = load_fashion_mnist("train")
        train, validation = full.train_validation_split(hyper.n_validation, seed=seed)
        test = load_fashion_mnist("test").to_tensor_dataset().tensors
        return Splits(
            train=seeded_subset(train.to_tensor_dataset().tensors, hyper.n_train, seed),
            validation=validation.to_tensor_dataset().tensors,
            test=seeded_subset(test, hyper.n_test, 0),  # the same test images for every seed
        )

    def build_model(self) -> nn.Module:
        return FashionCNN(activation_bits=self.activation_bits)


def example_batch(n: int = 8) -> torch.Tensor:
    """``n`` normalized test images ``[n, 1, 28, 28]`` (for shape checks and demos)."""
    return load_fashion_mnist("test").subset(torch.arange(n).numpy()).to_tensor_dataset().tensors[0]
