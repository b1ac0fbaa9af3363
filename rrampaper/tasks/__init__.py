"""The paper's experiments, one small module each; a new experiment is a new file here plus one
line in :data:`_REGISTRY`.

>>> from rrampaper.tasks import get_task
>>> get_task("fashion_mnist").hyper("paper").epochs
65
"""

from __future__ import annotations

import importlib

from rrampaper._checks import check_choice
from rrampaper.tasks.base import Hyper, Splits, Task

#: Task name -> "module:class", imported on first use (so a task's heavy dependencies, e.g.
#: audio or image libraries, load only when that task runs).
_REGISTRY: dict[str, str] = {
    "fashion_mnist": "rrampaper.tasks.fashion_mnist:FashionMNISTTask",
    "spoken_digit": "rrampaper.tasks.spoken_digit:SpokenDigitTask",
    "spoken_digit_fsdd": "rrampaper.tasks.spoken_digit:SpokenDigitFSDDTask",
    "drive": "rrampaper.tasks.drive:DriveTask",
    "imagenet100": "rrampaper.tasks.imagenet100:ImageNet100Task",
    "imagenet100_standin": "rrampaper.tasks.imagenet100:ImageNet100StandInTask",
}

#: Names of every task.
TASKS: tuple[str, ...] = tuple(_REGISTRY)


def task_class(name: str) -> type[Task]:
    """The :class:`Task` subclass registered as ``name``."""
    module, _, cls = _REGISTRY[check_choice("task", name, TASKS)].partition(":")
    return getattr(importlib.import_module(module), cls)


def get_task(name: str) -> Task:
    """A fresh task object by registry name."""
    return task_class(name)()


__all__ = ["TASKS", "Hyper", "Splits", "Task", "get_task", "task_class"]
