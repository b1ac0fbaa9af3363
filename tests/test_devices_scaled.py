"""ScaledNoise: the same devices, with read / programming noise multiplied."""

import pytest
import torch

from rrampaper.devices import Chip, ScaledNoise, program_conductances, technology


@pytest.mark.parametrize("name", ["taox_post_verify_static", "pcm", "hfox_rram"])
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
    plain = Chip("taox_post_verify_static", seed=2).allocate((64, 64))
    loud = Chip(ScaledNoise("taox_post_verify_static", read_scale=3.0), seed=2).allocate((64, 64))
    torch.testing.assert_close(plain.read(None)[0], loud.read(None)[0])
    d_plain = torch.stack([plain.read(i)[0] - plain.read(None)[0] for i in range(20)]).std()
    d_loud = torch.stack([loud.read(i)[0] - loud.read(None)[0] for i in range(20)]).std()
    assert float(d_loud / d_plain) == pytest.approx(3.0, rel=0.05)


def test_zero_programming_noise_programs_exactly():
    target = torch.full((1000,), 50e-6, dtype=torch.float64)
    result = program_conductances(target, ScaledNoise("taox_post_verify_static", programming_scale=0.0), "post_verify")
    torch.testing.assert_close(result.conductance_s, target)


def test_scale_out_of_range_names_parameter():
    with pytest.raises(ValueError, match="read_scale=-1"):
        ScaledNoise("taox_post_verify_static", read_scale=-1)
    with pytest.raises(ValueError, match="not valid"):
        ScaledNoise("no_such_memory")


def test_idle_cells_reset_take_one_pulse_and_the_off_state():
    from rrampaper.devices import program_weights, technology

    tech = technology("taox_post_verify_static")
    w = torch.tensor([50e-6, -80e-6, 0.0, 120e-6] * 500, dtype=torch.float64)
    achieved, plus, minus = program_weights(w, tech, "write_verify", idle="reset", seed=1)
    idle_plus, idle_minus = w <= 0, w >= 0
    assert bool((plus.pulses[idle_plus] == 1).all()) and bool((minus.pulses[idle_minus] == 1).all())
    # parked cells follow the off-state law (lognormal, median hrs_median_s = 2 uS)
    parked = torch.cat([plus.conductance_s[idle_plus], minus.conductance_s[idle_minus]])
    assert float(parked.median()) == pytest.approx(tech.hrs_median_s, rel=0.1)
    _, plus_p, minus_p = program_weights(w, tech, "write_verify", idle="program", seed=1)
    assert plus.total_pulses + minus.total_pulses < plus_p.total_pulses + minus_p.total_pulses
    with pytest.raises(ValueError, match="idle='park' is not valid"):
        program_weights(w, tech, idle="park")
