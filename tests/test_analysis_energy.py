"""The energy model against hand calculations, operation counts against the model shapes
(docs/paper.md#fashion-mnist, #spoken-digit, #drive), monotonicity in every constant and the
error messages."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rrampaper.analysis import energy
from rrampaper.analysis.energy import Workload, compare, constants, count_operations

#: Round constants for hand calculations.
HAND = {"read_voltage_v": 0.2, "g_formed_s": 100e-6, "g_off_s": 1e-6, "read_time_s": 1e-7,
        "input_activity": 1.0, "adc_bits": 8, "adc_fom_j": 10e-15, "dac_fom_j": 10e-15,
        "digital_op_j": 0.1e-12, "ops_per_activation": 6, "sram_j_per_byte": 1.25e-12,
        "gpu_energy_per_flop_j": 5e-12, "gpu_dram_j_per_byte": 50e-12}


@pytest.fixture(scope="module")
def linear_ops():
    return count_operations(nn.Sequential(nn.Linear(4, 3, bias=False)), torch.zeros(1, 4))


def test_linear_4_3_hybrid_inference_by_hand(linear_ops):
    c = constants(**HAND)
    e = energy.hybrid_inference(linear_ops, c, input_bits=4, keep_ratio=1.0)
    # 12 pairs, each a formed cell (100 uS) and an off cell (1 uS): V^2 t G = 0.04 * 1e-7 * 101e-6
    assert e["crossbar read"] == pytest.approx(12 * 0.04 * 1e-7 * 101e-6, rel=1e-12)
    assert e["DAC"] == pytest.approx(4 * 10e-15 * 2**4, rel=1e-12)      # 0.64 pJ
    assert e["ADC"] == pytest.approx(3 * 10e-15 * 2**8, rel=1e-12)      # 7.68 pJ
    assert e["TIA"] == 0.0
    assert e["digital ops"] == pytest.approx(3 * 6 * 0.1e-12, rel=1e-12)
    # per output: ADC word (1 byte) + 4-bit activation (1 byte), written and read
    assert e["SRAM"] == pytest.approx(3 * 2 * 2 * 1.25e-12, rel=1e-12)
    assert e.sum() == pytest.approx(4.848e-12 + 0.64e-12 + 7.68e-12 + 1.8e-12 + 15e-12, rel=1e-12)
    # half the pairs pruned: the mean pair conductance is 0.5 * 100 + 0.5 * 1 + 1 uS
    pruned = energy.hybrid_inference(linear_ops, c, input_bits=4, keep_ratio=0.5)
    assert pruned["crossbar read"] == pytest.approx(12 * 0.04 * 1e-7 * 51.5e-6, rel=1e-12)


def test_linear_4_3_gpu_inference_by_hand(linear_ops):
    e = energy.gpu_inference(linear_ops, constants(**HAND), batch_size=1)
    assert e["GPU compute"] == pytest.approx((2 * 12 + 6 * 3) * 5e-12, rel=1e-12)
    # FP32: input 4 values, output written and read (2 * 3), weights once per batch (12)
    assert e["GPU DRAM"] == pytest.approx((4 + 6 + 12) * 4 * 50e-12, rel=1e-12)
    result = compare(linear_ops, constants(**HAND), Workload(input_bits=4, keep_ratio=1.0))
    hybrid = 4.848e-12 + 0.64e-12 + 7.68e-12 + 1.8e-12 + 15e-12
    gpu = 42 * 5e-12 + 88 * 50e-12
    assert result.reduction_percent == pytest.approx(100 * (1 - hybrid / gpu), rel=1e-9)
    assert result.efficiency_gain_percent == pytest.approx(100 * (gpu / hybrid - 1), rel=1e-9)


def test_board_preset_uses_datasheet_energies(linear_ops):
    c = constants("board")
    assert c["adc_fom_j"] * 2**14 == pytest.approx(50e-9)          # ADS8324: 2.5 mW / 50 kS/s
    assert c["read_time_s"] == pytest.approx(20e-6)
    e = energy.hybrid_inference(linear_ops, c, input_bits=4)
    assert e["ADC"] == pytest.approx(3 * 50e-9)
    assert e["DAC"] == pytest.approx(4 * 0.6e-3 * 5.5 * 20e-6)       # DAC80508 held for a read
    assert e["TIA"] == pytest.approx(3 * 1.5e-3 * 5.5 * 20e-6)       # OPA4322


def test_fashion_cnn_macs_match_the_shapes():
    ops = energy.task_operations("fashion_mnist")
    # docs/paper.md#fashion-mnist: conv1 [64,1,3,3] on 14x14 -> 12x12; conv2 [16,64,3,3] -> 10x10;
    # fc1 [128,400]; fc2 [10,128]
    assert ops["macs"].to_dict() == {"conv1": 64 * 9 * 12 * 12, "conv2": 16 * 64 * 9 * 10 * 10,
                                     "fc1": 128 * 400, "fc2": 10 * 128}
    assert ops["weights"].to_dict() == {"conv1": 576, "conv2": 9216, "fc1": 51200, "fc2": 1280}
    assert ops["adc"].to_dict() == {"conv1": 64 * 144, "conv2": 16 * 100, "fc1": 128, "fc2": 10}
    assert ops["dac"].to_dict() == {"conv1": 9 * 144, "conv2": 576 * 100, "fc1": 400, "fc2": 128}


def test_crnn_macs_match_the_shapes():
    ops = energy.task_operations("spoken_digit")
    # docs/paper.md#spoken-digit: conv1 [64,1,3,2] stride (2,1) on 23x20 -> 11x19;
    # conv2 [32,64,3,2] on 5x9 -> 2x8; RNN 4 steps x 128 x (32 + 128); fc1 [256,128]; fc2 [10,256]
    assert ops["macs"].to_dict() == {"conv1": 64 * 6 * 11 * 19, "conv2": 32 * 384 * 2 * 8,
                                     "rnn": 4 * 128 * 160, "fc1": 256 * 128, "fc2": 10 * 256}
    assert int(ops["weights"].sum()) == 68480


def test_counts_are_per_sample_and_follow_batch_first():
    rnn = nn.RNN(5, 7, batch_first=True, bias=False)
    one = count_operations(rnn, torch.zeros(1, 3, 5))
    three = count_operations(rnn, torch.zeros(3, 3, 5))
    assert one.equals(three)
    assert one.loc["", "macs"] == 3 * 7 * (5 + 7)


def test_unet_architecture_counts():
    ops = energy.unet_operations(48, 48)
    assert int(ops["weights"].sum()) == 4_313_440                    # docs/paper.md#drive
    blocks = ops["weights"].groupby(lambda name: name.split(".")[0]).sum()
    assert blocks.to_dict() == {"in_conv": 9504, "down1": 55296, "down2": 221184,
                                "down3": 884736, "down4": 1179648, "up1": 1474560,
                                "up2": 368640, "up3": 92160, "up4": 27648, "out_conv": 64}
    # up1.0: 512 -> 256 channels, 3x3, at 48 / 8 = 6 x 6 positions: MACs = weights x positions
    assert ops.loc["up1.0", "macs"] == 512 * 256 * 9 * 6 * 6
    assert int(energy.unet_operations(96, 96)["macs"].sum()) == 4 * int(ops["macs"].sum())


def test_unet_matches_the_model_when_it_exists():
    unet = pytest.importorskip("rrampaper.models.unet")
    cls = next((getattr(unet, n) for n in dir(unet) if n.lower() == "unet"), None)
    if cls is None:
        pytest.skip("rrampaper.models.unet has no UNet class")
    try:
        model = cls()
    except TypeError:
        pytest.skip("UNet needs constructor arguments")
    counted = count_operations(model, torch.zeros(1, 1, 48, 48))
    assert int(counted["macs"].sum()) == int(energy.unet_operations(48, 48)["macs"].sum())


def test_programming_energy_is_count_times_pulse_energy():
    c = constants(set_voltage_v=1.5, set_current_a=80e-6, set_width_s=200e-9,
                  reset_voltage_v=2.5, reset_current_a=120e-6, reset_width_s=500e-9)
    pulses = energy.pulse_energies(c)
    assert pulses["set"] == pytest.approx(1.5 * 80e-6 * 200e-9)
    assert pulses["reset"] == pytest.approx(2.5 * 120e-6 * 500e-9)
    assert energy.programming_energy(c, 1000, 250) == pytest.approx(
        1000 * 1.5 * 80e-6 * 200e-9 + 250 * 2.5 * 120e-6 * 500e-9)
    ops = energy.task_operations("fashion_mnist")
    base = Workload(input_bits=4, samples=100, steps=10)
    more = Workload(input_bits=4, samples=100, steps=10, set_ops=500, reset_ops=700,
                    initial_resets=31136)
    extra = (energy.hybrid_training(ops, c, more)["programming"]
             - energy.hybrid_training(ops, c, base)["programming"])
    assert extra == pytest.approx(500 * pulses["set"] + (700 + 31136) * pulses["reset"])


def test_count_model_programming():
    counts = energy.count_model_programming([576, 9216, 51200, 1280], 0.5, steps=100,
                                            flips_per_weight_step=0.01)
    assert counts["initial_resets"] == 31136
    assert counts["set_ops"] == counts["reset_ops"] == pytest.approx(0.01 * 62272 * 100 / 2)
    assert energy.initial_resets([10, 7], 0.3) == (10 - 3) + (7 - 3)


def test_energy_kept_count_is_topologys_at_keep_ratio_0_55():
    """0.55 * 51200 = 28160.000000000004 in floating point: a plain ceil would keep 28161."""
    from rrampaper import topology

    layer = nn.Sequential(nn.Linear(256, 200, bias=False))      # 51,200 weights
    topology.make_prunable(layer, keep_ratio=0.55, seed=0)
    with torch.no_grad():
        layer(torch.zeros(1, 256))
    pruned = topology.programming_counts(layer)["0.weight"]["initial_resets"]
    assert topology.kept_count(51200, 0.55) == 51200 - pruned == 28160
    assert energy.initial_resets([51200], 0.55) == pruned == 23040


HYBRID = ["read_voltage_v", "g_formed_s", "g_off_s", "read_time_s", "input_activity",
          "adc_bits", "adc_fom_j", "dac_fom_j", "dac_power_w", "tia_power_w",
          "forming_voltage_v", "forming_width_s", "digital_op_j", "digital_mac_j",
          "sram_j_per_byte", "error_bits"]
GPU = ["gpu_energy_per_flop_j", "gpu_dram_j_per_byte"]
#: Constants both systems use: programming pulses (TO's flips, WO's writes into the chip) and
#: the element-wise operations per activation (digital logic vs GPU FLOPs).
SHARED = ["set_voltage_v", "set_current_a", "set_width_s", "reset_voltage_v",
          "reset_current_a", "reset_width_s", "ops_per_activation"]
#: Constants that only training uses.
TRAINING_ONLY = ["set_voltage_v", "set_current_a", "set_width_s", "reset_voltage_v",
                 "reset_current_a", "reset_width_s", "forming_voltage_v", "forming_width_s",
                 "digital_mac_j", "error_bits"]


def test_every_constant_is_classified():
    assert sorted(HYBRID + GPU + SHARED) == sorted(energy.CONSTANTS)


@pytest.mark.parametrize("scenario", ["inference", "training"])
@pytest.mark.parametrize("name", HYBRID + GPU + SHARED)
def test_monotone_in_every_constant(name, scenario):
    ops = energy.task_operations("fashion_mnist")
    work = Workload(input_bits=4, batch_size=60, samples=600, steps=10, set_ops=100,
                    reset_ops=100, initial_resets=31136)
    c = constants(dac_power_w=1e-3, tia_power_w=1e-3)  # so that every term is non-zero
    low, high = c[name], 2 * c[name]
    if energy.CONSTANTS[name].integer:
        high = low + 1
    if name == "input_activity":
        low, high = 0.4, 0.8
    lo = compare(ops, c.replace(**{name: low}), work, scenario)
    hi = compare(ops, c.replace(**{name: high}), work, scenario)
    used = scenario == "training" or name not in TRAINING_ONLY
    if name in GPU:
        assert hi.gpu.sum() > lo.gpu.sum() and hi.reduction_percent > lo.reduction_percent
        assert hi.hybrid.sum() == lo.hybrid.sum()
    elif name in HYBRID:
        assert hi.gpu.sum() == lo.gpu.sum()
        assert hi.hybrid.sum() >= lo.hybrid.sum()
        assert hi.reduction_percent <= lo.reduction_percent
        assert (hi.hybrid.sum() > lo.hybrid.sum()) == used, name
    else:  # shared: each system's energy grows (or stays, where the constant is unused)
        assert hi.hybrid.sum() >= lo.hybrid.sum() and hi.gpu.sum() >= lo.gpu.sum()
        assert (hi.hybrid.sum() > lo.hybrid.sum()) == used, name


def test_reductions_are_in_the_papers_range():
    """Not a reproduction (the paper's method is NOT FOUND): the integrated preset must at least
    give a reduction for every task, largest for the U-Net, which reuses each weight most."""
    c = constants()
    got = {}
    for task in energy.ENERGY_TASKS:
        spec = energy.TASK_SPECS[task]
        got[task] = compare(energy.task_operations(task), c,
                            Workload(input_bits=spec.input_bits, batch_size=spec.batch_size)
                            ).reduction_percent
    assert all(50 < r < 100 for r in got.values()), got
    assert got["drive"] > got["fashion_mnist"] > got["spoken_digit"]
    board = compare(energy.task_operations("fashion_mnist"), constants("board"),
                    Workload(input_bits=4)).reduction_percent
    assert board < 0  # the discrete board converters cost more than the GPU


def test_sensitivity_table():
    ops = energy.task_operations("spoken_digit")
    table = energy.sensitivity(ops, constants(), Workload(input_bits=3, batch_size=30))
    assert list(table["swing"]) == sorted(table["swing"], reverse=True)
    assert "dac_power_w" not in table.index  # zero in the integrated preset: skipped
    assert table.loc["adc_bits", "low"] == 8 and table.loc["adc_bits", "high"] == 14
    assert table.attrs["baseline"] == pytest.approx(
        compare(ops, constants(), Workload(input_bits=3, batch_size=30)).reduction_percent)
    factor = energy.sensitivity(ops, constants(), Workload(input_bits=3), use_ranges=False)
    assert factor.loc["read_voltage_v", "low"] == pytest.approx(0.1)
    assert factor.loc["read_voltage_v", "high"] == pytest.approx(0.4)


def test_every_constant_has_a_source_and_valid_default():
    for name, spec in energy.CONSTANTS.items():
        assert spec.source and spec.unit is not None, name
        assert spec.check(spec.value) == spec.value
        if spec.low is not None:
            assert spec.low <= spec.value <= spec.high, name
    assert constants("board").table().loc["adc_fom_j", "source"].startswith("TI ADS8324")


@pytest.mark.parametrize(("call", "words"), [
    (lambda: constants(read_voltage_v=-0.1), ["read_voltage_v=-0.1", "[0, 5]"]),
    (lambda: constants(input_activity=1.5), ["input_activity=1.5", "[0, 1]"]),
    (lambda: constants(adc_bits=8.5), ["adc_bits=8.5", "integer"]),
    (lambda: constants(adc_bits=0), ["adc_bits=0", "[1, 24]"]),
    (lambda: constants(volts=1.0), ["'volts'", "valid names"]),
    (lambda: constants("fpga"), ["preset='fpga'", "'integrated'"]),
    (lambda: Workload(input_bits=0), ["input_bits=0"]),
    (lambda: Workload(input_bits=4, keep_ratio=1.5), ["keep_ratio=1.5", "[0, 1]"]),
    (lambda: Workload(input_bits=4, samples=-1), ["samples=-1"]),
    (lambda: energy.unet_operations(50, 48), ["height=50", "multiple of 16"]),
    (lambda: energy.task_operations("imagenet"), ["task='imagenet'", "'drive'"]),
    (lambda: energy.programming_energy(constants(), -1, 0), ["set_ops=-1"]),
])
def test_bad_parameters_raise_clear_errors(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_scenario_errors(linear_ops):
    with pytest.raises(ValueError, match="scenario='energy'"):
        compare(linear_ops, constants(), Workload(input_bits=4), "energy")
    with pytest.raises(ValueError, match="samples > 0 and steps > 0"):
        compare(linear_ops, constants(), Workload(input_bits=4), "training")
    with pytest.raises(ValueError, match="groups=2"):
        count_operations(nn.Conv2d(4, 4, 3, groups=2), torch.zeros(1, 4, 8, 8))


def test_training_scales_with_samples():
    ops = energy.task_operations("fashion_mnist")
    c = constants()
    one = energy.gpu_training(ops, c, Workload(input_bits=4, samples=1000, steps=0, wo_pulses=0))
    two = energy.gpu_training(ops, c, Workload(input_bits=4, samples=2000, steps=0, wo_pulses=0))
    assert math.isclose(two.sum(), 2 * one.sum(), rel_tol=1e-12)
