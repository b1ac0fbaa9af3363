"""The paper's experiments, one small module each; a new experiment is a new file here.

>>> from rrampaper.tasks import get_task
>>> get_task("fashion_mnist").hyper("paper").epochs
65
"""

from __future__ import annotations

from rrampaper._checks import check_choice
from rrampaper.tasks.base import Hyper, Splits, Task
from rrampaper.tasks.fashion_mnist import FashionMNISTTask

TASKS: dict[str, type[Task]] = {FashionMNISTTask.name: FashionMNISTTask}


def get_task(name: str) -> Task:
    """A fresh task object by registry name."""
    return TASKS[check_choice("task", name, TASKS)]()


__all__ = ["TASKS", "Hyper", "Splits", "Task", "get_task"]
