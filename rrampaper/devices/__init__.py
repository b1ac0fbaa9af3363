"""Device statistics of the paper's random resistive-memory network, and of other memories.

One module per job (see ``README.md`` in this folder):

- :mod:`.filament`: electroforming -> formed cells, filament counts, radii (nm), conductances.
- :mod:`.distributions`: the conductance law of formed cells (numerical convolution) and an
  atom-aware Kolmogorov-Smirnov test.
- :mod:`.technologies`: the :class:`Technology` interface and cited presets
  (:data:`TECHNOLOGIES`, :func:`technology`).
- :mod:`.programming_laws`: open-loop and post-verify sigma(G) laws with their valid ranges.
- :mod:`.programming`: open-loop, write-verify (the algorithm) and post-verify programming.
- :mod:`.relaxation`, :mod:`.faults`, :mod:`.readout`, :mod:`.effects`: what happens around
  and after programming (time, faulty cells, levels, ADC, IR drop), for TO and WO alike.
- :mod:`.array`: :class:`CrossbarArray`, a crossbar of differential pairs (SET/RESET, reads,
  xarray export).
- :mod:`.chip`: :class:`Chip` and :class:`DeviceWeights`, the weight source of topology
  optimization (tiling onto 512 x 512 macros).
- :mod:`.measured`: the official measured-data format, :class:`MeasuredChip`.
- :mod:`.fit`: maximum-likelihood fits with standard errors and goodness of fit.
- :mod:`.plots`: the device figures of ``notebooks/01_device_statistics.ipynb``.
- :mod:`.streams`: seed derivation (``derive_seed``, ``generator``, ``as_generator``) and
  :class:`~.streams.ReadStream`, the one implementation of cycle-to-cycle read noise.

Examples
--------
>>> from rrampaper import devices
>>> chip = devices.Chip(technology="taox_40nm_macro", seed=0)
>>> w = chip.allocate((128, 400))
>>> kept, pruned = w.read(0)          # siemens, read cycle 0
>>> chip.n_macros
1
"""

from rrampaper.devices.array import CrossbarArray
from rrampaper.devices.chip import Chip, DeviceWeights
from rrampaper.devices.distributions import FormedConductance, ks_test
from rrampaper.devices.faults import FaultModel, fault_map
from rrampaper.devices.filament import G0, FilamentModel, FormingResult
from rrampaper.devices.fit import (
    FitResult,
    fit_conductances,
    fit_forming,
    fit_read_noise,
    model_from_fit,
)
from rrampaper.devices.measured import (
    MeasuredChip,
    MeasuredData,
    MeasuredWeights,
    load_measured,
    save_measured,
)
from rrampaper.devices.programming import ProgramResult, program_conductances, program_weights
from rrampaper.devices.programming_laws import PROGRAMMING_LAWS, programming_law
from rrampaper.devices.relaxation import RELAXATION_LAWS, relaxation_law
from rrampaper.devices.scaled import ScaledNoise
from rrampaper.devices.technologies import (
    ECRAM,
    PCM,
    TECHNOLOGIES,
    FeFET,
    HfOxRRAM,
    PairConductances,
    SONOSFlash,
    TaOxMacro,
    TaOxRRAM,
    Technology,
    sources_table,
    technology,
)

__all__ = [
    "ECRAM",
    "G0",
    "PCM",
    "PROGRAMMING_LAWS",
    "RELAXATION_LAWS",
    "TECHNOLOGIES",
    "Chip",
    "CrossbarArray",
    "DeviceWeights",
    "FaultModel",
    "FeFET",
    "FilamentModel",
    "FitResult",
    "FormedConductance",
    "FormingResult",
    "HfOxRRAM",
    "MeasuredChip",
    "MeasuredData",
    "MeasuredWeights",
    "PairConductances",
    "ProgramResult",
    "SONOSFlash",
    "ScaledNoise",
    "TaOxMacro",
    "TaOxRRAM",
    "Technology",
    "fault_map",
    "fit_conductances",
    "fit_forming",
    "fit_read_noise",
    "ks_test",
    "load_measured",
    "model_from_fit",
    "program_conductances",
    "program_weights",
    "programming_law",
    "relaxation_law",
    "save_measured",
    "sources_table",
    "technology",
]
