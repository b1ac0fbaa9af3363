"""The paper's spoken-digit CRNN (docs/paper.md#spoken-digit; ``Spoken_digit_hardware_TO.py``).

::

    input [B, 23, 20] (or [B, 1, 23, 20]), values in [0, 1] -> quantize
    conv1 1->64, kernel (3, 2), stride (2, 1), no bias  [64, 1, 3, 2]  -> [B, 64, 11, 19]
          -> MaxPool2 -> [B, 64, 5, 9] -> BN (non-affine) -> ReLU -> quantize
    conv2 64->32, kernel (3, 2), stride (2, 1), no bias [32, 64, 3, 2] -> [B, 32, 2, 8]
          -> MaxPool2 -> [B, 32, 1, 4] -> BN (non-affine) -> ReLU -> quantize
          -> sequence of 4 steps x 32 features
    ReLU RNN, hidden 128, no bias [128, 32] + [128, 128], step by step, hidden state quantized
          between steps -> mean of the 4 (unquantized) hidden states [B, 128] -> quantize
    fc1 [256, 128] -> ReLU -> quantize -> fc2 [10, 256] -> log_softmax

Weights 384 + 12,288 + 4,096 + 16,384 + 32,768 + 2,560 = 68,480. The ReLU after the second BN
is the hardware script's (the software script has none: ``relu_after_conv2=False``); the
software script's non-uniform quantile quantizer is not reproduced: every quantizer here is the
uniform one of the hardware script (:mod:`rrampaper.models.quant`), after-ReLU grid for ReLU outputs
and the hidden state, the shifted ``[min, max]`` grid for the input and the averaged state.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from rrampaper.models.quant import ActivationQuantizer
from rrampaper.topology.rnn import relu_rnn_steps

#: Bits of the paper's spoken-digit activations (docs/paper.md#quantization).
SPOKEN_BITS = 3

#: Per-layer weight shapes, in module order.
CRNN_SHAPES: dict[str, tuple[int, ...]] = {
    "conv1.weight": (64, 1, 3, 2),
    "conv2.weight": (32, 64, 3, 2),
    "rnn.weight_ih_l0": (128, 32),
    "rnn.weight_hh_l0": (128, 128),
    "fc1.weight": (256, 128),
    "fc2.weight": (10, 256),
}


class QuantizedRNN(nn.RNN):
    """Single-layer ReLU ``nn.RNN`` whose hidden state is quantized between steps.

    With ``hidden_quantizer`` ``None`` (or a quantizer with ``bits=None``) it is exactly
    ``nn.RNN``; otherwise it runs step by step (:func:`rrampaper.topology.rnn.relu_rnn_steps`).
    :func:`rrampaper.topology.make_prunable` converts it like any ``nn.RNN`` and keeps its
    ``hidden_quantizer``.

    Parameters
    ----------
    input_size, hidden_size:
        Feature sizes ``I`` and ``H``.
    hidden_quantizer:
        Module applied to the state carried from one step to the next.
    bias, batch_first:
        As in ``nn.RNN``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        hidden_quantizer: nn.Module | None = None,
        bias: bool = False,
        batch_first: bool = False,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers=1,
            nonlinearity="relu",
            bias=bias,
            batch_first=batch_first,
        )
        self.hidden_quantizer = hidden_quantizer
        self.mvm_readout: nn.Module | None = None

    #: An output ADC of the device may be set as ``mvm_readout`` (applied to the input
    #: projection and every recurrent product; see ``rrampaper.devices.readout``).
    accepts_mvm_readout = True

    def forward(self, x: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        """As ``nn.RNN.forward`` for batched input ``[T, B, I]`` (``[B, T, I]`` if batch_first)."""
        quantizer = self.hidden_quantizer
        readout = self.mvm_readout
        if readout is None and (quantizer is None or getattr(quantizer, "bits", 0) is None):
            return super().forward(x, hx)
        if x.dim() != 3:
            raise ValueError(
                f"QuantizedRNN needs batched input [T, B, I], got shape {tuple(x.shape)}"
            )
        if self.batch_first:
            x = x.transpose(0, 1)
        if quantizer is not None and getattr(quantizer, "bits", 0) is None:
            quantizer = None
        bias = self.bias_ih_l0 + self.bias_hh_l0 if self.bias else None
        if readout is None:
            projected = F.linear(x, self.weight_ih_l0, bias)
        else:  # the ADC reads the analog product; biases are added digitally after it
            projected = readout(F.linear(x, self.weight_ih_l0))
            if bias is not None:
                projected = projected + bias
        output, h_n = relu_rnn_steps(
            projected, self.weight_hh_l0, None if hx is None else hx[0], quantizer, readout
        )
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n.unsqueeze(0)


class SpokenDigitCRNN(nn.Module):
    """The spoken-digit CRNN of the paper: ``[B, 23, 20]`` features -> ``[B, 10]`` log-probs.

    Parameters
    ----------
    activation_bits:
        Bits of every quantizer including the hidden state (the paper: 3); ``None`` is ideal.
    range_mode:
        Quantizer range, ``"sample"`` (default) or ``"batch"`` (the paper's); see
        :mod:`rrampaper.models.quant`.
    relu_after_conv2:
        ReLU after the second BN (the official hardware script: ``True``; software: ``False``).
    """

    def __init__(
        self,
        activation_bits: int | None = SPOKEN_BITS,
        range_mode: str = "sample",
        relu_after_conv2: bool = True,
    ) -> None:
        super().__init__()

        def quantizer(after_relu: bool) -> ActivationQuantizer:
            return ActivationQuantizer(
                activation_bits, after_relu=after_relu, range_mode=range_mode
            )

        self.relu_after_conv2 = relu_after_conv2
        self.q_input = quantizer(after_relu=False)
        self.conv1 = nn.Conv2d(1, 64, (3, 2), stride=(2, 1), bias=False)
        self.bn1 = nn.BatchNorm2d(64, affine=False)
        self.q1 = quantizer(after_relu=True)
        self.conv2 = nn.Conv2d(64, 32, (3, 2), stride=(2, 1), bias=False)
        self.bn2 = nn.BatchNorm2d(32, affine=False)
        self.q2 = quantizer(after_relu=relu_after_conv2)
        self.rnn = QuantizedRNN(
            32, 128, hidden_quantizer=quantizer(after_relu=True), batch_first=True
        )
        self.q_mean = quantizer(after_relu=False)
        self.fc1 = nn.Linear(128, 256, bias=False)
        self.q3 = quantizer(after_relu=True)
        self.fc2 = nn.Linear(256, 10, bias=False)

    def features(self, x: Tensor) -> Tensor:
        """The convolutional front end: ``[B, 23, 20]`` -> sequence ``[B, 4, 32]``."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = self.q_input(x)
        x = self.q1(F.relu(self.bn1(F.max_pool2d(self.conv1(x), 2))))
        x = self.bn2(F.max_pool2d(self.conv2(x), 2))
        if self.relu_after_conv2:
            x = F.relu(x)
        x = self.q2(x.squeeze(2))  # [B, 32, 4]
        return x.transpose(1, 2)  # [B, 4 steps, 32 features]

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``[B, 23, 20]`` or ``[B, 1, 23, 20]`` -> ``[B, 10]`` log-probabilities."""
        states, _ = self.rnn(self.features(x))  # [B, 4, 128]
        x = self.q_mean(states.mean(dim=1))
        x = self.q3(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)
