"""Benchmark: programming a trained model for a time sweep, once per time vs once for all times.

A device-condition sweep (notebook 09) evaluates WO at several times after programming. The
pulses do not depend on the time, so :func:`rrampaper.baselines.program_model_over_time`
programs once and relaxes to every time; this prints both wall times and their ratio, measured
in one run on the same model (a task's untrained network: programming cost does not depend on
training), and checks that both give identical conductances.

Run: ``.venv/bin/python benchmarks/bench_programming_sweep.py [--task spoken_digit
--technology taox_40nm_macro --method write_verify --threads 2]``
"""

from __future__ import annotations

import argparse
import time

import torch

from rrampaper.baselines import program_model, program_model_over_time
from rrampaper.models import weight_count
from rrampaper.tasks import get_task

TIMES_S = (1.0, 3600.0, 86400.0, 365.25 * 86400.0, 3652.5 * 86400.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="spoken_digit")
    parser.add_argument("--technology", default="taox_40nm_macro")
    parser.add_argument("--method", default="write_verify")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = get_task(args.task).build_model()
    print(f"{args.task}: {weight_count(model):,} weights, {args.technology}, {args.method}, "
          f"{len(TIMES_S)} times, {args.threads} thread(s)")

    start = time.perf_counter()
    each = [program_model(model, args.technology, args.method, seed=0, t_inference_s=t)[0]
            for t in TIMES_S]
    per_time = time.perf_counter() - start

    start = time.perf_counter()
    shared = [m for m, _ in program_model_over_time(model, args.technology, args.method,
                                                    times_s=TIMES_S, seed=0)]
    once = time.perf_counter() - start

    same = all(torch.equal(a, b) for m1, m2 in zip(each, shared, strict=True)
               for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True)
               if isinstance(a, torch.Tensor))
    print(f"program_model once per time : {per_time:7.2f} s")
    print(f"program_model_over_time     : {once:7.2f} s")
    print(f"ratio (per time / once)     : {per_time / once:7.2f} x   identical states: {same}")


if __name__ == "__main__":
    main()
