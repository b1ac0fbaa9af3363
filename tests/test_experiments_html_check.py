"""The headless-browser check of the HTML pages: parsing always, the browser when installed."""

import base64
import io

import pytest

from rrampaper import cli
from rrampaper.experiments.html_check import PageCheck, check_page, find_browser, parse_report


def test_report_parsing_and_verdicts(tmp_path):
    assert parse_report("x RRAMPAPER-CHECK images=4 rendered=3 svg=1 svg_rendered=1 y") == (4, 3, 1, 1)
    with pytest.raises(RuntimeError, match="never finished loading"):
        parse_report("<html></html>")
    page = tmp_path / "a.html"
    assert PageCheck(page, 2, 2, 0, 0).ok
    assert not PageCheck(page, 2, 1, 0, 0).ok  # one image not decoded
    assert not PageCheck(page, 0, 0, 0, 0).ok  # a page without figures fails
    assert not PageCheck(page, 0, 0, 1, 0).ok
    assert str(PageCheck(page, 2, 1, 0, 0)).startswith("FAIL a.html: 1/2 images")


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.skipif(find_browser() is None, reason="no headless Chromium installed")
def test_browser_counts_rendered_and_broken_figures(tmp_path, capsys):
    good = f'<img src="data:image/png;base64,{_png()}">'
    broken = '<img src="data:image/png;base64,AAAA">'
    (tmp_path / "good.html").write_text(f"<html><body><p>fig</p>{good}{good}</body></html>")
    (tmp_path / "bad.html").write_text(f"<html><body>{good}{broken}</body></html>")
    check = check_page(tmp_path / "good.html")
    assert (check.images, check.rendered, check.ok) == (2, 2, True)
    bad = check_page(tmp_path / "bad.html")
    assert (bad.images, bad.rendered, bad.ok) == (2, 1, False)
    assert cli.main(["check-html", str(tmp_path)]) == 1
    assert "1 of 2 pages show all their figures" in capsys.readouterr().out


def test_missing_folder_and_page_are_clear_errors(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_page(tmp_path / "nope.html")
    assert cli.main(["check-html", str(tmp_path)]) == 2
    assert "no .html pages" in capsys.readouterr().err
