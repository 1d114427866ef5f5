"""GPU benchmarks of ferrotorch against the torch installed beside it, on the same card in the
same run: matrix products (TFLOP/s), elementwise add/exp and sum over 2^28 float32 elements
(GB/s counting bytes read and written), and the per-op cost of a 1-element add from Python.

Throughput is timed with CUDA events around repeated calls after warm-up (each library with its
own events); the per-op cost is wall-clock time of a Python loop, synchronised at both ends.
Ratios are ferrotorch / torch for throughput (higher is better) and torch / ferrotorch time for
the per-op cost (higher is better), so every ratio reads ">= 1 means at least torch's level".

Usage: python benches/bench_cuda.py [--quick] [--json out.json]
"""

import argparse
import json
import statistics
import time

import torch

import ferrotorch as ft

GOALS = {"matmul": 0.95, "elementwise": 0.9, "sum": 0.9, "overhead": 1.0}


def _event_time(lib, fn, reps, warmup=3):
    """Seconds per call of fn, timed with the library's CUDA events (median of 3 batches)."""
    for _ in range(warmup):
        fn()
    lib.cuda.synchronize()
    times = []
    for _ in range(3):
        start = lib.cuda.Event(enable_timing=True)
        end = lib.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3 / reps)
    return statistics.median(times)


def _wall_time(lib, fn, reps):
    for _ in range(200):
        fn()
    lib.cuda.synchronize()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        lib.cuda.synchronize()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def _set_tf32(lib, on):
    lib.backends.cuda.matmul.allow_tf32 = on


def matmul_rows(n, quick):
    rows = []
    reps = 3 if quick else 10
    for label, dtype_name, tf32 in [("bf16", "bfloat16", False), ("f16", "float16", False),
                                    ("f32", "float32", False), ("tf32", "float32", True)]:
        res = {}
        for lib in (torch, ft):
            dtype = getattr(lib, dtype_name)
            torch.manual_seed(0)
            a_t = torch.randn(n, n, dtype=torch.float32)
            a = lib.tensor(a_t.numpy(), device="cuda").to(dtype)
            b = lib.tensor(a_t.t().contiguous().numpy(), device="cuda").to(dtype)
            _set_tf32(lib, tf32)
            s = _event_time(lib, lambda: lib.matmul(a, b), reps)
            _set_tf32(lib, False)
            res[lib.__name__] = 2 * n ** 3 / s / 1e12
        rows.append((f"matmul {n}^3 {label}", "TFLOP/s", res["ferrotorch"], res["torch"],
                     res["ferrotorch"] / res["torch"], GOALS["matmul"]))
    return rows


def bandwidth_rows(n, quick):
    reps = 5 if quick else 20
    rows = []
    cases = [("add", lambda lib, x, y: lib.add(x, y), 3, "elementwise"),
             ("exp", lambda lib, x, y: lib.exp(x), 2, "elementwise"),
             ("sum", lambda lib, x, y: lib.sum(x), 1, "sum")]
    for name, op, passes, goal in cases:
        res = {}
        for lib in (torch, ft):
            x = lib.ones(n, device="cuda")
            y = lib.ones(n, device="cuda")
            s = _event_time(lib, lambda: op(lib, x, y), reps)
            res[lib.__name__] = passes * 4 * n / s / 1e9
        rows.append((f"{name} 2^{n.bit_length() - 1} f32", "GB/s", res["ferrotorch"],
                     res["torch"], res["ferrotorch"] / res["torch"], GOALS[goal]))
    return rows


def overhead_rows(quick):
    reps = 2000 if quick else 20000
    res = {}
    for lib in (torch, ft):
        a = lib.ones(1, device="cuda")
        b = lib.ones(1, device="cuda")
        res[lib.__name__] = _wall_time(lib, lambda: a + b, reps) * 1e6
    return [("add 1 elem from Python", "us/op", res["ferrotorch"], res["torch"],
             res["torch"] / res["ferrotorch"], GOALS["overhead"])]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions")
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--only", help="run the groups whose name contains this (matmul, bw, op)")
    args = ap.parse_args(argv)
    groups = [("matmul", lambda: matmul_rows(2048 if args.quick else 8192, args.quick)),
              ("bw", lambda: bandwidth_rows(1 << (24 if args.quick else 28), args.quick)),
              ("op", lambda: overhead_rows(args.quick))]
    rows = []
    for name, run in groups:
        if args.only and args.only not in name:
            continue
        try:
            rows += run()
        except Exception as e:  # noqa: BLE001  (report every group, even after a failure)
            rows.append((name, "error", float("nan"), float("nan"), float("nan"), 0.0))
            print(f"{name}: {type(e).__name__}: {e}")
    print(f"card: {ft.cuda.get_device_name()} | torch {torch.__version__}")
    print(f"{'workload':30} {'unit':8} {'ferrotorch':>11} {'torch':>11} {'ratio':>7} {'goal':>6}")
    for w, unit, f, t, r, goal in rows:
        mark = "" if r >= goal else "  <-- below goal"
        print(f"{w:30} {unit:8} {f:11.2f} {t:11.2f} {r:7.2f} {goal:6.2f}{mark}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([dict(zip(("workload", "unit", "ferrotorch", "torch", "ratio", "goal"), r))
                       for r in rows], fh, indent=1)


if __name__ == "__main__":
    main()
