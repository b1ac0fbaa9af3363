"""The ``rrampaper`` command.

Examples
--------
``rrampaper reproduce --profile quick``   execute every notebook into ``figures/``
``rrampaper reproduce --profile smoke --only 00 01``
``rrampaper data check``                  verify every dataset that can be found
``rrampaper check-html``                  open figures/html/*.html headless; are the figures shown?
``rrampaper train fashion_mnist --profile paper --device cuda --wo-on-device``
                                          train (or load) runs for the notebooks, e.g. on a GPU
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rrampaper import __version__
from rrampaper.profiles import DEFAULT_PROFILE, PROFILES


def _reproduce(args: argparse.Namespace) -> int:
    from rrampaper.reproduce import NotebookFailed, reproduce

    try:
        runs = reproduce(
            args.profile,
            only=args.only,
            notebooks_dir=args.notebooks_dir,
            output_dir=args.output_dir,
            parameters={"retrain": True} if args.retrain else None,
        )
    except NotebookFailed as failure:
        print(f"rrampaper reproduce: {failure}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as error:
        print(f"rrampaper reproduce: {error}", file=sys.stderr)
        return 2
    total = sum(run.seconds for run in runs)
    print(f"{len(runs)} notebook(s) executed in {total:.1f} s; outputs in {runs[0].output.parent.parent}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from rrampaper import study
    from rrampaper.train import Experiment, resolve_device

    folder = args.results_dir
    try:
        base = Experiment(task=args.task, profile=args.profile, technology=args.technology,
                          keep_ratio=args.keep_ratio, epochs=args.epochs, n_train=args.n_train,
                          lr=args.lr, weight_decay=args.weight_decay)
        seeds = study.seeds_for(args.profile, args.seeds)
        device = resolve_device(args.device)
        experiments = {method: base.replace(method=method) for method in args.approach}
        grid = study.train_grid(experiments, seeds, retrain=args.retrain, device=device,
                                folder=folder)
    except (ValueError, FileNotFoundError) as error:
        print(f"rrampaper train: {error}", file=sys.stderr)
        return 2
    table = study.summary(grid, ("test_selected",))
    table["selected epoch"] = [float(grid["selected_epoch"].sel(approach=a).mean()) for a in table.index]
    table["programming ops"] = [float(study.total_programming(grid).sel(approach=a).mean())
                                if a != "software_WO" else float("nan") for a in table.index]
    table["wall time s"] = [float(grid["wall_time_s"].sel(approach=a).mean()) for a in table.index]
    if args.wo_on_device and "software_WO" in args.approach:
        programmed = study.wo_on_device(base.replace(method="software_WO"), seeds, folder=folder)
        for program in programmed["program"].values:
            mean, sd = study.mean_sd(programmed["test"].sel(program=program))
            table.loc[f"WO {program} on device", ["test_selected mean", "test_selected sd", "seeds",
                                                  "programming ops"]] = [
                float(mean), float(sd), len(seeds), float(programmed["pulses"].sel(program=program).mean())]
    metric = grid.attrs.get("metric", "metric")
    print(f"{args.task}, profile {args.profile}, seeds {seeds}, device {device}: "
          f"test {metric} at the best-validation epoch (mean, sd over seeds)")
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    return 0


def _check_html(args: argparse.Namespace) -> int:
    from rrampaper.html_check import check_folder
    from rrampaper.paths import figures_dir

    folder = args.folder or figures_dir() / "html"
    try:
        checks = check_folder(folder)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"rrampaper check-html: {error}", file=sys.stderr)
        return 2
    for check in checks:
        print(check)
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} of {len(checks)} pages show all their figures")
    return 1 if failed else 0


def _data_check(args: argparse.Namespace) -> int:
    from rrampaper.data import check_all

    results = check_all()
    for result in results:
        print(result)
    # DRIVE is user-supplied (its licence forbids redistribution): absent is normal, corrupt is not
    failed = [r for r in results if not r.ok and not (r.name == "drive" and r.status == "MISSING")]
    return 1 if failed and args.strict else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rrampaper`` command."""
    parser = argparse.ArgumentParser(
        prog="rrampaper",
        description="Reproduce 'Pruning random resistive memory for optimizing analog AI'.",
    )
    parser.add_argument("--version", action="version", version=f"rrampaper {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    rep = commands.add_parser("reproduce", help="execute every notebook with papermill")
    rep.add_argument("--profile", choices=PROFILES, default=DEFAULT_PROFILE,
                     help=f"run size (default {DEFAULT_PROFILE})")
    rep.add_argument("--only", nargs="+", metavar="NN",
                     help="run only these notebooks (two-digit prefix or stem)")
    rep.add_argument("--notebooks-dir", help="folder with the notebooks (default <repo>/notebooks)")
    rep.add_argument("--output-dir", help="folder for figures (default <repo>/figures)")
    rep.add_argument("--retrain", action="store_true",
                     help="retrain instead of reusing stored results")
    rep.set_defaults(handler=_reproduce)

    from rrampaper.methods import METHODS
    from rrampaper.tasks import TASKS

    tr = commands.add_parser(
        "train", help="train (or load) the runs a notebook uses, e.g. the paper profile on a GPU",
        description="Train each approach for each seed and store the results where the notebooks "
                    "find them (a later notebook run with the same profile loads them instead of "
                    "training). Prints the test metric at the best-validation epoch.")
    tr.add_argument("task", choices=TASKS, help="the experiment")
    tr.add_argument("--approach", nargs="+", choices=METHODS,
                    default=["software_TO", "hardware_TO", "software_WO"],
                    help="methods to train (default: software_TO hardware_TO software_WO)")
    tr.add_argument("--profile", choices=PROFILES, default=DEFAULT_PROFILE,
                    help=f"run size (default {DEFAULT_PROFILE})")
    tr.add_argument("--seeds", nargs="+", type=int, help="seeds (default: the profile's)")
    tr.add_argument("--technology", default="taox_40nm", help="device preset of hardware runs")
    tr.add_argument("--keep-ratio", type=float, default=0.5, help="fraction kept by TO (default 0.5)")
    tr.add_argument("--epochs", type=int, help="override the profile's epochs")
    tr.add_argument("--n-train", type=int, help="override the profile's training-set size")
    tr.add_argument("--lr", type=float, help="override the profile's learning rate")
    tr.add_argument("--weight-decay", type=float, help="override the profile's weight decay")
    tr.add_argument("--device", default="auto", help="auto (CUDA if present), cpu or cuda")
    tr.add_argument("--results-dir", help="results folder (default $RRAMPAPER_RESULTS_DIR or <repo>/results)")
    tr.add_argument("--wo-on-device", action="store_true",
                    help="also program the software_WO models onto the device (one-shot, write-verify)")
    tr.add_argument("--retrain", action="store_true", help="train again instead of loading stored runs")
    tr.set_defaults(handler=_train)

    html = commands.add_parser("check-html", help="open the HTML pages headless and check their figures")
    html.add_argument("folder", nargs="?", help="folder of .html pages (default <figures>/html)")
    html.set_defaults(handler=_check_html)

    data = commands.add_parser("data", help="datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    check = data_commands.add_parser("check", help="verify every dataset that can be found")
    check.add_argument("--strict", action="store_true",
                       help="exit 1 when a dataset is corrupt or missing (an absent DRIVE is not an error)")
    check.set_defaults(handler=_data_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rrampaper`` console script."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
