"""Turn any PyTorch model into a randomly weighted, prunable one, and read its state.

:func:`make_prunable` replaces every ``nn.Linear``, ``nn.Conv2d`` and single-layer ReLU
``nn.RNN`` of a model by its prunable twin (:mod:`rrampaper.topology.layers`,
:mod:`rrampaper.topology.rnn`), whose weights are fixed random values (software) or device
conductances (hardware) and whose trainable parameters are one score per weight. Normalization
layers are left as they are (their affine parameters, if any, stay trainable); any other module
with parameters is refused unless listed in ``exclude``.

The model-level helpers address every masked tensor by the name of the parameter it replaced
(``"conv1.weight"``, ``"rnn.weight_ih_l0"``): :func:`masked_weights`,
:func:`programming_counts`, :func:`reset_programming_counts`, :func:`realized_density`,
:func:`masks`, :func:`restart_eval_reads`, :func:`set_read_policy`, :func:`invalidate_masks`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import torch
from torch import Tensor, nn

from rrampaper._checks import check_choice, check_range
from rrampaper.topology.layers import PrunableConv2d, PrunableLinear
from rrampaper.topology.limit_size import LimitSizeSchedule
from rrampaper.topology.masked_weight import MaskedWeight
from rrampaper.topology.reads import READ_POLICIES, restart_eval_reads, set_read_policy  # noqa: F401 (re-exported)
from rrampaper.topology.rnn import PrunableRNN
from rrampaper.topology.weights import (
    RELU_GAIN,
    SOFTWARE_INITIALIZERS,
    WeightDevice,
    is_device,
    signed_kaiming_std,
)

PRUNABLE_LAYERS = (PrunableLinear, PrunableConv2d, PrunableRNN)
"""The layer classes :func:`make_prunable` produces."""

_NORMALIZATION = (
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
)
_WEIGHT_NAMES = tuple(SOFTWARE_INITIALIZERS) + ("keep",)


def _rnn_problem(rnn: nn.RNN) -> str | None:
    """Why ``rnn`` cannot be converted, or ``None`` if it can."""
    if rnn.mode != "RNN_RELU":
        return "only nonlinearity='relu' is supported"
    if rnn.num_layers != 1:
        return f"only num_layers=1 is supported (got {rnn.num_layers})"
    if rnn.bidirectional:
        return "bidirectional RNNs are not supported"
    return None


def _check_convertible(model: nn.Module, exclude: set[str]) -> list[tuple[str, nn.Module]]:
    """All modules to convert, in ``named_modules`` order; raise for unsupported ones."""
    names = {name for name, _ in model.named_modules()}
    unknown = sorted(e for e in exclude if e not in names)
    if unknown:
        raise ValueError(f"exclude names modules the model does not have: {unknown}")
    found: list[tuple[str, nn.Module]] = []
    skipped: list[str] = []
    for name, module in model.named_modules(remove_duplicate=True):
        if any(name == e or name.startswith(e + ".") for e in exclude):
            continue
        if isinstance(module, nn.RNN):
            problem = _rnn_problem(module)
            if problem:
                raise ValueError(f"cannot make {name or 'model'} ({module!r}) prunable: {problem}")
            found.append((name, module))
        elif isinstance(module, nn.Linear | nn.Conv2d):
            if (
                isinstance(module, nn.modules.lazy.LazyModuleMixin)
                and module.has_uninitialized_params()
            ):
                raise ValueError(f"{name or 'model'} is a lazy module: run one forward first")
            found.append((name, module))
        elif isinstance(module, PRUNABLE_LAYERS):
            raise ValueError(f"{name or 'model'} is already prunable")
        elif not isinstance(module, _NORMALIZATION) and any(
            True for _ in module.parameters(recurse=False)
        ):
            skipped.append(f"{name or 'model'} ({type(module).__name__})")
    if skipped:
        raise ValueError(
            "these modules have parameters but are not nn.Linear, nn.Conv2d, a ReLU nn.RNN or a "
            f"normalization layer: {', '.join(skipped)}; pass their names in exclude=[...] to "
            "leave them dense and trainable"
        )
    return found


class _Builder:
    """Makes one :class:`MaskedWeight` per weight tensor, drawing from one generator in order."""

    def __init__(
        self,
        weights: str | WeightDevice,
        keep_ratio: float,
        limit_size: LimitSizeSchedule | None,
        generator: torch.Generator | None,
        gain: float,
        train_reads: str,
        eval_reads: str,
    ) -> None:
        self.weights = weights
        self.keep_ratio = keep_ratio
        self.limit_size = limit_size
        self.generator = generator
        self.gain = gain
        self.train_reads = train_reads
        self.eval_reads = eval_reads

    def scores(self, shape: tuple[int, ...]) -> Tensor:
        """PyTorch's default layer init: ``kaiming_uniform_(a=sqrt(5))``, i.e. U(±1/sqrt(fan_in))."""
        scores = torch.empty(shape)
        nn.init.kaiming_uniform_(scores, a=math.sqrt(5), generator=self.generator)
        return scores

    def __call__(self, original: Tensor) -> MaskedWeight:
        shape = tuple(original.shape)
        device, dtype = original.device, original.dtype
        common = {"keep_ratio": self.keep_ratio, "limit_size": self.limit_size}
        if is_device(self.weights):
            array = self.weights.allocate(shape)  # type: ignore[union-attr]
            kept_scale = float(array.kept_scale)
            if not kept_scale > 0:
                raise ValueError(
                    f"the device array's kept_scale={kept_scale!r} must be > 0 siemens"
                )
            inv_scale = signed_kaiming_std(shape, self.keep_ratio, self.gain) / kept_scale
            scores = self.scores(shape).to(device=device, dtype=dtype)
            return MaskedWeight(
                scores,
                array=array,
                inv_scale=inv_scale,
                train_reads=self.train_reads,
                eval_reads=self.eval_reads,
                **common,
            )
        if self.weights == "keep":
            weight = original.detach().clone()
        else:
            init = SOFTWARE_INITIALIZERS[self.weights]  # type: ignore[index]
            weight = init(
                shape, keep_ratio=self.keep_ratio, gain=self.gain, generator=self.generator
            ).to(device=device, dtype=dtype)
        scores = self.scores(shape).to(device=device, dtype=dtype)
        return MaskedWeight(scores, weight=weight, **common)


def _convert(module: nn.Module, build: _Builder) -> nn.Module:
    """The prunable twin of one supported module."""
    if isinstance(module, nn.RNN):
        return PrunableRNN(
            build(module.weight_ih_l0),
            build(module.weight_hh_l0),
            bias_ih=getattr(module, "bias_ih_l0", None) if module.bias else None,
            bias_hh=getattr(module, "bias_hh_l0", None) if module.bias else None,
            batch_first=module.batch_first,
            hidden_quantizer=getattr(module, "hidden_quantizer", None),
        )
    if isinstance(module, nn.Conv2d):
        return PrunableConv2d.from_conv(module, build(module.weight))
    return PrunableLinear(build(module.weight), module.bias)


def make_prunable(
    model: nn.Module,
    weights: str | WeightDevice = "kaiming_normal",
    *,
    keep_ratio: float = 0.5,
    limit_size: LimitSizeSchedule | float | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    gain: float = RELU_GAIN,
    train_reads: str = "advance",
    eval_reads: str = "advance",
    exclude: Iterable[str] = (),
) -> nn.Module:
    """Convert every ``nn.Linear``, ``nn.Conv2d`` and ReLU ``nn.RNN`` of ``model`` in place.

    Parameters
    ----------
    model:
        Any model. It is modified in place and returned; if ``model`` itself is a convertible
        layer, a new module is returned, so always use the return value.
    weights:
        ``"kaiming_normal"`` (``std = gain / sqrt(fan_in)``), ``"signed_constant"``
        (``±gain / sqrt(keep_ratio * fan_in)``), ``"keep"`` (the model's own weights), or a device
        (hardware mode): any object with ``allocate(shape)``, called once per weight tensor in
        module order (see :class:`~rrampaper.topology.weights.WeightDevice`).
    keep_ratio:
        Fraction of each layer's weights kept, in (0, 1]: exactly ``ceil(keep_ratio * numel)``.
    limit_size:
        The limit-size rule's threshold: a :class:`LimitSizeSchedule` (shared by every layer, so
        that one ``schedule.step()`` moves them all), a constant float, or ``None`` (plain top-k).
    seed, generator:
        Randomness of the software weights and the scores (at most one of the two). Both
        ``None``: PyTorch's global generator. Per weight tensor, in module order, the weights are
        drawn first, then the scores.
    gain:
        Kaiming gain of the initializers and of the hardware scale (ReLU: ``sqrt(2)``).
    train_reads, eval_reads:
        Hardware read policies in training / evaluation mode: ``"advance"`` (a fresh read per
        forward), ``"fixed"`` (the same read) or ``"noiseless"``; see
        :mod:`rrampaper.topology.masked_weight`.
    exclude:
        Dotted module names to leave dense and trainable (with everything inside them).

    Returns
    -------
    The model, whose only trainable parameters are now the scores, the affine parameters of its
    normalization layers and whatever ``exclude`` left alone.

    Examples
    --------
    >>> net = make_prunable(nn.Sequential(nn.Linear(4, 8, bias=False), nn.ReLU()), seed=0)
    >>> [name for name, p in net.named_parameters()]
    ['0.masked.scores']
    >>> programming_counts(net)
    {'0.weight': {'set': 0, 'reset': 0, 'initial_resets': 0}}
    """
    if isinstance(weights, str):
        check_choice("weights", weights, _WEIGHT_NAMES)
    elif not is_device(weights):
        raise ValueError(
            f"weights={weights!r} is neither one of {_WEIGHT_NAMES} nor a device with allocate()"
        )
    check_range("keep_ratio", keep_ratio, 0.0, 1.0, low_open=True)
    check_range("gain", gain, 0.0, low_open=True)
    check_choice("train_reads", train_reads, READ_POLICIES)
    check_choice("eval_reads", eval_reads, READ_POLICIES)
    if seed is not None and generator is not None:
        raise ValueError("give seed or generator, not both")
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
    if limit_size is not None and not isinstance(limit_size, LimitSizeSchedule):
        limit_size = LimitSizeSchedule.constant(float(check_range("limit_size", limit_size, 0.0)))
    build = _Builder(weights, keep_ratio, limit_size, generator, gain, train_reads, eval_reads)
    targets = _check_convertible(model, set(exclude))
    converted = {id(module): _convert(module, build) for _, module in targets}
    if id(model) in converted:
        _attach_readout(weights, converted[id(model)])
        return converted[id(model)]
    links = [
        (parent, attr, child)
        for _, parent in model.named_modules(remove_duplicate=False)
        for attr, child in parent._modules.items()  # named_children() would skip shared ones
        if child is not None and id(child) in converted
    ]
    for parent, attr, child in links:  # every reference, so that shared layers stay shared
        setattr(parent, attr, converted[id(child)])
    _attach_readout(weights, model)
    return model


def _attach_readout(weights: str | WeightDevice, model: nn.Module) -> None:
    """Let a device that has a read-out model (an output ADC) wrap the converted layers'
    outputs: ``weights.attach_readout(model, layer_types=...)`` when it has one."""
    attach = getattr(weights, "attach_readout", None)
    if callable(attach):
        attach(model, layer_types=(PrunableLinear, PrunableConv2d))


def masked_weights(model: nn.Module) -> Iterator[tuple[str, MaskedWeight]]:
    """``(name, MaskedWeight)`` of every masked tensor, named after the parameter it replaced."""
    for layer_name, layer in model.named_modules():
        if isinstance(layer, PRUNABLE_LAYERS):
            for suffix, masked in layer.masked_weights().items():
                yield (f"{layer_name}.{suffix}" if layer_name else suffix), masked


def programming_counts(model: nn.Module) -> dict[str, dict[str, int]]:
    """SET/RESET operations per masked tensor since the last :func:`reset_programming_counts`.

    Returns ``{name: {"set": int, "reset": int, "initial_resets": int}}``: ``set`` counts pairs
    reinstated (pruned -> kept), ``reset`` pairs pruned (kept -> pruned) at every mask change;
    ``initial_resets`` the pairs pruned by the very first mask (all pairs start formed). Reading
    copies the counters to the host: call it at the end of an epoch, not every step.
    """
    counts = {}
    for name, masked in masked_weights(model):
        values = masked.counts.tolist()
        counts[name] = dict(zip(("set", "reset", "initial_resets"), values, strict=True))
    return counts


def reset_programming_counts(model: nn.Module) -> None:
    """Zero every SET/RESET counter (``initial_resets`` stays), e.g. at the start of an epoch."""
    for _, masked in masked_weights(model):
        masked.reset_counts()


def realized_density(model: nn.Module) -> dict[str, float]:
    """Kept fraction of each masked tensor's current mask (drifts from keep_ratio only with the
    limit-size rule)."""
    return {name: float(masked.density()) for name, masked in masked_weights(model)}


def masks(model: nn.Module) -> dict[str, Tensor]:
    """The current mask of every masked tensor, as a new boolean tensor (``True`` = kept)."""
    return {name: masked.current_mask() > 0.5 for name, masked in masked_weights(model)}


def invalidate_masks(model: nn.Module) -> None:
    """Force every mask to be recomputed at the next forward (needed only after replacing
    ``scores.data`` by hand; in-place updates are detected)."""
    for _, masked in masked_weights(model):
        masked.invalidate()


