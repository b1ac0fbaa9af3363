"""``rrampaper train``: trains runs where the notebooks find them and prints their results."""

import re

import pytest

from rrampaper import cli
from rrampaper.data import DatasetMissingError
from rrampaper.experiments import train


@pytest.fixture(scope="module", autouse=True)
def fashion_available():
    try:
        train.get_task("fashion_mnist").splits(train.Experiment(profile="smoke").hyper(), 0)
    except DatasetMissingError as missing:
        pytest.skip(f"Fashion-MNIST not available: {missing}")


def _accuracy(output: str, row: str) -> float:
    line = next(line for line in output.splitlines() if line.startswith(row))
    return float(line.split()[1])  # the column after the one-word row name: the mean


@pytest.mark.slow
def test_train_stores_runs_that_a_second_call_loads(tmp_path, capsys):
    argv = ["train", "fashion_mnist", "--profile", "smoke", "--approach", "software_WO",
            "--epochs", "1", "--n-train", "600", "--results-dir", str(tmp_path)]
    assert cli.main(argv) == 0
    first = capsys.readouterr().out
    assert "profile smoke, seeds [0], device cpu" in first
    accuracy = _accuracy(first, "software_WO")
    assert 0.3 < accuracy <= 1.0  # chance is 0.1
    exp = train.Experiment(method="software_WO", profile="smoke", epochs=1, n_train=600)
    assert train.result_path(exp, tmp_path).is_file()
    assert cli.main(argv) == 0  # loaded, not retrained: the same number
    assert _accuracy(capsys.readouterr().out, "software_WO") == accuracy


def test_train_rejects_bad_values_with_their_name(tmp_path, capsys):
    assert cli.main(["train", "fashion_mnist", "--keep-ratio", "1.5", "--results-dir", str(tmp_path)]) == 2
    assert re.search(r"--keep-ratio=1.5 is outside the valid range \(0, 1\]", capsys.readouterr().err)
    with pytest.raises(SystemExit):
        cli.main(["train", "mnist"])
    assert "invalid choice: 'mnist'" in capsys.readouterr().err
