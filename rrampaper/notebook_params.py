"""The notebooks' parameters, checked before any work starts.

Every notebook has a cell tagged ``parameters`` whose values papermill may replace
(``papermill ... -p seed 3 -y 'seeds: [0, 1]'``). Papermill does not check them: ``-p seeds 3``
(a number where a list is expected), ``-p seed abc`` or ``-p retrain yes`` (text, always true in
an ``if``) would fail deep inside a run, or run with a different meaning than the user meant.
So the cell after ``parameters`` of every notebook starts with one call::

    profile = check_notebook_parameters(profile=profile, seeds=seeds, keep_ratio=keep_ratio, ...)

which checks each value by its name (:data:`CHECKS`), checks that the figures folder can be
written (a read-only ``$RRAMPAPER_FIGURES_DIR`` is reported before hours of training, not at
the first figure) and returns the resolved profile (``None``: ``$RRAMPAPER_PROFILE`` or
``"quick"``). Any bad value raises :class:`~rrampaper.errors.ParameterError` naming the
parameter, its value and what is valid (all bad parameters in one message).

Examples
--------
>>> check_notebook_parameters(profile="smoke", seed=0, figures=False)
'smoke'
>>> check_notebook_parameters(profile="smoke", seeds=3, figures=False)
Traceback (most recent call last):
...
rrampaper.errors.ParameterError: seeds=3 must be None (the profile's seeds) or a list of integers >= 0, e.g. [0, 1, 2]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rrampaper._checks import check_bool, check_choice, check_positive_int, check_range
from rrampaper._io import ensure_writable
from rrampaper.analysis import energy
from rrampaper.analysis.energy import ENERGY_TASKS
from rrampaper.devices.technologies import TECHNOLOGIES, Technology
from rrampaper.errors import ParameterError
from rrampaper.experiments import approaches
from rrampaper.experiments.conditions import AXES
from rrampaper.experiments.executors import EXECUTORS
from rrampaper.paths import figures_dir
from rrampaper.profiles import resolve_profile
from rrampaper.tasks import TASKS

#: How papermill is given a list (``-p`` passes text or a number).
_LIST_HINT = " (with papermill: -y '{name}: {example}')"


def _none_or(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def checked(name: str, value: Any) -> Any:
        if value is None:
            return None
        try:
            return check(name, value)
        except ParameterError as error:
            raise ParameterError(f"{error} (or None)") from None

    return checked


def _list_of(what: str, example: str, check_item: Callable[[str, Any], Any], *,
             allow_none: str | None = None, allow_empty: bool = False) -> Callable[[str, Any], Any]:
    """A check of a list (or tuple) whose items each pass ``check_item``."""

    def checked(name: str, value: Any) -> Any:
        if value is None and allow_none is not None:
            return None
        valid = f"{'None (' + allow_none + ') or ' if allow_none else ''}a list of {what}, e.g. {example}"
        if not isinstance(value, list | tuple):
            hint = _LIST_HINT.format(name=name, example=example) if isinstance(value, str) else ""
            raise ParameterError(f"{name}={value!r} must be {valid}{hint}")
        if not value and not allow_empty:
            raise ParameterError(f"{name}={value!r} is empty; it must be {valid}")
        for item in value:
            try:
                check_item(name, item)
            except ParameterError:
                raise ParameterError(
                    f"{name}={value!r} holds {item!r}; it must be {valid}") from None
        if len(set(map(repr, value))) != len(value):
            raise ParameterError(f"{name}={value!r} repeats an item; it must be {valid}")
        return list(value)

    return checked


def _seed(name: str, value: Any) -> int:
    return check_positive_int(name, value, minimum=0)


def _seeds(name: str, value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not value:
        hint = _LIST_HINT.format(name=name, example="[0, 1, 2]") if isinstance(value, str) else ""
        raise ParameterError(f"{name}={value!r} must be None (the profile's seeds) or a list of "
                             f"integers >= 0, e.g. [0, 1, 2]{hint}")
    return _list_of("integers >= 0", "[0, 1, 2]", _seed, allow_none="the profile's seeds")(name, value)


def _technology(name: str, value: Any) -> Any:

    if isinstance(value, Technology):
        return value
    return check_choice(name, value, TECHNOLOGIES)


def _task(name: str, value: Any) -> str:

    return check_choice(name, value, TASKS)


def _axis(name: str, value: Any) -> str:
    return check_choice(name, value, tuple(AXES))


def _executor(name: str, value: Any) -> str:
    """An executor name of :data:`rrampaper.experiments.executors.EXECUTORS`, optionally with
    ``:N`` workers (``"local:2"``) or ``:<address>`` for Dask."""
    if not isinstance(value, str):
        raise ParameterError(f"{name}={value!r} must be an executor name, one of {list(EXECUTORS)}")
    kind, _, extra = value.partition(":")
    check_choice(name, kind, EXECUTORS)
    if extra and kind != "dask" and not extra.isdigit():
        raise ParameterError(f"{name}={value!r}: the part after ':' must be a number of workers "
                             f"(e.g. 'local:2')")
    return value


def _programmed_wo(name: str, value: Any) -> str:
    return check_choice(name, value, approaches.keys("programmed"))


def _energy_task(name: str, value: Any) -> str:

    return check_choice(name, value, ENERGY_TASKS)


def _choice(options: Callable[[], tuple[str, ...]]) -> Callable[[str, Any], Any]:
    return lambda name, value: check_choice(name, value, options())


def _keep_ratio(name: str, value: Any) -> float:
    return check_range(name, value, 0.0, 1.0, low_open=True)


def _weight_decay(name: str, value: Any) -> float:
    return check_range(name, value, 0.0, 1.0)


def _pulses_per_cell(name: str, value: Any) -> float:
    return check_range(name, value, 1.0, 1e6)


def _patch(name: str, value: Any) -> int:
    value = check_positive_int(name, value, minimum=16)
    if value % 16:
        raise ParameterError(f"{name}={value!r} must be a multiple of 16 (four 2x poolings)")
    return value


def _widths(name: str, value: Any) -> Any:
    valid = "two pulse widths in seconds, 0 < first < second <= 1, e.g. (1e-7, 1e-5)"
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ParameterError(f"{name}={value!r} must be {valid}")
    try:
        for width in value:
            check_range(name, width, 0.0, 1.0, low_open=True, unit="s")
    except ParameterError:
        raise ParameterError(f"{name}={value!r} must be {valid}") from None
    if not value[0] < value[1]:
        raise ParameterError(f"{name}={value!r} must be {valid}")
    return value


def _energy_options(attribute: str) -> Callable[[], tuple[str, ...]]:
    def options() -> tuple[str, ...]:

        return getattr(energy, attribute)

    return options


#: The check of every notebook parameter, by name; a notebook passes each of its parameters
#: under its own name to :func:`check_notebook_parameters`.
CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "seed": _seed,
    "seeds": _seeds,
    "technology": _technology,
    "technologies": _list_of("technology presets", '["taox_post_verify_static", "pcm"]', _technology,
                             allow_none="every preset"),
    "tasks": _list_of("task names", '["fashion_mnist", "spoken_digit"]', _task,
                      allow_none="the notebook's tasks"),
    "axes": _list_of("device axes", '["programming_noise", "fault_rate", "t_inference_s", "adc_bits"]', _axis,
                     allow_none="every axis of rrampaper.experiments.conditions.AXES"),
    "wo": _list_of("programmed WO approaches", '["wo_open_loop", "wo_write_verify"]',
                   _programmed_wo, allow_none="the default WO approaches"),
    "measured_tasks": _list_of("energy task names", '["fashion_mnist"]', _energy_task,
                               allow_empty=True),
    "keep_ratio": _keep_ratio,
    "weight_decay": _none_or(_weight_decay),
    "retrain": check_bool,
    "executor": _none_or(_executor),
    "backward_on_chip": check_bool,
    "use_imagenet": _none_or(check_bool),
    "scenario": _choice(_energy_options("SCENARIOS")),
    "preset": _choice(_energy_options("PRESETS")),
    "wo_pulses_per_cell": _pulses_per_cell,
    "drive_patch": _patch,
    "forming_widths_s": _widths,
}


def check_notebook_parameters(*, profile: str | None = None, figures: bool = True,
                              **values: Any) -> str:
    """Check a notebook's parameters and its figures folder; return the resolved profile.

    Parameters
    ----------
    profile:
        ``"smoke"``, ``"quick"``, ``"paper"`` or ``None`` (``$RRAMPAPER_PROFILE`` or ``"quick"``).
    figures:
        Also check that :func:`rrampaper.paths.figures_dir` can be written (every notebook
        saves figures there).
    **values:
        The notebook's other parameters, each under its name in :data:`CHECKS`.

    Raises
    ------
    rrampaper.errors.ParameterError
        A value is invalid; the message names every invalid parameter, its value and what is
        valid.
    rrampaper.errors.UnwritableError
        The figures folder cannot be written; the message names it.
    TypeError
        A name has no check in :data:`CHECKS` (a notebook bug, not a user error).
    """
    unknown = sorted(set(values) - set(CHECKS))
    if unknown:
        raise TypeError(f"no check for notebook parameter(s) {', '.join(unknown)}; add them to CHECKS")
    problems = []
    try:
        resolved = resolve_profile(profile)
    except ParameterError as error:
        problems.append(str(error))
    for name, value in values.items():
        try:
            CHECKS[name](name, value)
        except ParameterError as error:
            problems.append(str(error))
    if problems:
        raise ParameterError("; ".join(problems))
    if figures:

        ensure_writable(figures_dir(), "figures folder")
    return resolved


__all__ = ["CHECKS", "check_notebook_parameters"]
