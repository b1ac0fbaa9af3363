"""The ``rrampaper`` command.

Examples
--------
``rrampaper reproduce --profile quick``   execute every notebook into ``figures/``
``rrampaper reproduce --profile smoke --only 00 01``
``rrampaper data check``                  verify every dataset that can be found
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
