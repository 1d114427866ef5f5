"""CPU convolution, ferrotorch against torch in the same run: conv2d forward, input gradient and
weight gradient per layer shape of a small MNIST-style CNN, and that CNN's full SGD training
step. The two libraries alternate rep by rep (so drift from other load hits both alike); each
number is the median of several reps.

Ratio = torch's time / ferrotorch's time (>= 1: ferrotorch at least as fast). Two ratios: of
the medians, and of the minima. On a machine shared with other jobs the minimum is the one to
trust: torch's OpenMP team waits at every barrier for a thread that another process has
preempted (a 2 ms op then takes 25-30 ms), which swings its median far more than ferrotorch's
(rayon's idle thread steals the work instead); on a quiet machine the two agree.

Usage: python benches/bench_conv_cpu.py [--reps 15] [--quick] [--only layers|steps]
"""

import argparse
import statistics
import time

import numpy as np

import ferrotorch as ft
import torch

# (name, N, C_in, C_out, H=W): the two 3x3/pad-1 layers of the CNN at batch 64 and 128.
LAYERS = [
    ("conv1 1->32 28x28", 64, 1, 32, 28),
    ("conv2 32->64 14x14", 64, 32, 64, 14),
    ("conv1 1->32 28x28", 128, 1, 32, 28),
    ("conv2 32->64 14x14", 128, 32, 64, 14),
    ("conv1 1->16 28x28", 64, 1, 16, 28),
    ("conv2 16->32 14x14", 64, 16, 32, 14),
]

# (N, c1, c2): conv3x3(1->c1)+ReLU+maxpool2, conv3x3(c1->c2)+ReLU+maxpool2, linear(c2*7*7->10).
MODELS = [(64, 16, 32), (64, 32, 64), (128, 32, 64)]


def tensors(lib, n, cin, cout, hw, grad_x, grad_w):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((n, cin, hw, hw)).astype(np.float32), requires_grad=grad_x)
    w = lib.tensor((rng.standard_normal((cout, cin, 3, 3)) * 0.1).astype(np.float32), requires_grad=grad_w)
    gy = lib.tensor(rng.standard_normal((n, cout, hw, hw)).astype(np.float32))
    return x, w, gy


def layer_fns(lib, n, cin, cout, hw):
    """Three zero-argument callables: forward, input gradient, weight gradient. Each gradient
    needs only its own input (the other tensor does not require grad), so the fused backward
    computes one gradient; the graph is built once and replayed with retain_graph."""
    conv = lib.nn.functional.conv2d
    x, w, _ = tensors(lib, n, cin, cout, hw, False, False)

    def fwd():
        with lib.no_grad():
            conv(x, w, padding=1)

    xi, wi, gy = tensors(lib, n, cin, cout, hw, True, False)
    yi = conv(xi, wi, padding=1)

    def bwd_input():
        lib.autograd.grad(yi, [xi], gy, retain_graph=True)

    xw, ww, _ = tensors(lib, n, cin, cout, hw, False, True)
    yw = conv(xw, ww, padding=1)

    def bwd_weight():
        lib.autograd.grad(yw, [ww], gy, retain_graph=True)

    return {"fwd": fwd, "bwd-input": bwd_input, "bwd-weight": bwd_weight}


def model_step(lib, n, c1, c2):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 7 * 7, 10),
    )
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((n, 1, 28, 28)).astype(np.float32))
    t = lib.tensor(rng.integers(0, 10, n))

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), t)
        loss.backward()
        opt.step()

    return step


SETTLE_S = 0.03


def timed(fn, inner):
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def compare(make, reps, min_s=0.01):
    """Seconds per call of ferrotorch's and torch's version of `make(lib)`, alternating rep by
    rep: ((median, min) for ferrotorch, (median, min) for torch)."""
    fns = {ft: make(ft), torch: make(torch)}
    for f in fns.values():  # warm-up, and size the inner loop so a rep lasts ~min_s
        f()
    once = max(timed(fns[ft], 1), timed(fns[torch], 1), 1e-6)
    inner = max(1, int(min_s / once))
    times = {ft: [], torch: []}
    for _ in range(reps):
        for lib, f in fns.items():
            # Untimed calls first, for SETTLE_S: torch's OpenMP (libgomp) workers spin for a
            # few milliseconds after each parallel region and would share a core with the other
            # library's second thread; and a thread pool that has gone to sleep (rayon's does
            # within microseconds) runs its first calls slower. Neither happens in a loop that
            # uses one library, which is what the numbers are for.
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < SETTLE_S:
                f()
            times[lib].append(timed(f, inner))
    return [(statistics.median(times[lib]), min(times[lib])) for lib in (ft, torch)]


def row(name, f, t):
    print(f"{name:40} {f[0] * 1e3:9.3f} {t[0] * 1e3:9.3f} {t[0] / f[0]:6.2f} "
          f"{f[1] * 1e3:9.3f} {t[1] * 1e3:9.3f} {t[1] / f[1]:6.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="only batch 64 layers and one model")
    ap.add_argument("--only", choices=["layers", "steps"])
    args = ap.parse_args()
    print(f"torch {torch.__version__}, torch threads {torch.get_num_threads()}")
    print(f"{'':40} {'---------- median ----------':>28} {'----------- min ------------':>28}")
    print(f"{'workload':40} {'ft ms':>9} {'torch ms':>9} {'ratio':>6} {'ft ms':>9} {'torch ms':>9} {'ratio':>6}")
    layers = LAYERS[:2] if args.quick else LAYERS
    models = MODELS[1:2] if args.quick else MODELS
    if args.only != "steps":
        for name, n, cin, cout, hw in layers:
            for part in ("fwd", "bwd-input", "bwd-weight"):
                f, t = compare(lambda lib: layer_fns(lib, n, cin, cout, hw)[part], args.reps)
                row(f"N={n} {name} {part}", f, t)
    if args.only != "layers":
        for n, c1, c2 in models:
            f, t = compare(lambda lib: model_step(lib, n, c1, c2), args.reps, min_s=0.05)
            row(f"train step N={n} conv {c1}/{c2}", f, t)


if __name__ == "__main__":
    main()
