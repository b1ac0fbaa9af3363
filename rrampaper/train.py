"""The generic training loop: one :class:`Experiment` -> :func:`run` -> ``xarray.Dataset``.

The loop knows no task: a task (:mod:`rrampaper.tasks`) gives data, model, loss, metric and
hyper-parameters, a method (:mod:`rrampaper.methods`) says what is trained. Model selection and
the limit-size schedule use the validation split; the test set is evaluated every epoch for the
curves and reported at the epoch the validation split selected, never used for a decision.

A run writes a checkpoint after every epoch (atomically) and resumes from it when restarted, so
a killed run loses at most the epoch in progress; the finished result is stored as netCDF keyed
by the configuration hash (:mod:`rrampaper.results`) and reused unless ``retrain=True``.

Examples
--------
>>> from rrampaper.train import Experiment, run
>>> result = run(Experiment(task="fashion_mnist", method="software_TO", profile="smoke"))  # doctest: +SKIP
>>> float(result.attrs["test_selected"])                                                     # doctest: +SKIP
0.71
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import Tensor, nn

from rrampaper import baselines, reads, results, topology
from rrampaper import methods as methods_module
from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper._io import atomic_path
from rrampaper._progress import progress_bar
from rrampaper.paths import results_dir
from rrampaper.profiles import PROFILES
from rrampaper.tasks import TASKS, Hyper, Splits, Task, get_task

RESULT_KIND = "train"

#: Fields of :class:`Experiment` that override the profile's :class:`Hyper` values.
HYPER_OVERRIDES: tuple[str, ...] = ("epochs", "lr", "n_train", "weight_decay")


@dataclass(frozen=True)
class Experiment:
    """Everything that determines a training run (its hash names the stored result).

    Attributes
    ----------
    task:
        A name of :data:`rrampaper.tasks.TASKS`.
    method:
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
    epochs, lr, n_train, weight_decay:
        Optional overrides of the profile's values.
    write_budget:
        ``insitu_WO`` only: programming pulses allowed for the weight updates of the whole run
        (``None``: unlimited); the initial programming of the weights is not charged (a choice
        that favours WO).
    """

    task: str = "fashion_mnist"
    method: str = "software_TO"
    technology: str = "taox_40nm"
    keep_ratio: float = 0.5
    limit_size: bool = True
    seed: int = 0
    profile: str = "quick"
    epochs: int | None = None
    lr: float | None = None
    n_train: int | None = None
    write_budget: int | None = None
    weight_decay: float | None = None

    def __post_init__(self) -> None:
        check_choice("task", self.task, TASKS)
        check_choice("method", self.method, methods_module.METHODS)
        check_range("keep_ratio", self.keep_ratio, 0.0, 1.0, low_open=True)
        check_positive_int("seed", self.seed, minimum=0)
        check_choice("profile", self.profile, PROFILES)
        if self.epochs is not None:
            check_positive_int("epochs", self.epochs)
        if self.lr is not None:
            check_range("lr", self.lr, 0.0, low_open=True)
        if self.n_train is not None:
            check_positive_int("n_train", self.n_train)
        if self.write_budget is not None:
            check_positive_int("write_budget", self.write_budget, minimum=0)
        if self.weight_decay is not None:
            check_range("weight_decay", self.weight_decay, 0.0)

    def hyper(self, task: Task | None = None) -> Hyper:
        """The task's hyper-parameters for this profile, with this experiment's overrides."""
        base = (task or get_task(self.task)).hyper(self.profile)
        overrides = {k: getattr(self, k) for k in HYPER_OVERRIDES if getattr(self, k) is not None}
        return dataclasses.replace(base, **overrides)

    def replace(self, **changes: Any) -> Experiment:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: CUDA when available, else CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def make_method(exp: Experiment, task: Task, hyper: Hyper) -> methods_module.Method:
    """The method object of an experiment."""
    if exp.method == "software_TO":
        return methods_module.SoftwareTO(task.software_weights, exp.keep_ratio, exp.seed)
    if exp.method == "hardware_TO":
        return methods_module.HardwareTO(exp.technology, exp.keep_ratio, exp.seed,
                                         hyper.limit_size if exp.limit_size else None)
    if exp.method == "software_WO":
        return methods_module.SoftwareWO()
    # The initial programming of the WO weights is not charged to the budget (favours WO).
    return baselines.InSituWO(technology=exp.technology, write_budget=exp.write_budget,
                              seed=exp.seed, count_initial=False)


@torch.no_grad()
def predict(model: nn.Module, inputs: Tensor, batch_size: int, device: torch.device) -> Tensor:
    """Model outputs for ``inputs`` in evaluation mode, batch by batch (returned on the CPU).

    Hardware models read the device afresh for every batch, starting from read 0 at each call,
    so two evaluations of the same model see the same device reads.
    """
    model.eval()
    reads.restart_eval_reads(model, 0)
    outputs = [model(inputs[i:i + batch_size].to(device)).float().cpu()
               for i in range(0, len(inputs), batch_size)]
    return torch.cat(outputs)


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
    return {"experiment": experiment, "hyper": dataclasses.asdict(exp.hyper(task)),
            "data": task.data_signature()}


def run_key(exp: Experiment, task: Task | None = None) -> str:
    """The 16-hex-digit hash of :func:`run_config` that names the files of a run."""
    return results.config_hash(run_config(exp, task))


def result_path(exp: Experiment, folder: str | Path | None = None) -> Path:
    """Where the finished result of ``exp`` is stored (``train-<run_key>.nc``)."""
    return results.result_path(run_config(exp), kind=RESULT_KIND, folder=folder)


def checkpoint_path(exp: Experiment, folder: Path | None = None) -> Path:
    """Where the per-epoch checkpoint of ``exp`` lives."""
    return (folder or results_dir()) / "checkpoints" / f"{run_key(exp)}.pt"


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
        Ignore a stored result and checkpoint and train from scratch.
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
        :func:`rrampaper.results.save_result`.
    """
    folder = Path(folder) if folder is not None else results_dir()
    if not retrain:
        stored = results.load_result(run_config(exp), kind=RESULT_KIND, folder=folder)
        if stored is not None:
            return stored
    task = get_task(exp.task)
    hyper = exp.hyper(task)
    device = resolve_device(device)
    data = splits if splits is not None else task.splits(hyper, exp.seed)
    torch.manual_seed(exp.seed)
    method = make_method(exp, task, hyper)
    model = method.build(task.build_model()).to(device)
    optimizer = _optimizer(model, hyper, hyper.lr)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=hyper.epochs)
                 if hyper.schedule == "cosine" else None)
    history: dict[str, list[float]] = {k: [] for k in
                                       ("train_loss", "validation", "test", "lr", "set_ops", "reset_ops", "density")}
    state = {"epoch": 0, "best": -math.inf, "best_model": None, "seconds": 0.0, "initial_resets": 0}
    ckpt = checkpoint_path(exp, folder)
    if ckpt.is_file() and not retrain:
        saved = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler"])
        getattr(method, "load_state_dict", lambda s: None)(saved["method"])
        history, state = saved["history"], saved["state"]
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
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        if epoch == 0:
            state["initial_resets"] = sum(c["initial_resets"] for c in topology.programming_counts(model).values())
        ops = method.programming_ops(model)
        validation = evaluate(model, task, data.validation, hyper.eval_batch_size, device)
        test = evaluate(model, task, data.test, hyper.eval_batch_size, device)
        improved = validation > state["best"]
        if improved:
            state["best"] = validation
            state["best_model"] = {k: v.detach().cpu().clone() if isinstance(v, Tensor) else copy.deepcopy(v)
                                   for k, v in model.state_dict().items()}
        method.end_epoch(model, improved)
        density = topology.realized_density(model)
        history["train_loss"].append(float(torch.stack(losses).mean()))
        history["validation"].append(validation)
        history["test"].append(test)
        history["lr"].append(lr)
        history["set_ops"].append(ops.get("set", 0) + ops.get("writes", 0))
        history["reset_ops"].append(ops.get("reset", 0))
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
    path = results.save_result(result, run_config(exp, task), kind=RESULT_KIND, folder=folder,
                               attrs=attrs)
    with atomic_path(_model_path(exp, folder)) as tmp:
        torch.save(state["best_model"], tmp)
    ckpt.unlink(missing_ok=True)
    return results.load_path(path)


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
                       device: str | torch.device = "cpu", technology: Any = None) -> nn.Module:
    """The model of a finished run at its selected (best-validation) epoch.

    ``technology`` (hardware TO only) rebuilds the chip with another :class:`Technology` of the
    same devices, e.g. :class:`rrampaper.devices.ScaledNoise` to evaluate under more read noise.
    """
    folder = Path(folder) if folder is not None else results_dir()
    path = _model_path(exp, folder)
    if not path.is_file():
        raise FileNotFoundError(f"no trained model for {exp} in {folder}: call run(exp) first")
    task = get_task(exp.task)
    method = make_method(exp, task, exp.hyper(task))
    if technology is not None:
        if exp.method != "hardware_TO":
            raise ValueError(f"technology= applies to hardware_TO runs, not method={exp.method!r}")
        method.technology = technology
    model = method.build(task.build_model())
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise RuntimeError(
            f"the stored model {path} does not fit the current code (it was probably written by an "
            f"older version of rrampaper): train again with run(exp, retrain=True) or remove it\n{error}"
        ) from None
    return model.to(resolve_device(device))
