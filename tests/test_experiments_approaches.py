"""rrampaper.experiments.approaches: the one registry of compared approaches (keys, labels,
colours, kinds, builders, counters), read by the training loop, the CLI, the figures and the
scaling benchmark; adding an approach is one registration."""

import numpy as np
import pytest

from rrampaper import cli
from rrampaper.analysis import comparison, plotting, scaling
from rrampaper.data import DatasetMissingError
from rrampaper.devices.programming import METHODS as PROGRAMS
from rrampaper.errors import ParameterError
from rrampaper.experiments import approaches, train
from rrampaper.experiments.approaches import APPROACHES, Approach, SoftwareWO
from rrampaper.experiments.train import Experiment, run

TINY = {"profile": "smoke", "n_train": 600, "epochs": 2}

#: What the figures have always shown (the registry must not change a figure).
FIGURE_COLOURS = {
    "software TO": "#0173b2",
    "hardware TO": "#029e73",
    "software WO": "#de8f05",
    "WO post-verify": "#d55e00",
    "WO open-loop": "#949494",
    "WO write-verify": "#cc78bc",
    "in-situ WO": "#ca9161",
    "hardware-aware WO": "#56b4e9",
    "HWA WO write-verify": "#6a3d9a",
    "HWA WO open-loop": "#ece133",
}


def test_every_approach_is_complete_and_unique():
    assert len({a.label for a in APPROACHES.values()}) == len(APPROACHES)
    for key, approach in APPROACHES.items():
        assert approach.key == key and approach.label and approach.counters
        assert approach.kind in approaches.KINDS
        if approach.kind == "trained":
            assert callable(approach.build) and approach.source is None
        elif approach.kind == "programmed":
            assert approach.build is None and approach.program in PROGRAMS
            assert APPROACHES[approach.source].kind == "trained"
        else:
            assert approach.build is None and approach.source is None


def test_stored_run_keys_labels_and_colours_are_unchanged():
    # Experiment.method values key the stored runs: they must stay these strings
    assert approaches.trained_methods() == approaches.METHODS == (
        "software_TO", "hardware_TO", "software_WO", "insitu_WO", "hwa_WO")
    assert approaches.colours() == FIGURE_COLOURS == plotting.METHOD_COLORS
    assert {label: comparison.color(label) for label in FIGURE_COLOURS} == FIGURE_COLOURS
    assert scaling.METHODS == ("software TO", "hardware TO", "dense")
    assert approaches.get("wo_post_verify").source == "software_WO"
    assert approaches.by_label("in-situ WO").key == "insitu_WO"


def test_cli_choices_come_from_the_registry(capsys):
    args = cli.build_parser().parse_args(["train", "fashion_mnist", "--approach", *approaches.METHODS])
    assert tuple(args.approach) == approaches.trained_methods()
    with pytest.raises(SystemExit):   # a programmed approach is not trained by `rrampaper train`
        cli.build_parser().parse_args(["train", "fashion_mnist", "--approach", "wo_post_verify"])
    entry = Approach("cli_double", "cli double", None, "trained", lambda e, t, h: SoftwareWO())
    with approaches.registered(entry):
        args = cli.build_parser().parse_args(["train", "fashion_mnist", "--approach", "cli_double"])
    assert args.approach == ["cli_double"]


def test_make_method_is_a_registry_lookup(monkeypatch):
    task = train.get_task("fashion_mnist")
    exp = Experiment(method="software_WO", profile="smoke")
    made = []
    original = APPROACHES["software_WO"]
    monkeypatch.setitem(APPROACHES, "software_WO", Approach(
        "software_WO", original.label, original.colour, "trained",
        lambda e, t, h: made.append((e, t, h)) or SoftwareWO(), counters=original.counters))
    method = train.make_method(exp, task, exp.hyper(task))
    assert isinstance(method, SoftwareWO) and made == [(exp, task, exp.hyper(task))]
    for key in approaches.trained_methods():
        assert train.make_method(exp.replace(method=key), task, exp.hyper(task)) is not None
    # an approach that is not trained has no method: no silent fall-through to another one
    monkeypatch.setattr(approaches, "trained_methods", lambda: tuple(APPROACHES))
    with pytest.raises(ParameterError, match="programmed"):
        train.make_method(exp.replace(method="wo_post_verify"), task, exp.hyper(task))


def test_register_refuses_duplicates_and_bad_entries():
    with pytest.raises(ParameterError):
        approaches.register(Approach("software_TO", "another", None, "trained",
                                     lambda e, t, h: SoftwareWO()))
    with pytest.raises(ParameterError):
        approaches.register(Approach("new", "software TO", None, "trained",
                                     lambda e, t, h: SoftwareWO()))
    with pytest.raises(ParameterError):
        Approach("x", "x", None, "trained")           # trained without a builder
    with pytest.raises(ParameterError):
        Approach("x", "x", None, "programmed")        # programmed without source and program
    with pytest.raises(ParameterError):
        Approach("x", "x", None, "other")


class DenseBaseline(SoftwareWO):
    """A test double: the dense model trained as it is, counting one write per step."""

    def __init__(self) -> None:
        self.steps = 0

    def after_step(self, model):
        self.steps += 1

    def programming_ops(self, model):
        steps, self.steps = self.steps, 0
        return {"writes": steps}


@pytest.mark.slow
def test_a_new_approach_is_one_registration(tmp_path):
    task = train.get_task("fashion_mnist")
    try:
        splits = task.splits(Experiment(**TINY).hyper(task), seed=0)
    except DatasetMissingError as missing:
        pytest.skip(f"Fashion-MNIST not available: {missing}")
    entry = Approach("dense_baseline", "dense baseline", "#000000", "trained",
                     lambda exp, task, hyper: DenseBaseline(), counters=("writes",))
    with approaches.registered(entry):
        assert "dense_baseline" in approaches.trained_methods()
        assert comparison.color("dense baseline") == "#000000"
        result = run(Experiment(method="dense_baseline", **TINY), folder=tmp_path, progress=False,
                     splits=splits)
        assert result.attrs["test_selected"] > 0.3
        assert (result["set_ops"].values > 0).all() and (result["reset_ops"].values == 0).all()
        np.testing.assert_allclose(result["density"].values, 1.0)
    assert "dense_baseline" not in APPROACHES and "dense baseline" not in approaches.colours()
    with pytest.raises(ParameterError):
        Experiment(method="dense_baseline", **TINY)
