"""torch.randn float32 on one thread, the yardstick of docs/performance.md's noise table.

Usage: /usr/bin/python3 benchmarks/python/torch_randn.py [values] [repeats]
Prints the best and median time per call over `repeats` timed blocks and the nanoseconds per value of the best.
"""
import statistics
import sys
import timeit

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
n = int(sys.argv[1]) if len(sys.argv) > 1 else 65536
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 30
out = torch.empty(n, dtype=torch.float32)
for _ in range(50):
    torch.randn(n, out=out)  # warm-up
number = 200
times = [t / number for t in timeit.repeat(lambda: torch.randn(n, out=out), number=number, repeat=repeats)]
best, median = min(times), statistics.median(times)
print(f"torch {torch.__version__}, {n} float32 values, 1 thread: best {best * 1e6:.1f} us, median {median * 1e6:.1f} us, "
      f"{best / n * 1e9:.2f} ns per value (best)")
