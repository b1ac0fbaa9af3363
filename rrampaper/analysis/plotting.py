"""One figure style for every notebook, and saving figures as PNG + PDF.

Examples
--------
>>> import matplotlib.pyplot as plt
>>> from rrampaper.analysis import plotting
>>> plotting.use_style()
>>> fig, ax = plt.subplots()
>>> paths = plotting.save_figure(fig, "example", folder="/tmp/rrampaper-doc")
>>> sorted(p.suffix for p in paths)
['.pdf', '.png']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import seaborn as sns

from rrampaper._io import atomic_path
from rrampaper.experiments import approaches
from rrampaper.paths import figures_dir

#: Colours by method label, used by every comparison figure so that TO and WO look the same
#: everywhere (seaborn "colorblind" palette); defined with each approach in
#: :data:`rrampaper.experiments.approaches.APPROACHES`.
METHOD_COLORS: dict[str, str] = approaches.colours()

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def use_style(context: str = "notebook") -> None:
    """Apply the package's seaborn style (white grid, colour-blind palette, 150 dpi)."""
    sns.set_theme(context=context, style="whitegrid", palette="colorblind")
    mpl.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "pdf.fonttype": 42,
        }
    )


def save_figure(
    fig: plt.Figure,
    name: str,
    *,
    folder: str | Path | None = None,
    formats: Sequence[str] = ("png", "pdf"),
) -> list[Path]:
    """Write ``fig`` as ``<folder>/<name>.<fmt>`` for each format, atomically.

    Parameters
    ----------
    fig:
        The matplotlib figure.
    name:
        File stem, letters, digits, ``_``, ``-`` and ``.`` only (e.g. ``"01_weibull"``).
    folder:
        Output folder; default :func:`rrampaper.paths.figures_dir`.
    formats:
        File formats understood by matplotlib.

    Returns
    -------
    list of Path
        The written files.
    """
    if not _NAME.match(name):
        raise ValueError(f"name={name!r} may contain only letters, digits, '_', '-' and '.'")
    out = Path(folder) if folder is not None else figures_dir()
    written = []
    for fmt in formats:
        target = out / f"{name}.{fmt}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt)
        written.append(target)
    return written
