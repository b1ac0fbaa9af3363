"""Bottleneck ResNets in plain PyTorch: ResNet-50 and a width/depth family around it.

The paper claims "scalability to ResNet-50 on ImageNet-100" without further details
(docs/paper.md#generality-and-scalability). :func:`resnet50` rebuilds the network of He et al.,
"Deep Residual Learning for Image Recognition", CVPR 2016, exactly as
``torchvision.models.resnet50`` defines it (version 1.5: the stride of a down-sampling block sits
on its 3x3 convolution), without importing torchvision:

- stem: 7x7/2 convolution to 64 channels, BatchNorm, ReLU, 3x3/2 max-pool;
- four stages of ``layers = (3, 4, 6, 3)`` bottleneck blocks (1x1 -> 3x3 -> 1x1 convolutions,
  inner widths 64, 128, 256, 512, outputs four times wider), the first block of stages 2-4 with
  stride 2, a 1x1 projection (+ BatchNorm) on every shortcut whose shape changes;
- global average pooling and one fully connected layer with bias.

With 1000 classes it has **25,557,032 parameters** (:data:`RESNET50_PARAMETERS`, the number
torchvision reports), of which 23,454,912 are convolution weights, 2,048,000 fully connected
weights, 1,000 the fully connected bias and 53,120 BatchNorm scales and shifts.

The family (:class:`ResNetSpec`, :func:`resnet_family`) varies the base ``width`` (64 in
ResNet-50; every convolution scales with it) and the blocks per stage ``layers``
(``(3, 4, 23, 3)`` is ResNet-101); ``stem="cifar"`` replaces the stem by one 3x3/1 convolution
without max-pool for 32x32 images (He et al. 2016, §4.2). ``norm_affine=False`` and
``fc_bias=False`` give the variant in which a pruned network has no trained parameter other
than its scores (edge-popup's ``NonAffineBatchNorm``, Ramanujan et al., CVPR 2020; the paper's
CNN also has non-affine BatchNorm and no bias, docs/paper.md#topology-optimization).

Examples
--------
>>> model = resnet50()
>>> sum(p.numel() for p in model.parameters())
25557032
>>> ResNetSpec((1, 1, 1, 1), width=16).name
'ResNet-14 (w16)'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rrampaper._checks import check_choice, check_positive_int

#: Output channels of a bottleneck block per inner channel (He et al. 2016, Table 1).
EXPANSION = 4

#: Blocks per stage of ResNet-50 and ResNet-101 (He et al. 2016, Table 1).
RESNET50_LAYERS: tuple[int, int, int, int] = (3, 4, 6, 3)
RESNET101_LAYERS: tuple[int, int, int, int] = (3, 4, 23, 3)

#: Parameters of ``torchvision.models.resnet50()`` (1000 classes): weights, BatchNorm affine
#: parameters and the fully connected bias (torchvision's model table lists 25,557,032).
RESNET50_PARAMETERS = 25_557_032

#: Convolution weights of ResNet-50 (independent of the number of classes).
RESNET50_CONV_WEIGHTS = 23_454_912

STEMS = ("imagenet", "cifar")


class Bottleneck(nn.Module):
    """``relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))) + shortcut(x))``.

    Parameters
    ----------
    in_channels:
        Channels of the block input.
    inner:
        Channels of the 1x1 and 3x3 convolutions; the output has ``EXPANSION * inner``.
    stride:
        Stride of the 3x3 convolution (torchvision's v1.5 placement) and of the projection.
    norm_affine:
        Whether BatchNorm has a trainable scale and shift.
    """

    def __init__(self, in_channels: int, inner: int, stride: int = 1, *, norm_affine: bool = True):
        super().__init__()
        out = EXPANSION * inner
        self.conv1 = nn.Conv2d(in_channels, inner, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(inner, affine=norm_affine)
        self.conv2 = nn.Conv2d(inner, inner, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(inner, affine=norm_affine)
        self.conv3 = nn.Conv2d(inner, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out, affine=norm_affine)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != out:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out, affine=norm_affine),
            )

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``[B, in_channels, H, W]`` -> ``[B, 4 * inner, H / stride, W / stride]``."""
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + identity)


class ResNet(nn.Module):
    """A bottleneck ResNet; ``ResNet()`` is ResNet-50 for 1000 classes.

    Parameters
    ----------
    layers:
        Bottleneck blocks in each of the four stages.
    num_classes:
        Outputs of the fully connected layer (logits; :meth:`forward` returns log-probabilities).
    width:
        Inner channels of the first stage; stages use ``width * (1, 2, 4, 8)`` and the stem
        ``width`` channels (64 in ResNet-50).
    in_channels:
        Image channels (3 for RGB).
    stem:
        ``"imagenet"``: 7x7/2 convolution + 3x3/2 max-pool (input downsampled 4x);
        ``"cifar"``: one 3x3/1 convolution (for 32x32 images).
    norm_affine:
        BatchNorm with trainable scale and shift (torchvision: ``True``).
    fc_bias:
        Bias of the fully connected layer (torchvision: ``True``).

    The initialization follows torchvision: convolutions Kaiming-normal (``fan_out``, ReLU),
    BatchNorm scale 1 and shift 0, the fully connected layer PyTorch's default.
    """

    def __init__(
        self,
        layers: Sequence[int] = RESNET50_LAYERS,
        *,
        num_classes: int = 1000,
        width: int = 64,
        in_channels: int = 3,
        stem: str = "imagenet",
        norm_affine: bool = True,
        fc_bias: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _check_layers(layers)
        self.width = check_positive_int("width", width)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.stem = check_choice("stem", stem, STEMS)
        check_positive_int("in_channels", in_channels)
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
            self.maxpool: nn.Module = nn.MaxPool2d(3, stride=2, padding=1)
        else:
            self.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(width, affine=norm_affine)
        self.relu = nn.ReLU(inplace=True)
        channels = width
        stages = []
        for index, blocks in enumerate(self.layers):
            inner = width * 2**index
            stride = 1 if index == 0 else 2
            stage = []
            for block in range(blocks):
                stage.append(Bottleneck(channels, inner, stride if block == 0 else 1,
                                        norm_affine=norm_affine))
                channels = EXPANSION * inner
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes, bias=fc_bias)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d) and norm_affine:
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    @property
    def depth(self) -> int:
        """Weighted layers along the main path: ``3 * sum(layers) + 2`` (50 for ResNet-50)."""
        return 3 * sum(self.layers) + 2

    def features(self, x: Tensor) -> Tensor:
        """Pooled features ``[B, 8 * EXPANSION * width]`` of images ``[B, C, H, W]``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x: Tensor) -> Tensor:
        """Log-probabilities ``[B, num_classes]`` of images ``[B, C, H, W]`` (the package's tasks
        use ``nll_loss``, so the model ends with ``log_softmax`` like the paper's networks)."""
        return torch.log_softmax(self.fc(self.features(x)), dim=1)


def resnet50(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-50 (``layers=(3, 4, 6, 3)``, ``width=64``); keyword arguments go to :class:`ResNet`."""
    return ResNet(RESNET50_LAYERS, num_classes=num_classes, **kwargs)


def _check_layers(layers: Iterable[int]) -> tuple[int, int, int, int]:
    values = tuple(layers)
    if len(values) != 4:
        raise ValueError(f"layers={values!r} must give the blocks of exactly 4 stages")
    return tuple(check_positive_int("layers", n) for n in values)  # type: ignore[return-value]


def bottleneck_weight_count(
    layers: Sequence[int] = RESNET50_LAYERS,
    *,
    width: int = 64,
    num_classes: int = 1000,
    in_channels: int = 3,
    stem: str = "imagenet",
) -> dict[str, int]:
    """Closed-form weight counts of :class:`ResNet`, computed from the architecture alone.

    Returns ``{"conv": ..., "fc": ..., "norm": ..., "fc_bias": ...}``: convolution weights,
    fully connected weights, BatchNorm scales + shifts (when affine) and the fully connected
    bias (when present). An independent check of the module's own count.

    >>> bottleneck_weight_count()
    {'conv': 23454912, 'fc': 2048000, 'norm': 53120, 'fc_bias': 1000}
    """
    layers = _check_layers(layers)
    kernel = 49 if check_choice("stem", stem, STEMS) == "imagenet" else 9
    conv = in_channels * width * kernel
    norm = width
    channels = width
    for index, blocks in enumerate(layers):
        inner = width * 2**index
        out = EXPANSION * inner
        for block in range(blocks):
            conv += channels * inner + 9 * inner * inner + inner * out
            norm += 2 * inner + out
            if block == 0 and (index > 0 or channels != out):
                conv += channels * out
                norm += out
            channels = out
    return {"conv": conv, "fc": channels * num_classes, "norm": 2 * norm, "fc_bias": num_classes}


@dataclass(frozen=True)
class ResNetSpec:
    """One member of the bottleneck-ResNet family: blocks per stage and base width.

    Attributes
    ----------
    layers:
        Bottleneck blocks of the four stages.
    width:
        Base width (64 in ResNet-50).
    """

    layers: tuple[int, int, int, int] = RESNET50_LAYERS
    width: int = 64

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", _check_layers(self.layers))
        check_positive_int("width", self.width)

    @property
    def depth(self) -> int:
        """``3 * sum(layers) + 2``."""
        return 3 * sum(self.layers) + 2

    @property
    def name(self) -> str:
        """E.g. ``"ResNet-50 (w64)"``."""
        return f"ResNet-{self.depth} (w{self.width})"

    def build(self, num_classes: int = 1000, **kwargs) -> ResNet:
        """The model; keyword arguments (``stem``, ``norm_affine``, ...) go to :class:`ResNet`."""
        return ResNet(self.layers, width=self.width, num_classes=num_classes, **kwargs)

    def weights(self, num_classes: int = 1000, stem: str = "imagenet") -> int:
        """Convolution + fully connected weights (what topology optimization prunes)."""
        counts = bottleneck_weight_count(self.layers, width=self.width,
                                         num_classes=num_classes, stem=stem)
        return counts["conv"] + counts["fc"]


def resnet_family(
    widths: Iterable[int] = (8, 16, 32, 64),
    depths: Iterable[Sequence[int]] = ((1, 1, 1, 1), (2, 2, 2, 2), RESNET50_LAYERS),
    *,
    width_at: int = 64,
    layers_at: Sequence[int] = RESNET50_LAYERS,
) -> dict[str, list[ResNetSpec]]:
    """Two one-dimensional sweeps through ResNet-50: ``{"width": [...], "depth": [...]}``.

    ``"width"`` varies the base width at ``layers_at`` blocks (ResNet-50's by default);
    ``"depth"`` varies the blocks per stage at base width ``width_at`` (64 by default). Both
    sweeps are sorted by weight count, and ResNet-50 itself is in both with the defaults.

    >>> [s.name for s in resnet_family(widths=(16, 64))["width"]]
    ['ResNet-50 (w16)', 'ResNet-50 (w64)']
    """
    by_width = [ResNetSpec(tuple(layers_at), w) for w in widths]  # type: ignore[arg-type]
    by_depth = [ResNetSpec(tuple(d), width_at) for d in depths]  # type: ignore[arg-type]
    return {"width": sorted(set(by_width), key=lambda s: s.weights()),
            "depth": sorted(set(by_depth), key=lambda s: s.weights())}
