"""Step-by-step ReLU RNN with an optional hidden-state quantizer, dense or prunable.

The paper's spoken-digit CRNN (docs/paper.md#spoken-digit) runs a single-layer ReLU RNN without
bias step by step and quantizes the hidden state between steps (the ADC/DAC between chip reads);
the states it returns (averaged by the CRNN) are the unquantized ones, as in the official code::

    p_t = W_ih x_t (+ b_ih + b_hh)          all T steps in one matmul
    h_t = relu(p_t + W_hh q(h_{t-1}))       q = hidden quantizer (identity if None), h_0 = 0
    output = [h_1, ..., h_T],  h_n = h_T

:func:`relu_rnn_steps` is that loop; :class:`PrunableRNN` runs it with masked weights, computing
each mask (and, in hardware mode, each device read) once per sequence, not once per step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rrampaper.topology.masked_weight import MaskedWeight


def relu_rnn_steps(
    projected: Tensor,
    weight_hh: Tensor,
    h0: Tensor | None = None,
    hidden_quantizer: Callable[[Tensor], Tensor] | None = None,
    readout: Callable[[Tensor], Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """Run ``h_t = relu(projected[t] + q(h_{t-1}) @ weight_hh.T)`` over the time axis.

    Parameters
    ----------
    projected:
        ``[T, B, H]`` input projections ``x_t @ W_ih.T`` plus any biases.
    weight_hh:
        ``[H, H]`` recurrent weights.
    h0:
        ``[B, H]`` initial state (zeros if ``None``); it is used as given (not quantized).
    hidden_quantizer:
        Applied to the state passed from one step to the next; ``None`` is identity.
    readout:
        Applied to every recurrent product ``q(h_{t-1}) @ weight_hh.T`` (an output ADC of the
        analog matrix-vector product; ``None``: ideal read-out). The input projection is the
        caller's to read out.

    Returns
    -------
    ``(output, h_n)``: ``[T, B, H]`` unquantized states and ``[B, H]`` the last one.
    """
    steps = projected.shape[0]
    if steps == 0:
        raise ValueError("the input sequence is empty (0 time steps)")
    recurrent = weight_hh.t()
    first = projected[0]

    def step(base: Tensor, state: Tensor) -> Tensor:
        if readout is None:
            return torch.addmm(base, state, recurrent).relu_()
        return (base + readout(state @ recurrent)).relu_()

    h = torch.relu(first) if h0 is None else step(first, h0)
    states = [h]
    for t in range(1, steps):
        carried = h if hidden_quantizer is None else hidden_quantizer(h)
        h = step(projected[t], carried)
        states.append(h)
    return torch.stack(states), h


class PrunableRNN(nn.Module):
    #: An output ADC of the device may be set as ``mvm_readout`` (applied to the input
    #: projection and every recurrent product; see ``rrampaper.devices.readout``).
    accepts_mvm_readout = True

    """Prunable single-layer ReLU RNN, step by step, with the ``nn.RNN`` call signature.

    Parameters
    ----------
    masked_ih, masked_hh:
        Masked weights ``[H, I]`` and ``[H, H]`` (the original ``weight_ih_l0``/``weight_hh_l0``).
    bias_ih, bias_hh:
        Frozen biases ``[H]`` or ``None``.
    batch_first:
        Input and output are ``[B, T, *]`` instead of ``[T, B, *]``.
    hidden_quantizer:
        Module applied to the hidden state between steps (``None``: none); taken over from the
        converted RNN's ``hidden_quantizer`` attribute if it has one.
    """

    def __init__(
        self,
        masked_ih: MaskedWeight,
        masked_hh: MaskedWeight,
        *,
        bias_ih: Tensor | None = None,
        bias_hh: Tensor | None = None,
        batch_first: bool = False,
        hidden_quantizer: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.hidden_size, self.input_size = masked_ih.shape
        if tuple(masked_hh.shape) != (self.hidden_size, self.hidden_size):
            raise ValueError(
                f"weight_hh shape {tuple(masked_hh.shape)} != ({self.hidden_size},) * 2"
            )
        self.masked_ih = masked_ih
        self.masked_hh = masked_hh
        bias = None
        if bias_ih is not None or bias_hh is not None:
            bias = sum(b.detach() for b in (bias_ih, bias_hh) if b is not None).clone()
        self.register_buffer("bias", bias)
        self.batch_first = batch_first
        self.hidden_quantizer = hidden_quantizer
        self.mvm_readout: nn.Module | None = None

    def forward(self, x: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Like ``nn.RNN``: ``x`` ``[T, B, I]`` (``[B, T, I]`` if batch_first, or unbatched
        ``[T, I]``), ``hx`` ``[1, B, H]`` (``[1, H]`` unbatched); returns ``(output, h_n)`` with
        ``output`` ``[T, B, H]`` (or batch-first / unbatched) and ``h_n`` ``[1, B, H]``."""
        batched = x.dim() == 3
        if not batched:
            x = x.unsqueeze(1)  # [T, 1, I]
            hx = None if hx is None else hx.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        weight_ih = self.masked_ih()  # one mask (and read) per sequence, not per step
        weight_hh = self.masked_hh()
        if self.mvm_readout is None:
            projected = F.linear(x, weight_ih, self.bias)  # all time steps in one matmul
        else:  # the ADC reads the analog product; biases are added digitally after it
            projected = self.mvm_readout(F.linear(x, weight_ih))
            if self.bias is not None:
                projected = projected + self.bias
        h0 = None if hx is None else hx[0]
        output, h_n = relu_rnn_steps(projected, weight_hh, h0, self.hidden_quantizer,
                                     self.mvm_readout)
        if not batched:
            return output.squeeze(1), h_n
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n.unsqueeze(0)

    def masked_weights(self) -> dict[str, MaskedWeight]:
        """The original ``nn.RNN`` parameter name of each masked tensor."""
        return {"weight_ih_l0": self.masked_ih, "weight_hh_l0": self.masked_hh}

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, nonlinearity='relu', "
            f"bias={self.bias is not None}, batch_first={self.batch_first}"
        )
