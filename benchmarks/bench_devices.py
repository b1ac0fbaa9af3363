"""Benchmark: sample a 512 x 512 array of differential pairs and stream 1,000 reads of it.

Goal (issue #4): under 2 s and under 200 MB on 2 CPU cores, with the device effects of the
40 nm macro preset switched on (faults in the sampled array, relaxation to ``--t-inference``
after programming, and an ``adc_bits`` output ADC on one matrix-vector product per read; the
``Chip`` pass times exactly that). Prints wall time per phase, the
Python-heap peak (tracemalloc: numpy/torch buffers allocated through Python are not all seen
by it) and the growth of the process's peak resident memory (``resource.getrusage``), which
does see every allocation. Reads are generated per index from (seed, i), never stored.

Run: ``.venv/bin/python benchmarks/bench_devices.py [--rows 512 --cols 512 --reads 1000
--technology taox_40nm_macro --t-inference 86400]``
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

import torch

from rrampaper.devices import Chip, CrossbarArray, technology
from rrampaper.devices.readout import adc_quantize


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--cols", type=int, default=512)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--technology", default="taox_40nm_macro")
    parser.add_argument("--t-inference", type=float, default=86_400.0,
                        help="seconds after programming at which the Chip pass reads (relaxation)")
    args = parser.parse_args()
    tech = technology(args.technology)
    torch.set_num_threads(args.threads)
    CrossbarArray(8, 8, seed=0).read(0)  # warm up torch kernels outside the measurement

    rss0 = peak_rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    xbar = CrossbarArray(args.rows, args.cols, tech, seed=0)
    xbar.read(0)  # builds the cached noiseless weights and read sigmas
    t1 = time.perf_counter()
    total = 0.0
    for _, kept, _pruned in xbar.iter_reads(args.reads):
        total += float(kept[0, 0])  # consume each read
    c2, t2 = time.process_time(), time.perf_counter()
    rss_growth = peak_rss_mb() - rss0

    # tracemalloc slows every allocation down, so it gets its own (shorter) pass
    tracemalloc.start()
    traced = CrossbarArray(args.rows, args.cols, tech, seed=1)
    for _ in traced.iter_reads(min(args.reads, 100)):
        pass
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced

    t3 = time.perf_counter()
    chip = Chip(tech, seed=0)
    w = chip.allocate((args.rows, args.cols)).set_time(args.t_inference)
    x = torch.rand(1, args.cols)
    bits = int(tech.adc_bits) or None
    for i in range(args.reads):
        kept, _ = w.read(i)
        y = x @ kept.T
        adc_quantize(y, bits, y.abs().max())
    t4 = time.perf_counter()

    pairs = args.rows * args.cols
    print(f"array: {args.rows} x {args.cols} pairs ({2 * pairs:,} cells), {args.reads} reads, "
          f"{torch.get_num_threads()} threads, technology {tech.name}: faulty cells "
          f"{xbar.n_faulty_cells:,}, relaxation {tech.relaxation.name}, ADC {bits} bits")
    print(f"sample array          : {t1 - t0:7.3f} s")
    print(f"stream {args.reads} reads     : {t2 - t1:7.3f} s  ({(t2 - t1) / args.reads * 1e3:.2f} ms/read)")
    print(f"total                 : {t2 - t0:7.3f} s   (goal < 2 s)")
    print(f"CPU time (all threads): {c2 - c0:7.3f} s   (wall time suffers if other jobs share the cores)")
    print(f"python heap peak      : {py_peak / 2**20:7.1f} MB (tracemalloc, sample + 100 reads; "
          "torch buffers are not traced)")
    print(f"peak RSS growth       : {rss_growth:7.1f} MB (getrusage; goal < 200 MB)")
    print(f"process peak RSS      : {peak_rss_mb():7.1f} MB (includes torch itself)")
    print(f"Chip.allocate + relax to {args.t_inference:g} s + {args.reads} x (read, MVM, ADC): "
          f"{t4 - t3:.3f} s (macros opened: {chip.n_macros}; goal < 2 s)")
    print(f"[reads x cells] would be {args.reads * 2 * pairs * 4 / 2**20:,.0f} MB in float32: never held")


if __name__ == "__main__":
    main()
