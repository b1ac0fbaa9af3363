"""`rrampaper reproduce`: order, selection, outputs and failure reporting (real papermill runs)."""

import json
import os
import re
import time

import nbformat
import pytest

from rrampaper import _progress, cli
from rrampaper.errors import ParameterError, RrampaperError
from rrampaper.experiments import reproduce as reproduce_module
from rrampaper.experiments.reproduce import NotebookFailed, list_notebooks, reproduce


def _notebook(path, *bodies):
    """A parameters cell, then one cell per body: code, or markdown when it starts with "# md"."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("profile = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_markdown_cell(b[4:]) if b.startswith("# md")
                           else nbformat.v4.new_code_cell(b) for b in bodies]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    writes = (
        "import os, pathlib\n"
        "out = pathlib.Path(os.environ['RRAMPAPER_FIGURES_DIR'])\n"
        "(out / f'{NAME}-{profile}.txt').write_text(profile)\n"
    )
    _notebook(folder / "00_first.ipynb", "NAME = 'first'\n" + writes)
    _notebook(folder / "01_second.ipynb", "NAME = 'second'\n" + writes)
    (folder / "scratch.ipynb").write_text("{}")  # not NN_topic: ignored
    return folder


def test_list_notebooks_order_and_selection(notebooks):
    assert [p.name for p in list_notebooks(notebooks)] == ["00_first.ipynb", "01_second.ipynb"]
    assert [p.name for p in list_notebooks(notebooks, ["01"])] == ["01_second.ipynb"]
    assert [p.name for p in list_notebooks(notebooks, ["01_second", "00"])] == [
        "00_first.ipynb", "01_second.ipynb"]
    with pytest.raises(ValueError, match="only='07' matches no notebook; available: 00_first, 01_second"):
        list_notebooks(notebooks, ["07"])


def test_summary_notebooks_run_after_every_other(tmp_path):
    for name in ("00_a", "08_summary", "09_device_conditions", "10_more"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    assert [p.stem for p in list_notebooks(tmp_path)] == [
        "00_a", "09_device_conditions", "10_more", "08_summary"]
    assert [p.stem for p in list_notebooks(tmp_path, ["08", "09"])] == [
        "09_device_conditions", "08_summary"]


@pytest.mark.slow
def test_reproduce_injects_profile_and_writes_outputs(notebooks, tmp_path, monkeypatch):
    monkeypatch.delenv("RRAMPAPER_FIGURES_DIR", raising=False)
    lines = []
    out = tmp_path / "figures"
    runs = reproduce("smoke", notebooks_dir=notebooks, output_dir=out, log=lines.append)
    assert [r.notebook.name for r in runs] == ["00_first.ipynb", "01_second.ipynb"]
    assert (out / "first-smoke.txt").read_text() == "smoke"
    assert (out / "second-smoke.txt").read_text() == "smoke"
    executed = nbformat.read(out / "notebooks" / "01_second.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'profile = "smoke"' in injected[0].source
    assert lines[0] == "[1/2] 00_first.ipynb (profile smoke, at most 600 s per cell) ..."
    assert [line for line in lines if "done in" in line][0].startswith("[1/2] 00_first.ipynb done in")
    page = (out / "html" / "01_second.html").read_text()
    assert runs[1].html == out / "html" / "01_second.html"
    assert "<html" in page and "'second'" in page


@pytest.mark.slow
def test_executed_notebooks_and_pages_embed_their_figures(tmp_path, monkeypatch):
    """Even with MPLBACKEND=Agg in the caller's environment (as under `make test`)."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "00_plot.ipynb",
              "import rrampaper.paths  # imports pooch, which imports tqdm.auto\n"
              "from rrampaper._progress import progress_bar\n"
              "for _ in progress_bar(range(50), desc='bar'):\n    pass\n"
              "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0]);")
    out = tmp_path / "figures"
    runs = reproduce("smoke", notebooks_dir=folder, output_dir=out, log=lambda s: None)
    executed = nbformat.read(runs[0].output, as_version=4)
    images = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) == 1
    streams = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
               if o.output_type == "stream"]
    assert streams == []  # no progress-bar lines (and no tqdm warning) in the page
    assert len(re.findall(r'<img[^>]*src="data:image/png;base64,', runs[0].html.read_text())) == 1
    assert os.environ["MPLBACKEND"] == "Agg"  # the caller's setting is restored
    from rrampaper.experiments.html_check import check_page, find_browser

    if find_browser() is not None:  # the page opens and the browser decodes the figure
        check = check_page(runs[0].html)
        assert (check.images, check.rendered, check.ok) == (1, 1, True)


def test_failing_notebook_stops_the_run_and_names_the_cell(notebooks, tmp_path):
    _notebook(notebooks / "00_first.ipynb", "raise ValueError('bad number 42')")
    with pytest.raises(NotebookFailed) as failure:
        reproduce("smoke", notebooks_dir=notebooks, output_dir=tmp_path / "f", log=lambda s: None)
    assert failure.value.ename == "ValueError"
    assert "bad number 42" in failure.value.evalue
    assert failure.value.cell_index is not None
    assert not (tmp_path / "f" / "second-smoke.txt").exists()  # the run stopped


def test_cli_exit_codes(notebooks, tmp_path, capsys):
    _notebook(notebooks / "01_second.ipynb", "1/0")
    code = cli.main(["reproduce", "--profile", "smoke", "--notebooks-dir", str(notebooks),
                     "--output-dir", str(tmp_path / "f"), "--only", "01"])
    assert code == 1
    err = capsys.readouterr().err
    assert "01_second.ipynb failed in cell 2 of 2 (code cell 2 of 2, In [3]) `1/0`: ZeroDivisionError" in err
    assert "Traceback" not in err
    code = cli.main(["reproduce", "--notebooks-dir", str(notebooks), "--only", "9"])
    assert code == 2
    code = cli.main(["reproduce", "--notebooks-dir", str(notebooks), "--cell-timeout", "-1"])
    assert code == 2
    assert "--cell-timeout=-1.0 s is outside the valid range" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--profile", "huge"])


def test_failure_names_the_cell_as_counted_in_the_source_notebook(tmp_path):
    """papermill inserts a cell: the report counts the cells a person sees in the saved notebook."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "00_count.ipynb", "# md Title", "a = 1", "# md Now it fails",
              "# the third code cell\nraise ValueError('third')", "b = 2")
    with pytest.raises(NotebookFailed) as failure:
        reproduce("smoke", notebooks_dir=folder, output_dir=tmp_path / "f", log=lambda s: None)
    where = "cell 5 of 6 (code cell 3 of 4, In [4]) `# the third code cell`"
    assert failure.value.where == where
    assert str(failure.value).startswith(f"00_count.ipynb failed in {where}: ValueError: third; ")
    assert isinstance(failure.value, RrampaperError) and "\n" not in str(failure.value)
    executed = nbformat.read(failure.value.output, as_version=4)   # In [4] is that cell there
    assert [c.source for c in executed.cells if c.get("execution_count") == 4] == [
        "# the third code cell\nraise ValueError('third')"]


@pytest.mark.slow
def test_a_cell_past_the_time_limit_fails_the_run_quickly(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "00_slow.ipynb", "x = 1", "import time\ntime.sleep(30)", "y = 2")
    t0 = time.monotonic()
    with pytest.raises(NotebookFailed) as failure:
        reproduce("smoke", notebooks_dir=folder, output_dir=tmp_path / "f", cell_timeout=2,
                  log=lambda s: None)
    assert time.monotonic() - t0 < 20
    message = str(failure.value)
    assert failure.value.ename == "CellTimeoutError"
    assert "00_slow.ipynb failed in cell 3 of 4 (code cell 3 of 4, In [4]) `import time`" in message
    assert "timed out" in message and "after 2 s" in message and "--cell-timeout" in message


def test_sys_exit_that_skips_cells_is_a_failure(tmp_path):
    """papermill itself accepts sys.exit(0) and silently skips the cells after it."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "00_exits.ipynb", "import sys\nsys.exit(0)", "x = 1", "y = 2")
    with pytest.raises(NotebookFailed) as failure:
        reproduce("smoke", notebooks_dir=folder, output_dir=tmp_path / "f", log=lambda s: None)
    assert str(failure.value).startswith(
        "00_exits.ipynb failed in cell 2 of 4 (code cell 2 of 4, In [3]) `import sys`: SystemExit: "
        "0: the notebook stopped here, and the 2 code cell(s) after it did not run; ")
    assert not (tmp_path / "f" / "html").exists()


def test_an_unreadable_notebook_is_named(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "00_cut.ipynb").write_text('{"cells": [')
    with pytest.raises(NotebookFailed, match=r"^00_cut\.ipynb failed in reading it: NotJSONError: .*00_cut\.ipynb "
                                             r"is not a readable notebook: Notebook does not appear to be JSON"):
        reproduce("smoke", notebooks_dir=folder, output_dir=tmp_path / "f", log=lambda s: None)


def test_cell_timeout_is_checked_and_defaults_per_profile(tmp_path):
    assert reproduce_module.CELL_TIMEOUT_S == {"smoke": 600, "quick": 3600, "paper": None}
    assert reproduce_module._cell_timeout("auto", "paper") is None
    assert reproduce_module._cell_timeout(0, "smoke") is None
    assert reproduce_module._cell_timeout(2.5, "smoke") == 3
    for bad in (-1, float("nan"), "10"):
        with pytest.raises(ParameterError, match="cell_timeout"):
            reproduce("smoke", notebooks_dir=tmp_path, cell_timeout=bad)


def test_a_dead_kernel_is_reported_with_the_cell_and_the_exit_code(tmp_path, capfd):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "00_dies.ipynb", "x = 1", "import os\nos._exit(3)", "y = 2")
    with pytest.raises(NotebookFailed) as failure:
        reproduce("smoke", notebooks_dir=folder, output_dir=tmp_path / "f", log=lambda s: None)
    assert failure.value.ename == "DeadKernelError"
    # In [4] when the kernel announced the cell before it died (a race)
    assert re.match(r"00_dies\.ipynb failed in cell 3 of 4 \(code cell 3 of 4(, In \[4\])?\) `import os`: "
                    r"DeadKernelError: the kernel died \(exit code 3\)", str(failure.value))
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "Kernel died while waiting" not in captured.err  # nbclient's log line: reported above


@pytest.mark.slow
def test_status_lines_show_cells_and_training_runs(tmp_path, monkeypatch):
    """Cells done of total after each code cell, and the kernel's progress events (train_grid's
    runs) also while one long cell runs (every HEARTBEAT_S)."""
    monkeypatch.setattr(reproduce_module, "HEARTBEAT_S", 0.5)
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "00_runs.ipynb", "# md Training",
              "import time\nfrom rrampaper._progress import report\n"
              "report('runs', 1, 3)\nreport('runs', 2, 3)\ntime.sleep(2.5)\nreport('runs', 3, 3)",
              "x = 1")
    lines = []
    reproduce("smoke", notebooks_dir=folder, output_dir=tmp_path / "f", html=False, log=lines.append)
    status = [line for line in lines if line.startswith("[1/1] 00_runs.ipynb: cells ")]
    assert any(re.fullmatch(r"\[1/1\] 00_runs\.ipynb: cells 1/3, \d+:\d\d elapsed", line)
               for line in status)   # after the parameters cell, before any event
    assert any(line.startswith("[1/1] 00_runs.ipynb: cells 1/3, runs 2/3, ") for line in status)
    assert any(line.startswith("[1/1] 00_runs.ipynb: cells 2/3, runs 3/3, ") for line in status)
    assert status[-1].startswith("[1/1] 00_runs.ipynb: cells 3/3, runs 3/3, ")
    assert "RRAMPAPER_PROGRESS_FILE" not in os.environ


def test_report_appends_json_lines_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv(_progress.PROGRESS_FILE_ENV, raising=False)
    _progress.report("runs", 1, 2)   # no file, nothing happens
    events = tmp_path / "events.jsonl"
    monkeypatch.setenv(_progress.PROGRESS_FILE_ENV, str(events))
    _progress.report("runs", 1, 2)
    _progress.report("runs", 2, 2)
    assert [json.loads(line) for line in events.read_text().splitlines()] == [
        {"event": "runs", "done": 1, "total": 2}, {"event": "runs", "done": 2, "total": 2}]


def test_kernel_noise_is_dropped_and_other_kernel_messages_are_kept(tmp_path, monkeypatch, capfd):
    """Even where the kernel's sockets cannot be encrypted (so that ipykernel warns)."""
    monkeypatch.setattr(reproduce_module, "_encryption", dict)
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "00_quiet.ipynb",
              "from ipykernel.kernelapp import IPKernelApp\n"
              "IPKernelApp.instance().log.warning('a warning of the kernel itself')")
    reproduce("smoke", notebooks_dir=folder, output_dir=tmp_path / "f", html=False,
              log=lambda s: None)
    captured = capfd.readouterr()
    shown = captured.err + captured.out
    assert "without encryption" not in shown and "KeyboardInterrupt caught" not in shown
    assert "a warning of the kernel itself" in captured.err
