"""Chip / DeviceWeights: the interface the topology-optimization layers use."""

from __future__ import annotations

import math

import pytest
import torch

from rrampaper import devices
from rrampaper.devices import Chip, DeviceWeights, technology


def test_allocate_tiles_across_macros_exact_counts():
    chip = Chip("taox_post_verify_static", seed=0, macro_rows=16, macro_cols=16)  # 128 pairs per macro
    assert chip.pairs_per_macro == 128 and chip.n_macros == 0
    a = chip.allocate((10, 12))  # 120 pairs -> macro 0
    assert chip.n_macros == 1 and chip.pairs_allocated == 120
    b = chip.allocate(8)  # 120..127 fills macro 0 exactly
    assert chip.n_macros == 1 and chip.pairs_allocated == 128
    c = chip.allocate((3, 100))  # 300 pairs -> macros 1, 2, 3 (128 + 128 + 44)
    assert chip.n_macros == 4 and chip.pairs_allocated == 428
    assert [(s, e) for _, s, e in c._segments] == [(0, 128), (0, 128), (0, 44)]
    assert (a.shape, a.numel, b.numel, c.numel) == ((10, 12), 120, 8, 300)
    # the weights are the macros' pairs, in row-major order
    m1 = chip.macro(1)
    expected = (m1.sign * (m1.g_formed - m1.g_off)).reshape(-1)
    assert torch.allclose(c.read()[0].reshape(-1)[:128], expected)


def test_paper_macro_holds_131072_pairs():
    chip = Chip(seed=0)
    assert chip.pairs_per_macro == 512 * 512 // 2
    chip.allocate((64, 1, 3, 3))
    chip.allocate((16, 64, 3, 3))
    chip.allocate((128, 400))
    chip.allocate((10, 128))  # the Fashion-MNIST CNN: 62,272 weights
    assert chip.pairs_allocated == 62_272 and chip.n_macros == 1
    chip.allocate((100_000,))
    assert chip.n_macros == 2


def test_read_semantics_and_noise():
    chip = Chip(seed=1, macro_rows=64, macro_cols=64)
    w = chip.allocate((40, 50))
    kept0, pruned0 = w.read()
    assert kept0.shape == (40, 50) and kept0.dtype == torch.float32
    assert torch.equal(w.read(None)[0], kept0)
    assert set(w.sign.unique().tolist()) <= {-1.0, 1.0}
    assert w.kept_scale == pytest.approx(float(kept0.abs().double().mean()))
    big = kept0.abs() > 5e-5  # formed cells: the sign is the sign of the weight
    assert torch.equal(torch.sign(kept0[big]), w.sign[big])
    kept3, pruned3 = w.read(3)
    assert torch.equal(w.read(3)[0], kept3)  # deterministic given (seed, allocation, i)
    assert not torch.equal(w.read(4)[0], kept3)
    z = (kept3 - kept0) / w._sigma_kept
    assert float(z.std()) == pytest.approx(1.0, rel=0.05)
    assert w.read(2, dtype=torch.float64)[0].dtype == torch.float64
    assert w.to("cpu") is w and w.device == torch.device("cpu")


def test_same_seed_same_chip_and_allocation_streams_differ():
    a, b = Chip(seed=7, macro_rows=32, macro_cols=32), Chip(seed=7, macro_rows=32, macro_cols=32)
    wa, wb = a.allocate(100), b.allocate(100)
    assert torch.equal(wa.read(0)[0], wb.read(0)[0])
    wa2 = a.allocate(100)
    assert not torch.equal(wa2.read(0)[0], wa.read(0)[0])
    other = Chip(seed=8, macro_rows=32, macro_cols=32).allocate(100)
    assert not torch.equal(other.read()[0], wa.read()[0])


def test_apply_mask_counts_set_reset_on_chip():
    chip = Chip(seed=0, macro_rows=8, macro_cols=8)  # 32 pairs per macro
    w = chip.allocate((5, 10))  # spans two macros
    keep = torch.ones(5, 10, dtype=torch.bool)
    keep[:, :5] = False  # prune 25
    assert w.apply_mask(keep) == (0, 25)
    keep[0, :2] = True  # reinstate 2
    assert w.apply_mask(keep) == (2, 0)
    assert (w.set_count, w.reset_count) == (2, 25)
    assert (chip.set_count, chip.reset_count) == (2, 25)
    assert int(chip.macro(1).state.sum()) + int(chip.macro(0).state.sum()) == 64 - 25 + 2


def test_technology_object_and_presets():
    tech = technology("pcm", t_inference_s=0.0)
    chip = Chip(technology=tech, seed=0, macro_rows=32, macro_cols=32)
    assert chip.technology is tech
    for name in devices.TECHNOLOGIES:
        w = Chip(name, seed=0, macro_rows=32, macro_cols=32).allocate((10, 10))
        kept, pruned = w.read(0)
        assert torch.isfinite(kept).all() and w.kept_scale > 0
        assert pruned.abs().mean() < kept.abs().mean()


def test_value_errors():
    with pytest.raises(ValueError, match="macro_cols"):
        Chip(macro_cols=7)
    with pytest.raises(ValueError, match="technology"):
        Chip("mram")
    with pytest.raises(ValueError, match="seed"):
        Chip(seed=-1)
    chip = Chip(macro_rows=8, macro_cols=8)
    for bad in ((), (0, 3), (2.5,), "abc"):
        with pytest.raises(ValueError, match="shape"):
            chip.allocate(bad)
    w = chip.allocate(4)
    with pytest.raises(ValueError, match="index"):
        w.read(-2)
    with pytest.raises(ValueError, match="keep"):
        w.apply_mask(torch.ones(5, dtype=torch.bool))
    assert isinstance(w, DeviceWeights) and math.prod(w.shape) == 4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_reads():
    w = Chip(seed=0, macro_rows=32, macro_cols=32).allocate((20, 20))
    kept, _ = w.read(1, device="cuda")
    assert kept.is_cuda and torch.equal(w.read(1)[0], kept)
