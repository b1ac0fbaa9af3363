"""Weights that live in programmed differential pairs and are read with noise at every forward.

:class:`DeviceWeight` is a :mod:`torch.nn.utils.parametrize` parametrization: it replaces a
layer's ``weight`` (or an RNN's ``weight_ih_l0``, ...) by the device's version of it,

    w = (G+ - G- + sigma_read ⊙ z_i) / scale_s,

where ``G+``, ``G-`` are the programmed conductances of the pair (siemens), ``sigma_read`` the
technology's cycle-to-cycle read sigma of the difference of two independently read cells
(:func:`rrampaper.devices.array.combined_sigma`), ``z_i`` standard normal noise of read ``i`` and
``scale_s`` the mapping (siemens per weight unit, :func:`weight_scale_s`). Biases and
normalization layers are not touched: they stay digital.

**Mapping** (:func:`weight_scale_s`). ``"per_layer"``: one ``scale_s = (g_max - g_min) / max|W|``
per tensor, so the largest weight uses the full differential range and the digital periphery
multiplies the column currents by ``1 / scale_s`` (aihwkit ``MappingParameter``:
``weight_scaling_omega`` maps the abs-max of the weights to the largest device value).
``"per_channel"``: one scale per output channel (row of ``W``, dim 0), as aihwkit's
``weight_scaling_columnwise``. A weight ``w`` programs ``G+ = g_min + scale_s * max(w, 0)`` and
``G- = g_min + scale_s * max(-w, 0)`` (:func:`rrampaper.devices.program_weights`).

**Reads** mirror the topology-optimization layers (:mod:`rrampaper.topology.masked_weight`):
one read per forward of the layer, its index chosen by the policy of the current mode
(``train_reads`` / ``eval_reads``): ``"advance"`` (a fresh read per forward, the counter goes up
by one), ``"fixed"`` (the counter's read every time) or ``"noiseless"`` (no read noise). A read
is deterministic given ``(seed, key, read index)`` and the torch device it is drawn on; call
:func:`restart_eval_reads` before every evaluation so that each evaluation sees the same reads.
Inside a forward the layer may access its weight several times (``nn.RNN`` does): it gets the
same read. Outside a forward, ``layer.weight`` is the programmed weight without read noise and
nothing advances.

**Gradient.** With ``straight_through=True`` (in-situ training) the gradient with respect to
the device weight is passed unchanged to the float parameter the parametrization wraps (the
"shadow" weight the optimizer updates); otherwise the programmed weight does not depend on it.

Serialize such a model with ``state_dict()`` (buffers ``g_plus``, ``g_minus``, ``read_sigma``,
``scale``; read counters as extra state), as :mod:`torch.nn.utils.parametrize` requires. Move it
with ``.to(device)``; a dtype cast (``.half()``, ``.double()``) would cast these buffers too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from rrampaper._checks import check_choice, check_positive_int
from rrampaper.devices.streams import ReadStream
from rrampaper.topology.reads import ReadSequence, restart_eval_reads, set_read_policy  # noqa: F401 (re-exported)

WEIGHT_SCALES: tuple[str, ...] = ("per_layer", "per_channel")
"""Ways to map weights to conductances; see :func:`weight_scale_s`."""


def weight_scale_s(weight: Tensor, span_s: float, mode: str = "per_layer") -> Tensor:
    """Siemens per weight unit so that ``max |weight|`` maps to ``span_s`` (= g_max - g_min).

    ``"per_layer"`` returns a 0-d tensor, ``"per_channel"`` a tensor of shape
    ``[out, 1, ..., 1]`` (one scale per row along dim 0). An all-zero tensor or row gets the
    scale of a maximum of 1 (its weights are 0 whatever the scale). float64.
    """
    check_choice("weight_scale", mode, WEIGHT_SCALES)
    magnitude = weight.detach().abs().double()
    if mode == "per_layer" or magnitude.dim() < 2:
        biggest = magnitude.max()
    else:
        biggest = magnitude.reshape(magnitude.shape[0], -1).amax(dim=1)
        biggest = biggest.reshape(-1, *([1] * (magnitude.dim() - 1)))
    biggest = torch.where(biggest > 0, biggest, torch.ones_like(biggest))
    return span_s / biggest


class DeviceWeight(ReadSequence, nn.Module):
    """Parametrization: the programmed differential pairs of one weight tensor, read per forward.

    Parameters
    ----------
    g_plus_s, g_minus_s:
        Programmed conductances of the two cells of each pair (siemens), the weight's shape.
    read_sigma_s:
        Read-noise standard deviation of ``G+ - G-`` (siemens), the weight's shape.
    scale_s:
        Siemens per weight unit, broadcastable to the weight's shape.
    seed, key:
        The read noise of read ``i`` comes from ``ReadStream(seed, *key)``
        (:mod:`rrampaper.devices.streams`, the chip's read noise); ``key`` tells tensors of one
        model apart.
    train_reads, eval_reads:
        Read policies (``"advance"``, ``"fixed"``, ``"noiseless"``) in ``train()`` and
        ``eval()`` mode.
    straight_through:
        Pass the gradient of the device weight to the wrapped float parameter.
    """

    def __init__(
        self,
        g_plus_s: Tensor,
        g_minus_s: Tensor,
        read_sigma_s: Tensor,
        scale_s: Tensor | float,
        *,
        seed: int,
        key: Iterable[int],
        train_reads: str = "advance",
        eval_reads: str = "advance",
        straight_through: bool = False,
    ) -> None:
        super().__init__()
        if g_plus_s.shape != g_minus_s.shape or g_plus_s.shape != read_sigma_s.shape:
            raise ValueError(
                f"g_plus_s {tuple(g_plus_s.shape)}, g_minus_s {tuple(g_minus_s.shape)} and "
                f"read_sigma_s {tuple(read_sigma_s.shape)} must have the same shape"
            )
        device = g_plus_s.device
        self.register_buffer("g_plus", g_plus_s.detach().float().clone())
        self.register_buffer("g_minus", g_minus_s.detach().float().to(device).clone())
        self.register_buffer("read_sigma", read_sigma_s.detach().float().to(device).clone())
        scale = torch.as_tensor(scale_s, dtype=torch.float64).to(device).clone()
        if not bool((scale > 0).all()):
            raise ValueError("scale_s must be > 0 siemens per weight unit")
        self.register_buffer("scale", scale)  # float64: the mapping targets are exact
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.key = tuple(check_positive_int("key", k, minimum=0) for k in key)
        self._stream = ReadStream(self.seed, *self.key)
        self.init_reads(train_reads, eval_reads)
        self.straight_through = bool(straight_through)
        self._in_forward = False
        self._cache: Tensor | None = None

    @property
    def shape(self) -> torch.Size:
        """Shape of the weight tensor."""
        return self.g_plus.shape

    # ------------------------------------------------------------------ reads


    @torch.no_grad()
    def effective_weight(self, read_index: int | None = None) -> Tensor:
        """The weight of read ``read_index`` (``None``: without read noise); nothing advances."""
        return self._device_weight(read_index)

    def programmed_weight(self) -> Tensor:
        """``(G+ - G-) / scale``: the programmed weight without read noise (float32)."""
        return self.effective_weight(None)

    def _device_weight(self, read_index: int | None) -> Tensor:
        delta = self.g_plus - self.g_minus
        if read_index is not None:
            (delta,) = self._stream.read(read_index, [delta], [self.read_sigma])
        return delta / self.scale.to(delta.dtype)

    # ------------------------------------------------------------------ parametrization
    def begin_forward(self) -> None:
        """Called before the owning layer's forward: the next access draws this forward's read."""
        self._in_forward = True
        self._cache = None

    def end_forward(self) -> None:
        """Called after the owning layer's forward (also when it raised)."""
        self._in_forward = False
        self._cache = None

    def forward(self, original: Tensor) -> Tensor:
        """The weight the layer computes with (see the module docs)."""
        if self._in_forward:
            if self._cache is None:
                self._cache = self._weight(self.next_read_index(), original)
            return self._cache
        return self._weight(None, original)

    def _weight(self, read_index: int | None, original: Tensor) -> Tensor:
        with torch.no_grad():
            value = self._device_weight(read_index).to(original.dtype)
        if self.straight_through:
            return value + (original - original.detach())
        return value

    def get_extra_state(self) -> dict[str, Any]:
        """Read counters, for checkpoints."""
        return self.read_state()

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.load_read_state(state)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = None  # never copy this forward's autograd graph
        state["_in_forward"] = False
        return state

    def extra_repr(self) -> str:
        return (
            f"shape={tuple(self.shape)}, train_reads={self.train_reads!r}, "
            f"eval_reads={self.eval_reads!r}, straight_through={self.straight_through}"
        )


# ---------------------------------------------------------------------------------------
# Attaching to layers and model-level helpers
# ---------------------------------------------------------------------------------------
def _begin(module: nn.Module, args: Any) -> None:
    for parametrization in _own(module):
        parametrization.begin_forward()


def _end(module: nn.Module, args: Any, output: Any) -> None:
    for parametrization in _own(module):
        parametrization.end_forward()
    if isinstance(module, nn.RNNBase):
        # nn.RNN keeps the weights of its last forward in _flat_weights; keep no graph there
        module._flat_weights = [
            w.detach() if isinstance(w, Tensor) else w for w in module._flat_weights
        ]


def _own(module: nn.Module) -> Iterator[DeviceWeight]:
    if not parametrize.is_parametrized(module):
        return
    for plist in module.parametrizations.values():
        for parametrization in plist:
            if isinstance(parametrization, DeviceWeight):
                yield parametrization


def programmable_weights(
    model: nn.Module, exclude: Iterable[str] = ()
) -> list[tuple[str, nn.Module, str]]:
    """``(name, module, attribute)`` of every weight a baseline puts on the device.

    Weights of ``nn.Linear``, ``nn.Conv1d/2d/3d`` and every ``weight_*`` of ``nn.RNN``/``nn.LSTM``/
    ``nn.GRU``, in ``named_modules`` order, named after the parameter (``"fc1.weight"``,
    ``"rnn.weight_hh_l0"``); modules named in ``exclude`` (and everything inside them) stay
    digital. Raises ``ValueError`` for lazy or already programmed modules.
    """
    excluded = set(exclude)
    found: list[tuple[str, nn.Module, str]] = []
    for name, module in model.named_modules():
        if any(name == e or name.startswith(e + ".") for e in excluded):
            continue
        if isinstance(module, nn.RNNBase):
            attributes = [n for n in module._flat_weights_names if n.startswith("weight")]
        elif isinstance(module, nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d):
            attributes = ["weight"]
        else:
            continue
        if (
            isinstance(module, nn.modules.lazy.LazyModuleMixin)
            and module.has_uninitialized_params()
        ):
            raise ValueError(f"{name or 'model'} is a lazy module: run one forward first")
        if any(True for _ in _own(module)):
            raise ValueError(f"{name or 'model'} is already programmed on a device")
        for attribute in attributes:
            found.append((f"{name}.{attribute}" if name else attribute, module, attribute))
    return found


def attach(module: nn.Module, attribute: str, parametrization: DeviceWeight) -> None:
    """Make ``module.<attribute>`` the device weight ``parametrization`` (in place)."""
    parametrize.register_parametrization(module, attribute, parametrization, unsafe=True)
    if not getattr(module, "_rrampaper_device_hooks", False):
        module.register_forward_pre_hook(_begin)
        module.register_forward_hook(_end, always_call=True)
        module._rrampaper_device_hooks = True


def device_weights(model: nn.Module) -> Iterator[tuple[str, DeviceWeight]]:
    """``(name, DeviceWeight)`` of every device weight, named after the parameter it replaced."""
    for module_name, module in model.named_modules():
        if not parametrize.is_parametrized(module):
            continue
        for attribute, plist in module.parametrizations.items():
            for parametrization in plist:
                if isinstance(parametrization, DeviceWeight):
                    yield (
                        (f"{module_name}.{attribute}" if module_name else attribute),
                        parametrization,
                    )


def shadow_weight(model: nn.Module, name: str) -> Tensor:
    """The float parameter wrapped by the device weight ``name`` (the trained or shadow weight)."""
    module_name, _, attribute = name.rpartition(".")
    module = model.get_submodule(module_name)
    return module.parametrizations[attribute].original


def programmed_weights(model: nn.Module) -> dict[str, Tensor]:
    """The programmed weight (no read noise, weight units) of every device weight."""
    return {name: dw.programmed_weight() for name, dw in device_weights(model)}


