"""rrampaper.profiles: resolving the profile from the argument or the environment."""

import pytest

from rrampaper.profiles import resolve_profile


def test_profile_resolution(monkeypatch):
    monkeypatch.delenv("RRAMPAPER_PROFILE", raising=False)
    assert resolve_profile() == "quick"
    assert resolve_profile("paper") == "paper"
    monkeypatch.setenv("RRAMPAPER_PROFILE", "smoke")
    assert resolve_profile(None) == "smoke"
    with pytest.raises(ValueError, match="profile='fast' is not valid"):
        resolve_profile("fast")
