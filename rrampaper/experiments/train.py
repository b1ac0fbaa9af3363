"""The generic training loop: one :class:`Experiment` -> :func:`run` -> ``xarray.Dataset``.

The loop knows no task: a task (:mod:`rrampaper.tasks`) gives data, model, loss, metric and
hyper-parameters, a method (:mod:`rrampaper.experiments.approaches`) says what is trained. Model selection and
the limit-size schedule use the validation split; the test set is evaluated every epoch for the
curves and reported at the epoch the validation split selected, never used for a decision.

A run writes a checkpoint after every epoch (atomically) and resumes from it when restarted, so
a killed run loses at most the epoch in progress; the finished result is stored as netCDF keyed
by the configuration hash (:mod:`rrampaper.experiments.store`) and reused unless ``retrain=True``.

Stored files are untrusted input and bad input never becomes a silent result:

- files are read as plain data only (``torch.load(weights_only=True)``), so no file can run code;
- a finished run is committed last: the trained model (``models/<key>.pt``) is written before
  the netCDF result, and a result without its model is not a finished run (trained again,
  resumed from its checkpoint if there is one);
- a result or trained model that cannot be read, or does not hold what a run stores, raises
  :class:`~rrampaper.errors.StoredFileError` naming the file and the fix (``retrain=True``); a
  checkpoint that cannot be used is moved aside to ``<key>.pt.corrupt`` and the run starts from
  its first epoch, with a ``RuntimeWarning`` saying so;
- a non-finite training loss, parameter or metric stops the run with
  :class:`~rrampaper.errors.DivergedError` and stores nothing as finished;
- an unwritable results folder raises :class:`~rrampaper.errors.UnwritableError` before any work.

Examples
--------
>>> from rrampaper.experiments.train import Experiment, run
>>> result = run(Experiment(task="fashion_mnist", method="software_TO", profile="smoke"))  # doctest: +SKIP
>>> float(result.attrs["test_selected"])                                                     # doctest: +SKIP
0.71
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import Tensor, nn

from rrampaper import topology
from rrampaper._checks import check_bool, check_choice, check_positive_int, check_range
from rrampaper._io import atomic_path, ensure_writable
from rrampaper._locks import run_lock
from rrampaper._progress import progress_bar
from rrampaper.devices.technologies import TECHNOLOGIES, Technology
from rrampaper.errors import DivergedError, ParameterError, StoredFileError
from rrampaper.experiments import approaches as methods_module
from rrampaper.experiments import store
from rrampaper.paths import results_dir
from rrampaper.profiles import PROFILES
from rrampaper.tasks import TASKS, Hyper, Splits, Task, get_task
from rrampaper.tasks.base import SCHEDULES

RESULT_KIND = "train"

#: Fields of :class:`Experiment` that override the profile's :class:`Hyper` values.
HYPER_OVERRIDES: tuple[str, ...] = ("epochs", "lr", "n_train", "weight_decay", "momentum",
                                     "schedule")

#: How hardware TO reads the chip during training (``Experiment.train_reads``).
TRAIN_READ_POLICIES: tuple[str, ...] = ("advance", "fixed")

#: Experiment fields added after runs were stored: at these values they are left out of the run
#: key, so that earlier stored runs keep their names.
KEY_DEFAULTS: dict[str, Any] = {"train_reads": "advance"}

#: Per-epoch variables of a run's result (and lists of its checkpoint's history).
HISTORY: tuple[str, ...] = ("train_loss", "validation", "test", "lr", "set_ops", "reset_ops",
                            "density")

#: Scalar attributes every finished result holds.
RESULT_ATTRS: tuple[str, ...] = ("metric", "selected_epoch", "validation_selected",
                                 "test_selected", "test_last", "initial_resets", "wall_time_s")

#: Largest learning rate an :class:`Experiment` accepts (the profiles use 1e-4 to 0.1).
MAX_LR = 10.0


@dataclass(frozen=True)
class Experiment:
    """Everything that determines a training run (its hash names the stored result).

    Attributes
    ----------
    task:
        A name of :data:`rrampaper.tasks.TASKS`.
    method:
        A trained approach of :data:`rrampaper.experiments.approaches.APPROACHES`:
        ``"software_TO"``, ``"hardware_TO"``, ``"software_WO"`` or ``"insitu_WO"``.
    technology:
        Device preset for hardware methods (:data:`rrampaper.devices.TECHNOLOGIES`).
    keep_ratio:
        Fraction of each layer's weights kept by TO, in (0, 1].
    limit_size:
        Hardware TO only: apply the limit-size rule with the task's schedule.
    seed:
        Seeds the validation split, the random weights, the scores, the chip and the batches.
    profile:
        ``"smoke"``, ``"quick"`` or ``"paper"``: the task's hyper-parameters.
    epochs, lr, n_train, weight_decay, momentum, schedule:
        Optional overrides of the profile's values (``momentum``: SGD only, in [0, 1);
        ``schedule``: ``"cosine"`` or ``"constant"``). The official spoken-digit hardware script,
        for example, is ``lr=0.1, momentum=0.0, weight_decay=0.0, schedule="constant"``.
    write_budget:
        ``insitu_WO`` only: programming pulses allowed for the weight updates of the whole run
        (``None``: unlimited); the initial programming of the weights is not charged (a choice
        that favours WO).
    train_reads:
        Hardware TO only: ``"advance"`` (a fresh device read per training batch, default) or
        ``"fixed"`` (every training batch uses read 0, as the official hardware scripts do).
        Evaluation always advances one read per batch.
    """

    task: str = "fashion_mnist"
    method: str = "software_TO"
    technology: str = "taox_40nm_macro"
    keep_ratio: float = 0.5
    limit_size: bool = True
    seed: int = 0
    profile: str = "quick"
    epochs: int | None = None
    lr: float | None = None
    n_train: int | None = None
    write_budget: int | None = None
    weight_decay: float | None = None
    train_reads: str = "advance"
    momentum: float | None = None
    schedule: str | None = None

    def __post_init__(self) -> None:
        # every field is checked here, so that a bad value fails when the experiment is made,
        # not epochs later when the method or the optimizer is built
        check_choice("task", self.task, TASKS)
        check_choice("method", self.method, methods_module.trained_methods())
        if not isinstance(self.technology, Technology):
            check_choice("technology", self.technology, TECHNOLOGIES)
        check_range("keep_ratio", self.keep_ratio, 0.0, 1.0, low_open=True)
        check_bool("limit_size", self.limit_size)
        check_positive_int("seed", self.seed, minimum=0)
        check_choice("profile", self.profile, PROFILES)
        if self.epochs is not None:
            check_positive_int("epochs", self.epochs)
        if self.lr is not None:
            check_range("lr", self.lr, 0.0, MAX_LR, low_open=True)
        if self.n_train is not None:
            check_positive_int("n_train", self.n_train)
        if self.write_budget is not None:
            check_positive_int("write_budget", self.write_budget, minimum=0)
        if self.weight_decay is not None:
            check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        check_choice("train_reads", self.train_reads, TRAIN_READ_POLICIES)
        if self.momentum is not None:
            check_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        if self.schedule is not None:
            check_choice("schedule", self.schedule, SCHEDULES)

    def hyper(self, task: Task | None = None) -> Hyper:
        """The task's hyper-parameters for this profile, with this experiment's overrides."""
        base = (task or get_task(self.task)).hyper(self.profile)
        overrides = {k: getattr(self, k) for k in HYPER_OVERRIDES if getattr(self, k) is not None}
        return dataclasses.replace(base, **overrides)

    def replace(self, **changes: Any) -> Experiment:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def available_devices() -> list[str]:
    """The devices :func:`resolve_device` accepts on this machine: ``"cpu"``, then every CUDA
    device (``"cuda:0"``, ...) and ``"mps"`` where present."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found


def resolve_device(device: str | torch.device = "auto", *, name: str = "device") -> torch.device:
    """``"auto"``: CUDA when available, else CPU; otherwise a device that exists on this machine.

    ``name`` is how the caller's user wrote the parameter (e.g. ``"--device"``), for the message.

    Raises
    ------
    rrampaper.errors.ParameterError
        ``device`` is not a torch device (``"gpu"``) or is absent here (``"cuda"`` without CUDA,
        ``"cuda:3"`` with two GPUs, ``"mps"`` off a Mac); the message lists what exists.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    found = available_devices()
    listed = ", ".join(["auto", *found])
    try:
        if not isinstance(device, str | torch.device):
            raise TypeError
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ParameterError(
            f"{name}={device!r} is not a device name; on this machine choose one of {listed}"
        ) from None
    if parsed.type == "cpu":
        return parsed
    wanted = f"{parsed.type}:{parsed.index or 0}" if parsed.type == "cuda" else parsed.type
    if wanted not in found:
        seen = ""
        if parsed.type == "cuda":
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            seen = f" (torch sees {count} CUDA device{'' if count == 1 else 's'})"
        raise ParameterError(
            f"{name}={device!r} does not exist on this machine{seen}; choose one of {listed}"
        )
    return parsed


def make_method(exp: Experiment, task: Task, hyper: Hyper) -> methods_module.Method:
    """The method object of an experiment: the builder of its registered approach
    (:data:`rrampaper.experiments.approaches.APPROACHES`)."""
    approach = methods_module.get(exp.method)
    if approach.build is None:
        raise ParameterError(f"method={exp.method!r} is a {approach.kind} approach, not one that "
                             f"is trained; choose one of {list(methods_module.trained_methods())}")
    return approach.build(exp, task, hyper)


def evaluate(model: nn.Module, task: Task, split: tuple[Tensor, Tensor], batch_size: int,
             device: torch.device) -> float:
    """The task's metric of ``model`` on one split (:meth:`Task.evaluate`)."""
    return task.evaluate(model, split, batch_size, device)


def _optimizer(model: nn.Module, hyper: Hyper, lr: float) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    if hyper.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=hyper.weight_decay)
    return torch.optim.SGD(params, lr=lr, momentum=hyper.momentum, weight_decay=hyper.weight_decay)


def run_config(exp: Experiment, task: Task | None = None) -> dict[str, Any]:
    """What names a stored run: the experiment, its resolved hyper-parameters and its data.

    Keying by the resolved :class:`Hyper` (not only the profile's name) means that a changed
    profile (more epochs, another optimizer setting) never silently reuses an older result, and
    keying by :meth:`Task.data_signature` keeps synthetic-image runs apart from real-data runs.
    """
    task = task or get_task(exp.task)
    # the overrides are folded into the resolved hyper-parameters: an override equal to the
    # profile's value names the same run as no override
    experiment = {k: v for k, v in dataclasses.asdict(exp).items() if k not in HYPER_OVERRIDES}
    for name, default in KEY_DEFAULTS.items():  # fields added later name no new run at default
        if experiment.get(name) == default:
            del experiment[name]
    return {"experiment": experiment, "hyper": dataclasses.asdict(exp.hyper(task)),
            "data": task.data_signature()}


def run_key(exp: Experiment, task: Task | None = None) -> str:
    """The 16-hex-digit hash of :func:`run_config` that names the files of a run."""
    return store.config_hash(run_config(exp, task))


def result_path(exp: Experiment, folder: str | Path | None = None) -> Path:
    """Where the finished result of ``exp`` is stored (``train-<run_key>.nc``)."""
    return store.result_path(run_config(exp), kind=RESULT_KIND, folder=folder)


def checkpoint_path(exp: Experiment, folder: Path | None = None) -> Path:
    """Where the per-epoch checkpoint of ``exp`` lives."""
    return (folder or results_dir()) / "checkpoints" / f"{run_key(exp)}.pt"


def _fresh(exp: Experiment, task: Task, hyper: Hyper, device: torch.device) -> tuple[
        methods_module.Method, nn.Module, torch.optim.Optimizer, Any]:
    """Method, model, optimizer and scheduler of a run at its start (seeded: always the same)."""
    torch.manual_seed(exp.seed)
    method = make_method(exp, task, hyper)
    model = method.build(task.build_model()).to(device)
    optimizer = _optimizer(model, hyper, hyper.lr)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=hyper.epochs)
                 if hyper.schedule == "cosine" else None)
    return method, model, optimizer, scheduler


def _read_torch(path: Path, map_location: Any, what: str, fix: str) -> Any:
    """``torch.load(path, weights_only=True)``: plain data only, nothing in the file runs.

    A file that is not a readable torch file (truncated, random bytes) or that holds objects
    other than plain containers, numbers and tensors raises :class:`StoredFileError`.
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (FileNotFoundError, PermissionError):
        raise
    except Exception as error:  # torch/pickle/zipfile raise many types on a bad file
        if "weights only load failed" in str(error).lower():
            problem = (f"the {what} holds Python objects other than tensors, numbers and plain "
                       f"containers, which are never loaded because loading them could run code")
        else:
            problem = (f"the {what} cannot be read ({store.one_line(error)}): it is truncated "
                       f"or not a torch file")
        raise StoredFileError(path, problem, fix) from None


def _is_tensor_dict(value: Any) -> bool:
    """A module state dict: names -> tensors (or plain ``_extra_state`` values)."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and (isinstance(v, Tensor) or k.endswith("_extra_state"))
        for k, v in value.items())


def _is_number(value: Any, *, finite: bool = True) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) or not finite


class _UnusableCheckpoint(Exception):
    """A checkpoint that cannot be resumed from (the message says why)."""


def _check_checkpoint(saved: Any, hyper: Hyper, has_scheduler: bool) -> None:
    """Raise :class:`_UnusableCheckpoint` unless ``saved`` has the structure :func:`run` writes."""
    keys = {"model", "optimizer", "scheduler", "method", "history", "state"}
    if not isinstance(saved, dict) or set(saved) != keys:
        found = sorted(saved) if isinstance(saved, dict) else type(saved).__name__
        raise _UnusableCheckpoint(f"it holds {found}, not a dict with keys {sorted(keys)}")
    if not _is_tensor_dict(saved["model"]):
        raise _UnusableCheckpoint("its 'model' is not a state dict of tensors")
    optimizer = saved["optimizer"]
    if not (isinstance(optimizer, dict) and isinstance(optimizer.get("state"), dict)
            and isinstance(optimizer.get("param_groups"), list)):
        raise _UnusableCheckpoint("its 'optimizer' is not an optimizer state dict")
    if has_scheduler != isinstance(saved["scheduler"], dict) or (
            not has_scheduler and saved["scheduler"] is not None):
        raise _UnusableCheckpoint("its 'scheduler' does not match the learning-rate schedule")
    if not isinstance(saved["method"], dict):
        raise _UnusableCheckpoint("its 'method' is not a dict")
    state = saved["state"]
    if not (isinstance(state, dict)
            and set(state) == {"epoch", "best", "best_model", "seconds", "initial_resets"}):
        raise _UnusableCheckpoint("its 'state' does not have the keys a run writes")
    epoch = state["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= hyper.epochs:
        raise _UnusableCheckpoint(f"its epoch {epoch!r} is not in 1..{hyper.epochs}")
    if not (_is_number(state["best"]) and _is_number(state["seconds"]) and state["seconds"] >= 0
            and isinstance(state["initial_resets"], int) and state["initial_resets"] >= 0):
        raise _UnusableCheckpoint("its 'state' has a best value, time or RESET count that is "
                                  "not a finite number of the right sign")
    if not _is_tensor_dict(state["best_model"]):
        raise _UnusableCheckpoint("its selected model is not a state dict of tensors")
    history = saved["history"]
    if not isinstance(history, dict) or set(history) != set(HISTORY):
        raise _UnusableCheckpoint(f"its 'history' does not have the lists {list(HISTORY)}")
    for name, values in history.items():
        if not (isinstance(values, list) and len(values) == epoch
                and all(_is_number(v) for v in values)):
            raise _UnusableCheckpoint(f"its history {name!r} is not a list of {epoch} finite "
                                      f"numbers")


def _resume(path: Path, device: torch.device, hyper: Hyper, method: methods_module.Method,
            model: nn.Module, optimizer: torch.optim.Optimizer,
            scheduler: Any) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Load the checkpoint into the run's objects; return its history and state.

    Raises :class:`_UnusableCheckpoint` (the objects may then be half-loaded: build them again).
    """
    try:
        saved = _read_torch(path, device, "checkpoint", "")
    except StoredFileError as error:
        raise _UnusableCheckpoint(error.problem) from None
    _check_checkpoint(saved, hyper, scheduler is not None)
    try:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler"])
        getattr(method, "load_state_dict", lambda s: None)(saved["method"])
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as error:
        raise _UnusableCheckpoint(f"it does not fit this run ({store.one_line(error)})") from None
    return saved["history"], saved["state"]


def _diverged(exp: Experiment, hyper: Hyper, epoch: int, what: str) -> DivergedError:
    kept = (f"the checkpoint of epoch {epoch - 1} is kept" if epoch > 1 else
            "no checkpoint was written")
    return DivergedError(
        f"{exp.task} {exp.method} seed {exp.seed} diverged in epoch {epoch} of {hyper.epochs}: "
        f"{what} is not finite; nothing was stored as a finished run ({kept}); lower the "
        f"learning rate (lr={hyper.lr:g}; e.g. lr={hyper.lr / 10:g}, on the command line "
        f"--lr {hyper.lr / 10:g}) and run again")


def _check_result(stored: xr.Dataset, path: Path, hyper: Hyper) -> None:
    """Raise :class:`StoredFileError` unless ``stored`` is a complete, finite training record."""
    fix = store.RETRAIN_FIX
    for name in HISTORY:
        variable = stored[name]
        if variable.dims != ("epoch",) or variable.size != hyper.epochs:
            raise StoredFileError(path, f"its variable {name!r} has dims {variable.dims} and "
                                        f"{variable.size} values, not one per epoch of "
                                        f"{hyper.epochs}", fix)
        if not np.isfinite(variable.values).all():
            raise StoredFileError(path, f"its variable {name!r} holds values that are not "
                                        f"finite", fix)
    selected = stored.attrs["selected_epoch"]
    if not (isinstance(selected, int | np.integer) and 1 <= selected <= hyper.epochs):
        raise StoredFileError(path, f"its selected_epoch {selected!r} is not in "
                                    f"1..{hyper.epochs}", fix)
    for name in ("validation_selected", "test_selected", "test_last"):
        if not (isinstance(stored.attrs[name], float | int | np.number)
                and np.isfinite(stored.attrs[name])):
            raise StoredFileError(path, f"its attribute {name!r} is not a finite number", fix)


def _stored_result(exp: Experiment, task: Task, folder: Path) -> xr.Dataset | None:
    """The finished, checked result of ``exp`` in ``folder``, or ``None`` if it is not finished."""
    config = run_config(exp, task)
    stored = store.load_result(config, kind=RESULT_KIND, folder=folder, variables=HISTORY,
                                 attrs=RESULT_ATTRS)
    if stored is None:
        return None
    path = store.result_path(config, kind=RESULT_KIND, folder=folder)
    _check_result(stored, path, exp.hyper(task))
    model = _model_path(exp, folder)
    if not model.is_file():
        warnings.warn(f"{path} has no trained model {model} beside it (the run stopped while "
                      f"storing it, or the model was deleted), so it is not a finished run: "
                      f"training it again (from its checkpoint if there is one)",
                      RuntimeWarning, stacklevel=3)
        return None
    return stored


def _epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[Tensor]:
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(n, generator=generator)
    return [order[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)] or [order]


def run(
    exp: Experiment,
    *,
    retrain: bool = False,
    device: str | torch.device = "auto",
    folder: str | Path | None = None,
    progress: bool = True,
    splits: Splits | None = None,
) -> xr.Dataset:
    """Train ``exp`` (or load its stored result) and return the per-epoch record.

    Parameters
    ----------
    exp:
        The experiment.
    retrain:
        Ignore a stored result and checkpoint and train from scratch (also the fix for a
        stored result that cannot be read).
    device:
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    folder:
        Results folder (default :func:`rrampaper.paths.results_dir`).
    progress:
        Show a tqdm bar over epochs.
    splits:
        Pre-loaded data splits (saves reloading when many runs share them).

    Returns
    -------
    xarray.Dataset
        Variables over ``epoch``: ``train_loss``, ``validation``, ``test`` (the task's metric),
        ``lr``, ``set_ops``, ``reset_ops``, ``density``; attributes ``selected_epoch`` (best
        validation), ``test_selected``, ``test_last``, ``validation_selected``,
        ``initial_resets``, ``metric``, ``wall_time_s`` and the provenance of
        :func:`rrampaper.experiments.store.save_result`.

    Raises
    ------
    rrampaper.errors.StoredFileError
        The stored result of ``exp`` cannot be read or is not a complete record of this
        configuration (fix: ``retrain=True``). A checkpoint that cannot be used is not an
        error: it is moved aside to ``<key>.pt.corrupt`` and the run starts again, with a
        ``RuntimeWarning``.
    rrampaper.errors.UnwritableError
        ``folder`` cannot be written (checked before any work).
    rrampaper.errors.DivergedError
        The training loss, the trained parameters or a metric became non-finite.
    """
    folder = Path(folder) if folder is not None else results_dir()
    task = get_task(exp.task)
    hyper = exp.hyper(task)
    if not retrain:
        stored = _stored_result(exp, task, folder)
        if stored is not None:
            return stored
    device = resolve_device(device)
    for place in (folder, folder / "checkpoints", folder / "models"):
        ensure_writable(place, "results folder")
    target = store.result_path(run_config(exp, task), kind=RESULT_KIND, folder=folder)
    # one worker per configuration: another process on the same results folder (a grid's
    # workers) that holds the lock trains it; this one waits and loads what it stored
    with run_lock(target) as lock:
        if lock.waited or not retrain:
            stored = _stored_result(exp, task, folder)
            if stored is not None:
                return stored
        return _train(exp, task, hyper, folder, retrain=retrain, device=device,
                      progress=progress, splits=splits)


def _train(exp: Experiment, task: Task, hyper: Hyper, folder: Path, *, retrain: bool,
           device: torch.device, progress: bool, splits: Splits | None) -> xr.Dataset:
    """The training of :func:`run` (its result not stored yet; the caller holds its lock)."""
    data = splits if splits is not None else task.run_splits(hyper, exp.seed, folder=folder)
    method, model, optimizer, scheduler = _fresh(exp, task, hyper, device)
    history: dict[str, list[float]] = {k: [] for k in HISTORY}
    state = {"epoch": 0, "best": -math.inf, "best_model": None, "seconds": 0.0, "initial_resets": 0}
    ckpt = checkpoint_path(exp, folder)
    if ckpt.is_file() and not retrain:
        try:
            history, state = _resume(ckpt, device, hyper, method, model, optimizer, scheduler)
        except _UnusableCheckpoint as problem:
            aside = ckpt.with_name(ckpt.name + ".corrupt")
            os.replace(ckpt, aside)
            warnings.warn(f"{ckpt}: the checkpoint cannot be used ({problem}); moved it to "
                          f"{aside} and training {exp.task} {exp.method} seed {exp.seed} from "
                          f"its first epoch", RuntimeWarning, stacklevel=3)
            method, model, optimizer, scheduler = _fresh(exp, task, hyper, device)
    x_train, y_train = data.train
    bar = progress_bar(range(state["epoch"], hyper.epochs), enabled=progress,
                       desc=f"{exp.task} {exp.method} seed {exp.seed}", leave=False,
                       initial=state["epoch"], total=hyper.epochs)
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        losses = []
        for index in _epoch_batches(len(y_train), hyper.batch_size, exp.seed, epoch):
            optimizer.zero_grad(set_to_none=True)
            loss = task.loss(model(x_train[index].to(device)), y_train[index].to(device))
            loss.backward()
            optimizer.step()
            method.after_step(model)
            losses.append(loss.detach())
        epoch_losses = torch.stack(losses)
        if not bool(torch.isfinite(epoch_losses).all()):
            raise _diverged(exp, hyper, epoch + 1, "the training loss")
        broken = [name for name, p in model.named_parameters()
                  if p.requires_grad and not bool(torch.isfinite(p).all())]
        if broken:
            raise _diverged(exp, hyper, epoch + 1, f"the trained parameter {broken[0]!r}")
        lr = float(optimizer.param_groups[0]["lr"])
        if scheduler is not None:
            scheduler.step()
        if epoch == 0:
            state["initial_resets"] = int(sum(c["initial_resets"] for c in topology.programming_counts(model).values()))
        ops = method.programming_ops(model)
        validation = float(evaluate(model, task, data.validation, hyper.eval_batch_size, device))
        test = float(evaluate(model, task, data.test, hyper.eval_batch_size, device))
        for split, value in (("validation", validation), ("test", test)):
            if not math.isfinite(value):
                raise _diverged(exp, hyper, epoch + 1, f"the {split} {task.metric} ({value})")
        improved = validation > state["best"]
        if improved:
            state["best"] = validation
            state["best_model"] = {k: v.detach().cpu().clone() if isinstance(v, Tensor) else copy.deepcopy(v)
                                   for k, v in model.state_dict().items()}
        method.end_epoch(model, improved)
        density = topology.realized_density(model)
        # plain Python floats only: the checkpoint is read back with weights_only=True
        history["train_loss"].append(float(epoch_losses.mean()))
        history["validation"].append(validation)
        history["test"].append(test)
        history["lr"].append(lr)
        history["set_ops"].append(float(ops.get("set", 0) + ops.get("writes", 0)))
        history["reset_ops"].append(float(ops.get("reset", 0)))
        history["density"].append(float(np.mean(list(density.values()))) if density else 1.0)
        state["epoch"] = epoch + 1
        state["seconds"] += time.perf_counter() - t0
        bar.set_postfix(val=f"{validation:.3f}", test=f"{test:.3f}")
        with atomic_path(ckpt) as tmp:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict() if scheduler else None,
                        "method": getattr(method, "state_dict", dict)(),
                        "history": history, "state": state}, tmp)
    bar.close()
    result = _to_dataset(history, task.metric)
    selected = int(np.argmax(history["validation"]))
    attrs = {
        "metric": task.metric,
        "selected_epoch": selected + 1,
        "validation_selected": history["validation"][selected],
        "test_selected": history["test"][selected],
        "test_last": history["test"][-1],
        "initial_resets": int(state["initial_resets"]),
        "wall_time_s": round(state["seconds"], 2),
        "device": str(device),
        "seed": exp.seed,
        "n_train": len(y_train),
        "n_validation": len(data.validation[1]),
        "n_test": len(data.test[1]),
        "hyper": dataclasses.asdict(hyper),
    }
    # commit order: the netCDF result marks the run as finished, so it is written last; an
    # older result is removed first so that it never pairs with the new model
    config = run_config(exp, task)
    store.result_path(config, kind=RESULT_KIND, folder=folder).unlink(missing_ok=True)
    with atomic_path(_model_path(exp, folder)) as tmp:
        torch.save(state["best_model"], tmp)
    path = store.save_result(result, config, kind=RESULT_KIND, folder=folder, attrs=attrs)
    ckpt.unlink(missing_ok=True)
    return store.load_path(path)


def _model_path(exp: Experiment, folder: Path) -> Path:
    return folder / "models" / f"{run_key(exp)}.pt"


def _to_dataset(history: dict[str, list[float]], metric: str) -> xr.Dataset:
    epochs = np.arange(1, len(history["validation"]) + 1)
    data = {name: ("epoch", np.asarray(values, dtype=np.float64)) for name, values in history.items()}
    ds = xr.Dataset(data, coords={"epoch": epochs})
    ds["validation"].attrs["long_name"] = f"validation {metric}"
    ds["test"].attrs["long_name"] = f"test {metric}"
    ds["set_ops"].attrs["long_name"] = "SET operations (pairs reinstated) during the epoch"
    ds["reset_ops"].attrs["long_name"] = "RESET operations (pairs pruned) during the epoch"
    return ds


def load_trained_model(exp: Experiment, *, folder: str | Path | None = None,
                       device: str | torch.device = "cpu", technology: Any = None,
                       t_inference_s: float | None = None) -> nn.Module:
    """The model of a finished run at its selected (best-validation) epoch.

    ``technology`` (hardware TO only) rebuilds the chip with another :class:`Technology` of the
    same devices, e.g. :class:`rrampaper.devices.ScaledNoise` to evaluate under more read noise.
    ``t_inference_s`` (hardware TO only) lets the chip relax that long after its last SET/RESET
    (:meth:`rrampaper.devices.Chip.set_time`; ``None``: the technology's ``t_inference_s``,
    1 s unless a preset says otherwise); training always read the chip at 1 s.
    """
    folder = Path(folder) if folder is not None else results_dir()
    path = _model_path(exp, folder)
    if not path.is_file():
        raise FileNotFoundError(f"no trained model for {exp} in {folder}: call run(exp) first")
    fix = (f"delete it and its result {result_path(exp, folder).name}, or train again with "
           f"run(exp, retrain=True) (on the command line: rrampaper train --retrain)")
    task = get_task(exp.task)
    method = make_method(exp, task, exp.hyper(task))
    if technology is not None:
        if exp.method != "hardware_TO":
            raise ValueError(f"technology= applies to hardware_TO runs, not method={exp.method!r}")
        method.technology = technology
    if t_inference_s is not None and exp.method != "hardware_TO":
        raise ValueError(f"t_inference_s= applies to hardware_TO runs, not method={exp.method!r}")
    model = method.build(task.build_model())
    state = _read_torch(path, "cpu", "trained model", fix)
    if not _is_tensor_dict(state):
        raise StoredFileError(path, "it does not hold a model state dict (names -> tensors)", fix)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise StoredFileError(
            path, f"it does not fit the current code (written by another version of rrampaper or "
                  f"for another model: {store.one_line(error)})", fix) from None
    chip = getattr(method, "chip", None)
    if chip is not None:
        chip.set_time(chip.technology.t_inference_s if t_inference_s is None else t_inference_s)
    return model.to(resolve_device(device))
