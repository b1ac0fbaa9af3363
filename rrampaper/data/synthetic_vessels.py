"""Synthetic retinal fundus images with exact vessel masks: a stand-in for DRIVE.

DRIVE may not be redistributed, so tests, CI and the notebooks fall back on these when the
user has no copy. An image is drawn in four steps, all from one seeded generator:

1. a circular field of view (FOV) of radius 0.47 x min(H, W) centred in the frame, as in DRIVE
   (radius 268 px in a 565-px-wide image);
2. an optic disc 0.67 R from the centre (left or right eye at random), a darker macula 2.5 disc
   diameters temporal of it;
3. a vessel tree grown from the disc: four arcade trunks (superior/inferior temporal, vein and
   artery each) and a few nasal ones walk in 2-px steps with a smooth curvature (the temporal
   arcades bend around the macula) and a little angular noise, taper slowly, and branch at
   random; at a branch the radii follow Murray's law, r_parent^3 = r_1^3 + r_2^3 (C. D. Murray,
   PNAS 12:207, 1926), so vessels thin as they divide. Walks stop at the FOV edge or below a
   width of 1.2 px;
4. an orange-red retina (DRIVE's mean FOV colour is about RGB 181, 97, 57) with vignetting,
   smooth illumination texture, pixel noise, a bright optic disc and vessels that darken green
   and blue more than red.

The vessel fraction inside the FOV is 8-15 % depending on the seed (mean 11 % over seeds
0-99), as in DRIVE (8.7-16.8 %, mean 12.5 %, first observer, training set). One 584x565 image
takes about 80 ms on one CPU core.

Examples
--------
>>> from rrampaper.data import synthetic_fundus
>>> fundus = synthetic_fundus(seed=0)
>>> fundus.image.shape, fundus.vessels.dtype
((584, 565, 3), dtype('bool'))
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from rrampaper._checks import check_positive_int
from rrampaper.data.fundus import FundusImage, FundusSet

#: DRIVE's image size (rows, columns).
DRIVE_SHAPE = (584, 565)

_STEP_PX = 2.0  # length of one step of a vessel walk (pixels)
_MIN_WIDTH_PX = 1.2  # a walk stops below this vessel width
_TAPER_PER_PX = 0.9988  # width factor per pixel of length
_BRANCH_PER_PX = 0.013  # branching probability per pixel of length
_CURVATURE_DECAY_PER_PX = 0.997  # curvature halves every ~230 px: arcades bend, then run straight
_AVASCULAR_RADIUS = 0.07  # foveal avascular zone, in units of the FOV radius
_MAX_SEGMENTS = 20_000  # safety cap on the number of drawn segments


@dataclass
class _Walker:
    x: float
    y: float
    angle: float  # radians, image coordinates (x right, y down)
    width: float  # pixels
    curvature: float  # radians per pixel
    darkness: float  # 0..1, vein darker than artery


def synthetic_fundus(seed: int = 0, height: int = 584, width: int = 565) -> FundusImage:
    """A synthetic colour fundus image with its vessel and FOV masks, deterministic by seed.

    Parameters
    ----------
    seed:
        Seed of the :func:`numpy.random.default_rng` that draws everything.
    height, width:
        Image size in pixels (default: DRIVE's 584 x 565); at least 64 each.

    Returns
    -------
    FundusImage
        ``image`` uint8 [H,W,3], ``vessels`` bool [H,W] (inside the FOV only), ``fov`` bool
        [H,W] (a disc), ``name`` ``"synthetic-<seed>"``, ``synthetic`` True.
    """
    height = check_positive_int("height", height, minimum=64)
    width = check_positive_int("width", width, minimum=64)
    rng = np.random.default_rng(seed)
    scale = min(height, width) / min(DRIVE_SHAPE)  # lengths are tuned at DRIVE's size
    radius = 0.474 * min(height, width)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.hypot(yy - cy, xx - cx) / radius
    fov = r <= 1.0

    # Drawn as a left eye (disc on the left, temporal side towards +x), mirrored at the end.
    disc_radius = 0.15 * radius
    disc = (cx - 0.67 * radius, cy + rng.uniform(-0.08, 0.08) * radius)
    macula = (disc[0] + 5 * disc_radius, disc[1] + rng.uniform(0.0, 0.08) * radius)

    vessel_mask, darkness = _draw_tree(rng, disc, macula, (cx, cy), radius, scale, (width, height))
    vessels = vessel_mask & fov
    image = _paint(rng, xx, yy, r, fov, disc, disc_radius, macula, radius, darkness)
    if rng.random() < 0.5:  # right eye
        image, vessels, fov = image[:, ::-1], vessels[:, ::-1], fov[:, ::-1]
    return FundusImage(
        np.ascontiguousarray(image),
        np.ascontiguousarray(vessels),
        np.ascontiguousarray(fov),
        f"synthetic-{seed}",
        synthetic=True,
    )


def _trunks(rng: np.random.Generator, disc: tuple[float, float], scale: float) -> list[_Walker]:
    """The vessels leaving the optic disc: temporal arcades (vein + artery) and nasal ones."""
    x, y = disc
    deg = math.pi / 180
    specs = [  # angle (deg), width (px), curvature (deg / px), darkness
        (-70, 8.5, 0.20, 1.0),
        (-55, 6.5, 0.16, 0.75),  # superior temporal vein, artery
        (70, 8.5, -0.20, 1.0),
        (55, 6.5, -0.16, 0.75),  # inferior temporal vein, artery
        (-115, 5.5, -0.10, 0.9),
        (115, 5.5, 0.10, 0.9),  # superior / inferior nasal
        (-160, 4.0, 0.0, 0.8),
        (165, 4.0, 0.0, 0.8),  # nasal, near horizontal
        (-5, 3.0, 0.0, 0.7),  # small macular branch
    ]
    return [
        _Walker(
            x,
            y,
            (a + rng.normal(0, 6)) * deg,
            w * scale * rng.uniform(0.9, 1.1),
            c * deg / scale * rng.uniform(0.8, 1.2),
            d,
        )
        for a, w, c, d in specs
    ]


def _draw_tree(
    rng: np.random.Generator,
    disc: tuple[float, float],
    macula: tuple[float, float],
    centre: tuple[float, float],
    radius: float,
    scale: float,
    size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Grow and rasterize the vessel tree: (bool mask, float32 darkness 0..1), both [H, W].

    Walkers are steered away from the macula and stop at the foveal avascular zone.
    """
    cx, cy = centre
    mask_img = Image.new("L", size, 0)
    dark_img = Image.new("L", size, 0)
    mask_draw, dark_draw = ImageDraw.Draw(mask_img), ImageDraw.Draw(dark_img)
    stack = _trunks(rng, disc, scale)
    segments = 0
    step = _STEP_PX
    min_width = max(0.8, _MIN_WIDTH_PX * scale)  # small images: thin vessels drawn 1 px wide
    while stack and segments < _MAX_SEGMENTS:
        v = stack.pop()
        since_branch = 0.0
        while v.width >= min_width and segments < _MAX_SEGMENTS:
            v.angle += v.curvature * step + rng.normal(0.0, 0.03)
            v.curvature *= _CURVATURE_DECAY_PER_PX**step
            to_fovea = math.hypot(v.x - macula[0], v.y - macula[1]) / radius
            if to_fovea < _AVASCULAR_RADIUS:
                break
            away = math.atan2(v.y - macula[1], v.x - macula[0])
            v.angle += 0.08 * math.sin(away - v.angle) * math.exp(-to_fovea / 0.12)
            nx, ny = v.x + step * math.cos(v.angle), v.y + step * math.sin(v.angle)
            if math.hypot(nx - cx, ny - cy) > 0.985 * radius:
                break
            w = int(round(v.width))
            shade = int(255 * v.darkness * min(1.0, 0.3 + v.width / 7.0))
            for draw, fill in ((mask_draw, 255), (dark_draw, shade)):
                draw.line([(v.x, v.y), (nx, ny)], fill=fill, width=max(1, w))
                if w >= 3:
                    h = v.width / 2
                    draw.ellipse([nx - h, ny - h, nx + h, ny + h], fill=fill)
            segments += 1
            v.x, v.y = nx, ny
            v.width *= _TAPER_PER_PX**step
            since_branch += step
            if since_branch > 12 * scale and rng.random() < _BRANCH_PER_PX * step / scale:
                since_branch = 0.0
                fraction = rng.uniform(0.45, 0.85)  # child radius / parent radius
                side = rng.choice((-1.0, 1.0))
                stack.append(
                    _Walker(
                        v.x,
                        v.y,
                        v.angle + side * rng.uniform(0.5, 1.2),
                        v.width * fraction,
                        rng.normal(0.0, 0.002) / scale,
                        v.darkness,
                    )
                )
                v.width *= (1.0 - fraction**3) ** (1.0 / 3.0)  # Murray's law
                v.angle -= side * rng.uniform(0.05, 0.25)
    mask = np.asarray(mask_img) > 0
    darkness = ndimage.gaussian_filter(np.asarray(dark_img, dtype=np.float32) / 255.0, 0.8)
    return mask, darkness


def _paint(
    rng: np.random.Generator,
    xx: np.ndarray,
    yy: np.ndarray,
    r: np.ndarray,
    fov: np.ndarray,
    disc: tuple[float, float],
    disc_radius: float,
    macula: tuple[float, float],
    radius: float,
    darkness: np.ndarray,
) -> np.ndarray:
    """The RGB image: retina colour, vignetting, texture, disc, macula, vessels, noise."""
    height, width = r.shape
    base = np.array([225.0, 118.0, 68.0]) * rng.uniform(0.9, 1.1, size=3)
    coarse = rng.normal(0.0, 1.0, size=(7, 7))
    texture = ndimage.zoom(coarse, (height / 7, width / 7), order=3)[:height, :width]
    shade = (1.0 - 0.42 * r**2.2) * (1.0 + 0.05 * texture)
    d_macula = np.hypot(xx - macula[0], yy - macula[1]) / radius
    shade = shade * (1.0 - 0.22 * np.exp(-0.5 * (d_macula / 0.13) ** 2))
    rgb = base[None, None, :] * shade[..., None]

    d_disc = np.hypot(xx - disc[0], yy - disc[1])
    disc_weight = np.clip((disc_radius - d_disc) / (0.25 * disc_radius) + 0.5, 0.0, 1.0)
    cup = np.exp(-0.5 * (d_disc / (0.45 * disc_radius)) ** 2)
    disc_colour = np.array([250.0, 215.0, 140.0])[None, None, :] * (0.9 + 0.1 * cup[..., None])
    rgb = rgb * (1 - 0.85 * disc_weight[..., None]) + 0.85 * disc_weight[..., None] * disc_colour

    rgb = rgb * (1.0 - darkness[..., None] * np.array([0.35, 0.62, 0.55])[None, None, :])
    rgb = rgb + rng.normal(0.0, 3.0, size=rgb.shape)
    edge = np.clip((1.0 - r) * radius / 1.5 + 0.5, 0.0, 1.0)  # ~1.5 px soft FOV edge
    rgb = rgb * edge[..., None] + 6.0 * (1.0 - edge[..., None])
    rgb[~fov & (edge == 0)] = rng.normal(6.0, 1.0, size=(int((~fov & (edge == 0)).sum()), 3))
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def synthetic_drive(n: int = 20, seed: int = 0, split: str = "train") -> FundusSet:
    """``n`` synthetic fundus images of DRIVE's size, image ``i`` from seed ``seed * 1000 + i``."""
    n = check_positive_int("n", n)
    items = [synthetic_fundus(seed * 1000 + i) for i in range(n)]
    return FundusSet(
        images=np.stack([f.image for f in items]),
        vessels=np.stack([f.vessels for f in items]),
        fov=np.stack([f.fov for f in items]),
        names=tuple(f.name for f in items),
        split=split,
        synthetic=True,
    )


def write_synthetic_drive(
    folder: str | os.PathLike[str], seed: int = 0, n_train: int = 20, n_test: int = 20
) -> Path:
    """Write synthetic images in DRIVE's layout and file names under ``folder``.

    ``training/{images,1st_manual,mask}`` for ids 21-(20+n_train) and
    ``test/{images,1st_manual,2nd_manual,mask}`` for ids 01-n_test, as LZW TIFF and GIF files
    that :func:`rrampaper.data.load_drive` reads with ``verify=False`` (the hashes differ from
    DRIVE's, of course). For tests and CI without DRIVE. Returns ``folder``.
    """
    folder = Path(folder)
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    jobs = [("training", f"{21 + i}", "training", i) for i in range(n_train)]
    jobs += [("test", f"{1 + i:02d}", "test", 1000 + i) for i in range(n_test)]
    for split, ident, suffix, offset in jobs:
        fundus = synthetic_fundus(seed * 10_000 + offset)
        base = folder / split
        for sub in ("images", "1st_manual", "mask") + (("2nd_manual",) if split == "test" else ()):
            (base / sub).mkdir(parents=True, exist_ok=True)
        Image.fromarray(fundus.image).save(
            base / "images" / f"{ident}_{suffix}.tif", compression="tiff_lzw"
        )
        vessels = Image.fromarray(fundus.vessels.astype(np.uint8) * 255)
        vessels.save(base / "1st_manual" / f"{ident}_manual1.gif")
        if split == "test":
            vessels.save(base / "2nd_manual" / f"{ident}_manual2.gif")
        Image.fromarray(fundus.fov.astype(np.uint8) * 255).save(
            base / "mask" / f"{ident}_{suffix}_mask.gif"
        )
    return folder
