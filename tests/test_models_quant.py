"""Activation quantizers: grids against hand computations, range modes, straight-through."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rrampaper.models import quant
from rrampaper.models.quant import ActivationQuantizer, check_bits, fake_quantize


@pytest.mark.parametrize("bits", [0, 17, -1, 2.5, True, "4"])
def test_bits_outside_1_to_16_are_refused(bits):
    with pytest.raises(ValueError, match="bits"):
        check_bits(bits)
    with pytest.raises(ValueError, match="bits"):
        ActivationQuantizer(bits, range_mode="batch")


def test_range_mode_is_validated_and_required():
    with pytest.raises(ValueError, match="range_mode='tensor'"):
        fake_quantize(torch.ones(2, 2), 4, range_mode="tensor")
    with pytest.raises(TypeError):
        ActivationQuantizer(4)  # the range mode must be written down


def test_none_is_ideal_identity():
    x = torch.randn(3, 4)
    assert fake_quantize(x, None, range_mode="batch") is x
    assert ActivationQuantizer(None, range_mode="sample")(x) is x


def test_after_relu_batch_matches_hand_computation():
    # max 1.5, 2 bits -> scale 0.5, levels 0, 0.5, 1.0, 1.5
    x = torch.tensor([[0.0, 0.2, 0.45, 0.9], [0.1, 0.3, 0.6, 1.5]])
    expected = torch.tensor([[0.0, 0.0, 0.5, 1.0], [0.0, 0.5, 0.5, 1.5]])
    out = fake_quantize(x, 2, after_relu=True, range_mode="batch")
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-7)


def test_signed_batch_matches_hand_computation_with_the_sub_lsb_shift():
    # min -0.7, max 0.8, 2 bits: scale 0.5; (x - min) / scale = 0, 1.2, 2.1, 3 -> 0, 1, 2, 3;
    # floor(min / scale) = floor(-1.4) = -2, so the levels are (-2, -1, 0, 1) * 0.5.
    x = torch.tensor([-0.7, -0.1, 0.35, 0.8])
    out = fake_quantize(x, 2, after_relu=False, range_mode="batch")
    torch.testing.assert_close(out, torch.tensor([-1.0, -0.5, 0.0, 0.5]), rtol=0, atol=1e-7)


def test_after_relu_equals_the_official_quint8_formula_when_min_is_zero():
    # The official code: quantize_per_tensor(x, scale=(max - min) / (2**b - 1), zero_point=0,
    # quint8), then int_repr() * scale, i.e. clamp(round(x / scale), 0, 255) * scale (NumPy here).
    gen = torch.Generator().manual_seed(0)
    x = torch.relu(torch.randn(8, 50, generator=gen))
    values = x.double().numpy()
    for bits in (2, 3, 4, 6):
        scale = (values.max() - values.min()) / (2**bits - 1)
        reference = torch.from_numpy(np.clip(np.round(values / scale), 0, 255) * scale).float()
        out = fake_quantize(x, bits, after_relu=True, range_mode="batch")
        torch.testing.assert_close(out, reference, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("after_relu", [True, False])
@pytest.mark.parametrize("bits", [1, 3, 4])
def test_at_most_2_pow_bits_levels_spaced_by_the_scale(bits, after_relu):
    gen = torch.Generator().manual_seed(bits)
    x = torch.randn(4, 300, generator=gen)
    if after_relu:
        x = torch.relu(x)
    for range_mode in ("batch", "sample"):
        out = fake_quantize(x, bits, after_relu=after_relu, range_mode=range_mode)
        rows = out if range_mode == "sample" else out.reshape(1, -1)
        src = x if range_mode == "sample" else x.reshape(1, -1)
        for row, raw in zip(rows, src, strict=True):
            levels = torch.unique(row)
            assert len(levels) <= 2**bits
            low = 0.0 if after_relu else float(raw.min())
            scale = (float(raw.max()) - low) / (2**bits - 1)
            steps = (levels - levels[0]) / scale
            torch.testing.assert_close(steps, steps.round(), rtol=0, atol=1e-4)
            # rounding: half a step; the signed grid's shift adds less than one more step
            bound = 0.5 if after_relu else 1.5
            assert float((row - raw).abs().max()) <= bound * scale + 1e-6


def test_sample_mode_does_not_depend_on_the_batch_split():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(10, 3, 5, 5, generator=gen)
    for after_relu in (False, True):
        data = torch.relu(x) if after_relu else x
        whole = fake_quantize(data, 3, after_relu=after_relu, range_mode="sample")
        parts = torch.cat(
            [
                fake_quantize(p, 3, after_relu=after_relu, range_mode="sample")
                for p in data.split([3, 4, 2, 1])
            ]
        )
        assert torch.equal(whole, parts)
        one_by_one = torch.cat(
            [
                fake_quantize(data[i : i + 1], 3, after_relu=after_relu, range_mode="batch")
                for i in range(10)
            ]
        )
        # "sample" is the paper's quantizer applied to one sample at a time
        assert torch.equal(whole, one_by_one)
        batched = fake_quantize(data, 3, after_relu=after_relu, range_mode="batch")
        assert not torch.equal(whole, batched)  # the paper's mode does depend on the batch


def test_straight_through_gradient_is_the_identity():
    x = torch.randn(5, 7, requires_grad=True)
    grad = torch.randn(5, 7)
    fake_quantize(x, 2, after_relu=False, range_mode="sample").backward(grad)
    assert torch.equal(x.grad, grad)


def test_constant_inputs_pass_unchanged_and_dtype_is_kept():
    for value in (-0.3, 0.0, 2.0):
        x = torch.full((2, 3), value, dtype=torch.float64)
        for mode in ("batch", "sample"):
            out = fake_quantize(x, 4, after_relu=False, range_mode=mode)
            assert out.dtype == torch.float64
            torch.testing.assert_close(out, x, rtol=0, atol=1e-12)
    zeros = torch.zeros(3, 4)
    assert torch.equal(fake_quantize(zeros, 4, after_relu=True, range_mode="batch"), zeros)


def test_module_bits_can_be_changed_and_repr_states_the_mode():
    q = ActivationQuantizer(4, after_relu=True, range_mode="sample")
    assert "range_mode='sample'" in repr(q)
    x = torch.relu(torch.randn(2, 100))
    assert len(torch.unique(q(x)[0])) <= 16
    q.bits = 1
    assert len(torch.unique(q(x)[0])) <= 2
    assert quant.PAPER_BITS == {"fashion_mnist": 4, "spoken_digit": 3, "drive": 6}
