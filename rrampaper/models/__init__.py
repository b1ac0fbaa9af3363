"""The paper's networks as plain PyTorch modules (no device code inside).

- :class:`FashionCNN`: Fashion-MNIST CNN, 62,272 weights, 4-bit activations
  (docs/paper.md#fashion-mnist).
- :class:`SpokenDigitCRNN`: spoken-digit CRNN, 68,480 weights, 3-bit activations and hidden
  state (docs/paper.md#spoken-digit), with :class:`QuantizedRNN`, an ``nn.RNN`` that quantizes
  its hidden state between steps.

Every model is dense and trainable as built (the weight-optimization baseline); topology
optimization converts it with :func:`rrampaper.topology.make_prunable`. Activations are
quantized by :class:`rrampaper.models.quant.ActivationQuantizer` (``activation_bits=None``: ideal).
"""

from torch import nn

from rrampaper.models.crnn import CRNN_SHAPES, SPOKEN_BITS, QuantizedRNN, SpokenDigitCRNN
from rrampaper.models.fashion_cnn import FASHION_BITS, FASHION_CNN_SHAPES, FashionCNN
from rrampaper.topology import masked_weights

__all__ = [
    "CRNN_SHAPES",
    "FASHION_BITS",
    "FASHION_CNN_SHAPES",
    "SPOKEN_BITS",
    "FashionCNN",
    "QuantizedRNN",
    "SpokenDigitCRNN",
    "layer_weight_counts",
    "weight_count",
]


def layer_weight_counts(model: nn.Module) -> list[int]:
    """Weights of each tensor :func:`weight_count` counts (one entry per ``weight*`` tensor of
    ``nn.Linear``/``nn.Conv2d``/``nn.RNN`` modules, or per score tensor of a prunable model), in
    module order; their sum is :func:`weight_count`."""
    sizes = [m.scores.numel() for _, m in masked_weights(model)]
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv2d):
            sizes.append(module.weight.numel())
        elif isinstance(module, nn.RNN):
            sizes += [p.numel() for n, p in module.named_parameters() if n.startswith("weight")]
    return sizes


def weight_count(model: nn.Module) -> int:
    """Number of weights of the layers topology optimization prunes (Linear, Conv2d, RNN).

    Counts ``weight*`` tensors of ``nn.Linear``/``nn.Conv2d``/``nn.RNN`` modules, or the scores
    of an already prunable model; biases and normalization parameters are not weights here.
    """
    total = sum(m.scores.numel() for _, m in masked_weights(model))
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv2d):
            total += module.weight.numel()
        elif isinstance(module, nn.RNN):
            total += sum(p.numel() for n, p in module.named_parameters() if n.startswith("weight"))
    return total
