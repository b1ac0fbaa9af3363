"""Grids on every executor: the same results as a serial run, one run per configuration, failures
visible while the rest completes, and a status that says so."""

import os
import signal
import threading
import time

import pytest
import torch
import xarray as xr

from rrampaper import cli
from rrampaper._locks import lock_path
from rrampaper.errors import ParameterError
from rrampaper.experiments import executors, grid, study, train
from rrampaper.experiments.executors import LocalExecutor, SerialExecutor, make_executor
from rrampaper.experiments.train import Experiment

#: A spoken-digit grid of four runs that each train in about a second.
SMOKE = Experiment(task="spoken_digit", profile="smoke", epochs=2)
APPROACHES = {"software TO": SMOKE.replace(method="software_TO"),
              "hardware TO": SMOKE.replace(method="hardware_TO")}
SEEDS = [0, 1]


def _values(ds: xr.Dataset) -> xr.Dataset:
    """What a run computed (not how long it took)."""
    return ds.drop_vars("wall_time_s")


@pytest.fixture(scope="module")
def serial_grid(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serial")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the workers' setting, so the floating-point sums are the same
    try:
        return study.train_grid(APPROACHES, SEEDS, progress=False, folder=folder)
    finally:
        torch.set_num_threads(threads)


def _square(x):
    return x * x


def _fail_on_three(x):
    if x == 3:
        raise ValueError(f"x={x} is unlucky")
    return x


def test_every_executor_runs_plain_functions_and_reports_errors_per_job(tmp_path):
    with make_executor("serial") as ex:
        assert sorted((o.index, o.value) for o in ex.run(_square, [1, 2, 3])) == [(0, 1), (1, 4), (2, 9)]
    with LocalExecutor(workers=2) as ex:
        outcomes = sorted(ex.run(_fail_on_three, [1, 3, 5]), key=lambda o: o.index)
    assert [o.ok for o in outcomes] == [True, False, True] and outcomes[2].value == 5
    assert outcomes[1].failure.error == "ValueError: x=3 is unlucky"
    assert outcomes[1].failure.where.endswith("in _fail_on_three")
    assert "raise ValueError" in outcomes[1].failure.traceback


def test_make_executor_checks_names_options_and_the_environment(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="executor='mpi' is not valid"):
        make_executor("mpi")
    with pytest.raises(ParameterError, match="executor='local' takes no option 'partition'"):
        make_executor("local", partition="gpu")
    with pytest.raises(ParameterError, match="needs folder="):
        make_executor("slurm")
    monkeypatch.setenv(executors.EXECUTOR_ENV, "local:3")
    ex = make_executor()
    assert isinstance(ex, LocalExecutor) and ex.workers == 3 and ex.threads == 1
    monkeypatch.setenv(executors.EXECUTOR_ENV, "local:many")
    with pytest.raises(ParameterError, match="after ':' must be a number of workers"):
        make_executor()
    assert executors.runs_elsewhere(None)  # the environment says local:many
    monkeypatch.delenv(executors.EXECUTOR_ENV)
    assert isinstance(make_executor(), SerialExecutor)
    assert not executors.runs_elsewhere(None) and not executors.runs_elsewhere("serial")
    assert not executors.runs_elsewhere(SerialExecutor())
    assert executors.runs_elsewhere("dask") and executors.runs_elsewhere(LocalExecutor(workers=1))
    built = LocalExecutor(workers=1)
    assert make_executor(built) is built
    with pytest.raises(ParameterError, match=r"options \['workers'\] would be ignored"):
        make_executor(built, workers=2)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["local", "dask", "submitit-local"])
def test_a_grid_on_an_executor_equals_the_serial_grid(name, serial_grid, tmp_path):
    options = {"local": ("local", {"workers": 2}),
               "dask": ("dask", {"workers": 2}),
               "submitit-local": ("slurm", {"folder": tmp_path / "logs", "cluster": "local",
                                            "poll_s": 0.2})}
    kind, kwargs = options[name]
    with make_executor(kind, **kwargs) as ex:
        assert ex.describe().startswith({"local": "local", "dask": "dask",
                                         "submitit-local": "local via submitit"}[name])
        parallel = study.train_grid(APPROACHES, SEEDS, progress=False, folder=tmp_path / "res",
                                    executor=ex)
    xr.testing.assert_identical(_values(parallel), _values(serial_grid))
    assert parallel["test_selected"].shape == (2, 2)
    states = grid.grid_status(grid.grid_runs(APPROACHES, SEEDS), tmp_path / "res")
    assert states["state"].tolist() == ["done"] * 4


def test_two_threads_on_one_configuration_train_it_once(tmp_path, monkeypatch):
    calls = []
    real = train._train

    def counting(*args, **kwargs):
        calls.append(time.monotonic())
        return real(*args, **kwargs)

    monkeypatch.setattr(train, "_train", counting)
    exp = SMOKE.replace(method="software_TO", seed=0)
    results = [None, None]

    def worker(i):
        results[i] = train.run(exp, folder=tmp_path, progress=False)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    xr.testing.assert_identical(results[0], results[1])
    assert len(list(tmp_path.glob("train-*.nc"))) == 1 and not list(tmp_path.glob("*.lock"))


@pytest.mark.slow
def test_two_worker_processes_on_one_configuration_store_one_run(tmp_path):
    job = {"experiment": SMOKE.replace(method="hardware_TO", seed=3), "folder": str(tmp_path),
           "retrain": False, "device": "cpu"}
    with LocalExecutor(workers=2) as ex:
        outcomes = list(ex.run(grid.train_job, [job, job]))
    assert all(o.ok for o in outcomes)
    assert outcomes[0].value == outcomes[1].value  # the same stored run, down to its wall time
    assert len(list(tmp_path.glob("train-*.nc"))) == 1
    assert len(list((tmp_path / "models").glob("*.pt"))) == 1


@pytest.mark.slow
def test_a_killed_worker_fails_alone_and_the_status_and_a_rerun_say_so(tmp_path, capsys):
    runs = grid.grid_runs({"spoken_digit hardware_TO": SMOKE.replace(method="hardware_TO"),
                           "spoken_digit software_TO": SMOKE.replace(method="software_TO")}, [0, 1])
    victim = runs[0]
    victim_lock = lock_path(grid.result_file(victim.experiment, tmp_path))
    ex = LocalExecutor(workers=2)

    def kill_when_training():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pid = ex.pids.get(0)
            if pid and victim_lock.exists():  # the victim holds its run's lock: it is training
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_when_training)
    killer.start()
    report = grid.run_grid(runs, executor=ex, folder=tmp_path, progress=False,
                           raise_on_failure=False)
    killer.join()
    assert [(r.label, r.seed) for r, _ in report.failed] == [("spoken_digit hardware_TO", 0)]
    assert report.failed[0][1].error == "the worker process was killed by SIGKILL"
    assert report.failed[0][1].where == "worker" and len(report.computed) == 3
    record = grid.read_failure(victim.experiment, tmp_path)
    assert record["seed"] == 0 and record["config"]["experiment"]["method"] == "hardware_TO"
    assert victim_lock.exists()  # left behind by the dead worker: stale, taken over later

    argv = ["sweep", "spoken_digit", "--approach", "hardware_TO", "software_TO", "--profile",
            "smoke", "--epochs", "2", "--seeds", "0", "1", "--results-dir", str(tmp_path)]
    assert cli.main([*argv, "--status"]) == 0
    out = capsys.readouterr().out
    assert "3 done, 0 running, 1 failed, 0 missing" in out
    assert "killed by SIGKILL" in out

    assert cli.main([*argv, "--executor", "local", "--workers", "2"]) == 0  # resumes the one
    assert "1 run(s) computed, 3 already stored, 0 failed" in capsys.readouterr().out
    assert grid.read_failure(victim.experiment, tmp_path) is None and not victim_lock.exists()
    assert grid.grid_status(runs, tmp_path)["state"].tolist() == ["done"] * 4


def test_a_failed_run_raises_after_the_others_are_stored(tmp_path, monkeypatch):
    real = train._train

    def flaky(exp, *args, **kwargs):
        if exp.method == "hardware_TO":
            raise RuntimeError("the chip is out of cells")
        return real(exp, *args, **kwargs)

    monkeypatch.setattr(train, "_train", flaky)
    runs = grid.grid_runs({"good": SMOKE.replace(method="software_TO"),
                           "bad": SMOKE.replace(method="hardware_TO")}, [0])
    with pytest.raises(grid.GridFailed, match=r"1 of 2 run\(s\) of the grid failed") as caught:
        grid.run_grid(runs, executor="serial", folder=tmp_path, progress=False)
    assert [r.label for r in caught.value.report.computed] == ["good"]
    failure = caught.value.report.failed[0][1]
    assert failure.error == "RuntimeError: the chip is out of cells"
    assert failure.where.endswith("in flaky") and "test_grid.py" in failure.where
    states = grid.grid_status(runs, tmp_path)
    assert states["state"].tolist() == ["done", "failed"]
    assert states["detail"][1].startswith("RuntimeError: the chip is out of cells (at ")


def test_the_sweep_command_status_counts_states(tmp_path, capsys):
    argv = ["sweep", "spoken_digit", "--approach", "software_TO", "--profile", "smoke",
            "--epochs", "2", "--seeds", "0", "1", "--results-dir", str(tmp_path)]
    assert cli.main([*argv, "--status"]) == 0
    assert "0 done, 0 running, 0 failed, 2 missing" in capsys.readouterr().out
    assert cli.main([*argv, "--executor", "serial", "--seeds", "0"]) == 0
    assert "1 run(s) computed, 0 already stored, 0 failed" in capsys.readouterr().out
    assert cli.main([*argv, "--status"]) == 0
    out = capsys.readouterr().out
    assert "1 done, 0 running, 0 failed, 1 missing" in out
    rows = out.splitlines()[1:3]  # header, then one row per run
    assert [" done" in row for row in rows] == [True, False] and " missing" in rows[1]


@pytest.mark.parametrize(("options", "expected"), [
    (["--executor", "local", "--workers", "0"], "rrampaper sweep: --workers=0 must be an integer >= 1"),
    (["--partition", "gpu"], "rrampaper sweep: --partition needs --executor slurm (got --executor serial)"),
    (["--executor", "local", "--scheduler-address", "tcp://x:1"],
     "rrampaper sweep: --scheduler-address needs --executor dask"),
    (["--executor", "slurm", "--mem", "-1"], "rrampaper sweep: --mem=-1.0 GB is outside the valid range"),
    (["--keep-ratio", "0.5", "2"], "rrampaper sweep: --keep-ratio=2.0 is outside the valid range (0, 1]"),
    (["--conditions", "--technology", "taox_40nm_macro", "pcm"],
     "rrampaper sweep: --conditions sweeps one technology at a time"),
])
def test_sweep_bad_options_are_one_line_naming_them(options, expected, tmp_path, capsys):
    argv = ["sweep", "spoken_digit", "--profile", "smoke", "--results-dir", str(tmp_path), *options]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected)
    assert not any(tmp_path.iterdir())  # nothing ran
