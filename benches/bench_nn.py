"""nn building blocks, forward + backward, ferrotorch against torch in the same run: conv2d,
layer norm, softmax, cross-entropy and scaled-dot-product attention. Each workload is written
once against the torch API (`lib` is torch or ferrotorch) and the two libraries alternate.

Ratio = torch's time / ferrotorch's time (>= 1: ferrotorch at least as fast).

Usage: python benches/bench_nn.py [--device cpu|cuda] [--json out.json]
"""

import argparse
import json
import statistics
import time

import numpy as np

import ferrotorch as ft

try:
    import torch
except ImportError:  # ferrotorch alone still reports its own times
    torch = None


def workloads(device):
    small = device == "cpu"
    n, c, hw = (32, 16, 28) if small else (128, 64, 56)
    rows, cols = (1024, 1024) if small else (32768, 4096)
    b, h, s, d = (4, 4, 64, 32) if small else (8, 12, 1024, 64)
    return [
        ("conv2d 3x3 fwd+bwd", f"{n}x{c}x{hw}x{hw} -> {c}",
         lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1),
         [(n, c, hw, hw), (c, c, 3, 3)]),
        ("layer_norm fwd+bwd", f"{rows}x{cols}",
         lambda lib, x, w, bias: lib.nn.functional.layer_norm(x, (cols,), w, bias),
         [(rows, cols), (cols,), (cols,)]),
        ("softmax fwd+bwd", f"{rows}x{cols}",
         lambda lib, x: lib.nn.functional.softmax(x, -1),
         [(rows, cols)]),
        ("cross_entropy fwd+bwd", f"{rows}x{cols}",
         lambda lib, x, t: lib.nn.functional.cross_entropy(x, t),
         [(rows, cols), ("target", rows, cols)]),
        ("sdpa causal fwd+bwd", f"{b}x{h}x{s}x{d}",
         lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
         [(b, h, s, d)] * 3),
    ]


def make_args(lib, specs, device):
    rng = np.random.default_rng(0)
    args = []
    for spec in specs:
        if spec[0] == "target":
            args.append(lib.tensor(rng.integers(0, spec[2], spec[1]), device=device))
        else:
            args.append(lib.tensor(rng.standard_normal(spec).astype(np.float32), device=device, requires_grad=True))
    return args


def sync(lib, device):
    if device == "cuda":
        lib.cuda.synchronize()


def step_time(lib, fn, specs, device, reps):
    args = make_args(lib, specs, device)

    def step():
        out = fn(lib, *args)
        out.backward(lib.ones_like(out))

    for _ in range(2):
        step()
    sync(lib, device)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        sync(lib, device)
        times.append((time.perf_counter() - t0) / reps)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json")
    args = parser.parse_args()
    device = args.device
    reps = 3 if device == "cpu" else 10
    rows = []
    header = f"{'workload':26} {'shape':18} {'ferrotorch ms':>14} {'torch ms':>10} {'ratio':>6}"
    print(f"device: {device}" + (f" | torch {torch.__version__}" if torch else " | torch not importable"))
    print(header)
    for name, shape, fn, specs in workloads(device):
        f = step_time(ft, fn, specs, device, reps)
        t = step_time(torch, fn, specs, device, reps) if torch else None
        ratio = t / f if t else None
        rows.append({"workload": name, "shape": shape, "ferrotorch_s": f, "torch_s": t, "ratio": ratio})
        print(f"{name:26} {shape:18} {f * 1e3:14.3f} {t * 1e3 if t else float('nan'):10.3f} "
              f"{ratio if ratio else float('nan'):6.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": device, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
