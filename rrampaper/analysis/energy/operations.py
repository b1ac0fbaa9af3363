"""Operation counts per layer, from an actual forward pass (or, for the U-Net, its architecture).

Every ``nn.Conv2d``, ``nn.Linear`` and ``nn.RNN`` of a dense model (count the model before
:func:`rrampaper.topology.make_prunable`: pruning changes which pairs conduct, not the shapes)
is mapped onto a crossbar of ``rows x cols`` differential pairs:

=========  ===========================  ========  =================================
layer      rows (inputs per read)       cols      crossbar reads per sample
=========  ===========================  ========  =================================
Conv2d     C_in * kh * kw               C_out     output positions H_out * W_out
Linear     in_features                  out       leading elements (1 for [B, F])
RNN        input_size + hidden_size     hidden    time steps T (W_ih and W_hh stacked)
=========  ===========================  ========  =================================

so that ``macs = reads * rows * cols``, ``dac = reads * rows`` input conversions and
``adc = reads * cols`` output conversions per sample. The counts come from forward hooks, so
they follow the model's real shapes (strides, pooling, sequence length).

Examples
--------
>>> import torch
>>> from torch import nn
>>> ops = count_operations(nn.Sequential(nn.Linear(4, 3, bias=False)), torch.zeros(1, 4))
>>> ops[["weights", "rows", "cols", "reads", "macs"]].to_dict("records")
[{'weights': 12, 'rows': 4, 'cols': 3, 'reads': 1, 'macs': 12}]
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import Tensor, nn

from rrampaper._checks import check_positive_int

#: Columns of an operations table (one row per weight layer, counts per sample).
COLUMNS: tuple[str, ...] = ("kind", "weights", "rows", "cols", "reads", "macs", "dac", "adc",
                            "inputs", "outputs")


def _row(kind: str, weights: int, rows: int, cols: int, reads: int, inputs: int,
         outputs: int) -> dict[str, int | str]:
    return {"kind": kind, "weights": weights, "rows": rows, "cols": cols, "reads": reads,
            "macs": reads * rows * cols, "dac": reads * rows, "adc": reads * cols,
            "inputs": inputs, "outputs": outputs}


def _layer_row(module: nn.Module, x: Tensor, y: Tensor | tuple) -> dict[str, int | str]:
    batch = x.shape[0]
    if isinstance(module, nn.Conv2d):
        if module.groups != 1:
            raise ValueError(f"Conv2d with groups={module.groups} is not supported: a crossbar "
                             "maps dense convolutions (groups=1) only")
        rows = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
        reads = y.shape[-2] * y.shape[-1]
        return _row("conv", module.weight.numel(), rows, module.out_channels, reads,
                    x[0].numel(), y[0].numel())
    if isinstance(module, nn.Linear):
        reads = x.numel() // (batch * module.in_features)
        return _row("linear", module.weight.numel(), module.in_features, module.out_features,
                    reads, x[0].numel(), y[0].numel())
    # nn.RNN (single direction): one read of [W_ih | W_hh] per time step
    if getattr(module, "bidirectional", False):
        raise ValueError("bidirectional RNNs are not supported")
    layers = getattr(module, "num_layers", 1)
    steps = x.shape[1] if module.batch_first else x.shape[0]
    batch = x.shape[0] if module.batch_first else x.shape[1]
    rows = module.input_size + module.hidden_size
    out = y[0] if isinstance(y, tuple) else y
    return _row("rnn", rows * module.hidden_size * layers, rows, module.hidden_size,
                steps * layers, x.numel() // batch, out.numel() // batch)


def count_operations(model: nn.Module, example: Tensor) -> pd.DataFrame:
    """Per-layer operation counts of ``model`` for one sample.

    Parameters
    ----------
    model:
        Any PyTorch model; its ``Conv2d``, ``Linear`` and ``RNN`` modules are counted.
    example:
        A batched input; the counts are divided by its batch size.

    Returns
    -------
    pandas.DataFrame
        Indexed by module name, columns :data:`COLUMNS`: ``weights`` (differential pairs),
        ``rows``/``cols`` (crossbar size), ``reads`` (crossbar reads per sample), ``macs``,
        ``dac``/``adc`` (conversions per sample), ``inputs``/``outputs`` (elements of the
        layer's input and output tensors per sample, for memory traffic).
    """
    rows: dict[str, dict] = {}
    handles = []

    def hook(name: str):
        def record(module: nn.Module, args: tuple, output: Tensor | tuple) -> None:
            row = _layer_row(module, args[0], output)
            if name in rows:  # a module called twice (weight sharing): add its reads
                for key in ("reads", "macs", "dac", "adc", "inputs", "outputs"):
                    rows[name][key] += row[key]
            else:
                rows[name] = row
        return record

    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d | nn.Linear | nn.RNN):
            handles.append(module.register_forward_hook(hook(name)))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(example)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    if not rows:
        raise ValueError("the model has no Conv2d, Linear or RNN layer to count")
    return pd.DataFrame.from_dict(rows, orient="index")[list(COLUMNS)]


def unet_operations(height: int = 48, width: int = 48, in_channels: int = 1, base: int = 32,
                    classes: int = 2) -> pd.DataFrame:
    """Per-layer counts of the paper's DRIVE U-Net for one ``height x width`` patch.

    The architecture of docs/paper.md#drive (official ``UNET_DRIVE_TO``, bilinear up-sampling,
    base 32 channels, 4,313,440 convolution weights): every DoubleConv is two 3x3 convolutions
    with padding 1 (spatial size kept); Down = max-pool 2 then DoubleConv; Up = bilinear x2,
    concatenation with the skip connection, DoubleConv with a middle width of half its input;
    a final 1x1 convolution to ``classes``. ``height`` and ``width`` must be multiples of 16.
    Used while :mod:`rrampaper.models` has no U-Net; it is exact for that architecture.
    """
    for name, value in (("height", height), ("width", width)):
        check_positive_int(name, value)
        if value % 16:
            raise ValueError(f"{name}={value!r} must be a multiple of 16 (four 2x poolings)")
    c = base
    # (name, in, out, kernel, scale): scale = down-sampling factor of the layer's resolution
    layers = [
        ("in_conv.0", in_channels, c, 3, 1), ("in_conv.1", c, c, 3, 1),
        ("down1.0", c, 2 * c, 3, 2), ("down1.1", 2 * c, 2 * c, 3, 2),
        ("down2.0", 2 * c, 4 * c, 3, 4), ("down2.1", 4 * c, 4 * c, 3, 4),
        ("down3.0", 4 * c, 8 * c, 3, 8), ("down3.1", 8 * c, 8 * c, 3, 8),
        ("down4.0", 8 * c, 8 * c, 3, 16), ("down4.1", 8 * c, 8 * c, 3, 16),
        ("up1.0", 16 * c, 8 * c, 3, 8), ("up1.1", 8 * c, 4 * c, 3, 8),
        ("up2.0", 8 * c, 4 * c, 3, 4), ("up2.1", 4 * c, 2 * c, 3, 4),
        ("up3.0", 4 * c, 2 * c, 3, 2), ("up3.1", 2 * c, c, 3, 2),
        ("up4.0", 2 * c, c, 3, 1), ("up4.1", c, c, 3, 1),
        ("out_conv", c, classes, 1, 1),
    ]
    rows = {}
    for name, c_in, c_out, k, scale in layers:
        positions = (height // scale) * (width // scale)
        rows[name] = _row("conv", c_in * c_out * k * k, c_in * k * k, c_out, positions,
                          c_in * positions, c_out * positions)
    return pd.DataFrame.from_dict(rows, orient="index")[list(COLUMNS)]


def totals(ops: pd.DataFrame) -> pd.Series:
    """Column sums of an operations table (the numeric columns)."""
    return ops.drop(columns="kind").sum()
