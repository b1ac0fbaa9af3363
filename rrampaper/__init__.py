"""rrampaper: the reproducible companion of "Pruning random resistive memory for optimizing
analog AI" (Li, Wang et al., Nature Communications 2026, doi 10.1038/s41467-025-67960-6;
arXiv 2311.07164, 2023).

Sub-packages and modules, in the order data flows through them:

- :mod:`rrampaper.data`: datasets (pooch registry with SHA-256, ``RRAMPAPER_DATA_DIR``).
- :mod:`rrampaper.devices`: filament model of electroforming, crossbars of differential pairs,
  measured chip data, technology presets.
- :mod:`rrampaper.topology`, :mod:`rrampaper.models.quant`, :mod:`rrampaper.models`: prunable layers
  (edge pruning / topology optimization), activation quantizers, the paper's networks.
- :mod:`rrampaper.analysis.plotting`, :mod:`rrampaper.profiles`, :mod:`rrampaper.paths`: figures,
  run sizes and folders shared by every notebook.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rrampaper")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

from rrampaper._progress import import_tqdm_auto_quietly as _quiet_tqdm  # noqa: E402

_quiet_tqdm()
