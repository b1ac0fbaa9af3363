"""Speed and memory of topology optimization (TO) on the paper's networks.

Prints, measured in one run on one machine (2 threads by default):

- TO training step / plain dense weight-training step of the same CNN (4-bit activations,
  paper's batch-range quantizer), at batch 60 (the paper's) and 256; goal <= 1.3;
- hardware-TO step (device reads, limit-size rule, SET/RESET counting) / plain step; goal <= 2;
- the same ratios for the spoken-digit CRNN at the paper's batch 30 (3-bit, 4 RNN steps);
- evaluation time of 10,000 28x28 images (synthetic) at batch 1000 and at the paper's 20;
- peak resident memory of one hardware-TO epoch (60,000 samples) in a fresh process.

Every step is ``zero_grad, forward, NLL loss, backward, SGD(momentum=0.9).step``; times are
medians over interleaved rounds after a warm-up. The device is :class:`rrampaper.devices.Chip`
if it can be imported and built, otherwise the Gaussian test double of ``tests/``.

With ``--device cuda`` every model and batch lives on the GPU, each timed step ends with
``torch.cuda.synchronize()``, and the epoch's peak memory is the GPU's (``max_memory_allocated``).

Run: ``.venv/bin/python benchmarks/bench_topology.py [--threads 2] [--rounds 15] [--no-epoch]
[--device cuda]``
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from rrampaper.models import FashionCNN, SpokenDigitCRNN
from rrampaper.topology import LimitSizeSchedule, make_prunable, restart_eval_reads


def make_chip(seed: int = 0):
    """A device for hardware TO: the package's Chip, or the Gaussian test double."""
    try:
        from rrampaper.devices import Chip

        return Chip(seed=seed), "rrampaper.devices.Chip"
    except Exception:  # not written yet, or not importable: use the test double
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from gaussian_chip import GaussianChip

        return GaussianChip(seed=seed), "tests/gaussian_chip.GaussianChip (test double)"


NETWORKS = {
    # name: (model factory, input shape of one sample, limit-size schedule of the paper)
    "cnn": (
        lambda: FashionCNN(activation_bits=4, range_mode="batch"),
        (1, 28, 28),
        (0.01, 0.007, 15),
    ),
    "crnn": (
        lambda: SpokenDigitCRNN(activation_bits=3, range_mode="batch"),
        (23, 20),
        (0.009, 0.007, 10),
    ),
}


#: Where models and batches live (``--device``).
DEVICE = torch.device("cpu")


def _sync() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def build(kind: str, network: str = "cnn", seed: int = 0) -> torch.nn.Module:
    """``"plain"`` (dense, trainable weights), ``"to"`` (software TO) or ``"hw"`` (hardware TO)."""
    torch.manual_seed(seed)
    factory, _, schedule = NETWORKS[network]
    model = factory()
    if kind == "to":
        model = make_prunable(model, "kaiming_normal", keep_ratio=0.5, seed=seed)
    elif kind == "hw":
        chip, _ = make_chip(seed)
        model = make_prunable(
            model, chip, keep_ratio=0.5, seed=seed, limit_size=LimitSizeSchedule(*schedule)
        )
    return model.to(DEVICE).train()


def stepper(model: torch.nn.Module, batch: int, n_batches: int = 8, network: str = "cnn"):
    """A closure doing one SGD training step on the next of ``n_batches`` fixed batches."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(batch)
    shape = NETWORKS[network][1]
    data = [torch.rand(batch, *shape, generator=gen).to(DEVICE) for _ in range(n_batches)]
    labels = [torch.randint(0, 10, (batch,), generator=gen).to(DEVICE) for _ in range(n_batches)]
    position = [0]

    def step() -> None:
        i = position[0] = (position[0] + 1) % n_batches
        optimizer.zero_grad(set_to_none=True)
        loss = F.nll_loss(model(data[i]), labels[i])
        loss.backward()
        optimizer.step()

    return step


def time_steps(
    kinds: list[str], batch: int, rounds: int, per_round: int, warmup: int, network: str = "cnn"
) -> dict[str, float]:
    """Median seconds per step of each kind: every step is timed on its own, the kinds take
    turns in rounds, so a stall of a busy machine hits one step of one kind, not a whole kind."""
    steps = {kind: stepper(build(kind, network), batch, network=network) for kind in kinds}
    for step in steps.values():
        for _ in range(warmup):
            step()
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind, step in steps.items():
            for _ in range(per_round):
                start = time.perf_counter()
                step()
                _sync()
                samples[kind].append(time.perf_counter() - start)
    return {kind: statistics.median(values) for kind, values in samples.items()}


def time_inference(kind: str, batch: int, repeats: int = 3, n_images: int = 10_000) -> float:
    """Median seconds to evaluate ``n_images`` synthetic 28x28 images in batches of ``batch``."""
    model = build(kind)
    stepper(model, 60)()  # one training step: the scores have changed since the last mask
    model.eval()
    images = torch.randn(n_images, 1, 28, 28, generator=torch.Generator().manual_seed(1)).to(DEVICE)
    times = []
    with torch.no_grad():
        for _ in range(repeats + 1):
            restart_eval_reads(model)
            start = time.perf_counter()
            for chunk in images.split(batch):
                model(chunk).argmax(1)
            _sync()
            times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def _rss_mib(field: str) -> float | None:
    """``VmRSS`` or ``VmHWM`` (peak) of this process in MiB, from /proc (Linux), or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0); False if impossible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _epoch_worker(threads: int, batch: int, n_samples: int, queue) -> None:
    torch.set_num_threads(threads)
    model = build("hw")
    step = stepper(model, batch, n_batches=1)
    step()
    start_rss = _rss_mib("VmRSS")
    exact = _reset_peak()
    start = time.perf_counter()
    for _ in range(n_samples // batch):
        step()
    elapsed = time.perf_counter() - start
    peak = _rss_mib("VmHWM") if exact else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((start_rss, peak, exact, elapsed))


def gpu_epoch_memory(batch: int = 60, n_samples: int = 60_000) -> tuple[float, float, float]:
    """(GPU MiB allocated at the start of a hardware-TO epoch, peak MiB during it, seconds)."""
    model = build("hw")
    step = stepper(model, batch, n_batches=1)
    step()
    _sync()
    start_mib = torch.cuda.memory_allocated() / 2**20
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(n_samples // batch):
        step()
    _sync()
    return start_mib, torch.cuda.max_memory_allocated() / 2**20, time.perf_counter() - start


def epoch_memory(threads: int, batch: int = 60, n_samples: int = 60_000) -> tuple:
    """(RSS MiB at the start of the epoch, peak RSS MiB during it, whether the peak is the
    epoch's own, epoch seconds), measured in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_epoch_worker, args=(threads, batch, n_samples, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--no-epoch", action="store_true", help="skip the epoch memory run")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    torch.set_num_threads(args.threads)
    where = torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {where}; "
          f"device model: {make_chip()[1]}")

    for network, batch in (("cnn", 60), ("cnn", 256), ("crnn", 30)):
        t = time_steps(
            ["plain", "to", "hw"], batch, args.rounds, args.per_round, args.warmup, network
        )
        print(
            f"{network:4s} batch {batch:3d}: plain {1e3 * t['plain']:6.2f} ms | TO {1e3 * t['to']:6.2f} "
            f"ms (x{t['to'] / t['plain']:.2f}, goal <= 1.3) | hardware TO {1e3 * t['hw']:6.2f} ms "
            f"(x{t['hw'] / t['plain']:.2f}, goal <= 2)"
        )

    for batch in (1000, 20):
        times = {kind: time_inference(kind, batch) for kind in ("plain", "to", "hw")}
        print(
            f"inference of 10,000 images at batch {batch:4d}: plain {times['plain']:.2f} s | "
            f"TO {times['to']:.2f} s | hardware TO {times['hw']:.2f} s (a read per batch)"
        )

    if not args.no_epoch and DEVICE.type == "cuda":
        start_mib, peak, elapsed = gpu_epoch_memory()
        print(f"hardware-TO epoch (60,000 samples, batch 60): {elapsed:.1f} s; GPU memory at its "
              f"start {start_mib:.0f} MiB, peak {peak:.0f} MiB ({peak - start_mib:+.0f} MiB)")
    elif not args.no_epoch:
        start_rss, peak, exact, elapsed = epoch_memory(args.threads)
        scope = "during the epoch" if exact else "of the process (peak could not be reset)"
        print(
            f"hardware-TO epoch (60,000 samples, batch 60): {elapsed:.1f} s; RSS at its start "
            f"{start_rss:.0f} MiB, peak {scope} {peak:.0f} MiB ({peak - start_rss:+.0f} MiB)"
        )


if __name__ == "__main__":
    main()
