"""Spoken digits: FSDD feature extraction, the two tasks' splits, the prunable CRNN at task level
and a smoke training run on the paper's features.

The step-by-step prunable RNN itself (hidden state quantized between steps, one mask per
sequence) is tested against a reference loop in ``tests/test_topology.py``
(``test_prunable_rnn_quantizes_between_steps_and_masks_once_per_sequence``); here the whole CRNN
that the task builds is checked against a hand-written forward pass.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rrampaper.analysis.spoken_digit_figures import confusion_matrix
from rrampaper.data import DatasetMissingError, FSDDRecordings, load_spoken_features
from rrampaper.experiments.train import Experiment, make_method, run
from rrampaper.models.quant import fake_quantize
from rrampaper.tasks import get_task
from rrampaper.tasks import spoken_digit_features as features
from rrampaper.tasks.spoken_digit import SpokenDigitFSDDTask, SpokenDigitTask
from rrampaper.tasks.spoken_digit_features import (
    FeatureParams,
    content_frames,
    extract,
    fsdd_features,
)
from rrampaper.topology import masked_weights, programming_counts

RATE = 8000


def clip(n_samples: int, seed: int = 0) -> np.ndarray:
    """A tone plus noise, ``n_samples`` long at 8 kHz (float32 in [-1, 1))."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / RATE
    wave = 0.3 * np.sin(2 * np.pi * 300 * t) + 0.05 * rng.standard_normal(n_samples)
    return wave.astype(np.float32)


@pytest.fixture(scope="module")
def paper_features():
    try:
        return load_spoken_features("train"), load_spoken_features("test")
    except DatasetMissingError as missing:
        pytest.skip(f"the paper's spoken-digit features are not available: {missing}")


def row_keys(X: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in np.ascontiguousarray(X, dtype=np.float32)}


# --------------------------------------------------------------------------- features
@pytest.mark.parametrize("n_samples", [1, 300, 511, 512, 2560, 4863, 4864, 5120, 12000])
def test_frames_with_content_follow_the_clip_length(n_samples):
    expected = min(1 + n_samples // 256, 20)
    assert content_frames(n_samples) == expected
    X = extract(clip(n_samples))
    assert X.shape == (23, 20) and X.dtype == np.float32
    filled = np.flatnonzero((X != 0).any(axis=0))
    np.testing.assert_array_equal(filled, np.arange(expected))  # content first, then zeros
    assert X.min() == 0.0 and X.max() == 1.0
    # each block (band energies, MFCCs) is min-max scaled over the clip's frames on its own
    for block in (X[:10, :expected], X[10:, :expected]):
        assert block.min() == 0.0 and block.max() == pytest.approx(1.0)


def test_extraction_is_deterministic_and_follows_its_parameters():
    wave = clip(6000, seed=3)
    first, second = extract(wave), extract(wave.copy())
    np.testing.assert_array_equal(first, second)
    assert FeatureParams().key() == FeatureParams().key()
    deeper = FeatureParams(floor_db=80.0)
    assert deeper.key() != FeatureParams().key()
    assert not np.array_equal(extract(wave, deeper)[:10], first[:10])
    np.testing.assert_allclose(extract(wave, deeper)[10:], first[10:])  # MFCC rows unaffected
    assert extract(wave, FeatureParams(n_frames=8, n_bands=6)).shape == (19, 8)
    with pytest.raises(ValueError, match="floor_db=0"):
        FeatureParams(floor_db=0)
    with pytest.raises(ValueError, match="fmax_hz=5000"):
        FeatureParams(fmax_hz=5000)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        extract(np.zeros((2, 100), np.float32))


def test_silent_frames_are_floored_to_zero_in_the_band_rows():
    wave = np.concatenate([np.zeros(2048, np.float32), clip(2048)])  # 8 silent frames, then sound
    X = extract(wave)
    assert content_frames(wave.size) == 17
    np.testing.assert_array_equal(X[:10, :8], 0.0)  # frames whose window holds only silence
    assert X[:10, 9:17].min() >= 0 and X[:10, 9:17].max() == 1.0
    assert (X[10:, :17] != 0).any(axis=0).all()  # the MFCC rows still fill every content frame


def test_fsdd_features_are_cached_by_parameters_and_reused(tmp_path, monkeypatch):
    waves = tuple(clip(n, seed=n) for n in (1200, 3000, 6000, 2000))
    fake = FSDDRecordings(
        waveforms=waves, labels=np.array([1, 2, 1, 2]), speakers=np.array(["a", "b", "a", "b"]),
        takes=np.array([0, 7, 12, 3]), names=("1_a_0.wav", "2_b_7.wav", "1_a_12.wav", "2_b_3.wav"))
    calls = []
    monkeypatch.setattr("rrampaper.tasks.spoken_digit_features.load_fsdd", lambda split="all": calls.append(split) or fake)
    computed = fsdd_features(folder=tmp_path)
    path = features.cache_path(folder=tmp_path)
    assert path.is_file() and path.parent == tmp_path / "features" and calls == ["all"]
    np.testing.assert_array_equal(computed.X, np.stack([extract(w) for w in waves]))
    assert [f.name for f in path.parent.iterdir()] == [path.name]  # no temporary file left

    def must_not_run(*args, **kwargs):
        raise AssertionError("the cached features should have been used")

    monkeypatch.setattr(features, "extract_many", must_not_run)
    cached = fsdd_features(folder=tmp_path)
    assert calls == ["all"]
    np.testing.assert_array_equal(cached.X, computed.X)
    np.testing.assert_array_equal(cached.takes, fake.takes)
    assert list(cached.names) == list(fake.names)
    train, test = cached.official_split("train"), cached.official_split("test")
    np.testing.assert_array_equal(test.X, computed.X[[0, 3]])  # takes 0 and 3 are test takes
    assert len(train) == 2 and train.split == "train"
    assert features.cache_path(FeatureParams(floor_db=50.0), tmp_path) != path
    with pytest.raises(AssertionError, match="cached features"):
        fsdd_features(folder=tmp_path, recompute=True)


# --------------------------------------------------------------------------- tasks
def test_tasks_are_registered_with_the_papers_hyper_parameters():
    task, fsdd = get_task("spoken_digit"), get_task("spoken_digit_fsdd")
    assert type(task) is SpokenDigitTask and type(fsdd) is SpokenDigitFSDDTask
    assert task.software_weights == fsdd.software_weights == "signed_constant"
    paper = task.hyper("paper")
    assert (paper.epochs, paper.batch_size, paper.optimizer, paper.lr, paper.momentum,
            paper.weight_decay, paper.schedule) == (60, 30, "sgd", 0.1, 0.9, 5e-4, "cosine")
    assert paper.limit_size == (0.009, 0.007, 10)
    assert fsdd.hyper("paper").n_validation == 270 and paper.n_validation == 210
    assert task.build_model().q_input.bits == 3


def test_paper_feature_splits_carve_validation_out_of_train_only(paper_features):
    train, test = paper_features
    task = get_task("spoken_digit")
    splits = task.splits(task.hyper("quick"), seed=0)
    assert splits.sizes() == {"train": 1890, "validation": 210, "test": 900}
    fit_keys, val_keys = row_keys(splits.train[0].numpy()), row_keys(splits.validation[0].numpy())
    assert len(fit_keys) == 1890 and len(val_keys) == 210
    assert val_keys <= row_keys(train.X) and fit_keys <= row_keys(train.X)
    assert not val_keys & fit_keys
    assert not (val_keys | fit_keys) & row_keys(test.X)
    np.testing.assert_array_equal(splits.test[0].numpy(), test.X)
    counts = np.bincount(splits.validation[1].numpy(), minlength=10)
    assert counts.sum() == 210 and counts.min() >= 20 and counts.max() <= 22  # stratified
    other = task.splits(task.hyper("quick"), seed=1)
    assert row_keys(other.validation[0].numpy()) != val_keys
    torch.testing.assert_close(other.test[0], splits.test[0])  # every seed: the same test set
    smoke = task.splits(task.hyper("smoke"), seed=0)
    assert smoke.sizes() == {"train": 420, "validation": 210, "test": 300}


# --------------------------------------------------------------------------- CRNN at task level
def reference_crnn(model, x: torch.Tensor) -> torch.Tensor:
    """The CRNN written out by hand (eval mode: BN with the model's running statistics, no affine)
    with the effective (masked) weights of a prunable model and 3-bit per-sample quantizers."""
    w = {name: m.effective_weight() for name, m in masked_weights(model)}

    def q(t, after_relu):
        return fake_quantize(t, 3, after_relu=after_relu, range_mode="sample")

    def bn(t, norm):
        mean, var = norm.running_mean[None, :, None, None], norm.running_var[None, :, None, None]
        return (t - mean) / torch.sqrt(var + norm.eps)

    h = q(x.unsqueeze(1), False)
    h = q(F.relu(bn(F.max_pool2d(F.conv2d(h, w["conv1.weight"], stride=(2, 1)), 2), model.bn1)), True)
    h = F.relu(bn(F.max_pool2d(F.conv2d(h, w["conv2.weight"], stride=(2, 1)), 2), model.bn2))
    seq = q(h.squeeze(2), True).transpose(1, 2)  # [B, 4, 32]
    state, states = torch.zeros(x.shape[0], 128), []
    for t in range(seq.shape[1]):
        carried = state if t == 0 else q(state, True)
        state = F.relu(seq[:, t] @ w["rnn.weight_ih_l0"].T + carried @ w["rnn.weight_hh_l0"].T)
        states.append(state)
    h = q(torch.stack(states, 1).mean(1), False)
    h = q(F.relu(h @ w["fc1.weight"].T), True)
    return F.log_softmax(h @ w["fc2.weight"].T, dim=1)


def test_software_TO_crnn_of_the_task_equals_a_hand_written_forward(paper_features):
    train, _ = paper_features
    exp = Experiment(task="spoken_digit", method="software_TO", seed=3)
    task = get_task(exp.task)
    model = make_method(exp, task, exp.hyper(task)).build(task.build_model())
    layers = dict(masked_weights(model))
    assert sum(m.scores.numel() for m in layers.values()) == 68480
    for name, masked in layers.items():  # signed Kaiming constant, exactly ceil(n / 2) kept
        fan_in = math.prod(masked.shape[1:])
        np.testing.assert_allclose(masked.weight.abs().numpy(), math.sqrt(2) / math.sqrt(0.5 * fan_in),
                                   rtol=1e-6, err_msg=name)
        assert int(masked.current_mask().sum()) == math.ceil(masked.scores.numel() / 2), name
    x, y = torch.from_numpy(train.X[:30]), torch.from_numpy(train.y[:30])
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    before = {name: m.current_mask().clone() for name, m in layers.items()}
    task.loss(model(x), y).backward()
    optimizer.step()
    changed = sum(int((m.current_mask() != before[n]).sum()) for n, m in layers.items())
    assert changed > 0  # the step moved some pairs across the top-k threshold
    counts = programming_counts(model)
    assert sum(c["set"] + c["reset"] for c in counts.values()) == changed
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x[:12]), reference_crnn(model, x[:12]))


# --------------------------------------------------------------------------- training
@pytest.mark.slow
def test_smoke_training_on_the_papers_features_beats_chance(tmp_path, paper_features):
    result = run(Experiment(task="spoken_digit", method="software_TO", profile="smoke"),
                 folder=tmp_path, progress=False)
    assert result.attrs["test_selected"] > 0.3  # chance: 0.1
    assert (result.attrs["n_train"], result.attrs["n_validation"], result.attrs["n_test"]) == (420, 210, 300)
    assert result.attrs["initial_resets"] == 68480 // 2  # every layer has an even size
    np.testing.assert_allclose(result["density"].values, 0.5)


def test_confusion_matrix_counts_true_against_predicted():
    target = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    counts = confusion_matrix(predicted, target, 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(counts.sum(axis=1), np.bincount(target))
    with pytest.raises(ValueError, match="differ in shape"):
        confusion_matrix(predicted[:2], target, 3)
