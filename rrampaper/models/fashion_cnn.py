"""The paper's Fashion-MNIST CNN (docs/paper.md#fashion-mnist; official ``FashionMNIST_*_TO.py``).

::

    input [B, 1, 28, 28] -> MaxPool2 -> [B, 1, 14, 14] -> quantize
    conv1 1->64, 3x3, no bias   [64, 1, 3, 3]    ->  [B, 64, 12, 12] -> BN (non-affine) -> ReLU -> quantize
    conv2 64->16, 3x3, no bias  [16, 64, 3, 3]   ->  [B, 16, 10, 10] -> MaxPool2 -> [B, 16, 5, 5]
                                                  -> BN (non-affine) -> ReLU -> quantize
    flatten 400 -> fc1 [128, 400] -> ReLU -> quantize -> fc2 [10, 128] -> log_softmax

Weights 576 + 9,216 + 51,200 + 1,280 = 62,272, no biases, no affine parameters: as a dense
model every trainable parameter is a weight; after :func:`rrampaper.topology.make_prunable`
only the 62,272 scores are trainable. The input quantizer uses the shifted ``[min, max]`` grid
(normalized pixels are signed), the others the after-ReLU grid (:mod:`rrampaper.models.quant`).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from rrampaper.models.quant import ActivationQuantizer

#: Bits of the paper's Fashion-MNIST activations (docs/paper.md#quantization).
FASHION_BITS = 4

#: Per-layer weight shapes, in module order.
FASHION_CNN_SHAPES: dict[str, tuple[int, ...]] = {
    "conv1.weight": (64, 1, 3, 3),
    "conv2.weight": (16, 64, 3, 3),
    "fc1.weight": (128, 400),
    "fc2.weight": (10, 128),
}


class FashionCNN(nn.Module):
    """The Fashion-MNIST CNN of the paper: ``[B, 1, 28, 28]`` -> ``[B, 10]`` log-probabilities.

    Parameters
    ----------
    activation_bits:
        Bits of every activation quantizer (the paper: 4); ``None`` is ideal (no quantization).
    range_mode:
        Quantizer range, ``"sample"`` (default: per sample, results independent of the batch
        size) or ``"batch"`` (the paper's: per batch); see :mod:`rrampaper.models.quant`.
    """

    def __init__(
        self, activation_bits: int | None = FASHION_BITS, range_mode: str = "sample"
    ) -> None:
        super().__init__()

        def quantizer(after_relu: bool) -> ActivationQuantizer:
            return ActivationQuantizer(
                activation_bits, after_relu=after_relu, range_mode=range_mode
            )

        self.q_input = quantizer(after_relu=False)
        self.conv1 = nn.Conv2d(1, 64, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64, affine=False)
        self.q1 = quantizer(after_relu=True)
        self.conv2 = nn.Conv2d(64, 16, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(16, affine=False)
        self.q2 = quantizer(after_relu=True)
        self.fc1 = nn.Linear(400, 128, bias=False)
        self.q3 = quantizer(after_relu=True)
        self.fc2 = nn.Linear(128, 10, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``[B, 1, 28, 28]`` normalized images -> ``[B, 10]`` log-probabilities."""
        x = self.q_input(F.max_pool2d(x, 2))
        x = self.q1(F.relu(self.bn1(self.conv1(x))))
        x = self.q2(F.relu(self.bn2(F.max_pool2d(self.conv2(x), 2))))
        x = self.q3(F.relu(self.fc1(x.flatten(1))))
        return F.log_softmax(self.fc2(x), dim=1)
