"""Execute the paper's notebooks with papermill, in order, into ``figures/``.

This is what ``make reproduce`` and ``rrampaper reproduce`` run. Every notebook
``notebooks/NN_topic.ipynb`` is executed with ``profile`` injected into its ``parameters`` cell;
the executed copy lands in ``<figures>/notebooks/`` and the figures it saves land in
``<figures>/``. A failing notebook stops the run, and the error names the notebook, the cell and
the exception.

Examples
--------
>>> from rrampaper.reproduce import reproduce
>>> reports = reproduce(profile="smoke", only=["00"])      # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rrampaper._progress import PROGRESS_ENV
from rrampaper.paths import figures_dir, repo_root
from rrampaper.profiles import resolve_profile

#: Matplotlib backend of the kernels: figures shown inline, so they are stored in the notebook.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

_NOTEBOOK = re.compile(r"^(\d\d)_[A-Za-z0-9_-]+\.ipynb$")


class NotebookFailed(RuntimeError):
    """A notebook raised while papermill executed it."""

    def __init__(self, notebook: Path, cell_index: int | None, ename: str, evalue: str, output: Path):
        self.notebook = notebook
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        self.output = output
        where = f"cell {cell_index}" if cell_index is not None else "start-up"
        super().__init__(
            f"{notebook.name} failed in {where}: {ename}: {evalue}\n"
            f"  the partly executed notebook is {output}"
        )


@dataclass(frozen=True)
class NotebookRun:
    """One executed notebook: source, executed copy, its HTML rendering (or ``None``) and wall
    time in seconds."""

    notebook: Path
    output: Path
    seconds: float
    html: Path | None = None


def render_html(executed: Path, target: Path) -> Path:
    """Write an executed notebook as a self-contained HTML page (figures embedded), atomically."""
    import nbformat
    from nbconvert import HTMLExporter

    from rrampaper._io import atomic_path

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    with atomic_path(target) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return target


def default_notebooks_dir() -> Path:
    """``<repo>/notebooks`` of the checkout this package runs from."""
    root = repo_root()
    if root is None or not (root / "notebooks").is_dir():
        raise FileNotFoundError(
            "no notebooks/ folder found: run from a clone of the rrampaper repository "
            "or pass notebooks_dir (CLI: --notebooks-dir)"
        )
    return root / "notebooks"


def list_notebooks(notebooks_dir: Path, only: Sequence[str] | None = None) -> list[Path]:
    """The ``NN_topic.ipynb`` notebooks of ``notebooks_dir`` in order.

    ``only`` selects notebooks by their two-digit prefix or full stem (e.g. ``["00", "01"]``);
    an entry that matches nothing raises ``ValueError``.
    """
    found = sorted(p for p in Path(notebooks_dir).iterdir() if _NOTEBOOK.match(p.name))
    if not found:
        raise FileNotFoundError(f"no NN_topic.ipynb notebooks in {notebooks_dir}")
    if not only:
        return found
    selected = []
    for key in only:
        matches = [p for p in found if p.stem == key or p.name[:2] == key]
        if not matches:
            names = ", ".join(p.stem for p in found)
            raise ValueError(f"only={key!r} matches no notebook; available: {names}")
        selected.extend(m for m in matches if m not in selected)
    return sorted(selected)


def reproduce(
    profile: str | None = None,
    *,
    only: Sequence[str] | None = None,
    notebooks_dir: str | Path | None = None,
    output_dir: str | Path | None = None,
    parameters: dict | None = None,
    html: bool = True,
    log: Callable[[str], None] = print,
) -> list[NotebookRun]:
    """Execute the notebooks in order with papermill; stop at the first failure.

    Parameters
    ----------
    profile:
        ``"smoke"``, ``"quick"`` or ``"paper"`` (see :mod:`rrampaper.profiles`).
    only:
        Two-digit prefixes or stems of the notebooks to run (default: all).
    notebooks_dir:
        Folder with the notebooks (default ``<repo>/notebooks``).
    output_dir:
        Folder for figures (default :func:`rrampaper.paths.figures_dir`); executed notebooks go
        to ``<output_dir>/notebooks``.
    parameters:
        Extra papermill parameters for every notebook (e.g. ``{"retrain": True}``).
    html:
        Also render every executed notebook to ``<output_dir>/html/NN_topic.html`` (nbconvert),
        so a reader can browse every figure without running anything.
    log:
        Receives one progress line per notebook.

    Raises
    ------
    NotebookFailed
        With the notebook, cell index, exception name and message.
    """
    profile = resolve_profile(profile)
    source = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    figures = Path(output_dir) if output_dir is not None else figures_dir()
    executed_dir = figures / "notebooks"
    executed_dir.mkdir(parents=True, exist_ok=True)
    notebooks = list_notebooks(source, only)
    # The kernels inherit these, so figures land in `figures` whatever the notebook's cwd, and
    # every figure is also embedded in the executed notebook (and so in its HTML page) even when
    # the caller's environment sets a non-interactive backend such as MPLBACKEND=Agg.
    os.environ["RRAMPAPER_FIGURES_DIR"] = str(figures.resolve())
    # Progress bars are switched off: the pages should hold results, not bar updates.
    kernel_env = {"MPLBACKEND": INLINE_BACKEND, PROGRESS_ENV: "0"}
    saved = {name: os.environ.get(name) for name in kernel_env}
    os.environ.update(kernel_env)
    try:
        return _execute(notebooks, source, figures, executed_dir, profile, parameters, html, log)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _execute(notebooks: list[Path], source: Path, figures: Path, executed_dir: Path, profile: str,
             parameters: dict | None, html: bool, log: Callable[[str], None]) -> list[NotebookRun]:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    runs: list[NotebookRun] = []
    started = time.perf_counter()
    for position, notebook in enumerate(notebooks, start=1):
        output = executed_dir / notebook.name
        log(f"[{position}/{len(notebooks)}] {notebook.name} (profile {profile}) ...")
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(notebook),
                str(output),
                parameters={"profile": profile, **(parameters or {})},
                cwd=str(source),
                progress_bar=False,
                kernel_name="python3",
            )
        except PapermillExecutionError as error:
            raise NotebookFailed(notebook, error.cell_index, error.ename, error.evalue, output) from None
        seconds = time.perf_counter() - t0
        page = render_html(output, figures / "html" / f"{notebook.stem}.html") if html else None
        runs.append(NotebookRun(notebook, output, seconds, page))
        log(f"[{position}/{len(notebooks)}] {notebook.name} done in {seconds:.1f} s "
            f"(total {time.perf_counter() - started:.1f} s)")
    return runs
