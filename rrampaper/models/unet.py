"""The paper's U-Net for DRIVE vessel segmentation (docs/paper.md#drive; ``UNET_DRIVE_TO``).

A bilinear U-Net (Ronneberger et al., MICCAI 2015, in the variant of the public
``Pytorch-UNet``/VesselSeg code bases) with ``base_channels = 32``, one input channel (the
preprocessed grey image) and two output classes (background, vessel)::

    in_conv  DoubleConv(1 -> 32)                                   full resolution
    down1    MaxPool2 -> DoubleConv(32 -> 64)                      1/2
    down2    MaxPool2 -> DoubleConv(64 -> 128)                     1/4
    down3    MaxPool2 -> DoubleConv(128 -> 256)                    1/8
    down4    MaxPool2 -> DoubleConv(256 -> 256)                    1/16
    up1      bilinear x2, concat skip (256 + 256) -> DoubleConv(512 -> 128, mid 256)
    up2      bilinear x2, concat skip (128 + 128) -> DoubleConv(256 -> 64, mid 128)
    up3      bilinear x2, concat skip (64 + 64)   -> DoubleConv(128 -> 32, mid 64)
    up4      bilinear x2, concat skip (32 + 32)   -> DoubleConv(64 -> 32, mid 32)
    out      quantize -> 1x1 conv 32 -> 2 -> log_softmax over the class axis

``DoubleConv(i -> o, mid m)`` is ``quantize -> conv3x3(i -> m) -> BN -> ReLU -> quantize ->
conv3x3(m -> o) -> BN -> ReLU``: 3x3 convolutions with padding 1 and no bias, BatchNorm with
affine parameters (the only trainable parameters besides the scores once the model is made
prunable, docs/paper.md#topology-optimization). The quantizers are the paper's 6-bit activation
quantizers at the input of every DoubleConv, between its two convolutions and before the output
convolution (docs/paper.md#quantization).

Convolution weights per block: 9,504 / 55,296 / 221,184 / 884,736 / 1,179,648 / 1,474,560 /
368,640 / 92,160 / 27,648 / 64, **4,313,440 in total** (:data:`UNET_WEIGHTS`), 16.5 macros of
512 x 512 cells as differential pairs (131,072 pairs per macro), so hardware TO tiles it over 33
macros of the emulated chip (:class:`rrampaper.devices.Chip`).

The input image quantizer uses the shifted ``[min, max]`` grid, every other one the after-ReLU
grid (all their inputs are ReLU outputs, their bilinear upsampling or concatenations of both).
Any input size works (odd sizes are padded before each concatenation, as in ``Pytorch-UNet``);
multiples of 16 avoid the padding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rrampaper.models.quant import ActivationQuantizer

#: Bits of the paper's U-Net activations (docs/paper.md#quantization).
UNET_BITS = 6

#: Number of convolution weights of the paper's U-Net (docs/paper.md#drive).
UNET_WEIGHTS = 4_313_440

#: Convolution weights per block, in module order (docs/paper.md#drive).
UNET_BLOCK_WEIGHTS: dict[str, int] = {
    "in_conv": 9_504,
    "down1": 55_296,
    "down2": 221_184,
    "down3": 884_736,
    "down4": 1_179_648,
    "up1": 1_474_560,
    "up2": 368_640,
    "up3": 92_160,
    "up4": 27_648,
    "out_conv": 64,
}


def _quantizer(bits: int | None, after_relu: bool, range_mode: str) -> ActivationQuantizer:
    return ActivationQuantizer(bits, after_relu=after_relu, range_mode=range_mode)


class DoubleConv(nn.Module):
    """``quantize -> conv3x3 -> BN -> ReLU -> quantize -> conv3x3 -> BN -> ReLU``.

    Parameters
    ----------
    in_channels, out_channels, mid_channels:
        Channel counts (``mid_channels`` defaults to ``out_channels``).
    activation_bits, range_mode:
        Of the two quantizers (:class:`rrampaper.models.quant.ActivationQuantizer`).
    input_after_relu:
        Whether the block's input is non-negative (every block but the first).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        mid_channels: int | None = None,
        *,
        activation_bits: int | None = UNET_BITS,
        range_mode: str = "sample",
        input_after_relu: bool = True,
    ) -> None:
        super().__init__()
        mid = mid_channels or out_channels
        self.q_in = _quantizer(activation_bits, input_after_relu, range_mode)
        self.conv1 = nn.Conv2d(in_channels, mid, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.q_mid = _quantizer(activation_bits, True, range_mode)
        self.conv2 = nn.Conv2d(mid, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        x = self.q_mid(F.relu(self.bn1(self.conv1(self.q_in(x)))))
        return F.relu(self.bn2(self.conv2(x)))


class Down(nn.Module):
    """``MaxPool2 -> DoubleConv``: halves the resolution."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: object) -> None:
        super().__init__()
        self.conv = DoubleConv(in_channels, out_channels, **kwargs)  # type: ignore[arg-type]

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.max_pool2d(x, 2))


class Up(nn.Module):
    """Bilinear x2 upsampling (``align_corners=True``), pad to the skip's size, concatenate
    ``[skip, upsampled]`` and ``DoubleConv(in -> out, mid = in // 2)``."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: object) -> None:
        super().__init__()
        self.conv = DoubleConv(in_channels, out_channels, in_channels // 2, **kwargs)  # type: ignore[arg-type]

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        dy, dx = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
        if dy or dx:
            x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    """The paper's bilinear U-Net: ``[B, 1, H, W]`` -> ``[B, 2, H, W]`` log-probabilities.

    Parameters
    ----------
    in_channels:
        Input channels (the paper: 1, the preprocessed grey image).
    num_classes:
        Output classes (the paper: 2, background and vessel).
    base_channels:
        Channels of the first level (the paper: 32); deeper levels double it up to 8x.
    activation_bits:
        Bits of every activation quantizer (the paper: 6); ``None`` is ideal.
    range_mode:
        Quantizer range, ``"sample"`` (default: per sample, so a window's output does not
        depend on which other windows share its batch) or ``"batch"`` (the paper's).

    Examples
    --------
    >>> net = UNet()
    >>> sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Conv2d))
    4313440
    >>> net.eval()(torch.rand(2, 1, 48, 48)).shape
    torch.Size([2, 2, 48, 48])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 2,
        base_channels: int = 32,
        activation_bits: int | None = UNET_BITS,
        range_mode: str = "sample",
    ) -> None:
        super().__init__()
        c = base_channels
        q = {"activation_bits": activation_bits, "range_mode": range_mode}
        self.in_conv = DoubleConv(in_channels, c, input_after_relu=False, **q)
        self.down1 = Down(c, 2 * c, **q)
        self.down2 = Down(2 * c, 4 * c, **q)
        self.down3 = Down(4 * c, 8 * c, **q)
        self.down4 = Down(8 * c, 8 * c, **q)
        self.up1 = Up(16 * c, 4 * c, **q)
        self.up2 = Up(8 * c, 2 * c, **q)
        self.up3 = Up(4 * c, c, **q)
        self.up4 = Up(2 * c, c, **q)
        self.q_out = _quantizer(activation_bits, True, range_mode)
        self.out_conv = nn.Conv2d(c, num_classes, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``[B, in_channels, H, W]`` -> ``[B, num_classes, H, W]`` log-probabilities."""
        x1 = self.in_conv(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x = self.down4(x4)
        x = self.up1(x, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return F.log_softmax(self.out_conv(self.q_out(x)), dim=1)
