"""Crossbar read-out non-idealities, each switchable: conductance levels, output ADC, IR drop.

* :func:`quantize_levels` rounds target conductances to ``n_levels`` equally spaced levels
  (a multi-level cell that can only be programmed to a few states); ``None`` = off.
* :func:`adc_quantize` / :class:`OutputADC` / :func:`attach_output_adc` quantize the analog
  output of a matrix-vector multiplication (MVM) with a symmetric uniform ADC and a
  straight-through gradient; ``bits=None`` = off.
* :func:`ir_drop_factor` applies a first-order wire-resistance (IR drop) correction to the
  conductances of a tiled crossbar; ``r_wire_ohm=0`` or ``None`` = off.

Reported numbers a study can sweep are kept as constants (:data:`REPORTED_LEVELS`,
:data:`REPORTED_ADC_BITS`, :data:`MILO_WIRE_RESISTANCE_OHM`, :data:`MILO_TILE`), each with
its source and how it was checked (primary: read in the publisher's text; secondary: read only
in a third-party summary of the paper, a lead to confirm).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from rrampaper._checks import check_positive_int, check_range
from rrampaper.errors import ParameterError

#: Reported numbers of programmable conductance levels per cell: name -> (levels, source).
REPORTED_LEVELS: dict[str, tuple[int, str]] = {
    "milo_ted2021": (
        9,
        "V. Milo et al., IEEE TED 2021: HRS + 8 LRS levels per device (9 levels); a "
        "differential pair gives 19 weight levels (Fig. 9a) (secondary)",
    ),
    "yao_nature2020": (
        32,
        "P. Yao et al., Nature 577, 641 (2020): 32 distinguishable conductance states, "
        "'1,024 cells across 32 conductance states without overlap' (Fig. 1c) (secondary)",
    ),
}

#: Reported ADC / output precisions: name -> ((min_bits, max_bits), source).
REPORTED_ADC_BITS: dict[str, tuple[tuple[int, int], str]] = {
    "li_nat_electron_2018": (
        (5, 8),
        "C. Li et al., Nat. Electron. 1, 52 (2018), abstract: 5-8 bit output precision "
        "'depending on the array size' (primary)",
    ),
    "xue_isscc2019": (
        (4, 4),
        "C.-X. Xue et al., ISSCC 2019, 24.1: 4b output via a 3-phase current sense amplifier, "
        "55 nm 1 Mb 1T1R (secondary)",
    ),
    "yao_nature2020": (
        (8, 8),
        "P. Yao et al., Nature 577, 641 (2020): 8-bit ADC in the benchmark model (secondary)",
    ),
}

#: Wire resistance per segment swept by Milo et al., IEEE TED 2021 (Fig. 8b-d), ohm (secondary).
MILO_WIRE_RESISTANCE_OHM: tuple[float, float] = (0.0, 3.0)
#: Tile size of the same study, (rows, columns) (secondary).
MILO_TILE: tuple[int, int] = (32, 32)

#: Layer types whose outputs :func:`attach_output_adc` quantizes by default.
ADC_LAYER_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)

_HANDLE_ATTR = "_rrampaper_adc_handle"


# -- conductance levels ---------------------------------------------------------------------


def quantize_levels(
    g_s: torch.Tensor, n_levels: int | None, g_min_s: float, g_max_s: float
) -> torch.Tensor:
    """Round conductances (siemens) to ``n_levels`` equally spaced levels in ``[g_min_s, g_max_s]``.

    Level ``k`` is ``g_min_s + k * step`` with ``step = (g_max_s - g_min_s) / (n_levels - 1)``,
    ``k = 0 .. n_levels - 1``; values outside the window are first clipped to it, and exact
    ties between two levels round to the even ``k`` (:func:`torch.round`). The error is at
    most ``step / 2`` inside the window, and quantizing twice equals quantizing once.
    ``n_levels=None`` returns ``g_s`` itself (off). Not differentiable (rounding has zero
    gradient): use it on target conductances, not inside a training graph.

    Sources for ``n_levels``: :data:`REPORTED_LEVELS` (9, Milo TED 2021; 32, Yao Nature 2020;
    both secondary).

    Examples
    --------
    >>> g = torch.tensor([0.0, 0.3e-6, 0.6e-6, 2e-6], dtype=torch.float64)
    >>> (quantize_levels(g, 3, 0.0, 1e-6) * 1e6).tolist()   # in uS
    [0.0, 0.5, 0.5, 1.0]
    """
    if n_levels is None:
        return g_s
    n = check_positive_int("n_levels", n_levels, minimum=2)
    check_range("g_min_s", g_min_s, 0.0, unit="S")
    check_range("g_max_s", g_max_s, 0.0, unit="S")
    if not g_max_s > g_min_s:
        raise ParameterError(f"g_max_s={g_max_s!r} S must be above g_min_s={g_min_s!r} S")
    step = (float(g_max_s) - float(g_min_s)) / (n - 1)
    k = torch.round((g_s.clamp(g_min_s, g_max_s) - g_min_s) / step).clamp(0, n - 1)
    return (g_min_s + k * step).to(g_s.dtype)


# -- output ADC -----------------------------------------------------------------------------


def _check_bits(bits: int) -> int:
    # 1 bit cannot be symmetric with zero representable (2**1 - 1 = 1 code: only 0).
    bits = check_positive_int("bits", bits, minimum=2)
    if bits > 16:
        raise ParameterError(f"bits={bits!r} must be an integer in [2, 16]")
    return bits


class _ADCQuantize(torch.autograd.Function):
    """Symmetric uniform quantizer with a clipped straight-through gradient."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx, y: torch.Tensor, full_scale: torch.Tensor, half: int
    ) -> torch.Tensor:
        fs = full_scale.to(dtype=y.dtype, device=y.device)
        if ctx.needs_input_grad[0]:  # the clipping mask only matters for a backward pass
            ctx.save_for_backward(y.abs() <= fs)
        if fs.dim() == 0:  # one range for the whole tensor (OutputADC): fewer passes, same values
            if not bool(fs > 0):
                return torch.zeros_like(y)
            lsb = fs / half
            return torch.clamp(y, -fs, fs).div_(lsb).round_().mul_(lsb)
        positive = fs > 0
        lsb = torch.where(positive, fs / half, torch.ones_like(fs))
        clipped = torch.maximum(torch.minimum(y, fs), -fs)
        q = torch.round(clipped / lsb) * lsb
        return torch.where(positive, q, torch.zeros_like(q))

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (inside,) = ctx.saved_tensors
        return grad * inside.to(grad.dtype), None, None


def adc_quantize(
    y: torch.Tensor, bits: int | None, full_scale: torch.Tensor | float
) -> torch.Tensor:
    """Quantize an analog MVM output with a symmetric ``bits``-bit ADC (straight-through).

    ``y`` is clipped to ``[-full_scale, +full_scale]`` and rounded to one of ``2**bits - 1``
    uniformly spaced codes ``k * LSB``, ``k = -(2**(bits-1) - 1) .. 2**(bits-1) - 1``, with
    ``LSB = full_scale / (2**(bits-1) - 1)`` (ties to even): symmetric, zero is a code, the
    error inside the range is at most ``LSB / 2``. A zero full scale gives 0.

    Gradient (straight-through estimator): ``d out / d y = 1`` where ``|y| <= full_scale`` and
    ``0`` where ``y`` was clipped; ``full_scale`` gets no gradient (a range, not a weight).

    Parameters
    ----------
    y:
        Analog outputs (any unit: currents or already-scaled activations).
    bits:
        ADC resolution, an integer in [2, 16] (1 bit has a single symmetric code, 0, and is
        refused); ``None`` returns ``y`` unchanged. Reported precisions: :data:`REPORTED_ADC_BITS`.
    full_scale:
        Clipping level, ``>= 0``, a float or a tensor broadcastable to ``y`` (same unit as ``y``).
    """
    if bits is None:
        return y
    half = 2 ** (_check_bits(bits) - 1) - 1
    fs = torch.as_tensor(full_scale, dtype=y.dtype, device=y.device).detach()
    if bool(torch.isnan(fs).any()) or bool((fs < 0).any()):
        raise ParameterError("full_scale must be >= 0 (not NaN)")
    return _ADCQuantize.apply(y, fs, half)


class OutputADC(nn.Module):
    """An auto-ranged output ADC: full scale = ``headroom * max|y|`` over the whole tensor.

    The range is recomputed at every forward from the detached output (one range for the whole
    batch and all outputs), so it is an ASSUMPTION of an ideally auto-ranged converter: aihwkit's
    noise management rescales each batch by its absolute maximum in the same spirit, and a fixed
    range can only be worse (clipping or wasted codes). ``headroom < 1`` clips the largest
    outputs, ``> 1`` leaves unused codes.

    Parameters
    ----------
    bits:
        ADC resolution in [2, 16]; ``None`` makes the module the identity.
    headroom:
        Full scale relative to ``max|y|``, in (0, 10].
    """

    def __init__(self, bits: int | None, headroom: float = 1.0) -> None:
        super().__init__()
        self.bits = None if bits is None else _check_bits(bits)
        check_range("headroom", headroom, 0.0, 10.0, low_open=True)
        self.headroom = float(headroom)

    def full_scale(self, y: torch.Tensor) -> torch.Tensor:
        """The full scale used for ``y``: ``headroom * max|y|`` (detached, a 0-d tensor)."""
        if y.numel() == 0:
            return torch.zeros((), dtype=y.dtype, device=y.device)
        low, high = torch.aminmax(y.detach())  # max|y| without a temporary |y| tensor
        return self.headroom * torch.maximum(-low, high)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """``y`` quantized by :func:`adc_quantize` at :meth:`full_scale`."""
        if self.bits is None:
            return y
        return adc_quantize(y, self.bits, self.full_scale(y))

    def extra_repr(self) -> str:
        return f"bits={self.bits}, headroom={self.headroom:g}"


class _ADCHook:
    """Forward hook quantizing a module's tensor output (a top-level class so it pickles)."""

    def __init__(self, adc: OutputADC) -> None:
        self.adc = adc

    def __call__(self, module: nn.Module, inputs: tuple, output):
        if isinstance(output, torch.Tensor):
            return self.adc(output)
        return output


def detach_output_adc(model: nn.Module) -> int:
    """Remove every ADC hook that :func:`attach_output_adc` put on ``model``; return how many."""
    removed = 0
    for module in list(model.modules()):
        handle = module.__dict__.pop(_HANDLE_ATTR, None)
        if handle is not None:
            handle.remove()
            removed += 1
        if getattr(module, "accepts_mvm_readout", False) and module.mvm_readout is not None:
            module.mvm_readout = None
            removed += 1
    return removed


def attach_output_adc(
    model: nn.Module,
    bits: int | None,
    headroom: float = 1.0,
    layer_types: Sequence[type[nn.Module]] | tuple[type[nn.Module], ...] = ADC_LAYER_TYPES,
) -> list[torch.utils.hooks.RemovableHandle]:
    """Quantize the output of every ``layer_types`` module of ``model`` with an :class:`OutputADC`.

    A forward hook is registered on each matching module (``model`` itself included) and its
    handle kept on the module as ``module._rrampaper_adc_handle``; calling again first removes
    the earlier hooks, so ADCs replace rather than stack. ``bits=None`` only detaches. Each
    module has its own auto-ranged full scale (:class:`OutputADC`).

    Recurrent layers that compute their matrix-vector products step by step declare
    ``accepts_mvm_readout = True`` (the package's ReLU RNNs: ``QuantizedRNN``, ``PrunableRNN``);
    they get an :class:`OutputADC` as their ``mvm_readout`` attribute, which they apply to the
    input projection and to every recurrent product. Other recurrent cells (``nn.LSTM``,
    ``nn.GRU``, a plain ``nn.RNN``) keep their products inside the fused module and are not
    quantized. Models holding hooks cannot be saved with ``torch.save(model)`` as whole objects
    while attached (state dicts are unaffected).

    Returns
    -------
    The handles of the new hooks (empty for ``bits=None``).
    """
    detach_output_adc(model)
    if bits is None:
        return []
    types = tuple(layer_types)
    if not types or not all(isinstance(t, type) and issubclass(t, nn.Module) for t in types):
        raise ParameterError("layer_types must be a non-empty sequence of nn.Module classes")
    handles = []
    for module in list(model.modules()):
        if getattr(module, "accepts_mvm_readout", False):
            module.mvm_readout = OutputADC(bits, headroom)
        elif isinstance(module, types):
            handle = module.register_forward_hook(_ADCHook(OutputADC(bits, headroom)))
            module.__dict__[_HANDLE_ATTR] = handle
            handles.append(handle)
    return handles


# -- IR drop --------------------------------------------------------------------------------


def wire_resistance(
    shape: Sequence[int] | torch.Size,
    tile_rows: int,
    tile_cols: int,
    r_wire_ohm: float,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Series wire resistance (ohm) of every cell of a weight of ``shape``.

    ``r_wire_ohm * ((i + 1) + (tile_cols - j))``; the geometry is described in
    :func:`ir_drop_factor`. Returned in ``dtype`` on ``device``, with the shape ``shape``.
    """
    dims = tuple(int(d) for d in shape)
    if len(dims) < 2:
        raise ParameterError(f"shape={dims!r} must have at least 2 dimensions (out, in, ...)")
    rows_t = check_positive_int("tile_rows", tile_rows)
    cols_t = check_positive_int("tile_cols", tile_cols)
    check_range("r_wire_ohm", r_wire_ohm, 0.0, unit="ohm")
    n_out, n_in = dims[0], math.prod(dims[1:])
    i = torch.arange(n_out, device=device) % rows_t
    j = torch.arange(n_in, device=device) % cols_t
    segments = (i + 1)[:, None] + (cols_t - j)[None, :]
    return (float(r_wire_ohm) * segments.to(dtype)).reshape(dims)


def ir_drop_factor(
    shape: Sequence[int] | torch.Size,
    tile_rows: int,
    tile_cols: int,
    r_wire_ohm: float | None,
    g_s: torch.Tensor,
) -> torch.Tensor:
    """First-order IR drop: the effective conductances ``g / (1 + g * R)`` (siemens).

    Despite the name, the function returns the effective conductances ``g_eff``, not the ratio
    ``g_eff / g`` (which is ``1 / (1 + g * R)``).

    Geometry. The weight of ``shape`` ``(out, in, *k)`` is viewed as a 2-D matrix
    ``(out, in * prod(k))`` (conv kernels flattened) and cut into tiles of ``tile_rows`` outputs
    by ``tile_cols`` inputs. Cell ``(i, j)`` of a tile (``i`` = output index mod ``tile_rows``,
    ``j`` = input index mod ``tile_cols``) sits at the crossing of input line ``j`` and output
    line ``i``. Each input line is driven from the ``i = 0`` end, so the signal crosses
    ``i + 1`` wire segments to reach the cell; each output line is sensed past its ``j =
    tile_cols - 1`` end, so the current crosses ``tile_cols - j`` segments. The cell therefore
    sees ``R = r_wire_ohm * ((i + 1) + (tile_cols - j))`` in series; the cell nearest both ends
    (``i = 0, j = tile_cols - 1``) sees 2 segments, the farthest ``tile_rows + tile_cols``.
    Partial edge tiles use the same positions (they sit in a full tile's corner).

    First order only: each cell is a conductance in series with its own path resistance; the
    currents of the other cells sharing the wires (current crowding, the node equations of the
    full resistive network) are ignored, so the real drop of a busy array is larger. No upper or
    lower bound on the accuracy impact is claimed.

    Source for ``r_wire_ohm``: Milo et al., IEEE TED 2021 swept 0-3 ohm per segment on 32 x 32
    tiles (:data:`MILO_WIRE_RESISTANCE_OHM`, :data:`MILO_TILE`; secondary).

    Parameters
    ----------
    shape:
        Weight shape ``(out, in, *k)``; ``g_s`` must broadcast to it.
    tile_rows, tile_cols:
        Tile size in outputs and inputs (positive integers).
    r_wire_ohm:
        Resistance of one wire segment between adjacent cells, ohm; ``0`` or ``None`` = off
        (returns ``g_s`` unchanged).
    g_s:
        Cell conductances, siemens.
    """
    if r_wire_ohm is None or (check_range("r_wire_ohm", r_wire_ohm, 0.0, unit="ohm") == 0):
        return g_s
    r = wire_resistance(
        shape, tile_rows, tile_cols, r_wire_ohm, dtype=g_s.dtype, device=g_s.device
    )
    return g_s / (1.0 + g_s * r)
