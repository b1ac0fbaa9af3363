"""Topology optimization: exact top-k, straight-through gradients, limit size, counters,
make_prunable on unseen models, the prunable RNN, hardware reads, caching, determinism."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gaussian_chip import GaussianChip
from torch import nn

from rrampaper import topology
from rrampaper.models.quant import ActivationQuantizer
from rrampaper.topology import (
    LimitSizeSchedule,
    MaskedWeight,
    PrunableConv2d,
    PrunableLinear,
    PrunableRNN,
    kept_count,
    limit_size,
    make_prunable,
    masked_weights,
    masks,
    programming_counts,
    realized_density,
    relu_rnn_steps,
    reset_programming_counts,
    restart_eval_reads,
    set_read_policy,
    topk_mask,
    weights,
)


def reference_topk(values: np.ndarray, k: int) -> np.ndarray:
    """Keep the k largest; ties go to the lowest index (a stable sort on -value)."""
    order = np.argsort(-values, kind="stable")
    keep = np.zeros(values.size, dtype=bool)
    keep[order[:k]] = True
    return keep


def sgd_steps(model: nn.Module, inputs: torch.Tensor, steps: int, lr: float = 0.5) -> list[dict]:
    """Train on a fixed random regression target; return the masks after each step's forward."""
    gen = torch.Generator().manual_seed(123)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = []
    for _ in range(steps):
        out = model(inputs)
        target = torch.randn(out.shape, generator=gen)
        history.append(masks(model))
        optimizer.zero_grad()
        F.mse_loss(out, target).backward()
        optimizer.step()
    return history


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(10, 20)
        self.fc2 = nn.Linear(20, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class BasicBlock(nn.Module):
    """A ResNet basic block with a projection shortcut (never seen by make_prunable before)."""

    def __init__(self, cin: int = 3, cout: int = 6) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride=2, bias=False), nn.BatchNorm2d(cout)
        )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


# --------------------------------------------------------------------------- exact top-k
def test_kept_count_is_the_ceiling_without_floating_point_surprises():
    assert kept_count(10, 0.3) == 3  # 0.3 * 10 = 3.0000000000000004 in binary
    assert kept_count(9, 0.5) == 5
    assert kept_count(7, 1.0) == 7
    assert kept_count(3, 1e-6) == 1
    assert kept_count(1280, 0.3) == 384
    assert kept_count(576, 0.3) == 173  # 172.8
    with pytest.raises(ValueError, match="keep_ratio=0"):
        kept_count(10, 0)
    with pytest.raises(ValueError, match="keep_ratio=1.5"):
        kept_count(10, 1.5)


@pytest.mark.parametrize("n", [7, 1000, 40_000])
@pytest.mark.parametrize("ratio", [0.5, 0.3])
def test_topk_mask_is_exact_and_breaks_ties_by_index(n, ratio):
    gen = torch.Generator().manual_seed(n)
    distinct = torch.rand(n, generator=gen)
    tied = torch.randint(0, 5, (n,), generator=gen).float()  # massive ties
    k = kept_count(n, ratio)
    for values in (distinct, tied, tied.double()):
        expected = reference_topk(values.numpy(), k)
        for dtype in (torch.bool, torch.float32):
            got = topk_mask(values.reshape(1, -1), k, dtype=dtype)
            assert got.dtype == dtype and got.shape == (1, n)
            assert np.array_equal(got.reshape(-1).bool().numpy(), expected)


def test_topk_mask_torch_kthvalue_path_matches_the_numpy_path():
    gen = torch.Generator().manual_seed(5)
    values = torch.randint(0, 7, (3000,), generator=gen).to(torch.bfloat16)  # not a NumPy dtype
    got = topk_mask(values, 1200)
    assert np.array_equal(got.numpy(), reference_topk(values.float().numpy(), 1200))
    with pytest.raises(ValueError, match="k=0"):
        topk_mask(values, 0)
    assert topk_mask(values, 3000).all()


@pytest.mark.parametrize("ratio", [0.5, 0.3])
def test_every_layer_keeps_exactly_ceil_ratio_times_numel(ratio):
    from rrampaper.models import FashionCNN, SpokenDigitCRNN

    for model, x in (
        (FashionCNN(), torch.randn(4, 1, 28, 28)),
        (SpokenDigitCRNN(), torch.rand(4, 23, 20)),
    ):
        model = make_prunable(model, keep_ratio=ratio, seed=0)
        sgd_steps(model, x, steps=3)
        for name, m in masks(model).items():
            assert int(m.sum()) == math.ceil(round(ratio * m.numel(), 6)), name
        assert all(abs(d - ratio) < 0.01 for d in realized_density(model).values())


# --------------------------------------------------------------------------- gradients
def test_straight_through_gradient_software_equals_the_analytic_value():
    gen = torch.Generator().manual_seed(0)
    layer = make_prunable(nn.Linear(4, 3, bias=False), keep_ratio=0.5, seed=1)
    x = torch.randn(5, 4, generator=gen)
    c = torch.randn(5, 3, generator=gen)
    (layer(x) * c).sum().backward()
    masked = layer.masked
    grad_w = c.T @ x  # dL/dw_eff for L = sum(c * x @ w_eff.T)
    expected = masked.scores.detach().sign() * grad_w * masked.weight
    torch.testing.assert_close(masked.scores.grad, expected)
    assert (masked.scores.grad[masked.mask == 0] != 0).all()  # pruned weights get gradient too
    # ... and the same as autograd through a straight-through mask M + |S| - |S|.detach()
    scores = masked.scores.detach().clone().requires_grad_(True)
    ste = masked.mask + scores.abs() - scores.abs().detach()
    (F.linear(x, masked.weight * ste) * c).sum().backward()
    torch.testing.assert_close(masked.scores.grad, scores.grad)


def test_straight_through_gradient_hardware_goes_through_kept_minus_pruned():
    gen = torch.Generator().manual_seed(0)
    chip = GaussianChip(seed=3)
    layer = make_prunable(nn.Linear(4, 3, bias=False), chip, keep_ratio=0.5, seed=1)
    x = torch.randn(5, 4, generator=gen)
    c = torch.randn(5, 3, generator=gen)
    (layer(x) * c).sum().backward()
    masked, array = layer.masked, chip.allocations[0]
    kept, pruned = array.read(0)  # the read the training forward used
    std = math.sqrt(2) / math.sqrt(0.5 * 4)
    assert masked.inv_scale == pytest.approx(std / array.kept_scale)
    expected = masked.scores.detach().sign() * (c.T @ x) * (kept - pruned) * masked.inv_scale
    torch.testing.assert_close(masked.scores.grad, expected)


# --------------------------------------------------------------------------- limit size
def test_limit_size_schedule_decrements_and_clamps_at_stop():
    schedule = LimitSizeSchedule(0.01, 0.007, 15)
    values = [schedule.value] + [schedule.step() for _ in range(20)]
    assert values[0] == 0.01
    assert values[1] == pytest.approx(0.0098)
    assert values[7] == pytest.approx(0.0086)
    assert values[15] == 0.007 and values[20] == 0.007  # the official code would reach 0.006
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    state = schedule.state_dict()
    restored = LimitSizeSchedule(1.0, 0.0, 2)
    restored.load_state_dict(state)
    assert restored.value == 0.007 and restored.taken == 20
    assert LimitSizeSchedule.constant(0.001).step() == 0.001
    with pytest.raises(ValueError, match="stop=0.02"):
        LimitSizeSchedule(0.01, 0.02, 5)
    with pytest.raises(ValueError, match="steps=0"):
        LimitSizeSchedule(0.01, 0.007, 0)


def set_scores(masked: MaskedWeight, values) -> torch.Tensor:
    with torch.no_grad():
        masked.scores.copy_(torch.tensor(values))
    return masked.current_mask().clone()


def test_limit_size_rule_on_a_hand_made_score_sequence():
    schedule = LimitSizeSchedule(0.1, 0.05, 1)
    masked = MaskedWeight(
        torch.zeros(1, 4), keep_ratio=0.5, weight=torch.ones(1, 4), limit_size=schedule
    )
    # First mask: plain top-2, no rule.
    assert set_scores(masked, [[0.1, 0.2, 0.3, 0.4]]).tolist() == [[0, 0, 1, 1]]
    # top-2 is now {0, 3}. Entry 0 moved by 350 % -> SET; entry 2 did not move -> held kept;
    # entry 3 moved by 2.5 % < 10 % -> held (kept either way). Density drifts to 3/4.
    assert set_scores(masked, [[0.45, 0.2, 0.3, 0.41]]).tolist() == [[1, 0, 1, 1]]
    assert float(masked.density()) == 0.75
    # top-2 is {0, 3}. Entry 2 drops by 67 % -> RESET; entry 3 moves by 49 % and stays kept.
    assert set_scores(masked, [[0.45, 0.2, 0.1, 0.21]]).tolist() == [[1, 0, 0, 1]]
    # top-2 is {0, 1}, but entry 1 rose by only 7.5 % and entry 3 fell by only 4.8 %: held.
    assert set_scores(masked, [[0.45, 0.215, 0.1, 0.2]]).tolist() == [[1, 0, 0, 1]]
    schedule.step()  # threshold 0.05 now: moves of 7 % and 7.5 % (held at 0.1) swap the pair
    assert masked.limit_size.value == 0.05
    assert set_scores(masked, [[0.45, 0.23, 0.1, 0.185]]).tolist() == [[1, 1, 0, 0]]
    counts = programming_counts(nn.Sequential(PrunableLinear(masked)))
    assert counts == {"0.weight": {"set": 2, "reset": 2, "initial_resets": 2}}


def test_apply_limit_size_with_a_zero_reference_always_allows_the_change():
    new = torch.tensor([1.0, 0.0])
    old = torch.tensor([0.0, 1.0])
    out = limit_size.apply_limit_size(
        new, old, torch.tensor([0.0, 0.3]), torch.tensor([0.0, 0.0]), 0.5
    )
    assert out.tolist() == [1.0, 0.0]
    bool_out = limit_size.apply_limit_size(
        new.bool(), old.bool(), torch.ones(2), torch.ones(2), 0.5
    )
    assert bool_out.tolist() == [False, True]


# --------------------------------------------------------------------------- counters
@pytest.mark.parametrize("rule", [None, 0.05])
def test_set_reset_counts_equal_the_mask_flips_counted_by_hand(rule):
    model = make_prunable(MLP(), keep_ratio=0.3, seed=2, limit_size=rule)
    history = sgd_steps(model, torch.randn(16, 10), steps=12, lr=2.0)
    expected = {}
    for name in history[0]:
        seq = [h[name].numpy() for h in history] + [masks(model)[name].numpy()]
        sets = sum(int((~a & b).sum()) for a, b in zip(seq, seq[1:], strict=False))
        resets = sum(int((a & ~b).sum()) for a, b in zip(seq, seq[1:], strict=False))
        expected[name] = {"set": sets, "reset": resets, "initial_resets": int((~seq[0]).sum())}
    counts = programming_counts(model)
    assert counts == expected
    assert sum(c["set"] + c["reset"] for c in counts.values()) > 0  # the masks did change
    if rule is None:
        assert all(c["set"] == c["reset"] for c in counts.values())  # exact top-k: pairs swap
    reset_programming_counts(model)
    after = programming_counts(model)
    assert all(c["set"] == 0 and c["reset"] == 0 for c in after.values())
    assert all(after[n]["initial_resets"] == expected[n]["initial_resets"] for n in after)


# --------------------------------------------------------------------------- make_prunable
def trainable(model: nn.Module) -> dict[str, int]:
    return {n: p.numel() for n, p in model.named_parameters() if p.requires_grad}


def test_mlp_with_biases_keeps_them_frozen_and_computes_the_masked_layer():
    dense = MLP()
    model = make_prunable(copy.deepcopy(dense), weights="keep", keep_ratio=0.5, seed=0)
    assert isinstance(model.fc1, PrunableLinear)
    assert trainable(model) == {"fc1.masked.scores": 200, "fc2.masked.scores": 60}
    x = torch.randn(7, 10)
    w1 = dense.fc1.weight.detach() * model.fc1.masked.current_mask()
    w2 = dense.fc2.weight.detach() * model.fc2.masked.current_mask()
    expected = F.linear(torch.relu(F.linear(x, w1, dense.fc1.bias)), w2, dense.fc2.bias)
    torch.testing.assert_close(model(x), expected)


def test_resnet_basic_block_with_skip_connection():
    block = BasicBlock().eval()
    with torch.no_grad():  # non-trivial BN statistics
        for bn in (block.bn1, block.bn2, block.shortcut[1]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
    reference = copy.deepcopy(block)
    model = make_prunable(block, weights="keep", keep_ratio=0.3, seed=0)
    assert isinstance(model.shortcut[0], PrunableConv2d)
    bn_params = {f"{bn}.{p}": 6 for bn in ("bn1", "bn2", "shortcut.1") for p in ("weight", "bias")}
    expected = {
        "conv1.masked.scores": 162,
        "conv2.masked.scores": 324,
        "shortcut.0.masked.scores": 18,
    }
    assert trainable(model) == expected | bn_params
    for (_, m), conv in zip(
        masked_weights(model),
        (reference.conv1, reference.conv2, reference.shortcut[0]),
        strict=True,
    ):
        with torch.no_grad():
            conv.weight.mul_(m.current_mask())
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(model(x), reference(x))


def test_unsupported_modules_are_refused_clearly_unless_excluded():
    lstm_model = nn.Sequential(nn.Linear(3, 4), nn.LSTM(4, 5))
    with pytest.raises(ValueError, match=r"1 \(LSTM\).*exclude"):
        make_prunable(lstm_model)
    assert isinstance(lstm_model[0], nn.Linear)  # nothing was converted before the error
    model = make_prunable(lstm_model, exclude=["1"], seed=0)
    assert isinstance(model[0], PrunableLinear) and isinstance(model[1], nn.LSTM)
    with pytest.raises(ValueError, match=r"does not have: \['lstm'\]"):
        make_prunable(nn.Sequential(nn.LSTM(4, 5)), exclude=["lstm"])
    for rnn, reason in (
        (nn.RNN(3, 4), "relu"),
        (nn.RNN(3, 4, nonlinearity="relu", num_layers=2), "num_layers=1"),
        (nn.RNN(3, 4, nonlinearity="relu", bidirectional=True), "bidirectional"),
    ):
        with pytest.raises(ValueError, match=reason):
            make_prunable(nn.Sequential(rnn))
    with pytest.raises(ValueError, match="already prunable"):
        make_prunable(make_prunable(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="weights='gaussian'"):
        make_prunable(nn.Linear(2, 2), weights="gaussian")
    with pytest.raises(ValueError, match="keep_ratio=0"):
        make_prunable(nn.Linear(2, 2), keep_ratio=0)
    with pytest.raises(ValueError, match="seed or generator"):
        make_prunable(nn.Linear(2, 2), seed=1, generator=torch.Generator())


def test_root_layer_and_shared_layers():
    layer = make_prunable(nn.Conv2d(2, 4, 3), seed=0)
    assert isinstance(layer, PrunableConv2d)
    shared = nn.Linear(4, 4, bias=False)
    model = make_prunable(nn.Sequential(shared, nn.ReLU(), shared), seed=0)
    assert model[0] is model[2] and isinstance(model[0], PrunableLinear)
    assert list(trainable(model)) == ["0.masked.scores"]


def test_software_initializers_have_the_documented_statistics():
    gen = torch.Generator().manual_seed(0)
    shape = (256, 64, 3, 3)  # fan_in 576
    w = weights.kaiming_normal(shape, keep_ratio=0.5, gain=math.sqrt(2), generator=gen)
    assert float(w.std()) == pytest.approx(math.sqrt(2 / 576), rel=0.01)
    assert abs(float(w.mean())) < 0.002
    c = weights.signed_constant(shape, keep_ratio=0.3, gain=math.sqrt(2), generator=gen)
    magnitude = math.sqrt(2) / math.sqrt(0.3 * 576)
    assert torch.allclose(c.abs(), torch.full(shape, magnitude))
    assert float((c > 0).float().mean()) == pytest.approx(0.5, abs=0.01)
    model = make_prunable(nn.Conv2d(64, 256, 3), weights="signed_constant", keep_ratio=0.3, seed=0)
    scores = model.masked.scores.detach()
    bound = 1 / math.sqrt(576)  # kaiming_uniform(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert float(scores.abs().max()) <= bound
    assert float(scores.std()) == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert weights.fan_in((10, 3, 2, 2)) == 12
    with pytest.raises(ValueError, match="at least 2"):
        weights.fan_in((5,))


# --------------------------------------------------------------------------- RNN
def reference_rnn(x, w_ih, w_hh, quantize=None, bias=None):
    """Step by step, batch first: h_t = relu(W_ih x_t + b + W_hh q(h_{t-1}))."""
    h = torch.zeros(x.shape[0], w_hh.shape[0])
    states = []
    for t in range(x.shape[1]):
        carried = h if (quantize is None or t == 0) else quantize(h)
        h = torch.relu(x[:, t] @ w_ih.T + carried @ w_hh.T + (0 if bias is None else bias))
        states.append(h)
    return torch.stack(states, 1)


def test_prunable_rnn_equals_torch_rnn_with_the_masked_weights():
    rnn = nn.RNN(5, 7, nonlinearity="relu", bias=True, batch_first=True)
    reference = copy.deepcopy(rnn)
    model = make_prunable(nn.Sequential(rnn), weights="keep", seed=0)
    prunable = model[0]
    assert isinstance(prunable, PrunableRNN)
    assert set(trainable(model)) == {"0.masked_ih.scores", "0.masked_hh.scores"}
    with torch.no_grad():
        reference.weight_ih_l0.mul_(prunable.masked_ih.current_mask())
        reference.weight_hh_l0.mul_(prunable.masked_hh.current_mask())
    x, h0 = torch.randn(3, 6, 5), torch.rand(1, 3, 7)
    out, h_n = prunable(x, h0)
    ref_out, ref_h = reference(x, h0)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h_n, ref_h)
    out1, h1 = prunable(x[0])  # unbatched [T, I]
    ref1, href1 = reference(x[0])
    torch.testing.assert_close(out1, ref1)
    torch.testing.assert_close(h1, href1)


def test_prunable_rnn_quantizes_between_steps_and_masks_once_per_sequence():
    from rrampaper.models import QuantizedRNN

    q = ActivationQuantizer(3, after_relu=True, range_mode="sample")
    rnn = QuantizedRNN(4, 6, hidden_quantizer=q, batch_first=True)
    x = torch.rand(5, 4, 4)
    dense_out, _ = rnn(x)
    torch.testing.assert_close(dense_out, reference_rnn(x, rnn.weight_ih_l0, rnn.weight_hh_l0, q))
    chip = GaussianChip(seed=0)
    model = make_prunable(nn.Sequential(rnn), chip, seed=0)
    prunable = model[0]
    assert prunable.hidden_quantizer is q and prunable.batch_first
    out, h_n = prunable(x)
    w_ih = prunable.masked_ih.effective_weight(0)
    w_hh = prunable.masked_hh.effective_weight(0)
    torch.testing.assert_close(out, reference_rnn(x, w_ih, w_hh, q))
    torch.testing.assert_close(h_n[0], out[:, -1])
    for masked, array in zip(
        (prunable.masked_ih, prunable.masked_hh), chip.allocations, strict=True
    ):
        assert masked.mask_updates == 1  # one mask per sequence of 4 steps
        assert array.reads == [0, 0]  # one read per sequence (+ effective_weight's)
    with pytest.raises(ValueError, match="empty"):
        relu_rnn_steps(torch.zeros(0, 2, 3), torch.zeros(3, 3))


# --------------------------------------------------------------------------- caching, modes
def test_mask_is_recomputed_only_when_the_scores_change():
    model = make_prunable(MLP(), seed=0)
    masked = model.fc1.masked
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(4, 10)
    model(x).sum().backward()
    model(x)
    assert masked.mask_updates == 1
    optimizer.step()
    model(x)
    assert masked.mask_updates == 2
    model.eval()
    with torch.no_grad():
        for _ in range(5):
            model(x)
    assert masked.mask_updates == 2
    with torch.no_grad():
        masked.scores.mul_(1.0)  # any in-place change is detected
    model(x)
    assert masked.mask_updates == 3
    masked.scores.data = masked.scores.data.clone()  # replacing .data needs invalidate
    topology.invalidate_masks(model)
    model(x)
    assert masked.mask_updates == 4


def test_same_seed_same_network_different_seed_different_network():
    def state(seed=None, generator=None):
        model = make_prunable(MLP(), "signed_constant", seed=seed, generator=generator)
        model(torch.ones(1, 10))
        return model.state_dict()

    a, b, c = state(seed=7), state(seed=7), state(seed=8)
    d = state(generator=torch.Generator().manual_seed(7))
    for key in a:
        if key.endswith(("scores", "weight", "mask")):
            assert torch.equal(a[key], b[key]) and torch.equal(a[key], d[key]), key
            assert not torch.equal(a[key], c[key]), key
    torch.manual_seed(3)
    e = state()
    torch.manual_seed(3)
    assert torch.equal(e["fc1.masked.scores"], state()["fc1.masked.scores"])


def test_checkpoint_round_trip_keeps_masks_counters_and_reads():
    chip = GaussianChip(seed=1)
    model = make_prunable(MLP(), chip, seed=0, limit_size=0.01)
    sgd_steps(model, torch.randn(8, 10), steps=4)
    saved = copy.deepcopy(model.state_dict())
    clone = make_prunable(MLP(), GaussianChip(seed=1), seed=99, limit_size=0.01)
    clone.load_state_dict(saved)
    assert programming_counts(clone) == programming_counts(model)
    assert all(torch.equal(masks(clone)[n], masks(model)[n]) for n in masks(model))
    assert clone.fc1.masked.train_read == 4
    before = programming_counts(clone)
    clone(torch.randn(2, 10))  # revalidates the mask: nothing flips
    assert programming_counts(clone) == before
    clone.double()(torch.randn(2, 10, dtype=torch.float64))  # new storage and dtype: same mask
    assert clone.fc1.masked.counts.dtype == torch.int64
    assert programming_counts(clone) == before


# --------------------------------------------------------------------------- hardware mode
def test_hardware_effective_weight_and_a_new_read_per_training_batch():
    chip = GaussianChip(seed=2)
    model = make_prunable(nn.Sequential(nn.Linear(8, 6, bias=False)), chip, keep_ratio=0.5, seed=0)
    masked, array = model[0].masked, chip.allocations[0]
    std = math.sqrt(2) / math.sqrt(0.5 * 8)
    assert masked.inv_scale == pytest.approx(std / array.kept_scale)
    kept, pruned = array.read(None)
    assert float(kept.abs().mean()) * masked.inv_scale == pytest.approx(std, rel=1e-6)
    x = torch.randn(3, 8)
    outputs = [model(x) for _ in range(3)]
    assert array.reads[1:] == [0, 1, 2]  # a fresh read per training forward
    m = masked.current_mask()
    for index, out in enumerate(outputs):
        kept, pruned = array.read(index)
        w_eff = (kept * m + pruned * (1 - m)) * std / array.kept_scale
        torch.testing.assert_close(out, x @ w_eff.T)
    assert not torch.equal(outputs[0], outputs[1])  # read noise

    model.eval()
    array.reads.clear()
    model(x), model(x)
    restart_eval_reads(model)
    model(x)
    assert array.reads == [0, 1, 0]
    set_read_policy(model, eval_reads="noiseless")
    model(x)
    set_read_policy(model, eval_reads="fixed", eval_start=7)
    model(x), model(x)
    model.train()
    set_read_policy(model, train_reads="fixed", train_start=0)
    model(x), model(x)
    assert array.reads == [0, 1, 0, None, 7, 7, 0, 0]
    with pytest.raises(ValueError, match="eval_reads='random'"):
        set_read_policy(model, eval_reads="random")


def test_hardware_mode_without_a_valid_device_is_refused():
    class Broken:
        def allocate(self, shape):
            chip = GaussianChip()
            array = chip.allocate(shape)
            array.kept_scale = 0.0
            return array

    with pytest.raises(ValueError, match="kept_scale"):
        make_prunable(nn.Linear(3, 3), Broken())
    with pytest.raises(ValueError, match="exactly one"):
        MaskedWeight(torch.zeros(2, 2), keep_ratio=0.5)


def test_topology_optimization_learns_a_separable_task():
    """End to end: training only the scores of random weights must solve an easy task."""
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 16, generator=gen) * 2
    labels = torch.randint(0, 4, (512,), generator=gen)
    data = centers[labels] + torch.randn(512, 16, generator=gen)
    net = nn.Sequential(nn.Linear(16, 64, bias=False), nn.ReLU(), nn.Linear(64, 4, bias=False))
    model = make_prunable(net, "signed_constant", keep_ratio=0.5, seed=0)
    before = (model(data).argmax(1) == labels).float().mean()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        for xb, yb in zip(data.split(32), labels.split(32), strict=True):
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    after = (model(data).argmax(1) == labels).float().mean()
    assert after > 0.9 > before
