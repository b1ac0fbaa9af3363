"""Fixtures shared by several test modules."""

import pytest

from rrampaper.data import DatasetMissingError
from rrampaper.experiments.train import Experiment
from rrampaper.tasks import get_task

#: A Fashion-MNIST run small enough for a unit test (600 training images, 2 epochs).
TINY = {"profile": "smoke", "n_train": 600, "epochs": 2}


@pytest.fixture(scope="session")
def splits():
    """The tiny run's Fashion-MNIST splits (skips when the dataset is not available)."""
    task = get_task("fashion_mnist")
    try:
        return task.splits(Experiment(**TINY).hyper(task), seed=0)
    except DatasetMissingError as missing:
        pytest.skip(f"Fashion-MNIST not available: {missing}")
