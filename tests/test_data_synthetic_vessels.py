"""The synthetic fundus generator: determinism, geometry and DRIVE-like statistics."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from rrampaper.data import FundusImage, synthetic_drive, synthetic_fundus, write_synthetic_drive

SEEDS = range(10)


@pytest.fixture(scope="module")
def images() -> list[FundusImage]:
    return [synthetic_fundus(seed) for seed in SEEDS]


def _fov_geometry(fov: np.ndarray) -> tuple[float, float, float]:
    """Centre (row, column) and radius of a disc mask from its centroid and area."""
    rows, cols = np.nonzero(fov)
    return rows.mean(), cols.mean(), float(np.sqrt(fov.sum() / np.pi))


def test_same_seed_gives_the_same_image_and_masks():
    a, b = synthetic_fundus(7), synthetic_fundus(7)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.vessels, b.vessels) and np.array_equal(a.fov, b.fov)
    assert a.name == "synthetic-7" and a.synthetic


def test_different_seeds_give_different_trees(images):
    for first, second in zip(images, images[1:], strict=False):
        overlap = (first.vessels & second.vessels).sum() / (first.vessels | second.vessels).sum()
        assert overlap < 0.5
        assert np.abs(first.image.astype(int) - second.image.astype(int)).mean() > 5


def test_shapes_and_types_match_a_drive_record(images):
    for fundus in images:
        assert fundus.image.shape == (584, 565, 3) and fundus.image.dtype == np.uint8
        assert fundus.vessels.shape == (584, 565) and fundus.vessels.dtype == np.bool_
        assert fundus.fov.shape == (584, 565) and fundus.fov.dtype == np.bool_
    small = synthetic_fundus(1, height=128, width=160)
    assert small.image.shape == (128, 160, 3)
    assert 0.03 < small.vessel_fraction < 0.2  # fewer capillaries are resolved at low resolution


def test_vessel_fraction_inside_the_fov_is_drive_like(images):
    # DRIVE (first observer, training set): 8.7-16.8 % of the FOV, mean 12.5 %.
    fractions = np.array([f.vessel_fraction for f in images])
    assert fractions.min() > 0.07 and fractions.max() < 0.18
    assert 0.09 < fractions.mean() < 0.14


def test_vessels_lie_inside_the_fov_only(images):
    for fundus in images:
        assert not (fundus.vessels & ~fundus.fov).any()


def test_fov_is_a_centred_disc_of_drive_size(images):
    for fundus in images:
        fov = fundus.fov
        row, col, radius = _fov_geometry(fov)
        h, w = fov.shape
        assert row == pytest.approx((h - 1) / 2, abs=0.5)
        assert col == pytest.approx((w - 1) / 2, abs=0.5)
        assert radius == pytest.approx(0.474 * 565, rel=0.01)  # DRIVE: about 268 px
        rr, cc = np.mgrid[0:h, 0:w]
        distance = np.hypot(rr - row, cc - col)
        assert fov[distance < radius - 1].all()
        assert not fov[distance > radius + 1].any()


def test_vessels_form_one_tree_thicker_near_the_optic_disc(images):
    for fundus in images:
        labels, _ = ndimage.label(fundus.vessels, structure=np.ones((3, 3)))
        sizes = np.bincount(labels.ravel())[1:]
        assert sizes.max() / sizes.sum() > 0.95  # one connected tree grown from the disc
        # The optic disc is the brightest blob; vessels near it are thicker than far from it.
        luminance = ndimage.gaussian_filter(fundus.image.mean(axis=2), 10)
        disc = np.unravel_index(np.argmax(np.where(fundus.fov, luminance, 0)), luminance.shape)
        row, col, radius = _fov_geometry(fundus.fov)
        assert 0.45 < abs(disc[1] - col) / radius < 0.8 and abs(disc[0] - row) / radius < 0.2
        half_width = ndimage.distance_transform_edt(fundus.vessels)
        rr, cc = np.mgrid[0 : fundus.fov.shape[0], 0 : fundus.fov.shape[1]]
        from_disc = np.hypot(rr - disc[0], cc - disc[1]) / radius
        near = half_width[fundus.vessels & (from_disc < 0.3)].mean()
        far = half_width[fundus.vessels & (from_disc > 0.8)].mean()
        assert near > 1.4 * far


def test_retina_colours_vignetting_and_dark_vessels(images):
    for fundus in images:
        image = fundus.image.astype(np.float64)
        inside = image[fundus.fov].mean(axis=0)
        # DRIVE's mean FOV colour is about RGB (181, 97, 57): orange-red, R > G > B.
        assert inside[0] > inside[1] > inside[2]
        assert 140 < inside[0] < 220 and 60 < inside[1] < 120 and 30 < inside[2] < 80
        assert image[~fundus.fov].mean() < 15
        background = fundus.fov & ~fundus.vessels
        assert image[fundus.vessels, 1].mean() < image[background, 1].mean() - 10
        row, col, radius = _fov_geometry(fundus.fov)
        rr, cc = np.mgrid[0 : fundus.fov.shape[0], 0 : fundus.fov.shape[1]]
        r = np.hypot(rr - row, cc - col) / radius
        centre = image[background & (r < 0.3), 0].mean()
        rim = image[background & (r > 0.85) & (r < 0.98), 0].mean()
        assert rim < 0.85 * centre  # vignetting
        assert image[fundus.fov].std(axis=0).min() > 5  # texture and noise, not flat colour


def test_one_image_takes_under_a_second():
    synthetic_fundus(0)
    start = time.perf_counter()
    synthetic_fundus(123)
    assert time.perf_counter() - start < 1.0


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="height=10 must be an integer >= 64"):
        synthetic_fundus(0, height=10)
    with pytest.raises(ValueError, match="width=64.5 must be an integer >= 64"):
        synthetic_fundus(0, width=64.5)


def test_synthetic_drive_stacks_images():
    stack = synthetic_drive(n=3, seed=2)
    assert stack.images.shape == (3, 584, 565, 3) and stack.synthetic
    assert stack.names == ("synthetic-2000", "synthetic-2001", "synthetic-2002")
    assert np.array_equal(stack[1].vessels, synthetic_fundus(2001).vessels)
    assert len(stack) == 3 and stack.vessel_fractions.shape == (3,)


def test_written_drive_layout_decodes_losslessly(tmp_path):
    write_synthetic_drive(tmp_path, seed=0, n_train=2, n_test=1)
    names = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.*"))
    assert names == [
        "test/1st_manual/01_manual1.gif",
        "test/2nd_manual/01_manual2.gif",
        "test/images/01_test.tif",
        "test/mask/01_test_mask.gif",
        "training/1st_manual/21_manual1.gif",
        "training/1st_manual/22_manual1.gif",
        "training/images/21_training.tif",
        "training/images/22_training.tif",
        "training/mask/21_training_mask.gif",
        "training/mask/22_training_mask.gif",
    ]
    with Image.open(tmp_path / "training/images/22_training.tif") as tif:
        image = np.asarray(tif.convert("RGB"))
    with Image.open(tmp_path / "training/1st_manual/22_manual1.gif") as gif:
        vessels = np.asarray(gif.convert("L"))
    with Image.open(tmp_path / "training/mask/22_training_mask.gif") as gif:
        fov = np.asarray(gif.convert("L"))
    assert set(np.unique(vessels).tolist()) == {0, 255} and set(np.unique(fov).tolist()) == {0, 255}
    original = synthetic_fundus(1)  # training image i is drawn from seed * 10000 + i
    assert np.array_equal(image, original.image)
    assert np.array_equal(vessels > 127, original.vessels)
    assert np.array_equal(fov > 127, original.fov)
