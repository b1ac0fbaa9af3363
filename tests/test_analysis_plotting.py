"""rrampaper.analysis.plotting: the shared style and atomic PNG + PDF figure files."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest

from rrampaper.analysis import plotting


def test_save_figure_writes_every_format(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    written = plotting.save_figure(fig, "02_curves-v1.0", folder=tmp_path / "new")
    plt.close(fig)
    assert written == [tmp_path / "new" / "02_curves-v1.0.png", tmp_path / "new" / "02_curves-v1.0.pdf"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert written[1].read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["02_curves-v1.0.pdf", "02_curves-v1.0.png"]


def test_save_figure_defaults_to_the_figures_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RRAMPAPER_FIGURES_DIR", str(tmp_path))
    fig = plt.figure()
    assert plotting.save_figure(fig, "x", formats=("svg",)) == [tmp_path / "x.svg"]
    plt.close(fig)


@pytest.mark.parametrize("name", ["../escape", "a b", "", "fig/1"])
def test_save_figure_rejects_unsafe_names(tmp_path, name):
    with pytest.raises(ValueError, match="may contain only letters"):
        plotting.save_figure(plt.figure(), name, folder=tmp_path)
    plt.close("all")
    assert list(tmp_path.iterdir()) == []


def test_use_style_and_method_colours():
    with mpl.rc_context():
        plotting.use_style()
        assert mpl.rcParams["savefig.dpi"] == 150
        assert mpl.rcParams["pdf.fonttype"] == 42
        assert mpl.rcParams["axes.spines.top"] is False
    colours = plotting.METHOD_COLORS
    assert len(set(colours.values())) == len(colours)  # every method its own colour
    assert {"software TO", "hardware TO", "software WO", "WO post-verify"} <= set(colours)
