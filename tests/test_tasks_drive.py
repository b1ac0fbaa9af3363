"""DRIVE segmentation: U-Net, preprocessing, patches, sliding-window stitching, task, training."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from torch import nn

from rrampaper.data import synthetic_fundus
from rrampaper.models.unet import UNET_BLOCK_WEIGHTS, UNET_WEIGHTS, UNet
from rrampaper.tasks import drive_segmentation as seg
from rrampaper.topology import make_prunable


@pytest.fixture(scope="module")
def fundus():
    return [synthetic_fundus(seed, height=120, width=110) for seed in (3, 4)]


# --- U-Net -------------------------------------------------------------------------------------

def _conv_weights(module):
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))


def test_unet_has_the_papers_weight_count_per_block_and_output_shape():
    net = UNet()
    assert _conv_weights(net) == UNET_WEIGHTS == 4_313_440
    assert {name: _conv_weights(getattr(net, name)) for name in UNET_BLOCK_WEIGHTS} == UNET_BLOCK_WEIGHTS
    assert all(m.bias is None for m in net.modules() if isinstance(m, nn.Conv2d))
    assert all(m.affine for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    quantizers = [m for m in net.modules() if type(m).__name__ == "ActivationQuantizer"]
    assert len(quantizers) == 2 * 9 + 1 and {q.bits for q in quantizers} == {6}
    net.eval()
    with torch.no_grad():
        out = net(torch.rand(2, 1, 50, 37))  # sizes not divisible by 16 work too
    assert out.shape == (2, 2, 50, 37)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(2, 50, 37))


def test_prunable_unet_trains_only_scores_and_batchnorm_affine():
    net = make_prunable(UNet(), "signed_constant", keep_ratio=0.5, seed=0)
    trainable = {n: p.numel() for n, p in net.named_parameters() if p.requires_grad}
    scores = sum(v for n, v in trainable.items() if n.endswith("scores"))
    assert scores == UNET_WEIGHTS
    rest = {n for n in trainable if not n.endswith("scores")}
    assert rest and all(n.endswith(("bn1.weight", "bn1.bias", "bn2.weight", "bn2.bias")) for n in rest)


# --- preprocessing -----------------------------------------------------------------------------

def test_preprocessing_range_dtype_determinism_and_statistics(fundus):
    images = np.stack([f.image for f in fundus])
    out = seg.preprocess(images)
    assert out.dtype == np.float32 and out.shape == images.shape[:3]
    for image in out:  # every image spans exactly [0, 1]
        assert image.min() == 0.0 and image.max() == 1.0
    np.testing.assert_array_equal(out, seg.preprocess(images))
    # the per-image min-max after the z-score makes the data set statistics irrelevant
    np.testing.assert_array_equal(out, seg.preprocess(images, seg.GreyStats(10.0, 3.0)))
    # gamma 1.2 brightens (x ** (1 / 1.2) >= x on [0, 1])
    assert seg.preprocess(images, gamma=1.0).mean() < out.mean()
    with pytest.raises(ValueError, match="gamma=0"):
        seg.preprocess(images, gamma=0)


def test_grey_weights():
    pixel = np.array([[[[100, 50, 200]]]], np.uint8)
    assert seg.to_grey(pixel)[0, 0, 0] == pytest.approx(0.299 * 100 + 0.587 * 50 + 0.114 * 200)


# --- patches -----------------------------------------------------------------------------------

def test_patch_centres_lie_inside_the_fov_and_are_spread_over_images(fundus):
    fov = np.stack([f.fov for f in fundus])
    centres = seg.sample_patch_centres(fov, 301, np.random.default_rng(0))
    assert centres.shape == (301, 3)
    assert fov[centres[:, 0], centres[:, 1], centres[:, 2]].all()
    assert np.bincount(centres[:, 0]).tolist() == [151, 150]
    again = seg.sample_patch_centres(fov, 301, np.random.default_rng(0))
    np.testing.assert_array_equal(centres, again)


def test_patches_are_centred_and_augmentation_moves_image_and_target_together(fundus):
    images = seg.preprocess(np.stack([f.image for f in fundus]))
    targets = np.stack([f.vessels for f in fundus]).astype(np.uint8)
    fov = np.stack([f.fov for f in fundus])
    targets[~fov] = seg.IGNORE_INDEX
    centres = seg.sample_patch_centres(fov, 40, np.random.default_rng(1))
    plain, plain_t = seg.extract_patches(images, targets, centres, 16)
    inner = [k for k, (i, r, c) in enumerate(centres) if 8 <= r <= 120 - 8 and 8 <= c <= 110 - 8]
    for k in inner[:5]:
        i, r, c = centres[k]
        np.testing.assert_array_equal(plain[k], images[i, r - 8:r + 8, c - 8:c + 8])
    assert (plain[:, 8, 8] == images[centres[:, 0], centres[:, 1], centres[:, 2]]).all()
    assert (plain_t[:, 8, 8] != seg.IGNORE_INDEX).all()  # centres are inside the FOV
    aug, aug_t = seg.extract_patches(images, targets, centres, 16, np.random.default_rng(2))
    transforms = 0
    for k in range(len(centres)):
        candidates = [(np.rot90(f(plain[k]), t), np.rot90(f(plain_t[k]), t))
                      for f in (lambda a: a, np.fliplr, np.flipud, lambda a: a[::-1, ::-1])
                      for t in range(4)]
        match = [j for j, (p, q) in enumerate(candidates)
                 if np.array_equal(p, aug[k]) and np.array_equal(q, aug_t[k])]
        assert match, "augmented patch is not a flip/rotation of the plain one"
        transforms += match[0] != 0
    assert transforms > len(centres) // 2  # most patches were actually transformed


def test_patch_parts_outside_the_image_are_zero_and_ignored():
    images = np.ones((1, 10, 10), np.float32)
    targets = np.zeros((1, 10, 10), np.uint8)
    patch, label = seg.extract_patches(images, targets, np.array([[0, 0, 0]]), 6)
    assert patch[0, :3].sum() == 0 and patch[0, 3:, 3:].min() == 1
    assert (label[0, :3] == seg.IGNORE_INDEX).all() and (label[0, 3:, 3:] == 0).all()


# --- sliding window ----------------------------------------------------------------------------

@pytest.mark.parametrize(("height", "width", "window", "stride"),
                         [(50, 37, 16, 12), (61, 64, 32, 20), (17, 5, 8, 8), (30, 30, 48, 40)])
def test_identity_and_constant_models_reconstruct_exactly(height, width, window, stride):
    images = torch.rand(2, 3, height, width)
    assert (height - window) % stride or (width - window) % stride or window > height
    out = seg.sliding_window(lambda x: x, images, window=window, stride=stride, batch_size=5)
    assert torch.equal(out, images)
    constant = torch.full((1, 1, height, width), 0.3)
    out = seg.sliding_window(lambda x: x * 1.0, constant, window=window, stride=stride)
    assert torch.equal(out, constant)


def test_stitching_averages_overlapping_windows():
    image = torch.zeros(1, 1, 10, 10)
    calls = []

    def window_id(batch):  # each window outputs its own running number
        out = torch.stack([torch.full(batch.shape[1:], float(len(calls) + i)) for i in range(len(batch))])
        calls.extend(range(len(batch)))
        return out

    out = seg.sliding_window(window_id, image, window=6, stride=4, batch_size=1)
    # starts 0, 4 (and the image is padded to 10): windows 0 (0,0), 1 (0,4), 2 (4,0), 3 (4,4)
    assert seg.window_starts(10, 6, 4) == [0, 4]
    assert out[0, 0, 0, 0] == 0 and out[0, 0, 0, 9] == 1 and out[0, 0, 9, 0] == 2
    assert out[0, 0, 5, 5] == pytest.approx((0 + 1 + 2 + 3) / 4)
    assert out[0, 0, 0, 5] == pytest.approx((0 + 1) / 2)


def test_windows_outside_the_mask_are_skipped():
    image = torch.rand(1, 1, 40, 40)
    mask = torch.zeros(1, 40, 40, dtype=torch.bool)
    mask[0, :10, :10] = True
    seen = []
    out = seg.sliding_window(lambda x: seen.append(len(x)) or x, image, window=20, stride=20,
                             batch_size=8, mask=mask)
    assert sum(seen) == 1  # only the top-left window holds masked pixels
    assert torch.equal(out[..., :20, :20], image[..., :20, :20]) and out[..., 20:, :].abs().sum() == 0


def test_window_starts_cover_and_validate():
    for length, window, stride in [(584, 160, 144), (565, 96, 48), (7, 3, 2), (3, 8, 8)]:
        starts = seg.window_starts(length, window, stride)
        covered = np.zeros(max(length, starts[-1] + window), bool)
        for s in starts:
            covered[s:s + window] = True
        assert covered[:length].all() and starts[-1] < length
    with pytest.raises(ValueError, match="stride=9 must be <= window=8"):
        seg.window_starts(20, 8, 9)


# --- task --------------------------------------------------------------------------------------

@pytest.fixture
def synthetic_env(monkeypatch, tmp_path):
    """DRIVE not configured: RRAMPAPER_DRIVE_DIR unset and no drive/DRIVE in the data folder."""
    monkeypatch.delenv("RRAMPAPER_DRIVE_DIR", raising=False)
    monkeypatch.setenv("RRAMPAPER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RRAMPAPER_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path


def test_unconfigured_drive_uses_synthetic_images_says_so_and_records_it(synthetic_env, monkeypatch,
                                                                          capsys):
    from rrampaper.experiments.train import Experiment, run_config
    from rrampaper.tasks import drive

    monkeypatch.setattr(drive, "_announced", False)
    assert not drive.uses_drive() and drive.data_label() == "synthetic vessels (DRIVE not configured)"
    out = capsys.readouterr().out.splitlines()
    assert out == [f"DRIVE not configured (set RRAMPAPER_DRIVE_DIR, or put it in "
                   f"{synthetic_env / 'data' / 'drive' / 'DRIVE'}): using synthetic fundus images"]
    assert run_config(Experiment(task="drive", profile="smoke"))["data"].startswith("synthetic;")
    assert capsys.readouterr().out == ""  # said once per process


def test_configured_but_incomplete_drive_is_an_error_never_synthetic(synthetic_env, monkeypatch,
                                                                     capsys):
    from rrampaper.data.drive import required_files
    from rrampaper.errors import DataError
    from rrampaper.experiments.train import Experiment, run_config
    from rrampaper.tasks import drive

    task = drive.DriveTask()
    exp = Experiment(task="drive", profile="smoke")
    calls = (drive.uses_drive, drive.data_label, lambda: run_config(exp),
             lambda: task.splits(task.hyper("smoke"), 0))
    monkeypatch.setenv("RRAMPAPER_DRIVE_DIR", str(synthetic_env / "nowhere"))
    for call in calls:
        with pytest.raises(DataError, match="nowhere does not exist"):
            call()
    folder = synthetic_env / "data" / "drive" / "DRIVE"  # the default folder: configured too
    for rel in required_files():  # presence is all that is checked before loading
        if rel != "test/images/07_test.tif":
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).touch()
    for env in (str(folder), None):
        if env is None:
            monkeypatch.delenv("RRAMPAPER_DRIVE_DIR")
        else:
            monkeypatch.setenv("RRAMPAPER_DRIVE_DIR", env)
        for call in calls:
            with pytest.raises(DataError) as caught:
                call()
            message = str(caught.value)
            assert f"1 file(s) are missing from {folder}: test/images/07_test.tif" in message
            assert "https://drive.grand-challenge.org/" in message
    assert "synthetic" not in capsys.readouterr().out


def test_task_splits_on_synthetic_images(synthetic_env):
    from rrampaper.tasks import drive

    task = drive.DriveTask()
    assert not drive.uses_drive() and "synthetic" in drive.data_label()
    # runs on synthetic images are stored under their own key, never reused as DRIVE runs
    from rrampaper.experiments.train import Experiment, run_config

    assert run_config(Experiment(task="drive", profile="smoke"))["data"].startswith("synthetic;")
    hyper = task.hyper("smoke")
    splits = task.splits(hyper, seed=0)
    x, y = splits.train
    assert x.shape == (hyper.n_train, 1, drive.PATCH_SIZE, drive.PATCH_SIZE) and x.dtype == torch.float32
    assert set(torch.unique(y).tolist()) <= {0, 1, 255} and (y == 1).any()
    crop = drive.CROP["smoke"]
    assert splits.validation[0].shape == (1, 1, crop, crop) and splits.test[0].shape == (1, 1, crop, crop)
    assert task.profile_of(hyper) == "smoke"
    assert task.profile_of(dataclasses.replace(task.hyper("quick"), epochs=1, n_train=10)) == "quick"
    # seeds differ in the held-out image and the patches, never in the test images
    other = task.splits(hyper, seed=1)
    assert torch.equal(other.test[0], splits.test[0])
    assert not torch.equal(other.train[0], x)
    # the loss ignores pixels outside the FOV
    logp = torch.log_softmax(torch.randn(2, 2, 4, 4), 1)
    target = torch.full((2, 4, 4), 255, dtype=torch.uint8)
    target[:, 0, 0] = 1
    expected = -logp[:, 1, 0, 0].mean()
    torch.testing.assert_close(task.loss(logp, target), expected)


@pytest.mark.slow
def test_smoke_training_beats_the_vessel_prevalence(synthetic_env):
    from rrampaper.experiments.train import Experiment, run
    from rrampaper.tasks import drive

    torch.manual_seed(0)
    folder = synthetic_env / "results"
    # the smoke profile with 128 patches per epoch: 32 steps of 8 patches
    exp = Experiment(task="drive", method="software_TO", profile="smoke", n_train=128, seed=0)
    result = run(exp, folder=folder, progress=False)
    assert json.loads(result.attrs["config"])["data"].startswith("synthetic;")  # in the netCDF
    task = drive.DriveTask()
    _, targets = task.splits(task.hyper("smoke"), 0).test
    vessels, fov = drive.truth_and_fov(targets)
    prevalence = vessels[fov].mean()
    assert 0.03 < prevalence < 0.3
    assert result.attrs["metric"] == "pr_auc"
    assert result.attrs["test_selected"] > prevalence + 0.2, (result.attrs["test_selected"], prevalence)
    assert result["test"].values[-1] > result["test"].values[0]  # it learned during the run
