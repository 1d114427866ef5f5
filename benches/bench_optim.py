"""Optimizer step time, ferrotorch vs torch (when importable) in the same run.

Parameters shaped like a GPT-2-style model (embedding, per-layer attention and MLP weights,
biases and norm weights); gradients fixed; the time of one ``opt.step()`` (median of several
repetitions). torch runs its default implementation (foreach on CUDA, single-tensor loop on
the CPU) and, where it has one, ``fused=True``.

    python benches/bench_optim.py --device cuda --layers 12 --width 768
    python benches/bench_optim.py --device cpu --layers 2 --width 256
"""

import argparse
import json
import statistics
import time


def shapes(layers, width, vocab):
    out = [(vocab, width), (1024, width)]
    for _ in range(layers):
        out += [(width,), (width,), (3 * width, width), (3 * width,), (width, width), (width,),
                (width,), (width,), (4 * width, width), (4 * width,), (width, 4 * width), (width,)]
    return out + [(width,), (width,)]


def bench(torch, device, name, kwargs, layers, width, vocab, reps, steps):
    gen = torch.Generator(device="cpu").manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(*s, generator=gen).to(device))
              for s in shapes(layers, width, vocab)]
    for p in params:
        p.grad = torch.randn(*p.shape, generator=gen).to(device) * 1e-2
    opt = getattr(torch.optim, name)(params, lr=1e-3, **kwargs)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    opt.step()  # state allocation and kernel compilation
    sync()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(steps):
            opt.step()
        sync()
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times), sum(p.numel() for p in params)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=50304)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()

    import ferrotorch

    libs = [("ferrotorch", ferrotorch)]
    try:
        import torch

        libs.append(("torch", torch))
    except ImportError:
        torch = None
    workloads = [("Adam", {}), ("AdamW", {"weight_decay": 0.1}), ("SGD", {"momentum": 0.9})]
    rows = []
    for name, kwargs in workloads:
        result = {"optimizer": name}
        for lib_name, lib in libs:
            t, n = bench(lib, args.device, name, kwargs, args.layers, args.width, args.vocab,
                         args.reps, args.steps)
            result[lib_name] = t
            result["params"] = n
        if torch is not None and name in ("Adam", "AdamW", "SGD"):
            t, _ = bench(torch, args.device, name, dict(kwargs, fused=True), args.layers,
                         args.width, args.vocab, args.reps, args.steps)
            result["torch_fused"] = t
        rows.append(result)
    print(f"device {args.device}, {rows[0]['params'] / 1e6:.1f}M parameters in "
          f"{len(shapes(args.layers, args.width, args.vocab))} tensors; ms per step "
          "(ratio = torch time / ferrotorch time, > 1: ferrotorch faster)")
    for r in rows:
        line = f"{r['optimizer']:8s} ferrotorch {r['ferrotorch'] * 1e3:8.2f}"
        for k in ("torch", "torch_fused"):
            if k in r:
                line += f" | {k} {r[k] * 1e3:8.2f} (ratio {r[k] / r['ferrotorch']:.2f})"
        print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
