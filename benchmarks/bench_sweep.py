"""Benchmark: a grid of single-threaded runs, serial vs on local worker processes.

Trains the same grid twice in one run, into two fresh results folders: once serially in this
process with one torch thread, once with :class:`rrampaper.experiments.executors.LocalExecutor`
(``--workers`` processes, one torch thread each); prints both wall times, their ratio (goal on
2 cores: >= 1.6) and whether the two grids hold identical results. For scale it first measures
what the machine itself gives: the same ratio for a pure-Python loop in one process vs in
``--workers`` processes at once (a virtual machine's cores may not add up to ``--workers``
times one core).

Run: ``.venv/bin/python benchmarks/bench_sweep.py [--task spoken_digit --profile quick
--seeds 0 1 2 3 --workers 2]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import xarray as xr

from rrampaper.experiments import study
from rrampaper.experiments.executors import LocalExecutor
from rrampaper.experiments.train import Experiment

_LOOP = "x = 0\nfor i in range(40_000_000):\n    x += i\n"


def machine_ratio(workers: int) -> float:
    """Wall time of ``workers`` pure-Python loops one after the other / all at once."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", _LOOP], check=True)
    one = time.perf_counter() - start
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", _LOOP]) for _ in range(workers)]
    for proc in procs:
        proc.wait()
    return workers * one / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="spoken_digit")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--approach", nargs="+", default=["hardware_TO", "software_WO"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, help="override the profile's epochs")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    base = Experiment(task=args.task, profile=args.profile, epochs=args.epochs)
    grid = {m: base.replace(method=m) for m in args.approach}
    runs = len(grid) * len(args.seeds)
    print(f"{args.task} {args.profile}: {runs} runs ({', '.join(args.approach)} x seeds "
          f"{args.seeds}), {os.cpu_count()} CPU(s)")
    ceiling = machine_ratio(args.workers)
    print(f"machine: {args.workers} pure-Python loops at once run {ceiling:.2f} x faster than one "
          f"after the other")
    with tempfile.TemporaryDirectory() as serial_dir, tempfile.TemporaryDirectory() as parallel_dir:
        torch.set_num_threads(1)
        start = time.perf_counter()
        serial = study.train_grid(grid, args.seeds, folder=Path(serial_dir), progress=False)
        serial_s = time.perf_counter() - start

        start = time.perf_counter()
        with LocalExecutor(workers=args.workers, threads=1) as executor:
            parallel = study.train_grid(grid, args.seeds, folder=Path(parallel_dir),
                                        progress=False, executor=executor)
        parallel_s = time.perf_counter() - start
    try:
        xr.testing.assert_identical(serial.drop_vars("wall_time_s"), parallel.drop_vars("wall_time_s"))
        same = True
    except AssertionError:
        same = False
    print(f"serial, 1 thread            : {serial_s:7.1f} s")
    print(f"{args.workers} local workers, 1 thread : {parallel_s:7.1f} s")
    ratio = serial_s / parallel_s
    print(f"ratio (serial / workers)    : {ratio:7.2f} x   identical results: {same}")
    print(f"share of the machine's ratio: {ratio / ceiling:7.0%}")


if __name__ == "__main__":
    main()
