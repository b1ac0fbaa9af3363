"""The ``rrampaper`` command.

Examples
--------
``rrampaper reproduce --profile quick``   execute every notebook into ``figures/``
``rrampaper reproduce --profile smoke --only 00 01``
``rrampaper data check``                  verify every dataset that can be found
``rrampaper check-html``                  open figures/html/*.html headless; are the figures shown?
``rrampaper train fashion_mnist --profile paper --device cuda --wo-on-device``
                                          train (or load) runs for the notebooks, e.g. on a GPU
``rrampaper sweep spoken_digit --executor local --workers 2``
                                          a grid of runs on a process pool, Dask or SLURM

Bad input (an option, a missing or corrupt file, an unwritable folder) is reported as one line,
``rrampaper <command>: <message>``, with exit code 2; ``rrampaper --debug <command> ...`` shows
the traceback instead. Exit code 1 means the command ran but something failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rrampaper import __version__
from rrampaper._checks import check_positive_int, check_range
from rrampaper._io import ensure_writable
from rrampaper.cli_sweep import add_sweep_parser, add_training_options, experiment_from_args
from rrampaper.data import check_all
from rrampaper.errors import ParameterError, RrampaperError
from rrampaper.experiments import approaches, study
from rrampaper.experiments.executors import EXECUTOR_ENV, EXECUTORS
from rrampaper.experiments.html_check import check_folder
from rrampaper.experiments.reproduce import NotebookFailed, reproduce
from rrampaper.experiments.train import resolve_device
from rrampaper.paths import figures_dir, results_dir
from rrampaper.profiles import DEFAULT_PROFILE, PROFILES
from rrampaper.tasks import TASKS


def _reproduce(args: argparse.Namespace) -> int:

    # bad options and missing folders reach main() (one line, exit 2); a notebook that fails
    # (exception, time limit, dead kernel) is a run that failed: exit 1
    if args.workers is not None:
        check_positive_int("--workers", args.workers)
        if args.executor not in ("local", "dask"):
            raise ParameterError("--workers needs --executor local or --executor dask")
    if args.executor is not None:  # the kernels inherit it: every grid without an executor uses it
        spec = args.executor + (f":{args.workers}" if args.workers is not None else "")
        os.environ[EXECUTOR_ENV] = spec
    if args.cell_timeout is not None:

        check_range("--cell-timeout", args.cell_timeout, 0, float("inf"), unit="s")
    try:
        runs = reproduce(
            args.profile,
            only=args.only,
            notebooks_dir=args.notebooks_dir,
            output_dir=args.output_dir,
            parameters={"retrain": True} if args.retrain else None,
            cell_timeout="auto" if args.cell_timeout is None else args.cell_timeout,
        )
    except NotebookFailed as failure:
        if getattr(args, "debug", False):
            raise
        print(f"rrampaper reproduce: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # reproduce() logged the notebook and cell; the kernel is shut down
        if getattr(args, "debug", False):
            raise
        print("rrampaper reproduce: interrupted", file=sys.stderr)
        return 130
    total = sum(run.seconds for run in runs)
    print(f"{len(runs)} notebook(s) executed in {total:.1f} s; outputs in {runs[0].output.parent.parent}")
    return 0


def _train(args: argparse.Namespace) -> int:

    # every check before the first epoch: errors reach main(), which prints them on one line
    base, seeds = experiment_from_args(args, task=args.task, technology=args.technology,
                                       keep_ratio=args.keep_ratio)
    device = resolve_device(args.device, name="--device")
    folder = args.results_dir
    ensure_writable(folder or results_dir(), "results folder")
    experiments = {method: base.replace(method=method) for method in args.approach}
    grid = study.train_grid(experiments, seeds, retrain=args.retrain, device=device, folder=folder)
    table = study.summary(grid, ("test_selected",))
    table["selected epoch"] = [float(grid["selected_epoch"].sel(approach=a).mean()) for a in table.index]
    table["programming ops"] = [float(study.total_programming(grid).sel(approach=a).mean())
                                if a != "software_WO" else float("nan") for a in table.index]
    table["wall time s"] = [float(grid["wall_time_s"].sel(approach=a).mean()) for a in table.index]
    # the technology's programs: its post-verify spread where published, else open-loop; then
    # write-verify (study.wo_programs)
    for source, name in (("software_WO", "WO"), ("hwa_WO", "HWA WO")):
        if not (args.wo_on_device and source in args.approach):
            continue
        programmed = study.wo_on_device(base.replace(method=source), seeds, folder=folder)
        for program in programmed["program"].values:
            mean, sd = study.mean_sd(programmed["test"].sel(program=program))
            table.loc[f"{name} {program} on device", ["test_selected mean", "test_selected sd",
                                                      "seeds", "programming ops"]] = [
                float(mean), float(sd), len(seeds), float(programmed["pulses"].sel(program=program).mean())]
    metric = grid.attrs.get("metric", "metric")
    print(f"{args.task}, profile {args.profile}, seeds {seeds}, device {device}: "
          f"test {metric} at the best-validation epoch (mean, sd over seeds)")
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    return 0


def _check_html(args: argparse.Namespace) -> int:

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

    results = check_all()
    for result in results:
        print(result)
    # CORRUPT files and an INCOMPLETE configured DRIVE folder always fail; --strict also fails on
    # MISSING data. An unconfigured DRIVE (MISSING) never fails: its licence forbids shipping it,
    # and synthetic images stand in for it.
    failing = ("CORRUPT", "INCOMPLETE") + (("MISSING",) if args.strict else ())
    failed = [r for r in results
              if r.status in failing and not (r.name == "drive" and r.status == "MISSING")]
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rrampaper`` command."""
    parser = argparse.ArgumentParser(
        prog="rrampaper",
        description="Reproduce 'Pruning random resistive memory for optimizing analog AI'.",
    )
    parser.add_argument("--version", action="version", version=f"rrampaper {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of its one-line message")
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
    rep.add_argument("--executor", choices=EXECUTORS,
                     help="where the notebooks' trainings and device sweeps run (default: in the "
                          "notebook's kernel, one after the other; 'local': worker processes, one "
                          "per core); sets $RRAMPAPER_EXECUTOR for the kernels")
    rep.add_argument("--workers", type=int, help="with --executor local or dask: worker processes")
    rep.add_argument("--cell-timeout", type=float, metavar="SECONDS",
                     help="fail when one cell runs longer (default per profile: smoke 600, "
                          "quick 3600, paper no limit; 0: no limit)")
    rep.set_defaults(handler=_reproduce)


    tr = commands.add_parser(
        "train", help="train (or load) the runs a notebook uses, e.g. the paper profile on a GPU",
        description="Train each approach for each seed and store the results where the notebooks "
                    "find them (a later notebook run with the same profile loads them instead of "
                    "training). Prints the test metric at the best-validation epoch.")
    tr.add_argument("task", choices=TASKS, help="the experiment")
    tr.add_argument("--approach", nargs="+", choices=approaches.trained_methods(),
                    default=["software_TO", "hardware_TO", "software_WO"],
                    help="methods to train (default: software_TO hardware_TO software_WO)")
    add_training_options(tr)
    tr.add_argument("--wo-on-device", action="store_true",
                    help="also program the software_WO and hwa_WO models onto the device with the "
                         "technology's programs: its post-verify spread where it publishes one, "
                         "else one open-loop pulse per cell; then write-verify")
    tr.set_defaults(handler=_train)
    add_sweep_parser(commands)

    html = commands.add_parser("check-html", help="open the HTML pages headless and check their figures")
    html.add_argument("folder", nargs="?", help="folder of .html pages (default <figures>/html)")
    html.set_defaults(handler=_check_html)

    data = commands.add_parser("data", help="datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    check = data_commands.add_parser(
        "check", help="verify every dataset that can be found",
        description="One line per dataset: OK, MISSING, INCOMPLETE or CORRUPT, naming missing and "
                    "corrupt files. Exits 1 when a file is CORRUPT or user-supplied data is "
                    "INCOMPLETE (a configured DRIVE folder, i.e. RRAMPAPER_DRIVE_DIR set or "
                    "<data>/drive/DRIVE present, lacking files). An unconfigured DRIVE is never "
                    "an error: synthetic fundus images stand in for it.")
    check.add_argument("--strict", action="store_true",
                       help="also exit 1 when a dataset is MISSING, even one that would be "
                            "downloaded on first use (an unconfigured DRIVE is still not an error)")
    check.set_defaults(handler=_data_check)
    return parser


#: Errors :func:`main` prints as one line (exit code 2) instead of a traceback: the package's own
#: (:class:`~rrampaper.errors.RrampaperError`) and the standard types its checks raise with a
#: message for the user.
USER_ERRORS: tuple[type[BaseException], ...] = (
    RrampaperError, ValueError, FileNotFoundError, PermissionError,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rrampaper`` console script.

    Exit codes: 0 success; 1 the command ran but something failed (a notebook, a page, a
    dataset check); 2 bad input (an option, a missing or unreadable file, an unwritable folder),
    reported as ``rrampaper <command>: <message>`` on one line of stderr. ``--debug`` shows
    the traceback instead.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except USER_ERRORS as error:
        if args.debug:
            raise
        command = " ".join(part for part in (args.command, getattr(args, "data_command", None))
                           if part)
        message = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
        if not isinstance(error, RrampaperError):
            message = f"{message or type(error).__name__} (rrampaper --debug {command} ... shows where)"
        print(f"rrampaper {command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
