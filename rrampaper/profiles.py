"""Run sizes shared by every notebook and by ``rrampaper reproduce``.

- ``smoke``: seconds per notebook, tiny subsets; what nbval and CI run.
- ``quick``: the default of ``make reproduce``; the whole paper on a 2-core laptop CPU in well
  under an hour, large enough that every qualitative claim shows, with error bars over seeds.
- ``paper``: the paper's own hyper-parameters (epochs, batch sizes), meant for a GPU.

A notebook's ``parameters`` cell holds ``profile = None``; :func:`resolve_profile` turns that into
``$RRAMPAPER_PROFILE`` or ``"quick"``, so that nbval (which sets ``RRAMPAPER_PROFILE=smoke``)
and an interactive user (who gets ``quick``) run the same notebook unchanged.
"""

from __future__ import annotations

import os

from rrampaper._checks import check_choice

PROFILES: tuple[str, ...] = ("smoke", "quick", "paper")
DEFAULT_PROFILE = "quick"


def resolve_profile(profile: str | None = None) -> str:
    """Return a valid profile name: ``profile``, else ``$RRAMPAPER_PROFILE``, else ``"quick"``."""
    if profile is None:
        profile = os.environ.get("RRAMPAPER_PROFILE") or DEFAULT_PROFILE
    return check_choice("profile", profile, PROFILES)
