"""Edge-pruning topology optimization (TO): train which random weights to keep, never the weights.

The paper (Li, Wang et al., Nature Communications 2026; arXiv 2311.07164) keeps the weights of a
network fixed at random values, software draws or the conductances of an electroformed
resistive-memory chip, and learns one score per weight; the forward pass uses the weights with
the largest score magnitudes (an exact per-layer top-k, ``keep_ratio`` of them) and the gradient
reaches the scores straight through the top-k (edge-popup, Ramanujan et al., CVPR 2020).

Example
-------
>>> import torch
>>> from torch import nn
>>> from rrampaper.topology import make_prunable, programming_counts
>>> net = make_prunable(
...     nn.Sequential(nn.Linear(20, 10, bias=False), nn.ReLU(), nn.Linear(10, 2, bias=False)),
...     weights="signed_constant", keep_ratio=0.3, seed=1)
>>> optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)  # scores only
>>> loss = net(torch.randn(8, 20)).square().mean()
>>> loss.backward(); optimizer.step()
>>> programming_counts(net)["0.weight"]["initial_resets"]  # 200 - ceil(0.3 * 200) pruned
140

Modules: :mod:`~rrampaper.topology.mask` (exact top-k), :mod:`~.weights` (initializers, device
protocol), :mod:`~.masked_weight` (scores, mask cache, straight-through gradient, hardware reads,
SET/RESET counters), :mod:`~.limit_size` (the hardware rule and its schedule), :mod:`~.layers`
and :mod:`~.rnn` (prunable layers), :mod:`~.convert` (``make_prunable`` and model-level helpers).
"""

from rrampaper.topology.convert import (
    PRUNABLE_LAYERS,
    invalidate_masks,
    make_prunable,
    masked_weights,
    masks,
    programming_counts,
    realized_density,
    reset_programming_counts,
    restart_eval_reads,
    set_read_policy,
)
from rrampaper.topology.layers import PrunableConv2d, PrunableLinear
from rrampaper.topology.limit_size import LimitSizeSchedule, apply_limit_size
from rrampaper.topology.mask import kept_count, topk_mask
from rrampaper.topology.masked_weight import MaskedWeight
from rrampaper.topology.reads import READ_POLICIES, begin_evaluation
from rrampaper.topology.rnn import PrunableRNN, relu_rnn_steps
from rrampaper.topology.weights import (
    RELU_GAIN,
    SOFTWARE_INITIALIZERS,
    WeightArray,
    WeightDevice,
    fan_in,
    kaiming_normal,
    signed_constant,
    signed_kaiming_std,
)

__all__ = [
    "PRUNABLE_LAYERS",
    "READ_POLICIES",
    "RELU_GAIN",
    "SOFTWARE_INITIALIZERS",
    "LimitSizeSchedule",
    "MaskedWeight",
    "PrunableConv2d",
    "PrunableLinear",
    "PrunableRNN",
    "WeightArray",
    "WeightDevice",
    "apply_limit_size",
    "begin_evaluation",
    "fan_in",
    "invalidate_masks",
    "kaiming_normal",
    "kept_count",
    "make_prunable",
    "masked_weights",
    "masks",
    "programming_counts",
    "realized_density",
    "relu_rnn_steps",
    "reset_programming_counts",
    "restart_eval_reads",
    "set_read_policy",
    "signed_constant",
    "signed_kaiming_std",
    "topk_mask",
]
