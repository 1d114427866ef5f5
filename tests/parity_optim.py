"""Parity of every optimizer (and a few schedulers) with torch (run where torch is installed,
e.g. the GPU machine): the same float32 parameters, the same gradient sequence, ten steps; the
parameters after every step compared, on CPU and, when present, CUDA.

    python tests/parity_optim.py [--device cpu|cuda|all]

Each case is written once against the torch API; `lib` is torch or ferrotorch.
"""

import argparse
import sys

import numpy as np
import torch

import ferrotorch as ft

STEPS = 10
# float32 rounding of ten steps of the same arithmetic, possibly in another order.
RTOL, ATOL = 2e-5, 2e-6

CASES = [
    ("SGD", "SGD", dict(lr=0.1)),
    ("SGD_momentum_nesterov_wd", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD_dampening_maximize", "SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, maximize=True)),
    ("Adam", "Adam", dict(lr=0.01)),
    ("Adam_amsgrad_wd", "Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", "AdamW", dict(lr=0.01, weight_decay=0.05)),
    ("AdamW_amsgrad_maximize", "AdamW", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("RMSprop", "RMSprop", dict(lr=0.01)),
    ("RMSprop_centered_momentum", "RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.01)),
    ("Adagrad", "Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", "Adadelta", dict(lr=1.0, rho=0.8, weight_decay=0.01)),
    ("Adamax", "Adamax", dict(lr=0.02)),
    ("NAdam", "NAdam", dict(lr=0.01)),
    ("NAdam_decoupled", "NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", "RAdam", dict(lr=0.01)),
    ("RAdam_decoupled", "RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
]

SCHEDULED = [
    ("SGD+OneCycleLR", "SGD", dict(lr=0.1, momentum=0.9), "OneCycleLR", dict(max_lr=0.5, total_steps=STEPS)),
    ("Adam+CosineAnnealingLR", "Adam", dict(lr=0.01), "CosineAnnealingLR", dict(T_max=4)),
]


def run(lib, device, opt_name, opt_kw, sched=None, seed=0):
    """The parameters after each of STEPS steps, as NumPy arrays."""
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (5,), (2, 2, 2)]
    params = [lib.nn.Parameter(lib.tensor(rng.standard_normal(s).astype(np.float32), device=device))
              for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(STEPS)]
    opt = getattr(lib.optim, opt_name)(params, **opt_kw)
    scheduler = getattr(lib.optim.lr_scheduler, sched[0])(opt, **sched[1]) if sched else None
    history = []
    for step in range(STEPS):
        for p, g in zip(params, grads[step]):
            p.grad = lib.tensor(g, device=device)
        opt.step()
        if scheduler is not None:
            scheduler.step()
        history.append([p.detach().cpu().numpy().copy() for p in params])
    return history


def compare(name, device, opt_name, opt_kw, sched=None):
    want = run(torch, device, opt_name, opt_kw, sched)
    try:
        got = run(ft, device, opt_name, opt_kw, sched)
    except Exception as e:  # noqa: BLE001 - report and go on to the next case
        return f"FAIL  {device:4}  {name}  raised {type(e).__name__}: {e}"
    for step, (w, g) in enumerate(zip(want, got)):
        for k, (a, b) in enumerate(zip(w, g)):
            if not np.allclose(b, a, rtol=RTOL, atol=ATOL):
                err = float(np.max(np.abs(b - a)))
                return f"FAIL  {device:4}  {name}  step {step + 1} param {k}: max abs error {err:.3g}"
    return f"ok    {device:4}  {name}"


def LBFGS_case(device):
    """LBFGS with strong Wolfe on a quadratic bowl: the iterates match torch's."""
    def solve(lib):
        a = lib.tensor(np.diag([1.0, 3.0, 10.0]).astype(np.float32), device=device)
        x = lib.nn.Parameter(lib.tensor(np.array([1.0, -2.0, 0.5], np.float32), device=device))
        opt = lib.optim.LBFGS([x], lr=1, max_iter=5, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = (x * (a @ x)).sum() * 0.5
            loss.backward()
            return loss

        out = []
        for _ in range(3):
            opt.step(closure)
            out.append(x.detach().cpu().numpy().copy())
        return out

    want, got = solve(torch), solve(ft)
    ok = all(np.allclose(g, w, rtol=RTOL, atol=1e-5) for w, g in zip(want, got))
    return f"{'ok  ' if ok else 'FAIL'}  {device:4}  LBFGS_strong_wolfe"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="all")
    args = parser.parse_args()
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    devices = [d for d in devices if d == "cpu" or (torch.cuda.is_available() and ft.cuda.is_available())]
    lines = []
    for device in devices:
        for name, opt_name, kw in CASES:
            lines.append(compare(name, device, opt_name, kw))
        for name, opt_name, kw, sched, skw in SCHEDULED:
            lines.append(compare(name, device, opt_name, kw, (sched, skw)))
        lines.append(LBFGS_case(device))
    for line in lines:
        print(line)
    ok = sum(line.startswith("ok") for line in lines)
    print(f"optim parity: {ok}/{len(lines)} cases match torch over {STEPS} steps")
    return 0 if ok == len(lines) else 1


if __name__ == "__main__":
    sys.exit(main())
