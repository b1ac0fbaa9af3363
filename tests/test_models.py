"""The paper's networks: weight counts, shapes, quantizers, and their prunable versions."""

from __future__ import annotations

import copy

import pytest
import torch
from gaussian_chip import GaussianChip
from torch import nn

from rrampaper.models import (
    CRNN_SHAPES,
    FASHION_CNN_SHAPES,
    FashionCNN,
    QuantizedRNN,
    SpokenDigitCRNN,
    weight_count,
)
from rrampaper.models.quant import ActivationQuantizer
from rrampaper.topology import PrunableRNN, make_prunable, masked_weights


def weight_shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    return {n: tuple(p.shape) for n, p in model.named_parameters() if "weight" in n}


def trainable_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def activation_shapes(model: nn.Module, x: torch.Tensor, names: list[str]) -> dict[str, tuple]:
    shapes = {}
    hooks = [
        model.get_submodule(n).register_forward_hook(
            lambda _m, _i, out, n=n: shapes.__setitem__(
                n, tuple((out[0] if isinstance(out, tuple) else out).shape)
            )
        )
        for n in names
    ]
    model(x)
    for h in hooks:
        h.remove()
    return shapes


def test_fashion_cnn_has_the_papers_62272_weights_and_shapes():
    model = FashionCNN()
    assert weight_shapes(model) == FASHION_CNN_SHAPES
    assert weight_count(model) == 62_272 == trainable_count(model)  # no bias, no BN affine
    assert sum(p.numel() for p in model.parameters()) == 62_272
    shapes = activation_shapes(
        model, torch.randn(3, 1, 28, 28), ["q_input", "conv1", "conv2", "q2", "fc2"]
    )
    assert shapes == {
        "q_input": (3, 1, 14, 14),
        "conv1": (3, 64, 12, 12),
        "conv2": (3, 16, 10, 10),
        "q2": (3, 16, 5, 5),
        "fc2": (3, 10),
    }
    out = model(torch.randn(3, 1, 28, 28))
    torch.testing.assert_close(out.exp().sum(1), torch.ones(3))  # log-probabilities


def test_crnn_has_the_papers_68480_weights_and_shapes():
    model = SpokenDigitCRNN()
    assert weight_shapes(model) == CRNN_SHAPES
    assert weight_count(model) == 68_480 == trainable_count(model)
    x = torch.rand(5, 23, 20)
    assert tuple(model.features(x).shape) == (5, 4, 32)
    shapes = activation_shapes(model, x, ["conv1", "conv2", "rnn", "fc1"])
    assert shapes == {
        "conv1": (5, 64, 11, 19),
        "conv2": (5, 32, 2, 8),
        "rnn": (5, 4, 128),
        "fc1": (5, 256),
    }
    model.eval()
    torch.testing.assert_close(model(x), model(x.unsqueeze(1)))
    torch.testing.assert_close(model(x).exp().sum(1), torch.ones(5))


@pytest.mark.parametrize("factory, bits", [(FashionCNN, 4), (SpokenDigitCRNN, 3)])
def test_quantizers_use_the_papers_bits_and_none_is_ideal(factory, bits):
    model = factory()
    quantizers = [m for m in model.modules() if isinstance(m, ActivationQuantizer)]
    assert len(quantizers) == (4 if factory is FashionCNN else 6)
    assert {q.bits for q in quantizers} == {bits}
    assert {q.range_mode for q in quantizers} == {"sample"}
    assert {
        q.range_mode
        for q in factory(range_mode="batch").modules()
        if isinstance(q, ActivationQuantizer)
    } == {"batch"}
    ideal = factory(activation_bits=None)
    assert {q.bits for q in ideal.modules() if isinstance(q, ActivationQuantizer)} == {None}
    with pytest.raises(ValueError, match="bits=0"):
        factory(activation_bits=0)


def test_fashion_activations_are_on_a_16_level_grid():
    model = FashionCNN()
    seen = {}
    model.q1.register_forward_hook(lambda _m, _i, out: seen.__setitem__("q1", out))
    model(torch.randn(4, 1, 28, 28))
    for sample in seen["q1"]:
        assert len(torch.unique(sample)) <= 16


def test_sample_range_makes_evaluation_independent_of_the_batch_size():
    torch.manual_seed(0)
    model = FashionCNN(range_mode="sample").eval()
    x = torch.randn(12, 1, 28, 28)
    whole = model(x)
    parts = torch.cat([model(p) for p in x.split(5)])
    torch.testing.assert_close(whole, parts, rtol=1e-4, atol=1e-4)
    batch_model = FashionCNN(range_mode="batch").eval()
    batch_model.load_state_dict(model.state_dict())
    assert not torch.allclose(
        batch_model(x), torch.cat([batch_model(p) for p in x.split(5)]), atol=1e-3
    )


def test_quantized_rnn_is_nn_rnn_without_quantizer_and_steps_with_one():
    torch.manual_seed(1)
    rnn = QuantizedRNN(4, 6, batch_first=True)
    reference = nn.RNN(4, 6, nonlinearity="relu", bias=False, batch_first=True)
    reference.load_state_dict(rnn.state_dict())
    x = torch.rand(3, 5, 4)
    torch.testing.assert_close(rnn(x)[0], reference(x)[0])
    rnn.hidden_quantizer = ActivationQuantizer(2, after_relu=True, range_mode="sample")
    out, h_n = rnn(x)
    h = torch.zeros(3, 6)
    for t in range(5):
        carried = rnn.hidden_quantizer(h) if t else h
        h = torch.relu(x[:, t] @ rnn.weight_ih_l0.T + carried @ rnn.weight_hh_l0.T)
        torch.testing.assert_close(out[:, t], h)
    torch.testing.assert_close(h_n[0], h)
    assert not torch.allclose(out, reference(x)[0])  # the quantizer does act


@pytest.mark.parametrize("factory, total", [(FashionCNN, 62_272), (SpokenDigitCRNN, 68_480)])
def test_prunable_models_train_only_their_scores(factory, total):
    model = make_prunable(factory(), seed=0)
    assert trainable_count(model) == total == weight_count(model)
    names = [n for n, _ in masked_weights(model)]
    assert names == list(FASHION_CNN_SHAPES if factory is FashionCNN else CRNN_SHAPES)
    chip = GaussianChip(seed=0)
    hardware = make_prunable(factory(), chip, seed=0)
    assert [a.kept.shape for a in chip.allocations] == [
        torch.Size(s)
        for s in (FASHION_CNN_SHAPES if factory is FashionCNN else CRNN_SHAPES).values()
    ]
    assert trainable_count(hardware) == total


def test_prunable_crnn_equals_the_dense_crnn_with_masked_weights():
    torch.manual_seed(2)
    dense = SpokenDigitCRNN().eval()
    reference = copy.deepcopy(dense)
    hidden_quantizer = dense.rnn.hidden_quantizer
    model = make_prunable(dense, weights="keep", seed=0)
    assert isinstance(model.rnn, PrunableRNN) and model.rnn.hidden_quantizer is hidden_quantizer
    assert hidden_quantizer.bits == 3
    params = dict(reference.named_parameters())
    for name, masked in masked_weights(model):
        with torch.no_grad():
            params[name].mul_(masked.current_mask())
    x = torch.rand(6, 23, 20)
    torch.testing.assert_close(model(x), reference(x))
