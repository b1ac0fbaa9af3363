"""Tutorial 2 (pruning): precomputed values, the explorer and the exercise checks.

Measured on a shared 2-core CPU (torch 2.13): ``precompute()`` ~3 s, ``limit_size_study()``
~2 s (plus ~2 s once per process, when the first optimizer imports ``torch._dynamo``), one
redraw of the explorer ~0.4 s. The slow tests share both through module-scoped fixtures.
"""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rrampaper import topology
from rrampaper.errors import ParameterError
from rrampaper.teaching import pruning
from rrampaper.teaching.pruning import ExerciseError, Run, Snapshot, Sweep

# --------------------------------------------------------------------------------------------
# fast: no training
# --------------------------------------------------------------------------------------------


def _fake_sweep(finals: dict[float, float], epochs: int = 2) -> Sweep:
    """A sweep whose runs reach the given final test accuracies (nothing trained)."""
    data = pruning.moons(n_train=8, n_test=8)
    mask = {"2.weight": np.ones((4, 4), dtype=bool)}
    runs = {}
    for ratio, final in finals.items():
        snaps = tuple(
            Snapshot(epoch=e, masks=mask, boundary=np.zeros((2, 2), np.float32),
                     accuracy=final if e == epochs else 0.5, sets=0, resets=0)
            for e in range(epochs + 1)
        )
        runs[ratio] = Run(keep_ratio=ratio, hardware=False, limit_size=None, snapshots=snaps,
                          initial_resets=0, seconds=0.0)
    return Sweep(data=data, runs=runs, seconds=0.0)


def test_moons_are_seeded_and_inputs_standardized_with_a_bias_column():
    a, b = pruning.moons(seed=3), pruning.moons(seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.x_train.shape == (512, 2) and a.x_test.shape == (512, 2)
    assert set(np.unique(a.y_train)) == {0, 1}
    inputs = a.inputs(a.x_train)
    assert inputs.shape == (512, 3) and inputs.dtype == torch.float32
    np.testing.assert_allclose(inputs[:, :2].mean(0).numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(inputs[:, :2].std(0, unbiased=False).numpy(), 1.0, atol=1e-5)
    assert torch.all(inputs[:, 2] == 1.0)


def test_moons_rejects_bad_sizes_naming_the_parameter():
    with pytest.raises(ParameterError, match=r"n_train=1 must be an integer >= 2"):
        pruning.moons(n_train=1)
    with pytest.raises(ParameterError, match=r"noise=-0.1"):
        pruning.moons(noise=-0.1)


def test_network_trains_only_scores_and_keeps_the_package_count():
    net = pruning.build_network(0.3, seed=0)
    names = [name for name, _ in net.named_parameters()]
    assert names == ["0.masked.scores", "2.masked.scores", "4.masked.scores"]
    net(torch.zeros(1, 3))
    counts = {name: int(mask.sum()) for name, mask in topology.masks(net).items()}
    assert counts == {"0.weight": 58, "2.weight": 1229, "4.weight": 39}  # ceil(0.3 * numel)


def test_mask_states_marks_sets_and_resets():
    previous = np.array([True, True, False, False])
    current = np.array([True, False, True, False])
    np.testing.assert_array_equal(pruning.mask_states(previous, current), [1, 3, 2, 0])


def test_sweep_rejects_keep_ratios_and_epochs_it_did_not_precompute():
    sweep = _fake_sweep({0.1: 0.8, 0.5: 0.9})
    with pytest.raises(ParameterError, match=r"keep_ratio=0.4 was not precomputed; valid keep "
                                             r"ratios: 0.1, 0.5"):
        sweep.run(0.4)
    with pytest.raises(ParameterError, match=r"epoch=3 is not a snapshot; valid epochs: "
                                             r"integers 0 to 2"):
        sweep.snapshot(0.5, 3)
    assert sweep.snapshot(0.5 + 1e-12, 2).accuracy == 0.9  # a float-rounded ratio is found
    with pytest.raises(ParameterError, match=r"keep_ratio=0 in keep_ratios must be in"):
        pruning.precompute(keep_ratios=(0,))


def test_check_kept_count(capsys):
    assert pruning.check_kept_count(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert pruning.check_kept_count(1229) is True
    assert pruning.check_kept_count(np.int64(1229)) is True
    assert "1,229" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match=r"should be 1,229; you gave 1228"):
        pruning.check_kept_count(1228)
    assert pruning.check_kept_count(np.ceil(0.3 * 4096)) is True  # a whole float is fine
    with pytest.raises(ExerciseError, match=r"should be 1,229; you gave 1228.8"):
        pruning.check_kept_count(0.3 * 4096)
    with pytest.raises(ExerciseError, match=r"should be 1,229; you gave '1229'"):
        pruning.check_kept_count("1229")
    assert issubclass(ExerciseError, AssertionError)


def test_limit_size_question_holds_one_weight_and_lets_the_count_drift():
    question = pruning.limit_size_question()
    old, new = question["old_scores"].abs(), question["new_scores"].abs()
    plain = topology.topk_mask(new, question["kept"]).int().tolist()
    assert plain == [1, 0, 1, 0]  # the top 2 of the new scores
    expected = pruning._expected_programmed_mask()
    assert expected == [1, 1, 1, 0]  # weight 1 moved 4 % < 10 %: held; weight 2 moved 16 %
    moved = ((new - old).abs() / old).tolist()
    assert moved[1] < question["threshold"] <= moved[2]


def test_check_programmed_mask(capsys):
    assert pruning.check_programmed_mask(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert pruning.check_programmed_mask([1, 1, 1, 0]) is True
    assert pruning.check_programmed_mask(torch.tensor([True, True, True, False])) is True
    assert pruning.check_programmed_mask(np.array([1.0, 1.0, 1.0, 0.0])) is True
    assert "3 weights are kept" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match=r"should be \[1, 1, 1, 0\]; you gave \[1, 0, 1, 0\]"):
        pruning.check_programmed_mask([1, 0, 1, 0])  # the plain top-k: the rule is ignored
    with pytest.raises(ExerciseError, match=r"should be \[1, 1, 1, 0\]"):
        pruning.check_programmed_mask([1, 1, 1])


def test_check_smallest_keep_ratio_on_given_accuracies(capsys):
    sweep = _fake_sweep({0.1: 0.80, 0.3: 0.96, 0.5: 0.94, 0.9: 0.97})
    assert pruning.smallest_keep_ratio(sweep) == 0.3
    assert pruning.smallest_keep_ratio(sweep, target=0.99) is None
    assert pruning.check_smallest_keep_ratio(None, sweep) is False
    assert "not answered yet" in capsys.readouterr().out
    assert pruning.check_smallest_keep_ratio(0.3, sweep) is True
    with pytest.raises(ExerciseError, match=r"should be 0.3; you gave 0.5 \(final accuracies: "
                                            r"0.1: 80.0 %"):
        pruning.check_smallest_keep_ratio(0.5, sweep)
    with pytest.raises(ExerciseError, match=r"should be 0.3; you gave '0.3'"):
        pruning.check_smallest_keep_ratio("0.3", sweep)


# --------------------------------------------------------------------------------------------
# slow: the real precomputation, shared
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep() -> Sweep:
    return pruning.precompute()


@pytest.fixture(scope="module")
def study() -> dict[float | None, Run]:
    return pruning.limit_size_study()


@pytest.mark.slow
def test_every_snapshot_keeps_exactly_the_package_count(sweep):
    assert sweep.keep_ratios == pruning.KEEP_RATIOS and sweep.epochs == pruning.EPOCHS
    assert sweep.shapes == {"0.weight": (64, 3), "2.weight": (64, 64), "4.weight": (2, 64)}
    for ratio in sweep.keep_ratios:
        run = sweep.run(ratio)
        assert [s.epoch for s in run.snapshots] == list(range(sweep.epochs + 1))
        for snap in run.snapshots:
            for name, mask in snap.masks.items():
                assert mask.dtype == bool
                assert int(mask.sum()) == topology.kept_count(mask.size, ratio), (ratio, name)
        pruned = sum(m.size - topology.kept_count(m.size, ratio)
                     for m in run.snapshots[0].masks.values())
        assert run.initial_resets == pruned


@pytest.mark.slow
def test_training_learns_a_subnetwork_at_keep_half(sweep):
    run = sweep.run(0.5)
    # measured (seed 0): 52.0 % before training, 98.2 % after 30 epochs; chance is 50 %
    assert run.snapshots[0].accuracy < 0.7
    assert run.final_accuracy >= 0.93
    first, last = run.snapshots[0].masks, run.snapshots[-1].masks
    for name in first:
        changed = int((first[name] != last[name]).sum())
        assert changed > 0, name
    assert int((first["2.weight"] != last["2.weight"]).sum()) >= 200  # measured ~1,100
    # the snapshots differ by at most what the counters saw during the epoch
    for before, after in zip(run.snapshots, run.snapshots[1:], strict=False):
        seen = sum(int((after.masks[n] & ~before.masks[n]).sum()) for n in first)
        assert seen <= after.sets and after.sets == after.resets  # exact top-k: SETs = RESETs
    assert run.switches[0] == 0 and run.switches[1:].sum() > 0


@pytest.mark.slow
def test_precomputation_is_deterministic(sweep):
    again = pruning.train(0.5, sweep.data, epochs=3)
    reference = sweep.run(0.5)
    for a, b in zip(again.snapshots, reference.snapshots[:4], strict=False):
        assert a.accuracy == b.accuracy and a.sets == b.sets
        for name in a.masks:
            np.testing.assert_array_equal(a.masks[name], b.masks[name])


@pytest.mark.slow
def test_smallest_keep_ratio_of_the_real_sweep(sweep):
    # measured final accuracies: 0.1: 87.1 %, 0.3: 97.1 %, 0.5: 98.2 %, 0.7: 96.7 %, 0.9: 95.3 %
    assert sweep.run(0.1).final_accuracy < pruning.TARGET_ACCURACY - 0.03
    assert sweep.run(0.3).final_accuracy >= pruning.TARGET_ACCURACY + 0.01
    assert pruning.check_smallest_keep_ratio(0.3, sweep) is True
    with pytest.raises(ExerciseError, match=r"should be 0.3; you gave 0.1"):
        pruning.check_smallest_keep_ratio(0.1, sweep)


@pytest.mark.slow
def test_limit_size_rule_saves_switches(study):
    assert list(study) == list(pruning.LIMIT_THRESHOLDS)
    free = study[None]
    assert all(run.hardware and run.keep_ratio == 0.5 for run in study.values())
    assert free.density() == 0.5  # plain top-k: exactly half of 4,096
    for threshold in pruning.LIMIT_THRESHOLDS[1:]:
        held = study[threshold]
        # measured: 3,080 without the rule, 2,236 at 0.01, 1,286 at 0.05
        assert held.switches.sum() <= free.switches.sum(), threshold
    assert study[0.05].switches.sum() < 0.7 * free.switches.sum()
    assert free.final_accuracy >= 0.9  # measured 96.9 % on the emulated TaOx chip
    assert study[0.01].final_accuracy >= 0.9  # measured 97.5 %
    drift = [abs(run.density() - 0.5) for t, run in study.items() if t is not None]
    assert max(drift) > 0  # the rule lets the kept fraction leave keep_ratio (0.528 at 0.01)
    table = pruning.limit_size_table(study)
    assert table["SET + RESET"].tolist() == [int(r.switches.sum()) for r in study.values()]
    fig = pruning.limit_size_figure(study)
    assert len(fig.axes) == 2
    plt.close(fig)


@pytest.mark.slow
def test_explorer_caption_follows_the_controls_and_redraws_fast(sweep):
    explorer = pruning.explorer(sweep)
    assert set(explorer.controls) == {"keep_ratio", "epoch"}
    assert list(explorer.controls["keep_ratio"].options) == [
        (f"{r:g}", r) for r in pruning.KEEP_RATIOS]
    snap = sweep.snapshot(0.5, pruning.EPOCHS)
    assert explorer.caption.startswith(f"accuracy: {100 * snap.accuracy:.1f} % · keep ratio 0.5 "
                                       f"· epoch {pruning.EPOCHS} · 2,048 of 4,096 weights kept")
    explorer.controls["epoch"].value = 1
    assert "· epoch 1 ·" in explorer.caption
    explorer.controls["keep_ratio"].value = 0.3
    assert "keep ratio 0.3 · epoch 1 · 1,229 of 4,096 weights kept" in explorer.caption
    expected = sweep.snapshot(0.3, 1)
    assert f"{expected.sets:,} SET + {expected.resets:,} RESET" in explorer.caption
    durations = []
    for _ in range(3):  # best of three: the CPU is shared
        start = time.perf_counter()
        explorer.redraw()
        durations.append(time.perf_counter() - start)
    assert min(durations) < 1.0, durations  # measured ~0.4 s
    with pytest.raises(ParameterError, match=r"layer='1.weight' is not a layer"):
        pruning.draw(sweep, 0.5, 1, layer="1.weight")
