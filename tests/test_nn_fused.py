"""The fused row-wise nn kernels: softmax / log_softmax (forward and backward), layer norm, RMS
norm and nll_loss / cross_entropy, on every device. Values against NumPy for every float dtype,
dims other than the last, non-contiguous and empty inputs, rows long enough for the GPU's
block-per-row paths, extreme values; gradients by gradcheck and gradgradcheck in float64."""

import re

import numpy as np
import pytest
from helpers import FLOAT_DTYPES, assert_close_np, to_np, tolerance

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch import _C
from ferrotorch.autograd import gradcheck, gradgradcheck

f64 = torch.float64


def T(a, device, dtype=f64, grad=False):
    t = torch.tensor(np.asarray(a), dtype=dtype, device=device)
    return t.requires_grad_() if grad else t


def I(a, device):  # noqa: E743
    return torch.tensor(np.asarray(a, dtype=np.int64), device=device)


def raises(exc, msg):
    return pytest.raises(exc, match=re.escape(msg))


def softmax_np(a, axis):
    a = np.asarray(a, np.float64)
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_np(a, axis):
    a = np.asarray(a, np.float64)
    m = a.max(axis=axis, keepdims=True)
    return (a - m) - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


def rounded(a, dtype):
    """`a` as the values a tensor of `dtype` holds (the oracle's input)."""
    return to_np(torch.tensor(np.asarray(a, np.float32), dtype=dtype)).astype(np.float64)


def assert_close(t, expected, dtype=None, scale=1.0):
    """Compares with the dtype's tolerance (widened by `scale` for results that chain a few
    roundings, such as backward passes in 16-bit types)."""
    dtype = dtype or t.dtype
    tol = tolerance(dtype, t.device)
    np.testing.assert_allclose(to_np(t).astype(np.float64), np.asarray(expected, np.float64),
                               rtol=tol["rtol"] * scale, atol=tol["atol"] * scale, equal_nan=True)


# ---------------------------------------------------------------------------------------------
# softmax / log_softmax forward.
# ---------------------------------------------------------------------------------------------

SHAPES_DIMS = [((4, 7), -1), ((4, 7), 0), ((2, 5, 6), 1), ((3, 4, 5), 0), ((6,), 0), ((2, 3, 1), 2)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS, ids=[f"{s}-{d}" for s, d in SHAPES_DIMS])
def test_softmax_values_every_dtype(device, dtype, shape, dim):
    rng = np.random.default_rng(1)
    a = rounded(rng.uniform(-4, 4, shape), dtype)
    x = torch.tensor(a, dtype=dtype, device=device)
    y, ly = F.softmax(x, dim), F.log_softmax(x, dim)
    assert y.dtype == dtype and ly.dtype == dtype and tuple(y.shape) == shape
    assert_close(y, softmax_np(a, dim))
    assert_close(ly, log_softmax_np(a, dim), scale=4.0)
    assert_close(F.softmin(x, dim), softmax_np(-a, dim))


def test_softmax_entry_points(device):
    a = np.random.default_rng(2).normal(size=(3, 4))
    x = T(a, device, torch.float32)
    for y in (torch.softmax(x, 1), x.softmax(1), x.softmax(dim=-1), _C._softmax(x, 1)):
        assert_close_np(y, softmax_np(a, 1).astype(np.float32))
    for y in (torch.log_softmax(x, 1), x.log_softmax(1), _C._log_softmax(x, -1)):
        assert_close_np(y, log_softmax_np(a, 1).astype(np.float32))
    y = x.softmax(0, dtype=torch.float64)
    assert y.dtype == torch.float64
    assert_close_np(y, softmax_np(a.astype(np.float32), 0))
    assert torch.log_softmax(x, 0, dtype=torch.float64).dtype == torch.float64


def test_softmax_of_a_scalar(device):
    x = T(3.0, device)
    assert to_np(F.softmax(x, 0)).tolist() == 1.0
    assert to_np(F.log_softmax(x, -1)).tolist() == 0.0


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_softmax_non_contiguous(device, dim):
    a = np.random.default_rng(3).normal(size=(5, 6, 7))
    base = T(a, device, torch.float32)
    views = [
        (base.transpose(0, 2), a.transpose(2, 1, 0)),
        (base[:, ::2, 1:], a[:, ::2, 1:]),
        (base.permute(1, 2, 0), a.transpose(1, 2, 0)),
    ]
    for v, arr in views:
        assert_close_np(F.softmax(v, dim), softmax_np(arr, dim))
        assert_close_np(F.log_softmax(v, dim), log_softmax_np(arr, dim))


def test_softmax_empty(device):
    for shape, dim in [((0, 5), 1), ((0, 5), 0), ((3, 0), 1), ((3, 0), 0), ((2, 0, 3), 2)]:
        x = torch.zeros(shape, device=device)
        assert tuple(F.softmax(x, dim).shape) == shape
        assert tuple(F.log_softmax(x, dim).shape) == shape
        x.requires_grad_()
        F.softmax(x, dim).sum().backward()
        assert tuple(x.grad.shape) == shape


@pytest.mark.parametrize("n", [33, 1024, 1500, 5000, 70000])
def test_softmax_long_rows(device, n):
    # Long rows take a block each on a GPU (n > 1024), and several packs per thread (> 4096).
    a = np.random.default_rng(n).normal(size=(3, n)) * 3
    for dtype in (torch.float32, torch.float64):
        x = T(a, device, dtype)
        assert_close(F.softmax(x, 1), softmax_np(a.astype(np.float32) if dtype == torch.float32 else a, 1),
                     scale=4.0)
        assert_close(F.log_softmax(x, 1), log_softmax_np(a, 1), scale=4.0)


def test_softmax_long_columns(device):
    a = np.random.default_rng(4).normal(size=(2, 3000, 3))
    x = T(a, device, torch.float32)
    assert_close(F.softmax(x, 1), softmax_np(a, 1), scale=4.0)
    assert_close(F.log_softmax(x, 1), log_softmax_np(a, 1), scale=4.0)


def test_softmax_unaligned_rows(device):
    # Row lengths that leave later rows off a 16-byte boundary, and a view starting mid-row.
    a = np.random.default_rng(5).normal(size=(9, 1031))
    x = T(a, device, torch.float32)
    assert_close(F.softmax(x, 1), softmax_np(a, 1), scale=4.0)
    assert_close(F.softmax(x[:, 1:], 1), softmax_np(a[:, 1:], 1), scale=4.0)
    h = T(a, device, torch.float16)
    assert_close(F.softmax(h[:, 3:], 1), softmax_np(rounded(a, torch.float16)[:, 3:], 1), scale=2.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16], ids=str)
def test_softmax_extreme_values(device, dtype):
    big = 1e4
    a = np.array([[big, -big, 0.0, big - 1], [-big, -big, -big + 2, -big]])
    x = T(a, device, dtype)
    ar = rounded(a, dtype)
    assert_close(F.softmax(x, 1), softmax_np(ar, 1))
    assert_close(F.log_softmax(x, 1), log_softmax_np(ar, 1))
    assert np.isfinite(to_np(F.log_softmax(x, 0))).all()
    # -inf entries get probability 0 (log-probability -inf); a row of -inf only is NaN, as torch.
    inf = float("inf")
    m = T([[0.0, -inf, 1.0], [-inf, -inf, -inf], [-inf, 2.0, -inf]], device, dtype)
    y, ly = to_np(F.softmax(m, 1)), to_np(F.log_softmax(m, 1))
    e = np.exp(1.0)
    tol = tolerance(dtype, device)
    np.testing.assert_allclose(y[0], [1 / (1 + e), 0, e / (1 + e)], **tol)
    assert np.isnan(y[1]).all() and np.isnan(ly[1]).all()
    assert y[2].tolist() == [0.0, 1.0, 0.0]
    assert ly[2].tolist() == [-inf, 0.0, -inf]
    assert ly[0][1] == -inf
    # A NaN makes its row NaN, and so does +inf (exp(inf - inf) is NaN), as in torch.
    n = T([[0.0, float("nan")], [1.0, 2.0], [inf, 1.0], [-1.0, inf]], device, dtype)
    for out in (to_np(F.softmax(n, 1)), to_np(F.log_softmax(n, 1))):
        assert np.isnan(out[[0, 2, 3]]).all() and np.isfinite(out[1]).all()
    # Also when the NaN or inf sits in a long row (other threads see only finite values).
    long = np.zeros((2, 3000))
    long[0, 1234], long[1, 2999] = np.nan, np.inf
    out = to_np(F.softmax(T(long, device, dtype), 1))
    assert np.isnan(out).all()


def test_softmax_errors(device):
    x = torch.tensor([[1, 2], [3, 4]], device=device)
    with raises(RuntimeError, "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"):
        F.softmax(x, 1)
    with raises(RuntimeError, "\"log_softmax_kernel_impl\" not implemented for 'Long'"):
        F.log_softmax(x, 0)
    with raises(IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"):
        F.softmax(x.float(), 2)
    with raises(RuntimeError, "does not match output of shape"):
        _C._softmax_backward_data(torch.zeros(2, 3, device=device), torch.zeros(3, 2, device=device), 1)


# ---------------------------------------------------------------------------------------------
# softmax / log_softmax backward.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS[:4], ids=[f"{s}-{d}" for s, d in SHAPES_DIMS[:4]])
def test_softmax_backward_values(device, dtype, shape, dim):
    rng = np.random.default_rng(6)
    a, g = rounded(rng.normal(size=shape), dtype), rounded(rng.normal(size=shape), dtype)
    x = torch.tensor(a, dtype=dtype, device=device, requires_grad=True)
    gt = torch.tensor(g, dtype=dtype, device=device)
    y = F.softmax(x, dim)
    assert y.grad_fn.name() == "SoftmaxBackward0"
    y.backward(gt)
    s = softmax_np(a, dim)
    assert_close(x.grad, s * (g - (g * s).sum(dim, keepdims=True)), scale=4.0)
    x.grad = None
    ly = F.log_softmax(x, dim)
    assert ly.grad_fn.name() == "LogSoftmaxBackward0"
    ly.backward(gt)
    assert_close(x.grad, g - s * g.sum(dim, keepdims=True), scale=4.0)


def test_backward_data_kernels(device):
    rng = np.random.default_rng(7)
    y, g = softmax_np(rng.normal(size=(3, 4, 5)), 1), rng.normal(size=(3, 4, 5))
    yt, gt = T(y, device), T(g, device)
    assert_close_np(_C._softmax_backward_data(gt, yt, 1), y * (g - (g * y).sum(1, keepdims=True)))
    ly = np.log(y)
    out = _C._log_softmax_backward_data(gt, T(ly, device), 1)
    assert_close_np(out, g - y * g.sum(1, keepdims=True))
    # A broadcast (expanded) gradient is read as the values it shows.
    ge = T(1.0, device).expand(3, 4, 5)
    assert_close_np(_C._softmax_backward_data(ge, yt, 1), np.zeros((3, 4, 5)))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_gradcheck_and_gradgradcheck(device, dim):
    x = T(np.random.default_rng(8).normal(size=(3, 4, 2)), device, grad=True)
    for fn in (F.softmax, F.log_softmax, F.softmin):
        assert gradcheck(lambda t, fn=fn: fn(t, dim), (x,))
        assert gradgradcheck(lambda t, fn=fn: fn(t, dim), (x,))


def test_softmax_long_row_gradients(device):
    a = np.random.default_rng(9).normal(size=(2, 3000))
    x = T(a, device, torch.float32, grad=True)
    w = np.random.default_rng(10).normal(size=(2, 3000))
    (F.log_softmax(x, 1) * T(w, device, torch.float32)).sum().backward()
    s = softmax_np(a.astype(np.float32), 1)
    assert_close(x.grad, w - s * w.sum(1, keepdims=True), scale=4.0)


# ---------------------------------------------------------------------------------------------
# layer_norm / rms_norm.
# ---------------------------------------------------------------------------------------------


def layer_norm_np(a, k, w=None, b=None, eps=1e-5):
    axes = tuple(range(a.ndim - k, a.ndim))
    mean = a.mean(axes, keepdims=True)
    var = a.var(axes, keepdims=True)
    y = (a - mean) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y, mean, 1 / np.sqrt(var + eps)


def layer_norm_grads_np(a, g, k, w, eps=1e-5):
    axes = tuple(range(a.ndim - k, a.ndim))
    lead = tuple(range(a.ndim - k))
    mean = a.mean(axes, keepdims=True)
    rstd = 1 / np.sqrt(a.var(axes, keepdims=True) + eps)
    xhat = (a - mean) * rstd
    gw = g * w if w is not None else g
    dx = rstd * (gw - gw.mean(axes, keepdims=True) - xhat * (gw * xhat).mean(axes, keepdims=True))
    return dx, (g * xhat).sum(lead), g.sum(lead)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("shape,k", [((4, 6), 1), ((2, 3, 5), 2), ((7,), 1), ((3, 1300), 1), ((2, 5000), 1)])
def test_layer_norm_values(device, dtype, shape, k):
    rng = np.random.default_rng(11)
    a = rounded(rng.normal(size=shape) * 2 + 3, dtype)
    ns = shape[len(shape) - k:]
    w, b = rounded(rng.normal(size=ns), dtype), rounded(rng.normal(size=ns), dtype)
    x = torch.tensor(a, dtype=dtype, device=device)
    wt, bt = (torch.tensor(v, dtype=dtype, device=device) for v in (w, b))
    y, mean, rstd = _C._native_layer_norm(x, list(ns), wt, bt, 1e-5)
    ey, em, er = layer_norm_np(a, k, w, b)
    assert y.dtype == dtype and tuple(y.shape) == shape
    assert tuple(mean.shape) == tuple(em.shape) and tuple(rstd.shape) == tuple(er.shape)
    assert mean.dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
    assert_close(y, ey, scale=4.0)
    assert_close(mean, em, dtype=torch.float32 if dtype != f64 else f64, scale=4.0)
    assert_close(rstd, er, dtype=torch.float32 if dtype != f64 else f64, scale=4.0)
    assert_close(F.layer_norm(x, ns), layer_norm_np(a, k)[0], scale=4.0)
    assert_close(F.layer_norm(x, ns, weight=wt), layer_norm_np(a, k, w)[0], scale=4.0)
    assert_close(F.layer_norm(x, ns, bias=bt), layer_norm_np(a, k, None, b)[0], scale=4.0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("shape,k", [((5, 6), 1), ((2, 3, 4), 2), ((6,), 1), ((4, 2500), 1)])
def test_layer_norm_backward_values(device, dtype, shape, k):
    rng = np.random.default_rng(12)
    a = rounded(rng.normal(size=shape), dtype)
    g = rounded(rng.normal(size=shape), dtype)
    ns = shape[len(shape) - k:]
    w, b = rounded(rng.normal(size=ns), dtype), rounded(rng.normal(size=ns), dtype)
    x = torch.tensor(a, dtype=dtype, device=device, requires_grad=True)
    wt = torch.tensor(w, dtype=dtype, device=device, requires_grad=True)
    bt = torch.tensor(b, dtype=dtype, device=device, requires_grad=True)
    y = F.layer_norm(x, ns, wt, bt)
    assert y.grad_fn.name() == "NativeLayerNormBackward0"
    y.backward(torch.tensor(g, dtype=dtype, device=device))
    dx, dw, db = layer_norm_grads_np(a, g, k, w)
    # dx cancels terms of the row's size; 16-bit results carry the rounding of their inputs.
    scale = 8.0 if dtype in (torch.float16, torch.bfloat16) else 40.0
    assert_close(x.grad, dx, scale=scale)
    assert_close(wt.grad, dw, scale=scale)
    assert_close(bt.grad, db, scale=scale)


def test_layer_norm_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(13)
    x = T(rng.normal(size=(3, 2, 4)), device, grad=True)
    w, b = T(rng.normal(size=4), device, grad=True), T(rng.normal(size=4), device, grad=True)
    w2 = T(rng.normal(size=(2, 4)), device, grad=True)
    cases = [
        (lambda x, w, b: F.layer_norm(x, (4,), w, b), (x, w, b)),
        (lambda x: F.layer_norm(x, (4,)), (x,)),
        (lambda x, w: F.layer_norm(x, (2, 4), w), (x, w2)),
        (lambda x, b: F.layer_norm(x, 4, None, b), (x, b)),
        (lambda x, w: F.layer_norm(x, (3, 2, 4), w), (x, T(rng.normal(size=(3, 2, 4)), device, grad=True))),
    ]
    for fn, inputs in cases:
        assert gradcheck(fn, inputs)
        assert gradgradcheck(fn, inputs)
    # Only some inputs requiring grad.
    wc = w.detach()
    assert gradcheck(lambda x: F.layer_norm(x, (4,), wc, b.detach()), (x,))
    assert gradcheck(lambda w: F.layer_norm(x.detach(), (4,), w), (w,))


def test_layer_norm_edge_cases(device):
    x = torch.zeros((0, 4), device=device, requires_grad=True)
    w = torch.ones(4, device=device, requires_grad=True)
    y = F.layer_norm(x, (4,), w)
    assert tuple(y.shape) == (0, 4)
    y.sum().backward()
    assert to_np(w.grad).tolist() == [0.0] * 4
    # A constant row normalises to 0, not NaN (eps keeps rstd finite).
    c = F.layer_norm(torch.full((2, 3), 5.0, device=device), (3,))
    assert to_np(c).tolist() == [[0.0] * 3] * 2
    # The weight in another dtype is cast, and its gradient comes back in its own dtype.
    x = T(np.arange(6.0).reshape(2, 3), device, torch.float32, grad=True)
    w64 = T([1.0, 2.0, 3.0], device, f64, grad=True)
    F.layer_norm(x, (3,), w64).sum().backward()
    assert w64.grad.dtype == f64 and x.grad.dtype == torch.float32


def test_layer_norm_non_contiguous(device):
    a = np.random.default_rng(14).normal(size=(6, 5))
    x = T(a, device, torch.float32)
    assert_close_np(F.layer_norm(x.t(), (6,)), layer_norm_np(a.T, 1)[0].astype(np.float32))
    assert_close_np(F.layer_norm(x[::2, 1:], (4,)), layer_norm_np(a[::2, 1:], 1)[0].astype(np.float32))


def test_layer_norm_errors(device):
    x = torch.zeros((2, 3), device=device)
    with raises(RuntimeError, "Given normalized_shape=[4], expected input with shape [*, 4], but got input of "
                              "size[2, 3]"):
        _C._native_layer_norm(x, [4], None, None, 1e-5)
    with raises(RuntimeError, "Expected weight to be of same shape as normalized_shape, but got weight of shape "
                              "[2] and normalized_shape = [3]"):
        _C._native_layer_norm(x, [3], torch.ones(2, device=device), None, 1e-5)
    with raises(RuntimeError, "Expected bias to be of same shape as normalized_shape"):
        _C._native_layer_norm(x, [3], None, torch.ones(4, device=device), 1e-5)
    with raises(RuntimeError, "Expected normalized_shape to be at least 1-dimensional"):
        _C._native_layer_norm(x, [], None, None, 1e-5)
    with raises(RuntimeError, "\"LayerNormKernelImpl\" not implemented for 'Long'"):
        _C._native_layer_norm(x.long(), [3], None, None, 1e-5)


def rms_norm_np(a, k, w=None, eps=1e-6):
    axes = tuple(range(a.ndim - k, a.ndim))
    y = a / np.sqrt((a * a).mean(axes, keepdims=True) + eps)
    return y * w if w is not None else y


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_rms_norm_values_and_gradients(device, dtype):
    rng = np.random.default_rng(15)
    for shape, k in [((4, 6), 1), ((2, 3, 4), 2), ((2, 3000), 1)]:
        a = rounded(rng.normal(size=shape), dtype)
        ns = shape[len(shape) - k:]
        w = rounded(rng.normal(size=ns), dtype)
        x = torch.tensor(a, dtype=dtype, device=device)
        wt = torch.tensor(w, dtype=dtype, device=device)
        assert_close(F.rms_norm(x, ns, wt, 1e-6), rms_norm_np(a, k, w), scale=4.0)
        assert_close(F.rms_norm(x, ns, None, 1e-6), rms_norm_np(a, k), scale=4.0)
    x = T(rng.normal(size=(3, 2, 4)), device, grad=True)
    w = T(rng.normal(size=4), device, grad=True)
    y = F.rms_norm(x, (4,), w, 1e-6)
    assert y.grad_fn.name() == "FusedRmsNormBackward0"
    for fn, inputs in [(lambda x, w: F.rms_norm(x, (4,), w, 1e-6), (x, w)),
                       (lambda x: F.rms_norm(x, (2, 4), None, 1e-3), (x,))]:
        assert gradcheck(fn, inputs)
        assert gradgradcheck(fn, inputs)


# ---------------------------------------------------------------------------------------------
# nll_loss / cross_entropy.
# ---------------------------------------------------------------------------------------------


def nll_np(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    logp, target = np.asarray(logp, np.float64), np.asarray(target)
    out_shape = target.shape
    if logp.ndim == 1:
        logp, target = logp[None], target.reshape(1)
    lp = np.moveaxis(logp, 1, -1)
    w_all = np.ones(logp.shape[1]) if weight is None else np.asarray(weight, np.float64)
    losses, ws = np.zeros(target.shape), np.zeros(target.shape)
    for idx in np.ndindex(target.shape):
        t = int(target[idx])
        if t != ignore_index:
            ws[idx] = w_all[t]
            losses[idx] = -w_all[t] * lp[idx + (t,)]
    if reduction == "mean":
        return losses.sum() / ws.sum()
    return losses.sum() if reduction == "sum" else losses.reshape(out_shape)


def nll_grad_np(logp, target, weight=None, ignore_index=-100, reduction="mean", g=1.0):
    """d(loss)/d(logp) for an output gradient g (per element for 'none')."""
    logp, target = np.asarray(logp, np.float64), np.asarray(target)
    unbatched = logp.ndim == 1
    lp = logp[None] if unbatched else logp
    tg = target.reshape(1) if unbatched else target
    g = np.broadcast_to(np.asarray(g, np.float64).reshape(tg.shape) if reduction == "none" else g, tg.shape)
    w_all = np.ones(lp.shape[1]) if weight is None else np.asarray(weight, np.float64)
    total = sum(w_all[int(t)] for t in tg.reshape(-1) if t != ignore_index)
    out = np.zeros(lp.shape)
    for idx in np.ndindex(tg.shape):
        t = int(tg[idx])
        if t == ignore_index:
            continue
        v = -w_all[t] * g[idx]
        if reduction == "mean":
            v /= total
        out[(idx[0], t) + idx[1:]] = v
    return out[0] if unbatched else out


NLL_CASES = [((6, 5), (6,)), ((5,), ()), ((3, 4, 2), (3, 2)), ((2, 3, 2, 2), (2, 2, 2)), ((2, 3, 1, 2, 2), (2, 1, 2, 2))]


@pytest.mark.parametrize("shape,tshape", NLL_CASES, ids=[str(s) for s, _ in NLL_CASES])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_nll_loss_values_and_gradients(device, shape, tshape, reduction):
    rng = np.random.default_rng(16)
    c = shape[1] if len(shape) > 1 else shape[0]
    logp = log_softmax_np(rng.normal(size=shape), 1 if len(shape) > 1 else 0)
    target = rng.integers(0, c, tshape)
    if target.size > 2:
        target.reshape(-1)[1] = -100
    w = rng.uniform(0.5, 2.0, c)
    for weight in (None, w):
        x = T(logp, device, grad=True)
        out = F.nll_loss(x, I(target, device), weight=None if weight is None else T(weight, device),
                         reduction=reduction)
        assert out.grad_fn.name() == "NllLossBackward0"
        assert tuple(out.shape) == (tshape if reduction == "none" else ())
        assert_close_np(out, nll_np(logp, target, weight, reduction=reduction))
        g = rng.normal(size=tshape) if reduction == "none" else 1.7
        out.backward(T(g, device))
        assert_close_np(x.grad, nll_grad_np(logp, target, weight, reduction=reduction, g=g))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
def test_nll_loss_dtypes(device, dtype):
    rng = np.random.default_rng(17)
    logp = rounded(log_softmax_np(rng.normal(size=(8, 5)), 1), dtype)
    target = rng.integers(0, 5, 8)
    w = rounded(rng.uniform(0.5, 2.0, 5), dtype)
    x = torch.tensor(logp, dtype=dtype, device=device, requires_grad=True)
    out = F.nll_loss(x, I(target, device), weight=torch.tensor(w, dtype=dtype, device=device))
    assert out.dtype == dtype
    assert_close(out, nll_np(logp, target, w), scale=2.0)
    out.backward()
    assert x.grad.dtype == dtype
    assert_close(x.grad, nll_grad_np(logp, target, w), scale=2.0)


def test_nll_loss_gradgradcheck(device):
    rng = np.random.default_rng(18)
    x = T(rng.normal(size=(3, 4, 2)), device, grad=True)
    target, w = I([[0, 3], [-100, 1], [2, 2]], device), T([0.5, 1.0, 2.0, 1.5], device)
    for reduction in ("none", "mean", "sum"):
        fn = lambda x, r=reduction: F.nll_loss(x, target, weight=w, reduction=r)  # noqa: E731
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
    x2 = T(rng.normal(size=(4, 3)), device, grad=True)
    assert gradgradcheck(lambda x: F.cross_entropy(x, I([0, 2, 1, 1], device)), (x2,))


def test_nll_loss_ignored_and_empty(device):
    x = T(np.zeros((3, 4)), device)
    assert np.isnan(F.nll_loss(x, I([-100] * 3, device)).item())
    assert F.nll_loss(x, I([-100] * 3, device), reduction="sum").item() == 0.0
    empty = T(np.zeros((0, 4)), device, grad=True)
    assert np.isnan(F.nll_loss(empty, I(np.zeros(0), device)).item())
    out = F.nll_loss(empty, I(np.zeros(0), device), reduction="none")
    assert tuple(out.shape) == (0,)
    F.nll_loss(empty, I(np.zeros(0), device), reduction="sum").backward()
    assert tuple(empty.grad.shape) == (0, 4)
    # A custom ignore_index that is also a class, and -inf where it is ignored.
    logp = np.log(softmax_np(np.random.default_rng(19).normal(size=(4, 3)), 1))
    logp[1, 2] = -np.inf
    x = T(logp, device, grad=True)
    out = F.nll_loss(x, I([0, 2, 1, 2], device), ignore_index=2)
    assert_close_np(out, -(logp[0, 0] + logp[2, 1]) / 2)
    out.backward()
    assert np.isfinite(to_np(x.grad)).all()


def test_nll_loss_out_of_bounds_reports_the_first(device):
    # On CUDA the check is read at the next synchronisation, here the result's item().
    x = T(np.zeros((4, 3)), device)
    with raises(IndexError, "Target 7 is out of bounds."):
        F.nll_loss(x, I([0, 7, -3, 1], device)).item()
    with raises(IndexError, "Target -3 is out of bounds."):
        _C._nll_loss(x, I([-100, 1, -3, 9], device), None, "mean", -100).item()
    with raises(IndexError, "Target 3 is out of bounds."):
        F.cross_entropy(T(np.zeros((2, 3, 5)), device), I([[0, 1, 2, 3, 0], [0, 0, 0, 0, 5]], device)).item()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_bad_target_surfaces_at_the_next_synchronisation():
    x = T(np.zeros((4, 3)), "cuda")
    F.cross_entropy(x, I([0, 7, -3, 1], "cuda"))  # returns without waiting for the device
    with raises(IndexError, "Target 7 is out of bounds."):
        torch.cuda.synchronize()
    torch.cuda.synchronize()  # reported once: the check was consumed
    logits, t = np.random.default_rng(23).normal(size=(4, 3)), [2, 0, 1, 1]
    out = F.cross_entropy(T(logits, "cuda"), I(t, "cuda"))
    assert_close_np(out, -log_softmax_np(logits, 1)[np.arange(4), t].mean())
    # Through an event's synchronize (when the device is idle then) or the next full one.
    with raises(IndexError, "Target -3 is out of bounds."):
        F.nll_loss(x, I([0, 1, -3, 1], "cuda"))
        event = torch.cuda.Event()
        event.record()
        event.synchronize()
        torch.cuda.synchronize()
    # More calls than checks are held at once: read in batches, none raises. (The targets are
    # made first: a copy from pageable host memory synchronises, which would read the checks.)
    good, bad = I([0, 1, 2, 1], "cuda"), I([0, 1, 5, 1], "cuda")
    for _ in range(150):
        out = F.cross_entropy(x, good)
    torch.cuda.synchronize()
    assert_close_np(out, np.log(3.0))
    # A bad call among them surfaces once the held checks are read (by the 128th call), with no
    # synchronisation asked for.
    with raises(IndexError, "Target 5 is out of bounds."):
        for i in range(200):
            F.cross_entropy(x, bad if i == 70 else good)
    torch.cuda.synchronize()


def test_nll_loss_core_checks(device):
    x = T(np.zeros((3, 4)), device)
    with raises(ValueError, "is not a valid value for reduction"):
        _C._nll_loss(x, I([0, 1, 2], device), None, "avg", -100)
    with raises(ValueError, "Expected input batch_size (3) to match target batch_size (2)."):
        _C._nll_loss(x, I([0, 1], device), None, "mean", -100)
    with raises(RuntimeError, "expected scalar type Long but found Float"):
        _C._nll_loss(x, T([0.0, 1.0, 2.0], device, torch.float32), None, "mean", -100)
    with raises(RuntimeError, "weight tensor should be defined either for all 4 classes"):
        _C._nll_loss(x, I([0, 1, 2], device), T(np.ones(3), device), "mean", -100)
    with raises(RuntimeError, "Expected target size [3, 5], got [3, 4]"):
        _C._nll_loss(T(np.zeros((3, 4, 5)), device), I(np.zeros((3, 4)), device), None, "mean", -100)
    out, total = _C._nll_loss_forward(x - 1, I([0, 1, -100], device), T([1.0, 2.0, 3.0, 4.0], device), "sum", -100)
    assert out.item() == 3.0 and total.item() == 3.0


def test_nll_loss_weight_requiring_grad_still_gets_one(device):
    rng = np.random.default_rng(20)
    logp = log_softmax_np(rng.normal(size=(5, 3)), 1)
    target = np.array([0, 2, 1, 1, 2])
    w = T([0.5, 1.0, 2.0], device, grad=True)
    out = F.nll_loss(T(logp, device), I(target, device), weight=w, reduction="sum")
    out.backward()
    expected = np.zeros(3)
    for n, t in enumerate(target):
        expected[t] -= logp[n, t]
    assert_close_np(w.grad, expected)


@pytest.mark.parametrize("shape,tshape", NLL_CASES[:4], ids=[str(s) for s, _ in NLL_CASES[:4]])
def test_cross_entropy_fused_gradient(device, shape, tshape):
    rng = np.random.default_rng(21)
    c = shape[1] if len(shape) > 1 else shape[0]
    cd = 1 if len(shape) > 1 else 0
    logits = rng.normal(size=shape) * 3
    target = rng.integers(0, c, tshape)
    w = rng.uniform(0.5, 2.0, c)
    x = T(logits, device, grad=True)
    out = F.cross_entropy(x, I(target, device), weight=T(w, device))
    assert out.grad_fn.name() == "NllLossBackward0"
    logp = log_softmax_np(logits, cd)
    assert_close_np(out, nll_np(logp, target, w))
    out.backward()
    gl = nll_grad_np(logp, target, w)
    expected = gl - softmax_np(logits, cd) * gl.sum(cd, keepdims=True)
    assert_close_np(x.grad, expected)


def test_cross_entropy_large_vocabulary(device):
    # Rows of 5000 classes: the GPU's block-per-row log_softmax, then the fused nll_loss.
    rng = np.random.default_rng(22)
    logits = rng.normal(size=(6, 5000)).astype(np.float32)
    target = rng.integers(0, 5000, 6)
    x = T(logits, device, torch.float32, grad=True)
    out = F.cross_entropy(x, I(target, device))
    logp = log_softmax_np(logits, 1)
    assert_close(out, nll_np(logp, target), scale=4.0)
    out.backward()
    onehot = np.zeros_like(logp)
    onehot[np.arange(6), target] = 1
    assert_close(x.grad, (softmax_np(logits, 1) - onehot) / 6, scale=4.0)
