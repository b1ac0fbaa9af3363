"""The scalability study: bottleneck ResNets, ImageNet-100 from an ImageFolder, step costs."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re

import numpy as np
import pytest
import torch
import xarray as xr
from PIL import Image
from torch import nn

from rrampaper.analysis.scaling import macros_needed, measure_scaling
from rrampaper.data.errors import DatasetMissingError
from rrampaper.data.imagenet import (
    ENV_VAR,
    IMAGENET100_CLASSES,
    LABEL_ORDER,
    MEAN,
    STD,
    ImageNet100,
    find_images,
    imagenet100_available,
)
from rrampaper.devices import Chip
from rrampaper.models import weight_count
from rrampaper.models.resnet import (
    RESNET50_CONV_WEIGHTS,
    RESNET50_PARAMETERS,
    ResNetSpec,
    bottleneck_weight_count,
    resnet50,
    resnet_family,
)
from rrampaper.tasks.imagenet100 import (
    ImageNet100StandInTask,
    ImageNet100Task,
    standin_images,
)
from rrampaper.topology import make_prunable, masked_weights, programming_counts


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: on a loaded 2-core machine, two OpenMP threads per tiny operator
    wait on each other and make these (count-checking, not timing) tests up to 30x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------------------ models


def test_resnet50_matches_torchvision_parameter_count_and_output_shape():
    model = resnet50()
    assert sum(p.numel() for p in model.parameters()) == RESNET50_PARAMETERS == 25_557_032
    conv = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d))
    norm = sum(p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d)
               for p in m.parameters())
    assert conv == RESNET50_CONV_WEIGHTS == 23_454_912
    assert norm == 53_120 and model.fc.weight.shape == (1000, 2048) and model.fc.bias is not None
    assert weight_count(model) == conv + 2_048_000
    assert bottleneck_weight_count() == {"conv": conv, "fc": 2_048_000, "norm": norm,
                                         "fc_bias": 1000}
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 1000)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(2))  # log-probabilities
    assert model.depth == 50 and len(model.layer3) == 6


@pytest.mark.parametrize("stem", ["imagenet", "cifar"])
def test_closed_form_counts_match_the_modules(stem):
    for spec in (ResNetSpec((1, 1, 1, 1), 8), ResNetSpec((2, 1, 3, 1), 12), ResNetSpec()):
        counts = bottleneck_weight_count(spec.layers, width=spec.width, num_classes=37, stem=stem)
        model = spec.build(37, stem=stem)
        assert weight_count(model) == counts["conv"] + counts["fc"] == spec.weights(37, stem)
        assert sum(p.numel() for p in model.parameters()) == sum(counts.values())
        bare = spec.build(37, stem=stem, norm_affine=False, fc_bias=False)
        assert sum(p.numel() for p in bare.parameters()) == counts["conv"] + counts["fc"]


def test_family_counts_grow_with_width_and_depth():
    family = resnet_family(widths=(8, 16, 32, 64),
                           depths=((1, 1, 1, 1), (2, 2, 2, 2), (3, 4, 6, 3), (3, 4, 23, 3)))
    for sweep, attr in (("width", "width"), ("depth", "depth")):
        specs = family[sweep]
        counts = [weight_count(s.build(100)) for s in specs]
        assert np.all(np.diff(counts) > 0), (sweep, counts)
        assert np.all(np.diff([getattr(s, attr) for s in specs]) > 0)
    assert [s.name for s in family["depth"]] == [
        "ResNet-14 (w64)", "ResNet-26 (w64)", "ResNet-50 (w64)", "ResNet-101 (w64)"]
    # torchvision's published parameter counts of ResNet-101 and ResNet-152
    assert sum(p.numel() for p in family["depth"][-1].build().parameters()) == 44_549_160
    assert sum(p.numel() for p in ResNetSpec((3, 8, 36, 3)).build().parameters()) == 60_192_808
    with pytest.raises(ValueError, match="4 stages"):
        ResNetSpec((3, 4, 6))


@pytest.mark.slow
def test_prunable_resnet50_keeps_exact_counts_and_fills_181_macros():
    keep = 0.3
    software = make_prunable(resnet50(100, norm_affine=False, fc_bias=False), "signed_constant",
                             keep_ratio=keep, seed=0)
    chip = Chip("taox_post_verify_static", seed=0)
    hardware = make_prunable(resnet50(100, norm_affine=False, fc_bias=False), chip,
                             keep_ratio=0.5, seed=0)
    n_weights = RESNET50_CONV_WEIGHTS + 2048 * 100
    assert weight_count(software) == weight_count(hardware) == n_weights == 23_659_712
    assert [p for p in software.parameters()] == [m.scores for _, m in masked_weights(software)]
    # every weight of ResNet-50 is one differential pair: 23,659,712 pairs at 131,072 per
    # 512 x 512 macro fill 180 macros and part of a 181st
    assert chip.pairs_allocated == n_weights
    assert chip.n_macros == macros_needed(n_weights) == math.ceil(n_weights / 131_072) == 181
    for model, ratio in ((software, keep), (hardware, 0.5)):
        model.train()
        model(torch.randn(2, 3, 32, 32))
        named = dict(masked_weights(model))
        counts = programming_counts(model)
        for name in ("conv1.weight", "layer3.5.conv2.weight", "layer4.0.downsample.0.weight",
                     "fc.weight"):
            n = named[name].scores.numel()
            kept = int(named[name].current_mask().sum())
            assert kept == math.ceil(ratio * n), (name, n, kept)
            assert counts[name]["initial_resets"] == n - kept
    assert int(dict(masked_weights(software))["conv1.weight"].current_mask().sum()) == 2823


# ------------------------------------------------------------------ ImageNet-100 folder


def _write_folder(root, classes=LABEL_ORDER, train=3, val=1, colour=(124, 116, 104)):
    for split, n in (("train", train), ("val", val)):
        for wnid in classes:
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for i in range(n):
                image = Image.new("RGB", (12 + i, 10), colour)
                if i == 0:
                    image.save(folder / f"{wnid}_{i}.png")
                else:
                    image.save(folder / f"{wnid}_{i}.JPEG", quality=95)
            (folder / "notes.txt").write_text("not an image")
    return root


def test_class_list_is_cmcs_imagenet100():
    assert len(set(IMAGENET100_CLASSES)) == 100
    assert all(re.fullmatch(r"n\d{8}", w) for w in IMAGENET100_CLASSES)
    # SHA-256 of HobbitLong/CMC imagenet100.txt at commit bc687a2 (one wnid per line, in order)
    text = "".join(f"{w}\n" for w in IMAGENET100_CLASSES).encode()
    assert hashlib.sha256(text).hexdigest() == (
        "79f3f1552ccc478ce24bd934b4573625db584ddc1f4643ae23c994a94cb11397")
    assert list(LABEL_ORDER) == sorted(IMAGENET100_CLASSES)


def test_imagefolder_loader_reads_a_synthetic_folder(tmp_path, monkeypatch):
    root = _write_folder(tmp_path / "in100")
    (root / "train" / "n99999999").mkdir()  # an extra class (e.g. full ImageNet-1k) is ignored
    Image.new("RGB", (8, 8)).save(root / "train" / "n99999999" / "x.JPEG")
    monkeypatch.setenv(ENV_VAR, str(root))
    assert imagenet100_available()
    files, labels = find_images("train")
    assert len(files) == 300 and np.array_equal(labels, np.repeat(np.arange(100), 3))
    assert all(f.parent.name == LABEL_ORDER[y] for f, y in zip(files, labels, strict=True))
    val = ImageNet100("val", size=8)
    assert len(val) == 100 and np.array_equal(val.label_counts(), np.ones(100))
    x, label = val[7]
    assert x.shape == (3, 8, 8) and label == 7
    expected = (torch.tensor([124, 116, 104]) / 255.0 - torch.tensor(MEAN)) / torch.tensor(STD)
    torch.testing.assert_close(x, expected.view(3, 1, 1).expand(3, 8, 8), atol=1e-6, rtol=0)
    subset = ImageNet100("train", size=4, per_class=2)
    images, targets = subset.to_tensors()
    assert images.shape == (200, 3, 4, 4) and np.array_equal(np.bincount(targets), [2] * 100)
    # the task on real data: validation carved out of train/, val/ is the test split
    task = ImageNet100Task()
    hyper = dataclasses.replace(task.hyper("smoke"), n_train=150, n_validation=100, n_test=100)
    splits = task.splits(hyper, seed=0)
    assert splits.sizes() == {"train": 150, "validation": 100, "test": 100}
    assert splits.train[0].shape[1:] == (3, 32, 32)
    assert task.build_model()(splits.test[0][:2]).shape == (2, 100)


def test_missing_folder_or_classes_raise_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent"))
    assert not imagenet100_available()
    with pytest.raises(DatasetMissingError, match="licence") as error:
        find_images("train")
    assert ENV_VAR in str(error.value) and "image-net.org" in str(error.value)
    with pytest.raises(DatasetMissingError):
        ImageNet100Task().splits(ImageNet100Task().hyper("smoke"), seed=0)
    partial = _write_folder(tmp_path / "partial", classes=LABEL_ORDER[:97], train=1, val=1)
    with pytest.raises(DatasetMissingError, match=f"lacks 3 of the 100 .*{LABEL_ORDER[97]}"):
        find_images("val", partial)
    empty = _write_folder(tmp_path / "empty", train=1, val=1)
    for f in (empty / "val" / LABEL_ORDER[5]).iterdir():
        f.unlink()
    with pytest.raises(DatasetMissingError, match=f"hold no image.*{LABEL_ORDER[5]}"):
        find_images("val", empty)
    assert not imagenet100_available(empty)
    with pytest.raises(ValueError, match="split"):
        find_images("test", empty)


# ------------------------------------------------------------------ stand-in task


def test_standin_is_fashion_mnist_at_32x32x3():
    grey = torch.linspace(-1, 1, 28 * 28).view(1, 1, 28, 28)
    out = standin_images(grey)
    assert out.shape == (1, 3, 32, 32)
    assert torch.equal(out[:, 0], out[:, 2])
    task = ImageNet100StandInTask()
    assert "STAND-IN" in task.label and task.num_classes == 10
    assert task.spec("smoke") == ResNetSpec((1, 1, 1, 1), 8)
    model = task.build_model()
    assert not any(p.requires_grad for m in model.modules() if isinstance(m, nn.BatchNorm2d)
                   for p in m.parameters())
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    splits = task.splits(task.hyper("smoke"), seed=0)
    assert splits.sizes() == {"train": 1024, "validation": 256, "test": 256}
    assert splits.train[0].shape[1:] == (3, 32, 32) and int(splits.test[1].max()) == 9


# ------------------------------------------------------------------ step costs


def test_measure_scaling_times_counts_and_memory_in_one_run(tmp_path):
    specs = [ResNetSpec((1, 1, 1, 1), 4), ResNetSpec((1, 1, 1, 1), 8)]
    table = measure_scaling(specs, image_size=16, batch_size=4, steps=3, warmup=1,
                            num_classes=10, methods=("software TO", "hardware TO", "dense"),
                            macro_rows=64, macro_cols=64)
    assert (table["step_time"] > 0).all() and (table["step_time_q1"] <= table["step_time"]).all()
    ratio = table["step_time"].sel(approach="software TO") / table["step_time"].sel(
        approach="dense")
    np.testing.assert_allclose(table["time_ratio"].sel(approach="software TO"), ratio)
    np.testing.assert_allclose(table["time_ratio"].sel(approach="dense"), 1.0)
    weights = table["weights"].values
    assert list(weights) == [s.weights(10) for s in specs]
    # 64 x 64-cell macros hold 2,048 pairs each; the chip opens exactly that many
    assert list(table["macros"].values) == [math.ceil(w / 2048) for w in weights]
    assert np.array_equal(table["chip_macros"], table["macros"])
    layers = [[m.weight.numel() for m in s.build(10).modules()
               if isinstance(m, nn.Conv2d | nn.Linear)] for s in specs]
    pruned = [sum(n - math.ceil(0.5 * n) for n in sizes) for sizes in layers]
    assert list(table["initial_resets"].sel(approach="software TO").values) == pruned
    ops = table["programming_ops"]
    assert (ops.sel(approach="software TO") > 0).all()
    assert (ops.sel(approach="dense") <= weights).all()
    assert (ops.sel(approach="dense") > 0.9 * weights).all()
    # memory: TO holds weights, scores, float masks and reference scores (4 x 4 bytes per
    # weight) and three int64 counters per layer; dense holds the weights; both hold BN stats
    memory = table["memory"]
    extra = memory.sel(approach="software TO", part="state") - memory.sel(approach="dense",
                                                                          part="state")
    assert list(extra.values) == [12 * w + 24 * len(s) for w, s in zip(weights, layers,
                                                                          strict=True)]
    for approach in ("software TO", "dense"):
        assert list(memory.sel(approach=approach, part="gradients").values) == list(4 * weights)
        assert list(memory.sel(approach=approach, part="optimizer").values) == list(4 * weights)
    saved = memory.sel(part="activations")
    assert (saved.sel(approach="software TO") >= saved.sel(approach="dense") + 4 * weights).all()
    assert np.isnan(table["cuda_step_peak"]).all()
    table.to_netcdf(tmp_path / "table.nc")  # plain attributes: storable as netCDF
    assert xr.open_dataset(tmp_path / "table.nc")["weights"].values.tolist() == list(weights)
    with pytest.raises(ValueError, match="methods"):
        measure_scaling(specs, methods=("dense", "dense"))
