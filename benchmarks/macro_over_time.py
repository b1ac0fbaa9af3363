"""TO and WO on the 40 nm macro preset from 1 s to 10 years after programming (``quick``).

Re-reads stored runs (nothing is retrained when they exist): the software-WO models of the
notebooks' static TaOx preset are programmed onto ``taox_40nm_macro`` with the write-verify
algorithm and with one open-loop pulse per cell at each time after programming; hardware TO is
trained once per seed on the macro and its chip re-read at each time
(:func:`rrampaper.experiments.study.to_over_time`). Prints mean ± sd over seeds (percent) and
writes them as JSON. Run ``rrampaper reproduce --profile quick --only 02 03`` (or
``rrampaper train``) first so the software-WO runs exist, then:

``.venv/bin/python benchmarks/macro_over_time.py spoken_digit [--results-dir results] [--seeds 0 1 2]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rrampaper.devices import technology
from rrampaper.experiments import study
from rrampaper.experiments.train import Experiment
from rrampaper.paths import results_dir

TIMES_S = (1.0, 3600.0, 86_400.0, 3.15e7, 3.15e8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=("fashion_mnist", "spoken_digit", "drive"))
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: print only)")
    args = parser.parse_args()
    folder = args.results_dir or results_dir()
    base = Experiment(task=args.task, profile="quick", technology="taox_post_verify_static")
    wo = base.replace(method="software_WO")
    table: dict[str, list[float]] = {}
    for t in TIMES_S:
        macro = technology("taox_40nm_macro", t_inference_s=t)
        programmed = study.wo_on_device(wo, args.seeds, technology=macro,
                                        methods=("write_verify", "open_loop"), folder=folder)
        for method in programmed.program.values:
            table[f"WO {method}, t = {t:g} s"] = programmed["test"].sel(program=method).values.tolist()
    to = base.replace(method="hardware_TO", technology="taox_40nm_macro")
    study.train_grid({"hardware TO": to}, args.seeds, folder=folder, progress=False)
    over = study.to_over_time(to, args.seeds, TIMES_S, folder=folder)
    for t in TIMES_S:
        table[f"hardware TO, t = {t:g} s"] = over.sel(time_s=t).values.tolist()
    for name, values in table.items():
        percent = 100 * np.asarray(values)
        print(f"{name:32s} {percent.mean():6.2f} ± {percent.std(ddof=1):4.2f}  {np.round(percent, 2).tolist()}")
    if args.out is not None:
        args.out.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
