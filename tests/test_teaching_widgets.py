"""The explorer behind every tutorial widget: a PNG and a caption of the controls' values."""

import ipywidgets
import matplotlib.pyplot as plt
import pytest

from rrampaper.teaching import widgets


def _draw(level: float):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, level])
    return fig, f"level {level:.1f}"


def test_render_uses_the_controls_values_and_redraw_follows_them():
    open_before = set(plt.get_fignums())
    control = ipywidgets.FloatSlider(value=1.0, min=0.0, max=2.0)
    explorer = widgets.Explorer(_draw, {"level": control})
    png, caption = explorer.render()
    assert png.startswith(b"\x89PNG") and caption == "level 1.0" == explorer.caption
    control.value = 1.5
    explorer.redraw()  # not displayed: only the caption and PNG are recomputed
    assert explorer.caption == "level 1.5"
    assert explorer.values() == {"level": 1.5}
    assert set(plt.get_fignums()) == open_before  # every figure it drew is closed


def test_caption_html_escapes_and_explore_needs_controls():
    assert widgets._caption_html("a < b") == '<p class="rrampaper-caption"><b>a &lt; b</b></p>'
    with pytest.raises(ValueError, match="controls is empty"):
        widgets.explore(_draw, {})
