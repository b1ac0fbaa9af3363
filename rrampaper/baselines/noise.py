"""Scale a technology's read and programming noise, for noise sweeps.

The device noise of a weight-optimization baseline comes from the technology preset
(:mod:`rrampaper.devices.technologies`): ``read_sigma(g)`` and ``programming_sigma(g)`` in
siemens. A noise-sweep figure multiplies them by a factor; :func:`scaled_noise` does that for any
technology, whatever its own parameters are called (TaOx has ``read_relative`` and
``read_floor_s``, PCM a 1/f law, SONOS a saturating law), so one sweep works for every preset::

    scaled_noise("taox_40nm", read_noise_scale=2.0, programming_noise_scale=0.0)

``1.0`` is the technology's own noise (the default everywhere), ``0.0`` removes that noise. To
change one physical parameter instead, build the technology with it
(``technology("taox_40nm", read_relative=0.02)``) and pass that object.
"""

from __future__ import annotations

from rrampaper._checks import check_range
from rrampaper.devices.scaled import ScaledNoise
from rrampaper.devices.technologies import Technology, technology


def scaled_noise(
    tech: Technology | str = "taox_40nm",
    read_noise_scale: float = 1.0,
    programming_noise_scale: float = 1.0,
) -> Technology:
    """``tech`` with its read and programming sigmas (siemens) multiplied by the two factors.

    Returns ``tech`` itself (as a :class:`Technology`) when both factors are 1.
    """
    check_range("read_noise_scale", read_noise_scale, 0.0, 100.0)
    check_range("programming_noise_scale", programming_noise_scale, 0.0, 100.0)
    tech = technology(tech)
    if read_noise_scale == 1.0 and programming_noise_scale == 1.0:
        return tech
    return ScaledNoise(tech, read_scale=read_noise_scale, programming_scale=programming_noise_scale)
