"""Activation quantizers of the paper: per-tensor, dynamic min/max, uniform ``2**bits`` levels.

The paper's analog chip computes with analog conductances but receives its inputs through DACs
and delivers its outputs through ADCs, so the *activations* are quantized (fake-quantized: the
quantized values are returned as floats) while the weights are never quantized. Bits used by the
paper (docs/paper.md#quantization, from the official code): Fashion-MNIST 4, spoken digit 3,
DRIVE U-Net 6.
``bits=None`` means ideal (identity), never ``bits=0``.

Two grids, both taken from the official code's ``quantization(m, bit, after_relu)``:

- ``after_relu=True`` (zero-point 0): ``scale = max / (2**bits - 1)``, levels
  ``0, scale, ..., (2**bits - 1) * scale``, i.e. ``q = clamp(round(x / scale), 0, 2**bits - 1) *
  scale``. The official code uses ``scale = (max - min) / (2**bits - 1)`` with an unclamped
  ``quint8`` grid; both agree whenever the tensor contains a zero (every post-ReLU tensor in
  practice). Where ``min > 0`` the official grid would hold more than ``2**bits`` levels; this one
  keeps exactly ``2**bits`` levels over ``[0, max]``.
- ``after_relu=False``: ``scale = (max - min) / (2**bits - 1)`` and
  ``q = (round((x - min) / scale) + floor(min / scale)) * scale``: the ``2**bits``-level grid over
  ``[min, max]`` shifted down onto integer multiples of ``scale`` (a sub-LSB shift of
  ``min - floor(min / scale) * scale``), exactly as the official code computes it.

Where ``max == min`` (a constant tensor, or a constant sample) the values pass unchanged.

**Range mode** (``range_mode``, always explicit): the paper takes ``min``/``max`` from the whole
tensor, i.e. from each *batch* (``"batch"``), so a network's test accuracy depends on the
evaluation batch size (the paper evaluated with batches of 20 and 9). ``"sample"`` takes
``min``/``max`` per sample (over every axis but the first), which makes a sample's output
independent of how the data set is split into batches; it is the mode the models of
:mod:`rrampaper.models` default to.

Backward: straight-through (the gradient passes unchanged), as the official code does by writing
the quantized values into ``x.data``.

Examples
--------
>>> import torch
>>> x = torch.tensor([[0.0, 0.1, 0.6, 1.0]])
>>> fake_quantize(x, 2, after_relu=True, range_mode="batch")  # levels 0, 1/3, 2/3, 1
tensor([[0.0000, 0.0000, 0.6667, 1.0000]])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rrampaper._checks import check_choice, check_range

RANGE_MODES: tuple[str, ...] = ("batch", "sample")
"""``"batch"``: min/max over the whole tensor (the paper's); ``"sample"``: per sample (axis 0)."""

#: Bits used by the paper's networks (docs/paper.md#quantization).
PAPER_BITS: dict[str, int] = {"fashion_mnist": 4, "spoken_digit": 3, "drive": 6}


def check_bits(bits: int | None) -> int | None:
    """Return ``bits`` if it is ``None`` (ideal) or an integer in 1..16, else raise ``ValueError``."""
    if bits is None:
        return None
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise ValueError(f"bits={bits!r} must be None (ideal) or an integer in [1, 16]")
    check_range("bits", bits, 1, 16)
    return bits


def _per_sample(stat: Tensor, x: Tensor) -> Tensor:
    """Reshape a ``[B]`` statistic to ``[B, 1, ..., 1]`` so that it broadcasts against ``x``."""
    return stat.reshape((x.shape[0],) + (1,) * (x.dim() - 1))


def _max(x: Tensor, per_sample: bool) -> Tensor:
    """Max of ``x``: a 0-d tensor, or ``[B, 1, ..., 1]`` when ``per_sample``."""
    if not per_sample:
        return x.max()
    return _per_sample(x.reshape(x.shape[0], -1).amax(dim=1), x)


def _min_max(x: Tensor, per_sample: bool) -> tuple[Tensor, Tensor]:
    """``(min, max)`` of ``x``: 0-d tensors, or ``[B, 1, ..., 1]`` tensors when ``per_sample``."""
    if not per_sample:
        return torch.aminmax(x)
    lo, hi = torch.aminmax(x.reshape(x.shape[0], -1), dim=1)
    return _per_sample(lo, x), _per_sample(hi, x)


@torch.no_grad()
def quantize_values(x: Tensor, bits: int, *, after_relu: bool, per_sample: bool) -> Tensor:
    """The quantized values of ``x`` (no autograd); see the module docstring for the grids.

    Parameters
    ----------
    x:
        Any floating tensor; with ``per_sample`` its first axis is the batch axis (at least 1-d).
    bits:
        Number of bits, 1..16 (not validated here; :func:`fake_quantize` validates).
    after_relu:
        Zero-point-0 grid over ``[0, max]`` instead of the shifted grid over ``[min, max]``.
    per_sample:
        Take min/max per sample (axis 0) instead of over the whole tensor.
    """
    levels = float(2**bits - 1)
    if after_relu:
        # max <= 0 (all zero after a ReLU): any positive scale maps everything to 0.
        scale = _max(x, per_sample) / levels
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        q = torch.div(x, scale).round_().clamp_(0.0, levels).mul_(scale)
    else:
        lo, hi = _min_max(x, per_sample)
        scale = (hi - lo) / levels
        positive = scale > 0
        scale = torch.where(positive, scale, torch.ones_like(scale))
        # max == min: scale 1 and offset min give back x exactly.
        offset = torch.where(positive, torch.floor(lo / scale) * scale, lo)
        q = torch.sub(x, lo).div_(scale).round_().mul_(scale).add_(offset)
    return q


class _StraightThrough(torch.autograd.Function):
    """Forward: quantized values; backward: the incoming gradient unchanged."""

    @staticmethod
    def forward(ctx, x: Tensor, bits: int, after_relu: bool, per_sample: bool) -> Tensor:  # type: ignore[override]
        return quantize_values(x, bits, after_relu=after_relu, per_sample=per_sample)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None, None]:  # type: ignore[override]
        return grad, None, None, None


def fake_quantize(
    x: Tensor, bits: int | None, *, after_relu: bool = False, range_mode: str
) -> Tensor:
    """Quantize ``x`` to ``2**bits`` uniform levels and return floats (straight-through backward).

    Parameters
    ----------
    x:
        Activations, any shape; in ``range_mode="sample"`` axis 0 is the batch axis.
    bits:
        1..16, or ``None`` for ideal (``x`` is returned unchanged).
    after_relu:
        Use the zero-point-0 grid over ``[0, max]`` (for non-negative activations).
    range_mode:
        ``"batch"`` (the paper's: one range per tensor, so per batch) or ``"sample"``.

    Returns
    -------
    Tensor of ``x``'s shape and dtype whose values lie on the grid.
    """
    bits = check_bits(bits)
    check_choice("range_mode", range_mode, RANGE_MODES)
    if bits is None:
        return x
    if x.dim() == 0 and range_mode == "sample":
        raise ValueError("range_mode='sample' needs a tensor with a batch axis (dim >= 1)")
    return _StraightThrough.apply(x, bits, after_relu, range_mode == "sample")


class ActivationQuantizer(nn.Module):
    """Fake-quantizes activations (:func:`fake_quantize`) as a module; ``bits=None`` is identity.

    Parameters
    ----------
    bits:
        1..16, or ``None`` for ideal. Can be changed after construction (``q.bits = 3``).
    after_relu:
        Zero-point-0 grid over ``[0, max]``, for the output of a ReLU.
    range_mode:
        ``"batch"`` (the paper's) or ``"sample"``; keyword-only and required so that the choice
        that decides whether a result depends on the batch size is always written down.
    """

    def __init__(self, bits: int | None, *, after_relu: bool = False, range_mode: str) -> None:
        super().__init__()
        self.bits = check_bits(bits)
        self.after_relu = bool(after_relu)
        self.range_mode = check_choice("range_mode", range_mode, RANGE_MODES)

    def forward(self, x: Tensor) -> Tensor:
        """Quantized ``x`` (same shape and dtype)."""
        return fake_quantize(x, self.bits, after_relu=self.after_relu, range_mode=self.range_mode)

    def extra_repr(self) -> str:
        return f"bits={self.bits}, after_relu={self.after_relu}, range_mode={self.range_mode!r}"
