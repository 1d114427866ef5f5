"""Parity of ferrotorch and torch on CUDA: forward values and input gradients of an op catalogue,
both libraries on the same GPU from the same inputs. Run by scripts/gpu_check.sh on a GPU
machine where torch is installed (it is not a pytest file: torch is never a test dependency).

Prints one line per op and a count; exits non-zero if any op differs beyond tolerance or raises.
"""

import sys
import traceback

import numpy as np
import torch

import ferrotorch as ft

rng = np.random.default_rng(0)


def r(*shape, positive=False):
    a = rng.standard_normal(shape).astype(np.float32)
    return np.abs(a) + 0.1 if positive else a


def idx(n, *shape):
    return rng.integers(0, n, size=shape).astype(np.int64)


# name, function of (lib, *inputs), inputs as numpy arrays (float inputs get requires_grad).
CATALOGUE = [
    ("exp", lambda L, x: L.exp(x), [r(33, 65)]),
    ("log", lambda L, x: L.log(x), [r(40, 7, positive=True)]),
    ("sqrt", lambda L, x: L.sqrt(x), [r(100, positive=True)]),
    ("sin", lambda L, x: L.sin(x), [r(5, 6)]),
    ("tanh", lambda L, x: L.tanh(x), [r(17, 3)]),
    ("sigmoid", lambda L, x: L.sigmoid(x), [r(257)]),
    ("relu", lambda L, x: L.relu(x), [r(64, 64)]),
    ("abs", lambda L, x: L.abs(x), [r(9, 9)]),
    ("erf", lambda L, x: L.erf(x), [r(50)]),
    ("neg_T", lambda L, x: -x.t(), [r(8, 12)]),
    ("add_broadcast", lambda L, x, y: x + y, [r(4, 1, 5), r(3, 1)]),
    ("sub_alpha", lambda L, x, y: L.sub(x, y, alpha=2.5), [r(6, 7), r(6, 7)]),
    ("mul", lambda L, x, y: x * y, [r(31, 17), r(17)]),
    ("div", lambda L, x, y: x / y, [r(12, 12), r(12, 12, positive=True)]),
    ("pow", lambda L, x, y: x ** y, [r(20, positive=True), r(20)]),
    ("pow_scalar", lambda L, x: x ** 3, [r(20)]),
    ("maximum", lambda L, x, y: L.maximum(x, y), [r(10, 10), r(10, 10)]),
    ("atan2", lambda L, x, y: L.atan2(x, y), [r(30), r(30)]),
    ("where", lambda L, x, y: L.where(x > 0, x, y), [r(5, 8), r(5, 8)]),
    ("clamp", lambda L, x: L.clamp(x, -0.5, 0.5), [r(100)]),
    ("sum", lambda L, x: x.sum(), [r(1000, 33)]),
    ("sum_dim", lambda L, x: x.sum(dim=1, keepdim=True), [r(7, 300, 3)]),
    ("mean", lambda L, x: x.mean(dim=(0, 2)), [r(6, 5, 4)]),
    ("max_dim", lambda L, x: x.max(dim=0).values, [r(50, 20)]),
    ("amax", lambda L, x: L.amax(x, dim=-1), [r(8, 130)]),
    ("var", lambda L, x: x.var(dim=1), [r(10, 100)]),
    ("std_all", lambda L, x: x.std(), [r(3000)]),
    ("norm", lambda L, x: L.linalg.vector_norm(x, dim=1), [r(16, 32)]),
    ("logsumexp", lambda L, x: L.logsumexp(x, dim=1), [r(9, 70)]),
    ("cumsum", lambda L, x: L.cumsum(x, dim=1), [r(4, 500)]),
    ("cumprod", lambda L, x: L.cumprod(x, dim=0), [r(20, 3)]),
    ("softmax_composite", lambda L, x: (x - x.amax(1, keepdim=True)).exp()
     / (x - x.amax(1, keepdim=True)).exp().sum(1, keepdim=True), [r(32, 100)]),
    ("sort_values", lambda L, x: L.sort(x, dim=1).values, [r(6, 1000)]),
    ("topk_values", lambda L, x: L.topk(x, 5, dim=-1).values, [r(6, 300)]),
    ("mm", lambda L, a, b: a @ b, [r(64, 48), r(48, 80)]),
    ("mm_transposed", lambda L, a, b: a.t() @ b.t(), [r(48, 64), r(80, 48)]),
    ("bmm", lambda L, a, b: L.bmm(a, b), [r(5, 16, 8), r(5, 8, 12)]),
    ("matmul_broadcast", lambda L, a, b: L.matmul(a, b), [r(2, 3, 10, 7), r(7, 5)]),
    ("mv", lambda L, a, v: L.mv(a, v), [r(30, 20), r(20)]),
    ("addmm", lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2.0),
     [r(8, 9), r(8, 4), r(4, 9)]),
    ("einsum", lambda L, a, b: L.einsum("bij,bjk->bik", a, b), [r(3, 4, 5), r(3, 5, 6)]),
    ("getitem_slice", lambda L, x: x[1:, ::2] * 2, [r(10, 10)]),
    ("index_select", lambda L, x, i: L.index_select(x, 0, i), [r(10, 4), idx(10, 7)]),
    ("gather", lambda L, x, i: L.gather(x, 1, i), [r(6, 8), idx(8, 6, 3)]),
    ("advanced_index", lambda L, x, i: x[i], [r(20, 3), idx(20, 11)]),
    ("masked_fill", lambda L, x: x.masked_fill(x > 0.5, 0.0), [r(40)]),
    ("cat", lambda L, x, y: L.cat([x, y], dim=1), [r(3, 4), r(3, 2)]),
    ("stack", lambda L, x, y: L.stack([x, y]), [r(5), r(5)]),
    ("flip", lambda L, x: L.flip(x, [0]), [r(7, 3)]),
    ("transpose_contiguous", lambda L, x: x.transpose(0, 1).contiguous(), [r(33, 17)]),
    ("half_roundtrip", lambda L, x: x.half().float() * 3, [r(100)]),
]


def to_lib(L, a):
    t = L.tensor(a, device="cuda")
    if a.dtype == np.float32:
        t.requires_grad_(True)
    return t


def host(t):
    return t.detach().cpu().float().numpy() if t.dtype == ft.bfloat16 else t.detach().cpu().numpy()


def run_one(name, fn, inputs):
    outs, grads = {}, {}
    for L in (torch, ft):
        ts = [to_lib(L, a) for a in inputs]
        y = fn(L, *ts)
        w = L.tensor(np.linspace(-1, 1, y.numel(), dtype=np.float32).reshape(tuple(y.shape)),
                     device="cuda")
        (y * w).sum().backward()
        outs[L.__name__] = host(y)
        grads[L.__name__] = [host(t.grad) if t.grad is not None else None
                             for t in ts if t.requires_grad]
    np.testing.assert_allclose(outs["ferrotorch"], outs["torch"], rtol=2e-4, atol=2e-5)
    for gf, gt in zip(grads["ferrotorch"], grads["torch"]):
        assert (gf is None) == (gt is None), "gradient present in one library only"
        if gf is not None:
            np.testing.assert_allclose(gf, gt, rtol=2e-4, atol=2e-5)


def main():
    failed = []
    for name, fn, inputs in CATALOGUE:
        try:
            run_one(name, fn, inputs)
            print(f"ok    {name}")
        except Exception:  # noqa: BLE001  (report every op)
            failed.append(name)
            print(f"FAIL  {name}\n" + "".join(traceback.format_exc().splitlines(True)[-6:]))
    print(f"parity: {len(CATALOGUE) - len(failed)}/{len(CATALOGUE)} ops match torch on CUDA"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
