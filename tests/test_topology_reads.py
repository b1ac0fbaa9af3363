"""rrampaper.topology.reads: which device read each forward pass uses, per mode and policy."""

import pytest
import torch
from torch import nn

from rrampaper.topology.reads import (
    READ_POLICIES,
    ReadSequence,
    begin_evaluation,
    reading_modules,
    restart_eval_reads,
    set_read_policy,
)


class Reader(nn.Module, ReadSequence):
    """A module whose forward returns the read index it would use."""

    def __init__(self, **policies):
        super().__init__()
        self.init_reads(**policies)

    def forward(self):
        return self.next_read_index()


def test_advance_counts_train_and_eval_reads_separately():
    r = Reader()
    assert r.read_state() == {"train_read": 0, "eval_read": 0}
    assert [r() for _ in range(3)] == [0, 1, 2]          # one training read per batch
    r.eval()
    assert [r() for _ in range(2)] == [0, 1]             # evaluation starts at its own 0
    r.train()
    assert r() == 3                                      # training goes on where it stopped
    assert r.read_state() == {"train_read": 4, "eval_read": 2}


def test_restart_eval_reads_repeats_the_evaluation_reads_only():
    model = nn.Sequential(Reader(), nn.Sequential(nn.ReLU(), Reader()))
    readers = list(reading_modules(model))
    assert len(readers) == 2 and all(isinstance(m, Reader) for m in readers)
    for _ in range(2):
        for m in readers:
            m()
    model.eval()
    first = [[m() for m in readers] for _ in range(3)]
    assert first == [[0, 0], [1, 1], [2, 2]]
    restart_eval_reads(model)
    assert [[m() for m in readers] for _ in range(3)] == first
    restart_eval_reads(model, start=5)
    assert [m() for m in readers] == [5, 5]
    assert [m.train_read for m in readers] == [2, 2]     # untouched


def test_fixed_and_noiseless_policies():
    r = Reader(train_reads="fixed", eval_reads="noiseless")
    assert [r() for _ in range(3)] == [0, 0, 0]
    r.set_read_counters(train=7)
    assert [r() for _ in range(2)] == [7, 7]
    r.eval()
    assert [r() for _ in range(2)] == [None, None]
    assert r.eval_read == 0


def test_set_read_policy_changes_every_reading_module():
    model = nn.Sequential(Reader(), Reader())
    set_read_policy(model, train_reads="fixed", eval_reads="advance", train_start=4, eval_start=10)
    assert [(m.train_reads, m.eval_reads, m.train_read, m.eval_read) for m in model] == [
        ("fixed", "advance", 4, 10)] * 2
    model.eval()
    assert [model[0]() for _ in range(2)] == [10, 11]
    set_read_policy(model, eval_reads="noiseless")       # counters stay where they are
    assert (model[0].eval_reads, model[0].eval_read, model[1].eval_read) == ("noiseless", 12, 10)
    with pytest.raises(ValueError, match="train_reads='sometimes' is not valid"):
        set_read_policy(model, train_reads="sometimes")


def test_state_round_trip_and_validation():
    r = Reader()
    for _ in range(3):
        r()
    state = r.read_state()
    other = Reader()
    other.load_read_state(state)
    assert [other() for _ in range(2)] == [3, 4]
    assert READ_POLICIES == ("advance", "fixed", "noiseless")
    with pytest.raises(ValueError, match="eval_reads='always' is not valid"):
        Reader(eval_reads="always")
    with pytest.raises(ValueError, match="eval="):
        r.set_read_counters(eval=-1)


def test_begin_evaluation_is_the_one_restart_at_read_0(monkeypatch):
    model = nn.Sequential(Reader(), Reader())
    model.eval()
    [m() for m in model for _ in range(3)]
    model.train()
    assert begin_evaluation(model) is model
    assert not model.training and [m.eval_read for m in model] == [0, 0]
    assert [model[0]() for _ in range(2)] == [0, 1]
    # every evaluation loop of the package starts through it
    from rrampaper.tasks import base, drive
    from rrampaper.topology import reads

    started = []
    monkeypatch.setattr(reads, "begin_evaluation", lambda m: started.append(m) or m.eval())
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    base.predict(net, torch.zeros(3, 4), 2, torch.device("cpu"))
    drive.vessel_probability(nn.Sequential(nn.Conv2d(1, 2, 1), nn.LogSoftmax(1)), torch.zeros(1, 1, 8, 8),
                             None, window=8, stride=8, batch_size=1)
    assert started[0] is net and len(started) == 2
