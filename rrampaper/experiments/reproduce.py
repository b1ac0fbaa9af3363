"""Execute the paper's notebooks with papermill, in order, into ``figures/``.

This is what ``make reproduce`` and ``rrampaper reproduce`` run. Every notebook
``notebooks/NN_topic.ipynb`` is executed with ``profile`` injected into its ``parameters`` cell;
the executed copy lands in ``<figures>/notebooks/`` and the figures it saves land in
``<figures>/``.

The run never hangs and never hides:

- a cell that runs longer than ``cell_timeout`` seconds (per profile, :data:`CELL_TIMEOUT_S`)
  fails the run;
- a failing notebook stops the run with :class:`NotebookFailed`, which names the notebook, the
  cell as a person counts it in the notebook (markdown included, papermill's injected
  parameters cell not), its first line and the cause: the exception, the time limit, or the
  kernel's death with its exit status;
- while a notebook runs, one status line shows its code cells done, the training runs done
  (:func:`rrampaper._progress.report`, called by :func:`rrampaper.experiments.study.train_grid` in the
  kernel) and the elapsed time; the executed notebooks hold no progress bars;
- the kernel's start-up and shutdown chatter (the unencrypted-TCP warning, "KeyboardInterrupt
  caught in kernel") is dropped; anything else the kernel process writes to its stderr is shown.

Examples
--------
>>> from rrampaper.experiments.reproduce import reproduce
>>> reports = reproduce(profile="smoke", only=["00"])      # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rrampaper._checks import check_range
from rrampaper._io import atomic_path
from rrampaper._progress import PROGRESS_ENV, PROGRESS_FILE_ENV
from rrampaper.errors import RrampaperError
from rrampaper.paths import figures_dir, repo_root
from rrampaper.profiles import resolve_profile

#: Matplotlib backend of the kernels: figures shown inline, so they are stored in the notebook.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

_NOTEBOOK = re.compile(r"^(\d\d)_[A-Za-z0-9_-]+\.ipynb$")

#: Default limit in seconds on one cell's run time, per profile (``None``: no limit).
#: ``smoke`` notebooks take seconds to a minute in all, so 10 minutes for one cell only catches a
#: hang; ``quick`` notebooks take at most about 11 minutes in all on a 2-core CPU, so one hour
#: for one cell leaves room for a machine several times slower; ``paper`` trains for hours to
#: days depending on the hardware (GPU or not), where any fixed limit would kill real work: its
#: status line shows that runs advance, and ``cell_timeout`` / ``--cell-timeout`` sets a limit.
CELL_TIMEOUT_S: dict[str, float | None] = {"smoke": 600, "quick": 3600, "paper": None}

#: Seconds between two status lines when the output is not a terminal (a new line also comes
#: after every code cell); in a terminal one line is rewritten every second.
HEARTBEAT_S = 30.0

# Lines the kernel process writes to its stderr at every start or shutdown that mean nothing to
# the reader: ipykernel warns that its local TCP sockets are unencrypted (where the installed
# jupyter_client cannot provision CurveZMQ keys), and logs the interrupt that jupyter_client sends
# before every shutdown (and that a timeout sends). Everything else is passed on.
_KERNEL_NOISE = re.compile(
    r"^\[IPKernelApp\] (WARNING|ERROR) \| "
    r"(Kernel is running over TCP without encryption\.|KeyboardInterrupt caught in kernel\.?$)"
)

# nbclient logs these before raising the errors that NotebookFailed reports (cell, cause, fix).
_REPORTED_BY_US = ("Kernel died while waiting for execute reply", "Timeout waiting for execute reply",
                   "Interrupting kernel", "Error occurred while starting new kernel client")


class _Reported(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_REPORTED_BY_US)


_LOG = logging.getLogger(__name__)
_LOG.addFilter(_Reported())


class NotebookFailed(RrampaperError, RuntimeError):
    """A notebook failed while papermill executed it: a cell raised, ran past the time limit, or
    the kernel died.

    Attributes
    ----------
    notebook, output:
        The source notebook and its partly executed copy (``None`` when the notebook could not
        be read).
    cell_index:
        Index of the failing cell in the executed copy (papermill's; ``None`` at start-up).
    where:
        The cell as a person counts it in the source notebook, e.g.
        ``"cell 5 of 9 (code cell 3 of 6, In [4]) `raise ValueError(...)`"``, or ``"start-up"``.
    ename, evalue:
        The exception's name and message, or ``"CellTimeoutError"`` / ``"DeadKernelError"`` with
        the limit or the kernel's exit status.
    """

    def __init__(self, notebook: Path, cell_index: int | None, ename: str, evalue: str,
                 output: Path | None, where: str | None = None):
        self.notebook = notebook
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        self.output = output
        if where is None:
            where = f"cell index {cell_index}" if cell_index is not None else "start-up"
        self.where = where
        copy = f"; the partly executed notebook is {output}" if output is not None else ""
        super().__init__(f"{notebook.name} failed in {where}: {ename}: {evalue}{copy}")


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
    # deferred: the Jupyter stack is heavy and only `reproduce` needs it
    import nbformat
    from nbconvert import HTMLExporter


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


#: Topics of notebooks that tabulate what the others stored: they run after every other
#: notebook whatever their number (``08_summary`` reads the headlines ``09`` writes).
RUNS_LAST: tuple[str, ...] = ("summary",)


def _run_order(path: Path) -> tuple[bool, str]:
    return (path.stem.split("_", 1)[1] in RUNS_LAST, path.name)


def list_notebooks(notebooks_dir: Path, only: Sequence[str] | None = None) -> list[Path]:
    """The ``NN_topic.ipynb`` notebooks of ``notebooks_dir`` in run order: by number, except
    that the topics of :data:`RUNS_LAST` come after all others.

    ``only`` selects notebooks by their two-digit prefix or full stem (e.g. ``["00", "01"]``);
    an entry that matches nothing raises ``ValueError``.
    """
    found = sorted((p for p in Path(notebooks_dir).iterdir() if _NOTEBOOK.match(p.name)),
                   key=_run_order)
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
    return sorted(selected, key=_run_order)


def reproduce(
    profile: str | None = None,
    *,
    only: Sequence[str] | None = None,
    notebooks_dir: str | Path | None = None,
    output_dir: str | Path | None = None,
    parameters: dict | None = None,
    html: bool = True,
    cell_timeout: float | str | None = "auto",
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
    cell_timeout:
        Seconds one cell may run before the run fails; ``"auto"``: the profile's
        :data:`CELL_TIMEOUT_S`; ``None`` or ``0``: no limit.
    log:
        Receives one line when a notebook starts and ends, and the status lines while it runs
        (code cells done, training runs done, elapsed time): after every code cell and every
        :data:`HEARTBEAT_S` seconds. When ``log`` is ``print`` and standard output is a terminal,
        the status is one line rewritten in place instead.

    Raises
    ------
    NotebookFailed
        With the notebook, the cell (as numbered in the source notebook, with its first line) and
        the cause: the exception, the time limit, or the kernel's death.
    ParameterError
        For a ``cell_timeout`` that is not ``"auto"``, ``None`` or a number >= 0.
    """
    profile = resolve_profile(profile)
    timeout = _cell_timeout(cell_timeout, profile)
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
    # Their progress events go to a file per notebook instead (PROGRESS_FILE_ENV, set by _execute).
    kernel_env = {"MPLBACKEND": INLINE_BACKEND, PROGRESS_ENV: "0"}
    saved = {name: os.environ.get(name) for name in (*kernel_env, PROGRESS_FILE_ENV)}
    os.environ.update(kernel_env)
    try:
        return _execute(notebooks, source, figures, executed_dir, profile, parameters, html,
                        timeout, log)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _cell_timeout(value: float | str | None, profile: str) -> int | None:
    """Whole seconds for nbclient (which takes an integer), or ``None`` for no limit."""
    if isinstance(value, str) and value == "auto":
        value = CELL_TIMEOUT_S[profile]
    if value is None:
        return None
    check_range("cell_timeout", value, 0, math.inf, unit="s")
    return math.ceil(value) if value > 0 else None


def _execute(notebooks: list[Path], source: Path, figures: Path, executed_dir: Path, profile: str,
             parameters: dict | None, html: bool, timeout: int | None,
             log: Callable[[str], None]) -> list[NotebookRun]:
    # deferred: the Jupyter stack is heavy and only `reproduce` needs it
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    engine = _register_engine()
    limit = f"at most {timeout} s per cell" if timeout else "no time limit per cell"
    runs: list[NotebookRun] = []
    started = time.perf_counter()
    for position, notebook in enumerate(notebooks, start=1):
        output = executed_dir / notebook.name
        label = f"[{position}/{len(notebooks)}] {notebook.name}"
        log(f"{label} (profile {profile}, {limit}) ...")
        try:
            cells = _SourceCells(notebook)
        except Exception as error:  # noqa: BLE001 - nbformat raises several types for a bad file
            raise NotebookFailed(notebook, None, type(error).__name__,
                                 f"{notebook} is not a readable notebook: {error}", None,
                                 "reading it") from None
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="rrampaper-reproduce-") as tmp:
            events = Path(tmp) / "progress.jsonl"
            os.environ[PROGRESS_FILE_ENV] = str(events)
            watch = _Watch(label, cells, events, Path(tmp) / "kernel-stderr.log", log)
            try:
                executed = pm.execute_notebook(
                    str(notebook),
                    str(output),
                    parameters={"profile": profile, **(parameters or {})},
                    cwd=str(source),
                    progress_bar=False,
                    kernel_name="python3",
                    engine_name=engine,
                    execution_timeout=timeout,
                    watch=watch,
                )
            except KeyboardInterrupt:
                index, count = watch.current
                log(f"{label} interrupted in {cells.describe(index, count) if index is not None else 'start-up'}; "
                    f"the partly executed notebook is {output}")
                raise
            except PapermillExecutionError as error:
                raise NotebookFailed(notebook, error.cell_index, error.ename, error.evalue, output,
                                     cells.describe(error.cell_index, error.exec_count)) from None
            except Exception as error:
                failure = _kernel_failure(error, notebook, output, watch, cells, timeout, profile)
                if failure is None:
                    raise
                raise failure from None
            finally:
                watch.stop()
        stopped = _stopped_early(executed, notebook, output, cells)
        if stopped is not None:
            raise stopped
        seconds = time.perf_counter() - t0
        page = render_html(output, figures / "html" / f"{notebook.stem}.html") if html else None
        runs.append(NotebookRun(notebook, output, seconds, page))
        log(f"{label} done in {seconds:.1f} s (total {time.perf_counter() - started:.1f} s)")
    return runs


def _kernel_failure(error: Exception, notebook: Path, output: Path, watch: _Watch,
                    cells: _SourceCells, timeout: int | None, profile: str) -> NotebookFailed | None:
    """The :class:`NotebookFailed` for a time-out, a dead kernel or a kernel that did not start;
    ``None`` for anything else (a bug, to be raised as it is)."""
    # deferred: the Jupyter stack is heavy and only `reproduce` needs it
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    index, count = watch.current
    where = cells.describe(index, count) if index is not None else "start-up"
    if isinstance(error, CellTimeoutError):
        default = CELL_TIMEOUT_S[profile]
        usual = f"{default:g} s" if default else "no limit"
        return NotebookFailed(
            notebook, index, "CellTimeoutError",
            f"timed out: the cell was still running after {timeout} s (the limit per cell; "
            f"profile {profile}'s default is {usual}); raise it with --cell-timeout SECONDS "
            f"(reproduce(cell_timeout=...)), 0 for no limit",
            output, where)
    if isinstance(error, DeadKernelError) or (index is None and isinstance(error, RuntimeError)):
        cause = _exit_cause(watch.exit_status())
        last = watch.last_kernel_line()
        said = f"; its last message: {last}" if last else ""
        what = "the kernel died" if index is not None else f"the kernel did not start: {error}"
        return NotebookFailed(notebook, index, "DeadKernelError", f"{what} ({cause}){said}",
                              output, where)
    return None


def _stopped_early(executed: Any, notebook: Path, output: Path, cells: _SourceCells) -> NotebookFailed | None:
    """A :class:`NotebookFailed` when code cells did not run although papermill reports success:
    it accepts ``sys.exit()`` / ``sys.exit(0)`` in a cell and skips the cells after it."""
    pending = [i for i, cell in enumerate(executed.cells)
               if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None
               and "skip-execution" not in cell.get("metadata", {}).get("tags", [])]
    if not pending:
        return None
    skipped = f"the {len(pending)} code cell(s) after it did not run"
    for index, cell in enumerate(executed.cells[:pending[0]]):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            value = errors[0].get("evalue") or "(no value)"
            return NotebookFailed(notebook, index, errors[0].get("ename", "error"),
                                  f"{value}: the notebook stopped here, and {skipped}", output,
                                  cells.describe(index, cell.get("execution_count")))
    return NotebookFailed(notebook, pending[0], "NotExecuted",
                          f"this cell and {len(pending) - 1} code cell(s) after it did not run",
                          output, cells.describe(pending[0]))


def _exit_cause(status: int | None) -> str:
    if status is None:
        return "exit status unknown"
    if status >= 0:
        return f"exit code {status}"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = f"signal {-status}"
    hint = {"SIGKILL": "; out of memory?", "SIGSEGV": "; a crash in native code"}.get(name, "")
    return f"killed by {name}{hint}"


class _SourceCells:
    """The cells of a source notebook, and where each cell of its executed copy comes from.

    papermill inserts an ``injected-parameters`` cell after the ``parameters`` cell (or replaces
    one left in the source, or puts it first when there is no ``parameters`` cell) and drops the
    error-marker cells of an earlier failed run; everything else keeps its order.
    """

    def __init__(self, notebook: Path):
        # deferred: the Jupyter stack is heavy and only `reproduce` needs it
        import nbformat
        from papermill.execute import ERROR_MARKER_TAG

        self.cells = nbformat.read(notebook, as_version=4).cells
        tags = [cell.get("metadata", {}).get("tags", []) for cell in self.cells]
        order: list[int | None] = list(range(len(self.cells)))
        first = {tag: next((i for i, t in enumerate(tags) if tag in t), -1)
                 for tag in ("injected-parameters", "parameters")}
        if first["injected-parameters"] >= 0:
            order[first["injected-parameters"]] = None
        else:
            order.insert(first["parameters"] + 1, None)
        #: ``origin[k]``: the source index of the executed copy's cell ``k`` (``None``: injected).
        self.origin = [i for i in order if i is None or ERROR_MARKER_TAG not in tags[i]]
        self.code = [i for i, cell in enumerate(self.cells) if cell.cell_type == "code"]

    def code_done(self, index: int) -> int | None:
        """How many of the source's code cells are done once executed cell ``index`` is."""
        source = self.origin[index] if 0 <= index < len(self.origin) else None
        return None if source is None or source not in self.code else self.code.index(source) + 1

    def describe(self, index: int | None, execution_count: int | None = None) -> str:
        """E.g. ``cell 5 of 9 (code cell 3 of 6, In [4]) `raise ValueError(...)```."""
        if index is None or not 0 <= index < len(self.origin):
            return f"cell index {index} of the executed copy"
        count = f", In [{execution_count}]" if execution_count is not None else ""
        source = self.origin[index]
        if source is None:
            return f"the parameters cell papermill injected (cell {index + 1} of the executed copy{count})"
        cell = self.cells[source]
        code = (f"code cell {self.code.index(source) + 1} of {len(self.code)}{count}"
                if source in self.code else f"a {cell.cell_type} cell")
        first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
        if len(first) > 70:
            first = first[:67] + "..."
        quoted = f" `{first}`" if first else ""
        return f"cell {source + 1} of {len(self.cells)} ({code}){quoted}"


class _Watch:
    """What a notebook's kernel is doing, shown on one status line while it runs.

    Fed by nbclient's cell hooks (which cell runs, which code cells are done), by the progress
    events the kernel appends to ``events`` (:func:`rrampaper._progress.report`) and by the
    kernel's stderr, which goes to ``kernel_log`` and is passed on without its noise.
    """

    def __init__(self, label: str, cells: _SourceCells, events: Path, kernel_log: Path,
                 log: Callable[[str], None]):
        self.label = label
        self.cells = cells
        self.events_path = events
        self.log = log
        self.live = log is print and sys.stdout.isatty()
        self.kernel_log_path = kernel_log
        self.kernel_stderr = open(kernel_log, "w+b")  # noqa: SIM115 - the kernel writes it until stop()
        self._cell: tuple[int | None, Any] = (None, None)
        #: The kernel's process (a ``subprocess.Popen``), once started.
        self.process: Any = None
        self.done = 0
        self.events: dict[str, tuple[int, int]] = {}
        self._offsets = {"events": 0, "kernel": 0}
        self._partial = {"events": b"", "kernel": b""}
        self._kernel_lines: list[str] = []
        self._muted = False
        self._lock = threading.RLock()
        self._shown = ""
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._last_line = self._t0
        self._thread = threading.Thread(target=self._run, name="rrampaper-reproduce-status",
                                        daemon=True)
        self._thread.start()

    # nbclient hooks (called with keywords; the engine passes them as on_cell_start etc.)
    def cell_started(self, cell: Any = None, cell_index: int | None = None, **_: Any) -> None:
        with self._lock:
            self._cell = (cell_index, cell)

    def cell_executed(self, cell: Any = None, cell_index: int | None = None,
                      execute_reply: dict | None = None, **_: Any) -> None:
        failed = (execute_reply or {}).get("content", {}).get("status") == "error"
        done = self.cells.code_done(cell_index) if cell_index is not None and not failed else None
        if done is not None:
            with self._lock:
                self.done = done
                self._poll()
                self._emit()

    @property
    def current(self) -> tuple[int | None, int | None]:
        """Index (in the executed copy) and execution count of the cell that ran last."""
        index, cell = self._cell
        return index, (cell.get("execution_count") if cell is not None else None)

    def status(self) -> str:
        elapsed = int(time.monotonic() - self._t0)
        clock = (f"{elapsed // 3600}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}" if elapsed >= 3600
                 else f"{elapsed // 60}:{elapsed % 60:02d}")
        parts = [f"cells {self.done}/{len(self.cells.code)}"]
        parts += [f"{event} {done}/{total}" for event, (done, total) in self.events.items()]
        return f"{self.label}: {', '.join(parts)}, {clock} elapsed"

    def mute_kernel(self) -> None:
        """Pass on what the kernel wrote so far, then nothing more: after a time-out or Ctrl-C
        the kernel is interrupted and shut down mid-cell, and its complaints about that are no
        news."""
        with self._lock:
            self._poll()
            self._muted = True

    def exit_status(self) -> int | None:
        """The kernel process's exit status (negative: the signal that killed it), if known."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=5)
        except Exception:  # noqa: BLE001 - a status we cannot read is reported as unknown
            return None

    def last_kernel_line(self) -> str:
        with self._lock:
            self._poll()
            return self._kernel_lines[-1] if self._kernel_lines else ""

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            self._poll()
            self._flush_partial()
            if self.live:
                sys.stdout.write("\r\x1b[K")
                sys.stdout.flush()
        self.kernel_stderr.close()

    def _run(self) -> None:
        while not self._stop.wait(1.0 if self.live else 0.5):
            with self._lock:
                self._poll()
                if self.live or time.monotonic() - self._last_line >= HEARTBEAT_S:
                    self._emit()

    def _emit(self) -> None:
        line = self.status()
        self._last_line = time.monotonic()
        if self.live:
            sys.stdout.write(f"\r{line}\x1b[K")
            sys.stdout.flush()
        else:
            self.log(line)

    def _read(self, name: str, path: Path) -> list[str]:
        """Complete lines added to ``path`` since the last read."""
        try:
            with open(path, "rb") as file:
                file.seek(self._offsets[name])
                data = file.read()
        except FileNotFoundError:
            return []
        self._offsets[name] += len(data)
        data = self._partial[name] + data
        *lines, self._partial[name] = data.split(b"\n")
        return [line.decode("utf-8", "replace").rstrip("\r") for line in lines]

    def _poll(self) -> None:
        for line in self._read("events", self.events_path):
            try:
                event = json.loads(line)
                self.events[str(event["event"])] = (int(event["done"]), int(event["total"]))
            except (ValueError, KeyError, TypeError):
                continue  # not an event of ours: never a reason to stop a run
        self._pass_on(self._read("kernel", self.kernel_log_path))

    def _flush_partial(self) -> None:
        rest, self._partial["kernel"] = self._partial["kernel"], b""
        if rest:
            self._pass_on([rest.decode("utf-8", "replace")])

    def _pass_on(self, lines: list[str]) -> None:
        shown = [line for line in lines if line.strip() and not _KERNEL_NOISE.match(line)]
        if not shown or self._muted:
            return
        self._kernel_lines = (self._kernel_lines + shown)[-20:]
        if self.live:
            sys.stdout.write("\r\x1b[K")
            sys.stdout.flush()
        sys.stderr.write("".join(f"{line}\n" for line in shown))
        sys.stderr.flush()


_ENGINE = "rrampaper-watched"


def _register_engine() -> str:
    """Register (once) the papermill engine that feeds a :class:`_Watch`; return its name.

    It is papermill's nbclient engine with three additions: nbclient's cell hooks go to the
    watch; the kernel's stderr goes to the watch's file; the watch keeps the kernel's process,
    for the exit status of a kernel that died. Where the installed jupyter_client can
    provision CurveZMQ keys for the kernel, the kernel's local sockets are encrypted.
    """
    # deferred: the Jupyter stack is heavy and only `reproduce` needs it
    from nbclient.exceptions import CellTimeoutError
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class WatchedClient(PapermillNotebookClient):
        watch: _Watch

        def start_new_kernel(self, **kwargs: Any) -> None:  # what papermill's execute() calls
            super().start_new_kernel(**kwargs)
            self.watch.process = getattr(getattr(self.km, "provisioner", None), "process", None)

        def papermill_execute_cells(self) -> None:
            try:
                super().papermill_execute_cells()
            except (CellTimeoutError, KeyboardInterrupt):
                self.watch.mute_kernel()
                raise

    class WatchedEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, *, watch: _Watch,
                                     log_output: bool = False, start_timeout: int = 60,
                                     execution_timeout: int | None = None, **kwargs: Any) -> Any:
            client = WatchedClient(
                nb_man, kernel_name=kernel_name, timeout=execution_timeout,
                startup_timeout=start_timeout, log=_LOG, log_output=log_output,
                stdout_file=kwargs.get("stdout_file"), stderr_file=kwargs.get("stderr_file"),
                on_cell_start=watch.cell_started, on_cell_executed=watch.cell_executed)
            client.watch = watch
            return client.execute(stderr=watch.kernel_stderr, **_encryption())

    papermill_engines.register(_ENGINE, WatchedEngine)
    return _ENGINE


def _encryption() -> dict[str, str]:
    """``transport_encryption="auto"`` where jupyter_client and pyzmq support it, else nothing."""
    # deferred: the Jupyter stack is heavy and only `reproduce` needs it
    import zmq
    from jupyter_client.manager import KernelManager

    if "transport_encryption" in KernelManager.class_trait_names() and zmq.has("curve"):
        return {"transport_encryption": "auto"}
    return {}

