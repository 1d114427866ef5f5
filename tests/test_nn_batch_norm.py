"""The fused batch norm (`NativeBatchNormBackward0`) on every device: forward values, running
statistics and backward against NumPy for every float dtype and rank, (N, C) inputs (one
element per channel and sample) and wide spatial ones, eval mode, optional affine parameters;
gradcheck and gradgradcheck in float64, in training and eval; instance norm through it."""

import numpy as np
import pytest
from helpers import FLOAT_DTYPES, to_np, tolerance

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck

f64 = torch.float64


def T(a, device, dtype=f64, grad=False):
    t = torch.tensor(np.asarray(a), dtype=dtype, device=device)
    return t.requires_grad_() if grad else t


def rounded(a, dtype):
    """`a` as the values a tensor of `dtype` holds (the oracle's input)."""
    return to_np(torch.tensor(np.asarray(a, np.float32), dtype=dtype)).astype(np.float64)


def assert_close(t, expected, scale=1.0):
    tol = tolerance(t.dtype, t.device)
    np.testing.assert_allclose(to_np(t).astype(np.float64), np.asarray(expected, np.float64),
                               rtol=tol["rtol"] * scale, atol=tol["atol"] * scale)


def reduce_axes(ndim):
    return (0,) + tuple(range(2, ndim))


def channel(v, ndim):
    return np.asarray(v).reshape((1, -1) + (1,) * (ndim - 2))


def bn_np(x, w, b, eps, mean=None, var=None):
    """(y, batch mean, biased batch var): the batch's statistics unless mean/var are given."""
    ax = reduce_axes(x.ndim)
    bm, bv = x.mean(axis=ax), x.var(axis=ax)
    m, v = (bm, bv) if mean is None else (mean, var)
    y = (x - channel(m, x.ndim)) / np.sqrt(channel(v, x.ndim) + eps)
    if w is not None:
        y = y * channel(w, x.ndim)
    if b is not None:
        y = y + channel(b, x.ndim)
    return y, bm, bv


def bn_backward_np(g, x, w, eps, training, mean=None, var=None):
    """(dx, dw, db) of batch norm, by the textbook formulas."""
    ax = reduce_axes(x.ndim)
    m = x.size // x.shape[1]
    if training:
        mean, var = x.mean(axis=ax), x.var(axis=ax)
    invstd = channel(1 / np.sqrt(var + eps), x.ndim)
    xhat = (x - channel(mean, x.ndim)) * invstd
    wc = channel(np.ones(x.shape[1]) if w is None else w, x.ndim)
    dw, db = (g * xhat).sum(axis=ax), g.sum(axis=ax)
    if training:
        dx = wc * invstd * (g - channel(db, x.ndim) / m - xhat * channel(dw, x.ndim) / m)
    else:
        dx = g * wc * invstd
    return dx, dw, db


SHAPES = [(8, 3), (4, 5, 7), (2, 3, 4, 5), (2, 2, 3, 2, 2), (3, 2, 40, 40), (64, 33)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_training_forward_backward_and_running_stats(device, dtype, shape):
    rng = np.random.default_rng(0)
    c = shape[1]
    a = rounded(rng.normal(2.0, 3.0, shape), dtype)
    w, b = rounded(rng.uniform(0.5, 2, c), dtype), rounded(rng.normal(size=c), dtype)
    g = rounded(rng.normal(size=shape), dtype)
    x = T(a, device, dtype, grad=True)
    wt, bt = T(w, device, dtype, grad=True), T(b, device, dtype, grad=True)
    rm = torch.full((c,), 0.5, dtype=dtype, device=device)
    rv = torch.full((c,), 2.0, dtype=dtype, device=device)
    y = F.batch_norm(x, rm, rv, wt, bt, training=True, momentum=0.2, eps=1e-3)
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    ey, bm, bv = bn_np(a, w, b, 1e-3)
    assert y.dtype == dtype
    assert_close(y, ey, scale=4.0)
    m = a.size // c
    assert_close(rm, 0.8 * 0.5 + 0.2 * bm, scale=4.0)
    assert_close(rv, 0.8 * 2.0 + 0.2 * bv * m / (m - 1), scale=4.0)
    y.backward(T(g, device, dtype))
    dx, dw, db = bn_backward_np(g, a, w, 1e-3, True)
    # The backward's sums round in the dtype at the end; 16-bit results chain a few roundings.
    scale = 8.0 if dtype in (torch.float16, torch.bfloat16) else 4.0
    assert_close(x.grad, dx, scale=scale * (4 if dtype == torch.float32 else 1))
    assert_close(wt.grad, dw, scale=scale * np.sqrt(m))
    assert_close(bt.grad, db, scale=scale * np.sqrt(m))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_eval_uses_running_stats(device, dtype):
    rng = np.random.default_rng(1)
    shape = (4, 3, 5)
    a = rng.normal(size=shape)
    rm_np, rv_np = rng.normal(size=3), rng.uniform(0.5, 2, 3)
    w, b = rng.uniform(0.5, 2, 3), rng.normal(size=3)
    x = T(a, device, dtype, grad=True)
    wt, bt = T(w, device, dtype, grad=True), T(b, device, dtype, grad=True)
    rm, rv = T(rm_np, device, dtype), T(rv_np, device, dtype)
    y = F.batch_norm(x, rm, rv, wt, bt, training=False, eps=1e-5)
    assert_close(y, bn_np(a, w, b, 1e-5, rm_np, rv_np)[0], scale=4.0)
    np.testing.assert_array_equal(to_np(rm), rm_np.astype(to_np(rm).dtype))  # untouched
    g = rng.normal(size=shape)
    y.backward(T(g, device, dtype))
    dx, dw, db = bn_backward_np(g, a, w, 1e-5, False, rm_np, rv_np)
    assert_close(x.grad, dx, scale=4.0)
    assert_close(wt.grad, dw, scale=8.0)
    assert_close(bt.grad, db, scale=8.0)


def test_without_affine_or_running_stats(device):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 4, 3))
    x = T(a, device, grad=True)
    y = F.batch_norm(x, None, None, training=True)
    assert_close(y, bn_np(a, None, None, 1e-5)[0])
    g = rng.normal(size=a.shape)
    y.backward(T(g, device))
    assert_close(x.grad, bn_backward_np(g, a, None, 1e-5, True)[0])


def test_constant_channel_and_large_mean(device):
    # A constant channel has variance 0: y = 0 (times w, plus b), no NaN; a large mean against
    # a small spread keeps its digits (no cancellation in the variance).
    a = np.zeros((6, 2, 3))
    a[:, 0] = 7.0
    a[:, 1] = 1e4 + np.random.default_rng(3).normal(size=(6, 3))
    x = T(a, device, torch.float32)
    y = F.batch_norm(x, None, None, training=True)
    ey = bn_np(a, None, None, 1e-5)[0]
    np.testing.assert_allclose(to_np(y), ey, rtol=1e-3, atol=2e-3)


@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_and_gradgradcheck(device, training):
    rng = np.random.default_rng(4)
    x = T(rng.normal(size=(3, 2, 4)), device, grad=True)
    w = T(rng.uniform(0.5, 2, 2), device, grad=True)
    b = T(rng.normal(size=2), device, grad=True)
    rm, rv = T(rng.normal(size=2), device), T(rng.uniform(0.5, 2, 2), device)

    def f(x, w, b):
        # Fresh running statistics each call: gradcheck calls f many times.
        return F.batch_norm(x, rm.clone(), rv.clone(), w, b, training=training, eps=1e-3)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_module_matches_functional_and_tracks_batches(device):
    rng = np.random.default_rng(5)
    m = nn.BatchNorm2d(3, device=device, dtype=f64)
    a = rng.normal(1.0, 2.0, (4, 3, 5, 5))
    y = m(T(a, device))
    assert_close(y, bn_np(a, np.ones(3), np.zeros(3), 1e-5)[0])
    assert int(m.num_batches_tracked) == 1
    assert_close(m.running_mean, 0.1 * a.mean(axis=(0, 2, 3)))
    m.eval()
    y = m(T(a, device))
    assert_close(y, bn_np(a, np.ones(3), np.zeros(3), 1e-5, to_np(m.running_mean), to_np(m.running_var))[0])


def test_instance_norm_through_batch_norm(device):
    rng = np.random.default_rng(6)
    a = rng.normal(size=(2, 3, 4, 5))
    w, b = rng.uniform(0.5, 2, 3), rng.normal(size=3)
    x = T(a, device, grad=True)
    rm, rv = T(np.zeros(3), device), T(np.ones(3), device)
    y = F.instance_norm(x, rm, rv, T(w, device), T(b, device), use_input_stats=True, momentum=0.1)
    mean = a.mean(axis=(2, 3), keepdims=True)
    var = a.var(axis=(2, 3), keepdims=True)
    assert_close(y, (a - mean) / np.sqrt(var + 1e-5) * channel(w, 4) + channel(b, 4))
    assert_close(rm, 0.1 * a.mean(axis=(2, 3)).mean(0))
    assert_close(rv, 0.9 + 0.1 * a.var(axis=(2, 3), ddof=1).mean(0))
    assert gradcheck(lambda x: F.instance_norm(x), (x,))


def test_bad_input(device):
    x = torch.ones(4, 3, device=device)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 2"):
        F.batch_norm(x, torch.zeros(2, device=device), torch.ones(2, device=device), training=True)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        F.batch_norm(x, None, None, torch.ones(4, device=device), training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(torch.ones(1, 3, device=device), None, None, training=True)
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        F.batch_norm(torch.ones(4, 3, dtype=torch.int64, device=device), None, None, training=True)
