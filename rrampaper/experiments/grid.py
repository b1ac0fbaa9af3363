"""A grid of training runs on any executor, with the result store as the synchronisation point.

:func:`run_grid` hands every run of a grid that is not stored yet to an executor
(:mod:`rrampaper.experiments.executors`), shows one progress bar over finished runs and keeps
going when a run fails; :func:`grid_status` says which runs are done, running, failed or
missing. Each run stores itself (:func:`rrampaper.experiments.train.run`: atomic files, one lock
per configuration), so re-running a grid resumes only what is missing, two workers given the
same configuration train it once, and the caller reads the finished grid back from the store,
exactly as a serial run would have left it.

A failed run leaves ``<result>.failed.json`` beside its (missing) result: the run's
configuration, the error, where it was raised and the traceback. It is removed when the run
later succeeds.

Examples
--------
>>> from rrampaper.experiments.train import Experiment                              # doctest: +SKIP
>>> runs = grid_runs({"hardware TO": Experiment(task="spoken_digit", method="hardware_TO",
...                                             profile="smoke")}, seeds=[0, 1])     # doctest: +SKIP
>>> report = run_grid(runs, executor="local", workers=2)                            # doctest: +SKIP
>>> grid_status(runs)["state"].tolist()                                             # doctest: +SKIP
['done', 'done']
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rrampaper._io import atomic_path
from rrampaper._locks import lock_state
from rrampaper._progress import progress_bar
from rrampaper.errors import ParameterError
from rrampaper.experiments import store
from rrampaper.experiments.executors import Executor, Failure, make_executor
from rrampaper.experiments.train import RESULT_KIND, Experiment, run, run_config
from rrampaper.paths import results_dir

#: States of :func:`grid_status`.
STATES: tuple[str, ...] = ("done", "running", "failed", "missing")


@dataclass(frozen=True)
class GridRun:
    """One run of a grid: its label (the approach), seed and experiment."""

    label: str
    seed: int
    experiment: Experiment


@dataclass
class GridReport:
    """What :func:`run_grid` did: runs ``computed`` by the executor, runs already ``stored``
    before it started, and the ``failed`` ones with their :class:`Failure`."""

    computed: list[GridRun] = field(default_factory=list)
    stored: list[GridRun] = field(default_factory=list)
    failed: list[tuple[GridRun, Failure]] = field(default_factory=list)
    executor: str = "serial"

    def summary(self) -> str:
        """One line: how many runs were computed, loaded and failed, and where."""
        return (f"{len(self.computed)} run(s) computed, {len(self.stored)} already stored, "
                f"{len(self.failed)} failed ({self.executor})")


class GridFailed(RuntimeError):
    """Some runs of a grid failed (the others finished and are stored); ``report`` says which."""

    def __init__(self, report: GridReport) -> None:
        self.report = report
        lines = [f"{len(report.failed)} of {len(report.failed) + len(report.computed)} run(s) of "
                 f"the grid failed; the others are stored:"]
        for grid_run, failure in report.failed:
            lines.append(f"  {grid_run.label} seed {grid_run.seed}: {failure.error} "
                         f"(at {failure.where})")
        lines.append("Fix the cause and run the grid again: only the missing runs are computed "
                     "(tracebacks in the <result>.failed.json files; `rrampaper sweep --status`).")
        super().__init__("\n".join(lines))


def grid_runs(experiments: Mapping[str, Experiment | Mapping[int, Experiment]],
              seeds: Sequence[int]) -> list[GridRun]:
    """The runs of ``{label: Experiment}`` (or ``{label: {seed: Experiment}}``) over ``seeds``,
    in the order :func:`rrampaper.experiments.study.train_grid` stacks them."""
    runs = []
    for label, base in experiments.items():
        for seed in seeds:
            exp = base if isinstance(base, Experiment) else base[seed]
            runs.append(GridRun(str(label), int(seed), exp.replace(seed=int(seed))))
    return runs


def _folder(folder: str | Path | None) -> Path:
    return Path(folder) if folder is not None else results_dir()


def result_file(exp: Experiment, folder: str | Path | None = None) -> Path:
    """Where ``exp``'s finished result is stored."""
    return store.result_path(run_config(exp), kind=RESULT_KIND, folder=_folder(folder))


def failure_file(exp: Experiment, folder: str | Path | None = None) -> Path:
    """Where the failure record of ``exp`` is written (``<result>.failed.json``)."""
    path = result_file(exp, folder)
    return path.with_name(path.name + ".failed.json")


def _write_failure(grid_run: GridRun, failure: Failure, folder: Path) -> None:
    record = {"label": grid_run.label, "seed": grid_run.seed,
              "config": json.loads(store.canonical_json(run_config(grid_run.experiment))),
              "error": failure.error, "where": failure.where, "traceback": failure.traceback}
    with atomic_path(failure_file(grid_run.experiment, folder)) as tmp:
        tmp.write_text(json.dumps(record, indent=1))


def read_failure(exp: Experiment, folder: str | Path | None = None) -> dict[str, Any] | None:
    """The failure record of ``exp`` (``None`` if there is none or it cannot be read: a record
    is a report, untrusted like any file read back, and never decides anything)."""
    try:
        record = json.loads(failure_file(exp, folder).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def train_job(job: dict[str, Any]) -> dict[str, Any]:
    """What a worker runs for one grid run: train it (or load it) into the store; returns the
    run's key and wall time. Module-level, so every executor can pickle it."""
    result = run(job["experiment"], folder=job["folder"], retrain=job["retrain"],
                 device=job["device"], progress=False)
    return {"config_hash": result.attrs["config_hash"],
            "wall_time_s": float(result.attrs["wall_time_s"])}


def run_grid(runs: Sequence[GridRun], *, executor: str | Executor | None = None,
             folder: str | Path | None = None, retrain: bool = False, device: str = "auto",
             progress: bool = True, raise_on_failure: bool = True,
             **executor_options: Any) -> GridReport:
    """Compute every run of ``runs`` that is not stored yet on ``executor``.

    Parameters
    ----------
    runs:
        From :func:`grid_runs`.
    executor:
        An :class:`~rrampaper.experiments.executors.Executor`, or a name of
        :data:`~rrampaper.experiments.executors.EXECUTORS` built with ``executor_options``
        (``None``: ``$RRAMPAPER_EXECUTOR``, else serial). An executor given as an object is
        left open; one built here is closed.
    folder:
        Results folder shared by the workers (default :func:`rrampaper.paths.results_dir`).
    retrain:
        Compute every run again, stored or not.
    device:
        Device of every run (``"auto"``: CUDA where the worker has it).
    progress:
        One progress bar over finished runs (the runs' own bars are off).
    raise_on_failure:
        Raise :class:`GridFailed` after the grid if any run failed (else only report it).
    """
    folder = _folder(folder)
    labels = [(r.label, r.seed) for r in runs]
    if len(set(labels)) != len(labels):
        raise ParameterError("runs repeat a (label, seed) pair; give each run once")
    report = GridReport()
    todo = []
    for grid_run in runs:
        if not retrain and result_file(grid_run.experiment, folder).is_file():
            report.stored.append(grid_run)
        else:
            todo.append(grid_run)
    own = not isinstance(executor, Executor)
    ex = make_executor(executor, **executor_options)
    report.executor = ex.describe()
    try:
        if todo:
            jobs = [{"experiment": r.experiment, "folder": str(folder), "retrain": retrain,
                     "device": device} for r in todo]
            bar = progress_bar(total=len(todo), desc=f"grid of {len(runs)} run(s) ({ex.name})",
                               enabled=progress)
            for outcome in ex.run(train_job, jobs):
                grid_run = todo[outcome.index]
                if outcome.ok:
                    report.computed.append(grid_run)
                    failure_file(grid_run.experiment, folder).unlink(missing_ok=True)
                else:
                    report.failed.append((grid_run, outcome.failure))
                    _write_failure(grid_run, outcome.failure, folder)
                bar.update(1)
                bar.set_postfix(failed=len(report.failed))
            bar.close()
    finally:
        if own:
            ex.close()
    if report.failed and raise_on_failure:
        raise GridFailed(report)
    return report


def grid_status(runs: Sequence[GridRun], folder: str | Path | None = None) -> pd.DataFrame:
    """One row per run: ``label``, ``seed``, ``run key``, ``state`` (:data:`STATES`) and a
    ``detail`` (the error and where it was raised; the owner of a running lock).

    ``done``: the result file exists. ``running``: its lock is held by a live worker.
    ``failed``: a failure record exists, or a lock was abandoned by a dead worker. ``missing``:
    none of these.
    """
    rows = []
    for grid_run in runs:
        exp = grid_run.experiment
        path = result_file(exp, folder)
        lock = lock_state(path)
        failure = read_failure(exp, folder)
        if path.is_file():
            state, detail = "done", ""
        elif lock.state == "running":
            state, detail = "running", f"{lock.owner}, heartbeat {lock.age_s:.0f} s ago"
        elif failure is not None:
            state, detail = "failed", f"{failure.get('error', '?')} (at {failure.get('where', '?')})"
        elif lock.state == "stale":
            state, detail = "failed", f"its worker {lock.owner} died (stale lock)"
        else:
            state, detail = "missing", ""
        rows.append({"label": grid_run.label, "seed": grid_run.seed,
                     "run key": path.stem.split("-", 1)[1], "state": state, "detail": detail})
    return pd.DataFrame(rows, columns=["label", "seed", "run key", "state", "detail"])
