"""The fused scaled-dot-product attention op (`_C._scaled_dot_product_flash_attention`, reached
through `F.scaled_dot_product_attention`): values against a NumPy reference, gradients against
finite differences and against the reference's own gradients, on every device; and which
calls take the fused path and which the composed one."""

import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch import _C
from ferrotorch.autograd import gradcheck, gradgradcheck
from helpers import to_np

NEG_INF = -np.inf
FUSED = ("ScaledDotProductFlashAttentionBackward0", "ScaledDotProductFlashAttentionForCpuBackward0")


def t(arr, device, dtype=torch.float64, requires_grad=False):
    x = torch.tensor(np.asarray(arr), dtype=dtype, device=device)
    return x.requires_grad_() if requires_grad else x


def fused_name(device):
    return FUSED[0] if device == "cuda" else FUSED[1]


# ---------------------------------------------------------------------------------------------
# NumPy reference (float64), with its gradients
# ---------------------------------------------------------------------------------------------


def np_bias(L, S, mask=None, is_causal=False):
    bias = np.zeros((L, S))
    if is_causal:
        bias = np.where(np.tril(np.ones((L, S), dtype=bool)), 0.0, NEG_INF)
    if mask is not None:
        bias = bias + (np.where(mask, 0.0, NEG_INF) if mask.dtype == bool else mask)
    return bias


def np_probs(q, k, bias, scale, groups):
    k = np.repeat(k, groups, axis=-3) if groups > 1 else k
    s = np.matmul(q, np.swapaxes(k, -1, -2)) * scale + bias
    m = s.max(axis=-1, keepdims=True)
    dead = np.isneginf(m)
    e = np.exp(s - np.where(dead, 0.0, m))
    z = e.sum(axis=-1, keepdims=True)
    return e / np.where(z == 0, 1.0, z)


def np_sdpa(q, k, v, mask=None, is_causal=False, scale=None, groups=1):
    """Output of attention; a fully masked row gives zeros."""
    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    p = np_probs(q, k, np_bias(q.shape[-2], k.shape[-2], mask, is_causal), scale, groups)
    v = np.repeat(v, groups, axis=-3) if groups > 1 else v
    return np.matmul(p, v)


def np_sdpa_grads(q, k, v, g, mask=None, is_causal=False, scale=None, groups=1):
    """(dq, dk, dv) of ``sum(out * g)``."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    p = np_probs(q, k, np_bias(q.shape[-2], k.shape[-2], mask, is_causal), scale, groups)
    kr = np.repeat(k, groups, axis=-3) if groups > 1 else k
    vr = np.repeat(v, groups, axis=-3) if groups > 1 else v
    dv = np.matmul(np.swapaxes(p, -1, -2), g)
    dp = np.matmul(g, np.swapaxes(vr, -1, -2))
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    dq = np.matmul(ds, kr) * scale
    dk = np.matmul(np.swapaxes(ds, -1, -2), q) * scale
    if groups > 1:
        dk = dk.reshape(*k.shape[:-3], k.shape[-3], groups, *k.shape[-2:]).sum(-3)
        dv = dv.reshape(*v.shape[:-3], v.shape[-3], groups, *v.shape[-2:]).sum(-3)
    return dq, dk, dv


TOL = {
    torch.float64: dict(rtol=1e-9, atol=1e-9),
    torch.float32: dict(rtol=2e-5, atol=2e-5),
    torch.float16: dict(rtol=1e-2, atol=1e-2),
    torch.bfloat16: dict(rtol=5e-2, atol=5e-2),
}


def check(got, want, dtype):
    np.testing.assert_allclose(to_np(got).astype(np.float64), want, **TOL[dtype])


def run(device, dtype, qs, ks, vs, rng, mask=None, is_causal=False, scale=None, groups=1, noncontiguous=False):
    """Runs the fused op forward and backward against the reference; returns the output."""
    q, k, v = (rng.standard_normal(s) for s in (qs, ks, vs))
    if dtype in (torch.float16, torch.bfloat16):
        # Inputs the low-precision dtype holds exactly, so only the computation is compared.
        q, k, v = (to_np(t(x, "cpu", dtype)).astype(np.float64) for x in (q, k, v))

    def make(x):
        if noncontiguous:
            # A transposed view, as (B, L, H, E).transpose(1, 2) gives.
            return t(np.ascontiguousarray(np.swapaxes(x, -2, -3)), device, dtype).transpose(-2, -3).requires_grad_()
        return t(x, device, dtype, requires_grad=True)

    tq, tk, tv = make(q), make(k), make(v)
    if noncontiguous:
        assert not tq.is_contiguous()
    tmask = None
    if mask is not None:
        tmask = t(mask, device, torch.bool if mask.dtype == bool else dtype)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask, is_causal=is_causal, scale=scale,
                                         enable_gqa=groups > 1)
    assert out.grad_fn.name() == fused_name(device)
    if noncontiguous and device == "cuda" and vs[-1] == qs[-1]:
        assert out.transpose(-2, -3).is_contiguous()  # written in q's memory order
    assert out.dtype == dtype and out.shape == tuple(qs[:-1]) + (vs[-1],)
    check(out, np_sdpa(q, k, v, mask, is_causal, scale, groups), dtype)
    g = rng.standard_normal(out.shape)
    if dtype in (torch.float16, torch.bfloat16):
        g = to_np(t(g, "cpu", dtype)).astype(np.float64)
    out.backward(t(g, device, dtype))
    for got, want in zip((tq.grad, tk.grad, tv.grad), np_sdpa_grads(q, k, v, g, mask, is_causal, scale, groups)):
        check(got, want, dtype)
    return out


# ---------------------------------------------------------------------------------------------
# Values and gradients
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "qs,ks,vs",
    [
        ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6)),  # L != S, E != Ev
        ((3, 4, 8), (3, 6, 8), (3, 6, 5)),  # no batch dims: heads only
        ((4, 8), (9, 8), (9, 3)),  # a single sequence, no head dim
        ((2, 2, 2, 5, 4), (2, 2, 2, 6, 4), (2, 2, 2, 6, 4)),  # two batch dims
        ((1, 2, 70, 16), (1, 2, 130, 16), (1, 2, 130, 24)),  # lengths not multiples of the tiles
        ((1, 1, 300, 32), (1, 1, 300, 32), (1, 1, 300, 32)),  # several tiles each way
    ],
)
def test_values_and_grads(device, rng, dtype, qs, ks, vs):
    run(device, dtype, qs, ks, vs, rng)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("L,S", [(5, 5), (3, 9), (9, 3), (130, 70), (70, 130), (300, 300)])
def test_causal(device, rng, dtype, L, S):
    run(device, dtype, (2, 2, L, 8), (2, 2, S, 8), (2, 2, S, 5), rng, is_causal=True)


@pytest.mark.parametrize("mshape", [(5, 7), (2, 1, 5, 7), (1, 3, 1, 7), (7,), (2, 3, 5, 7)])
def test_float_mask_broadcasts(device, rng, mshape):
    mask = rng.standard_normal(mshape)
    run(device, torch.float64, (2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 4), rng, mask=mask)


@pytest.mark.parametrize("mshape", [(5, 7), (2, 1, 5, 7), (1, 1, 1, 7)])
def test_bool_mask_broadcasts(device, rng, mshape):
    mask = rng.random(mshape) > 0.4
    mask[..., 0] = True
    run(device, torch.float64, (2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 4), rng, mask=mask)


@pytest.mark.parametrize("hq,hk", [(4, 2), (6, 1), (8, 8)])
@pytest.mark.parametrize("is_causal", [False, True])
def test_gqa(device, rng, hq, hk, is_causal):
    run(device, torch.float64, (2, hq, 67, 8), (2, hk, 45, 8), (2, hk, 45, 6), rng, is_causal=is_causal,
        groups=hq // hk)


def test_gqa_with_mask(device, rng):
    mask = rng.random((2, 4, 5, 6)) > 0.3
    mask[..., 0] = True
    run(device, torch.float64, (2, 4, 5, 8), (2, 2, 6, 8), (2, 2, 6, 3), rng, mask=mask, groups=2)


@pytest.mark.parametrize("scale", [0.1, 2.5, -0.7])
def test_scale(device, rng, scale):
    run(device, torch.float64, (2, 2, 5, 8), (2, 2, 6, 8), (2, 2, 6, 8), rng, scale=scale)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("is_causal", [False, True])
def test_noncontiguous_inputs(device, rng, dtype, is_causal):
    run(device, dtype, (2, 3, 70, 16), (2, 3, 66, 16), (2, 3, 66, 8), rng, is_causal=is_causal, noncontiguous=True)


def test_noncontiguous_last_dim_and_expanded_batch(device, rng):
    q, k, v = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 3, 7, 5)), rng.standard_normal((2, 3, 7, 4))
    tq = t(np.ascontiguousarray(np.swapaxes(q, -1, -2)), device).transpose(-1, -2)  # last dim strided
    tk = t(np.ascontiguousarray(np.swapaxes(k, -1, -2)), device).transpose(-1, -2)
    tv = t(v[:1], device).expand(2, 3, 7, 4)  # batch stride 0
    assert tq.stride()[-1] != 1 and tv.stride()[0] == 0
    out = F.scaled_dot_product_attention(tq, tk, tv)
    check(out, np_sdpa(q, k, np.broadcast_to(v[:1], v.shape)), torch.float64)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("is_causal", [False, True])
def test_half_precision(device, rng, dtype, is_causal):
    mask = None if is_causal else rng.standard_normal((1, 1, 40, 90))
    run(device, dtype, (2, 2, 40, 64), (2, 2, 90, 64), (2, 2, 90, 64), rng, mask=mask, is_causal=is_causal)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_head_dim_128(device, rng, dtype):
    run(device, dtype, (1, 2, 80, 128), (1, 2, 100, 128), (1, 2, 100, 128), rng, is_causal=True)


# Half precision with head dims of 64 and 128 and no mask runs on tensor cores on CUDA (sm_80+):
# tiles of 64 queries and keys, so lengths off the tile edges, causal tiles that are partly
# visible, and the GQA loop over query heads are each covered.
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("E", [64, 128])
@pytest.mark.parametrize("L,S", [(64, 64), (100, 77), (77, 200), (256, 256)])
@pytest.mark.parametrize("is_causal", [False, True])
def test_half_precision_tensor_core_head_dims(device, rng, dtype, E, L, S, is_causal):
    run(device, dtype, (2, 3, L, E), (2, 3, S, E), (2, 3, S, E), rng, is_causal=is_causal)


@pytest.mark.parametrize("is_causal", [False, True])
def test_half_precision_tensor_core_gqa_and_views(device, rng, is_causal):
    run(device, torch.bfloat16, (2, 4, 130, 64), (2, 2, 130, 64), (2, 2, 130, 64), rng,
        is_causal=is_causal, groups=2)
    run(device, torch.float16, (2, 3, 70, 64), (2, 3, 70, 64), (2, 3, 70, 64), rng,
        is_causal=is_causal, noncontiguous=True)


def test_half_precision_tensor_core_qkv_split_and_misaligned_rows(device, rng):
    """Heads as views of one qkv projection (a GPT block's layout), and rows whose stride and
    offset are not 16-byte aligned (copied before the kernels read them)."""
    B, T, H, E = 2, 96, 3, 64
    x = to_np(t(rng.standard_normal((B, T, 3 * H * E + 1)), "cpu", torch.bfloat16)).astype(np.float64)
    for lo in (0, 1):  # lo = 1: every row starts 2 bytes past a 16-byte boundary, stride 3HE+1
        leaf = t(x, device, torch.bfloat16, requires_grad=True)
        q, k, v = leaf[..., lo:lo + 3 * H * E].split(H * E, dim=2)
        q, k, v = (z.view(B, T, H, E).transpose(1, 2) for z in (q, k, v))
        seen = []
        for z in (q, k, v):
            z.register_hook(seen.append)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert out.grad_fn.name() == fused_name(device)
        qn, kn, vn = (np.swapaxes(z.reshape(B, T, H, E), 1, 2)
                      for z in np.split(x[..., lo:lo + 3 * H * E], 3, axis=2))
        check(out, np_sdpa(qn, kn, vn, is_causal=True), torch.bfloat16)
        g = to_np(t(rng.standard_normal(out.shape), "cpu", torch.bfloat16)).astype(np.float64)
        out.backward(t(g, device, torch.bfloat16))
        want = np.zeros_like(x)
        grads = [np.swapaxes(d, 1, 2).reshape(B, T, H * E) for d in np_sdpa_grads(qn, kn, vn, g, is_causal=True)]
        want[..., lo:lo + 3 * H * E] = np.concatenate(grads, axis=2)
        check(leaf.grad, want, torch.bfloat16)
        if device == "cuda":
            # As torch's flash kernels: the output and the gradients come in the (B, T, H, E)
            # memory order of q, k and v, so putting the heads back needs no copy.
            assert out.transpose(1, 2).is_contiguous()
            assert len(seen) == 3 and all(d.transpose(1, 2).is_contiguous() for d in seen)


def test_fully_masked_rows_give_zeros_and_zero_grads(device, rng):
    mask = np.ones((3, 70, 90), dtype=bool)
    mask[0, 5] = False
    mask[1, 69] = False
    mask[2, :, 40:] = False
    out = run(device, torch.float64, (2, 3, 70, 8), (2, 3, 90, 8), (2, 3, 90, 4), rng, mask=mask)
    np.testing.assert_array_equal(to_np(out)[:, 0, 5], 0.0)
    np.testing.assert_array_equal(to_np(out)[:, 1, 69], 0.0)
    # Every key masked: all zeros.
    q = t(rng.standard_normal((1, 4, 8)), device, requires_grad=True)
    kv = t(rng.standard_normal((1, 6, 8)), device, requires_grad=True)
    none = torch.zeros((4, 6), dtype=torch.bool, device=device)
    out = F.scaled_dot_product_attention(q, kv, kv, attn_mask=none)
    np.testing.assert_array_equal(to_np(out), 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(to_np(q.grad), 0.0)
    np.testing.assert_array_equal(to_np(kv.grad), 0.0)


def test_empty_dims(device):
    for qs, ks, vs in [((2, 0, 4), (2, 3, 4), (2, 3, 5)), ((2, 3, 4), (2, 0, 4), (2, 0, 5)),
                       ((0, 2, 3, 4), (0, 2, 3, 4), (0, 2, 3, 4)), ((2, 3, 4), (2, 5, 4), (2, 5, 0))]:
        q, k, v = (torch.randn(s, dtype=torch.float64, device=device, requires_grad=True) for s in (qs, ks, vs))
        out = F.scaled_dot_product_attention(q, k, v)
        assert out.shape == tuple(qs[:-1]) + (vs[-1],)
        np.testing.assert_array_equal(to_np(out), 0.0)
        out.sum().backward()
        for x in (q, k, v):
            assert x.grad.shape == x.shape
            np.testing.assert_array_equal(to_np(x.grad), 0.0)


# ---------------------------------------------------------------------------------------------
# Bias gradients, gradcheck, gradgradcheck
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mshape", [(5, 7), (2, 1, 5, 7), (1, 3, 1, 7)])
def test_bias_gradient(device, rng, mshape):
    q, k, v = rng.standard_normal((2, 3, 5, 8)), rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((2, 3, 7, 4))
    m = rng.standard_normal(mshape)
    tq, tk, tv = (t(x, device, requires_grad=True) for x in (q, k, v))
    tm = t(m, device, requires_grad=True)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm, is_causal=False)
    assert out.grad_fn.name() == fused_name(device)
    g = rng.standard_normal(out.shape)
    out.backward(t(g, device))
    scale = 1.0 / math.sqrt(8)
    p = np_probs(q, k, m, scale, 1)
    dp = np.matmul(g, np.swapaxes(v, -1, -2))
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    lead = ds.ndim - len(mshape)
    dm = ds.sum(axis=tuple(range(lead)))
    dm = dm.sum(axis=tuple(i for i, n in enumerate(mshape) if n == 1), keepdims=True)
    check(tm.grad, dm, torch.float64)


def test_gradcheck(device, rng):
    q = t(rng.standard_normal((1, 2, 3, 4)), device, requires_grad=True)
    k = t(rng.standard_normal((1, 2, 5, 4)), device, requires_grad=True)
    v = t(rng.standard_normal((1, 2, 5, 3)), device, requires_grad=True)
    m = t(rng.standard_normal((3, 5)), device, requires_grad=True)
    assert gradcheck(lambda a, b, c, d: F.scaled_dot_product_attention(a, b, c, attn_mask=d), (q, k, v, m))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True, scale=0.7), (q, k, v))
    bm = np.ones((3, 5), dtype=bool)
    bm[1] = False
    bm[2, 2:] = False
    tb = t(bm, device, torch.bool)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=tb), (q, k, v))
    kg = t(rng.standard_normal((1, 1, 5, 4)), device, requires_grad=True)
    vg = t(rng.standard_normal((1, 1, 5, 3)), device, requires_grad=True)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True, is_causal=True),
                     (q, kg, vg))


def test_gradgradcheck(device, rng):
    q = t(rng.standard_normal((1, 2, 3, 4)), device, requires_grad=True)
    k = t(rng.standard_normal((1, 2, 4, 4)), device, requires_grad=True)
    v = t(rng.standard_normal((1, 2, 4, 3)), device, requires_grad=True)
    m = t(rng.standard_normal((3, 4)), device, requires_grad=True)
    assert gradgradcheck(lambda a, b, c, d: F.scaled_dot_product_attention(a, b, c, attn_mask=d), (q, k, v, m))
    bm = np.ones((3, 4), dtype=bool)
    bm[1] = False  # a fully masked row
    tb = t(bm, device, torch.bool)
    assert gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=tb, is_causal=False),
                         (q, k, v))
    assert gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))
    kg = t(rng.standard_normal((1, 1, 4, 4)), device, requires_grad=True)
    vg = t(rng.standard_normal((1, 1, 4, 3)), device, requires_grad=True)
    assert gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True), (q, kg, vg))


def test_create_graph_matches_fused_gradients(device, rng):
    q, k, v = (t(rng.standard_normal(s), device, requires_grad=True) for s in ((2, 2, 9, 4), (2, 2, 7, 4), (2, 2, 7, 5)))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    g = t(rng.standard_normal(out.shape), device)
    fused = torch.autograd.grad(out, (q, k, v), g, retain_graph=True)
    composed = torch.autograd.grad(out, (q, k, v), g, create_graph=True)
    for a, b in zip(fused, composed):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-10, atol=1e-12)
    assert composed[0].requires_grad


# ---------------------------------------------------------------------------------------------
# Which path runs
# ---------------------------------------------------------------------------------------------


def test_no_graph_without_grad(device, rng):
    q = t(rng.standard_normal((2, 3, 4)), device)
    out = F.scaled_dot_product_attention(q, q, q)
    assert out.grad_fn is None
    check(out, np_sdpa(to_np(q), to_np(q), to_np(q)), torch.float64)


def test_composed_fallbacks(device, rng):
    q = t(rng.standard_normal((2, 3, 5, 4)), device, requires_grad=True)
    k = t(rng.standard_normal((1, 1, 6, 4)), device, requires_grad=True)  # batch dims broadcast
    out = F.scaled_dot_product_attention(q, k, k)
    assert out.grad_fn.name() not in FUSED
    check(out, np_sdpa(to_np(q), np.broadcast_to(to_np(k), (2, 3, 6, 4)), np.broadcast_to(to_np(k), (2, 3, 6, 4))),
          torch.float64)
    torch.manual_seed(0)
    out = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)  # dropout
    assert out.grad_fn.name() not in FUSED


def test_direct_call_errors(device):
    q = torch.randn((2, 3, 4), device=device)
    with pytest.raises(RuntimeError, match="scaled_dot_product_attention.*same dtype"):
        _C._scaled_dot_product_flash_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="equal batch dims"):
        _C._scaled_dot_product_flash_attention(torch.randn((2, 2, 3, 4), device=device), torch.randn((1, 2, 3, 4), device=device),
                                               torch.randn((1, 2, 3, 4), device=device))
    with pytest.raises(RuntimeError, match="query's embedding dim"):
        _C._scaled_dot_product_flash_attention(q, torch.randn((2, 3, 5), device=device), q)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        _C._scaled_dot_product_flash_attention(q, q, q, torch.zeros((4, 3), device=device))
    with pytest.raises(RuntimeError, match="attn_mask of the query's dtype"):
        _C._scaled_dot_product_flash_attention(q, q, q, torch.zeros((3, 3), dtype=torch.float64, device=device))
    with pytest.raises(RuntimeError, match="floating-point"):
        qi = torch.ones((2, 3, 4), dtype=torch.int64, device=device)
        _C._scaled_dot_product_flash_attention(qi, qi, qi)
    with pytest.raises(RuntimeError, match="must divide the number of heads"):
        _C._scaled_dot_product_flash_attention(torch.randn((1, 4, 3, 4), device=device), torch.randn((1, 2, 3, 4), device=device),
                                               torch.randn((1, 2, 3, 4), device=device))


def test_mixed_devices_error():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    q = torch.randn((2, 3, 4))
    with pytest.raises(RuntimeError, match="same device"):
        _C._scaled_dot_product_flash_attention(q, q.cuda(), q)


def test_large_head_dim_on_cuda_falls_back(device, rng):
    q = t(rng.standard_normal((1, 2, 5, 160)), device, requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q)
    check(out, np_sdpa(to_np(q), to_np(q), to_np(q)), torch.float64)
    if device == "cuda":
        assert out.grad_fn.name() not in FUSED
    else:
        assert out.grad_fn.name() in FUSED


@pytest.mark.parametrize("dtype,e,ev,masked", [
    (torch.float16, 64, 64, False), (torch.bfloat16, 128, 128, False), (torch.float32, 64, 64, False),
    (torch.float16, 64, 64, True), (torch.float16, 80, 80, False), (torch.float16, 64, 128, False)])
def test_flash_attention_takes(device, dtype, e, ev, masked):
    """Which inputs the fused op runs on its tensor-core kernels: half precision, head dim 64 or
    128 for queries and values alike, no mask, a GPU of compute capability 8.0 or later."""
    q = torch.zeros(1, 2, 8, e, dtype=dtype, device=device)
    v = torch.zeros(1, 2, 8, ev, dtype=dtype, device=device)
    want = (device == "cuda" and dtype != torch.float32 and e == ev and e in (64, 128) and not masked
            and torch.cuda.get_device_capability() >= (8, 0))
    assert torch._C._flash_attention_takes(q, v, masked) is want
