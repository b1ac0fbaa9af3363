"""`rrampaper reproduce`: order, selection, outputs and failure reporting (real papermill runs)."""

import os
import re

import nbformat
import pytest

from rrampaper import cli
from rrampaper.reproduce import NotebookFailed, list_notebooks, reproduce


def _notebook(path, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("profile = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
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
    assert lines[0].startswith("[1/2] 00_first.ipynb") and "done in" in lines[1]
    page = (out / "html" / "01_second.html").read_text()
    assert runs[1].html == out / "html" / "01_second.html"
    assert "<html" in page and "'second'" in page


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
    from rrampaper.html_check import check_page, find_browser

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
    assert "01_second.ipynb failed in cell" in capsys.readouterr().err
    code = cli.main(["reproduce", "--notebooks-dir", str(notebooks), "--only", "9"])
    assert code == 2
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--profile", "huge"])
