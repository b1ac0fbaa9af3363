"""rrampaper.devices.streams: seed derivation and ReadStream, the one read-noise implementation.

The chip and crossbar values were recorded when the formed state got its per-cell compliance
limit and a pair's kept and pruned reads started sharing one normal per read (both deliberate
model changes); the programmed-WO values date from before read noise was moved into ReadStream.
Refactoring must not change any of them.
"""

from __future__ import annotations

import pytest
import torch

from rrampaper import devices
from rrampaper.baselines.device_weight import DeviceWeight
from rrampaper.devices import streams
from rrampaper.devices.streams import READ_STREAM, ReadStream, derive_seed


def _f32(values):
    return torch.tensor(values, dtype=torch.float64).float()


def _wo_weight():
    g = torch.linspace(1e-6, 5e-5, 12).reshape(3, 4)
    return DeviceWeight(g, g.flip(0), 1e-6 * torch.ones(3, 4), 1e-5, seed=9, key=(11, 2))


def test_chip_reads_are_the_recorded_ones():
    chip = devices.Chip("taox_post_verify_static", seed=7)
    first, second = chip.allocate((3, 5)), chip.allocate((4, 6))
    kept, pruned = second.read(3)
    assert torch.equal(kept[1, :3], _f32([6.944489723537117e-05, -8.492278311678092e-07,
                                            4.461380285647465e-06]))
    assert torch.equal(pruned[2, -2:], _f32([-4.313931640353985e-06, 3.751557926534588e-07]))
    assert torch.equal(first.read(500)[0][0, :2], _f32([6.67005660943687e-05, -2.028939661613549e-06]))


def test_crossbar_reads_are_the_recorded_ones():
    xbar = devices.CrossbarArray(3, 4, seed=5)
    assert torch.equal(xbar.read(2)[1][1, :2], _f32([-2.1152852696104674e-06, 1.8583895098345238e-06]))
    assert torch.equal(xbar.read_cells(2)[0][0, :2], _f32([0.00015781470574438572, 0.00018669079872779548]))
    official = xbar.to_official_format(2, start=1)
    assert official["set"][1, :2].tolist() == [0.00015853320655878633, 0.00018875520618166775]
    assert official["reset"][0, -2:].tolist() == [1.1203063650100376e-06, 2.27696068577643e-06]


def test_programmed_wo_reads_are_the_recorded_ones():
    dw = _wo_weight()
    assert torch.equal(dw.effective_weight(4)[2, :3], _f32([3.5831661224365234, 3.8062357902526855,
                                                            3.4507532119750977]))
    assert torch.equal(dw.effective_weight(0)[0, :2], _f32([-3.5461435317993164, -3.604477882385254]))


def test_wo_and_chip_reads_are_read_stream_reads():
    """Same (seed, key, read): the chip's pair read and a programmed weight are one function.

    (A pair's read draws one normal per pair, shared by its kept and pruned states, so the kept
    read is exactly the one-quantity read of a programmed weight with the same key.)"""
    chip = devices.Chip("taox_post_verify_static", seed=7)
    chip.allocate((3, 5))
    pairs = chip.allocate((4, 6))                      # allocation 1: ReadStream(7, 1)
    kept0, pruned0 = pairs.read()
    sk, sp = pairs._sigma_kept, pairs._sigma_pruned
    stream = ReadStream(7, 1)
    for got, want in zip(pairs.read(3), stream.read_states(3, [kept0, pruned0], [sk, sp]), strict=True):
        assert torch.equal(got, want)
    dw = DeviceWeight(kept0, torch.zeros_like(kept0), sk, 1.0, seed=7, key=(1,))
    assert torch.equal(dw.effective_weight(3), stream.read(3, [kept0], [sk])[0])
    assert torch.equal(dw.effective_weight(3), pairs.read(3)[0])
    # one z per pair: kept and pruned reads deviate by the same number of their own sigmas
    kept3, pruned3 = pairs.read(3)
    assert torch.allclose((kept3 - kept0) / sk, (pruned3 - pruned0) / sp, rtol=1e-4, atol=1e-4)


def test_every_read_path_goes_through_read_stream(monkeypatch):
    calls = []
    original, original_states = ReadStream.read, ReadStream.read_states

    def spy(self, index, means, sigmas):
        calls.append((self.seed, self.key, index, len(means)))
        return original(self, index, means, sigmas)

    def spy_states(self, index, means, sigmas):
        calls.append(("states", self.seed, self.key, index, len(means)))
        return original_states(self, index, means, sigmas)

    monkeypatch.setattr(ReadStream, "read", spy)
    monkeypatch.setattr(ReadStream, "read_states", spy_states)
    devices.Chip("taox_post_verify_static", seed=3).allocate((2, 2)).read(5)
    xbar = devices.CrossbarArray(2, 2, seed=4)
    xbar.read(6)
    xbar.read_cells(7)
    xbar.to_official_format(1, start=8)
    _wo_weight().effective_weight(9)
    assert calls == [("states", 3, (0,), 5, 2), ("states", 4, (), 6, 2), (4, (1,), 7, 2),
                     (4, (2,), 8, 4), (9, (11, 2), 9, 1)]


def test_read_stream_is_random_access_and_seeded_by_seed_key_index():
    stream = ReadStream(5, 2)
    g, sigma = torch.full((3,), 1e-5), torch.full((3,), 1e-7)
    later = stream.read(10, [g], [sigma])[0]
    assert torch.equal(later, ReadStream(5, 2).read(10, [g], [sigma])[0])
    gen = torch.Generator().manual_seed(derive_seed(5, 2, READ_STREAM, 10))
    z = torch.randn((1, 3), generator=gen)
    assert torch.equal(later, torch.addcmul(g, sigma, z[0]))
    with pytest.raises(ValueError, match="index=-1"):
        stream.read(-1, [g], [sigma])
    with pytest.raises(ValueError, match="as many sigmas"):
        stream.read(0, [g, g], [sigma])


def test_read_stream_pickles_without_its_cached_generators():
    import pickle

    stream = ReadStream(1, 2)
    stream.normal(0, (2,), torch.device("cpu"), torch.float32)
    copy = pickle.loads(pickle.dumps(stream))
    assert copy._generators == {} and (copy.seed, copy.key) == (1, (2,))
    assert torch.equal(copy.normal(3, (4,), "cpu", torch.float32), stream.normal(3, (4,), "cpu", torch.float32))


def test_seed_helpers_are_public_and_documented():
    for name in ("derive_seed", "generator", "as_generator", "check_read_index", "ReadStream"):
        assert getattr(streams, name).__doc__
