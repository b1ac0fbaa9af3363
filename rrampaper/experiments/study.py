"""Run groups of experiments and collect them into labelled ``xarray`` objects for figures.

The notebooks call these instead of looping themselves, so that every figure of every task is
made the same way: train (or load) each configuration over seeds, stack the per-epoch records
along ``approach`` and ``seed``, and summarise as mean and standard deviation over seeds.

Examples
--------
>>> from rrampaper.experiments.study import train_grid                        # doctest: +SKIP
>>> curves = train_grid({"software TO": Experiment(method="software_TO")}, seeds=[0, 1])  # doctest: +SKIP
>>> curves["test"].mean("seed")                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rrampaper import baselines
from rrampaper._checks import check_choice
from rrampaper._progress import report
from rrampaper.devices import ScaledNoise
from rrampaper.devices import technology as device_technology
from rrampaper.experiments import approaches
from rrampaper.experiments.executors import Executor, runs_elsewhere
from rrampaper.experiments.grid import grid_runs, run_grid
from rrampaper.experiments.train import (
    Experiment,
    evaluate,
    load_trained_model,
    resolve_device,
    result_path,
    run,
)
from rrampaper.tasks import get_task

#: Seeds of each profile (mean and spread are reported over these).
PROFILE_SEEDS: dict[str, tuple[int, ...]] = {"smoke": (0,), "quick": (0, 1, 2), "paper": (0, 1, 2)}


def seeds_for(profile: str, seeds: Sequence[int] | None = None) -> list[int]:
    """``seeds`` if given, else the profile's default seeds."""
    return list(seeds) if seeds is not None else list(PROFILE_SEEDS[profile])


def train_grid(
    experiments: Mapping[str, Experiment | Mapping[int, Experiment]],
    seeds: Sequence[int],
    *,
    retrain: bool = False,
    progress: bool = True,
    executor: str | Executor | None = None,
    **run_kwargs: Any,
) -> xr.Dataset:
    """Train every labelled experiment for every seed; stack the records.

    Parameters
    ----------
    experiments:
        ``{label: Experiment}``; the experiment's own ``seed`` is replaced by each of ``seeds``.
        A value may also be ``{seed: Experiment}`` when the configuration differs per seed
        (e.g. :func:`equal_budget_insitu`).
    seeds:
        Seeds to run.
    retrain:
        Ignore stored results.
    progress:
        Show progress bars.
    executor:
        Where the runs that are not stored yet are trained
        (:mod:`rrampaper.experiments.executors`): ``None`` reads ``$RRAMPAPER_EXECUTOR`` and
        defaults to this process, one run after the other; ``"local"``, ``"dask"``, ``"slurm"``
        or an executor object trains them in parallel (:func:`rrampaper.experiments.grid.run_grid`),
        after which the records are read back from the store, exactly as a serial run leaves
        them. A failed run raises :class:`~rrampaper.experiments.grid.GridFailed` once the
        others are stored.

    Returns
    -------
    xarray.Dataset
        The per-epoch variables of :func:`rrampaper.experiments.train.run` with dims ``(approach, seed,
        epoch)`` (not ``method``: that name is a keyword of ``xarray.Dataset.sel``) and the scalar attributes as variables over ``(approach, seed)``:
        ``test_selected``, ``test_last``, ``validation_selected``, ``selected_epoch``,
        ``initial_resets``, ``wall_time_s``.
    """
    if not experiments:
        raise ValueError("experiments is empty; give at least one {label: Experiment}")
    if runs_elsewhere(executor):
        run_grid(grid_runs(experiments, seeds), executor=executor, retrain=retrain,
                 progress=progress, folder=run_kwargs.get("folder"),
                 device=run_kwargs.get("device", "auto"))
        retrain = False  # every run is stored now: the loop below reads them back
    splits_cache: dict[tuple, Any] = {}
    per_method = []
    total = len(experiments) * len(seeds)
    for base in experiments.values():
        per_seed = []
        for seed in seeds:
            exp = base.replace(seed=seed) if isinstance(base, Experiment) else base[seed].replace(seed=seed)
            task = get_task(exp.task)
            hyper = exp.hyper(task)
            key = (exp.task, hyper.n_train, hyper.n_validation, hyper.n_test, seed)
            if key not in splits_cache:
                splits_cache[key] = (None if _stored(exp, run_kwargs) and not retrain else
                                     task.run_splits(hyper, seed, folder=run_kwargs.get("folder")))
            record = run(exp, retrain=retrain, progress=progress, splits=splits_cache[key], **run_kwargs)
            per_seed.append(_with_scalars(record))
            report("runs", len(per_method) * len(seeds) + len(per_seed), total)  # reproduce's status line
        per_method.append(xr.concat(per_seed, dim=xr.DataArray(list(seeds), dims="seed", name="seed"),
                                    join="outer", combine_attrs="drop_conflicts"))
    labels = xr.DataArray(list(experiments), dims="approach", name="approach")
    return xr.concat(per_method, dim=labels, join="outer", combine_attrs="drop_conflicts")


def _stored(exp: Experiment, run_kwargs: Mapping[str, Any]) -> bool:

    return result_path(exp, run_kwargs.get("folder")).is_file()


_SCALARS = ("test_selected", "test_last", "validation_selected", "selected_epoch",
            "initial_resets", "wall_time_s")


def _with_scalars(record: xr.Dataset) -> xr.Dataset:
    out = record.copy()
    for name in _SCALARS:
        out[name] = float(record.attrs[name])
    out.attrs = {k: v for k, v in record.attrs.items() if k in ("metric",)}
    return out


def mean_sd(values: xr.DataArray, dim: str = "seed") -> tuple[xr.DataArray, xr.DataArray]:
    """Mean and sample standard deviation over ``dim`` (sd 0 for a single seed)."""
    n = values.sizes[dim]
    return values.mean(dim), (values.std(dim, ddof=1) if n > 1 else xr.zeros_like(values.mean(dim)))


def summary(grid: xr.Dataset, variables: Sequence[str] = ("test_selected", "test_last")) -> Any:
    """A ``pandas.DataFrame``: one row per approach, ``mean ± sd`` over seeds of each variable."""

    rows = {}
    for approach in grid["approach"].values:
        row = {}
        for name in variables:
            mean, sd = mean_sd(grid[name].sel(approach=approach))
            row[f"{name} mean"] = float(mean)
            row[f"{name} sd"] = float(sd)
        row["seeds"] = int(grid.sizes["seed"])
        rows[str(approach)] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def total_programming(grid: xr.Dataset) -> xr.DataArray:
    """SET + RESET operations of the whole run (training flips plus the initial RESETs)."""
    flips = (grid["set_ops"] + grid["reset_ops"]).sum("epoch")
    return flips + grid["initial_resets"]


def as_percent(value: float) -> str:
    """``0.8731`` -> ``'87.3 %'``."""
    return f"{100 * float(value):.1f} %" if np.isfinite(value) else "n/a"


def _test_split(exp: Experiment, cache: dict, folder: Any = None) -> tuple[Any, Any]:
    task = get_task(exp.task)
    hyper = exp.hyper(task)
    key = (exp.task, hyper.n_test)
    if key not in cache:
        cache[key] = task.run_splits(hyper, 0, folder=folder).test
    return cache[key]


def wo_programs(tech: Any) -> tuple[str, ...]:
    """The programs WO is written onto the technology ``tech`` (a name or a technology) with:
    its published post-verify spread where it has one, else one open-loop pulse per cell; then
    the write-verify algorithm.

    >>> wo_programs("taox_post_verify_static"), wo_programs("taox_40nm_macro")
    (('post_verify', 'write_verify'), ('open_loop', 'write_verify'))
    """
    tech = device_technology(tech) if isinstance(tech, str) else tech
    return ("post_verify" if tech.has_post_verify else "open_loop", "write_verify")


def _programmed_key(source: str, program: str) -> str:
    """The key of the programmed approach that writes ``source``'s models with ``program``."""
    for approach in approaches.APPROACHES.values():
        if approach.kind == "programmed" and (approach.source, approach.program) == (source, program):
            return approach.key
    raise ValueError(f"no programmed approach writes {source} with {program}")


def programmed_approaches(
    tech: Any, trained: Sequence[str] = ("software_WO", "hwa_WO")
) -> tuple[str, ...]:
    """Keys of the programmed approaches compared on ``tech``: software WO with each program of
    :func:`wo_programs`, then hardware-aware WO with write-verify (the programming it is trained
    for); only those whose trained source is in ``trained``.

    >>> programmed_approaches("taox_40nm_macro")
    ('wo_open_loop', 'wo_write_verify', 'hwa_wo_write_verify')
    >>> programmed_approaches("taox_post_verify_static", trained=("software_TO", "software_WO"))
    ('wo_post_verify', 'wo_write_verify')
    """
    pairs = [("software_WO", program) for program in wo_programs(tech)] + [("hwa_WO", "write_verify")]
    return tuple(_programmed_key(source, program) for source, program in pairs if source in trained)


def wo_on_device(
    exp: Experiment,
    seeds: Sequence[int],
    *,
    technology: Any = None,
    methods: Sequence[str] | None = None,
    read_noise_scale: float = 1.0,
    programming_noise_scale: float = 1.0,
    folder: Any = None,
    _cache: dict | None = None,
) -> xr.Dataset:
    """Program the trained WO models of ``exp`` (one per seed) onto the device and evaluate.

    Each seed's selected software model is written with
    :func:`rrampaper.baselines.program_model` (programming noise; write-verify re-programs
    until the verify read is within tolerance) and evaluated on the test split with a fresh
    device read per batch. ``methods``: the programs (default :func:`wo_programs` of the
    technology: post-verify or open-loop, and write-verify).

    Returns
    -------
    xarray.Dataset
        Over ``(program, seed)``: ``test`` (the task's metric), ``pulses`` (programming
        operations) and ``relative_error`` (RMS weight error / RMS weight).
    """

    programmable = sorted({a.source for a in approaches.APPROACHES.values()
                           if a.kind == "programmed" and a.source is not None})
    if exp.method not in programmable:
        raise ValueError(f"exp.method={exp.method!r}: wo_on_device needs a trained WO experiment "
                         f"(one of {', '.join(programmable)})")
    methods = list(wo_programs(technology or exp.technology) if methods is None else methods)
    cache = _cache if _cache is not None else {}
    task = get_task(exp.task)
    hyper = exp.hyper(task)
    test = _test_split(exp, cache, folder)
    device = resolve_device("auto")
    rows = {name: np.full((len(methods), len(seeds)), np.nan) for name in ("test", "pulses", "relative_error")}
    for j, seed in enumerate(seeds):
        model = load_trained_model(exp.replace(seed=seed), folder=folder)
        for i, method in enumerate(methods):
            programmed, report = baselines.program_model(
                model, technology or exp.technology, method, seed=seed,
                read_noise_scale=read_noise_scale, programming_noise_scale=programming_noise_scale)
            rows["test"][i, j] = evaluate(programmed.to(device), task, test, hyper.eval_batch_size, device)
            rows["pulses"][i, j] = report.total_pulses
            rows["relative_error"][i, j] = report.relative_error
    coords = {"program": list(methods), "seed": list(seeds)}
    return xr.Dataset({k: (("program", "seed"), v) for k, v in rows.items()}, coords=coords)


def _reread_hardware_to(
    exp: Experiment,
    seeds: Sequence[int],
    levels: Sequence[float],
    dim: str,
    load_options: Any,
    who: str,
    folder: Any,
    cache: dict | None,
) -> xr.DataArray:
    """Test metric of the stored hardware-TO models of ``exp`` at every level of ``dim``:
    ``load_options(level)`` gives the keyword arguments of :func:`load_trained_model` that set
    the level (nothing is retrained). A DataArray over ``(dim, seed)``."""
    if exp.method != "hardware_TO":
        raise ValueError(f"exp.method={exp.method!r}: {who} needs a hardware_TO experiment")
    cache = cache if cache is not None else {}
    task = get_task(exp.task)
    test = _test_split(exp, cache, folder)
    device = resolve_device("auto")
    values = np.full((len(levels), len(seeds)), np.nan)
    for j, seed in enumerate(seeds):
        for i, level in enumerate(levels):
            model = load_trained_model(exp.replace(seed=seed), folder=folder, **load_options(level))
            values[i, j] = evaluate(model.to(device), task, test, exp.hyper(task).eval_batch_size, device)
    return xr.DataArray(values, dims=(dim, "seed"),
                        coords={dim: [float(v) for v in levels], "seed": list(seeds)}, name="test")


def to_under_read_noise(
    exp: Experiment,
    seeds: Sequence[int],
    read_scales: Sequence[float],
    *,
    folder: Any = None,
    _cache: dict | None = None,
) -> xr.DataArray:
    """Test metric of trained hardware-TO models re-read with the read noise scaled.

    The chip keeps the same devices (same seed); only the cycle-to-cycle read noise changes
    (:class:`rrampaper.devices.ScaledNoise`). Returns a DataArray over ``(level, seed)``.
    """
    return _reread_hardware_to(
        exp, seeds, read_scales, "level",
        lambda scale: {"technology": ScaledNoise(exp.technology, read_scale=scale)},
        "to_under_read_noise", folder, _cache)


def to_over_time(
    exp: Experiment,
    seeds: Sequence[int],
    times_s: Sequence[float],
    *,
    folder: Any = None,
    _cache: dict | None = None,
) -> xr.DataArray:
    """Test metric of trained hardware-TO models read ``times_s`` seconds after their last
    SET/RESET (the chip relaxes by its technology's law, :meth:`rrampaper.devices.Chip.set_time`);
    a DataArray over ``(time_s, seed)``. Nothing is retrained: the stored models are re-read."""
    return _reread_hardware_to(exp, seeds, times_s, "time_s",
                               lambda t: {"t_inference_s": t}, "to_over_time", folder, _cache)


def wo_under_noise(
    exp: Experiment,
    seeds: Sequence[int],
    scales: Sequence[float],
    *,
    kind: str,
    method: str = "write_verify",
    folder: Any = None,
    _cache: dict | None = None,
) -> xr.DataArray:
    """Test metric of WO programmed on the device with ``kind`` noise (``"read"`` or
    ``"programming"``) scaled by each of ``scales``; a DataArray over ``(level, seed)``."""

    check_choice("kind", kind, ("read", "programming"))
    cache = _cache if _cache is not None else {}
    levels = []
    for scale in scales:
        noise = {"read_noise_scale": scale} if kind == "read" else {"programming_noise_scale": scale}
        ds = wo_on_device(exp, seeds, methods=(method,), folder=folder, _cache=cache, **noise)
        levels.append(ds["test"].sel(program=method).values)
    return xr.DataArray(np.array(levels), dims=("level", "seed"),
                        coords={"level": list(scales), "seed": list(seeds)}, name="test")


def equal_budget_insitu(grid: xr.Dataset, to_label: str, base: Experiment) -> dict[int, Experiment]:
    """In-situ WO experiments whose write budget equals what TO used, seed by seed.

    The budget of seed ``s`` is the total programming operations (initial RESETs + SET + RESET,
    :func:`total_programming`) of approach ``to_label`` in ``grid`` for that seed. The initial
    programming of the WO weights is not charged to it (a choice that favours WO).
    """
    ops = total_programming(grid).sel(approach=to_label)
    return {int(seed): base.replace(method="insitu_WO", seed=int(seed), write_budget=int(ops.sel(seed=seed)))
            for seed in grid["seed"].values}


def keep_ratio_sweep(
    base: Experiment, ratios: Sequence[float], seeds: Sequence[int], **grid_kwargs: Any
) -> xr.DataArray:
    """Selected test metric of ``base`` trained at each keep ratio; DataArray over
    ``(level, seed)`` with ``level`` = keep ratio (``grid_kwargs`` go to :func:`train_grid`,
    ``executor=`` included)."""
    grid = train_grid({f"keep {r:g}": base.replace(keep_ratio=float(r)) for r in ratios}, seeds,
                      **grid_kwargs)
    values = grid["test_selected"].transpose("approach", "seed").values
    return xr.DataArray(values, dims=("level", "seed"),
                        coords={"level": [float(r) for r in ratios], "seed": list(seeds)}, name="test")


def technology_comparison(
    base: Experiment,
    technologies: Sequence[str],
    seeds: Sequence[int],
    *,
    retrain: bool = False,
    progress: bool = True,
    **run_kwargs: Any,
) -> xr.Dataset:
    """Hardware TO against WO programmed on the device, for every memory technology
    (``run_kwargs`` go to :func:`train_grid`, ``executor=`` included).

    For each technology, hardware TO is trained on a chip of that technology; the software WO
    model (trained once per seed, technology-independent) is programmed onto it with one
    open-loop pulse per cell and with the write-verify algorithm (every technology has an
    open-loop law; only some publish a post-verify spread).

    Returns
    -------
    xarray.Dataset
        ``test`` over ``(technology, approach, seed)`` with approaches ``hardware TO``,
        ``WO open-loop``, ``WO write-verify``, and ``programming`` (operations: TO's SET/RESET
        including the initial RESETs; WO's pulses) over the same dims.
    """
    approaches = ["hardware TO", "WO open-loop", "WO write-verify"]
    test = np.full((len(technologies), len(approaches), len(seeds)), np.nan)
    ops = np.full_like(test, np.nan)
    wo_exp = base.replace(method="software_WO", technology=technologies[0])
    train_grid({"software WO": wo_exp}, seeds, retrain=retrain, progress=progress, **run_kwargs)
    cache: dict = {}
    for t, name in enumerate(technologies):
        grid = train_grid({"hardware TO": base.replace(method="hardware_TO", technology=name)}, seeds,
                          retrain=retrain, progress=progress, **run_kwargs)
        test[t, 0] = grid["test_selected"].sel(approach="hardware TO").values
        ops[t, 0] = total_programming(grid).sel(approach="hardware TO").values
        on_device = wo_on_device(wo_exp, seeds, technology=name, folder=run_kwargs.get("folder"),
                                 methods=("open_loop", "write_verify"), _cache=cache)
        for a, program in ((1, "open_loop"), (2, "write_verify")):
            test[t, a] = on_device["test"].sel(program=program).values
            ops[t, a] = on_device["pulses"].sel(program=program).values
    coords = {"technology": list(technologies), "approach": approaches, "seed": list(seeds)}
    dims = ("technology", "approach", "seed")
    return xr.Dataset({"test": (dims, test), "programming": (dims, ops)}, coords=coords)


#: What the grid label of hardware TO without the limit-size rule adds to hardware TO's label.
NO_LIMIT_SIZE = ", no limit size"


@dataclass(frozen=True)
class Comparison:
    """The runs that compare TO with WO on one task (:func:`compare_approaches`).

    Attributes
    ----------
    base:
        The shared configuration (task, profile, technology, keep ratio, ...).
    seeds:
        The seeds run.
    experiments:
        ``{label: Experiment}`` of the trained approaches asked for (labels of
        :data:`rrampaper.experiments.approaches.APPROACHES`).
    grid:
        :func:`train_grid` of every trained run, ``hardware TO, no limit size`` and ``in-situ
        WO`` included when run: per-epoch curves, per-seed selected values, programming counts.
    on_device:
        :func:`wo_on_device` of the programmed approaches, over ``(approach, seed)`` with
        ``approach`` their labels (a program may serve several trained sources, so the label,
        not the program, names a row); the coordinates ``program`` and ``source`` along
        ``approach`` give each one's program and the trained approach it writes.
    programmed:
        ``{label: program}`` of the programmed approaches (``"WO write-verify": "write_verify"``,
        ``"HWA WO write-verify": "write_verify"``, ...).
    to_label:
        The TO approach every gain is measured from (``"hardware TO"``).
    """

    base: Experiment
    seeds: list[int]
    experiments: dict[str, Experiment]
    grid: xr.Dataset
    on_device: xr.Dataset
    programmed: dict[str, str]
    to_label: str

    @property
    def wo_experiments(self) -> dict[str, Experiment]:
        """``{label: trained experiment}``: what each programmed approach writes onto the device
        (e.g. ``software_WO`` for ``"WO write-verify"``, ``hwa_WO`` for ``"HWA WO write-verify"``)."""
        return {label: self.base.replace(method=str(self.on_device["source"].sel(approach=label).item()))
                for label in self.programmed}

    def levels(self) -> dict[str, np.ndarray]:
        """``{label: test metric per seed}`` of the programmed approaches."""
        return {label: self.on_device["test"].sel(approach=label).values for label in self.programmed}

    def wo_pulses(self) -> dict[str, float]:
        """``{label: mean programming pulses}`` of the programmed approaches."""
        return {label: float(self.on_device["pulses"].sel(approach=label).mean())
                for label in self.programmed}

    def selected(self) -> dict[str, np.ndarray]:
        """The headline values per seed: the validation-selected test metric of ``to_label``,
        the other trained approaches, the programmed approaches and in-situ WO, in this order."""
        selected = lambda label: self.grid["test_selected"].sel(approach=label).values  # noqa: E731
        values = {self.to_label: selected(self.to_label)}
        values |= {label: selected(label) for label in self.experiments if label != self.to_label}
        values |= self.levels()
        insitu = approaches.label("insitu_WO")
        if insitu in self.grid["approach"].values:
            values[insitu] = selected(insitu)
        return values

    def curves(self) -> xr.Dataset:
        """The grid of the trained approaches and in-situ WO (without the variant of hardware TO
        that has no limit-size rule), for the accuracy-during-training figure."""
        shown = [*self.experiments]
        shown += [a for a in self.grid["approach"].values if a == approaches.label("insitu_WO")]
        return self.grid.sel(approach=shown)

    def programming(self) -> xr.DataArray:
        """Total programming operations per run over ``(approach, seed)`` (:func:`total_programming`)."""
        return total_programming(self.grid)


def compare_approaches(
    base: Experiment,
    seeds: Sequence[int],
    *,
    trained: Sequence[str] = ("software_TO", "hardware_TO", "software_WO"),
    no_limit_size: bool = True,
    insitu: bool = True,
    programmed: Sequence[str] | None = None,
    retrain: bool = False,
    folder: Any = None,
    executor: str | Executor | None = None,
) -> Comparison:
    """Train (or load) the approaches the paper compares on ``base.task`` and program WO onto
    the device.

    ``base``: the shared configuration (task, profile, technology, keep ratio, ...; its method
    and seed are replaced); ``trained``: keys of trained approaches
    (:data:`rrampaper.experiments.approaches.APPROACHES`); ``no_limit_size``: also hardware TO
    without the limit-size rule; ``insitu``: also in-situ WO with hardware TO's write budget,
    seed by seed (:func:`equal_budget_insitu`); ``programmed``: keys of programmed approaches
    (a trained approach written onto the device with a program; default
    :func:`programmed_approaches` of ``base.technology`` for the sources in ``trained``). Each
    source's models are programmed with its own programs; every source must be in ``trained``.
    Every run is the one the notebooks have always trained (same experiments, same seeds, same
    stored keys). ``executor``: where the runs are trained (:func:`train_grid`).

    Examples
    --------
    >>> runs = compare_approaches(Experiment(task="fashion_mnist", profile="smoke"), [0])  # doctest: +SKIP
    >>> runs.selected()["hardware TO"], runs.programming().sel(approach="hardware TO")   # doctest: +SKIP
    """
    kwargs = {} if folder is None else {"folder": folder}
    if programmed is None:
        programmed = programmed_approaches(base.technology, trained)
    chosen = [approaches.get(k) for k in programmed]
    if len(set(programmed)) != len(programmed):
        raise ValueError(f"programmed={list(programmed)} names an approach twice")
    untrained = [a.key for a in chosen if a.source not in trained]
    if untrained:
        raise ValueError(f"programmed approaches {untrained} write models that trained={list(trained)} "
                         f"does not train; add their sources to trained")
    hardware = approaches.label("hardware_TO")
    experiments = {approaches.label(k): base.replace(method=k) for k in trained}
    runs: dict[str, Experiment] = {}
    for label, exp in experiments.items():
        runs[label] = exp
        if no_limit_size and exp.method == "hardware_TO":
            runs[label + NO_LIMIT_SIZE] = exp.replace(limit_size=False)
    grid = train_grid(runs, seeds, retrain=retrain, executor=executor, **kwargs)
    if insitu:
        extra = train_grid({approaches.label("insitu_WO"): equal_budget_insitu(grid, hardware, base)},
                           seeds, retrain=retrain, executor=executor, **kwargs)
        grid = xr.concat([grid, extra], dim="approach", join="outer")
    return Comparison(base=base, seeds=list(seeds), experiments=experiments, grid=grid,
                      on_device=_programmed_on_device(base, seeds, chosen, kwargs),
                      programmed={a.label: a.program for a in chosen}, to_label=hardware)


def _programmed_on_device(base: Experiment, seeds: Sequence[int], chosen: list[approaches.Approach],
                          kwargs: dict[str, Any]) -> xr.Dataset:
    """:func:`wo_on_device` of every source of ``chosen`` with its own programs, over
    ``(approach, seed)`` in the order of ``chosen`` (coordinates ``program`` and ``source``)."""
    if not chosen:
        return xr.Dataset()
    cache: dict = {}
    parts = []
    for source in dict.fromkeys(a.source for a in chosen):
        group = [a for a in chosen if a.source == source]
        ds = wo_on_device(base.replace(method=source), seeds, methods=[a.program for a in group],
                          _cache=cache, **kwargs)
        parts.append(ds.assign_coords(program=[a.label for a in group]).rename(program="approach"))
    labels = [a.label for a in chosen]
    return xr.concat(parts, dim="approach").sel(approach=labels).assign_coords(
        program=("approach", [a.program for a in chosen]),
        source=("approach", [a.source for a in chosen]))
