"""Device-condition sweeps: hardware TO against every WO programmed onto the same device.

Question: under which device conditions does pruning a random chip (hardware TO) beat
programming trained weights (WO)? :func:`sweep_conditions` answers it one device axis at a time
(:data:`AXES`), around a technology preset, for trained models that already exist (or are
trained once here): **nothing is retrained along a sweep**. A level of an axis is inference:

=====================  ======================================================================
axis                   how a level is applied
=====================  ======================================================================
``programming_noise``  WO: the open-loop programming law's sigma times the level
                       (:class:`rrampaper.devices.ScaledNoise`), so open-loop pulses *and* the
                       pulses inside write-verify get noisier. Hardware TO: unchanged, by the
                       model: its cells are never programmed to a target, only SET back to
                       the conductance they formed at or RESET (cycle-to-cycle SET spread is
                       not modelled; see :data:`AXES`).
``fault_rate``         Both: total stuck-at rate, split as the preset splits it (stuck-OFF :
                       stuck-ON), on the same physical cells (``Chip(tech, seed)``, nested in
                       the rate). Hardware TO was trained on the preset's faults; the extra
                       faults of a higher level appear after its training (it cannot route
                       around them: a lower bound for TO).
``t_inference_s``      Both: time since the last programming (relaxation law of the preset).
``adc_bits``           Both: output ADC resolution of every analog product.
=====================  ======================================================================

Every other effect stays at the preset's value. The result of one ``(task, axis, seed)`` is
stored (netCDF, atomic, keyed by the run keys of the models and the levels), so an interrupted
sweep resumes where it stopped and a re-run of a notebook loads instead of evaluating.

Examples
--------
>>> from rrampaper.experiments import Experiment                                   # doctest: +SKIP
>>> base = Experiment(task="fashion_mnist", profile="smoke", technology="taox_40nm_macro")  # doctest: +SKIP
>>> sweeps = sweep_conditions(base, seeds=[0], axes=["adc_bits"])                   # doctest: +SKIP
>>> sweeps["adc_bits"].sel(approach="hardware TO")                                  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from torch import nn

from rrampaper import baselines
from rrampaper._checks import check_choice
from rrampaper._progress import progress_bar
from rrampaper.devices import Technology, technology
from rrampaper.devices.faults import REPORTED_FAULT_RATES
from rrampaper.devices.readout import attach_output_adc
from rrampaper.errors import ParameterError, StoredFileError
from rrampaper.experiments import approaches, store
from rrampaper.experiments.executors import Executor, make_executor, runs_elsewhere
from rrampaper.experiments.grid import grid_runs, run_grid
from rrampaper.experiments.train import (
    Experiment,
    evaluate,
    load_trained_model,
    resolve_device,
    run,
    run_key,
)
from rrampaper.profiles import PROFILES
from rrampaper.tasks import get_task, task_class

#: Bump when the way a level is evaluated changes: stored sweeps of another version are
#: evaluated again instead of reused.
SWEEP_VERSION = 1

#: Result-file kind of one ``(task, axis, seed)`` sweep.
SWEEP_KIND = "conditions"

#: The WO approaches a sweep compares hardware TO with by default (registry keys): software
#: weights written with one open-loop pulse per cell, with the write-verify algorithm, and
#: hardware-aware trained weights written with write-verify (the strongest fair WO here).
DEFAULT_WO: tuple[str, ...] = ("wo_open_loop", "wo_write_verify", "hwa_wo_write_verify")

#: The approach every gap is measured from.
TO_KEY = "hardware_TO"


@dataclass(frozen=True)
class Axis:
    """One device axis of a sweep.

    Attributes
    ----------
    name:
        Key (``sweep_conditions(axes=[name])``).
    label, unit:
        Axis label and unit of the figures.
    levels:
        Levels per profile, mildest first.
    log:
        Whether the axis is logarithmic (crossings are interpolated in ``log10(level)``).
    worse_when:
        ``"higher"`` if a higher level is a worse device (noise, faults, time), ``"lower"`` if a
        lower one is (ADC bits).
    affects_to:
        Whether the level changes hardware TO's evaluation.
    how:
        One sentence: what a level does to each method.
    """

    name: str
    label: str
    unit: str
    levels: Mapping[str, tuple[float, ...]]
    log: bool
    worse_when: str
    affects_to: bool
    how: str

    def levels_for(self, profile: str) -> tuple[float, ...]:
        """The levels of ``profile``."""
        check_choice("profile", profile, PROFILES)
        return self.levels[profile]

    def preset_level(self, tech: Technology) -> float:
        """The level the preset itself sits at."""
        if self.name == "programming_noise":
            return 1.0
        if self.name == "fault_rate":
            return float(tech.stuck_on_rate + tech.stuck_off_rate)
        return float(getattr(tech, self.name))


_YEAR_S = 365.25 * 86400.0

#: The device axes :func:`sweep_conditions` knows, by name.
AXES: dict[str, Axis] = {a.name: a for a in (
    Axis("programming_noise", "programming-noise multiple", "x preset", {
        "smoke": (1.0, 5.0), "quick": (0.5, 1.0, 2.0, 5.0, 10.0),
        "paper": (0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0)}, log=True, worse_when="higher",
        affects_to=False,
        how=("WO: the open-loop programming law's sigma times the level (open-loop pulses and "
             "the pulses inside write-verify); hardware TO: unchanged, its cells are only SET "
             "back to their formed conductance or RESET (cycle-to-cycle SET spread not modelled)")),
    Axis("fault_rate", "stuck-at fault rate", "fraction of cells", {
        "smoke": (0.002, 0.05), "quick": (0.0, 0.002, 0.01, 0.03, 0.1),
        "paper": (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)}, log=False,
        worse_when="higher", affects_to=True,
        how=("both: stuck-OFF + stuck-ON rate split as the preset splits it, on the same "
             "physical cells; hardware TO was trained on the preset's faults, the extra ones "
             "appear after training")),
    Axis("t_inference_s", "time after programming", "s", {
        "smoke": (1.0, 86400.0), "quick": (1.0, 3600.0, 86400.0, _YEAR_S, 10 * _YEAR_S),
        "paper": (1.0, 60.0, 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0, _YEAR_S, 10 * _YEAR_S)},
        log=True, worse_when="higher", affects_to=True,
        how="both: the preset's relaxation law after that time (TO: every SET/RESET cell)"),
    Axis("adc_bits", "output ADC resolution", "bits", {
        "smoke": (4.0, 8.0), "quick": (3.0, 4.0, 5.0, 6.0, 8.0),
        "paper": (3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)}, log=False, worse_when="lower",
        affects_to=True, how="both: every analog matrix-vector product read by that ADC"),
)}


#: Fewer levels where one evaluation is expensive, by ``(task, profile)``: a DRIVE evaluation
#: segments four whole fundus images (about 20 s on 2 CPU cores), so ``quick`` sweeps DRIVE at
#: the preset and two worse levels per axis (four times, for the retention figure).
TASK_LEVELS: dict[tuple[str, str], dict[str, tuple[float, ...]]] = {
    ("drive", "quick"): {"programming_noise": (1.0, 3.0, 10.0),
                         "fault_rate": (0.002, 0.01, 0.05),
                         "t_inference_s": (1.0, 86400.0, _YEAR_S, 10 * _YEAR_S),
                         "adc_bits": (3.0, 5.0, 8.0)},
}

#: Evaluation settings of the sweeps that differ from the task's own, by task. DRIVE: sliding
#: windows without overlap (stride = window = 96 pixels instead of 64), which halves the cost of
#: a whole-image evaluation; it moved the test PR-AUC of a trained hardware-TO model by 0.9
#: points (0.8470 -> 0.8385, quick, seed 0), applied to every method alike.
SWEEP_TASK_OPTIONS: dict[str, dict[str, Any]] = {"drive": {"stride": 96}}


def sweep_task(name: str) -> Any:
    """The task object the sweeps evaluate ``name`` with (:data:`SWEEP_TASK_OPTIONS`)."""
    return task_class(name)(**SWEEP_TASK_OPTIONS.get(name, {}))


def sweep_levels(axis: str, task: str, profile: str) -> tuple[float, ...]:
    """The levels a sweep of ``task`` in ``profile`` uses on ``axis`` (:data:`TASK_LEVELS`,
    else the axis's levels of the profile)."""
    spec = get_axis(axis)
    return TASK_LEVELS.get((task, profile), {}).get(axis, spec.levels_for(profile))


def get_axis(name: str) -> Axis:
    """The axis named ``name``."""
    if name not in AXES:
        raise ParameterError(f"axis={name!r} is not a device axis; valid: {list(AXES)}")
    return AXES[name]


def _fault_split(tech: Technology) -> float:
    """Stuck-OFF share of the faults: the preset's split, or where the preset has no faults
    the stuck-at split of the first entry of :data:`rrampaper.devices.faults.REPORTED_FAULT_RATES`
    (Chen et al. 2015)."""
    total = tech.stuck_on_rate + tech.stuck_off_rate
    if total > 0:
        return float(tech.stuck_off_rate / total)
    on, off, _ = next(iter(REPORTED_FAULT_RATES.values()))
    return float(off / (on + off))


@dataclass(frozen=True)
class Condition:
    """What one level of one axis changes: the technology both methods see, the extra
    arguments of :func:`rrampaper.baselines.program_model` (WO) and of
    :func:`rrampaper.experiments.train.load_trained_model` (hardware TO; ``None``: TO is not
    affected and its preset evaluation is reused)."""

    tech: Technology
    program_kwargs: dict[str, Any]
    to_kwargs: dict[str, Any] | None


def condition(tech: Technology | str, axis: str, level: float) -> Condition:
    """The device state of ``tech`` with ``axis`` set to ``level`` (every other effect kept).

    Raises :class:`~rrampaper.errors.ParameterError` for an unknown axis or a level outside
    the parameter's valid range (the technology's own check names it).
    """
    tech = technology(tech)
    spec = get_axis(axis)
    level = float(level)
    if not np.isfinite(level):
        raise ParameterError(f"level={level!r} of axis {axis!r} must be finite")
    if spec.name == "programming_noise":
        if not 0.0 <= level <= 100.0:
            raise ParameterError(f"programming_noise level={level!r} must be a multiple in [0, 100]")
        return Condition(tech, {"programming_noise_scale": level}, None)
    if spec.name == "fault_rate":
        if not 0.0 <= level <= 1.0:
            raise ParameterError(f"fault_rate level={level!r} must be a fraction of cells in [0, 1]")
        off = _fault_split(tech)
        changed = tech.replace(stuck_off_rate=level * off, stuck_on_rate=level * (1.0 - off))
        return Condition(changed, {}, {"technology": changed})
    if spec.name == "t_inference_s":
        changed = tech.replace(t_inference_s=level)
        return Condition(changed, {"t_inference_s": level}, {"t_inference_s": level})
    changed = tech.replace(**{spec.name: level})
    return Condition(changed, {}, {"technology": changed})


def _wo_sources(wo: Sequence[str]) -> dict[str, str]:
    out = {}
    for key in wo:
        approach = approaches.get(key)
        if approach.kind != "programmed":
            raise ParameterError(f"wo={key!r} is not a programmed WO approach; valid: "
                                 f"{list(approaches.keys('programmed'))}")
        out[key] = approach.source
    return out


def _sweep_config(base: Experiment, seed: int, axis: Axis, levels: Sequence[float],
                  wo: Sequence[str], sources: Mapping[str, str]) -> dict[str, Any]:
    keys = {TO_KEY: run_key(base.replace(method=TO_KEY, seed=seed))}
    keys |= {src: run_key(base.replace(method=src, seed=seed)) for src in sorted(set(sources.values()))}
    config = {"version": SWEEP_VERSION, "task": base.task, "technology": str(base.technology),
              "axis": axis.name, "levels": [float(v) for v in levels], "wo": list(wo),
              "seed": int(seed), "runs": keys}
    if base.task in SWEEP_TASK_OPTIONS:  # evaluated otherwise than the task's own evaluation
        config["evaluation"] = sweep_task(base.task).data_signature()
    return config


def _is_preset(axis: Axis, level: float, tech: Technology) -> bool:
    preset = axis.preset_level(tech)
    return abs(level - preset) <= 1e-9 * max(1.0, abs(preset))


def _evaluate_block(base: Experiment, seed: int, axis: Axis, levels: Sequence[float],
                    wo: Sequence[str], sources: Mapping[str, str], folder: Any,
                    cache: dict) -> np.ndarray:
    """Test metric over ``(level, approach)`` of one seed; approach 0 is hardware TO.

    Work is shared where the device allows it, with results equal to evaluating every level
    from scratch: a WO model is programmed once per seed for the whole time axis
    (:func:`rrampaper.baselines.program_model_over_time`) and once for the whole ADC axis (the
    ADC does not change the pulses, only the read-out); the preset's own evaluations are
    computed once per seed and reused by every axis that passes through the preset.
    """
    task = sweep_task(base.task)
    hyper = base.hyper(task)
    device = resolve_device("auto")
    tech = technology(base.technology)
    test_key = (base.task, hyper.n_test)
    if test_key not in cache:
        cache[test_key] = task.run_splits(hyper, 0, folder=folder).test
    test = cache[test_key]

    def score(model: nn.Module) -> float:
        return evaluate(model.to(device), task, test, hyper.eval_batch_size, device)

    def trained(method: str) -> nn.Module:
        key = ("model", base.task, seed, run_key(base.replace(method=method, seed=seed)))
        if key not in cache:
            cache[key] = load_trained_model(base.replace(method=method, seed=seed), folder=folder)
        return cache[key]

    def preset_programmed(key: str) -> nn.Module:
        """The WO model of ``key`` programmed on the preset (kept unevaluated: each use copies
        it, so every evaluation starts at read 0 as a freshly programmed model does)."""
        k = ("programmed", base.task, seed, key, run_key(base.replace(method=sources[key], seed=seed)))
        if k not in cache:
            cache[k], _ = baselines.program_model(trained(sources[key]), tech,
                                                  approaches.get(key).program, seed=seed)
        return cache[k]

    def preset_score(key: str) -> float:
        k = ("score", base.task, seed, key)
        if k not in cache:
            if key == TO_KEY:
                cache[k] = score(load_trained_model(base.replace(method=TO_KEY, seed=seed),
                                                    folder=folder))
            else:
                cache[k] = score(copy.deepcopy(preset_programmed(key)))
        return cache[k]

    states = [condition(tech, axis.name, level) for level in levels]
    values = np.full((len(levels), 1 + len(wo)), np.nan)
    for i, (level, state) in enumerate(zip(levels, states, strict=True)):
        if state.to_kwargs is None or _is_preset(axis, level, tech):
            values[i, 0] = preset_score(TO_KEY)
        else:
            values[i, 0] = score(load_trained_model(base.replace(method=TO_KEY, seed=seed),
                                                    folder=folder, **state.to_kwargs))
    for j, key in enumerate(wo, start=1):
        program = approaches.get(key).program
        if axis.name == "t_inference_s":
            states = baselines.program_model_over_time(trained(sources[key]), tech, program,
                                                       times_s=levels, seed=seed)
            values[:, j] = [score(m) for m, _ in states]
            continue
        for i, level in enumerate(levels):
            if _is_preset(axis, level, tech):
                values[i, j] = preset_score(key)
            elif axis.name == "adc_bits":
                model = copy.deepcopy(preset_programmed(key))
                attach_output_adc(model, int(level) or None, headroom=tech.adc_headroom)
                values[i, j] = score(model)
            else:
                programmed, _ = baselines.program_model(trained(sources[key]), states[i].tech,
                                                        program, seed=seed,
                                                        **states[i].program_kwargs)
                values[i, j] = score(programmed)
    return values


def sweep_conditions(
    base: Experiment,
    seeds: Sequence[int],
    *,
    axes: Sequence[str] | None = None,
    levels: Mapping[str, Sequence[float]] | None = None,
    wo: Sequence[str] = DEFAULT_WO,
    folder: Any = None,
    recompute: bool = False,
    progress: bool = True,
    train: bool = True,
    executor: str | Executor | None = None,
) -> dict[str, xr.DataArray]:
    """Hardware TO and each WO of ``wo`` on ``base``'s device, one axis at a time.

    Parameters
    ----------
    base:
        Task, profile and technology preset (its ``method`` and ``seed`` are replaced).
    seeds:
        Seeds: each seed is one chip (fault map, device sample) shared by TO and WO.
    axes:
        Names of :data:`AXES` (default: all).
    levels:
        ``{axis: levels}`` overriding the profile's levels of some axes.
    wo:
        Programmed WO approaches (registry keys, :data:`DEFAULT_WO`).
    folder:
        Results folder (trained models and stored sweeps).
    recompute:
        Evaluate again instead of loading stored sweeps.
    progress:
        Progress bar over ``(axis, seed)`` blocks.
    train:
        Train (or load) the needed models first; ``False`` raises when one is missing.
    executor:
        Where the models are trained and the blocks evaluated (one job per seed: all its axes,
        so the preset's programming and scores are shared inside the job); ``None`` reads
        ``$RRAMPAPER_EXECUTOR`` and defaults to this process. See :func:`sweep_tasks` to
        spread several tasks over one executor.

    Returns
    -------
    dict
        ``{axis: DataArray}`` of the task's test metric (a fraction) over
        ``(level, approach, seed)``; ``approach`` holds figure labels, hardware TO first.
        Attributes: ``axis``, ``label``, ``unit``, ``log``, ``worse_when``, ``preset_level``,
        ``technology``, ``task``, ``metric``, ``profile``.
    """
    names = list(AXES) if axes is None else [get_axis(a).name for a in axes]
    levels = dict(levels or {})
    for name in levels:
        get_axis(name)
    sources = _wo_sources(wo)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ParameterError("seeds is empty; give at least one seed")
    kwargs = {} if folder is None else {"folder": folder}
    tech = technology(base.technology)
    axis_levels = {name: tuple(float(v) for v in levels.get(name, sweep_levels(name, base.task,
                                                                                base.profile)))
                   for name in names}
    for name, lv in axis_levels.items():
        for v in lv:
            condition(tech, name, v)  # every level checked before any training or evaluation
    if runs_elsewhere(executor):
        _sweep_in_parallel([base], seeds, names, {base.task: axis_levels}, wo, folder, recompute,
                           progress, train, executor)
        recompute = False  # every block is stored now: the loop below reads them back
    elif train:
        for method in (TO_KEY, *sorted(set(sources.values()))):
            for seed in seeds:
                run(base.replace(method=method, seed=seed), progress=progress, **kwargs)
    task = get_task(base.task)
    labels = [approaches.label(TO_KEY), *(approaches.label(k) for k in wo)]
    cache: dict = {}
    out = {}
    blocks = [(name, seed) for name in names for seed in seeds]
    bar = progress_bar(total=len(blocks), desc=f"{base.task} device sweeps", enabled=progress)
    per_axis: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for name, seed in blocks:
        spec, lv = AXES[name], axis_levels[name]
        config = _sweep_config(base, seed, spec, lv, wo, sources)
        values = None if recompute else _load_block(config, lv, len(labels), folder)
        if values is None:
            values = _evaluate_block(base, seed, spec, lv, wo, sources, folder, cache)
            ds = xr.Dataset({"test": (("level", "approach"), values)},
                            coords={"level": list(lv), "approach": labels})
            store.save_result(ds, config, kind=SWEEP_KIND, folder=folder)
        per_axis[name].append(values)
        bar.update(1)
    bar.close()
    for name in names:
        spec, lv = AXES[name], axis_levels[name]
        data = np.stack(per_axis[name], axis=-1)
        out[name] = xr.DataArray(
            data, dims=("level", "approach", "seed"),
            coords={"level": list(lv), "approach": labels, "seed": seeds}, name="test",
            attrs={"axis": name, "label": spec.label, "unit": spec.unit, "log": int(spec.log),
                   "worse_when": spec.worse_when, "preset_level": spec.preset_level(tech),
                   "technology": tech.name, "task": base.task, "metric": task.metric,
                   "profile": base.profile, "how": spec.how,
                   "evaluation": (sweep_task(base.task).data_signature()
                                  if base.task in SWEEP_TASK_OPTIONS else "the task's own")})
    return out


#: Relative cost of one seed's sweep by task (a scheduling hint only: the costliest jobs are
#: handed out first, so that two workers finish together). Measured on 2 CPU cores, quick.
SWEEP_COST_HINT: dict[str, float] = {"drive": 10.0, "fashion_mnist": 4.0, "spoken_digit": 1.0}


def sweep_block_job(job: dict[str, Any]) -> int:
    """What a worker runs: every missing block of one ``(task, seed)`` (all its axes, sharing
    the preset's programming and scores), stored; returns the number of blocks. Module-level,
    so every executor can pickle it."""
    out = sweep_conditions(job["base"], [job["seed"]], axes=job["axes"], levels=job["levels"],
                           wo=job["wo"], folder=job["folder"], recompute=job["recompute"],
                           progress=False, train=False, executor="serial")
    return len(out)


def _missing_blocks(base: Experiment, seed: int, names: Sequence[str],
                    axis_levels: Mapping[str, Sequence[float]], wo: Sequence[str],
                    folder: Any) -> bool:
    sources = _wo_sources(wo)
    return any(not store.result_path(_sweep_config(base, seed, AXES[n], axis_levels[n], wo, sources),
                                     kind=SWEEP_KIND, folder=folder).is_file() for n in names)


def _sweep_in_parallel(bases: Sequence[Experiment], seeds: Sequence[int], names: Sequence[str],
                       axis_levels: Mapping[str, Mapping[str, Sequence[float]]],
                       wo: Sequence[str], folder: Any, recompute: bool, progress: bool,
                       train: bool, executor: str | Executor | None) -> None:
    """Train the models of every base on ``executor``, then evaluate every ``(task, seed)``
    whose blocks are missing there (``axis_levels``: ``{task: {axis: levels}}``), costliest
    first; raise :class:`SweepFailed` if any failed."""
    sources = _wo_sources(wo)
    per_task = axis_levels
    own = not isinstance(executor, Executor)
    ex = make_executor(executor)
    try:
        if train:
            runs = [r for b in bases for r in grid_runs(
                {f"{b.task} {m}": b.replace(method=m) for m in (TO_KEY, *sorted(set(sources.values())))},
                seeds)]
            run_grid(runs, executor=ex, folder=folder, progress=progress)
        jobs = [{"base": b, "seed": int(seed), "axes": list(names), "levels": dict(per_task[b.task]),
                 "wo": list(wo), "folder": None if folder is None else str(folder),
                 "recompute": recompute}
                for b in bases for seed in seeds
                if recompute or _missing_blocks(b, seed, names, per_task[b.task], wo, folder)]
        jobs.sort(key=lambda j: -SWEEP_COST_HINT.get(j["base"].task, 1.0))
        if not jobs:
            return
        bar = progress_bar(total=len(jobs), desc=f"device sweeps, {len(jobs)} (task, seed) job(s)"
                                                 f" ({ex.name})", enabled=progress)
        failed = []
        for outcome in ex.run(sweep_block_job, jobs):
            if not outcome.ok:
                job = jobs[outcome.index]
                failed.append(f"  {job['base'].task} seed {job['seed']}: {outcome.failure.error} "
                              f"(at {outcome.failure.where})")
            bar.update(1)
        bar.close()
        if failed:
            raise SweepFailed(f"{len(failed)} of {len(jobs)} sweep job(s) failed; the blocks of "
                              f"the others are stored and a new run computes only what is "
                              f"missing:\n" + "\n".join(failed))
    finally:
        if own:
            ex.close()


class SweepFailed(RuntimeError):
    """Some ``(task, seed)`` sweep jobs failed (the blocks of the others are stored)."""


def sweep_tasks(
    bases: Sequence[Experiment],
    seeds: Sequence[int],
    *,
    axes: Sequence[str] | None = None,
    levels: Mapping[str, Sequence[float]] | None = None,
    wo: Sequence[str] = DEFAULT_WO,
    folder: Any = None,
    recompute: bool = False,
    progress: bool = True,
    executor: str | Executor | None = None,
) -> dict[str, dict[str, xr.DataArray]]:
    """:func:`sweep_conditions` of several tasks (``levels``: ``{axis: levels}`` for every task,
    default each task's own), ``{task: {axis: DataArray}}``, with every
    ``(task, seed)`` job of all tasks on one executor (so two workers stay busy to the end:
    the costliest jobs, :data:`SWEEP_COST_HINT`, go first). Serially it is the loop over
    ``bases``."""
    if runs_elsewhere(executor):
        names = list(AXES) if axes is None else [get_axis(a).name for a in axes]
        chosen = dict(levels or {})
        per_task = {}
        for b in bases:
            tech = technology(b.technology)
            per_task[b.task] = {n: tuple(float(v) for v in chosen.get(n, sweep_levels(n, b.task, b.profile)))
                                for n in names}
            for n, lv in per_task[b.task].items():
                for v in lv:
                    condition(tech, n, v)  # every level checked before any training
        _sweep_in_parallel(list(bases), [int(s) for s in seeds], names, per_task, wo, folder,
                           recompute, progress, True, executor)
        recompute = False
    return {b.task: sweep_conditions(b, seeds, axes=axes, levels=levels, wo=wo, folder=folder,
                                     recompute=recompute, progress=progress, executor="serial")
            for b in bases}


def _load_block(config: dict[str, Any], levels: Sequence[float], n_approaches: int,
                folder: Any) -> np.ndarray | None:
    """The stored block of ``config`` (``None`` if there is none); a file that does not hold
    what its name promises raises :class:`~rrampaper.errors.StoredFileError`."""
    path = store.result_path(config, kind=SWEEP_KIND, folder=folder)
    if not path.is_file():
        return None
    ds = store.load_result(config, kind=SWEEP_KIND, folder=folder, variables=("test",))
    values = np.asarray(ds["test"].values, dtype=np.float64)
    if values.shape != (len(levels), n_approaches) or not np.all(np.isfinite(values)):
        raise StoredFileError(path, f"'test' has shape {values.shape} or non-finite values; "
                              f"expected ({len(levels)}, {n_approaches}) finite metrics",
                              store.RETRAIN_FIX.replace("retrain=True", "recompute=True"))
    return values


def gaps(sweep: xr.DataArray, scale: float = 100.0) -> xr.DataArray:
    """Hardware TO minus each WO, in points (``scale`` x the metric), over
    ``(level, approach, seed)`` with only the WO approaches on ``approach``."""
    to_label = approaches.label(TO_KEY)
    out = scale * (sweep.sel(approach=to_label) - sweep.drop_sel(approach=to_label))
    out = out.transpose("level", "approach", "seed")
    out.attrs = dict(sweep.attrs)
    out.name = "gap"
    return out

