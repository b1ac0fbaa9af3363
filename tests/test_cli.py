"""The ``rrampaper`` command reports bad input on one line (exit code 2); ``--debug`` shows the
traceback. None of these runs trains: every check happens before the first epoch."""

import pytest
import torch

from rrampaper import cli
from rrampaper.errors import ParameterError, UnwritableError


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    return lines[0]


@pytest.mark.parametrize(("options", "expected"), [
    (["--device", "cuda"], "rrampaper train: --device='cuda' does not exist on this machine "
                           "(torch sees 0 CUDA devices); choose one of auto, cpu"),
    (["--device", "gpu"], "rrampaper train: --device='gpu' is not a device name"),
    (["--seeds", "-1"], "rrampaper train: --seeds=-1 must be an integer >= 0"),
    (["--seeds", "0", "0"], "rrampaper train: --seeds 0 0 repeats a seed"),
    (["--keep-ratio", "2"], "rrampaper train: --keep-ratio=2.0 is outside the valid range (0, 1]"),
    (["--lr", "nan"], "rrampaper train: --lr=nan is outside the valid range (0, 10]"),
    (["--lr", "inf"], "rrampaper train: --lr=inf is outside the valid range (0, 10]"),
    (["--weight-decay", "inf"], "rrampaper train: --weight-decay=inf is outside the valid range [0, 1]"),
    (["--momentum", "1"], "rrampaper train: --momentum=1.0 is outside the valid range [0, 1)"),
    (["--schedule", "step"], "rrampaper train: --schedule='step' is not valid"),
    (["--epochs", "0"], "rrampaper train: --epochs=0 must be an integer >= 1"),
    (["--n-train", "0"], "rrampaper train: --n-train=0 must be an integer >= 1"),
    (["--technology", "nope"], "rrampaper train: --technology='nope' is not valid; choose one of "
                               "'taox_40nm_macro'"),
])
def test_train_bad_option_is_one_line_naming_it(options, expected, no_gpu, tmp_path, capsys):
    argv = ["train", "fashion_mnist", "--profile", "smoke", "--results-dir", str(tmp_path), *options]
    assert cli.main(argv) == 2
    assert _one_line_error(capsys).startswith(expected)
    assert not any(tmp_path.iterdir())  # nothing ran


def test_debug_shows_the_traceback(no_gpu, tmp_path):
    with pytest.raises(ParameterError, match="--device='cuda'"):
        cli.main(["--debug", "train", "fashion_mnist", "--device", "cuda",
                  "--results-dir", str(tmp_path)])


def test_unwritable_results_folder_is_reported_before_training(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    argv = ["train", "fashion_mnist", "--profile", "smoke", "--results-dir", str(blocker / "results")]
    assert cli.main(argv) == 2
    line = _one_line_error(capsys)
    assert line.startswith(f"rrampaper train: the results folder {blocker / 'results'} cannot be written")
    with pytest.raises(UnwritableError):
        cli.main(["--debug", *argv])


def test_other_value_errors_are_one_line_with_a_pointer_to_debug(monkeypatch, capsys):
    def broken(args):
        raise ValueError("first line\nsecond line")

    monkeypatch.setattr(cli, "_train", broken)
    assert cli.main(["train", "fashion_mnist"]) == 2
    assert _one_line_error(capsys) == (
        "rrampaper train: first line; second line (rrampaper --debug train ... shows where)")
    with pytest.raises(ValueError, match="first line"):
        cli.main(["--debug", "train", "fashion_mnist"])


def test_programming_errors_are_not_hidden(monkeypatch):
    def broken(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "_train", broken)
    with pytest.raises(KeyError):
        cli.main(["train", "fashion_mnist"])
