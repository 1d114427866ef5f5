"""Pooling: F.max_pool*d, F.avg_pool*d, adaptive pools, F.lp_pool*d, F.max_unpool*d and their modules."""

import math

import numpy as np
import pytest
from helpers import assert_close_np, make, to_np

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck
from ferrotorch.nn.modules.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    LPPool1d,
    LPPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
)

# ---------------------------------------------------------------------------------------------
# NumPy references, one output element at a time
# ---------------------------------------------------------------------------------------------


def out_size(n, k, p, s, d, ceil):
    span = n + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def max_pool_ref(x, k, s, p, d, ceil):
    nd = len(k)
    sp = x.shape[-nd:]
    out = [out_size(sp[i], k[i], p[i], s[i], d[i], ceil) for i in range(nd)]
    lead = x.shape[:-nd]
    y = np.zeros(lead + tuple(out))
    idx = np.zeros(lead + tuple(out), dtype=np.int64)
    for pre in np.ndindex(*lead):
        for o in np.ndindex(*out):
            best, at = -np.inf, -1
            for kk in np.ndindex(*k):
                pos = [o[i] * s[i] - p[i] + kk[i] * d[i] for i in range(nd)]
                if any(q < 0 or q >= sp[i] for i, q in enumerate(pos)):
                    continue
                v = x[pre + tuple(pos)]
                if v > best or np.isnan(v):  # torch's rule: a NaN wins, the last one's position
                    best, at = v, int(np.ravel_multi_index(pos, sp))
            y[pre + o], idx[pre + o] = best, at
    return y, idx


def avg_pool_ref(x, k, s, p, ceil, count_include_pad, divisor=None):
    nd = len(k)
    sp = x.shape[-nd:]
    out = [out_size(sp[i], k[i], p[i], s[i], 1, ceil) for i in range(nd)]
    lead = x.shape[:-nd]
    y = np.zeros(lead + tuple(out))
    for pre in np.ndindex(*lead):
        for o in np.ndindex(*out):
            start = [o[i] * s[i] - p[i] for i in range(nd)]
            end = [min(start[i] + k[i], sp[i] + p[i]) for i in range(nd)]
            pool = math.prod(end[i] - start[i] for i in range(nd))
            window = x[pre + tuple(slice(max(start[i], 0), min(end[i], sp[i])) for i in range(nd))]
            y[pre + o] = window.sum() / (divisor or (pool if count_include_pad else window.size))
    return y


def adaptive_ref(x, out, op):
    nd = len(out)
    sp = x.shape[-nd:]
    lead = x.shape[:-nd]
    y = np.zeros(lead + tuple(out))
    idx = np.zeros(lead + tuple(out), dtype=np.int64)
    for pre in np.ndindex(*lead):
        for o in np.ndindex(*out):
            start = [(o[i] * sp[i]) // out[i] for i in range(nd)]
            end = [-(-((o[i] + 1) * sp[i]) // out[i]) for i in range(nd)]
            w = x[pre + tuple(slice(start[i], end[i]) for i in range(nd))]
            if op == "avg":
                y[pre + o] = w.mean()
            else:
                a = np.unravel_index(np.argmax(w), w.shape)
                y[pre + o] = w[a]
                idx[pre + o] = np.ravel_multi_index([start[i] + a[i] for i in range(nd)], sp)
    return y, idx


def _tup(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


MAX_FNS = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_FNS = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}

# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------

MAX_CASES = [
    # nd, shape, kernel, stride, padding, dilation, ceil_mode
    (1, (2, 3, 9), 3, None, 0, 1, False),
    (1, (2, 3, 10), 3, 2, 1, 2, True),
    (1, (3, 8), 2, 3, 1, 1, True),
    (2, (2, 3, 7, 8), 2, None, 0, 1, False),
    (2, (2, 2, 7, 8), (3, 2), (2, 2), (1, 1), (1, 2), True),
    (2, (2, 7, 6), 3, (2, 3), (1, 0), (2, 1), True),
    (3, (1, 2, 5, 6, 5), 2, 2, 1, 1, True),
    (3, (2, 4, 5, 4), (2, 3, 2), 1, (1, 1, 0), (1, 1, 2), False),
]


@pytest.mark.parametrize("nd,shape,kernel,stride,padding,dilation,ceil", MAX_CASES)
def test_max_pool_matches_numpy(device, rng, nd, shape, kernel, stride, padding, dilation, ceil):
    x, a = make(rng, shape, torch.float64, device)
    y, i = MAX_FNS[nd](x, kernel, stride, padding, dilation, ceil, return_indices=True)
    k = _tup(kernel, nd)
    want, want_idx = max_pool_ref(a, k, _tup(stride, nd) if stride is not None else k, _tup(padding, nd),
                                  _tup(dilation, nd), ceil)
    assert_close_np(y, want)
    assert i.dtype == torch.int64
    np.testing.assert_array_equal(to_np(i), want_idx)
    assert_close_np(MAX_FNS[nd](x, kernel, stride, padding, dilation, ceil), want)


def test_max_pool_ties_pick_first_and_grad_goes_there(device):
    x = torch.ones(1, 1, 4, 4, dtype=torch.float64, device=device, requires_grad=True)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(to_np(i)[0, 0], [[0, 2], [8, 10]])
    y.sum().backward()
    want = np.zeros((4, 4))
    want[::2, ::2] = 1
    np.testing.assert_array_equal(to_np(x.grad)[0, 0], want)


def test_max_pool_float32_and_int(device, rng):
    x, a = make(rng, (2, 3, 6, 6), torch.float32, device, noncontiguous=True)
    assert_close_np(F.max_pool2d(x, 3, 2, 1), max_pool_ref(a, (3, 3), (2, 2), (1, 1), (1, 1), False)[0])
    xi = torch.tensor(np.arange(16).reshape(1, 4, 4) % 7, device=device)
    yi = F.max_pool2d(xi, 2)
    assert yi.dtype == torch.int64
    np.testing.assert_array_equal(to_np(yi), [[[5, 6], [6, 4]]])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_gradcheck(device, nd):
    shape = {1: (2, 2, 7), 2: (1, 2, 5, 5), 3: (1, 1, 3, 4, 4)}[nd]
    x = torch.randn(*shape, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: MAX_FNS[nd](t, 3 if nd < 3 else 2, 2, 1, 1, True), (x,))


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------

AVG_CASES = [
    # nd, shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    (1, (2, 3, 9), 3, None, 0, False, True, None),
    (1, (3, 8), 3, 2, 1, True, False, None),
    (1, (2, 2, 7), 2, 3, 1, True, True, None),
    (2, (2, 3, 7, 8), (3, 2), (2, 2), (1, 1), True, False, None),
    (2, (2, 3, 7, 8), (3, 3), (2, 3), (1, 0), True, True, None),
    (2, (3, 6, 7), 2, 2, 1, False, True, 3),
    (3, (1, 2, 5, 6, 5), 2, 2, 1, True, False, None),
    (3, (2, 4, 5, 4), (2, 3, 2), 1, (1, 1, 0), False, True, 5),
]


@pytest.mark.parametrize("nd,shape,kernel,stride,padding,ceil,cip,divisor", AVG_CASES)
def test_avg_pool_matches_numpy(device, rng, nd, shape, kernel, stride, padding, ceil, cip, divisor):
    x, a = make(rng, shape, torch.float64, device)
    k = _tup(kernel, nd)
    args = (x, kernel, stride, padding, ceil, cip) + ((divisor,) if nd > 1 else ())
    want = avg_pool_ref(a, k, _tup(stride, nd) if stride is not None else k, _tup(padding, nd), ceil, cip, divisor)
    assert_close_np(AVG_FNS[nd](*args), want)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_avg_pool_gradcheck(device, nd):
    shape = {1: (2, 2, 7), 2: (1, 2, 5, 5), 3: (1, 1, 3, 4, 4)}[nd]
    x = torch.randn(*shape, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: AVG_FNS[nd](t, 2, 2, 1, True, False), (x,))
    if nd > 1:
        assert gradcheck(lambda t: AVG_FNS[nd](t, 2, 1, 0, False, True, 3), (x,))


# ---------------------------------------------------------------------------------------------
# Adaptive pooling
# ---------------------------------------------------------------------------------------------

ADAPTIVE_CASES = [
    ((2, 3, 9), (3,)),
    ((2, 3, 10), (4,)),
    ((3, 7), (7,)),
    ((2, 3, 7, 8), (3, 5)),
    ((2, 3, 6, 8), (3, 4)),
    ((3, 5, 7), (1, 1)),
    ((2, 5, 7), (7, 2)),
    ((1, 2, 5, 6, 7), (2, 3, 4)),
]


@pytest.mark.parametrize("shape,out", ADAPTIVE_CASES)
def test_adaptive_avg_pool_matches_numpy(device, rng, shape, out):
    fn = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[len(out)]
    x, a = make(rng, shape, torch.float64, device)
    want, _ = adaptive_ref(a, out, "avg")
    assert_close_np(fn(x, out[0] if len(out) == 1 else out), want)


@pytest.mark.parametrize("shape,out", ADAPTIVE_CASES)
def test_adaptive_max_pool_matches_numpy(device, rng, shape, out):
    fn = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}[len(out)]
    x, a = make(rng, shape, torch.float64, device)
    want, want_idx = adaptive_ref(a, out, "max")
    y, i = fn(x, out, return_indices=True)
    assert_close_np(y, want)
    np.testing.assert_array_equal(to_np(i), want_idx)
    assert_close_np(fn(x, out), want)


def test_adaptive_output_size_none_keeps_dim(device, rng):
    x, a = make(rng, (2, 3, 6, 5), torch.float64, device)
    assert_close_np(F.adaptive_avg_pool2d(x, (None, 2)), adaptive_ref(a, (6, 2), "avg")[0])
    assert_close_np(F.adaptive_max_pool2d(x, (4, None)), adaptive_ref(a, (4, 5), "max")[0])


def test_adaptive_gradcheck(device):
    x = torch.randn(1, 2, 5, 7, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), (x,))
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 2)), (x,))
    x1 = torch.randn(2, 7, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_avg_pool1d(t, 3), (x1,))
    assert gradcheck(lambda t: F.adaptive_max_pool1d(t, 4), (x1,))


# ---------------------------------------------------------------------------------------------
# LP pooling and max unpooling
# ---------------------------------------------------------------------------------------------


def test_lp_pool_matches_numpy(device, rng):
    a = rng.random((2, 3, 6, 7)) + 0.1
    x = torch.tensor(a, device=device)
    for p in (1.0, 2.0, 3.0):
        want = avg_pool_ref(a ** p, (2, 3), (2, 2), (0, 0), False, True) * 6
        assert_close_np(F.lp_pool2d(x, p, (2, 3), 2), want ** (1 / p))
        want1 = avg_pool_ref(a[0] ** p, (3,), (3,), (0,), False, True) * 3
        assert_close_np(F.lp_pool1d(x[0], p, 3), want1 ** (1 / p))


def test_lp_pool_gradcheck(device):
    x = (torch.rand(1, 2, 4, 5, dtype=torch.float64, device=device) + 0.5).requires_grad_(True)
    assert gradcheck(lambda t: F.lp_pool2d(t, 3.0, 2, 1), (x,))
    assert gradcheck(lambda t: F.lp_pool1d(t[0], 2.0, 2), (x,))


@pytest.mark.parametrize("nd", [1, 2])
def test_max_unpool_roundtrip(device, rng, nd):
    shape = (2, 3, 8) if nd == 1 else (2, 3, 6, 8)
    x, a = make(rng, shape, torch.float64, device)
    y, i = MAX_FNS[nd](x, 2, return_indices=True)
    unpool = F.max_unpool1d if nd == 1 else F.max_unpool2d
    u = unpool(y, i, 2, output_size=shape[2:])
    assert tuple(u.shape) == shape
    flat = np.zeros((2, 3, math.prod(shape[2:])))
    np.put_along_axis(flat, to_np(i).reshape(2, 3, -1), to_np(y).reshape(2, 3, -1), axis=2)
    np.testing.assert_array_equal(to_np(u), flat.reshape(shape))
    # Without output_size: (in - 1) * stride + kernel - 2 * padding.
    assert tuple(unpool(y, i, 2).shape[2:]) == tuple(2 * s for s in y.shape[2:])
    assert tuple(unpool(y[0], i[0], 2, output_size=shape[2:]).shape) == shape[1:]


def test_max_unpool_gradcheck(device):
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64, device=device)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    y.requires_grad_(True)
    assert gradcheck(lambda t: F.max_unpool2d(t, i, 2, output_size=(5, 6)), (y,))


def test_empty_batch(device):
    x = torch.zeros(0, 3, 6, 6, device=device, requires_grad=True)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    assert tuple(y.shape) == (0, 3, 3, 3) and tuple(i.shape) == (0, 3, 3, 3)
    assert tuple(F.max_unpool2d(y, i, 2).shape) == (0, 3, 6, 6)
    z = F.avg_pool2d(x, 3, 1, 1).sum() + F.adaptive_avg_pool2d(x, 4).sum() + F.adaptive_max_pool2d(x, 4).sum()
    z.backward()
    assert tuple(x.grad.shape) == (0, 3, 6, 6)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_pool_errors(device):
    x = torch.zeros(1, 3, 5, 5, device=device)
    with pytest.raises(RuntimeError, match=r"^pad should be at most half of effective kernel size, but got pad=2, "
                                           r"kernel_size=3 and dilation=1$"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(RuntimeError, match=r"^Given input size: \(3x2x2\). Calculated output size: \(3x0x0\). "
                                           r"Output size is too small$"):
        F.max_pool2d(torch.zeros(3, 2, 2, device=device), 3)
    with pytest.raises(RuntimeError, match=r"Expected 3D or 4D \(batch mode\) tensor with optional 0 dim batch size "
                                           r"for input, but got:\[2, 3\]"):
        F.avg_pool2d(torch.zeros(2, 3, device=device), 2)
    with pytest.raises(RuntimeError, match=r"max_pool1d\(\) Expected 2D or 3D input tensor, but got \[1, 1, 1, 4\]"):
        F.max_pool1d(torch.zeros(1, 1, 1, 4, device=device), 2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(RuntimeError, match="stride should be greater than zero"):
        F.avg_pool2d(x, 2, stride=(0, 1))
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d\(\): Expected 3D or 4D tensor, but got \[5\]"):
        F.adaptive_avg_pool2d(torch.zeros(5, device=device), 2)
    with pytest.raises(RuntimeError, match=r"Expected input to have non-zero size for non-batch dimensions"):
        F.adaptive_max_pool2d(torch.zeros(1, 0, 4, device=device), 2)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(ValueError, match=r'invalid output_size "\[7, 4\]" \(dim 0 must be between 2 and 6\)'):
        F.max_unpool2d(y, i, 2, output_size=(7, 4))
    with pytest.raises(ValueError, match="output_size should be a sequence containing 2 or 4 elements, but it has a "
                                         "length of '3'"):
        F.max_unpool2d(y, i, 2, output_size=(1, 4, 4))
    with pytest.raises(RuntimeError, match="elements in indices should be type int64"):
        F.max_unpool2d(y, i.int(), 2)
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: 99 \(output volumes are of size 4x4\)"):
        F.max_unpool2d(y, torch.full_like(i, 99), 2)


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module,text", [
    (MaxPool1d(3, stride=2, padding=1), "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)"),
    (MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    (MaxPool3d((1, 2, 2), ceil_mode=True),
     "MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2), padding=0, dilation=1, ceil_mode=True)"),
    (AvgPool1d(3), "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"),
    (AvgPool2d(2, stride=1), "AvgPool2d(kernel_size=2, stride=1, padding=0)"),
    (AvgPool3d((1, 2, 2)), "AvgPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2), padding=0)"),
    (LPPool1d(2, 3), "LPPool1d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"),
    (LPPool2d(1.5, (2, 2), stride=1), "LPPool2d(norm_type=1.5, kernel_size=(2, 2), stride=1, ceil_mode=False)"),
    (AdaptiveAvgPool1d(4), "AdaptiveAvgPool1d(output_size=4)"),
    (AdaptiveAvgPool2d((5, None)), "AdaptiveAvgPool2d(output_size=(5, None))"),
    (AdaptiveAvgPool3d(1), "AdaptiveAvgPool3d(output_size=1)"),
    (AdaptiveMaxPool1d(3), "AdaptiveMaxPool1d(output_size=3)"),
    (AdaptiveMaxPool2d((2, 3), return_indices=True), "AdaptiveMaxPool2d(output_size=(2, 3))"),
    (MaxUnpool1d(2), "MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))"),
    (MaxUnpool2d(3, stride=2, padding=1), "MaxUnpool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"),
])
def test_pool_module_repr(module, text):
    assert repr(module) == text
    assert len(module.state_dict()) == 0


def test_pool_modules_forward(device, rng):
    x, a = make(rng, (2, 3, 6, 7), torch.float64, device)
    want, want_idx = max_pool_ref(a, (3, 3), (2, 2), (1, 1), (1, 1), True)
    y, i = MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(x)
    assert_close_np(y, want)
    np.testing.assert_array_equal(to_np(i), want_idx)
    u = MaxUnpool2d(3, 2, 1)(y, i, output_size=x.shape)
    assert tuple(u.shape) == (2, 3, 6, 7)
    assert_close_np(AvgPool2d(2, 1, 1, count_include_pad=False)(x),
                    avg_pool_ref(a, (2, 2), (1, 1), (1, 1), False, False))
    assert_close_np(AdaptiveAvgPool2d((4, None))(x), adaptive_ref(a, (4, 7), "avg")[0])
    assert_close_np(AdaptiveMaxPool2d(3)(x), adaptive_ref(a, (3, 3), "max")[0])
    x1 = x[0]
    assert_close_np(MaxPool1d(2)(x1), max_pool_ref(a[0], (2,), (2,), (0,), (1,), False)[0])
    assert_close_np(AvgPool1d(3, 2, 1)(x1), avg_pool_ref(a[0], (3,), (2,), (1,), False, True))
    assert_close_np(AdaptiveAvgPool1d(3)(x1), adaptive_ref(a[0], (3,), "avg")[0])
    y1, i1 = AdaptiveMaxPool1d(4, return_indices=True)(x1)
    np.testing.assert_array_equal(to_np(i1), adaptive_ref(a[0], (4,), "max")[1])
    assert tuple(MaxUnpool1d(2)(*MaxPool1d(2, return_indices=True)(x1)).shape) == (3, 6, 6)
    p = np.abs(a) + 0.1
    xp = torch.tensor(p, device=device)
    assert_close_np(LPPool2d(2, 2)(xp), np.sqrt(avg_pool_ref(p ** 2, (2, 2), (2, 2), (0, 0), False, True) * 4))
    assert_close_np(LPPool1d(1, 3, stride=1)(xp[0]), avg_pool_ref(p[0], (3,), (1,), (0,), False, True) * 3)
    x3, a3 = make(rng, (1, 2, 4, 4, 5), torch.float64, device)
    assert_close_np(MaxPool3d(2)(x3), max_pool_ref(a3, (2,) * 3, (2,) * 3, (0,) * 3, (1,) * 3, False)[0])
    assert_close_np(AvgPool3d(2, divisor_override=2)(x3), avg_pool_ref(a3, (2,) * 3, (2,) * 3, (0,) * 3, False,
                                                                       True, 2))
    assert_close_np(AdaptiveAvgPool3d((1, 2, 3))(x3), adaptive_ref(a3, (1, 2, 3), "avg")[0])


@pytest.mark.parametrize("shape", [(1, 1, 4, 4), (2, 3, 5, 7), (1, 2, 2, 4, 4), (1, 2, 3, 5, 4)])
def test_max_pool_nan_propagates_with_the_last_nan_position(device, shape):
    """torch's rule: NaN beats every number, and a later NaN takes the position. Covers the 2x2
    stride-2 path (2-D, odd sizes) and the general loop (3-D)."""
    a = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) % 5
    planes = a.reshape(-1, *shape[-2:])
    planes[:, 0, 1] = planes[:, 1, 0] = planes[:, 1, 3] = np.nan
    x = torch.tensor(a, device=device)
    k = (2, 2) if len(shape) == 4 else (1, 2, 2)
    y, i = MAX_FNS[len(k)](x, k, return_indices=True)
    want, want_idx = max_pool_ref(a.astype(np.float64), k, k, (0,) * len(k), (1,) * len(k), False)
    assert np.isnan(want.reshape(-1, *want.shape[-2:])[:, 0, :2]).all()
    np.testing.assert_array_equal(to_np(y), want.astype(np.float32))  # NaNs compare equal here
    np.testing.assert_array_equal(to_np(i), want_idx)
