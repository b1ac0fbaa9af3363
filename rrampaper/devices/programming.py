"""Writing arbitrary target conductances: one-shot and write-verify programming.

This is how the weight-optimization baseline puts trained weights on a chip, and it is what the
paper's topology optimization avoids. Each programming attempt (one "pulse", a SET/RESET
sequence aimed at the target) lands at ``target + sigma_prog(target) * z`` with the
technology's programming noise (:meth:`Technology.programming_sigma`).

- **One-shot**: one attempt per cell.
- **Write-verify**: after every attempt the cell is read (with read noise,
  :meth:`Technology.read_sigma`); cells whose read lies outside
  ``max(tolerance * target, atol_s)`` are programmed again, until all pass or ``max_pulses``
  attempts were spent. This is the acceptance-window scheme of program-and-verify loops
  (aihwkit's ReRAM CMO model calibrates sigma per acceptance range; Milo et al., IRPS 2021).

Both return the achieved conductances and the number of pulses each cell used.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.devices.streams import as_generator
from rrampaper.devices.technologies import Technology, technology
from rrampaper.errors import ParameterError

METHODS = ("one_shot", "write_verify")

#: A target or weight may exceed the programmable range by this fraction of the range (floating
#: point rounding of a scaled weight); it is clipped. Anything further out is refused.
RANGE_RTOL = 1e-9


@dataclass(frozen=True)
class ProgramResult:
    """Outcome of programming target conductances.

    Attributes
    ----------
    conductance_s:
        Achieved conductances (siemens), shape of the targets.
    pulses:
        Programming attempts spent per cell (int64).
    converged:
        Whether the cell's last verify read was inside the tolerance (all ``True`` for
        one-shot programming, which does not verify).
    """

    conductance_s: torch.Tensor
    pulses: torch.Tensor
    converged: torch.Tensor

    @property
    def total_pulses(self) -> int:
        """Pulses summed over all cells."""
        return int(self.pulses.sum())


def program_conductances(
    target_s: torch.Tensor,
    tech: Technology | str = "taox_40nm",
    method: str = "write_verify",
    *,
    tolerance: float = 0.05,
    atol_s: float = 0.5e-6,
    max_pulses: int = 20,
    seed: int | torch.Generator | None = 0,
) -> ProgramResult:
    """Program ``target_s`` (siemens) into cells of technology ``tech``.

    Parameters
    ----------
    target_s:
        Target conductances in siemens, inside the technology's programmable range
        ``[g_min_s, g_max_s]``; NaN, infinite or out-of-range targets raise
        :class:`~rrampaper.errors.ParameterError` (only a rounding excess of at most
        :data:`RANGE_RTOL` of the range is clipped).
    tech:
        A :class:`Technology` or preset name.
    method:
        ``"one_shot"`` or ``"write_verify"``.
    tolerance:
        Relative acceptance window of write-verify, in (0, 1].
    atol_s:
        Absolute acceptance window in siemens (the window is the larger of the two).
    max_pulses:
        Pulse budget per cell for write-verify (>= 1).
    seed:
        Seed or :class:`torch.Generator` (CPU).
    """
    tech = technology(tech)
    check_choice("method", method, METHODS)
    check_range("tolerance", tolerance, 0.0, 1.0, low_open=True)
    check_range("atol_s", atol_s, 0.0, 1.0, unit="S")
    max_pulses = check_positive_int("max_pulses", max_pulses)
    gen = as_generator(seed)
    target = check_targets(torch.as_tensor(target_s, dtype=torch.float64), tech)
    sigma_prog = tech.programming_sigma(target)

    def attempt(mask: torch.Tensor) -> torch.Tensor:
        z = torch.randn(int(mask.sum()), generator=gen, dtype=torch.float64)
        return (target[mask] + sigma_prog[mask] * z).clamp(min=0.0)

    g = torch.empty_like(target)
    everyone = torch.ones_like(target, dtype=torch.bool)
    g[everyone] = attempt(everyone)
    pulses = torch.ones_like(target, dtype=torch.int64)
    if method == "one_shot":
        return ProgramResult(g, pulses, torch.ones_like(target, dtype=torch.bool))

    window = torch.clamp(tolerance * target, min=atol_s)

    def verify(mask: torch.Tensor) -> torch.Tensor:
        """One verify read of the cells in ``mask``: inside the window?"""
        z = torch.randn(int(mask.sum()), generator=gen, dtype=torch.float64)
        read = g[mask] + tech.read_sigma(g[mask]) * z
        return (read - target[mask]).abs() <= window[mask]

    # a cell that passed its verify read is done; the others get another pulse
    ok = torch.zeros_like(target, dtype=torch.bool)
    ok[everyone] = verify(everyone)
    for _ in range(max_pulses - 1):
        todo = ~ok
        if not bool(todo.any()):
            break
        g[todo] = attempt(todo)
        pulses[todo] += 1
        ok[todo] = verify(todo)
    return ProgramResult(g, pulses, ok)


def _count_bad(name: str, values: torch.Tensor, bad: torch.Tensor, what: str, valid: str) -> None:
    n_bad = int(bad.sum())
    if n_bad:
        first = float(values[bad].reshape(-1)[0])
        raise ParameterError(
            f"{name} has {n_bad} of {values.numel()} values {what} (e.g. {first:.4g}); "
            f"the valid range is {valid}"
        )


def check_targets(target_s: torch.Tensor, tech: Technology) -> torch.Tensor:
    """``target_s`` (float64) clipped by at most a rounding excess to ``[g_min_s, g_max_s]``;
    NaN, infinite or out-of-range targets raise :class:`~rrampaper.errors.ParameterError`
    naming how many there are and the technology's range."""
    valid = f"[{tech.g_min_s:.4g}, {tech.g_max_s:.4g}] S of technology {tech.name!r}"
    _count_bad("target_s", target_s, ~torch.isfinite(target_s), "not finite (NaN or inf)", valid)
    slack = RANGE_RTOL * (tech.g_max_s - tech.g_min_s)
    outside = (target_s < tech.g_min_s - slack) | (target_s > tech.g_max_s + slack)
    _count_bad("target_s", target_s, outside, "outside the programmable range", valid)
    return target_s.clamp(tech.g_min_s, tech.g_max_s)


IDLE_MODES = ("reset", "program")


def _program_side(
    magnitude_s: torch.Tensor, tech: Technology, method: str, gen: torch.Generator, idle: str,
    **kwargs,
) -> ProgramResult:
    """One cell of every pair: ``g_min + magnitude``; with ``idle="reset"`` the cells whose
    magnitude is 0 get one RESET pulse to the technology's off state instead of a verified
    write to ``g_min``."""
    target = tech.g_min_s + magnitude_s
    if idle == "program":
        return program_conductances(target, tech, method, seed=gen, **kwargs)
    active = magnitude_s > 0
    g = torch.empty_like(target)
    pulses = torch.ones_like(target, dtype=torch.int64)
    converged = torch.ones_like(target, dtype=torch.bool)
    if bool(active.any()):
        written = program_conductances(target[active], tech, method, seed=gen, **kwargs)
        g[active], pulses[active], converged[active] = (
            written.conductance_s, written.pulses, written.converged)
    n_idle = int((~active).sum())
    if n_idle:
        g[~active] = tech.sample_pairs(n_idle, seed=gen).off
    return ProgramResult(g, pulses, converged)


def program_weights(
    weights_s: torch.Tensor,
    tech: Technology | str = "taox_40nm",
    method: str = "write_verify",
    *,
    idle: str = "program",
    **kwargs,
) -> tuple[torch.Tensor, ProgramResult, ProgramResult]:
    """Program signed weights (siemens) as differential pairs G+ - G-.

    A positive weight ``w`` programs ``G+ = g_min + w``; a negative one ``G- = g_min + |w|``.
    The other cell of the pair is *idle*: with ``idle="program"`` (default) it is programmed to
    ``g_min`` like any target (one-shot or write-verify); with ``idle="reset"`` it gets one
    RESET pulse to the technology's off state (its device-to-device off-state spread, no
    verify), as differential arrays park the unused device in the low-conductance state.
    Which one the paper's baseline did is not published; ``"reset"`` needs fewer pulses where
    the programming noise at ``g_min`` is large (TaOx: sigma 4.8 uS at 1 uS). ``|w|`` must not exceed
    ``g_max_s - g_min_s`` of the technology (rescale trained weights first). Keyword arguments
    go to :func:`program_conductances` (both cells draw from the same generator).

    Returns
    -------
    achieved, plus, minus:
        The achieved differential weights (siemens) and both cells' :class:`ProgramResult`
        (an idle cell counts one pulse).
    """
    tech = technology(tech)
    check_choice("idle", idle, IDLE_MODES)
    w = torch.as_tensor(weights_s, dtype=torch.float64)
    span = tech.g_max_s - tech.g_min_s
    _count_bad("weights_s", w, ~torch.isfinite(w), "not finite (NaN or inf)",
               f"[-{span:.3g}, {span:.3g}] S of technology {tech.name!r}")
    biggest = float(w.abs().max()) if w.numel() else 0.0
    if biggest > span * (1 + RANGE_RTOL):
        raise ParameterError(
            f"weights_s has |w| up to {biggest:.3g} S, outside the valid range [0, {span:.3g}] S "
            f"of technology {tech.name!r}; rescale the weights first"
        )
    gen = as_generator(kwargs.pop("seed", 0))
    plus = _program_side(w.clamp(min=0), tech, method, gen, idle, **kwargs)
    minus = _program_side((-w).clamp(min=0), tech, method, gen, idle, **kwargs)
    return plus.conductance_s - minus.conductance_s, plus, minus
