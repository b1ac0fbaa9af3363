"""ScaledNoise: the same devices, with read / programming noise multiplied."""

import pytest
import torch

from rrampaper.devices import Chip, ScaledNoise, program_conductances, technology


@pytest.mark.parametrize("name", ["taox_40nm", "pcm", "hfox_rram"])
def test_scaled_noise_multiplies_sigmas_and_keeps_devices(name):
    base = technology(name)
    g = torch.linspace(base.g_min_s, base.g_max_s, 7, dtype=torch.float64)
    scaled = ScaledNoise(base, read_scale=2.5, programming_scale=0.5)
    torch.testing.assert_close(scaled.read_sigma(g), 2.5 * base.read_sigma(g))
    torch.testing.assert_close(scaled.programming_sigma(g), 0.5 * base.programming_sigma(g))
    assert (scaled.g_min_s, scaled.g_max_s) == (base.g_min_s, base.g_max_s)
    a, b = base.sample_pairs(500, seed=4), scaled.sample_pairs(500, seed=4)
    assert torch.equal(a.formed, b.formed) and torch.equal(a.off, b.off)


def test_chip_with_scaled_read_noise_has_same_devices_and_scaled_read_sigma():
    plain = Chip("taox_40nm", seed=2).allocate((64, 64))
    loud = Chip(ScaledNoise("taox_40nm", read_scale=3.0), seed=2).allocate((64, 64))
    torch.testing.assert_close(plain.read(None)[0], loud.read(None)[0])
    d_plain = torch.stack([plain.read(i)[0] - plain.read(None)[0] for i in range(20)]).std()
    d_loud = torch.stack([loud.read(i)[0] - loud.read(None)[0] for i in range(20)]).std()
    assert float(d_loud / d_plain) == pytest.approx(3.0, rel=0.05)


def test_zero_programming_noise_programs_exactly():
    target = torch.full((1000,), 50e-6, dtype=torch.float64)
    result = program_conductances(target, ScaledNoise("taox_40nm", programming_scale=0.0), "one_shot")
    torch.testing.assert_close(result.conductance_s, target)


def test_scale_out_of_range_names_parameter():
    with pytest.raises(ValueError, match="read_scale=-1"):
        ScaledNoise("taox_40nm", read_scale=-1)
    with pytest.raises(ValueError, match="not valid"):
        ScaledNoise("no_such_memory")
