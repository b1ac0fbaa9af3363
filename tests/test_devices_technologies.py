"""Technology presets: interface, cited parameters, noise laws, programming."""

from __future__ import annotations

import pytest
import torch

from rrampaper import devices
from rrampaper.devices import (
    PCM,
    TECHNOLOGIES,
    Technology,
    program_conductances,
    program_weights,
    technology,
)


def test_registry_has_paper_device_and_four_others():
    assert TECHNOLOGIES[:2] == ("taox_40nm_macro", "taox_post_verify_static")
    assert len(TECHNOLOGIES) >= 5
    for name in TECHNOLOGIES:
        tech = technology(name)
        assert isinstance(tech, Technology) and tech.name == name
        assert technology(tech) is tech
        assert {"d2d", "read", "programming"} <= set(tech.SOURCES)
        tab = tech.parameter_table()
        assert tab["source"].str.len().min() > 15
        assert tab["unit"].notna().all()


@pytest.mark.parametrize("name", TECHNOLOGIES)
def test_preset_statistics(name):
    tech = technology(name)
    pairs = tech.sample_pairs(20_000, seed=0)
    for g in (pairs.formed, pairs.reset, pairs.off):
        assert g.shape == (20_000,) and bool((g > 0).all()) and g.dtype == torch.float64
    assert float(pairs.formed.median()) > 5 * float(pairs.off.median())
    assert float(pairs.formed.max()) <= tech.g_max_s * (1 + 1e-9) or name.startswith("taox")
    g = torch.linspace(tech.g_min_s, tech.g_max_s, 50, dtype=torch.float64)
    assert bool((tech.read_sigma(g) > 0).all()) and bool((tech.programming_sigma(g) > 0).all())
    assert bool((tech.read_sigma(g) < g + 1e-6).all())
    again = tech.sample_pairs(100, seed=1)
    assert torch.equal(again.formed, tech.sample_pairs(100, seed=1).formed)


@pytest.mark.parametrize("name", TECHNOLOGIES)
def test_preset_parameter_errors(name):
    cls = type(technology(name))
    for spec in cls.PARAMETERS:
        with pytest.raises(ValueError, match=spec.name):
            cls(**{spec.name: spec.high * 2 + 1})


def test_technology_name_errors():
    with pytest.raises(ValueError, match="technology"):
        technology("mram")
    with pytest.raises(ValueError, match="on_median_s"):
        technology("pcm", on_median_s=30e-6)
    with pytest.raises(ValueError, match="g_min_prog_s"):
        technology("taox_post_verify_static", g_min_prog_s=3e-4)


def test_taox_uses_filament_model():
    tech = technology("taox_post_verify_static")
    pairs = tech.sample_pairs(50_000, seed=0)
    formed = pairs.formed > 1e-6
    assert float(formed.double().mean()) == pytest.approx(tech.formed_fraction, abs=0.01)
    # unformed cells stay pristine after RESET; formed cells go to the HRS
    assert torch.equal(pairs.reset[~formed], pairs.formed[~formed])
    assert float(pairs.reset[formed].median()) == pytest.approx(tech.hrs_median_s, rel=0.03)
    denser = tech.replace(forming_voltage_v=3.7)
    assert denser.formed_fraction > tech.formed_fraction


def test_pcm_drift_lowers_conductance_with_time():
    tech = PCM()
    g = torch.full((20_000,), 20e-6, dtype=torch.float64)
    later = [float(tech.drift(g, t, seed=0).mean()) for t in (0.0, 60.0, 3600.0, 86400.0)]
    assert later[0] == 20e-6 and later[0] > later[1] > later[2] > later[3]
    fresh = PCM(t_inference_s=0.0).sample_pairs(5000, seed=0).formed.median()
    aged = PCM(t_inference_s=86400.0).sample_pairs(5000, seed=0).formed.median()
    assert aged < fresh


@pytest.mark.parametrize("name", TECHNOLOGIES)
def test_open_loop_and_post_verify_errors_follow_their_laws(name):
    tech = technology(name, levels=0)
    target = 0.6 * tech.g_max_s
    g = torch.tensor([target], dtype=torch.float64)
    res = program_conductances(torch.full((20_000,), target), tech, "open_loop", seed=0)
    assert float(res.conductance_s.std()) == pytest.approx(float(tech.programming_sigma(g)), rel=0.05)
    assert res.total_pulses == 20_000
    if tech.has_post_verify:
        res = program_conductances(torch.full((20_000,), target), tech, "post_verify", seed=0)
        assert float(res.conductance_s.std()) == pytest.approx(float(tech.post_verify_sigma(g)), rel=0.05)
    else:
        with pytest.raises(ValueError, match="no published post-verify"):
            program_conductances(torch.full((4,), target), tech, "post_verify", seed=0)


def test_renamed_names_say_what_replaced_them():
    with pytest.raises(ValueError, match="taox_40nm_macro.*taox_post_verify_static"):
        technology("taox_40nm")
    with pytest.raises(ValueError, match="open_loop.*post_verify"):
        program_conductances(torch.full((4,), 1e-4), "taox_post_verify_static", "one_shot")


def test_write_verify_tolerance_and_budget():
    target = torch.full((5000,), 100e-6)
    res = program_conductances(target, "taox_post_verify_static", tolerance=0.02, max_pulses=100, seed=0)
    assert bool(res.converged.all())
    # accepted cells sit within the window up to the verify-read noise
    assert float(((res.conductance_s - 100e-6).abs() <= 2e-6 + 4e-6).double().mean()) > 0.99
    tight = program_conductances(target, "taox_post_verify_static", tolerance=0.005, atol_s=0.0, max_pulses=3, seed=0)
    assert int(tight.pulses.max()) == 3 and not bool(tight.converged.all())
    loose = program_conductances(target, "taox_post_verify_static", tolerance=0.2, max_pulses=100, seed=0)
    assert loose.pulses.float().mean() < res.pulses.float().mean()


def test_program_weights_range_error():
    with pytest.raises(ValueError, match="rescale"):
        program_weights(torch.tensor([1e-3]), "hfox_rram")
    achieved, plus, minus = program_weights(torch.tensor([20e-6, -20e-6]), "ecram", seed=0)
    assert torch.allclose(achieved, torch.tensor([20e-6, -20e-6], dtype=torch.float64), atol=2e-6)


def test_exports():
    for name in ("Chip", "DeviceWeights", "technology", "TECHNOLOGIES", "MeasuredChip", "FilamentModel"):
        assert hasattr(devices, name)
