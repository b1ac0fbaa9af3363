"""One fixed random weight tensor, its trainable scores and its top-k mask.

:class:`MaskedWeight` is the unit of topology optimization (TO): one weight tensor of a layer,
which on the chip is one block of differential pairs. Its forward returns the effective weight

- software: ``w_eff = W ⊙ M``;
- hardware: ``w_eff = (kept ⊙ M + pruned ⊙ (1 - M)) / scale`` with ``(kept, pruned)`` one read of
  the device (signed conductance differences, siemens) and ``scale = kept_scale / std``,
  ``std = gain / sqrt(keep_ratio * fan_in)``: kept weights get the signed-Kaiming magnitude
  (the official hardware scripts divide the layer output by the same ``scale``;
  docs/paper.md#hardware-forward).

where ``M = topk(|S|)`` keeps exactly ``kept_count(numel, keep_ratio)`` weights
(:mod:`rrampaper.topology.mask`), optionally held back by the limit-size rule
(:mod:`rrampaper.topology.limit_size`).

**Gradient (straight-through).** Write ``w_eff = base + M ⊙ delta``: software ``base = 0``,
``delta = W``; hardware ``base = pruned / scale``, ``delta = (kept - pruned) / scale``. Then
``∂L/∂M = ∂L/∂w_eff ⊙ delta``: ``∂L/∂w_eff ⊙ W`` in software and
``∂L/∂w_eff ⊙ (kept - pruned) / scale`` in hardware, so with a pruned residual the mask gradient
goes through the *difference* of the two states, not through ``kept`` alone. The top-k step is
taken as the identity (``∂M/∂|S| = 1``, edge-popup's straight-through estimator) and ``|S|``
contributes ``∂|S|/∂S = sign(S)``, as PyTorch differentiates ``abs`` (0 at ``S = 0``)::

    ∂L/∂S = sign(S) ⊙ ∂L/∂w_eff ⊙ delta

**Mask cache.** The mask is recomputed only when the scores changed: the cache is keyed on the
score tensor's version counter (bumped by every in-place update, e.g. ``optimizer.step()`` or
``load_state_dict``) and storage. Every recomputation is a (re)programming of the chip: it
updates the limit-size reference and the SET/RESET counters, whether it happens in a training
or an evaluation forward; a forward with unchanged scores (every evaluation batch after the
first, or a second forward before ``optimizer.step()``) reuses the mask and counts nothing.
``mask_updates`` counts the recomputations.

**Programming counters** (the int64 ``counts`` buffer on the scores' device, updated without
host sync): ``initial_resets`` = pairs pruned by the first mask (all
pairs start formed, i.e. kept), then at every mask change ``set_count += #(pruned -> kept)`` and
``reset_count += #(kept -> pruned)``. Read them with
:func:`rrampaper.topology.programming_counts` at the end of an epoch (one host copy).

**Reads** (hardware mode). A read is the same device read again: the device samples its array
once (device-to-device spread) and adds cycle-to-cycle noise per read index, deterministically.
Each forward asks for one read index, chosen by the policy of the current mode
(``train_reads`` in ``train()`` mode, ``eval_reads`` in ``eval()`` mode):

- ``"advance"``: use the mode's counter (``train_read`` / ``eval_read``) and add one, so each
  training batch (or each evaluation batch) sees a fresh read; the official test loops advance
  one read per test batch. Call :func:`rrampaper.topology.restart_eval_reads` before each
  evaluation so that every evaluation sees the same sequence of reads;
- ``"fixed"``: use the counter without advancing it (the same read every time; the official
  training used read 0 throughout);
- ``"noiseless"``: index ``None``, the device's array without read noise.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rrampaper._checks import check_range
from rrampaper.topology.limit_size import LimitSizeSchedule, apply_limit_size
from rrampaper.topology.mask import kept_count, topk_mask
from rrampaper.topology.reads import ReadSequence
from rrampaper.topology.weights import WeightArray

"""How a forward picks its read index; see :mod:`rrampaper.topology.masked_weight`."""


class _MaskedWeightFn(torch.autograd.Function):
    """``w = (off + M ⊙ (on - off)) * inv_scale``, ``∂L/∂S = sign(S) ⊙ g ⊙ (on - off) * inv_scale``.

    ``mask`` holds 0./1. in the weights' dtype (arithmetic is ~10x faster than ``torch.where``
    on CPU); ``off=None`` stands for an exact zero (software pruning).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        scores: Tensor,
        mask: Tensor,
        on: Tensor,
        off: Tensor | None,
        inv_scale: float,
    ) -> Tensor:
        if off is None:
            delta = on
            weight = on * mask
        else:
            delta = on - off
            weight = torch.addcmul(off, mask, delta)
        if inv_scale != 1.0:
            weight.mul_(inv_scale)
        ctx.inv_scale = inv_scale
        ctx.save_for_backward(scores, delta)
        return weight

    @staticmethod
    def backward(ctx: Any, grad_weight: Tensor) -> tuple[Tensor | None, None, None, None, None]:  # type: ignore[override]
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None
        scores, delta = ctx.saved_tensors
        grad_mask = grad_weight * delta
        if ctx.inv_scale != 1.0:
            grad_mask.mul_(ctx.inv_scale)
        return grad_mask.mul_(scores.sign()), None, None, None, None


class MaskedWeight(ReadSequence, nn.Module):
    """A fixed weight tensor (software or device), trainable scores and an exact top-k mask.

    Parameters
    ----------
    scores:
        Initial scores, the weight tensor's shape; becomes the trainable ``scores`` parameter.
    keep_ratio:
        Fraction of weights kept, in (0, 1]; ``ceil(keep_ratio * numel)`` are kept.
    weight:
        Software mode: the fixed weights (stored as the ``weight`` buffer).
    array:
        Hardware mode: a :class:`~rrampaper.topology.weights.WeightArray` read every forward.
    inv_scale:
        Hardware mode: ``1 / scale = std / kept_scale`` (weight units per siemens).
    limit_size:
        Schedule of the limit-size threshold, or ``None`` for plain top-k masks.
    train_reads, eval_reads:
        Read policies in training and evaluation mode (``"advance"``, ``"fixed"``,
        ``"noiseless"``); hardware mode only.

    Exactly one of ``weight`` and ``array`` is given. Call the module (no argument) to get the
    effective weight of this forward.
    """

    def __init__(
        self,
        scores: Tensor,
        *,
        keep_ratio: float,
        weight: Tensor | None = None,
        array: WeightArray | None = None,
        inv_scale: float = 1.0,
        limit_size: LimitSizeSchedule | None = None,
        train_reads: str = "advance",
        eval_reads: str = "advance",
    ) -> None:
        super().__init__()
        if (weight is None) == (array is None):
            raise ValueError("give exactly one of weight (software) and array (hardware)")
        if weight is not None and weight.shape != scores.shape:
            raise ValueError(f"weight shape {tuple(weight.shape)} != scores {tuple(scores.shape)}")
        self.keep_ratio = float(check_range("keep_ratio", keep_ratio, 0.0, 1.0, low_open=True))
        self.n_kept = kept_count(scores.numel(), keep_ratio)
        self.scores = nn.Parameter(scores.detach().clone())
        self.register_buffer("weight", None if weight is None else weight.detach().clone())
        self.array = array
        self.inv_scale = float(check_range("inv_scale", inv_scale, 0.0, low_open=True))
        self.limit_size = limit_size
        self.init_reads(train_reads, eval_reads)
        device = scores.device
        # 0./1. in the scores' dtype: the forward multiplies by it.
        self.register_buffer("mask", torch.ones_like(self.scores.detach()))
        self.register_buffer("score_ref", torch.zeros_like(self.scores.detach()))
        # [SETs, RESETs, initial RESETs]; int64 so that model.half() & co. leave them exact
        self.register_buffer("counts", torch.zeros(3, dtype=torch.int64, device=device))
        self._kept_old: Tensor | int | None = None  # kept pairs of the current mask
        self.has_mask = False
        self.mask_updates = 0
        self._key: tuple[int, int] | None = None

    # ------------------------------------------------------------------ properties
    @property
    def hardware(self) -> bool:
        """Whether the weights come from a device."""
        return self.array is not None

    @property
    def shape(self) -> torch.Size:
        """Shape of the weight tensor."""
        return self.scores.shape

    def density(self) -> Tensor:
        """Realized kept fraction of the current mask (0-d tensor; no host sync)."""
        return self.current_mask().mean()

    # ------------------------------------------------------------------ the mask
    def _cache_key(self) -> tuple[int, int]:
        return (self.scores._version, self.scores.data_ptr())

    def invalidate(self) -> None:
        """Force the next forward to recompute the mask (e.g. after ``scores.data = ...``)."""
        self._key = None
        self._kept_old = None

    @torch.no_grad()
    def current_mask(self) -> Tensor:
        """The mask (0./1. in the scores' dtype) for the current scores; recomputed only if
        the scores changed since the last call."""
        key = self._cache_key()
        if key == self._key:
            return self.mask
        if self._key is not None and key[1] != self._key[1]:  # new storage (e.g. moved device)
            self._kept_old = None
        magnitude = self.scores.detach().abs()
        new = topk_mask(magnitude, self.n_kept, dtype=magnitude.dtype)
        if self.has_mask:
            old = self.mask
            if self.limit_size is not None:
                new = apply_limit_size(new, old, magnitude, self.score_ref, self.limit_size.value)
            self._count_flips(new, old)
        else:
            self.counts[2] += new.numel() - self.n_kept
            self._kept_old = self.n_kept
        self._buffers["mask"] = new  # plain dict writes: nn.Module.__setattr__ costs ~2 us
        self._buffers["score_ref"] = magnitude
        self.has_mask = True
        self.mask_updates += 1
        self._key = key
        return new

    def _count_flips(self, new: Tensor, old: Tensor) -> None:
        """Add the SETs and RESETs that turn mask ``old`` into ``new`` (no host sync).

        With ``both`` = pairs kept in both masks: SETs = kept(new) - both and RESETs =
        kept(old) - both; a dot product and a sum, far cheaper than elementwise comparisons.
        Without the limit-size rule both masks keep exactly ``n_kept``, so SETs = RESETs.
        """
        wide = new.numel() >= 2**24  # float32 sums of 0/1 are exact below 2**24
        flat_new = new.reshape(-1).double() if wide else new.reshape(-1)
        flat_old = old.reshape(-1).double() if wide else old.reshape(-1)
        both = torch.dot(flat_new, flat_old)
        if self.limit_size is None and self._kept_old is not None:
            self.counts[:2] += (self.n_kept - both).long()  # exact: integers in float
            return
        kept_new = flat_new.sum()
        kept_old = flat_old.sum() if self._kept_old is None else self._kept_old
        self.counts[0] += (kept_new - both).long()
        self.counts[1] += (kept_old - both).long()
        self._kept_old = kept_new

    @property
    def set_count(self) -> Tensor:
        """SETs (pruned -> kept) counted since the last :meth:`reset_counts` (0-d tensor)."""
        return self.counts[0]

    @property
    def reset_count(self) -> Tensor:
        """RESETs (kept -> pruned) counted since the last :meth:`reset_counts` (0-d tensor)."""
        return self.counts[1]

    @property
    def initial_resets(self) -> Tensor:
        """RESETs of the first mask, which prunes pairs that all start formed (0-d tensor)."""
        return self.counts[2]

    # ------------------------------------------------------------------ reads and forward

    def forward(self) -> Tensor:
        """Effective weight of this forward (the weight tensor's shape); see the module docs."""
        mask = self.current_mask()
        if self.array is None:
            return _MaskedWeightFn.apply(self.scores, mask, self.weight, None, 1.0)
        kept, pruned = self.array.read(
            self.next_read_index(), device=self.scores.device, dtype=self.scores.dtype
        )
        return _MaskedWeightFn.apply(self.scores, mask, kept, pruned, self.inv_scale)

    @torch.no_grad()
    def effective_weight(self, read_index: int | None = None) -> Tensor:
        """Effective weight for read ``read_index`` (hardware), without autograd or advancing."""
        mask = self.current_mask()
        if self.array is None:
            return self.weight * mask
        kept, pruned = self.array.read(
            read_index, device=self.scores.device, dtype=self.scores.dtype
        )
        return torch.addcmul(pruned, mask, kept - pruned).mul_(self.inv_scale)

    # ------------------------------------------------------------------ bookkeeping
    def reset_counts(self) -> None:
        """Zero the SET/RESET counters (``initial_resets`` is kept)."""
        self.counts[:2] = 0


    def get_extra_state(self) -> dict[str, Any]:
        """Python state that a checkpoint must keep: read counters and whether a mask exists."""
        return {**self.read_state(), "has_mask": self.has_mask}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_extra_state`; the mask is revalidated at the next forward."""
        self.load_read_state(state)
        self.has_mask = bool(state["has_mask"])
        self.invalidate()

    def extra_repr(self) -> str:
        mode = "hardware" if self.hardware else "software"
        text = f"shape={tuple(self.shape)}, keep_ratio={self.keep_ratio:g}, kept={self.n_kept}"
        text += f", {mode}"
        if self.hardware:
            text += f", train_reads={self.train_reads!r}, eval_reads={self.eval_reads!r}"
        if self.limit_size is not None:
            text += f", limit_size={self.limit_size.value:g}"
        return text
