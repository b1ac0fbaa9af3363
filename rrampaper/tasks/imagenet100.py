"""ImageNet-100 classification with bottleneck ResNets: the paper's scalability claim.

The paper claims "scalability to ResNet-50 on ImageNet-100" and publishes nothing else about it:
no accuracy, sparsity, class list, image size or recipe
(docs/paper.md#generality-and-scalability). Two tasks:

- :class:`ImageNet100Task` (``"imagenet100"``): the user's ImageNet-100 copy
  (:mod:`rrampaper.data.imagenet`, CMC's 100 classes; raises ``DatasetMissingError`` when
  absent). The validation split is carved from ``train/`` (stratified, seeded); ``val/`` (50
  images per class) is the test split.
- :class:`ImageNet100StandInTask` (``"imagenet100_standin"``): **a stand-in, not ImageNet**:
  Fashion-MNIST (10 classes) upsampled bilinearly from 28x28 to 32x32 and repeated over 3
  channels, so that the same models and code run where ImageNet cannot be shipped (CI, a
  laptop). Its accuracies say nothing about ImageNet-100.

Models (:mod:`rrampaper.models.resnet`), per profile:

========  ==========================  ======  ======  =====  =====================================
profile   model                       pixels  epochs  batch  images (train / validation / test)
========  ==========================  ======  ======  =====  =====================================
smoke     ResNet-14 (w8), 3x3 stem    32      2       32     1,024 / 256 / 256
quick     ResNet-14 (w16), 3x3 stem   32      3       64     4,000 / 500 / 1,000
paper     ResNet-50, 3x3 stem         64      100     256    all / 5,000 / all
========  ==========================  ======  ======  =====  =====================================

``smoke`` and ``quick`` fit a 2-core CPU; ``paper`` is ResNet-50 for a GPU. Its images are 64x64
(downsampled ImageNet, Chrabaszcz, Loshchilov & Hutter, arXiv 1707.08819, 2017) with a stride-1
3x3 stem, because :func:`rrampaper.experiments.train.run` holds a split in memory as one float32 tensor
(126,689 training images: 6.2 GB at 64 px, 76 GB at 224 px). Its optimizer is edge-popup's
ImageNet ResNet-50 recipe (Ramanujan et al., CVPR 2020; ``configs/largescale/subnetonly/
resnet50-usc-unsigned.yaml`` of allenai/hidden-networks: SGD, lr 0.256, momentum 0.875, weight
decay 3.0517578125e-5, batch 256, 100 epochs, cosine; its 5 warm-up epochs and label smoothing
0.1 are not modelled). ``smoke``/``quick`` use the package's Fashion-MNIST optimizer (SGD, lr
0.1, momentum 0.9, weight decay 5e-4, cosine over the profile's epochs).

Every model has non-affine BatchNorm and no fully connected bias, so that topology optimization
trains nothing but scores (edge-popup's ``NonAffineBatchNorm``; the paper's CNN likewise,
docs/paper.md#topology-optimization); weight optimization trains every weight of the same
architecture. Software TO draws signed Kaiming constants (edge-popup's ImageNet choice,
``init: signed_constant``). The limit-size schedule of hardware TO is the Fashion-MNIST one
(0.01 -> 0.007 in 15 steps): an assumption, the paper gives none for this experiment.

Examples
--------
>>> import torch
>>> task = ImageNet100StandInTask()
>>> task.hyper("quick").epochs, task.spec("quick").name
(3, 'ResNet-14 (w16)')
>>> task.build_model()(torch.zeros(2, 3, 32, 32)).shape
torch.Size([2, 10])
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

from rrampaper._checks import check_choice
from rrampaper.data import load_fashion_mnist
from rrampaper.data.imagenet import LABEL_ORDER, ImageNet100, imagenet100_dir
from rrampaper.data.splits import split_indices
from rrampaper.models.resnet import RESNET50_LAYERS, ResNetSpec
from rrampaper.profiles import PROFILES
from rrampaper.tasks.base import Hyper, Splits, Task, seeded_subset

_SMALL = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4,
          "schedule": "cosine", "limit_size": (0.01, 0.007, 15)}

#: Hyper-parameters per profile (both tasks).
HYPER: dict[str, Hyper] = {
    "smoke": Hyper(epochs=2, batch_size=32, eval_batch_size=512, n_train=1024, n_validation=256,
                   n_test=256, **_SMALL),
    "quick": Hyper(epochs=3, batch_size=64, eval_batch_size=500, n_train=4000,
                   n_validation=500, n_test=1000, **_SMALL),
    "paper": Hyper(epochs=100, batch_size=256, eval_batch_size=500, n_train=None,
                   n_validation=5000, n_test=None, optimizer="sgd", lr=0.256, momentum=0.875,
                   weight_decay=3.0517578125e-5, schedule="cosine", limit_size=(0.01, 0.007, 15)),
}

#: Model per profile.
SPECS: dict[str, ResNetSpec] = {
    "smoke": ResNetSpec((1, 1, 1, 1), width=8),
    "quick": ResNetSpec((1, 1, 1, 1), width=16),
    "paper": ResNetSpec(RESNET50_LAYERS, width=64),
}

#: Image side in pixels per profile.
IMAGE_SIZE: dict[str, int] = {"smoke": 32, "quick": 32, "paper": 64}

#: Side of the stand-in images: Fashion-MNIST's 28 px upsampled to CIFAR's 32 px.
STANDIN_SIZE = 32


class _ResNetTask(Task):
    metric = "accuracy"
    #: edge-popup's ImageNet ResNet-50 weights (``init: signed_constant``).
    software_weights = "signed_constant"
    num_classes: int

    def __init__(self, profile: str = "quick") -> None:
        #: Profile whose model :meth:`build_model` builds (the Task API passes no profile there;
        #: :meth:`hyper` sets it, and :func:`rrampaper.experiments.train.run` calls ``hyper`` first).
        self.profile = check_choice("profile", profile, PROFILES)

    def hyper(self, profile: str) -> Hyper:
        self.profile = check_choice("profile", profile, PROFILES)
        return HYPER[profile]

    def spec(self, profile: str | None = None) -> ResNetSpec:
        """The model of ``profile`` (default: the last one :meth:`hyper` was asked for)."""
        return SPECS[check_choice("profile", profile or self.profile, PROFILES)]

    def image_size(self, profile: str | None = None) -> int:
        """Image side in pixels."""
        return IMAGE_SIZE[check_choice("profile", profile or self.profile, PROFILES)]

    def build_model(self) -> nn.Module:
        return self.spec().build(self.num_classes, stem="cifar", norm_affine=False,
                                 fc_bias=False)


class ImageNet100Task(_ResNetTask):
    """ResNets on the user's ImageNet-100 (100 classes, top-1 accuracy)."""

    name = "imagenet100"
    num_classes = len(LABEL_ORDER)

    def data_signature(self) -> str:
        """The user's ImageNet-100 folder (its contents are not hashed)."""

        return f"imagenet100:{imagenet100_dir()}"

    def splits(self, hyper: Hyper, seed: int) -> Splits:
        size = self.image_size()
        wanted = None if hyper.n_train is None else hyper.n_train + hyper.n_validation
        per_class = None if wanted is None else math.ceil(wanted / self.num_classes)
        train_set = ImageNet100("train", size=size, per_class=per_class)
        fit, validation = split_indices(train_set.labels, hyper.n_validation, seed)
        x, y = train_set.to_tensors()
        test = ImageNet100("val", size=size,
                           per_class=None if hyper.n_test is None
                           else math.ceil(hyper.n_test / self.num_classes)).to_tensors()
        return Splits(
            train=seeded_subset((x[fit], y[fit]), hyper.n_train, seed),
            validation=(x[validation], y[validation]),
            test=seeded_subset(test, hyper.n_test, 0),
        )


def standin_images(images: Tensor, size: int = STANDIN_SIZE) -> Tensor:
    """Normalized grey images ``[N, 1, 28, 28]`` -> ``[N, 3, size, size]`` (bilinear, 3 copies).

    >>> import torch
    >>> standin_images(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 3, 32, 32])
    """
    resized = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    return resized.expand(-1, 3, -1, -1).contiguous()


class ImageNet100StandInTask(_ResNetTask):
    """STAND-IN for ImageNet-100: Fashion-MNIST at 32x32x3 with the same ResNets (10 classes).

    Only for running the scalability code without ImageNet; its accuracies are not ImageNet's.
    """

    name = "imagenet100_standin"
    num_classes = 10
    #: Said wherever a result of this task is shown.
    label = "STAND-IN: Fashion-MNIST at 32x32x3, not ImageNet-100"

    def image_size(self, profile: str | None = None) -> int:
        return STANDIN_SIZE

    def splits(self, hyper: Hyper, seed: int) -> Splits:
        full = load_fashion_mnist("train")
        train, validation = full.train_validation_split(hyper.n_validation, seed=seed)
        test = load_fashion_mnist("test").to_tensor_dataset().tensors
        train_x, train_y = seeded_subset(train.to_tensor_dataset().tensors, hyper.n_train, seed)
        val_x, val_y = validation.to_tensor_dataset().tensors
        test_x, test_y = seeded_subset(test, hyper.n_test, 0)
        return Splits(
            train=(standin_images(train_x), train_y),
            validation=(standin_images(val_x), val_y),
            test=(standin_images(test_x), test_y),
        )

