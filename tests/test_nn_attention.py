"""F.scaled_dot_product_attention, F.multi_head_attention_forward and nn.MultiheadAttention
against NumPy references."""

import math
import warnings

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck
from ferrotorch.nn.modules.attention import MultiheadAttention
from ferrotorch.nn.modules.linear import Linear
from helpers import assert_close_np, to_np

NEG_INF = -np.inf


def t(arr, device, dtype=torch.float64, requires_grad=False):
    x = torch.tensor(np.asarray(arr), dtype=dtype, device=device)
    return x.requires_grad_() if requires_grad else x


# ---------------------------------------------------------------------------------------------
# NumPy references
# ---------------------------------------------------------------------------------------------


def np_softmax_rows(s, zero_masked_rows):
    """Softmax over the last axis, row by row. A row of all -inf gives zeros (SDPA) or NaN (a
    plain softmax)."""
    out = np.empty_like(s)
    flat_in, flat_out = s.reshape(-1, s.shape[-1]), out.reshape(-1, s.shape[-1])
    for i, row in enumerate(flat_in):
        if np.all(np.isneginf(row)):
            flat_out[i] = 0.0 if zero_masked_rows else np.nan
            continue
        e = np.exp(row - row.max())
        flat_out[i] = e / e.sum()
    return out


def np_sdpa(q, k, v, mask=None, is_causal=False, scale=None, enable_gqa=False):
    L, S = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    bias = np.zeros((L, S))
    if is_causal:
        bias = np.where(np.tril(np.ones((L, S), dtype=bool)), 0.0, NEG_INF)
    if mask is not None:
        bias = bias + (np.where(mask, 0.0, NEG_INF) if mask.dtype == bool else mask)
    if enable_gqa:
        k = np.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = np.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale + bias
    return np.matmul(np_softmax_rows(scores, zero_masked_rows=True), v)


def np_mha(query, key, value, num_heads, w_q, w_k, w_v, b_q, b_k, b_v, w_o, b_o, key_padding_mask=None,
           attn_mask=None, bias_k=None, bias_v=None, add_zero_attn=False):
    """Multi-head attention for (L, N, E) inputs, head by head; masks as torch's MHA takes them
    (bool True = masked out, float = added). Returns the output and per-head weights (N, H, L, S)."""
    L, N, E = query.shape
    hd = E // num_heads
    q = query @ w_q.T + b_q
    k = key @ w_k.T + b_k
    v = value @ w_v.T + b_v
    if bias_k is not None:
        k = np.concatenate([k, np.tile(bias_k, (1, N, 1))])
        v = np.concatenate([v, np.tile(bias_v, (1, N, 1))])
    if add_zero_attn:
        k = np.concatenate([k, np.zeros((1, N, E))])
        v = np.concatenate([v, np.zeros((1, N, E))])
    S = k.shape[0]
    out = np.zeros((L, N, E))
    weights = np.zeros((N, num_heads, L, S))
    for n in range(N):
        for h in range(num_heads):
            sl = slice(h * hd, (h + 1) * hd)
            scores = q[:, n, sl] @ k[:, n, sl].T / math.sqrt(hd)
            if attn_mask is not None:
                m = attn_mask if attn_mask.ndim == 2 else attn_mask[n * num_heads + h]
                m = np.where(m, NEG_INF, 0.0) if m.dtype == bool else m
                scores[:, : m.shape[1]] += m  # keys appended by bias_kv / zero_attn are unmasked
            if key_padding_mask is not None:
                kpm = key_padding_mask[n]
                kpm = np.where(kpm, NEG_INF, 0.0) if kpm.dtype == bool else kpm
                scores[:, : kpm.shape[0]] += kpm
            w = np_softmax_rows(scores, zero_masked_rows=False)
            weights[n, h] = w
            out[:, n, sl] = w @ v[:, n, sl]
    return out @ w_o.T + b_o, weights


# ---------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "qshape,kshape,vshape",
    [
        ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)),  # batch, heads; Ev != E
        ((3, 4, 8), (3, 6, 8), (3, 6, 8)),  # no head dim
        ((4, 8), (5, 8), (5, 3)),  # a single sequence
        ((2, 3, 4, 8), (1, 1, 5, 8), (1, 1, 5, 8)),  # key and value broadcast over batch and heads
    ],
)
def test_sdpa_matches_numpy(device, rng, dtype, qshape, kshape, vshape):
    q, k, v = (rng.standard_normal(s) for s in (qshape, kshape, vshape))
    out = F.scaled_dot_product_attention(t(q, device, dtype), t(k, device, dtype), t(v, device, dtype))
    assert out.dtype == dtype
    assert_close_np(out, np_sdpa(q, k, v))


def test_sdpa_bool_mask_true_takes_part(device, rng):
    q, k, v = rng.standard_normal((2, 2, 3, 4)), rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 2, 5, 4))
    mask = rng.random((3, 5)) > 0.4
    mask[:, 0] = True  # every query keeps a key
    out = F.scaled_dot_product_attention(t(q, device), t(k, device), t(v, device), attn_mask=t(mask, device, torch.bool))
    assert_close_np(out, np_sdpa(q, k, v, mask=mask))
    # Masking key j from every query is the same as dropping key j.
    keep = np.array([True, False, True, True, False])
    dropped = np_sdpa(q, k[..., keep, :], v[..., keep, :])
    full = np.broadcast_to(keep, (3, 5))
    out = F.scaled_dot_product_attention(t(q, device), t(k, device), t(v, device), attn_mask=t(full, device, torch.bool))
    assert_close_np(out, dropped)


def test_sdpa_float_mask_is_added(device, rng):
    q, k, v = rng.standard_normal((2, 2, 3, 4)), rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 2, 5, 4))
    mask = rng.standard_normal((2, 1, 3, 5))  # broadcasts over heads
    mask[0, 0, 1, 2] = NEG_INF
    out = F.scaled_dot_product_attention(t(q, device), t(k, device), t(v, device), attn_mask=t(mask, device))
    assert_close_np(out, np_sdpa(q, k, v, mask=mask))


def test_sdpa_float32_mask_with_float64_query(device, rng):
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    mask = rng.standard_normal((3, 3)).astype(np.float32)
    out = F.scaled_dot_product_attention(t(q, device), t(k, device), t(v, device), attn_mask=t(mask, device, torch.float32))
    assert out.dtype == torch.float64
    assert_close_np(out, np_sdpa(q, k, v, mask=mask.astype(np.float64)))


def test_sdpa_fully_masked_row_gives_zeros_and_zero_grad(device, rng):
    q = t(rng.standard_normal((1, 3, 4)), device, requires_grad=True)
    k = t(rng.standard_normal((1, 5, 4)), device, requires_grad=True)
    v = t(rng.standard_normal((1, 5, 4)), device, requires_grad=True)
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=t(mask, device, torch.bool))
    assert_close_np(out, np_sdpa(to_np(q), to_np(k), to_np(v), mask=mask))
    np.testing.assert_array_equal(to_np(out)[0, 1], 0.0)
    out.sum().backward()
    for x in (q, k, v):
        assert np.isfinite(to_np(x.grad)).all()
    np.testing.assert_array_equal(to_np(q.grad)[0, 1], 0.0)
    # A float mask of -inf is the same as a False in a boolean one.
    fmask = np.where(mask, 0.0, NEG_INF)
    out2 = F.scaled_dot_product_attention(q, k, v, attn_mask=t(fmask, device))
    assert_close_np(out2, to_np(out))


@pytest.mark.parametrize("L,S", [(4, 4), (3, 5), (5, 3)])
def test_sdpa_is_causal_top_left(device, rng, L, S):
    q, k, v = rng.standard_normal((2, 2, L, 4)), rng.standard_normal((2, 2, S, 4)), rng.standard_normal((2, 2, S, 3))
    out = F.scaled_dot_product_attention(t(q, device), t(k, device), t(v, device), is_causal=True)
    assert_close_np(out, np_sdpa(q, k, v, is_causal=True))
    # The first query sees only the first key.
    assert_close_np(out[:, :, 0], v[:, :, 0])
    explicit = t(np.tril(np.ones((L, S), dtype=bool)), device, torch.bool)
    same = F.scaled_dot_product_attention(t(q, device), t(k, device), t(v, device), attn_mask=explicit)
    assert_close_np(out, to_np(same))


@pytest.mark.parametrize("scale", [0.1, 1.0, 2.5, -0.7])
def test_sdpa_scale(device, rng, scale):
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))
    out = F.scaled_dot_product_attention(t(q, device), t(k, device), t(v, device), scale=scale)
    assert_close_np(out, np_sdpa(q, k, v, scale=scale))


@pytest.mark.parametrize("hq,hk,hv", [(4, 2, 2), (6, 1, 1), (6, 3, 2), (4, 4, 4)])
def test_sdpa_gqa(device, rng, hq, hk, hv):
    q = rng.standard_normal((2, hq, 3, 4))
    k = rng.standard_normal((2, hk, 5, 4))
    v = rng.standard_normal((2, hv, 5, 3))
    mask = rng.random((2, hq, 3, 5)) > 0.3
    mask[..., 0] = True
    args = (t(q, device), t(k, device), t(v, device))
    out = F.scaled_dot_product_attention(*args, attn_mask=t(mask, device, torch.bool), enable_gqa=True)
    assert out.shape == (2, hq, 3, 3)
    assert_close_np(out, np_sdpa(q, k, v, mask=mask, enable_gqa=True))
    out = F.scaled_dot_product_attention(*args, is_causal=True, enable_gqa=True)
    assert_close_np(out, np_sdpa(q, k, v, is_causal=True, enable_gqa=True))


def test_sdpa_dropout(device):
    torch.manual_seed(0)
    S = 400
    q = torch.zeros((1, 1, 8), dtype=torch.float64, device=device)  # uniform attention, 1/S each
    k = torch.randn((1, S, 8), dtype=torch.float64, device=device)
    v = torch.ones((1, S, 1), dtype=torch.float64, device=device)
    out = to_np(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)).item()
    kept = out * S * 0.5  # each kept weight is (1/S) / (1 - p)
    assert abs(kept - round(kept)) < 1e-9
    assert 0.35 * S < kept < 0.65 * S
    zero = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    np.testing.assert_array_equal(to_np(zero), 0.0)


def test_sdpa_half_precision(device, rng):
    q, k, v = (rng.standard_normal((2, 3, 4, 8)) for _ in range(3))
    for dtype in (torch.float16, torch.bfloat16):
        out = F.scaled_dot_product_attention(t(q, device, dtype), t(k, device, dtype), t(v, device, dtype))
        assert out.dtype == dtype
        np.testing.assert_allclose(to_np(out), np_sdpa(q, k, v), rtol=0.05, atol=0.05)


@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_sdpa_half_precision_long_sequences(device, rng, dtype, is_causal):
    """Long enough for CUDA's tensor-core path (cuBLAS products around a softmax); forward and
    gradients against float64 NumPy, including under autocast with float32 inputs."""
    L, S, E = 256, 320, 16
    q, k, v = rng.standard_normal((2, 2, L, E)), rng.standard_normal((2, 2, S, E)), rng.standard_normal((2, 2, S, E))
    qt, kt, vt = (t(a, device, dtype, requires_grad=True) for a in (q, k, v))
    out = F.scaled_dot_product_attention(qt, kt, vt, is_causal=is_causal)
    assert out.dtype == dtype
    np.testing.assert_allclose(to_np(out), np_sdpa(q, k, v, is_causal=is_causal), rtol=0.05, atol=0.05)
    g = rng.standard_normal(out.shape)
    out.backward(t(g, device, dtype))
    # The reference gradients: float64 through the same formula.
    q64, k64, v64 = (t(a, device, torch.float64, requires_grad=True) for a in (q, k, v))
    F.scaled_dot_product_attention(q64, k64, v64, is_causal=is_causal).backward(t(g, device))
    for got, want in ((qt, q64), (kt, k64), (vt, v64)):
        assert got.grad.dtype == dtype
        np.testing.assert_allclose(to_np(got.grad), to_np(want.grad), rtol=0.05, atol=0.1)
    with torch.autocast(device, dtype=dtype):
        q32, k32, v32 = (t(a, device, torch.float32) for a in (q, k, v))
        out = F.scaled_dot_product_attention(q32, k32, v32, is_causal=is_causal)
    assert out.dtype == dtype
    np.testing.assert_allclose(to_np(out), np_sdpa(q, k, v, is_causal=is_causal), rtol=0.05, atol=0.05)


@pytest.mark.parametrize("L,S", [(5, 5), (3, 7), (7, 3), (1, 4)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_causal_softmax(device, rng, L, S, dtype):
    """The softmax that applies SDPA's causal mask itself: masked entries are exactly 0, the
    rest is the softmax over the visible columns; gradients by gradcheck (float64)."""
    a = rng.standard_normal((2, 3, L, S))
    x = t(a, device, dtype)
    visible = np.tril(np.ones((L, S), dtype=bool))
    want = np_softmax_rows(np.where(visible, a, NEG_INF), zero_masked_rows=True)
    got = torch._C._causal_softmax(x)
    tol = 1e-12 if dtype == torch.float64 else (1e-6 if dtype == torch.float32 else 1e-2)
    np.testing.assert_allclose(to_np(got), want, rtol=tol, atol=tol)
    assert np.all(to_np(got)[..., ~visible] == 0)
    if dtype == torch.float64:
        assert gradcheck(torch._C._causal_softmax, (t(a, device, requires_grad=True),))


def test_sdpa_empty_keys(device):
    q = torch.randn((2, 3, 4), device=device)
    k = torch.randn((2, 0, 4), device=device)
    v = torch.randn((2, 0, 5), device=device)
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5)
    np.testing.assert_array_equal(to_np(out), 0.0)


def test_sdpa_errors(device):
    q = torch.randn((2, 3, 4), device=device)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=torch.ones((3, 3), dtype=torch.bool, device=device), is_causal=True)
    with pytest.raises(RuntimeError, match="Expected query, key, and value to have the same dtype, but got query.dtype: "
                       "float key.dtype: double and value.dtype: float instead."):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="at least 2 dimensional, but got query.dim: 1"):
        F.scaled_dot_product_attention(q[0, 0], q, q)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float or to match query dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=torch.ones((3, 3), dtype=torch.int64, device=device))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=torch.zeros((4, 3), device=device))
    q4 = torch.randn((1, 4, 3, 4), device=device)
    k3 = torch.randn((1, 3, 3, 4), device=device)
    with pytest.raises(RuntimeError, match="must divide the number of heads in query"):
        F.scaled_dot_product_attention(q4, k3, k3, enable_gqa=True)


def test_sdpa_gradcheck(device, rng):
    q = t(rng.standard_normal((1, 2, 3, 4)), device, requires_grad=True)
    k = t(rng.standard_normal((1, 2, 4, 4)), device, requires_grad=True)
    v = t(rng.standard_normal((1, 2, 4, 3)), device, requires_grad=True)
    fmask = t(rng.standard_normal((3, 4)), device, requires_grad=True)
    assert gradcheck(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m), (q, k, v, fmask))
    bmask = np.ones((3, 4), dtype=bool)
    bmask[0, 1:] = False
    bmask[2] = False  # a fully masked row
    bm = t(bmask, device, torch.bool)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=bm, scale=0.3), (q, k, v))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))
    kg = t(rng.standard_normal((1, 1, 4, 4)), device, requires_grad=True)
    vg = t(rng.standard_normal((1, 1, 4, 3)), device, requires_grad=True)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True), (q, kg, vg))


# ---------------------------------------------------------------------------------------------
# multi_head_attention_forward
# ---------------------------------------------------------------------------------------------


def _mha_weights(rng, E, kdim=None, vdim=None):
    kdim, vdim = kdim or E, vdim or E
    return dict(
        w_q=rng.standard_normal((E, E)) / math.sqrt(E),
        w_k=rng.standard_normal((E, kdim)) / math.sqrt(kdim),
        w_v=rng.standard_normal((E, vdim)) / math.sqrt(vdim),
        b_q=rng.standard_normal(E) * 0.1,
        b_k=rng.standard_normal(E) * 0.1,
        b_v=rng.standard_normal(E) * 0.1,
        w_o=rng.standard_normal((E, E)) / math.sqrt(E),
        b_o=rng.standard_normal(E) * 0.1,
    )


def _f_mha(device, query, key, value, H, w, **kw):
    """F.multi_head_attention_forward with the packed weights of ``w``."""
    in_w = np.concatenate([w["w_q"], w["w_k"], w["w_v"]])
    in_b = np.concatenate([w["b_q"], w["b_k"], w["b_v"]])
    extra = {}
    for name in ("bias_k", "bias_v"):
        extra[name] = None if kw.get(name) is None else t(kw.pop(name), device)
    return F.multi_head_attention_forward(
        t(query, device), t(key, device), t(value, device), query.shape[-1], H, t(in_w, device), t(in_b, device),
        extra["bias_k"], extra["bias_v"], kw.pop("add_zero_attn", False), 0.0, t(w["w_o"], device),
        t(w["b_o"], device), **kw,
    )


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_forward_self_and_cross(device, rng, need_weights):
    E, H, L, S, N = 8, 2, 3, 5, 2
    w = _mha_weights(rng, E)
    x = rng.standard_normal((L, N, E))
    mem = rng.standard_normal((S, N, E))
    for query, kv in ((x, x), (x, mem)):
        out, weights = _f_mha(device, query, kv, kv, H, w, need_weights=need_weights)
        ref, ref_w = np_mha(query, kv, kv, H, **w)
        assert_close_np(out, ref)
        if need_weights:
            assert_close_np(weights, ref_w.mean(axis=1))
        else:
            assert weights is None


def test_mha_forward_masks(device, rng):
    E, H, L, S, N = 8, 2, 3, 4, 2
    w = _mha_weights(rng, E)
    q, kv = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, E))
    kpm = np.zeros((N, S), dtype=bool)
    kpm[0, 2:] = True
    attn2 = rng.standard_normal((L, S))
    attn3 = rng.random((N * H, L, S)) > 0.7
    attn3[..., 0] = False
    for kw in (dict(key_padding_mask=kpm), dict(attn_mask=attn2), dict(attn_mask=attn3),
               dict(attn_mask=attn3, key_padding_mask=kpm)):
        ref, ref_w = np_mha(q, kv, kv, H, **w, **kw)
        tkw = {n: t(m, device, torch.bool if m.dtype == bool else torch.float64) for n, m in kw.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, weights = _f_mha(device, q, kv, kv, H, w, average_attn_weights=False, **tkw)
            assert_close_np(out, ref)
            assert_close_np(weights, ref_w)
            out, _ = _f_mha(device, q, kv, kv, H, w, need_weights=False, **tkw)
            assert_close_np(out, ref)


def test_mha_float_key_padding_mask_equals_bool(device, rng):
    E, H, L, S, N = 4, 2, 2, 3, 2
    w = _mha_weights(rng, E)
    q, kv = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, E))
    kpm = np.array([[False, False, True], [False, True, True]])
    out_b, w_b = _f_mha(device, q, kv, kv, H, w, key_padding_mask=t(kpm, device, torch.bool))
    out_f, w_f = _f_mha(device, q, kv, kv, H, w, key_padding_mask=t(np.where(kpm, NEG_INF, 0.0), device))
    assert_close_np(out_f, to_np(out_b))
    assert_close_np(w_f, to_np(w_b))
    np.testing.assert_array_equal(to_np(w_b)[1, :, 1:], 0.0)


def test_mha_mismatched_mask_types_warn(device, rng):
    E, H, L, N = 4, 2, 2, 1
    w = _mha_weights(rng, E)
    x = rng.standard_normal((L, N, E))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        _f_mha(device, x, x, x, H, w, key_padding_mask=t(np.zeros((N, L), bool), device, torch.bool),
               attn_mask=t(np.zeros((L, L)), device))


def test_mha_fully_masked_query(device, rng):
    """torch's weights path uses a plain softmax (NaN); the SDPA path gives zeros."""
    E, H, L, N = 4, 2, 2, 1
    w = _mha_weights(rng, E)
    x = rng.standard_normal((L, N, E))
    mask = np.array([[False, False], [True, True]])
    out, weights = _f_mha(device, x, x, x, H, w, attn_mask=t(mask, device, torch.bool))
    assert np.isnan(to_np(weights)[0, 1]).all() and np.isnan(to_np(out)[1]).all()
    out, _ = _f_mha(device, x, x, x, H, w, attn_mask=t(mask, device, torch.bool), need_weights=False)
    assert_close_np(out[1], np.broadcast_to(w["b_o"], (N, E)))


def test_mha_is_causal(device, rng):
    E, H, L, N = 8, 2, 4, 2
    w = _mha_weights(rng, E)
    x = rng.standard_normal((L, N, E))
    causal = np.triu(np.full((L, L), NEG_INF), 1)
    ref, _ = np_mha(x, x, x, H, **w, attn_mask=causal)
    for need_weights in (True, False):
        out, _ = _f_mha(device, x, x, x, H, w, attn_mask=t(causal, device), is_causal=True, need_weights=need_weights)
        assert_close_np(out, ref)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        _f_mha(device, x, x, x, H, w, is_causal=True)


def test_mha_unbatched(device, rng):
    E, H, L, S = 8, 4, 3, 5
    w = _mha_weights(rng, E)
    q, kv = rng.standard_normal((L, E)), rng.standard_normal((S, E))
    kpm = np.array([False, True, False, False, True])
    attn3 = rng.standard_normal((H, L, S))
    out, weights = _f_mha(device, q, kv, kv, H, w, key_padding_mask=t(np.where(kpm, NEG_INF, 0.0), device),
                          attn_mask=t(attn3, device))
    ref, ref_w = np_mha(q[:, None], kv[:, None], kv[:, None], H, **w, key_padding_mask=kpm[None], attn_mask=attn3)
    assert out.shape == (L, E) and weights.shape == (L, S)
    assert_close_np(out, ref[:, 0])
    assert_close_np(weights, ref_w.mean(axis=1)[0])


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_bias_kv_and_zero_attn(device, rng, need_weights):
    E, H, L, N = 8, 2, 3, 2
    w = _mha_weights(rng, E)
    x = rng.standard_normal((L, N, E))
    bias_k, bias_v = rng.standard_normal((1, 1, E)), rng.standard_normal((1, 1, E))
    kpm = np.zeros((N, L), dtype=bool)
    kpm[1, 0] = True
    attn = rng.standard_normal((L, L))
    ref, ref_w = np_mha(x, x, x, H, **w, bias_k=bias_k, bias_v=bias_v, add_zero_attn=True, key_padding_mask=kpm,
                        attn_mask=attn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, weights = _f_mha(device, x, x, x, H, w, bias_k=bias_k, bias_v=bias_v, add_zero_attn=True,
                              key_padding_mask=t(kpm, device, torch.bool), attn_mask=t(attn, device),
                              need_weights=need_weights)
    assert_close_np(out, ref)
    if need_weights:
        assert weights.shape == (N, L, L + 2)
        assert_close_np(weights, ref_w.mean(axis=1))


def test_mha_separate_proj_weights(device, rng):
    E, H, L, S, N, kdim, vdim = 8, 2, 3, 4, 2, 5, 3
    w = _mha_weights(rng, E, kdim, vdim)
    q, k, v = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, kdim)), rng.standard_normal((S, N, vdim))
    in_b = np.concatenate([w["b_q"], w["b_k"], w["b_v"]])
    out, weights = F.multi_head_attention_forward(
        t(q, device), t(k, device), t(v, device), E, H, None, t(in_b, device), None, None, False, 0.0,
        t(w["w_o"], device), t(w["b_o"], device), use_separate_proj_weight=True, q_proj_weight=t(w["w_q"], device),
        k_proj_weight=t(w["w_k"], device), v_proj_weight=t(w["w_v"], device),
    )
    ref, ref_w = np_mha(q, k, v, H, **w)
    assert_close_np(out, ref)
    assert_close_np(weights, ref_w.mean(axis=1))


def test_mha_static_kv(device, rng):
    E, H, L, S, N = 4, 2, 3, 5, 2
    w = _mha_weights(rng, E)
    q, kv = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, E))
    # static_k/static_v are the projected keys/values, already split into heads.
    k = (kv @ w["w_k"].T + w["b_k"]).reshape(S, N * H, E // H).transpose(1, 0, 2)
    v = (kv @ w["w_v"].T + w["b_v"]).reshape(S, N * H, E // H).transpose(1, 0, 2)
    dummy = rng.standard_normal((S, N, E))
    out, _ = _f_mha(device, q, dummy, dummy, H, w, static_k=t(k, device), static_v=t(v, device))
    assert_close_np(out, np_mha(q, kv, kv, H, **w)[0])


def test_mha_dropout_only_in_training(device, rng):
    E, H, L, N = 4, 2, 3, 2
    w = _mha_weights(rng, E)
    x = rng.standard_normal((L, N, E))
    in_w = t(np.concatenate([w["w_q"], w["w_k"], w["w_v"]]), device)
    in_b = t(np.concatenate([w["b_q"], w["b_k"], w["b_v"]]), device)
    args = (t(x, device),) * 3 + (E, H, in_w, in_b, None, None, False, 1.0, t(w["w_o"], device), t(w["b_o"], device))
    out, weights = F.multi_head_attention_forward(*args, training=False)
    assert_close_np(out, np_mha(x, x, x, H, **w)[0])
    out, weights = F.multi_head_attention_forward(*args, training=True)
    np.testing.assert_array_equal(to_np(weights), 0.0)
    assert_close_np(out, np.broadcast_to(w["b_o"], (L, N, E)))


def test_mha_shape_errors(device, rng):
    E, H = 4, 2
    w = _mha_weights(rng, E)
    x3, x2 = rng.standard_normal((3, 2, E)), rng.standard_normal((3, E))
    with pytest.raises(AssertionError, match=r"For batched \(3-D\) `query`, expected `key` and `value` to be 3-D"):
        _f_mha(device, x3, x2, x2, H, w)
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D tensor but received 4-D"):
        _f_mha(device, x3[None], x3[None], x3[None], H, w)
    with pytest.raises(AssertionError, match="expected `key_padding_mask` to be `None` or 2-D"):
        _f_mha(device, x3, x3, x3, H, w, key_padding_mask=t(np.zeros(3, bool), device, torch.bool))
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is .*, but should be \(3, 3\)\."):
        _f_mha(device, x3, x3, x3, H, w, attn_mask=t(np.zeros((3, 4)), device))
    with pytest.raises(RuntimeError, match=r"The shape of the 3D attn_mask is .*, but should be \(4, 3, 3\)\."):
        _f_mha(device, x3, x3, x3, H, w, attn_mask=t(np.zeros((2, 3, 3)), device))
    with pytest.raises(AssertionError, match="Expected key_padded_mask.shape\\[1\\] to be 3, but got 4"):
        _f_mha(device, x3, x3, x3, H, w, key_padding_mask=t(np.zeros((2, 4), bool), device, torch.bool))
    with pytest.raises(AssertionError, match="only bool and floating types of key_padding_mask are supported"):
        _f_mha(device, x3, x3, x3, H, w, key_padding_mask=t(np.zeros((2, 3)), device, torch.int64))
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4, but got 6"):
        y = rng.standard_normal((3, 2, 6))
        F.multi_head_attention_forward(t(y, device), t(y, device), t(y, device), 4, 2, None, None, None, None,
                                       False, 0.0, None, None)


def test_mha_forward_gradcheck(device, rng):
    E, H, L, N = 4, 2, 2, 2
    x = t(rng.standard_normal((L, N, E)), device, requires_grad=True)
    in_w = t(rng.standard_normal((3 * E, E)) * 0.5, device, requires_grad=True)
    in_b = t(rng.standard_normal(3 * E) * 0.1, device, requires_grad=True)
    out_w = t(rng.standard_normal((E, E)) * 0.5, device, requires_grad=True)
    kpm = t(np.array([[False, True], [False, False]]), device, torch.bool)

    def f(x, in_w, in_b, out_w):
        return F.multi_head_attention_forward(x, x, x, E, H, in_w, in_b, None, None, False, 0.0, out_w, None,
                                              key_padding_mask=kpm)

    assert gradcheck(f, (x, in_w, in_b, out_w))


# ---------------------------------------------------------------------------------------------
# nn.MultiheadAttention
# ---------------------------------------------------------------------------------------------


def _module_weights(mha):
    """The NumPy weights np_mha takes, copied out of a module."""
    sd = {k: to_np(v) for k, v in mha.state_dict().items()}
    E = mha.embed_dim
    if mha._qkv_same_embed_dim:
        w_q, w_k, w_v = np.split(sd["in_proj_weight"], 3)
    else:
        w_q, w_k, w_v = sd["q_proj_weight"], sd["k_proj_weight"], sd["v_proj_weight"]
    b_q, b_k, b_v = np.split(sd["in_proj_bias"], 3) if "in_proj_bias" in sd else (np.zeros(E),) * 3
    b_o = sd.get("out_proj.bias", np.zeros(E))
    extra = {k: sd[k] for k in ("bias_k", "bias_v") if k in sd}
    return dict(w_q=w_q, w_k=w_k, w_v=w_v, b_q=b_q, b_k=b_k, b_v=b_v, w_o=sd["out_proj.weight"], b_o=b_o, **extra)


def _randomize(module, rng):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5, dtype=p.dtype, device=p.device))


@pytest.mark.parametrize("batch_first", [False, True])
def test_module_matches_numpy(device, rng, batch_first):
    E, H, L, S, N = 8, 2, 3, 5, 2
    mha = MultiheadAttention(E, H, batch_first=batch_first, device=device, dtype=torch.float64)
    _randomize(mha, rng)
    w = _module_weights(mha)
    q, kv = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, E))
    kpm = np.zeros((N, S), dtype=bool)
    kpm[0, 3:] = True
    ref, ref_w = np_mha(q, kv, kv, H, **w, key_padding_mask=kpm)
    swap = (lambda a: a.transpose(1, 0, 2)) if batch_first else (lambda a: a)
    tq, tkv = t(swap(q), device), t(swap(kv), device)
    tkpm = t(kpm, device, torch.bool)
    out, weights = mha(tq, tkv, tkv, key_padding_mask=tkpm)
    assert_close_np(out, swap(ref))
    assert_close_np(weights, ref_w.mean(axis=1))
    out, weights = mha(tq, tkv, tkv, key_padding_mask=tkpm, average_attn_weights=False)
    assert_close_np(weights, ref_w)
    out, weights = mha(tq, tkv, tkv, key_padding_mask=tkpm, need_weights=False)
    assert weights is None
    assert_close_np(out, swap(ref))
    # Self-attention (query is key is value) through the packed projection.
    ref, _ = np_mha(q, q, q, H, **w)
    assert_close_np(mha(tq, tq, tq)[0], swap(ref))


def test_module_kdim_vdim_and_bias_kv(device, rng):
    E, H, L, S, N = 8, 4, 3, 4, 2
    mha = MultiheadAttention(E, H, kdim=5, vdim=3, add_bias_kv=True, add_zero_attn=True, device=device,
                             dtype=torch.float64)
    _randomize(mha, rng)
    w = _module_weights(mha)
    q, k, v = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, 5)), rng.standard_normal((S, N, 3))
    attn = rng.random((L, S)) > 0.6
    attn[:, 0] = False
    ref, ref_w = np_mha(q, k, v, H, **w, attn_mask=attn, add_zero_attn=True)
    out, weights = mha(t(q, device), t(k, device), t(v, device), attn_mask=t(attn, device, torch.bool))
    assert weights.shape == (N, L, S + 2)
    assert_close_np(out, ref)
    assert_close_np(weights, ref_w.mean(axis=1))


def test_module_unbatched_and_causal(device, rng):
    E, H, L = 8, 2, 4
    mha = MultiheadAttention(E, H, bias=False, device=device, dtype=torch.float64)
    _randomize(mha, rng)
    w = _module_weights(mha)
    x = rng.standard_normal((L, E))
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    ref, ref_w = np_mha(x[:, None], x[:, None], x[:, None], H, **w, attn_mask=causal)
    tx, tm = t(x, device), t(causal, device, torch.bool)
    out, weights = mha(tx, tx, tx, attn_mask=tm)
    assert out.shape == (L, E) and weights.shape == (L, L)
    assert_close_np(out, ref[:, 0])
    assert_close_np(weights, ref_w.mean(axis=1)[0])
    out, _ = mha(tx, tx, tx, attn_mask=tm, is_causal=True, need_weights=False)
    assert_close_np(out, ref[:, 0])


def test_module_state_dict_and_init():
    def keys(m):
        return [(k, tuple(v.shape)) for k, v in m.state_dict().items()]

    mha = MultiheadAttention(8, 2)
    assert keys(mha) == [("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)),
                         ("out_proj.bias", (8,))]
    assert mha.q_proj_weight is None and mha.bias_k is None and mha.head_dim == 4
    assert isinstance(mha.out_proj, Linear) and type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    # xavier_uniform_ on the packed (3E, E) weight; zero biases.
    assert np.abs(to_np(mha.in_proj_weight)).max() <= math.sqrt(6.0 / (8 + 24))
    assert np.abs(to_np(mha.in_proj_weight)).max() > 0.5 * math.sqrt(6.0 / (8 + 24))
    np.testing.assert_array_equal(to_np(mha.in_proj_bias), 0.0)
    np.testing.assert_array_equal(to_np(mha.out_proj.bias), 0.0)
    assert keys(MultiheadAttention(8, 2, kdim=5, vdim=3)) == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 5)), ("v_proj_weight", (8, 3)), ("in_proj_bias", (24,)),
        ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]
    assert keys(MultiheadAttention(8, 2, add_bias_kv=True)) == [
        ("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("bias_k", (1, 1, 8)), ("bias_v", (1, 1, 8)),
        ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]
    assert keys(MultiheadAttention(8, 2, bias=False)) == [("in_proj_weight", (24, 8)), ("out_proj.weight", (8, 8))]


def test_module_repr_and_errors():
    assert repr(MultiheadAttention(8, 2)) == (
        "MultiheadAttention(\n"
        "  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)\n"
        ")"
    )
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        MultiheadAttention(8, 3)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0, got embed_dim=0"):
        MultiheadAttention(0, 2)


def test_module_dropout_and_backward(device, rng):
    E, H, L, N = 8, 2, 3, 2
    mha = MultiheadAttention(E, H, dropout=1.0, device=device, dtype=torch.float64)
    x = t(rng.standard_normal((L, N, E)), device)
    _, weights = mha(x, x, x)
    np.testing.assert_array_equal(to_np(weights), 0.0)
    mha.eval()
    _, weights = mha(x, x, x)
    assert_close_np(weights.sum(-1), np.ones((N, L)))
    mha.train()
    mha.dropout = 0.0
    out, _ = mha(x, x, x)
    out.square().sum().backward()
    for name, p in mha.named_parameters():
        assert p.grad is not None and np.abs(to_np(p.grad)).max() > 0, name


def test_module_merge_masks():
    mha = MultiheadAttention(8, 2, batch_first=True)
    q = torch.randn(3, 4, 8)
    kpm = torch.zeros(3, 4)
    kpm[1, 2] = float("-inf")
    attn = torch.randn(4, 4)
    merged, kind = mha.merge_masks(attn, kpm, q)
    assert kind == 2 and merged.shape == (3, 2, 4, 4)
    expected = to_np(attn)[None, None] + to_np(kpm)[:, None, None, :]
    np.testing.assert_array_equal(to_np(merged), np.broadcast_to(expected, (3, 2, 4, 4)))
    assert mha.merge_masks(None, kpm, q) == (kpm, 1)
    assert mha.merge_masks(None, None, q) == (None, None)
