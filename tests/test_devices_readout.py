"""Read-out non-idealities: conductance levels, output ADC and first-order IR drop."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rrampaper.devices.readout import (
    REPORTED_ADC_BITS,
    REPORTED_LEVELS,
    OutputADC,
    adc_quantize,
    attach_output_adc,
    detach_output_adc,
    ir_drop_factor,
    quantize_levels,
    wire_resistance,
)
from rrampaper.errors import ParameterError

# -- levels ---------------------------------------------------------------------------------


def test_quantize_levels_exact_levels_idempotent_half_step():
    g_min, g_max, n = 2e-6, 100e-6, 9
    step = (g_max - g_min) / (n - 1)
    g = torch.linspace(g_min, g_max, 100_001, dtype=torch.float64)
    q = quantize_levels(g, n, g_min, g_max)
    levels = torch.tensor([g_min + k * step for k in range(n)], dtype=torch.float64)
    distinct = torch.unique(q)
    assert len(distinct) == n
    assert torch.allclose(distinct, levels, rtol=0, atol=1e-18)
    assert torch.equal(quantize_levels(q, n, g_min, g_max), q)
    err = (q - g).abs().max().item()
    assert err <= step / 2 * (1 + 1e-9)
    assert err >= step / 2 * 0.999  # the bound is reached on a dense ramp


def test_quantize_levels_clips_and_off():
    g = torch.tensor([-1e-6, 4e-6, 6e-6, 20e-6])
    assert quantize_levels(g, None, 0.0, 10e-6) is g
    q = quantize_levels(g, 2, 0.0, 10e-6)
    assert q.tolist() == pytest.approx([0.0, 0.0, 10e-6, 10e-6])
    with pytest.raises(ParameterError):
        quantize_levels(g, 1, 0.0, 1.0)
    with pytest.raises(ParameterError):
        quantize_levels(g, 4, 1.0, 1.0)


def test_reported_constants():
    assert REPORTED_LEVELS["milo_ted2021"][0] == 9
    assert REPORTED_LEVELS["yao_nature2020"][0] == 32
    assert REPORTED_ADC_BITS["li_nat_electron_2018"][0] == (5, 8)
    assert "primary" in REPORTED_ADC_BITS["li_nat_electron_2018"][1]


# -- ADC ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_adc_codes_error_and_clipping(bits):
    fs = 2.0
    y = torch.linspace(-3.0, 3.0, 200_001, dtype=torch.float64)
    q = adc_quantize(y, bits, fs)
    distinct = torch.unique(q)
    assert len(distinct) == 2**bits - 1
    assert bool((distinct == 0).any())
    lsb = fs / (2 ** (bits - 1) - 1)
    inside = y.abs() <= fs
    assert (q[inside] - y[inside]).abs().max().item() <= lsb / 2 * (1 + 1e-9)
    assert bool((q[y > fs] == fs).all()) and bool((q[y < -fs] == -fs).all())
    assert torch.allclose(distinct / lsb, torch.round(distinct / lsb))


def test_adc_gradient_straight_through_and_clipped():
    y = torch.tensor([-3.0, -1.0, -0.3, 0.0, 0.7, 1.0, 2.5], requires_grad=True)
    out = adc_quantize(y, 4, 1.0)
    out.sum().backward()
    assert y.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    fs = torch.tensor([[0.5], [5.0]])
    x = torch.tensor([[0.2, 0.8], [0.2, 0.8]], requires_grad=True)
    adc_quantize(x, 3, fs).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0], [1.0, 1.0]]


def test_adc_identity_and_validation():
    y = torch.randn(10)
    assert adc_quantize(y, None, 1.0) is y
    assert torch.equal(adc_quantize(y, 8, 0.0), torch.zeros(10))
    for bad in (1, 17, 2.5):
        with pytest.raises(ParameterError):
            adc_quantize(y, bad, 1.0)
    with pytest.raises(ParameterError):
        adc_quantize(y, 4, -1.0)


def test_output_adc_auto_range():
    y = torch.tensor([[-4.0, 1.0], [0.3, 2.0]])
    adc = OutputADC(3)  # 7 codes, LSB = 4 / 3
    q = adc(y)
    lsb = 4.0 / 3
    assert torch.allclose(q, torch.round(y / lsb) * lsb)
    assert q.abs().max().item() == pytest.approx(4.0)
    clipped = OutputADC(3, headroom=0.5)(y)
    assert clipped.min().item() == pytest.approx(-2.0)
    assert OutputADC(None)(y) is y
    with pytest.raises(ParameterError):
        OutputADC(4, headroom=0.0)
    with pytest.raises(ParameterError):
        OutputADC(4, headroom=11.0)


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))


def test_attach_quantizes_replaces_and_detaches():
    net = _net()
    x = torch.randn(16, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        reference = net(x)
        h1 = net[0](x)
        expected = OutputADC(3)(net[2](torch.relu(OutputADC(3)(h1))))
    handles = attach_output_adc(net, 3)
    assert len(handles) == 2
    with torch.no_grad():
        once = net(x)
    assert torch.equal(once, expected)
    # outputs are codes of a 3-bit auto-ranged ADC: at most 7 distinct values per tensor
    assert len(torch.unique(once)) <= 7
    assert not torch.equal(once, reference)
    attach_output_adc(net, 3)  # replaces: still one ADC per layer
    with torch.no_grad():
        twice = net(x)
    assert torch.equal(twice, once)
    assert sum(len(m._forward_hooks) for m in net.modules()) == 2
    attach_output_adc(net, 2)
    with torch.no_grad():
        two_bits = net(x)
    assert len(torch.unique(two_bits)) <= 3
    assert detach_output_adc(net) == 2
    with torch.no_grad():
        assert torch.equal(net(x), reference)
    assert sum(len(m._forward_hooks) for m in net.modules()) == 0
    attach_output_adc(net, 4)
    assert attach_output_adc(net, None) == []
    with torch.no_grad():
        assert torch.equal(net(x), reference)


def test_attach_gradient_flows():
    net = _net()
    attach_output_adc(net, 6)
    x = torch.randn(8, 6, generator=torch.Generator().manual_seed(2))
    net(x).sum().backward()
    assert net[0].weight.grad is not None and bool(net[0].weight.grad.abs().sum() > 0)


def test_attach_conv_layers():
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten())
    attach_output_adc(conv, 2)
    out = conv(torch.randn(2, 1, 5, 5, generator=torch.Generator().manual_seed(3)))
    assert len(torch.unique(out)) <= 3


# -- IR drop --------------------------------------------------------------------------------


def test_ir_drop_two_by_two_hand_calculation():
    r = 2.0
    g = torch.tensor([[100e-6, 50e-6], [10e-6, 200e-6]], dtype=torch.float64)
    out = ir_drop_factor((2, 2), 2, 2, r, g)
    # R(i, j) = r * ((i + 1) + (2 - j)): [[3r, 2r], [4r, 3r]]
    segments = [[3, 2], [4, 3]]
    for i in range(2):
        for j in range(2):
            gij = g[i, j].item()
            expected = gij / (1 + gij * r * segments[i][j])
            assert out[i, j].item() == pytest.approx(expected, rel=1e-12)
    assert wire_resistance((2, 2), 2, 2, r).tolist() == [[6.0, 4.0], [8.0, 6.0]]


def test_ir_drop_off_and_tiling():
    g = torch.full((4, 3, 2, 2), 50e-6)
    assert ir_drop_factor(g.shape, 2, 4, 0.0, g) is g
    assert ir_drop_factor(g.shape, 2, 4, None, g) is g
    out = ir_drop_factor(g.shape, 2, 4, 1.0, g)
    assert out.shape == g.shape and out.dtype == g.dtype
    flat = out.reshape(4, 12)
    # tiles repeat: rows 0/2 and 1/3 alike, input columns j and j + 4 alike
    assert torch.equal(flat[0], flat[2]) and torch.equal(flat[1], flat[3])
    assert torch.equal(flat[:, :4], flat[:, 4:8])


def test_ir_drop_monotone_in_distance():
    g = torch.full((32, 32), 100e-6, dtype=torch.float64)
    out = ir_drop_factor((32, 32), 32, 32, 3.0, g)
    assert bool((out <= g).all())
    # farther from the driver (larger i) -> less conductance
    assert bool((out[1:, :] < out[:-1, :]).all())
    # farther from the sense end (smaller j) -> less conductance
    assert bool((out[:, :-1] < out[:, 1:]).all())
    assert out[0, 31] == out.max() and out[31, 0] == out.min()
    # more wire resistance -> more drop
    assert bool((ir_drop_factor((32, 32), 32, 32, 1.0, g) > out).all())
