"""``rrampaper sweep``: a grid of runs on an executor, and the training options it shares with
``rrampaper train``.

A grid is tasks x approaches x technologies x keep ratios x seeds (every run stored under its
configuration's key); ``--conditions`` adds the device-condition sweeps of notebook 09
(programming-noise multiple, fault rate, time after programming, ADC bits) for hardware TO and
the WO approaches. ``--executor`` chooses where the runs go:

``rrampaper sweep spoken_digit --approach hardware_TO software_WO --executor local --workers 2``
``rrampaper sweep drive --profile paper --executor slurm --partition gpu --gpus-per-job 1 --time 240``
``rrampaper sweep fashion_mnist --executor dask --scheduler-address tcp://10.0.0.5:8786``
``rrampaper sweep fashion_mnist spoken_digit drive --conditions --executor local``
``rrampaper sweep spoken_digit --approach hardware_TO software_WO --status``
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

import pandas as pd

from rrampaper._checks import check_positive_int, check_range
from rrampaper._io import ensure_writable
from rrampaper.errors import ParameterError
from rrampaper.experiments import approaches, conditions, grid, study
from rrampaper.experiments.executors import EXECUTORS, make_executor
from rrampaper.experiments.train import Experiment, resolve_device
from rrampaper.paths import results_dir
from rrampaper.profiles import DEFAULT_PROFILE, PROFILES
from rrampaper.tasks import TASKS

#: Command-line options named by the :class:`Experiment` field they set.
TRAIN_OPTIONS = {"seed": "--seeds", "technology": "--technology", "keep_ratio": "--keep-ratio",
                 "epochs": "--epochs", "n_train": "--n-train", "lr": "--lr",
                 "weight_decay": "--weight-decay", "train_reads": "--train-reads",
                 "momentum": "--momentum", "schedule": "--schedule"}


def add_training_options(parser: argparse.ArgumentParser, *, grid_axes: bool = False) -> None:
    """The options of one training run (``rrampaper train``); with ``grid_axes`` the
    technology and the keep ratio take several values (``rrampaper sweep``)."""
    many = {"nargs": "+"} if grid_axes else {}
    parser.add_argument("--profile", choices=PROFILES, default=DEFAULT_PROFILE,
                        help=f"run size (default {DEFAULT_PROFILE})")
    parser.add_argument("--seeds", nargs="+", type=int, help="seeds (default: the profile's)")
    parser.add_argument("--technology", default=["taox_40nm_macro"] if grid_axes else "taox_40nm_macro",
                        **many, help="device preset(s) of hardware runs (default taox_40nm_macro)")
    parser.add_argument("--keep-ratio", type=float, default=[0.5] if grid_axes else 0.5, **many,
                        help="fraction kept by TO (default 0.5)")
    parser.add_argument("--epochs", type=int, help="override the profile's epochs")
    parser.add_argument("--n-train", type=int, help="override the profile's training-set size")
    parser.add_argument("--lr", type=float, help="override the profile's learning rate")
    parser.add_argument("--weight-decay", type=float, help="override the profile's weight decay")
    parser.add_argument("--momentum", type=float,
                        help="override the profile's SGD momentum (0 for plain SGD)")
    parser.add_argument("--schedule",
                        help="override the profile's learning-rate schedule: cosine or constant")
    parser.add_argument("--train-reads", default="advance",
                        help="hardware TO: 'advance' (a fresh chip read per batch, default) or "
                             "'fixed' (read 0 throughout, as the official scripts)")
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA if present), cpu, cuda, cuda:N or mps (checked before training)")
    parser.add_argument("--results-dir",
                        help="results folder (default $RRAMPAPER_RESULTS_DIR or <repo>/results)")
    parser.add_argument("--retrain", action="store_true",
                        help="train again instead of loading stored runs")


def experiment_from_args(args: argparse.Namespace, *, task: str, technology: str,
                         keep_ratio: float) -> tuple[Experiment, list[int]]:
    """The base experiment and the seeds of the options, checked before anything runs.

    :class:`Experiment` holds the one set of valid ranges; its error is re-worded to name the
    option as it is typed (``--keep-ratio=2`` rather than ``keep_ratio=2``).
    """
    if args.seeds is not None and len(set(args.seeds)) != len(args.seeds):
        raise ParameterError(f"--seeds {' '.join(map(str, args.seeds))} repeats a seed; give each once")
    try:
        base = Experiment(task=task, profile=args.profile, technology=technology,
                          keep_ratio=keep_ratio, epochs=args.epochs, n_train=args.n_train,
                          lr=args.lr, weight_decay=args.weight_decay,
                          train_reads=args.train_reads, momentum=args.momentum,
                          schedule=args.schedule)
        seeds = study.seeds_for(args.profile, args.seeds)
        for seed in seeds:
            base.replace(seed=seed)
    except ParameterError as error:
        field = str(error).split("=", 1)[0]
        if field not in TRAIN_OPTIONS:
            raise
        raise ParameterError(TRAIN_OPTIONS[field] + str(error)[len(field):]) from None
    return base, seeds


def add_sweep_parser(commands: Any) -> None:
    """The ``sweep`` sub-command."""
    sw = commands.add_parser(
        "sweep", help="train a grid of runs (and device-condition sweeps) on a process pool, "
                      "Dask or SLURM",
        description="Train every combination of task, approach, technology, keep ratio and seed "
                    "(stored runs are loaded, not trained again), on this process (serial), a "
                    "local process pool, a Dask cluster or SLURM job arrays (submitit). "
                    "--conditions adds the device-condition sweeps of notebook 09. --status "
                    "lists what is done, running, failed or missing, and runs nothing.")
    sw.add_argument("task", nargs="+", choices=TASKS, help="the experiment(s)")
    sw.add_argument("--approach", nargs="+", choices=approaches.trained_methods(),
                    default=["software_TO", "hardware_TO", "software_WO"],
                    help="methods to train (default: software_TO hardware_TO software_WO)")
    add_training_options(sw, grid_axes=True)
    sw.add_argument("--conditions", action="store_true",
                    help="also the device-condition sweeps (hardware TO vs WO open-loop, "
                         "write-verify and HWA write-verify; trains what they need)")
    sw.add_argument("--axes", nargs="+", choices=list(conditions.AXES),
                    help="device axes of --conditions (default: all)")
    sw.add_argument("--status", action="store_true",
                    help="list done / running / failed / missing runs of the grid; run nothing")
    ex = sw.add_argument_group("executor")
    ex.add_argument("--executor", choices=EXECUTORS, default="serial",
                    help="where the runs go (default serial: one after the other here)")
    ex.add_argument("--workers", type=int,
                    help="local: concurrent worker processes; dask: workers of the LocalCluster "
                         "(default: the CPU count)")
    ex.add_argument("--threads", type=int, default=1,
                    help="torch threads per run (default 1: one run per core)")
    ex.add_argument("--scheduler-address", help="dask: address of a running scheduler "
                                                "(default: start a LocalCluster)")
    ex.add_argument("--partition", help="slurm: partition")
    ex.add_argument("--gpus-per-job", type=int, help="slurm: GPUs per run")
    ex.add_argument("--time", type=int, metavar="MINUTES", help="slurm: time limit per run")
    ex.add_argument("--mem", type=float, metavar="GB", help="slurm: memory per run")
    ex.add_argument("--logs", help="slurm: folder of the job logs (default <results>/slurm-logs)")
    ex.add_argument("--cluster", choices=("slurm", "local"),
                    help="slurm: 'local' runs the same submitit jobs as local processes")
    sw.set_defaults(handler=sweep)


def _grid(args: argparse.Namespace) -> tuple[list[grid.GridRun], list[Experiment], list[int]]:
    """The runs of the grid and the base experiment of every (task, technology)."""
    runs, bases, seeds = [], [], []
    varied = [name for name, values in (("technology", args.technology),
                                         ("keep", args.keep_ratio)) if len(values) > 1]
    for task, tech, keep in itertools.product(args.task, args.technology, args.keep_ratio):
        base, seeds = experiment_from_args(args, task=task, technology=tech, keep_ratio=keep)
        if keep == args.keep_ratio[0]:
            bases.append(base)
        suffix = "".join(f" {tech}" if name == "technology" else f" keep {keep:g}" for name in varied)
        experiments = {f"{task} {method}{suffix}": base.replace(method=method)
                       for method in args.approach}
        runs += grid.grid_runs(experiments, seeds)
    return runs, bases, seeds


def _check_executor_options(args: argparse.Namespace) -> None:
    """The executor options, named as typed, before anything starts."""
    for option, value, minimum in (("--workers", args.workers, 1), ("--threads", args.threads, 1),
                                   ("--gpus-per-job", args.gpus_per_job, 0), ("--time", args.time, 1)):
        if value is not None:
            check_positive_int(option, value, minimum=minimum)
    if args.mem is not None:
        check_range("--mem", args.mem, 0.0, low_open=True, unit="GB")
    slurm_only = [o for o, v in (("--partition", args.partition), ("--gpus-per-job", args.gpus_per_job),
                                 ("--time", args.time), ("--mem", args.mem), ("--logs", args.logs),
                                 ("--cluster", args.cluster)) if v is not None]
    if slurm_only and args.executor != "slurm":
        raise ParameterError(f"{slurm_only[0]} needs --executor slurm (got --executor {args.executor})")
    if args.scheduler_address is not None and args.executor != "dask":
        raise ParameterError(f"--scheduler-address needs --executor dask (got --executor {args.executor})")
    if args.workers is not None and args.executor not in ("local", "dask"):
        raise ParameterError(f"--workers needs --executor local or dask (got --executor {args.executor})")


def _executor(args: argparse.Namespace, folder: Path) -> Any:
    options = {"local": {"workers": args.workers, "threads": args.threads},
               "dask": {"address": args.scheduler_address, "workers": args.workers,
                        "threads": args.threads},
               "slurm": {"folder": Path(args.logs) if args.logs else folder / "slurm-logs",
                         "cluster": args.cluster, "partition": args.partition,
                         "gpus_per_job": args.gpus_per_job, "time_min": args.time,
                         "mem_gb": args.mem, "threads": args.threads},
               "serial": {}}[args.executor]
    return make_executor(args.executor, **options)


def sweep(args: argparse.Namespace) -> int:
    """Handler of ``rrampaper sweep`` (exit 0: all done; 1: some runs failed)."""
    if args.conditions and len(args.technology) > 1:
        raise ParameterError(f"--conditions sweeps one technology at a time; got --technology "
                             f"{' '.join(args.technology)}")
    _check_executor_options(args)
    runs, bases, seeds = _grid(args)
    folder = Path(args.results_dir) if args.results_dir else results_dir()
    if args.status:
        table = grid.grid_status(runs, folder)
        with pd.option_context("display.max_colwidth", 120, "display.width", 200):
            print(table.to_string(index=False))
        counts = table["state"].value_counts()
        print(", ".join(f"{counts.get(state, 0)} {state}" for state in grid.STATES))
        return 0
    resolve_device(args.device, name="--device")
    ensure_writable(folder, "results folder")
    with _executor(args, folder) as executor:
        print(f"rrampaper sweep: {len(runs)} run(s) on {executor.describe()}", flush=True)
        report = grid.run_grid(runs, executor=executor, folder=folder, retrain=args.retrain,
                               device=args.device, raise_on_failure=False)
        print(report.summary())
        for grid_run, failure in report.failed:
            print(f"  FAILED {grid_run.label} seed {grid_run.seed}: {failure.error} "
                  f"(at {failure.where})")
        if args.conditions and not report.failed:
            sweeps = conditions.sweep_tasks(bases, seeds, axes=args.axes, folder=folder,
                                            executor=executor)
            for task, by_axis in sweeps.items():
                for axis, values in by_axis.items():
                    gap = conditions.gaps(values).mean("seed")
                    print(f"{task} · {axis}: hardware TO − WO (points), mean over seeds")
                    print(gap.to_pandas().round(2).to_string())
    return 1 if report.failed else 0
