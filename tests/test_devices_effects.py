"""The device effects (time, faults, levels, ADC, IR drop) applied to TO and WO alike."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rrampaper import topology
from rrampaper.baselines import program_model
from rrampaper.baselines.device_weight import device_weights
from rrampaper.devices import Chip, program_conductances, technology
from rrampaper.devices.effects import EFFECT_PARAMETERS
from rrampaper.devices.faults import OK, STUCK_OFF, STUCK_ON
from rrampaper.devices.relaxation import relaxation_law

US = 1e-6
SHAPES = [(40, 300), (64, 40), (10, 64)]  # 16,640 pairs: two 64 x 128-pair macros


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(300, 40, bias=False), nn.ReLU(),
                         nn.Linear(40, 64, bias=False), nn.ReLU(), nn.Linear(64, 10, bias=False))


def _faulty(**changes):
    return technology("taox_40nm_macro", stuck_on_rate=0.05, stuck_off_rate=0.1,
                      levels=0, adc_bits=0, **changes)


def test_macro_preset_lists_every_effect_with_unit_range_and_source():
    table = technology("taox_40nm_macro").parameter_table()
    for p in EFFECT_PARAMETERS:
        row = table.loc[p.name]
        assert row["valid range"] and len(row["source"]) > 20
    assert table.loc["law: relaxation", "value"] == "wan_2022"
    assert table.loc["law: open_loop", "value"] == "poisson_defects_open_loop"
    macro = technology("taox_40nm_macro")
    assert macro.adc_bits == 8 and macro.levels == 32
    assert macro.faults.total_rate == pytest.approx(0.002)
    static = technology("taox_post_verify_static")
    assert static.adc_bits == 0 and static.levels == 0 and not static.faults.enabled
    assert static.relaxation.name == "none"


def test_fault_map_is_a_chip_property_shared_by_to_and_wo():
    tech = _faulty()
    to_chip = Chip(tech, seed=5, macro_rows=64, macro_cols=256)
    wo_chip = Chip(tech, seed=5, macro_rows=64, macro_cols=256)
    for shape in SHAPES:
        to_codes = to_chip.allocate(shape).fault_codes
        assert torch.equal(to_codes, wo_chip.allocate_fault_codes(shape))
    assert to_chip.n_macros == 2
    other = Chip(tech, seed=6, macro_rows=64, macro_cols=256).allocate(SHAPES[0]).fault_codes
    assert not torch.equal(other, Chip(tech, seed=5, macro_rows=64,
                                       macro_cols=256).allocate(SHAPES[0]).fault_codes)
    codes = torch.cat([c.reshape(-1) for c in (to_codes,)])
    n = codes.numel()
    for code, rate in ((STUCK_ON, 0.05), (STUCK_OFF, 0.1)):
        observed = float((codes == code).double().mean())
        assert abs(observed - rate) < 4 * math.sqrt(rate * (1 - rate) / n)


def test_faulty_cells_cannot_be_pruned_or_programmed():
    tech = _faulty()
    chip = Chip(tech, seed=1, macro_rows=64, macro_cols=256)
    w = chip.allocate((64, 128))
    kept, pruned = w.read()
    codes = w.fault_codes
    random_code = torch.where(w.sign > 0, codes[..., 0], codes[..., 1])
    stuck = random_code != OK
    # a stuck random cell is the same whether the pair is kept or pruned
    assert torch.equal(kept[stuck], pruned[stuck])
    assert bool((kept[~stuck] != pruned[~stuck]).any())
    # WO on the same chip: every faulty cell ends at its fault conductance
    model = nn.Sequential(nn.Linear(128, 64, bias=False))
    programmed, report = program_model(model, tech, "write_verify", seed=1, macro_rows=64,
                                       macro_cols=256)
    dw = dict(device_weights(programmed))["0.weight"]
    faults = tech.faults
    for k, g in enumerate((dw.g_plus, dw.g_minus)):
        on = codes[..., k] == STUCK_ON
        off = codes[..., k] == STUCK_OFF
        assert torch.allclose(g[on].double(), torch.full_like(g[on].double(), faults.g_stuck_on_s))
        assert torch.allclose(g[off].double(), torch.full_like(g[off].double(), faults.g_stuck_off_s))
    assert report.faulty_cells == int((codes != OK).sum())
    # write-verify spends its pulse budget on stuck cells whose fault is outside the window
    assert report.converged_fraction < 1.0


def test_write_verify_cannot_remove_relaxation_after_it():
    tech = technology("taox_40nm_macro", levels=0, adc_bits=0, stuck_on_rate=0.0,
                      stuck_off_rate=0.0)
    layer = nn.Linear(200, 100, bias=False)
    results = {}
    for t in (1.0, 86_400.0, 3.15e7):
        programmed, report = program_model(layer, tech, "write_verify", seed=2, tolerance=0.01,
                                           max_pulses=100, t_inference_s=t, idle="program")
        dw = dict(device_weights(programmed))["weight"]
        results[t] = (dw.g_plus.double(), report.relative_error)
    g1, err1 = results[1.0]
    g_day, err_day = results[86_400.0]
    _, err_year = results[3.15e7]
    assert err1 < err_day <= err_year
    # what relaxation added is the law's increment, whatever the verify achieved before
    expected = relaxation_law("wan_2022").sigma_increment(g1, 86_400.0)
    z = (g_day - g1) / expected
    assert float(z.std()) == pytest.approx(1.0, abs=0.03)


def test_chip_relaxes_to_inference_time_and_back():
    tech = technology("taox_40nm_macro", stuck_on_rate=0.05, stuck_off_rate=0.0)
    chip = Chip(tech, seed=3, macro_rows=64, macro_cols=256)
    w = chip.allocate((64, 128))
    kept_1s, pruned_1s = w.read()
    chip.set_time(86_400.0)
    kept_day, _ = w.read()
    assert not torch.equal(kept_day, kept_1s)
    codes = w.fault_codes
    g_f, g_r, g_o = w.cells
    formed = (g_f != g_r).reshape(w.shape)
    both_ok = ((codes != OK).sum(-1) == 0) & formed
    moved = (kept_day - kept_1s)[both_ok].double()
    law = tech.relaxation
    sigma = torch.sqrt(law.sigma_increment(g_f, 86_400.0) ** 2
                       + law.sigma_increment(g_o, 86_400.0) ** 2).reshape(w.shape)[both_ok]
    assert float((moved / sigma).std()) == pytest.approx(1.0, abs=0.05)
    assert torch.equal((kept_day - kept_1s)[~both_ok & (codes.sum(-1) == 2 * STUCK_ON)],
                       torch.zeros(int((~both_ok & (codes.sum(-1) == 2 * STUCK_ON)).sum())))
    again = Chip(tech, seed=3, macro_rows=64, macro_cols=256).allocate((64, 128)).set_time(86_400.0)
    assert torch.equal(again.read()[0], kept_day)
    chip.set_time(1.0)
    assert torch.equal(w.read()[0], kept_1s) and torch.equal(w.read()[1], pruned_1s)


def test_levels_round_wo_targets():
    tech = technology("taox_40nm_macro", levels=5)
    target = torch.linspace(tech.g_min_s, tech.g_max_s, 101, dtype=torch.float64)
    quiet = tech.replace(open_loop_scale=0.0)
    landed = program_conductances(target, quiet, "open_loop", seed=0).conductance_s
    levels = torch.linspace(tech.g_min_s, tech.g_max_s, 5, dtype=torch.float64)
    assert set(torch.unique(landed).tolist()) <= set(levels.tolist())


@pytest.mark.parametrize("bits", [3, 5])
def test_adc_reads_every_analog_product_of_to_and_wo(bits):
    tech = technology("taox_40nm_macro", adc_bits=bits, stuck_on_rate=0.0, stuck_off_rate=0.0)
    to = topology.make_prunable(_mlp(), Chip(tech, seed=0), keep_ratio=0.5, seed=0)
    wo, _ = program_model(_mlp(), tech, "write_verify", seed=0)
    x = torch.randn(32, 300)
    for model, layer_type in ((to, topology.PrunableLinear), (wo, nn.Linear)):
        outputs: list[torch.Tensor] = []

        def record(_m, _i, out, outputs=outputs):
            outputs.append(out.detach())

        hooks = [m.register_forward_hook(record)
                 for m in model.modules() if isinstance(m, layer_type)]
        model.eval()
        with torch.no_grad():
            model(x)
        for h in hooks:
            h.remove()
        assert len(outputs) == 3
        # forward hooks run in registration order: the ADC's first, so ours sees its codes
        for y in outputs:
            assert torch.unique(y).numel() <= 2**bits - 1
    ideal = topology.make_prunable(_mlp(), Chip(tech.replace(adc_bits=0), seed=0),
                                   keep_ratio=0.5, seed=0)
    ideal.eval()
    with torch.no_grad():
        assert torch.unique(ideal[1](x)).numel() > 2**bits


def test_ir_drop_weakens_far_cells_for_both_methods():
    tech = technology("taox_post_verify_static", ir_wire_ohm=2.0, ir_tile_rows=64,
                      ir_tile_cols=64)
    plain = Chip("taox_post_verify_static", seed=0).allocate((64, 64)).read()[0]
    dropped = Chip(tech, seed=0).allocate((64, 64)).read()[0]
    ratio = (dropped.abs() / plain.abs().clamp(min=1e-12))[plain.abs() > 20 * US]
    assert float(ratio.max()) <= 1.0 + 1e-6 and float(ratio.min()) < 0.95
    layer = nn.Linear(64, 64, bias=False)
    near = program_model(layer, "taox_post_verify_static", "post_verify", seed=0)[1]
    far = program_model(layer, tech, "post_verify", seed=0)[1]
    assert far.relative_error > near.relative_error


def test_adc_reads_the_recurrent_products_of_to_and_wo():
    """The spoken-digit RNN computes step by step: its input projection and every recurrent
    product go through the ADC (for TO's PrunableRNN and WO's programmed QuantizedRNN)."""
    from rrampaper.devices.readout import OutputADC
    from rrampaper.models.crnn import QuantizedRNN

    tech = technology("taox_40nm_macro", adc_bits=3, stuck_on_rate=0.0, stuck_off_rate=0.0)
    seen: list[torch.Tensor] = []
    original = OutputADC.forward

    def spy(self, y):
        out = original(self, y)
        seen.append(out.detach())
        return out

    torch.manual_seed(0)
    rnn = nn.Sequential(QuantizedRNN(6, 8))
    x = torch.randn(5, 2, 6)  # 5 steps
    to = topology.make_prunable(copy_of(rnn), Chip(tech, seed=0), keep_ratio=0.5, seed=0)
    wo, _ = program_model(copy_of(rnn), tech, "write_verify", seed=0)
    for model in (to, wo):
        seen.clear()
        OutputADC.forward = spy
        try:
            model.eval()
            with torch.no_grad():
                model[0](x)
        finally:
            OutputADC.forward = original
        assert len(seen) == 1 + 4  # the input projection, then one product per later step
        assert all(torch.unique(y).numel() <= 2**3 - 1 for y in seen)
    plain, _ = program_model(copy_of(rnn), tech.replace(adc_bits=0), "write_verify", seed=0)
    assert plain[0].mvm_readout is None


def copy_of(module: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(module)


def test_official_synthetic_device_is_the_parity_checks_device():
    tech = technology("official_synthetic")
    pairs = tech.sample_pairs(200_000, seed=0)
    assert float(pairs.formed.mean()) == pytest.approx(40 * US, rel=0.01)
    assert float(pairs.formed.std()) == pytest.approx(15 * US, rel=0.01)
    assert float(pairs.off.mean()) == pytest.approx(1.0 * US + 0.5 * US * 0.0085, rel=0.02)
    assert float(pairs.off.min()) > 0 and float(pairs.reset.min()) > 0
    g = torch.tensor([10e-6, 40e-6], dtype=torch.float64)
    assert torch.allclose(tech.read_sigma(g), 0.02 * g)
