"""Tests of rrampaper.devices.programming_laws: cited sigma(G) curves, ranges, extensions."""

from __future__ import annotations

import math

import pytest
import torch

from rrampaper.devices.programming_laws import (
    PROGRAMMING_LAWS,
    ProgrammingLaw,
    programming_law,
)
from rrampaper.errors import ParameterError

US = 1e-6


def sigma_us(name: str, g_us: list[float]) -> list[float]:
    law = programming_law(name)
    out = law.sigma(torch.tensor(g_us, dtype=torch.float64) * US) / US
    return out.tolist()


def close(got: list[float], want: list[float], rtol: float = 0.10) -> None:
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w, rel=rtol), (got, want)


def test_milo_matches_crosssim_fit_at_four_levels():
    # sigma = -0.009107 G + 4.782321 uS (CrossSim RRAM_Milo), computed by hand in the sources doc
    close(sigma_us("milo_2021_post_verify", [50, 100, 150, 225]), [4.33, 3.87, 3.42, 2.73])
    # the same from the coefficients, tighter
    g = [60.0, 120.0, 200.0]
    close(sigma_us("milo_2021_post_verify", g), [4.782321 - 0.009107 * x for x in g], 1e-12)


def wan_1s_aihwkit(g_us: float, g_max_us: float = 40.0) -> float:
    """aihwkit ReRamWan2022NoiseModel._apply_poly, written out (coefficients as in aihwkit)."""
    coeff = [-16.815, 45.393, -43.853, 16.030, 0.348][::-1]
    mat, sig = 1.0, coeff[0]
    for value in coeff[1:]:
        mat *= g_us / g_max_us
        sig += mat * value
    return sig


def test_wan_matches_aihwkit_polynomial_at_1s():
    g = [10.0, 20.0, 30.0]  # x = 0.25, 0.5, 0.75
    close(sigma_us("wan_2022_post_verify", g), [2.26, 2.02, 1.53])
    close(sigma_us("wan_2022_post_verify", g), [wan_1s_aihwkit(x) for x in g], 1e-12)


def test_cmo_windows_match_aihwkit_linear_fits():
    g = [10.0, 50.0, 88.0]
    close(sigma_us("cmo_post_verify_0p2", g), [0.012, 0.054, 0.095])
    close(sigma_us("cmo_post_verify_2", g), [0.124, 0.576, 1.005])
    close(sigma_us("cmo_post_verify_2", g), [0.0112185391 + 0.01129027418 * x for x in g], 1e-12)


def test_open_loop_law_is_poisson_form_and_wider_than_post_verify():
    law = programming_law("poisson_defects_open_loop")
    assert law.kind == "open_loop"
    assert law.is_assumption and "Ambrogio" in law.source
    g = [50.0, 100.0, 225.0]
    close(sigma_us(law.name, g), [7.07, 10.0, 15.0])
    close(sigma_us(law.name, g), [math.sqrt(x * 1.0) for x in g], 1e-12)
    held = law.sigma(torch.tensor([1e-6, 1e-3], dtype=torch.float64)) / US
    close(held.tolist(), [math.sqrt(5.0), math.sqrt(250.0)], 1e-12)
    milo = sigma_us("milo_2021_post_verify", g)
    assert all(o > 1.5 * m for o, m in zip(sigma_us(law.name, g), milo, strict=True))


@pytest.mark.parametrize("name", list(PROGRAMMING_LAWS))
def test_refuse_names_law_count_example_and_range(name):
    law = programming_law(name).with_extension("refuse")
    lo, hi = law.valid_range_s
    g = torch.tensor([hi * 1.5, (lo + hi) / 2, hi * 2.0], dtype=torch.float64)
    with pytest.raises(ParameterError) as info:
        law.sigma(g)
    message = str(info.value)
    assert name in message
    assert "2 of 3" in message
    assert f"{hi:g}" in message and f"{lo:g}" in message
    assert f"{hi * 1.5:g}" in message


@pytest.mark.parametrize("name", list(PROGRAMMING_LAWS))
def test_hold_equals_range_end_values(name):
    law = programming_law(name).with_extension("hold")
    lo, hi = law.valid_range_s
    ends = law.sigma(torch.tensor([lo, hi], dtype=torch.float64))
    outside = torch.tensor([lo * 0.5, hi * 3.0], dtype=torch.float64)
    assert torch.equal(law.sigma(outside), ends)
    assert law.extension == "hold"
    default = "hold" if name == "poisson_defects_open_loop" else "refuse"
    assert programming_law(name).extension == default
    assert law.extension_note


def test_milo_hold_values_and_refuse_below():
    law = programming_law("milo_2021_post_verify")
    with pytest.raises(ParameterError, match="milo_2021_post_verify"):
        law.sigma(torch.tensor([10e-6]))
    held = law.with_extension("hold").sigma(torch.tensor([10e-6, 400e-6])) / US
    close(held.tolist(), [4.33, 2.73], 0.01)


def test_bad_targets_and_names_are_refused():
    law = programming_law("wan_2022_post_verify").with_extension("hold")
    with pytest.raises(ParameterError, match="not finite"):
        law.sigma(torch.tensor([float("nan")]))
    with pytest.raises(ParameterError, match="not finite"):
        law.sigma(torch.tensor([-1e-6]))
    with pytest.raises(ParameterError, match="milo_2021_post_verify"):
        programming_law("milo")
    with pytest.raises(ParameterError):
        law.with_extension("clip")


def test_laws_are_documented_and_typed():
    for name, law in PROGRAMMING_LAWS.items():
        assert isinstance(law, ProgrammingLaw) and law.name == name
        assert law.kind in ("open_loop", "post_verify")
        assert law.source and law.valid_range_s[0] < law.valid_range_s[1]
        out = law.with_extension("hold").sigma(torch.linspace(0, 300e-6, 50))
        assert out.dtype == torch.float64 and bool((out >= 0).all())
