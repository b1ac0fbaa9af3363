"""Crossbar of differential pairs: weight statistics, reads, SET/RESET, programming, export."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from rrampaper.devices import CrossbarArray, technology


@pytest.fixture(scope="module")
def xbar() -> CrossbarArray:
    return CrossbarArray(256, 256, "taox_post_verify_static", seed=3)


def test_kept_weights_symmetric_about_zero(xbar):
    w = xbar.kept_weight().double().reshape(-1).numpy()
    n = w.size
    positive = (w > 0).sum()
    assert abs(positive - n / 2) < 4 * math.sqrt(n / 4)  # random sign: binomial(n, 1/2)
    assert abs(w.mean()) < 4 * w.std() / math.sqrt(n)
    assert abs(stats.skew(w)) < 0.05
    # |w| and sign are independent: the two halves have the same magnitude law
    assert stats.ks_2samp(w[w > 0], -w[w < 0]).pvalue > 1e-3


def test_pruned_residual_small_and_centred(xbar):
    kept = xbar.kept_weight().abs().double()
    pruned = xbar.pruned_weight().double()
    assert pruned.abs().median() < 0.05 * kept.median()
    assert abs(float(pruned.mean())) < 4 * float(pruned.std()) / math.sqrt(pruned.numel())


def test_kept_is_formed_minus_off(xbar):
    expected = xbar.sign * (xbar.g_formed - xbar.g_off)
    assert torch.allclose(xbar.kept_weight(), expected)
    expected = xbar.sign * (xbar.g_reset - xbar.g_off)
    assert torch.allclose(xbar.pruned_weight(), expected)


def test_read_noise_sigma_matches_parameters(xbar):
    tech = xbar.technology
    g_f, g_o = xbar.g_formed.double(), xbar.g_off.double()
    sigma = torch.sqrt(tech.read_sigma(g_f) ** 2 + tech.read_sigma(g_o) ** 2)
    z = torch.stack([(xbar.read(i)[0].double() - xbar.kept_weight().double()) / sigma for i in range(4)])
    assert float(z.mean()) == pytest.approx(0.0, abs=0.01)
    assert float(z.std()) == pytest.approx(1.0, rel=0.01)
    # cell-level reads: relative sigma of formed cells ~ read_relative (1 %) at high G
    high = g_f > 100e-6
    reads = torch.stack([xbar.read_cells(i)[0].double() for i in range(50)])
    rel = (reads.std(0) / reads.mean(0))[high]
    expected = math.sqrt(tech.read_relative**2 + (tech.read_floor_s / 150e-6) ** 2)
    assert float(rel.mean()) == pytest.approx(expected, rel=0.1)


def test_reads_deterministic_and_random_access(xbar):
    k5, p5 = xbar.read(5)
    xbar.read(0), xbar.read(7)
    k5b, p5b = xbar.read(5)
    assert torch.equal(k5, k5b) and torch.equal(p5, p5b)
    twin = CrossbarArray(256, 256, "taox_post_verify_static", seed=3)
    assert torch.equal(twin.read(5)[0], k5)
    assert not torch.equal(xbar.read(6)[0], k5)
    assert not torch.equal(CrossbarArray(256, 256, "taox_post_verify_static", seed=4).kept_weight(), xbar.kept_weight())
    streamed = [i for i, _, _ in xbar.iter_reads(3, start=4)]
    assert streamed == [4, 5, 6]


def test_set_reset_counters():
    x = CrossbarArray(8, 8, seed=0)
    assert bool(x.state.all())  # forming leaves every pair kept
    prune = torch.zeros(8, 8, dtype=torch.bool)
    prune[:2] = True
    assert x.reset(prune) == 16
    assert x.reset(prune) == 0  # no state change, not counted
    assert x.set(prune[:, :] & (torch.arange(8) < 4)) == 8
    assert int(x.reset_count.sum()) == 16 and int(x.set_count.sum()) == 8
    keep = torch.ones(8, 8, dtype=torch.bool)
    keep[7, 7] = False
    n_set, n_reset = x.apply_mask(keep)
    assert (n_set, n_reset) == (8, 1)
    assert torch.equal(x.state, keep)
    w = x.weight()
    assert w[7, 7] == x.pruned_weight()[7, 7] and w[0, 0] == x.kept_weight()[0, 0]
    assert int(x.reset_count[0, 0]) == 1 and int(x.set_count[0, 0]) == 1


def test_program_write_verify_beats_open_loop():
    target = torch.full((64, 64), 120e-6)
    one = CrossbarArray(64, 64, seed=1)
    res_one = one.program(target, method="open_loop", seed=0)
    wv = CrossbarArray(64, 64, seed=1)
    res_wv = wv.program(target, method="write_verify", tolerance=0.02, max_pulses=50, seed=0)
    err_one = (res_one.conductance_s - 120e-6).abs().mean()
    err_wv = (res_wv.conductance_s - 120e-6).abs().mean()
    assert err_wv < 0.5 * err_one
    assert int(res_one.pulses.max()) == 1 and float(res_wv.pulses.float().mean()) > 1
    assert bool(res_wv.converged.all())
    assert wv.program_pulses == res_wv.total_pulses
    assert torch.allclose(wv.g_formed.double(), res_wv.conductance_s.float().double())


def test_program_weights_differential():
    x = CrossbarArray(32, 32, seed=2)
    w = (torch.rand(32, 32, generator=torch.Generator().manual_seed(0)) - 0.5) * 200e-6
    achieved, plus, minus = x.program_weights(w, tolerance=0.02, atol_s=1e-6, max_pulses=50, seed=1)
    assert torch.allclose(x.kept_weight().double(), achieved.float().double(), atol=1e-9)
    assert float((achieved - w).abs().mean()) < 3e-6
    assert bool((x.sign == 1).all())


def test_to_xarray(xbar):
    ds = xbar.to_xarray(reads=[0, 3])
    assert set(ds.dims) == {"row", "col", "read"}
    assert ds["kept_read"].dims == ("read", "row", "col")
    assert list(ds["read"].values) == [0, 3]
    np.testing.assert_array_equal(ds["kept_read"].sel(read=3).values, xbar.read(3)[0].numpy())
    assert ds.attrs["technology"] == "taox_post_verify_static"
    assert ds.attrs["seed"] == 3
    assert ds.attrs["technology.taox_post_verify_static.filament.radius_median_nm"] == 1.5
    assert "source.d2d" in ds.attrs
    assert "read" not in xbar.to_xarray(reads=0).dims


def test_official_format_layout():
    x = CrossbarArray(4, 5, seed=0)
    off = x.to_official_format(3)
    n = 20
    assert off["set"].shape == (3, 2 * n) and off["reset"].shape == (3, 2 * n)
    w_one = off["set"][:, :n] - off["set"][:, n:]
    unsigned = (x.g_formed - x.g_off).reshape(-1).numpy()
    assert np.allclose(w_one.mean(0), unsigned, atol=5e-6)


def test_value_errors():
    with pytest.raises(ValueError, match="rows"):
        CrossbarArray(0, 4)
    with pytest.raises(ValueError, match="technology"):
        CrossbarArray(4, 4, "graphene")
    x = CrossbarArray(4, 4)
    with pytest.raises(ValueError, match="index"):
        x.read(-1)
    with pytest.raises(ValueError, match="mask"):
        x.set(torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="target_s"):
        x.program(torch.ones(2, 2))
    with pytest.raises(ValueError, match="method"):
        x.program(torch.full((4, 4), 5e-5), method="magic")
    with pytest.raises(ValueError, match="tolerance"):
        x.program(torch.full((4, 4), 5e-5), tolerance=0)
    with pytest.raises(ValueError, match="max_pulses"):
        x.program(torch.full((4, 4), 5e-5), max_pulses=0)
    with pytest.raises(ValueError, match="weights_s"):
        x.program_weights(torch.full((4, 4), 1.0))


def test_reads_other_technologies_use_their_noise():
    for name in ("pcm", "ecram"):
        tech = technology(name)
        x = CrossbarArray(64, 64, tech, seed=0)
        resid = torch.stack([x.read(i)[0] - x.kept_weight() for i in range(8)]).double()
        sigma = torch.sqrt(tech.read_sigma(x.g_formed.double()) ** 2 + tech.read_sigma(x.g_off.double()) ** 2)
        assert float((resid / sigma).std()) == pytest.approx(1.0, rel=0.03)
