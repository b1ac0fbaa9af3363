"""Writing arbitrary target conductances: open-loop pulses, the write-verify algorithm, or a
published post-verify spread.

This is how the weight-optimization baseline puts trained weights on a chip, and it is what the
paper's topology optimization avoids. Three methods (:data:`METHODS`), named after what they
model:

- ``"open_loop"``: one unverified programming attempt per cell, landing at
  ``target + sigma_open(target) * z`` with the technology's open-loop law
  (:meth:`Technology.programming_sigma`, :mod:`rrampaper.devices.programming_laws`).
- ``"write_verify"``: the *algorithm*: after every open-loop attempt the cell is read with read
  noise (:meth:`Technology.read_sigma`); cells whose read lies outside
  ``max(tolerance * target, atol_s)`` are programmed again, until all pass or ``max_pulses``
  attempts were spent. A read fluctuation can fool the verify both ways (a good cell retried, a
  bad cell accepted). This is the acceptance-window scheme of program-and-verify loops (aihwkit's
  ReRAM CMO model calibrates sigma per acceptance range; Milo et al., IRPS 2021).
- ``"post_verify"``: one draw from the spread a source reports *after* its own write-verify
  algorithm (:meth:`Technology.post_verify_sigma`; only technologies with such a law). It is
  a shortcut for comparison with the published numbers, not a second verify.

Around every method, the chip's effects (:mod:`rrampaper.devices.effects`): targets snap to the
technology's ``levels`` when set, and faulty cells (``fault_codes``,
:mod:`rrampaper.devices.faults`) land at their fault conductance whatever is attempted, so
write-verify spends its whole pulse budget on them. Every method returns the state about 1 s
after programming; relaxation after that is :meth:`Technology.relax`, applied by the caller at
``t_inference_s`` (write-verify cannot undo what happens after it ends).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rrampaper._checks import check_choice, check_positive_int, check_range
from rrampaper.devices.faults import OK, apply_faults
from rrampaper.devices.readout import quantize_levels
from rrampaper.devices.streams import as_generator
from rrampaper.devices.technologies import Technology, technology
from rrampaper.errors import ParameterError

METHODS = ("open_loop", "write_verify", "post_verify")

#: Former method names and what replaced them.
RENAMED_METHODS = {
    "one_shot": "use 'open_loop' (one unverified pulse, the open-loop law) or 'post_verify' "
    "(the spread a source reports after its write-verify algorithm; what 'one_shot' drew before)",
}

#: A target or weight may exceed the programmable range by this fraction of the range (floating
#: point rounding of a scaled weight); it is clipped. Anything further out is refused.
RANGE_RTOL = 1e-9


def check_method(method: str) -> str:
    """``method`` if it is one of :data:`METHODS`; a renamed one gets its replacement named."""
    if method in RENAMED_METHODS:
        raise ParameterError(f"method={method!r} was renamed: {RENAMED_METHODS[method]}")
    return check_choice("method", method, METHODS)


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
        open-loop and post-verify programming, which do not verify).
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
    tech: Technology | str = "taox_post_verify_static",
    method: str = "write_verify",
    *,
    tolerance: float = 0.05,
    atol_s: float = 0.5e-6,
    max_pulses: int = 20,
    seed: int | torch.Generator | None = 0,
    fault_codes: torch.Tensor | None = None,
) -> ProgramResult:
    """Program ``target_s`` (siemens) into cells of technology ``tech``.

    Parameters
    ----------
    target_s:
        Target conductances in siemens, inside the technology's programmable range
        ``[g_min_s, g_max_s]``; NaN, infinite or out-of-range targets raise
        :class:`~rrampaper.errors.ParameterError` (only a rounding excess of at most
        :data:`RANGE_RTOL` of the range is clipped). Rounded to the technology's ``levels``
        first when it has a level limit.
    tech:
        A :class:`Technology` or preset name.
    method:
        ``"open_loop"``, ``"write_verify"`` or ``"post_verify"`` (see the module docstring).
    tolerance:
        Relative acceptance window of write-verify, in (0, 1].
    atol_s:
        Absolute acceptance window in siemens (the window is the larger of the two).
    max_pulses:
        Pulse budget per cell for write-verify (>= 1).
    seed:
        Seed or :class:`torch.Generator` (CPU).
    fault_codes:
        Fault code per cell (:mod:`rrampaper.devices.faults`, shape of the targets) or ``None``
        (no faulty cell); faulty cells end at the technology's fault conductances.
    """
    tech = technology(tech)
    check_method(method)
    check_range("tolerance", tolerance, 0.0, 1.0, low_open=True)
    check_range("atol_s", atol_s, 0.0, 1.0, unit="S")
    max_pulses = check_positive_int("max_pulses", max_pulses)
    gen = as_generator(seed)
    target = check_targets(torch.as_tensor(target_s, dtype=torch.float64), tech)
    if tech.levels:
        target = quantize_levels(target, int(tech.levels), tech.g_min_s, tech.g_max_s)
    if method == "post_verify":
        sigma_prog = tech.post_verify_sigma(target)
    else:
        sigma_prog = tech.programming_sigma(target)
    faults = tech.faults
    codes = None
    if fault_codes is not None:
        codes = torch.as_tensor(fault_codes, dtype=torch.int8).reshape(target.shape)
        if not bool((codes != OK).any()):
            codes = None

    # flat views; the cells still to write are tracked as ascending indices (not a full-size
    # mask per pulse), so a pulse costs what its unconverged cells cost and the random numbers
    # are drawn in the same cell order as a boolean mask would draw them
    shape = target.shape
    target, sigma_prog = target.reshape(-1), sigma_prog.expand(shape).reshape(-1)
    codes = None if codes is None else codes.reshape(-1)

    def attempt(cells: torch.Tensor | None) -> torch.Tensor:
        """One open-loop pulse on ``cells`` (indices; ``None``: every cell)."""
        t, s = (target, sigma_prog) if cells is None else (target[cells], sigma_prog[cells])
        z = torch.randn(t.numel(), generator=gen, dtype=torch.float64)
        landed = (t + s * z).clamp(min=0.0)
        if codes is None:
            return landed
        return apply_faults(landed, codes if cells is None else codes[cells], faults)

    g = attempt(None)
    pulses = torch.ones_like(target, dtype=torch.int64)
    if method != "write_verify":
        return ProgramResult(g.reshape(shape), pulses.reshape(shape),
                             torch.ones(shape, dtype=torch.bool))

    window = torch.clamp(tolerance * target, min=atol_s)

    def verify(cells: torch.Tensor | None) -> torch.Tensor:
        """One verify read of ``cells`` (indices; ``None``: every cell): inside the window?"""
        gc, tc, wc = (g, target, window) if cells is None else (g[cells], target[cells], window[cells])
        z = torch.randn(gc.numel(), generator=gen, dtype=torch.float64)
        return ((gc + tech.read_sigma(gc) * z) - tc).abs() <= wc

    # a cell that passed its verify read is done; the others get another pulse
    ok = verify(None)
    todo = torch.nonzero(~ok).reshape(-1)
    for _ in range(max_pulses - 1):
        if todo.numel() == 0:
            break
        g[todo] = attempt(todo)
        pulses[todo] += 1
        passed = verify(todo)
        ok[todo] = passed
        todo = todo[~passed]
    return ProgramResult(g.reshape(shape), pulses.reshape(shape), ok.reshape(shape))


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
    fault_codes: torch.Tensor | None = None, **kwargs,
) -> ProgramResult:
    """One cell of every pair: ``g_min + magnitude``; with ``idle="reset"`` the cells whose
    magnitude is 0 get one RESET pulse to the technology's off state instead of a write to
    ``g_min`` (a faulty idle cell stays at its fault conductance)."""
    target = tech.g_min_s + magnitude_s
    if idle == "program":
        return program_conductances(target, tech, method, seed=gen, fault_codes=fault_codes,
                                    **kwargs)
    active = magnitude_s > 0
    g = torch.empty_like(target)
    pulses = torch.ones_like(target, dtype=torch.int64)
    converged = torch.ones_like(target, dtype=torch.bool)
    codes = None if fault_codes is None else torch.as_tensor(fault_codes).reshape(target.shape)
    if bool(active.any()):
        written = program_conductances(
            target[active], tech, method, seed=gen,
            fault_codes=None if codes is None else codes[active], **kwargs)
        g[active], pulses[active], converged[active] = (
            written.conductance_s, written.pulses, written.converged)
    n_idle = int((~active).sum())
    if n_idle:
        off = tech.sample_pairs(n_idle, seed=gen).off
        g[~active] = off if codes is None else apply_faults(off, codes[~active], tech.faults)
    return ProgramResult(g, pulses, converged)


def program_weights(
    weights_s: torch.Tensor,
    tech: Technology | str = "taox_post_verify_static",
    method: str = "write_verify",
    *,
    idle: str = "reset",
    fault_codes: torch.Tensor | None = None,
    **kwargs,
) -> tuple[torch.Tensor, ProgramResult, ProgramResult]:
    """Program signed weights (siemens) as differential pairs G+ - G-.

    A positive weight ``w`` programs ``G+ = g_min + w``; a negative one ``G- = g_min + |w|``.
    The other cell of the pair is *idle*: with ``idle="reset"`` (default) it gets one RESET
    pulse to the technology's off state (its device-to-device off-state spread, no verify), as
    differential arrays park the unused device in the low-conductance state; with
    ``idle="program"`` it is programmed to ``g_min`` like any target. Which one the paper's
    baseline did is not published. ``|w|`` must not exceed ``g_max_s - g_min_s`` of the
    technology (rescale trained weights first). ``fault_codes`` (shape ``weights.shape + (2,)``:
    the G+ and the G- cell of each pair, :mod:`rrampaper.devices.faults`) pins faulty cells.
    Keyword arguments go to :func:`program_conductances` (both cells draw from the same
    generator).

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
    codes_plus = codes_minus = None
    if fault_codes is not None:
        codes = torch.as_tensor(fault_codes, dtype=torch.int8)
        if tuple(codes.shape) != (*w.shape, 2):
            raise ValueError(
                f"fault_codes has shape {tuple(codes.shape)}, expected {(*w.shape, 2)}")
        codes_plus, codes_minus = codes[..., 0], codes[..., 1]
    gen = as_generator(kwargs.pop("seed", 0))
    plus = _program_side(w.clamp(min=0), tech, method, gen, idle, codes_plus, **kwargs)
    minus = _program_side((-w).clamp(min=0), tech, method, gen, idle, codes_minus, **kwargs)
    return plus.conductance_s - minus.conductance_s, plus, minus
