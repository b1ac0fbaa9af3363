"""Cell faults: deterministic fault maps, rates, nesting and replacement of faulty cells."""

from __future__ import annotations

import math

import pytest
import torch

from rrampaper.devices.faults import (
    FAULT_STREAM,
    OK,
    REPORTED_FAULT_RATES,
    REPORTED_UNRESPONSIVE_FRACTIONS,
    STUCK_OFF,
    STUCK_ON,
    UNFORMED,
    FaultModel,
    apply_faults,
    fault_map,
    fault_summary,
)
from rrampaper.devices.streams import (
    MACRO_STREAM,
    MEASURED_SIGN_STREAM,
    PROGRAM_STREAM,
    READ_STREAM,
    SIGN_STREAM,
)
from rrampaper.errors import ParameterError

N = 1_000_000


def test_fault_stream_tag_is_new():
    assert FAULT_STREAM not in {
        MACRO_STREAM,
        READ_STREAM,
        SIGN_STREAM,
        PROGRAM_STREAM,
        MEASURED_SIGN_STREAM,
    }


def test_defaults_are_off_and_sourced():
    model = FaultModel()
    assert not model.enabled
    assert model.g_stuck_on_s == pytest.approx(250e-6)
    assert model.g_stuck_off_s == pytest.approx(2e-6)
    assert model.g_unformed_s == pytest.approx(1e-7)
    table = model.parameter_table()
    assert table["source"].str.len().min() > 10


def test_same_seed_identical_different_seed_different():
    model = FaultModel(stuck_on_rate=0.05, stuck_off_rate=0.1, forming_failure_rate=0.02)
    a = fault_map((64, 128), model, 3, 7)
    assert a.dtype == torch.int8
    assert torch.equal(a, fault_map((64, 128), model, 3, 7))
    assert not torch.equal(a, fault_map((64, 128), model, 4, 7))
    assert not torch.equal(a, fault_map((64, 128), model, 3, 8))


@pytest.mark.parametrize(
    "rates",
    [
        (0.0175, 0.0904, 0.0),
        (0.05, 0.11, 0.02),
        (0.0, 0.002, 0.0),
        (0.3, 0.3, 0.4),
    ],
)
def test_observed_rates_within_four_standard_errors(rates):
    r_on, r_off, r_form = rates
    model = FaultModel(stuck_on_rate=r_on, stuck_off_rate=r_off, forming_failure_rate=r_form)
    counts = fault_summary(fault_map(N, model, 11))
    assert sum(counts.values()) == N
    expected = {
        "STUCK_ON": r_on,
        "STUCK_OFF": r_off,
        "UNFORMED": r_form,
        "OK": max(0.0, 1 - r_on - r_off - r_form),
    }
    for name, rate in expected.items():
        se = math.sqrt(rate * (1 - rate) / N)
        observed = counts[name] / N
        assert abs(observed - rate) <= 4 * se + 1e-12, (name, observed, rate)


def test_nesting_every_rate():
    base = dict(stuck_on_rate=0.02, stuck_off_rate=0.05, forming_failure_rate=0.01)
    codes = fault_map(200_000, FaultModel(**base), 5)
    for name, code in (
        ("stuck_on_rate", STUCK_ON),
        ("stuck_off_rate", STUCK_OFF),
        ("forming_failure_rate", UNFORMED),
    ):
        raised = fault_map(200_000, FaultModel(**{**base, name: base[name] + 0.1}), 5)
        # cells with this fault keep it, and no faulty cell is repaired
        assert bool((raised[codes == code] == code).all()), name
        assert bool((raised[codes != OK] != OK).all()), name
        assert int((raised == code).sum()) > int((codes == code).sum())
    # raising the stuck-OFF rate changes no stuck-ON or unformed cell, and vice versa for forming
    raised_off = fault_map(200_000, FaultModel(**{**base, "stuck_off_rate": 0.3}), 5)
    changed = raised_off != codes
    assert bool((codes[changed] == OK).all()) and bool((raised_off[changed] == STUCK_OFF).all())
    raised_form = fault_map(200_000, FaultModel(**{**base, "forming_failure_rate": 0.3}), 5)
    changed = raised_form != codes
    assert bool((codes[changed] == OK).all()) and bool((raised_form[changed] == UNFORMED).all())
    # raising the stuck-ON rate never changes a stuck-OFF cell
    raised_on = fault_map(200_000, FaultModel(**{**base, "stuck_on_rate": 0.3}), 5)
    assert torch.equal(raised_on == STUCK_OFF, codes == STUCK_OFF)


def test_zero_rates_no_faults_without_drawing(monkeypatch):
    import rrampaper.devices.faults as faults

    def boom(*args, **kwargs):
        raise AssertionError("drew random numbers with all rates 0")

    monkeypatch.setattr(faults, "generator", boom)
    codes = fault_map((32, 16), FaultModel(), 0)
    assert codes.shape == (32, 16) and codes.dtype == torch.int8
    assert int(codes.abs().sum()) == 0
    assert fault_summary(codes) == {"OK": 512, "STUCK_ON": 0, "STUCK_OFF": 0, "UNFORMED": 0}


def test_rates_summing_above_one_name_the_parameters():
    with pytest.raises(ParameterError) as info:
        FaultModel(stuck_on_rate=0.5, stuck_off_rate=0.4, forming_failure_rate=0.2)
    message = str(info.value)
    for name in ("stuck_on_rate", "stuck_off_rate", "forming_failure_rate"):
        assert name in message
    FaultModel(stuck_on_rate=0.5, stuck_off_rate=0.3, forming_failure_rate=0.2)  # sum = 1 is valid


def test_rate_out_of_range_refused():
    with pytest.raises(ValueError, match="stuck_on_rate"):
        FaultModel(stuck_on_rate=1.5)
    with pytest.raises(ValueError, match="g_unformed_s"):
        FaultModel(g_unformed_s=-1.0)


def test_all_faulty_when_rates_sum_to_one():
    model = FaultModel(stuck_on_rate=0.25, stuck_off_rate=0.5, forming_failure_rate=0.25)
    counts = fault_summary(fault_map(10_000, model, 1))
    assert counts["OK"] == 0


def test_apply_faults_replaces_exactly_the_faulty_cells():
    model = FaultModel(
        stuck_on_rate=0.1,
        stuck_off_rate=0.1,
        forming_failure_rate=0.1,
        g_stuck_on_s=300e-6,
        g_stuck_off_s=3e-6,
        g_unformed_s=2e-7,
    )
    codes = fault_map((40, 50), model, 2)
    gen = torch.Generator().manual_seed(0)
    g = torch.rand((40, 50), generator=gen, dtype=torch.float64) * 100e-6 + 10e-6
    out = apply_faults(g, codes, model)
    assert out.dtype == g.dtype and out.device == g.device and out.shape == g.shape
    assert torch.equal(out[codes == OK], g[codes == OK])
    assert bool((out[codes == STUCK_ON] == 300e-6).all())
    assert bool((out[codes == STUCK_OFF] == 3e-6).all())
    assert bool((out[codes == UNFORMED] == 2e-7).all())
    for code in (STUCK_ON, STUCK_OFF, UNFORMED):
        assert int((codes == code).sum()) > 0
    g32 = g.float()
    assert apply_faults(g32, codes, model).dtype == torch.float32


def test_apply_faults_shape_mismatch():
    model = FaultModel(stuck_on_rate=0.1)
    with pytest.raises(ParameterError):
        apply_faults(torch.zeros(3, 4), torch.zeros(4, 3, dtype=torch.int8), model)


def test_fault_summary_counts():
    codes = torch.tensor([0, 1, 1, 2, 3, 3, 3], dtype=torch.int8)
    assert fault_summary(codes) == {"OK": 1, "STUCK_ON": 2, "STUCK_OFF": 1, "UNFORMED": 3}


def test_reported_constants_and_preset():
    on, off, source = REPORTED_FAULT_RATES["chen2015_hfo2_4mb"]
    assert (on, off) == (0.0175, 0.0904)
    assert "LEAD" in source
    model = FaultModel.reported("chen2015_hfo2_4mb")
    assert model.stuck_on_rate == 0.0175 and model.stuck_off_rate == 0.0904
    assert REPORTED_UNRESPONSIVE_FRACTIONS["li2018_nat_commun_unresponsive"][0] == 0.11
    assert REPORTED_UNRESPONSIVE_FRACTIONS["li2018_nat_electron_yield"][0] == pytest.approx(0.002)
    with pytest.raises(ParameterError):
        FaultModel.reported("nope")
