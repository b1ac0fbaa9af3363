"""Shared pytest set-up, also for the notebooks that nbval executes.

Kernels started by nbval inherit this process's environment, so setting the variables here makes
every notebook run in the ``smoke`` profile and write its figures and results into a temporary
folder instead of the user's ``figures/`` and ``results/``.
"""

import os
import tempfile

_scratch = tempfile.mkdtemp(prefix="rrampaper-tests-")
os.environ.setdefault("RRAMPAPER_PROFILE", "smoke")
os.environ.setdefault("RRAMPAPER_FIGURES_DIR", os.path.join(_scratch, "figures"))
os.environ.setdefault("RRAMPAPER_RESULTS_DIR", os.path.join(_scratch, "results"))
os.environ.setdefault("MPLBACKEND", "Agg")
