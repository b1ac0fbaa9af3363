"""Tutorial 3 (``rrampaper.teaching.programming``): programming one cell, relaxation, TO against
WO on one chip, the explorer and the exercise checks. Numbers are those of seed 0 on
``taox_40nm_macro`` (measured with torch's CPU kernels; margins where training is involved)."""

from __future__ import annotations

import time

import pytest
import torch

from rrampaper import devices, topology
from rrampaper.errors import ParameterError
from rrampaper.teaching import programming as tut
from rrampaper.teaching.widgets import png_bytes

TECH = tut.DEFAULT_TECHNOLOGY


@pytest.fixture(scope="module")
def programmed():
    """``cell_targets()`` programmed open-loop and write-verify (seed 0)."""
    targets = tut.cell_targets(TECH)
    results = {m: devices.program_conductances(targets, TECH, m, seed=0) for m in tut.METHODS}
    return targets, results


@pytest.fixture(scope="module")
def comparison():
    """The tutorial's one precomputation (WO and hardware TO trained once, about 3 s)."""
    return tut.prepare_comparison(TECH, seed=0)


# --- 1 · one cell ------------------------------------------------------------------------------
def test_cell_targets_sit_on_the_levels():
    targets = tut.cell_targets(TECH)
    assert targets.shape == (400,)
    values = torch.unique(targets)
    assert len(values) == 8
    assert float(values[0]) == pytest.approx(2e-6)                   # g_min, level 0
    assert float(values[1]) == pytest.approx(2e-6 + 4 * 223e-6 / 31)  # level 4 of 32
    # on the levels, snapping does not move them: noiseless open-loop lands exactly there
    quiet = devices.ScaledNoise(TECH, programming_scale=0.0)
    landed = devices.program_conductances(targets, quiet, "open_loop", seed=0).conductance_s
    torch.testing.assert_close(landed, targets)


def test_cell_targets_refuses_more_targets_than_levels():
    with pytest.raises(ValueError, match=r"n_targets=40 .* 32 levels"):
        tut.cell_targets(TECH, n_targets=40)


def test_write_verify_lands_closer_and_costs_more_pulses(programmed):
    targets, results = programmed
    open_loop, write_verify = results["open_loop"], results["write_verify"]
    assert open_loop.total_pulses == 400       # one pulse per cell
    assert write_verify.total_pulses == 1220   # seed 0: 3.05 pulses per cell
    table = tut.programming_table(targets, results)
    assert table.loc["open_loop", "rms_error_uS"] == pytest.approx(10.053, abs=0.001)
    assert table.loc["write_verify", "rms_error_uS"] == pytest.approx(3.551, abs=0.001)
    assert table.loc["write_verify", "mean_pulses"] == pytest.approx(3.05)
    assert table.loc["write_verify", "max_pulses"] == 20       # a cell spent the whole budget
    assert table.loc["write_verify", "converged_%"] == pytest.approx(99.5)
    assert table.loc["open_loop", "converged_%"] == 100.0


def test_write_verify_costs_most_at_the_lowest_target(programmed):
    """At 2 µS the open-loop sigma (1.41 µS) is wider than the 0.5 µS window."""
    targets, results = programmed
    pulses = results["write_verify"].pulses.double()
    lowest, highest = targets.min(), targets.max()
    assert float(pulses[targets == lowest].mean()) == pytest.approx(6.36)
    assert float(pulses[targets == highest].mean()) == pytest.approx(1.94)


def test_plot_programming_has_two_panels(programmed):
    fig = tut.plot_programming(*programmed, TECH)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_xlabel() == "target conductance (µS)"


# --- 2 · relaxation ----------------------------------------------------------------------------
def test_relaxation_error_grows_with_time(programmed):
    errors = tut.relaxation_errors(*programmed, TECH)
    assert list(errors.index) == list(tut.TIMES_S)
    for method in tut.METHODS:
        column = errors[method].to_numpy()
        assert (column[1:] >= column[:-1]).all()
    # write-verify: 3.55 µS at 1 s, 4.46 µS one day later (seed 0)
    assert errors.loc["1 s", "write_verify"] == pytest.approx(3.551, abs=0.001)
    assert errors.loc["1 day", "write_verify"] == pytest.approx(4.461, abs=0.001)
    assert errors.loc["1 day", "open_loop"] > 1.15 * errors.loc["1 s", "open_loop"]
    # the wan_2022 law holds its spread after 2 days: 1 year equals 10 years
    assert errors.loc["1 year", "write_verify"] == errors.loc["10 years", "write_verify"]
    assert len(tut.plot_relaxation(errors).axes) == 1


def test_relaxation_errors_names_a_bad_time(programmed):
    with pytest.raises(ParameterError, match="times_s"):
        tut.relaxation_errors(*programmed, TECH, times_s={"never": -1.0})


def test_time_label():
    assert tut.time_label(1.0) == "1 s"
    assert tut.time_label(365.25 * 86400.0) == "1 year"
    assert tut.time_label(5.0) == "5 s"


# --- 4 · exercises 1 and 2 (no training) -----------------------------------------------------
def test_open_loop_sigma_check(capsys):
    assert tut.check_open_loop_sigma(None) is False
    assert "not answered yet" in capsys.readouterr().out
    expected = float(devices.technology(TECH).programming_sigma(torch.tensor(40e-6))) / 1e-6
    assert expected == pytest.approx(40**0.5)  # sqrt(G * 1 µS), docs/devices.md#programming
    assert tut.check_open_loop_sigma(expected) is True
    assert tut.check_open_loop_sigma(torch.tensor(6.3)) is True
    assert "right" in capsys.readouterr().out
    with pytest.raises(tut.ExerciseError,
                       match=r"at 40 µS should be between 6.22 and 6.42 µS; you gave 5"):
        tut.check_open_loop_sigma(5)
    with pytest.raises(tut.ExerciseError, match="should be a number; you gave 'six'"):
        tut.check_open_loop_sigma("six")
    assert issubclass(tut.ExerciseError, AssertionError)


def test_write_verify_pulses_check(capsys):
    assert tut.check_write_verify_pulses(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert tut.expected_write_verify_pulses() == pytest.approx(2427 / 400)  # 2 % window
    assert tut.expected_write_verify_pulses(0.05) == pytest.approx(3.05)      # the default 5 %
    assert tut.check_write_verify_pulses(6.07) is True
    with pytest.raises(tut.ExerciseError, match=r"between 6.02 and 6.12; you gave 3.05"):
        tut.check_write_verify_pulses(3.05)


# --- 3 · TO against WO (trains once: slow) ---------------------------------------------------
@pytest.mark.slow
def test_precompute_is_short_and_both_learn(comparison):
    assert comparison.precompute_s < 15.0      # measured 3.0 s on 2 shared cores
    assert comparison.software_accuracy == pytest.approx(97.5, abs=2.0)
    assert comparison.accuracies(1.0, 1.0, "write_verify")["TO"] == pytest.approx(96.0, abs=2.5)


@pytest.mark.slow
def test_noise_reaches_wo_not_to(comparison):
    """Measured at seed 0: WO open-loop 96.5 % at ×1, 79.5 % at ×10; TO 96.0 % at every multiple."""
    at_1 = comparison.accuracies(1.0, 1.0, "open_loop")
    at_10 = comparison.accuracies(10.0, 1.0, "open_loop")
    assert at_1["WO"] >= 94.0
    assert at_10["WO"] <= 85.0
    assert at_10["WO"] < at_1["WO"] - 10.0
    to = {noise: comparison.accuracies(noise, 1.0, "open_loop")["TO"]
          for noise in tut.NOISE_MULTIPLES}
    assert len(set(to.values())) == 1, to
    # write-verify pays for its accuracy in pulses, more of them the noisier the device
    wv_1 = comparison.accuracies(1.0, 1.0, "write_verify")
    wv_10 = comparison.accuracies(10.0, 1.0, "write_verify")
    assert wv_1["WO pulses"] > 3 * at_1["WO pulses"]
    assert wv_10["WO pulses"] > 2 * wv_1["WO pulses"]
    assert wv_10["WO"] > at_10["WO"]


@pytest.mark.slow
def test_time_reaches_to(comparison):
    """TO's cells relax too: its outputs move between 1 s and 1 day (its accuracy, 96 %, holds)."""
    x = comparison.data.x_test

    def logits(t_s):
        model = topology.begin_evaluation(comparison.to_on_device(1.0, t_s))
        with torch.no_grad():
            return model(x).clone()

    early, late = logits(1.0), logits(86400.0)
    assert float((late - early).abs().max()) > 0.05
    torch.testing.assert_close(logits(1.0), early)  # back at 1 s: the same chip state


@pytest.mark.slow
def test_explorer_caption_follows_the_controls(comparison, capsys):
    explorer = tut.comparison_explorer(comparison, noise=1.0, t_s=1.0, method="open_loop")
    assert explorer.caption == "WO 96.5 % · TO 96.0 % · noise ×1 · 1 s · open_loop"
    explorer.controls["noise"].value = 10.0          # the wired observer redraws
    assert explorer.caption == "WO 79.5 % · TO 96.0 % · noise ×10 · 1 s · open_loop"
    explorer.controls["method"].value = "write_verify"
    assert explorer.caption.endswith("noise ×10 · 1 s · write_verify")
    explorer.controls["t_s"].value = 86400.0
    assert " · 1 day · " in explorer.caption
    capsys.readouterr()


@pytest.mark.slow
def test_redraw_takes_under_a_second(comparison):
    timings = []
    for noise, t_s, method in ((5.0, 1.0, "open_loop"), (5.0, 86400.0, "write_verify"),
                               (5.0, 315576000.0, "write_verify")):
        start = time.perf_counter()
        fig, _ = tut.draw_comparison(comparison, noise, t_s, method)
        png_bytes(fig)  # what a redraw shows: the figure as PNG
        timings.append(time.perf_counter() - start)
    assert max(timings) < 1.0, timings   # measured 0.22 s median, 0.61 s max (2 busy cores)


@pytest.mark.slow
def test_crossing_check(comparison, capsys):
    assert tut.check_crossing(None, comparison) is False
    assert "not answered yet" in capsys.readouterr().out
    # TO - WO open-loop: -2, -0.5, +0.5, +7.5, +16.5 points at x0.5 ... x10 (seed 0)
    assert tut.expected_crossing(comparison) == 5.0
    assert tut.expected_crossing(comparison, "write_verify") == 10.0
    assert tut.check_crossing(5, comparison) is True
    with pytest.raises(tut.ExerciseError, match=r"should be 5 \(one of .*\); you gave 2"):
        tut.check_crossing(2.0, comparison)
    with pytest.raises(tut.ExerciseError, match="should be 5; you gave 'none'"):
        tut.check_crossing("none", comparison)


@pytest.mark.slow
def test_bad_parameters_are_named(comparison):
    with pytest.raises(ParameterError, match="method='post_verify' is not valid"):
        comparison.wo_on_device(1.0, 1.0, "post_verify")
    with pytest.raises(ParameterError, match="noise"):
        comparison.to_on_device(-1.0)
    with pytest.raises(ParameterError, match="noise=3.0 is not valid"):
        tut.comparison_controls(noise=3.0)
    with pytest.raises(ParameterError, match="technology='nope' is not valid"):
        tut.prepare_comparison("nope")


@pytest.mark.slow
def test_the_technology_dropdown_switches_between_chips_trained_beforehand(comparison):
    comparisons = tut.prepare_comparisons(("taox_40nm_macro", "pcm"), base=comparison)
    assert comparisons["taox_40nm_macro"] is comparison  # reused, not trained again
    explorer = tut.comparison_explorer(comparisons, noise=1.0, t_s=1.0, method="open_loop")
    assert list(explorer.controls) == ["noise", "t_s", "method", "technology"]
    assert explorer.caption.endswith("· taox_40nm_macro")
    start = time.perf_counter()
    explorer.controls["technology"].value = "pcm"
    assert time.perf_counter() - start < 1.0  # a redraw, not a training
    assert explorer.caption.endswith("· pcm")
    expected = comparisons["pcm"].accuracies(1.0, 1.0, "open_loop")
    assert explorer.caption.startswith(f"WO {expected['WO']:.1f} % · TO {expected['TO']:.1f} %")
    with pytest.raises(ValueError, match="technologies='nope' is not valid"):
        tut.prepare_comparisons(("nope",))
