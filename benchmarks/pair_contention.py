"""Do two processes slow each other on this machine? numpy work on arrays of several sizes, alone and in pairs.

    .venv/bin/python benchmarks/pair_contention.py [--rounds 2]

Each process runs the same element-wise numpy loop (cumsum, abs, maximum, a reversed copy) over an array
of the given size, about 26 M elements in all, and reports its CPU time. One process alone, then two at
once, for each size. Where a pair takes longer than one alone, the two cores share something the work
needs (a cache, the memory's bandwidth): that, not the code, bounds what `analyze --jobs 2` gains
(docs/benchmarks.md). Needs 2 free cores.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

import numpy as np

SIZES = (32_768, 65_536, 131_072, 524_288)  # float64: 256 KiB to 4 MiB an array
ELEMENTS = 26_000_000


def work(size: int, results: mp.Queue) -> None:
    x = np.random.default_rng(0).normal(size=size)
    start = time.process_time()
    with np.errstate(all="ignore"):
        for _ in range(ELEMENTS // size):
            y = np.cumsum(x)
            z = np.abs(y - x) * 2.0
            w = np.maximum(z, 0.5)
            x = w[::-1].copy() * 1e-3 + x * 0.999
    results.put(time.process_time() - start)


def run(size: int, processes: int) -> list[float]:
    results: mp.Queue = mp.Queue()
    workers = [mp.Process(target=work, args=(size, results)) for _ in range(processes)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return [results.get() for _ in workers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print("| array | alone (s CPU) | each of a pair (s CPU) | pair / alone |")
    print("|---|---|---|---|")
    for size in SIZES:
        alone = min(min(run(size, 1)) for _ in range(args.rounds))
        pair = min(max(run(size, 2)) for _ in range(args.rounds))
        print(f"| {size * 8 // 1024} KiB | {alone:.3f} | {pair:.3f} | {pair / alone:.2f} |")


if __name__ == "__main__":
    main()
