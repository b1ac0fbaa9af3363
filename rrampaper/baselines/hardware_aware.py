"""Hardware-aware weight optimization (HWA WO): train the weights with the device's noise injected.

The strongest fair WO baseline is not plain software training but training that already sees
the noise the weights will meet once written (aihwkit's hardware-aware training, Rasch et al.,
Nat. Commun. 14, 5282 (2023)): the model is trained with every programmable weight perturbed,
at every training forward, by Gaussian noise of the device expressed in weight units, and the
trained weights are then programmed unchanged with :func:`rrampaper.baselines.program_model`.

**Noise model** (:func:`weight_noise_sigma`). Each weight tensor is mapped as
:func:`~rrampaper.baselines.program_model` maps it (``weight_scale="per_layer"``:
``scale_s = (g_max - g_min) / max|W|``; ``G+ = g_min + scale_s * max(w, 0)``,
``G- = g_min + scale_s * max(-w, 0)``) and a weight gets

    sigma_w = noise_scale * sqrt(sp(G+)^2 + sp(G-)^2 + sr(G+)^2 + sr(G-)^2) / scale_s

with ``sr`` the technology's cycle-to-cycle ``read_sigma`` and ``sp`` the spread of the
programming method the model will be programmed with (``programming``):

- ``"open_loop"``: ``Technology.programming_sigma`` (one unverified pulse);
- ``"post_verify"``: ``Technology.post_verify_sigma`` (a published post-verify spread);
- ``"write_verify"``: an APPROXIMATION of the write-verify algorithm: the state is taken as
  uniform in its acceptance window ``+- max(tolerance * G, atol_s)`` (the defaults of
  :func:`~rrampaper.baselines.program_model`: 5 %, 0.5 uS), so
  ``sp = window_factor * max(tolerance * G, atol_s)`` with ``window_factor = 1/sqrt(3)``
  (:data:`UNIFORM_WINDOW_FACTOR`, the standard deviation of a uniform law on ``[-1, 1]``).
  It ignores verify reads fooled by read noise, cells that exhaust ``max_pulses`` and an
  open-loop law already narrower than the window.

Both cells use the same formula (the idle cell is modelled at ``g_min``; ``program_model``'s
default ``idle="reset"`` RESETs it instead). Not modelled during training: faulty cells, IR
drop, relaxation, conductance levels. The scale and the sigmas are recomputed from the
current weights at every forward, detached (the noise is a constant of that forward).

**Mechanism** (:class:`NoiseInjection`). A forward pre-hook on every layer holding a
programmable weight (:func:`~rrampaper.baselines.programmable_weights`: ``nn.Linear``,
``nn.Conv1d/2d/3d``, ``nn.RNN``/``LSTM``/``GRU`` including the package's ``QuantizedRNN``)
replaces, for the duration of that layer's forward and in ``train()`` mode only, its weight by
``w + sigma_w * z`` (a forward hook with ``always_call=True`` puts the parameter back). The
parameters, their names and the state dict are those of the plain model: a trained model's
state dict loads into ``task.build_model()`` and :func:`~rrampaper.baselines.program_model`
programs it as it is (a torch parametrization would rename the weights
``parametrizations.weight.original``). The noise is additive and does not depend on the weight
through autograd, so the gradient of the clean weight is the gradient with respect to the noisy
weight (straight-through). ``clip=True`` clips the noisy weight to the mapped range
``[-max|W|, max|W|]`` (per layer or per channel), still straight-through. ``eval()`` mode: no
noise. A layer whose weight was replaced by a device weight (the copy ``program_model`` makes of
such a model) is left alone: the hooks there do nothing.

Noise draw ``i`` of tensor ``k`` (``i`` counts that layer's training forwards) is standard normal
from ``ReadStream(seed, HWA_STREAM, k).normal(i, ...)`` (:mod:`rrampaper.devices.streams`):
reproducible for a seed, different from draw to draw, random access, so a resumed run continues
the sequence (:meth:`NoiseInjection.state_dict`).

**Read-out.** With ``adc=True`` and a technology whose ``adc_bits > 0``, the technology's output
ADC is attached for training and evaluation (:func:`rrampaper.devices.readout.attach_output_adc`,
straight-through gradient), as ``program_model`` attaches it to the programmed model.

Example
-------
>>> import torch
>>> from torch import nn
>>> from rrampaper.baselines import NoiseInjection, program_model
>>> net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
>>> injection = NoiseInjection("taox_post_verify_static", "write_verify", seed=0).attach(net)
>>> x = torch.randn(4, 8)
>>> bool((net.train()(x) != net(x)).any()), torch.equal(net.eval()(x), net(x))
(True, True)
>>> injection.draws
{'0.weight': 2, '2.weight': 2}
>>> chip, report = program_model(net, "taox_post_verify_static", "write_verify", seed=0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from rrampaper._checks import check_bool, check_choice, check_positive_int, check_range
from rrampaper.baselines.device_weight import WEIGHT_SCALES, programmable_weights, weight_scale_s
from rrampaper.baselines.transfer import DEFAULT_ATOL_S, DEFAULT_TOLERANCE, check_write_verify
from rrampaper.devices.programming import check_method
from rrampaper.devices.readout import attach_output_adc, detach_output_adc
from rrampaper.devices.streams import ReadStream
from rrampaper.devices.technologies import Technology, technology
from rrampaper.errors import ParameterError

#: Stream tag of the injected training noise (after the baselines' 11 and 12).
HWA_STREAM = 13

#: Standard deviation of a uniform law on ``[-1, 1]``: the write-verify approximation's factor.
UNIFORM_WINDOW_FACTOR = 1.0 / math.sqrt(3.0)


def programming_sigma_s(
    tech: Technology,
    g_s: Tensor,
    programming: str = "write_verify",
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    atol_s: float = DEFAULT_ATOL_S,
    window_factor: float = UNIFORM_WINDOW_FACTOR,
) -> Tensor:
    """Spread (S) of a cell programmed at ``g_s`` (S) with ``programming`` (see module docs).

    ``"open_loop"``: ``tech.programming_sigma``; ``"post_verify"``: ``tech.post_verify_sigma``
    (raises :class:`~rrampaper.errors.ParameterError` where the technology has none);
    ``"write_verify"``: ``window_factor * max(tolerance * g_s, atol_s)``.
    """
    check_method(programming)
    if programming == "open_loop":
        return tech.programming_sigma(g_s)
    if programming == "post_verify":
        return tech.post_verify_sigma(g_s)
    return window_factor * torch.clamp(tolerance * g_s, min=atol_s)


def weight_noise_sigma(
    weight: Tensor,
    tech: Technology | str,
    programming: str = "write_verify",
    *,
    noise_scale: float = 1.0,
    weight_scale: str = "per_layer",
    tolerance: float = DEFAULT_TOLERANCE,
    atol_s: float = DEFAULT_ATOL_S,
    window_factor: float = UNIFORM_WINDOW_FACTOR,
) -> Tensor:
    """Standard deviation of the injected noise of each weight, in weight units (float64,
    detached, the weight's shape and device): ``noise_scale * sigma_G / scale_s`` with
    ``sigma_G`` the programming and read spread of the pair (module docs)."""
    tech = technology(tech)
    w = weight.detach().double()
    span = tech.g_max_s - tech.g_min_s
    scale = weight_scale_s(w, span, weight_scale).to(w.device)
    g_plus = tech.g_min_s + scale * w.clamp(min=0)
    g_minus = tech.g_min_s + scale * (-w).clamp(min=0)
    variance = torch.zeros_like(w)
    for g in (g_plus, g_minus):
        prog = programming_sigma_s(tech, g, programming, tolerance=tolerance, atol_s=atol_s,
                                   window_factor=window_factor)
        variance = variance + prog.to(w.device, w.dtype) ** 2
        variance = variance + tech.read_sigma(g).to(w.device, w.dtype) ** 2
    return noise_scale * variance.sqrt() / scale


class _Inject:
    """Forward pre-hook: swap the layer's weights for noisy ones (train mode only)."""

    def __init__(self, injection: NoiseInjection, entries: list[tuple[str, str, int]]) -> None:
        self.injection = injection
        self.entries = entries  # (parameter name, attribute, stream key)

    def __call__(self, module: nn.Module, args: Any) -> None:
        if not module.training:
            return
        swapped = {}
        for name, attribute, key in self.entries:
            clean = module._parameters.get(attribute)
            if clean is None:  # replaced by a device weight (a programmed copy): leave it
                continue
            index = self.injection.draws[name]
            self.injection.draws[name] = index + 1
            noisy = clean + self.injection._noise(clean, key, index)
            swapped[attribute] = clean
            _set(module, attribute, noisy)
        module.__dict__["_rrampaper_hwa_clean"] = swapped


class _Restore:
    """Forward hook (always called): put the clean parameters back."""

    def __call__(self, module: nn.Module, args: Any, output: Any) -> None:
        for attribute, clean in module.__dict__.pop("_rrampaper_hwa_clean", {}).items():
            _set(module, attribute, clean)


def _set(module: nn.Module, attribute: str, value: Tensor) -> None:
    # bypass nn.Module.__setattr__ (which refuses a non-Parameter in place of a Parameter)
    module._parameters[attribute] = value
    if isinstance(module, nn.RNNBase):  # nn.RNN computes with its _flat_weights list
        names = module._flat_weights_names
        if attribute in names:
            module._flat_weights[names.index(attribute)] = value


class NoiseInjection:
    """Inject the device's programming and read noise into a model's weights during training.

    Parameters
    ----------
    technology:
        Preset name or :class:`~rrampaper.devices.Technology` (e.g.
        :class:`~rrampaper.devices.ScaledNoise` for a noise sweep) whose noise is injected.
    programming:
        The method the model will be programmed with: ``"open_loop"``, ``"write_verify"``
        (uniform-window approximation) or ``"post_verify"`` (see the module docs).
    noise_scale:
        Multiplier (>= 0) of the injected standard deviation; 1 is the device's own.
    seed:
        Seed of the noise draws (keys ``(seed, HWA_STREAM, k)``, ``k`` the tensor's index in
        :func:`~rrampaper.baselines.programmable_weights` order).
    weight_scale:
        ``"per_layer"`` (``program_model``'s default) or ``"per_channel"``.
    tolerance, atol_s, window_factor:
        Write-verify approximation: ``sp = window_factor * max(tolerance * G, atol_s)``.
    clip:
        Clip the noisy weights to the mapped range (straight-through).
    adc:
        Attach the technology's output ADC when its ``adc_bits > 0``.
    exclude:
        Module names whose weights stay noiseless (as ``program_model``'s ``exclude``).
    """

    def __init__(
        self,
        technology: Technology | str = "taox_post_verify_static",
        programming: str = "write_verify",
        *,
        noise_scale: float = 1.0,
        seed: int = 0,
        weight_scale: str = "per_layer",
        tolerance: float = DEFAULT_TOLERANCE,
        atol_s: float = DEFAULT_ATOL_S,
        window_factor: float = UNIFORM_WINDOW_FACTOR,
        clip: bool = False,
        adc: bool = True,
        exclude: Iterable[str] = (),
    ) -> None:
        self.technology = _technology(technology)
        check_method(programming)
        if programming == "post_verify" and not self.technology.has_post_verify:
            raise ParameterError(
                f"technology {self.technology.name!r} has no published post-verify spread; "
                "train for programming='write_verify' or 'open_loop'")
        self.programming = programming
        check_range("noise_scale", noise_scale, 0.0, 100.0)
        self.noise_scale = float(noise_scale)
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.weight_scale = check_choice("weight_scale", weight_scale, WEIGHT_SCALES)
        check_write_verify(tolerance, atol_s, 1)
        check_range("window_factor", window_factor, 0.0, 10.0)
        self.tolerance, self.atol_s = float(tolerance), float(atol_s)
        self.window_factor = float(window_factor)
        check_bool("clip", clip)
        check_bool("adc", adc)
        self.clip, self.adc = bool(clip), bool(adc)
        self.exclude = tuple(exclude)
        #: Noise draws so far, per parameter name (the index of the next draw).
        self.draws: dict[str, int] = {}
        #: Stream key of each parameter name (its index among the programmable weights).
        self.keys: dict[str, int] = {}
        self._streams: dict[int, ReadStream] = {}
        self._handles: list[Any] = []
        self._model: nn.Module | None = None

    # ------------------------------------------------------------------ attaching
    def attach(self, model: nn.Module) -> NoiseInjection:
        """Hook every programmable weight of ``model`` (in place); returns ``self``."""
        if self._handles:
            raise ParameterError("this NoiseInjection is already attached; call remove() first")
        if any(isinstance(hook, _Inject) for module in model.modules()
               for hook in module._forward_pre_hooks.values()):
            raise ParameterError("model already has a noise injection (a deep copy of a hooked "
                                 "model keeps its hooks): attach to a plain model")
        targets = programmable_weights(model, self.exclude)
        if not targets:
            raise ValueError("model has no nn.Linear, nn.Conv or nn.RNN weight to train noisily")
        per_module: dict[int, tuple[nn.Module, list[tuple[str, str, int]]]] = {}
        for key, (name, module, attribute) in enumerate(targets):
            per_module.setdefault(id(module), (module, []))[1].append((name, attribute, key))
            self.draws.setdefault(name, 0)
            self.keys[name] = key
            self._streams[key] = ReadStream(self.seed, HWA_STREAM, key)
        for module, entries in per_module.values():
            self._handles.append(module.register_forward_pre_hook(_Inject(self, entries)))
            self._handles.append(module.register_forward_hook(_Restore(), always_call=True))
        bits = int(self.technology.adc_bits)
        if self.adc and bits > 0:
            attach_output_adc(model, bits, headroom=self.technology.adc_headroom)
        self._model = model
        return self

    def remove(self) -> None:
        """Remove the hooks (and the ADC this injection attached); the model is plain again."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._model is not None and self.adc and int(self.technology.adc_bits) > 0:
            detach_output_adc(self._model)
        self._model = None

    # ------------------------------------------------------------------ the noise
    def sigma(self, weight: Tensor) -> Tensor:
        """Injected standard deviation of each element of ``weight`` (weight units, float64)."""
        return weight_noise_sigma(
            weight, self.technology, self.programming, noise_scale=self.noise_scale,
            weight_scale=self.weight_scale, tolerance=self.tolerance, atol_s=self.atol_s,
            window_factor=self.window_factor)

    def noise(self, name: str, weight: Tensor, index: int) -> Tensor:
        """The additive noise that draw ``index`` of the parameter ``name`` (``"fc1.weight"``)
        adds to ``weight`` (random access; nothing advances). With ``clip=True`` it includes
        the clipping."""
        if name not in self.keys:
            raise ParameterError(f"no injected weight {name!r}; injected: {list(self.keys)}")
        return self._noise(weight, self.keys[name], index)

    def _noise(self, weight: Tensor, key: int, index: int) -> Tensor:
        with torch.no_grad():
            w = weight.detach()
            z = self._streams[key].normal(index, w.shape, w.device, w.dtype)
            noise = (self.sigma(w) * z).to(w.dtype)
            if self.clip:
                if self.weight_scale == "per_layer" or w.dim() < 2:
                    bound = w.abs().max()
                else:
                    bound = w.abs().reshape(w.shape[0], -1).amax(dim=1)
                    bound = bound.reshape(-1, *([1] * (w.dim() - 1)))
                noise = torch.maximum(torch.minimum(w + noise, bound), -bound) - w
        return noise

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The draw counters (a resumed run continues the noise sequence)."""
        return {"draws": dict(self.draws)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        draws = state.get("draws", {})
        unknown = set(draws) - set(self.draws)
        if self.draws and unknown:
            raise ParameterError(f"noise-injection state names unknown weights {sorted(unknown)}")
        self.draws.update({name: int(n) for name, n in draws.items()})

    def __getstate__(self) -> dict[str, Any]:
        # a deep copy of a hooked model (program_model copies the model) copies this object:
        # the copy keeps its hooks in the copied modules but cannot remove them
        state = self.__dict__.copy()
        state["_handles"] = []
        state["_model"] = None
        return state

    def __repr__(self) -> str:
        return (f"NoiseInjection({self.technology.name!r}, {self.programming!r}, "
                f"noise_scale={self.noise_scale:g}, seed={self.seed}, clip={self.clip}, "
                f"adc={self.adc}, tensors={len(self.draws)})")


class HardwareAwareWO:
    """Training-loop method: hardware-aware weight training (the :class:`NoiseInjection` of
    ``technology`` for ``programming``), then programming with
    :func:`~rrampaper.baselines.program_model` like software WO.

    The hooks are those of :mod:`rrampaper.experiments.approaches` (``build``, ``after_step``,
    ``end_epoch``, ``programming_ops``, ``state_dict``, ``load_state_dict``); training writes
    nothing to the device (``programming_ops`` is all zeros). Keyword arguments other than the
    listed ones go to :class:`NoiseInjection` (``weight_scale``, ``tolerance``, ``atol_s``,
    ``window_factor``, ``clip``, ``adc``, ``exclude``).
    """

    def __init__(
        self,
        technology: Technology | str = "taox_post_verify_static",
        programming: str = "write_verify",
        *,
        noise_scale: float = 1.0,
        seed: int = 0,
        **options: Any,
    ) -> None:
        self.technology, self.programming = technology, programming
        self.noise_scale, self.seed, self.options = noise_scale, seed, options
        self.injection = self._injection()  # validates the parameters now

    def _injection(self) -> NoiseInjection:
        return NoiseInjection(self.technology, self.programming, noise_scale=self.noise_scale,
                              seed=self.seed, **self.options)

    def build(self, model: nn.Module) -> nn.Module:
        """``model`` itself with the noise hooks (and the technology's ADC) attached."""
        if self.injection._handles:
            self.injection = self._injection()
        self.injection.attach(model)
        return model

    def after_step(self, model: nn.Module) -> None:
        """Nothing to do after an optimizer step."""

    def end_epoch(self, model: nn.Module, improved: bool) -> None:
        """Nothing to do at the end of an epoch."""

    def programming_ops(self, model: nn.Module) -> dict[str, int]:
        """No device programming during training."""
        return {"set": 0, "reset": 0}

    def state_dict(self) -> dict[str, Any]:
        return self.injection.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.injection.load_state_dict(state)


def _technology(tech: Technology | str) -> Technology:
    return technology(tech)
