"""The generic training loop on real Fashion-MNIST: learning, selection, storage and resume."""

import numpy as np
import pytest
import torch

from rrampaper.experiments import train
from rrampaper.experiments.train import Experiment, run, run_config

TINY = {"profile": "smoke", "n_train": 600, "epochs": 2}  # the size of conftest's `splits`


def test_experiment_validates_its_fields():
    with pytest.raises(ValueError, match="method='TO' is not valid"):
        Experiment(method="TO")
    with pytest.raises(ValueError, match=r"keep_ratio=0 is outside the valid range \(0, 1\]"):
        Experiment(keep_ratio=0)
    with pytest.raises(ValueError, match="profile='fast' is not valid"):
        Experiment(profile="fast")
    assert Experiment(profile="paper").hyper().epochs == 65
    assert Experiment(profile="paper", epochs=3).hyper().epochs == 3
    assert Experiment(profile="paper").hyper().weight_decay == 5e-4  # the official scripts'
    assert Experiment(profile="paper", weight_decay=0.0).hyper().weight_decay == 0.0
    with pytest.raises(ValueError, match=r"weight_decay=-0.1 is outside the valid range"):
        Experiment(weight_decay=-0.1)


def test_optimizer_overrides_reach_the_optimizer_and_name_a_new_run():
    """The official spoken-digit hardware optimiser: plain SGD 0.1 at a constant rate."""
    plain = Experiment(task="spoken_digit", method="hardware_TO", profile="paper", momentum=0.0,
                       weight_decay=0.0, schedule="constant")
    hyper = plain.hyper()
    assert (hyper.optimizer, hyper.lr, hyper.momentum, hyper.weight_decay, hyper.schedule) == (
        "sgd", 0.1, 0.0, 0.0, "constant")
    assert Experiment(task="spoken_digit", profile="paper").hyper().momentum == 0.9
    model = torch.nn.Linear(3, 2)
    group = train._optimizer(model, hyper, hyper.lr).param_groups[0]
    assert (group["momentum"], group["weight_decay"]) == (0.0, 0.0)
    default = Experiment(task="spoken_digit", method="hardware_TO", profile="paper")
    assert train.run_key(plain) != train.run_key(default)
    # an override equal to the profile's value names the same run; unset fields name none
    assert train.run_key(default.replace(momentum=0.9, schedule="cosine")) == train.run_key(default)
    assert "momentum" not in run_config(default)["experiment"]
    with pytest.raises(ValueError, match=r"momentum=1.0 is outside the valid range \[0, 1\)"):
        Experiment(momentum=1.0)
    with pytest.raises(ValueError, match="schedule='step' is not valid"):
        Experiment(schedule="step")


@pytest.mark.slow
def test_smoke_training_learns_and_selects_on_validation(tmp_path, splits):
    result = run(Experiment(method="software_TO", profile="smoke"), folder=tmp_path, progress=False)
    assert result.attrs["test_selected"] > 0.55  # chance is 0.10
    selected = int(np.argmax(result["validation"].values))
    assert result.attrs["selected_epoch"] == selected + 1
    assert result.attrs["test_selected"] == pytest.approx(float(result["test"][selected]))
    assert result.attrs["n_validation"] == 1000 and result.attrs["n_train"] == 2000
    # exactly half of the 62,272 weights are pruned at the first mask: 31,136 initial RESETs
    assert result.attrs["initial_resets"] == 31136
    np.testing.assert_allclose(result["density"].values, 0.5)
    # SETs balance RESETs with a fixed keep count (no limit-size rule in software)
    np.testing.assert_array_equal(result["set_ops"].values, result["reset_ops"].values)
    stored = run(Experiment(method="software_TO", profile="smoke"), folder=tmp_path, progress=False)
    assert stored.attrs["config_hash"] == result.attrs["config_hash"]
    np.testing.assert_array_equal(stored["test"].values, result["test"].values)


def test_run_key_follows_the_resolved_hyper_parameters_and_the_data(monkeypatch):
    """A changed profile or data source must never reuse an older stored result."""
    import dataclasses

    from rrampaper.tasks import drive, fashion_mnist

    exp = Experiment(method="software_TO", profile="quick")
    key = train.run_key(exp)
    assert train.run_key(Experiment(method="software_TO", profile="quick")) == key
    assert train.run_key(exp.replace(seed=1)) != key
    # the same Experiment after the quick profile gained an epoch: a new key
    longer = dataclasses.replace(fashion_mnist.HYPER["quick"], epochs=fashion_mnist.HYPER["quick"].epochs + 1)
    monkeypatch.setitem(fashion_mnist.HYPER, "quick", longer)
    assert train.run_key(exp) != key
    assert train.result_path(exp).name == f"train-{train.run_key(exp)}.nc"
    # an override equal to the profile's value is the same run
    assert train.run_key(exp.replace(epochs=longer.epochs)) == train.run_key(exp)
    assert train.run_key(exp.replace(weight_decay=0.0)) != train.run_key(exp)
    # DRIVE on the user's copy and on synthetic images: different keys
    drive_exp = Experiment(task="drive", method="software_TO", profile="smoke")
    monkeypatch.setattr(drive, "uses_drive", lambda: True)
    real = train.run_key(drive_exp)
    monkeypatch.setattr(drive, "uses_drive", lambda: False)
    assert train.run_key(drive_exp) != real
    assert train.run_config(drive_exp)["data"].startswith("synthetic")


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_result(tmp_path, splits, monkeypatch):
    exp = Experiment(method="hardware_TO", **TINY)
    reference = run(exp, folder=tmp_path / "a", progress=False, splits=splits)

    calls = {"n": 0}
    real_evaluate = train.evaluate

    def dies_in_second_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # epoch 1: validation + test; epoch 2: validation -> killed
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(train, "evaluate", dies_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        run(exp, folder=tmp_path / "b", progress=False, splits=splits)
    assert train.checkpoint_path(exp, tmp_path / "b").is_file()
    monkeypatch.setattr(train, "evaluate", real_evaluate)
    resumed = run(exp, folder=tmp_path / "b", progress=False, splits=splits)
    for name in ("test", "validation", "set_ops", "reset_ops", "train_loss"):
        np.testing.assert_allclose(resumed[name].values, reference[name].values, rtol=1e-6)
    assert not train.checkpoint_path(exp, tmp_path / "b").exists()


@pytest.mark.slow
def test_trained_model_reloads_with_its_selected_accuracy(tmp_path, splits):
    exp = Experiment(method="software_WO", **TINY)
    result = run(exp, folder=tmp_path, progress=False, splits=splits)
    model = train.load_trained_model(exp, folder=tmp_path)
    task = train.get_task("fashion_mnist")
    accuracy = train.evaluate(model, task, splits.test, 500, torch.device("cpu"))
    assert accuracy == pytest.approx(result.attrs["test_selected"], abs=1e-9)


def test_train_reads_names_a_run_only_when_not_the_default():
    from rrampaper.experiments.train import run_config

    assert "train_reads" not in run_config(Experiment())["experiment"]
    fixed = Experiment(method="hardware_TO", train_reads="fixed")
    assert run_config(fixed)["experiment"]["train_reads"] == "fixed"
    with pytest.raises(ValueError, match="train_reads='sometimes' is not valid"):
        Experiment(train_reads="sometimes")


def test_fixed_train_reads_train_on_read_zero():
    from rrampaper import topology

    exp = Experiment(method="hardware_TO", profile="smoke", train_reads="fixed")
    task = train.get_task(exp.task)
    model = train.make_method(exp, task, exp.hyper(task)).build(task.build_model())
    layers = list(topology.reads.reading_modules(model))
    assert layers and all(m.train_reads == "fixed" and m.eval_reads == "advance" for m in layers)
