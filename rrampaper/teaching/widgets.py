"""Interactive figures that stay figures: sliders in JupyterLab, a static PNG everywhere else.

:func:`explore` shows the figure of the controls' current values as a PNG output and one line of
text under it, then the controls. Moving a control redraws both *in place* (IPython display
ids), so a notebook run by papermill or nbval, or exported to HTML, keeps a static figure of
the default values, and a notebook opened in JupyterLab gets the same figure, live. Drawing
functions should return within a second on a laptop CPU: precompute, never train, in them.

Examples
--------
>>> import ipywidgets as w                                                      # doctest: +SKIP
>>> explore(lambda v: (figure_of(v), f"value {v}"),
...         {"v": w.FloatSlider(value=1.0, min=0.0, max=2.0, description="v")})  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Mapping
from html import escape
from typing import Any

import ipywidgets
import matplotlib.pyplot as plt
import torch
from IPython.display import HTML, Image, display
from matplotlib.figure import Figure

#: Resolution of the PNGs (dots per inch): sharp on a laptop screen, small in a notebook file.
PNG_DPI = 100


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one CPU thread inside the block (the previous count is restored).

    The tutorials' networks are tiny: with several threads the synchronisation costs more than
    the arithmetic, and on a shared, busy 2-core machine training and redraws were 5-15 times
    slower with two threads than with one (measured while writing the tutorials)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def png_bytes(fig: Figure, dpi: int = PNG_DPI) -> bytes:
    """``fig`` as PNG bytes (the figure is closed)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


class Explorer:
    """What :func:`explore` shows: the controls and the display handles it updates.

    ``caption`` holds the current text line (tests and browser checks read it); ``redraw()``
    draws the controls' current values again (what a moved control calls)."""

    def __init__(self, draw: Callable[..., tuple[Figure, str]], controls: Mapping[str, Any]) -> None:
        self.draw = draw
        self.controls = dict(controls)
        self.caption = ""
        self._figure_handle: Any = None
        self._caption_handle: Any = None

    def values(self) -> dict[str, Any]:
        """The controls' current values by keyword."""
        return {name: control.value for name, control in self.controls.items()}

    def render(self) -> tuple[bytes, str]:
        """PNG bytes and caption of the current values."""
        fig, caption = self.draw(**self.values())
        self.caption = caption
        return png_bytes(fig), caption

    def show(self) -> Explorer:
        """Display the figure, its caption and the controls (wiring the controls to redraw)."""

        png, caption = self.render()
        self._figure_handle = display(Image(data=png), display_id=True)
        self._caption_handle = display(HTML(_caption_html(caption)), display_id=True)
        for control in self.controls.values():
            control.observe(lambda _change: self.redraw(), names="value")
        display(ipywidgets.VBox(list(self.controls.values())))
        return self

    def redraw(self) -> None:
        """Draw the current values into the displayed figure and caption."""

        png, caption = self.render()
        if self._figure_handle is not None:
            self._figure_handle.update(Image(data=png))
            self._caption_handle.update(HTML(_caption_html(caption)))


def _caption_html(caption: str) -> str:

    return f'<p class="rrampaper-caption"><b>{escape(caption)}</b></p>'


def explore(draw: Callable[..., tuple[Figure, str]], controls: Mapping[str, Any]) -> Explorer:
    """Show ``draw(**values)`` (a figure and a one-line caption) with ``controls`` (ipywidgets
    value widgets by keyword of ``draw``) that redraw it in place; return the :class:`Explorer`."""
    if not controls:
        raise ValueError("controls is empty; give at least one {keyword: widget}")
    return Explorer(draw, controls).show()
