"""Which device read a forward pass uses: shared by topology optimization and the WO baselines.

A layer whose weights live on a (emulated) device draws a fresh *read* of it: read ``i`` is a
deterministic function of the device seed and ``i`` (device-to-device spread sampled once,
cycle-to-cycle noise per read). :class:`ReadSequence` keeps one counter per mode and a policy:

- ``"advance"``: use the mode's counter and add one, so every forward is a new read (training:
  one read per batch, like the chip-in-the-loop scripts; evaluation: one read per test batch);
- ``"fixed"``: always the counter's current read;
- ``"noiseless"``: the device-to-device values without read noise.

Call :func:`begin_evaluation` (evaluation mode, evaluation reads restarted at read 0) before
each evaluation so that every evaluation of a model sees the same reads; every evaluation loop
of the package does (:func:`rrampaper.tasks.base.predict`, the DRIVE sliding window).
"""

from __future__ import annotations

from collections.abc import Iterator

from torch import nn

from rrampaper._checks import check_choice, check_positive_int

READ_POLICIES: tuple[str, ...] = ("advance", "fixed", "noiseless")


class ReadSequence:
    """Mixin for an ``nn.Module`` that reads a device once per forward.

    Subclasses call :meth:`init_reads` in ``__init__`` and :meth:`next_read_index` once per
    forward; ``self.training`` (from ``nn.Module``) selects the mode.
    """

    training: bool

    def init_reads(self, train_reads: str = "advance", eval_reads: str = "advance") -> None:
        """Set the policies (one of :data:`READ_POLICIES`) and start both counters at 0."""
        self.train_reads = check_choice("train_reads", train_reads, READ_POLICIES)
        self.eval_reads = check_choice("eval_reads", eval_reads, READ_POLICIES)
        self.train_read = 0
        self.eval_read = 0

    def next_read_index(self) -> int | None:
        """Read index for this forward under the current mode's policy (advances if asked);
        ``None`` means noiseless."""
        if self.training:
            policy, index = self.train_reads, self.train_read
            if policy == "advance":
                self.train_read += 1
        else:
            policy, index = self.eval_reads, self.eval_read
            if policy == "advance":
                self.eval_read += 1
        return None if policy == "noiseless" else index

    def set_read_counters(self, train: int | None = None, eval: int | None = None) -> None:
        """Set the next training and/or evaluation read index (non-negative integers)."""
        if train is not None:
            self.train_read = check_positive_int("train", train, minimum=0)
        if eval is not None:
            self.eval_read = check_positive_int("eval", eval, minimum=0)

    def read_state(self) -> dict[str, int]:
        """The counters, for a checkpoint."""
        return {"train_read": self.train_read, "eval_read": self.eval_read}

    def load_read_state(self, state: dict[str, int]) -> None:
        """Restore :meth:`read_state`."""
        self.train_read = int(state["train_read"])
        self.eval_read = int(state["eval_read"])


def reading_modules(model: nn.Module) -> Iterator[ReadSequence]:
    """Every module of ``model`` that reads a device (parametrizations included)."""
    for module in model.modules():
        if isinstance(module, ReadSequence):
            yield module


def restart_eval_reads(model: nn.Module, start: int = 0) -> None:
    """Set the next evaluation read of every device-reading module of ``model`` to ``start``."""
    for module in reading_modules(model):
        module.set_read_counters(eval=start)


def begin_evaluation(model: nn.Module) -> nn.Module:
    """Put ``model`` in evaluation mode with its evaluation reads restarted at read 0.

    The one place where "an evaluation starts at read 0" is implemented: two evaluations of the
    same model then see the same device reads. Returns ``model``.
    """
    model.eval()
    restart_eval_reads(model, 0)
    return model


def set_read_policy(
    model: nn.Module,
    *,
    train_reads: str | None = None,
    eval_reads: str | None = None,
    train_start: int | None = None,
    eval_start: int | None = None,
) -> None:
    """Change the read policies and/or next read indices of every device-reading module."""
    if train_reads is not None:
        check_choice("train_reads", train_reads, READ_POLICIES)
    if eval_reads is not None:
        check_choice("eval_reads", eval_reads, READ_POLICIES)
    for module in reading_modules(model):
        if train_reads is not None:
            module.train_reads = train_reads
        if eval_reads is not None:
            module.eval_reads = eval_reads
        module.set_read_counters(train=train_start, eval=eval_start)
