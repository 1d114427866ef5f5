"""ferrotorch against NumPy (and torch when importable), same workloads, same run.

Each workload is written once against the torch API (ferrotorch and torch run the same code);
NumPy runs its own spelling of it. Libraries alternate within each repetition so drift in the
machine's speed hits all of them alike; each figure is the median over repetitions of the mean
time per call. Before each library's timed block the benchmark first idles, then makes untimed
calls of that library for a while: thread pools (OpenBLAS, OpenMP, rayon) spin-wait after their
last job, and on a 2-core machine a spinning pool of the previous library would take a core
from the next one; and a pool that has gone to sleep runs its first calls slowly (rayon's
wake-ups cost more on this VM than OpenBLAS's, so idling alone would time the wake-up, not the
op). Prints a table of times and ratios, and writes JSON.

The "fwd+bwd" rows time a tiny expression with autograd: recording the graph, running backward
and accumulating into `.grad` (reset to None each call, as `zero_grad()` does), against NumPy
computing the same values and hand-written gradients.

Usage: python benches/bench_ops.py [--quick] [--json out.json] [--only SUBSTRING]
"""

import argparse
import json
import platform
import statistics
import sys
import time

import numpy as np

import ferrotorch

try:  # torch is optional: compared where it is installed.
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None


def _np_setup(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32).astype(dtype)


def _lib_from_np(lib, arr):
    return lib.from_numpy(np.ascontiguousarray(arr))


def workloads():
    """(name, flops_or_None, setup(kind, lib) -> zero-arg callable)."""

    def binop(shape, op):
        def setup(kind, lib):
            a, b = _np_setup(shape, seed=1), _np_setup(shape, seed=2)
            if kind == "numpy":
                return {"add": lambda: np.add(a, b), "mul": lambda: np.multiply(a, b)}[op]
            ta, tb = _lib_from_np(lib, a), _lib_from_np(lib, b)
            return {"add": lambda: ta + tb, "mul": lambda: ta * tb}[op]

        return setup

    def unop(shape, op):
        def setup(kind, lib):
            a = _np_setup(shape)
            if kind == "numpy":
                return {"exp": lambda: np.exp(a), "sum": lambda: a.sum()}[op]
            t = _lib_from_np(lib, a)
            return {"exp": lambda: t.exp(), "sum": lambda: t.sum()}[op]

        return setup

    def matmul(n):
        def setup(kind, lib):
            a, b = _np_setup((n, n), seed=1), _np_setup((n, n), seed=2)
            if kind == "numpy":
                return lambda: a @ b
            ta, tb = _lib_from_np(lib, a), _lib_from_np(lib, b)
            return lambda: ta @ tb

        return setup

    def fwd_bwd(n):
        # y = (x*w + b).sum(); y.backward(): three recorded ops and their backward, the cost of
        # the graph itself. NumPy runs the same forward and the hand-written gradients.
        def setup(kind, lib):
            x0, w0, b0 = _np_setup((n,), dtype=np.float32, seed=1), _np_setup((n,), seed=2), \
                _np_setup((n,), seed=3)
            if kind == "numpy":
                def numpy_step():
                    (x0 * w0 + b0).sum()
                    return w0.copy(), x0.copy(), np.ones_like(b0)

                return numpy_step
            x, w, b = (_lib_from_np(lib, a).requires_grad_() for a in (x0, w0, b0))

            def step():
                x.grad = w.grad = b.grad = None
                (x * w + b).sum().backward()

            return step

        return setup

    big = 1 << 24
    return [
        ("fwd+bwd (x*w+b).sum() 1 elem", None, fwd_bwd(1)),
        ("fwd+bwd (x*w+b).sum() 16 elem", None, fwd_bwd(16)),
        ("add 1 element (per-op overhead)", None, binop((1,), "add")),
        ("add 16M f32", None, binop((big,), "add")),
        ("exp 16M f32", None, unop((big,), "exp")),
        ("sum 16M f32", None, unop((big,), "sum")),
        ("matmul 256 f32", 2 * 256**3, matmul(256)),
        ("matmul 1024 f32", 2 * 1024**3, matmul(1024)),
        ("matmul 2048 f32", 2 * 2048**3, matmul(2048)),
    ]


# Idle time before each timed block, long enough for the other library's threads to stop
# spinning (OpenBLAS's spin for up to ~0.1 s), then untimed calls of this library.
_SETTLE_S = 0.15
_WARM_S = 0.03


def _warm(fn):
    time.sleep(_SETTLE_S)
    end = time.perf_counter() + _WARM_S
    while time.perf_counter() < end:
        fn()


def _calibrate(fn, target_s):
    """Iterations per repetition so one repetition takes about `target_s`."""
    _warm(fn)
    n, elapsed = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= target_s / 4 or n >= 1 << 22:
            return max(1, int(n * target_s / max(elapsed, 1e-9)))
        n *= 4


def run(quick=False, only=None):
    libs = [("ferrotorch", "torch", ferrotorch), ("numpy", "numpy", np)]
    if torch is not None:
        torch.set_num_threads(max(1, torch.get_num_threads()))
        libs.append(("torch", "torch", torch))
    reps, target = (3, 0.05) if quick else (7, 0.2)
    results = []
    for name, flops, setup in workloads():
        if only and only not in name:
            continue
        fns = {label: setup(kind, lib) for label, kind, lib in libs}
        iters = {label: _calibrate(fn, target) for label, fn in fns.items()}
        samples = {label: [] for label in fns}
        for _ in range(reps):
            for label, fn in fns.items():
                n = iters[label]
                _warm(fn)
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                samples[label].append((time.perf_counter() - t0) / n)
        row = {"workload": name, "seconds": {k: statistics.median(v) for k, v in samples.items()}}
        if flops:
            row["gflops"] = {k: flops / s / 1e9 for k, s in row["seconds"].items()}
        results.append(row)
        _print_row(row)
    return results


def _fmt_time(s):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            return f"{s / scale:7.2f} {unit}"
    return f"{s / 1e-9:7.2f} ns"


_header_done = False


def _print_row(row):
    global _header_done
    secs = row["seconds"]
    cols = list(secs)
    if not _header_done:
        head = f"{'workload':34s}" + "".join(f"{c:>13s}" for c in cols)
        head += "   ft/numpy" + ("   ft/torch" if "torch" in secs else "")
        print(head)
        _header_done = True
    line = f"{row['workload']:34s}" + "".join(f"{_fmt_time(secs[c]):>13s}" for c in cols)
    # Ratio of times: below 1.0 means ferrotorch is faster.
    line += f"{secs['ferrotorch'] / secs['numpy']:11.2f}"
    if "torch" in secs:
        line += f"{secs['ferrotorch'] / secs['torch']:11.2f}"
    print(line, flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter repetitions")
    ap.add_argument("--json", help="write results to this JSON file")
    ap.add_argument("--only", help="run workloads whose name contains this text")
    args = ap.parse_args(argv)
    print(f"machine: {platform.machine()} {platform.processor() or ''} | python {sys.version.split()[0]}"
          f" | numpy {np.__version__} | torch {torch.__version__ if torch else 'not installed'}")
    print("times per call (median of repetitions); ratios are ferrotorch time / other time\n")
    results = run(args.quick, args.only)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"platform": platform.platform(), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
