"""Prunable replacements of ``nn.Linear`` and ``nn.Conv2d``.

Each layer holds one :class:`~rrampaper.topology.masked_weight.MaskedWeight` (attribute
``masked``) and computes exactly what the original layer computed, with the effective weight in
place of its weight. A bias, if the original layer had one, is kept frozen and unpruned (a
``bias`` buffer); the paper's networks have none.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from rrampaper.topology.masked_weight import MaskedWeight


class PrunableLinear(nn.Module):
    """``y = x @ w_eff.T + b`` with ``w_eff`` of shape ``[out_features, in_features]``.

    Parameters
    ----------
    masked:
        The masked weight, shape ``[out_features, in_features]``.
    bias:
        Frozen bias ``[out_features]`` or ``None``.
    """

    def __init__(self, masked: MaskedWeight, bias: Tensor | None = None) -> None:
        super().__init__()
        self.out_features, self.in_features = masked.shape
        self.masked = masked
        self.register_buffer("bias", None if bias is None else bias.detach().clone())

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``[..., in_features]`` -> ``[..., out_features]``."""
        return F.linear(x, self.masked(), self.bias)

    def masked_weights(self) -> dict[str, MaskedWeight]:
        """``{"weight": masked}``: the original parameter name of each masked tensor."""
        return {"weight": self.masked}

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class PrunableConv2d(nn.Module):
    """2-d convolution with the effective weight; same hyper-parameters as the original layer.

    Build it with :meth:`from_conv`; ``masked`` has the shape
    ``[out_channels, in_channels / groups, kernel_h, kernel_w]``.
    """

    def __init__(
        self,
        masked: MaskedWeight,
        bias: Tensor | None,
        *,
        stride: tuple[int, int],
        padding: tuple[int, int] | str,
        dilation: tuple[int, int],
        groups: int,
        padding_mode: str = "zeros",
        reversed_padding: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        self.masked = masked
        self.register_buffer("bias", None if bias is None else bias.detach().clone())
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.padding_mode = padding_mode
        self.reversed_padding = reversed_padding

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, masked: MaskedWeight) -> PrunableConv2d:
        """The prunable twin of ``conv`` (its bias, if any, is copied and frozen)."""
        return cls(
            masked,
            conv.bias,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            padding_mode=conv.padding_mode,
            reversed_padding=tuple(conv._reversed_padding_repeated_twice),
        )

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``[B, C_in, H, W]`` -> ``[B, C_out, H', W']``."""
        weight = self.masked()
        if self.padding_mode != "zeros":
            x = F.pad(x, self.reversed_padding, mode=self.padding_mode)
            return F.conv2d(x, weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def masked_weights(self) -> dict[str, MaskedWeight]:
        """``{"weight": masked}``: the original parameter name of each masked tensor."""
        return {"weight": self.masked}

    def extra_repr(self) -> str:
        out_ch, in_ch, kh, kw = self.masked.shape
        return (
            f"{in_ch * self.groups}, {out_ch}, kernel_size=({kh}, {kw}), stride={self.stride}, "
            f"padding={self.padding}, groups={self.groups}, bias={self.bias is not None}"
        )
