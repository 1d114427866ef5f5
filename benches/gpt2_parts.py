"""Where a GPT-2-small training step spends its time: each part of the step at the step's
shapes (batch 8 x 1024 tokens, d 768, 12 heads, bf16 autocast), forward + backward, ferrotorch
and torch in the same run. Run on a GPU machine: python benches/gpt2_parts.py
"""

import statistics
import time

import numpy as np
import torch

import ferrotorch

B, T, D, H, V = 8, 1024, 768, 12, 50304


def parts(lib):
    F = lib.nn.functional
    dev, bf = "cuda", lib.bfloat16
    rng = np.random.default_rng(0)

    def t(*shape, dtype=lib.float32, grad=True):
        x = lib.from_numpy(rng.standard_normal(shape, dtype=np.float32)).to(dev, dtype)
        return x.requires_grad_() if grad else x

    q, k, v = (t(B, H, T, D // H, dtype=bf) for _ in range(3))
    x, w, b = t(B * T, D), t(3 * D, D), t(3 * D)
    xb, wfc = t(B * T, D, dtype=bf), t(4 * D, D)
    h = t(B * T, 4 * D, dtype=bf)
    ln_w, ln_b = t(D), t(D)
    logits = t(B * T, V, dtype=bf)
    tgt = lib.from_numpy(rng.integers(0, V, B * T)).to(dev)
    emb = lib.nn.Embedding(V, D).to(dev)
    idx = lib.from_numpy(rng.integers(0, V, (B, T))).to(dev)
    params = [lib.nn.Parameter(t(*s, grad=False)) for s in [(V, D)] + [(4 * D, D)] * 48]
    for p in params:
        p.grad = lib.zeros_like(p)
    opt = lib.optim.AdamW(params, lr=1e-4)

    def fb(fn):
        def run():
            out = fn()
            out.backward(lib.ones_like(out))
        return run

    def autocast(fn):
        def run():
            with lib.autocast("cuda", dtype=bf):
                return fn()
        return run

    return {
        "sdpa causal bf16 (x12 per step)": fb(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
        "qkv linear 768->2304 (x12)": fb(autocast(lambda: F.linear(x, w, b))),
        "mlp linear 768->3072 (x12, x2 with c_proj)": fb(autocast(lambda: F.linear(xb, wfc))),
        "gelu tanh bf16 8192x3072 (x12)": fb(lambda: F.gelu(h, approximate="tanh")),
        "layer_norm f32 8192x768 (x25)": fb(lambda: F.layer_norm(x, (D,), ln_w, ln_b)),
        "cross_entropy bf16 logits 8192x50304": fb(autocast(lambda: F.cross_entropy(logits, tgt))),
        "lm head 768->50304 (x1)": fb(autocast(lambda: F.linear(x, emb.weight))),
        "embedding 50304x768 (x1)": fb(lambda: emb(idx)),
        "AdamW step, 124M params": opt.step,
    }


def timed(lib, fn, reps=5):
    for _ in range(2):
        fn()
    lib.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        lib.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ft_parts, th_parts = parts(ferrotorch), parts(torch)
    print(f"{'part':44s} {'ferrotorch ms':>14s} {'torch ms':>10s} {'speedup':>8s}")
    for name in ft_parts:
        f, t = timed(ferrotorch, ft_parts[name]), timed(torch, th_parts[name])
        print(f"{name:44s} {f * 1e3:14.3f} {t * 1e3:10.3f} {t / f:8.2f}", flush=True)


if __name__ == "__main__":
    main()
