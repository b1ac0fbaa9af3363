"""Tutorial 1 (electroforming): the explorer reports the model, redraws fast, checks exercises."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from rrampaper.devices import FilamentModel
from rrampaper.teaching import forming
from rrampaper.teaching.widgets import Explorer

CAPTION = re.compile(r"^formed fraction: (\d+\.\d) % at (\d\.\d\d) V, ")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "tutorials"


def caption_percent(caption: str) -> float:
    match = CAPTION.match(caption)
    assert match, f"caption does not start with 'formed fraction: <x.y> %': {caption!r}"
    return float(match.group(1))


@pytest.fixture()
def explorer() -> Explorer:
    """An explorer built without displaying it (what explore() shows)."""
    ex = Explorer(forming.draw_forming, forming.controls())
    ex.render()
    return ex


# -- the explorer reports the model ------------------------------------------------------
def test_caption_format_and_value_equal_the_model(explorer):
    model = FilamentModel()
    for voltage, width in ((3.4, 1e-6), (3.0, 1e-7), (3.7, 1e-5)):
        explorer.controls["voltage_v"].value = voltage
        explorer.controls["width_s"].value = width
        png, caption = explorer.render()
        assert png.startswith(b"\x89PNG") and caption == explorer.caption
        expected = 100 * model.formed_probability(voltage, width)
        assert caption_percent(caption) == pytest.approx(expected, abs=0.05 + 1e-9)
        assert f"at {voltage:.2f} V, {forming.format_width(width)}" in caption


def test_default_caption_is_exact():
    _fig, caption = forming.draw_forming()
    assert caption.startswith("formed fraction: 42.9 % at 3.40 V, 1 µs")
    assert round(100 * FilamentModel().formed_probability(3.4, 1e-6), 1) == 42.9


def test_formed_fraction_increases_with_voltage():
    macro = forming.pristine_macro(0)
    low, high, step = forming.VOLTAGE_SLIDER_V
    voltages = np.arange(low, high + step / 2, step)
    formed = [macro.form(v, 1e-6) for v in voltages]
    model_f = np.array([m.probability for m in formed])
    reported = np.array([caption_percent(forming.caption(m)) for m in formed])
    assert np.all(np.diff(model_f) > 0)
    assert np.all(np.diff(reported) >= 0)
    # the slider spans the S-curve at the default width: from < 1 % to > 99 %
    assert model_f[0] < 0.01 and model_f[-1] > 0.99
    # each cell has its own breakdown voltage: a cell formed at V stays formed above V
    for lower, upper in zip(formed, formed[1:], strict=False):
        assert not np.any(lower.formed & ~upper.formed)


def test_longer_pulse_forms_more():
    macro = forming.pristine_macro(0)
    fractions = [macro.form(3.4, w).probability for w in forming.WIDTHS_S]
    assert np.all(np.diff(fractions) > 0)


def test_macro_matches_the_model_within_sampling_error():
    model = FilamentModel()
    for voltage, width in ((3.2, 1e-6), (3.5, 1e-6), (3.4, 1e-5)):
        macro = forming.pristine_macro(1).form(voltage, width)
        n = macro.formed.size
        p = model.formed_probability(voltage, width)
        assert macro.probability == p
        assert abs(macro.formed_fraction - p) < 5 * math.sqrt(p * (1 - p) / n)
        law = model.formed_conductance_distribution(voltage, width)
        assert macro.median_formed_s == pytest.approx(float(law.ppf(0.5)), rel=0.01)
        unformed = macro.conductance_s[~macro.formed]
        assert np.median(unformed) == pytest.approx(model.pristine_conductance_s, rel=0.02)
        w = macro.weight_s
        assert np.allclose(np.abs(w), np.abs(macro.conductance_s - macro.off_s))
        assert abs(float((w > 0).mean()) - 0.5) < 0.01


def test_macro_is_512_by_512_and_reproducible():
    a, b = forming.pristine_macro(2), forming.pristine_macro(2)
    assert a.sign.shape == (512, 512) and a.n_cells == 262_144
    assert a is b  # cached
    fresh = forming.pristine_macro.__wrapped__(2)
    assert np.array_equal(fresh.breakdown_quantile, a.breakdown_quantile)
    assert not np.array_equal(forming.pristine_macro(3).sign, a.sign)


# -- the controls ------------------------------------------------------------------------
def test_moving_a_control_changes_the_caption(explorer):
    first = explorer.caption
    explorer.controls["voltage_v"].value = 3.6
    explorer.redraw()
    moved = explorer.caption
    assert moved != first
    assert caption_percent(moved) > caption_percent(first)
    explorer.controls["width_s"].value = 1e-7
    explorer.redraw()
    expected = 100 * FilamentModel().formed_probability(3.6, 1e-7)
    assert explorer.caption.startswith(f"formed fraction: {expected:.1f} % at 3.60 V, 100 ns")
    assert caption_percent(explorer.caption) < caption_percent(moved)
    # another chip: the same model fraction, another sample (another figure)
    png_chip0, caption_chip0 = explorer.render()
    explorer.controls["seed"].value = 1
    png_chip1, caption_chip1 = explorer.render()
    assert caption_chip1.split(";")[0] == caption_chip0.split(";")[0]
    assert png_chip1 != png_chip0


def test_controls_describe_the_pulse():
    c = forming.controls()
    assert set(c) == {"voltage_v", "width_s", "seed"}
    v = c["voltage_v"]
    assert type(v).__name__ == "FloatSlider" and v.description == "forming voltage (V)"
    model = FilamentModel()
    assert v.min < model.voltage_for_formed_fraction(0.01, 1e-6)
    assert v.max > model.voltage_for_formed_fraction(0.99, 1e-6)
    assert v.value == forming.DEFAULT_VOLTAGE_V
    w = c["width_s"]
    assert type(w).__name__ == "SelectionSlider" and w.value == 1e-6
    assert [label for label, _ in w.options] == ["100 ns", "300 ns", "1 µs", "3 µs", "10 µs"]
    assert [value for _, value in w.options] == list(forming.WIDTHS_S)
    assert type(c["seed"]).__name__ == "Dropdown" and c["seed"].value == 0


def test_one_redraw_takes_under_a_second(explorer):
    """The widgets' budget: a redraw (figure + PNG + caption) under 1 s on a laptop CPU.

    Measured on a shared 2-core machine: about 0.35 s. The best of three redraws is compared
    with the 1 s budget, so that a busy neighbour does not fail the test."""
    times = []
    for voltage in (3.2, 3.5, 3.8):
        explorer.controls["voltage_v"].value = voltage
        start = time.perf_counter()
        explorer.redraw()
        times.append(time.perf_counter() - start)
    assert min(times) < 1.0, f"redraw took {times} s"


# -- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"voltage_v": 10.0}, ["voltage_v=10.0", "[2, 4.5] V"]),
        ({"width_s": 1.0}, ["width_s=1.0", "[1e-08, 0.0001] s"]),
        ({"seed": -1}, ["seed=-1", ">= 0"]),
    ],
)
def test_draw_names_a_bad_parameter_and_its_range(kwargs, words):
    with pytest.raises(ValueError) as info:
        forming.draw_forming(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_controls_reject_values_off_the_sliders():
    outside = r"voltage_v=5.0 V is outside the valid range \[2.6, 4\] V"
    with pytest.raises(ValueError, match=outside):
        forming.controls(voltage_v=5.0)
    with pytest.raises(ValueError, match="width_s=2e-06 s is not one of the slider's widths"):
        forming.controls(width_s=2e-6)
    with pytest.raises(ValueError, match="seed=7"):
        forming.controls(seed=7)


def test_format_width():
    assert [forming.format_width(w) for w in (1e-7, 3e-7, 1e-6, 1e-5, 2e-3, 1.0)] == [
        "100 ns", "300 ns", "1 µs", "10 µs", "2 ms", "1 s"]
    with pytest.raises(ValueError, match="width_s"):
        forming.format_width(0.0)


def test_key_parameters_are_the_models():
    model = FilamentModel()
    table = forming.key_parameters()
    assert table.loc["Weibull scale η at 1 µs", "value"] == model.weibull_scale_v
    assert table.loc["median filament conductance", "value"] == pytest.approx(77.48)
    assert table.loc["median compliance limit I_cc / V_c", "value"] == pytest.approx(250.0)
    assert all(s.startswith("docs/devices.md#") for s in table["see"])


# -- exercises ---------------------------------------------------------------------------
EXERCISES = [
    # check, right answer, wrong answer, expected range in the message
    (forming.check_formed_fraction, 0.6227, 0.9, "between 0.603 and 0.643"),
    (forming.check_half_formed_voltage, 3.436, 3.5, "between 3.416 and 3.456 V"),
    (forming.check_median_formed_conductance, 114.2, 77.5, "between 108.45 and 119.87 µS"),
]


def test_expected_answers_come_from_the_model():
    model = FilamentModel()
    assert forming.expected_formed_fraction() == pytest.approx(0.62273, abs=1e-4)
    assert forming.expected_formed_fraction() == model.formed_probability(3.3, 1e-5)
    assert forming.expected_half_formed_voltage() == pytest.approx(3.5 * math.log(2) ** (1 / 20))
    # 3.5 V, 1 µs: lambda = 1, median above one G0 (77.5 µS), below the 250 µS compliance median
    assert 77.5 < forming.expected_median_formed_conductance_us() == pytest.approx(114.16, abs=0.05)
    sample = model.sample(40_000, 3.5, 1e-6, seed=5)
    median_us = float(sample.conductance_s[sample.formed].median()) * 1e6
    assert forming.check_median_formed_conductance(median_us)  # a sampled median passes


@pytest.mark.parametrize(("check", "right", "wrong", "expected"), EXERCISES)
def test_unanswered_exercise_gives_a_hint(check, right, wrong, expected, capsys):
    assert check(None) is False
    assert capsys.readouterr().out.startswith("not answered yet: ")


@pytest.mark.parametrize(("check", "right", "wrong", "expected"), EXERCISES)
def test_right_answer_is_confirmed(check, right, wrong, expected, capsys):
    assert check(right) is True
    assert capsys.readouterr().out.startswith("correct: ")
    assert check(np.float64(right)) is True


@pytest.mark.parametrize(("check", "right", "wrong", "expected"), EXERCISES)
def test_wrong_answer_raises_with_the_expected_range(check, right, wrong, expected):
    with pytest.raises(forming.ExerciseError) as info:
        check(wrong)
    message = str(info.value)
    assert expected in message and f"you gave {wrong!r}" in message
    assert isinstance(info.value, AssertionError)
    with pytest.raises(forming.ExerciseError, match="should be a number"):
        check("a lot")
    with pytest.raises(forming.ExerciseError, match="finite"):
        check(float("nan"))


def test_wrong_units_get_advice():
    with pytest.raises(forming.ExerciseError, match="not a percentage"):
        forming.check_formed_fraction(62.3)
    with pytest.raises(forming.ExerciseError, match="multiply by 1e6"):
        forming.check_median_formed_conductance(114e-6)


# -- the notebooks -----------------------------------------------------------------------
def test_student_and_solution_notebooks_differ_only_in_the_answers():
    student = nbformat.read(NOTEBOOKS / "01_random_network.ipynb", as_version=4)
    solution = nbformat.read(NOTEBOOKS / "solutions" / "01_random_network.ipynb", as_version=4)
    assert student.metadata.kernelspec.name == solution.metadata.kernelspec.name == "python3"
    first = student.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# Tutorial 1 · A random network grown by electroforming\n")
    assert "20 minutes" in first.source
    assert len(student.cells) == len(solution.cells)
    checks = 0
    for a, b in zip(student.cells, solution.cells, strict=True):
        assert a.cell_type == b.cell_type
        if a.cell_type == "code":
            assert a.outputs == [] and b.outputs == [] and a.execution_count is None
            assert len(a.source.splitlines()) <= 6
        if "forming.check_" in a.source:
            checks += 1
            assert a.source.startswith("answer = None")
            assert "answer = None" not in b.source
            assert a.source.splitlines()[-1] in b.source  # the same check is called
        else:
            assert a.source == b.source
    assert checks == 3
