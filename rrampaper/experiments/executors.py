"""Where the jobs of a grid run: in this process, in local worker processes, on Dask or SLURM.

A grid (:func:`rrampaper.experiments.study.train_grid`, ``rrampaper sweep``) is a list of
independent jobs. An :class:`Executor` runs a picklable function over them and yields one
:class:`Outcome` per job as each finishes; the engines are the ones research groups already run,
not a scheduler of this package:

================  =========================================================================
``serial``        :class:`SerialExecutor`: one after the other in this process (the default,
                  so notebooks behave as they always did).
``local``         :class:`LocalExecutor`: ``workers`` worker processes on this machine,
                  ``threads`` torch threads each (default 1), one job at a time each.
``dask``          :class:`DaskExecutor`: a ``dask.distributed`` client, on a running scheduler
                  (``address``) or on a ``LocalCluster`` of ``workers`` processes.
``slurm``         :class:`SubmititExecutor`: ``submitit`` job arrays on SLURM (``cluster="local"``
                  runs the same jobs as local processes, e.g. in tests).
================  =========================================================================

The jobs write their results into the result store themselves (atomic files keyed by the
configuration, guarded by :func:`rrampaper._locks.run_lock`), so the store is the
synchronisation point: the caller reassembles the grid from it, bit for bit the result of a
serial run. A job that raises becomes an :class:`Outcome` with a :class:`Failure` (its error,
the file and line it was raised at, the traceback); a worker that dies (killed, out of memory)
becomes one too, and the rest of the grid goes on.

Examples
--------
>>> with make_executor("serial") as ex:
...     [o.value for o in ex.run(abs, [-1, 2, -3])]
[1, 2, 3]
>>> with make_executor("serial") as ex:
...     failed = [o for o in ex.run(int, ["4", "four"]) if o.failure]
>>> failed[0].index, failed[0].failure.error.split(":")[0]
(1, 'ValueError')
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import torch

from rrampaper._checks import check_choice, check_positive_int
from rrampaper.errors import ParameterError
from rrampaper.paths import results_dir

#: Executor names of :func:`make_executor` (and ``rrampaper sweep --executor``).
EXECUTORS: tuple[str, ...] = ("serial", "local", "dask", "slurm")

#: Environment variable that chooses the executor of grids that are not given one (e.g. the
#: trainings inside notebooks run by ``rrampaper reproduce --executor local``): an executor name,
#: optionally ``:N`` workers (``local:2``, ``dask:2``) or ``dask:<scheduler address>``.
EXECUTOR_ENV = "RRAMPAPER_EXECUTOR"


@dataclass(frozen=True)
class Failure:
    """Why a job failed: ``error`` is ``Type: first line of the message``, ``where`` the file,
    line and function the error was raised in (``"worker"`` when the worker itself died) and
    ``traceback`` the full text."""

    error: str
    where: str
    traceback: str = ""


@dataclass(frozen=True)
class Outcome:
    """The end of one job: its index in the submitted list and its value or its failure."""

    index: int
    value: Any = None
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def _failure_of(error: BaseException) -> Failure:
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else "worker"
    message = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {message[0][:300]}" if message else type(error).__name__
    return Failure(text, where, "".join(traceback.format_exception(error)))


def guarded_call(fn: Callable[[Any], Any], item: Any, threads: int | None = None) -> tuple[str, Any]:
    """Run ``fn(item)`` in a worker: ``("ok", value)`` or ``("error", Failure)``, never raising
    for an error of the job itself (so every engine reports it the same way). ``threads`` sets
    torch's intra-op threads first (``None``: leave them)."""
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return "ok", fn(item)
    except Exception as error:  # the job's error is data for the caller, not a worker crash
        return "error", _failure_of(error)


def _outcome(index: int, result: tuple[str, Any]) -> Outcome:
    status, payload = result
    return Outcome(index, value=payload) if status == "ok" else Outcome(index, failure=payload)


class Executor(ABC):
    """Runs a function over the jobs of a grid (see the module docstring). Use it as a context
    manager, or call :meth:`close` when done."""

    name: str = ""

    @abstractmethod
    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        """Yield one :class:`Outcome` per item of ``items`` as each job finishes (any order).
        ``fn`` must be a module-level function and the items picklable (except serially)."""

    def describe(self) -> str:
        """One line on where the jobs run (a dashboard link, a logs folder)."""
        return self.name

    def close(self) -> None:  # noqa: B027 (a no-op where there are no workers to release)
        """Release the workers (a no-op where there are none)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """Every job in this process, in order (errors are still reported per job)."""

    name = "serial"

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        for index, item in enumerate(items):
            yield _outcome(index, guarded_call(fn, item))


def _local_worker(threads: int, conn: Any) -> None:
    """A worker process: run ``(fn, item)`` jobs from ``conn`` until it sends ``None``."""
    torch.set_num_threads(threads)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the caller went away
            return
        if job is None:
            return
        fn, item = job
        try:
            conn.send(guarded_call(fn, item))
        except Exception as error:  # e.g. an unpicklable value: still say what happened
            conn.send(("error", _failure_of(error)))


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"the worker process was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"the worker process was killed by signal {-code}"
    return f"the worker process exited with code {code} before returning a result"


@dataclass
class _Worker:
    process: Any
    conn: Any
    job: int | None = None  # index of the job it runs


class LocalExecutor(Executor):
    """At most ``workers`` worker processes on this machine (``spawn``: no state shared with the
    caller), each with ``threads`` torch threads, each running one job at a time.

    Workers live for the whole grid (torch is imported once per worker, not per job). A worker
    that dies (out of memory, ``kill``) fails only the job it was running; a new worker takes
    its place for the jobs still waiting.

    Parameters
    ----------
    workers:
        Concurrent jobs (default: the CPU count).
    threads:
        torch intra-op threads per job (1: ``workers`` single-threaded jobs fill the cores).
    """

    name = "local"

    def __init__(self, workers: int | None = None, threads: int = 1) -> None:
        self.workers = check_positive_int("workers", workers if workers is not None else (os.cpu_count() or 1))
        self.threads = check_positive_int("threads", threads)
        self._context = multiprocessing.get_context("spawn")
        self.pids: dict[int, int] = {}  # job index -> pid of the worker running it

    def describe(self) -> str:
        return f"local: {self.workers} worker process(es), {self.threads} torch thread(s) each"

    def _start(self) -> _Worker:
        conn, child = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_local_worker, args=(self.threads, child), daemon=True)
        process.start()
        child.close()
        return _Worker(process, conn)

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        pending = list(enumerate(items))
        pool: list[_Worker] = []
        try:
            while pending or any(w.job is not None for w in pool):
                while pending and len(pool) < min(self.workers, len(items)):
                    pool.append(self._start())
                for worker in list(pool):
                    if worker.job is None and pending:
                        index, item = pending[0]
                        try:
                            worker.conn.send((fn, item))
                        except OSError:  # died while idle: replace it, the job waits
                            worker.process.join()
                            worker.conn.close()
                            pool.remove(worker)
                            continue
                        pending.pop(0)
                        worker.job = index
                        self.pids[index] = worker.process.pid
                busy = {w.conn: w for w in pool if w.job is not None}
                busy |= {w.process.sentinel: w for w in pool if w.job is not None}
                for ready in wait(list(busy)):
                    worker = busy[ready]
                    if worker.job is None:  # both its pipe and its sentinel were ready
                        continue
                    index, worker.job = worker.job, None
                    self.pids.pop(index, None)
                    result = None
                    try:
                        if worker.conn.poll():
                            result = worker.conn.recv()
                    except (EOFError, OSError):
                        result = None
                    if result is None:  # died: fail its job, replace it
                        worker.process.join()
                        pool.remove(worker)
                        worker.conn.close()
                        yield Outcome(index, failure=Failure(_exit_text(worker.process.exitcode),
                                                             "worker"))
                    else:
                        yield _outcome(index, result)
        finally:
            for worker in pool:
                if worker.job is None and worker.process.is_alive():
                    with contextlib.suppress(OSError):
                        worker.conn.send(None)
                    worker.process.join(timeout=10)
                if worker.process.is_alive():
                    worker.process.terminate()
                    worker.process.join()
                worker.conn.close()


class DaskExecutor(Executor):
    """Jobs on a ``dask.distributed`` cluster.

    Parameters
    ----------
    address:
        Scheduler address (``tcp://host:8786``) of a running cluster; ``None`` starts a
        ``LocalCluster`` of ``workers`` processes with one Dask thread each.
    workers:
        Workers of the ``LocalCluster`` (ignored with ``address``; default: the CPU count).
    threads:
        torch intra-op threads per job.
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int | None = None, threads: int = 1) -> None:
        try:
            from dask.distributed import Client, LocalCluster  # deferred: optional, slow import
        except ImportError as error:
            raise ImportError("the dask executor needs dask[distributed]: pip install "
                              "'rrampaper[cluster]' (or 'dask[distributed]')") from error
        self.threads = check_positive_int("threads", threads)
        self._cluster = None
        if address is None:
            n = check_positive_int("workers", workers if workers is not None else (os.cpu_count() or 1))
            self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                         dashboard_address=":0")
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)

    @property
    def client(self) -> Any:
        """The ``dask.distributed.Client``."""
        return self._client

    def describe(self) -> str:
        workers = len(self._client.scheduler_info(n_workers=-1).get("workers", {}))
        return f"dask: {workers} worker(s), dashboard {self._client.dashboard_link}"

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        from dask.distributed import as_completed  # deferred: optional (rrampaper[cluster])

        futures = {self._client.submit(guarded_call, fn, item, self.threads, pure=False): index
                   for index, item in enumerate(items)}
        try:
            for future in as_completed(futures):
                index = futures[future]
                if future.status == "finished":
                    yield _outcome(index, future.result())
                else:  # the worker died (KilledWorker) or the task could not run
                    yield Outcome(index, failure=_failure_of(future.exception()))
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


class SubmititExecutor(Executor):
    """Jobs as a ``submitit`` job array: SLURM, or ``cluster="local"`` to run the very same
    jobs as local processes.

    Parameters
    ----------
    folder:
        Where submitit writes each job's pickles and logs (files named by the job id).
    cluster:
        ``"slurm"``, ``"local"`` or ``None`` (submitit picks SLURM when ``sbatch`` exists).
    partition, gpus_per_job, time_min, mem_gb, cpus_per_job:
        SLURM resources of each job (``--partition``, GPUs per node, wall-time limit in
        minutes, memory in GB, CPUs); ``None`` leaves submitit's default.
    threads:
        torch intra-op threads per job.
    poll_s:
        Seconds between two looks at the jobs' states.
    """

    name = "slurm"

    def __init__(self, folder: str | Path, *, cluster: str | None = None, partition: str | None = None,
                 gpus_per_job: int | None = None, time_min: int | None = None,
                 mem_gb: float | None = None, cpus_per_job: int | None = None, threads: int = 1,
                 poll_s: float = 1.0) -> None:
        try:
            import submitit  # deferred: optional (rrampaper[cluster])
        except ImportError as error:
            raise ImportError("the slurm executor needs submitit: pip install 'rrampaper[cluster]' "
                              "(or 'submitit')") from error
        if cluster is not None:
            check_choice("cluster", cluster, ("slurm", "local"))
        self.folder = Path(folder)
        self.threads = check_positive_int("threads", threads)
        self.poll_s = poll_s
        self._executor = submitit.AutoExecutor(folder=self.folder, cluster=cluster)
        params: dict[str, Any] = {"name": "rrampaper"}
        if time_min is not None:
            params["timeout_min"] = check_positive_int("time_min", time_min)
        if mem_gb is not None:
            params["mem_gb"] = mem_gb
        if gpus_per_job is not None:
            params["gpus_per_node"] = check_positive_int("gpus_per_job", gpus_per_job, minimum=0)
        if cpus_per_job is not None:
            params["cpus_per_task"] = check_positive_int("cpus_per_job", cpus_per_job)
        if partition is not None:
            if self._executor.cluster != "slurm":
                raise ParameterError(f"partition={partition!r} needs SLURM; submitit found "
                                     f"cluster={self._executor.cluster!r}")
            params["slurm_partition"] = partition
        self._executor.update_parameters(**params)

    def describe(self) -> str:
        return f"{self._executor.cluster} via submitit: job logs in {self.folder}"

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Outcome]:
        if not items:
            return
        jobs = self._executor.map_array(guarded_call, [fn] * len(items), list(items),
                                        [self.threads] * len(items))
        waiting = dict(enumerate(jobs))
        try:
            while waiting:
                for index in [i for i, job in waiting.items() if job.done()]:
                    job = waiting.pop(index)
                    try:
                        yield _outcome(index, job.result())
                    except Exception as error:  # the job died: submitit says how, with its logs
                        yield Outcome(index, failure=Failure(
                            f"{type(error).__name__}: {str(error).strip().splitlines()[0][:300]}"
                            if str(error).strip() else type(error).__name__,
                            f"job {job.job_id} (logs: {job.paths.stderr})", str(error)))
                if waiting:
                    time.sleep(self.poll_s)
        finally:
            for job in waiting.values():
                job.cancel(check=False)


def runs_elsewhere(executor: str | Executor | None) -> bool:
    """Whether ``executor`` (or, for ``None``, ``$RRAMPAPER_EXECUTOR``) sends jobs out of this
    process, i.e. is not serial: callers then compute through it and read the store back."""
    chosen = executor if executor is not None else os.environ.get(EXECUTOR_ENV) or None
    if isinstance(chosen, Executor):
        return not isinstance(chosen, SerialExecutor)
    return chosen is not None and chosen != "serial"


def make_executor(spec: str | Executor | None = None, **options: Any) -> Executor:
    """An executor from its name (:data:`EXECUTORS`) and options, or ``spec`` itself.

    ``None`` reads :data:`EXECUTOR_ENV` (``serial`` when unset). Options by name: ``local``:
    ``workers``, ``threads``; ``dask``: ``address``, ``workers``, ``threads``; ``slurm``:
    ``folder`` (required), ``cluster``, ``partition``, ``gpus_per_job``, ``time_min``,
    ``mem_gb``, ``cpus_per_job``, ``threads``.
    """
    if isinstance(spec, Executor):
        given = sorted(k for k, v in options.items() if v is not None)
        if given:
            raise ParameterError(f"executor is an {type(spec).__name__} object, so the options "
                                 f"{given} would be ignored; set them when building it")
        return spec
    if spec is None:
        spec = os.environ.get(EXECUTOR_ENV, "serial") or "serial"
        name, _, extra = spec.partition(":")
        check_choice(EXECUTOR_ENV, name, EXECUTORS)
        if extra and name == "dask" and not extra.isdigit():
            options.setdefault("address", extra)
        elif extra:
            try:
                options.setdefault("workers", int(extra))
            except ValueError:
                raise ParameterError(f"{EXECUTOR_ENV}={spec!r}: the part after ':' must be a "
                                     f"number of workers (e.g. local:2)") from None
        if name == "slurm":
            options.setdefault("folder", results_dir() / "slurm-logs")
        spec = name
    check_choice("executor", spec, EXECUTORS)
    allowed = {"serial": set(), "local": {"workers", "threads"},
               "dask": {"address", "workers", "threads"},
               "slurm": {"folder", "cluster", "partition", "gpus_per_job", "time_min", "mem_gb",
                         "cpus_per_job", "threads", "poll_s"}}[spec]
    options = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ParameterError(f"executor={spec!r} takes no option {unknown[0]!r}; its options: "
                             f"{sorted(allowed) or 'none'}")
    if spec == "serial":
        return SerialExecutor()
    if spec == "local":
        return LocalExecutor(**options)
    if spec == "dask":
        return DaskExecutor(**options)
    if "folder" not in options:
        raise ParameterError("executor='slurm' needs folder= (where submitit writes job logs)")
    return SubmititExecutor(**options)
