"""The sliding-window kernels behind convolution and pooling: ``_C._im2col`` / ``_C._col2im`` (N-d
unfold / fold) and ``_C._max_pool_with_indices`` / ``_C._avg_pool``, against NumPy oracles, with their
gradients (first and second order), dtypes, strides, empty inputs and errors."""

import math

import numpy as np
import pytest
from helpers import assert_close_np, make, to_np

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch import _C
from ferrotorch.autograd import gradcheck, gradgradcheck

# ---------------------------------------------------------------------------------------------
# NumPy oracles
# ---------------------------------------------------------------------------------------------


def _grid(size, k, d, p, s):
    return [(size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(len(k))]


def im2col_ref(x, k, d, p, s):
    """``(N, C, *spatial)`` -> ``(N, C * prod(k), L)``, torch's unfold layout."""
    nd = len(k)
    n, c = x.shape[:2]
    out = _grid(x.shape[2:], k, d, p, s)
    padded = np.pad(x, [(0, 0), (0, 0)] + [(q, q) for q in p])
    cols = np.zeros((n, c, math.prod(k), math.prod(out)), dtype=x.dtype)
    for ki, kk in enumerate(np.ndindex(*k)):
        for li, oo in enumerate(np.ndindex(*out)):
            at = tuple(oo[i] * s[i] + kk[i] * d[i] for i in range(nd))
            cols[:, :, ki, li] = padded[(slice(None), slice(None)) + at]
    return cols.reshape(n, c * math.prod(k), math.prod(out))


def col2im_ref(cols, size, k, d, p, s):
    """The adjoint of :func:`im2col_ref`: sums every column entry into where it came from."""
    nd = len(k)
    n, ck, _ = cols.shape
    c = ck // math.prod(k)
    out = _grid(size, k, d, p, s)
    padded = np.zeros((n, c) + tuple(size[i] + 2 * p[i] for i in range(nd)), dtype=cols.dtype)
    cols = cols.reshape(n, c, math.prod(k), math.prod(out))
    for ki, kk in enumerate(np.ndindex(*k)):
        for li, oo in enumerate(np.ndindex(*out)):
            at = tuple(oo[i] * s[i] + kk[i] * d[i] for i in range(nd))
            padded[(slice(None), slice(None)) + at] += cols[:, :, ki, li]
    return padded[(slice(None), slice(None)) + tuple(slice(p[i], p[i] + size[i]) for i in range(nd))]


def pool_out(n, k, p, s, d, ceil):
    span = n + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def max_pool_ref(x, k, s, p, d, ceil):
    """torch's rule: an element replaces the running max if greater or NaN; a window of padding
    only gives -inf at index -1."""
    nd = len(k)
    sp = x.shape[-nd:]
    out = [pool_out(sp[i], k[i], p[i], s[i], d[i], ceil) for i in range(nd)]
    lead = x.shape[:-nd]
    y = np.full(lead + tuple(out), -np.inf)
    idx = np.full(lead + tuple(out), -1, dtype=np.int64)
    for pre in np.ndindex(*lead):
        for o in np.ndindex(*out):
            best, at = -np.inf, -1
            for kk in np.ndindex(*k):
                pos = [o[i] * s[i] - p[i] + kk[i] * d[i] for i in range(nd)]
                if any(q < 0 or q >= sp[i] for i, q in enumerate(pos)):
                    continue
                v = x[pre + tuple(pos)]
                if at < 0 or v > best or np.isnan(v):
                    best, at = v, int(np.ravel_multi_index(pos, sp))
            y[pre + o], idx[pre + o] = best, at
    return y, idx


def avg_pool_ref(x, k, s, p, ceil, count_include_pad, divisor=None):
    nd = len(k)
    sp = x.shape[-nd:]
    out = [pool_out(sp[i], k[i], p[i], s[i], 1, ceil) for i in range(nd)]
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


def _t(v, n):
    return [v] * n if isinstance(v, int) else list(v)


# ---------------------------------------------------------------------------------------------
# im2col / col2im
# ---------------------------------------------------------------------------------------------

WINDOW_CASES = [
    # shape (N, C, *spatial), kernel, dilation, padding, stride
    ((2, 3, 9), 3, 1, 0, 1),
    ((2, 2, 10), 3, 2, 2, 3),
    ((1, 2, 7), 2, 3, 1, 2),
    ((2, 3, 5, 6), (2, 3), 1, 1, 1),
    ((2, 2, 7, 8), (3, 2), (2, 1), (2, 1), (2, 3)),
    ((1, 3, 6, 5), 1, 1, 0, 2),
    ((1, 2, 4, 5, 6), (2, 2, 3), 1, (1, 0, 1), (1, 2, 2)),
    ((2, 1, 5, 4, 5), 2, (2, 1, 2), 1, (2, 1, 1)),
]


def _window(shape, kernel, dilation, padding, stride):
    nd = len(shape) - 2
    return _t(kernel, nd), _t(dilation, nd), _t(padding, nd), _t(stride, nd)


@pytest.mark.parametrize("shape,kernel,dilation,padding,stride", WINDOW_CASES)
def test_im2col_matches_numpy(device, rng, shape, kernel, dilation, padding, stride):
    k, d, p, s = _window(shape, kernel, dilation, padding, stride)
    x, a = make(rng, shape, torch.float64, device)
    cols = _C._im2col(x, k, d, p, s)
    assert_close_np(cols, im2col_ref(a, k, d, p, s))


@pytest.mark.parametrize("shape,kernel,dilation,padding,stride", WINDOW_CASES)
def test_col2im_matches_numpy(device, rng, shape, kernel, dilation, padding, stride):
    k, d, p, s = _window(shape, kernel, dilation, padding, stride)
    size = list(shape[2:])
    cols_shape = (shape[0], shape[1] * math.prod(k), math.prod(_grid(size, k, d, p, s)))
    c, a = make(rng, cols_shape, torch.float64, device)
    assert_close_np(_C._col2im(c, size, k, d, p, s), col2im_ref(a, size, k, d, p, s))


@pytest.mark.parametrize("shape,kernel,dilation,padding,stride", WINDOW_CASES)
def test_im2col_col2im_are_adjoint(device, rng, shape, kernel, dilation, padding, stride):
    k, d, p, s = _window(shape, kernel, dilation, padding, stride)
    x, _ = make(rng, shape, torch.float64, device)
    cols = _C._im2col(x, k, d, p, s)
    y, _ = make(rng, tuple(cols.shape), torch.float64, device)
    lhs = float((cols * y).sum())
    rhs = float((x * _C._col2im(y, list(shape[2:]), k, d, p, s)).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("case", [0, 4, 6])
def test_im2col_col2im_gradcheck_and_gradgradcheck(device, case):
    shape, kernel, dilation, padding, stride = WINDOW_CASES[case]
    k, d, p, s = _window(shape, kernel, dilation, padding, stride)
    x = torch.randn(*shape, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: _C._im2col(t, k, d, p, s), (x,))
    assert gradgradcheck(lambda t: _C._im2col(t, k, d, p, s), (x,))
    cols = _C._im2col(x.detach(), k, d, p, s).clone().requires_grad_(True)
    size = list(shape[2:])
    assert gradcheck(lambda t: _C._col2im(t, size, k, d, p, s), (cols,))
    assert gradgradcheck(lambda t: _C._col2im(t, size, k, d, p, s), (cols,))


def test_im2col_col2im_node_names(device):
    x = torch.randn(1, 2, 5, 5, device=device, requires_grad=True)
    cols = _C._im2col(x, [3, 3], [1, 1], [1, 1], [1, 1])
    assert cols.grad_fn.name() == "Im2ColBackward0"
    y = _C._col2im(cols, [5, 5], [3, 3], [1, 1], [1, 1], [1, 1])
    assert y.grad_fn.name() == "Col2ImBackward0"
    assert F.unfold(x, 3).grad_fn.name() == "Im2ColBackward0"


def test_col2im_of_ones_counts_overlaps(device):
    ones = torch.ones(1, 9, 16, dtype=torch.float64, device=device)
    counts = to_np(_C._col2im(ones, [6, 6], [3, 3], [1, 1], [0, 0], [1, 1]))[0, 0]
    want = np.convolve(np.ones(4), np.ones(3))
    np.testing.assert_array_equal(counts, np.outer(want, want))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                                   torch.uint8])
def test_im2col_col2im_dtypes(device, rng, dtype):
    k, d, p, s = [2, 3], [1, 2], [1, 1], [2, 1]
    x, _ = make(rng, (2, 3, 6, 7), dtype, device)
    a = to_np(x)  # bfloat16's values, as rounded
    cols = _C._im2col(x, k, d, p, s)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(to_np(cols), im2col_ref(a, k, d, p, s))
    back = _C._col2im(cols, [6, 7], k, d, p, s)
    assert back.dtype == dtype
    want = col2im_ref(im2col_ref(a.astype(np.float64), k, d, p, s), [6, 7], k, d, p, s)
    if dtype in (torch.float16, torch.bfloat16):
        # The 16-bit floats sum in float32 and round once.
        assert_close_np(back, want.astype(np.float32))
    elif dtype == torch.uint8:
        np.testing.assert_array_equal(to_np(back), want.astype(np.int64).astype(np.uint8))
    else:
        np.testing.assert_allclose(to_np(back), want, rtol=1e-6)


def test_im2col_bool_and_col2im_refuses_bool(device):
    x = torch.tensor([[[True, False, True, True]]], device=device)
    np.testing.assert_array_equal(to_np(_C._im2col(x, [2], [1], [0], [2])), [[[True, True], [False, True]]])
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        _C._col2im(torch.ones(1, 2, 2, dtype=torch.bool, device=device), [4], [2], [1], [0], [2])


def test_im2col_noncontiguous_input(device, rng):
    x, a = make(rng, (2, 3, 6, 5), torch.float32, device, noncontiguous=True)
    assert not x.is_contiguous()
    assert_close_np(_C._im2col(x, [3, 2], [1, 1], [1, 0], [1, 2]), im2col_ref(a, [3, 2], [1, 1], [1, 0], [1, 2]))
    sliced = torch.tensor(np.arange(2 * 3 * 10, dtype=np.float64).reshape(2, 3, 10), device=device)[:, :, ::2]
    assert_close_np(_C._im2col(sliced, [2], [1], [0], [1]),
                    im2col_ref(to_np(sliced), [2], [1], [0], [1]))
    cols = torch.tensor(rng.random((2, 6, 20)), device=device).transpose(1, 2)
    assert not cols.is_contiguous()
    assert_close_np(_C._col2im(cols, [4, 7], [2, 2], [1, 1], [0, 0], [2, 2]),
                    col2im_ref(to_np(cols), [4, 7], [2, 2], [1, 1], [0, 0], [2, 2]))


def test_im2col_col2im_empty(device):
    x = torch.zeros(0, 3, 5, 5, device=device, requires_grad=True)
    cols = _C._im2col(x, [2, 2], [1, 1], [0, 0], [1, 1])
    assert tuple(cols.shape) == (0, 12, 16)
    cols.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 5, 5)
    assert tuple(_C._col2im(torch.zeros(0, 12, 16, device=device), [5, 5], [2, 2], [1, 1], [0, 0],
                            [1, 1]).shape) == (0, 3, 5, 5)
    assert tuple(_C._im2col(torch.zeros(2, 0, 4, device=device), [2], [1], [0], [1]).shape) == (2, 0, 3)


def test_im2col_col2im_errors(device):
    x = torch.zeros(1, 2, 5, 5, device=device)
    with pytest.raises(RuntimeError, match=r"im2col: expected a 4-D input"):
        _C._im2col(x[0], [2, 2], [1, 1], [0, 0], [1, 1])
    with pytest.raises(RuntimeError, match="stride should be greater than zero"):
        _C._im2col(x, [2, 2], [1, 1], [0, 0], [0, 1])
    with pytest.raises(RuntimeError, match="padding should be non-negative"):
        _C._im2col(x, [2, 2], [1, 1], [-1, 0], [1, 1])
    with pytest.raises(RuntimeError, match="expected 1, 2 or 3 spatial dims"):
        _C._im2col(torch.zeros(1, 1, 2, 2, 2, 2, device=device), [1, 1, 1, 1], [1] * 4, [0] * 4, [1] * 4)
    with pytest.raises(RuntimeError, match="expected dilation to have 2 values"):
        _C._im2col(x, [2, 2], [1], [0, 0], [1, 1])
    with pytest.raises(RuntimeError, match="smaller than the kernel size"):
        _C._im2col(x, [6, 2], [1, 1], [0, 0], [1, 1])
    cols = torch.zeros(1, 8, 16, device=device)
    with pytest.raises(RuntimeError, match=r"divisible by the product of kernel_size, but got input.size\(1\)=8"):
        _C._col2im(cols, [5, 5], [3, 1], [1, 1], [0, 0], [1, 1])
    with pytest.raises(RuntimeError, match=r"sliding blocks 4 \* 4 = 16, but got input.size\(2\)=15"):
        _C._col2im(cols[:, :, :15], [5, 5], [2, 2], [1, 1], [0, 0], [1, 1])
    with pytest.raises(RuntimeError, match="output_size must be non-negative"):
        _C._col2im(cols, [-5, 5], [2, 2], [1, 1], [0, 0], [1, 1])


# ---------------------------------------------------------------------------------------------
# Convolutions through the kernels
# ---------------------------------------------------------------------------------------------


def conv_transpose_ref(x, w, stride, padding, output_padding, dilation):
    """1-D transposed convolution, groups 1, by scattering each input."""
    n, cin, length = x.shape
    _, cout, k = w.shape
    size = (length - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    full = np.zeros((n, cout, size + 2 * padding + k * dilation + output_padding))
    for i in range(length):
        for kk in range(k):
            full[:, :, i * stride + kk * dilation] += np.einsum("nc,co->no", x[:, :, i], w[:, :, kk])
    return full[:, :, padding:padding + size]


@pytest.mark.parametrize("stride,padding,output_padding,dilation", [(1, 1, 1, 2), (2, 0, 2, 3), (1, 0, 2, 3),
                                                                    (2, 1, 1, 1)])
def test_conv_transpose_output_padding_past_the_stride(device, rng, stride, padding, output_padding, dilation):
    x, a = make(rng, (2, 3, 5), torch.float64, device)
    w, b = make(rng, (3, 2, 3), torch.float64, device)
    y = F.conv_transpose1d(x, w, stride=stride, padding=padding, output_padding=output_padding,
                           dilation=dilation)
    assert_close_np(y, conv_transpose_ref(a, b, stride, padding, output_padding, dilation))
    x.requires_grad_(True)
    w.requires_grad_(True)
    assert gradcheck(lambda s, t: F.conv_transpose1d(s, t, stride=stride, padding=padding,
                                                     output_padding=output_padding, dilation=dilation), (x, w))


def test_conv_same_padding_even_kernel_and_double_backward(device, rng):
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(3, 2, 2, 4, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, device=device, requires_grad=True)
    y = F.conv2d(x, w, b, padding="same", dilation=(2, 1))
    assert tuple(y.shape) == (1, 3, 5, 6)
    assert gradcheck(lambda s, t, u: F.conv2d(s, t, u, padding="same", dilation=(2, 1)), (x, w, b))
    assert gradgradcheck(lambda s, t, u: F.conv2d(s, t, u, padding=1, stride=2), (x, w, b))
    assert gradgradcheck(lambda s, t: F.conv2d(s, t[:, :1], groups=2, padding=(1, 0)),
                         (x, torch.randn(4, 2, 2, 2, dtype=torch.float64, device=device, requires_grad=True)))


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------

MAX_CASES = [
    # shape, kernel, stride, padding, dilation, ceil_mode
    ((2, 3, 11), 3, 2, 1, 2, True),
    ((3, 10), 4, 3, 2, 1, False),
    ((2, 2, 7, 9), (3, 2), (2, 3), (1, 1), (2, 2), True),
    ((2, 6, 7), (2, 3), 1, (1, 1), 1, False),
    ((1, 2, 5, 7, 6), (2, 3, 2), (2, 2, 1), (1, 1, 0), (1, 2, 2), True),
    ((2, 5, 4, 6), 3, 2, 1, 1, True),
]
MAX_FNS = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_FNS = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _nd(shape, kernel):
    return len(kernel) if not isinstance(kernel, int) else (1 if len(shape) <= 3 else len(shape) - 2)


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,ceil", MAX_CASES)
def test_max_pool_values_and_indices(device, rng, shape, kernel, stride, padding, dilation, ceil):
    nd = _nd(shape, kernel)
    x, a = make(rng, shape, torch.float64, device)
    y, i = MAX_FNS[nd](x, kernel, stride, padding, dilation, ceil, return_indices=True)
    want, want_idx = max_pool_ref(a, _t(kernel, nd), _t(stride, nd), _t(padding, nd), _t(dilation, nd), ceil)
    assert_close_np(y, want)
    assert i.dtype == torch.int64
    np.testing.assert_array_equal(to_np(i), want_idx)


def test_max_pool_window_of_padding_only(device):
    # Length 2, kernel 2 with dilation 3 and padding 2: window 1 covers positions -1 and 2 only.
    x = torch.tensor([[[1.0, 2.0]]], dtype=torch.float64, device=device, requires_grad=True)
    y, i = F.max_pool1d(x, 2, 1, 2, 3, return_indices=True)
    np.testing.assert_array_equal(to_np(i), [[[1, -1, 0]]])
    np.testing.assert_array_equal(to_np(y), [[[2.0, -np.inf, 1.0]]])
    y[:, :, [0, 2]].sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [[[1.0, 1.0]]])
    assert gradgradcheck(lambda t: F.max_pool1d(t, 2, 1, 2, 3)[:, :, ::2], (x,))


def test_max_pool_nan_propagates_as_torch(device):
    nan = float("nan")
    a = np.array([[[[1.0, nan, 3.0, nan], [0.0, 2.0, nan, 5.0], [4.0, 1.0, 7.0, 8.0]]]])
    x = torch.tensor(a, device=device)
    y, i = F.max_pool2d(x, 2, 1, return_indices=True)
    want, want_idx = max_pool_ref(a, [2, 2], [1, 1], [0, 0], [1, 1], False)
    np.testing.assert_array_equal(to_np(y), want)
    np.testing.assert_array_equal(to_np(i), want_idx)
    assert np.isnan(to_np(y)[0, 0, 0, 0]) and to_np(i)[0, 0, 0, 0] == 1
    # The last NaN of a window is the one reported (an element replaces the max if NaN).
    assert to_np(i)[0, 0, 0, 2] == 6


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.int64, torch.int16,
                                   torch.uint8])
def test_max_pool_dtypes(device, rng, dtype):
    x, _ = make(rng, (2, 3, 7, 6), dtype, device)
    a = to_np(x)  # bfloat16's values, as rounded
    y, i = F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)
    assert y.dtype == dtype
    want, want_idx = max_pool_ref(a.astype(np.float64), [3, 3], [2, 2], [1, 1], [1, 1], True)
    np.testing.assert_array_equal(to_np(y).astype(np.float64), want)
    np.testing.assert_array_equal(to_np(i), want_idx)


def test_max_pool_refuses_bool(device):
    with pytest.raises(NotImplementedError, match="\"max_pool2d\" not implemented for 'Bool'"):
        F.max_pool2d(torch.ones(1, 4, 4, dtype=torch.bool, device=device), 2)


def test_max_pool_noncontiguous_and_unbatched(device, rng):
    x, a = make(rng, (2, 3, 6, 8), torch.float32, device, noncontiguous=True)
    y, i = F.max_pool2d(x, (2, 3), (2, 2), (1, 1), return_indices=True)
    want, want_idx = max_pool_ref(a, [2, 3], [2, 2], [1, 1], [1, 1], False)
    assert_close_np(y, want)
    np.testing.assert_array_equal(to_np(i), want_idx)
    y1, i1 = F.max_pool2d(x[1], (2, 3), (2, 2), (1, 1), return_indices=True)
    assert_close_np(y1, want[1])
    np.testing.assert_array_equal(to_np(i1), want_idx[1])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_gradcheck_and_gradgradcheck(device, nd):
    shape = {1: (2, 2, 9), 2: (1, 2, 6, 5), 3: (1, 1, 4, 4, 5)}[nd]
    x = torch.randn(*shape, dtype=torch.float64, device=device, requires_grad=True)
    fn = MAX_FNS[nd]
    assert gradcheck(lambda t: fn(t, 3, 2, 1, 1, True), (x,))
    assert gradgradcheck(lambda t: fn(t, 2, 1, 1, 2, False), (x,))
    y = fn(x, 2)
    assert y.grad_fn.name() == ("MaxPool3DWithIndicesBackward0" if nd == 3 else "MaxPool2DWithIndicesBackward0")


def test_max_pool_backward_overlapping_windows_accumulate(device):
    x = torch.tensor([[[0.0, 5.0, 1.0, 2.0]]], device=device, requires_grad=True)
    y = F.max_pool1d(x, 3, 1, 1)
    np.testing.assert_array_equal(to_np(y), [[[5.0, 5.0, 5.0, 2.0]]])
    y.backward(torch.tensor([[[1.0, 2.0, 4.0, 8.0]]], device=device))
    np.testing.assert_array_equal(to_np(x.grad), [[[0.0, 7.0, 0.0, 8.0]]])


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------

AVG_CASES = [
    # shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    ((2, 3, 11), 4, 3, 2, True, True, None),
    ((3, 10), 3, 2, 1, True, False, None),
    ((2, 2, 7, 9), (3, 2), (2, 3), (1, 1), True, False, None),
    ((2, 2, 7, 9), (3, 2), (2, 3), (1, 1), True, True, None),
    ((2, 6, 7), (2, 3), 1, (1, 1), False, True, 5),
    ((1, 2, 5, 7, 6), (2, 3, 2), (2, 2, 1), (1, 1, 0), True, False, None),
    ((1, 2, 5, 4, 5), 3, 2, 1, True, True, -3),
]


@pytest.mark.parametrize("shape,kernel,stride,padding,ceil,cip,divisor", AVG_CASES)
def test_avg_pool_values(device, rng, shape, kernel, stride, padding, ceil, cip, divisor):
    nd = _nd(shape, kernel)
    x, a = make(rng, shape, torch.float64, device)
    args = (x, kernel, stride, padding, ceil, cip) + ((divisor,) if nd > 1 else ())
    want = avg_pool_ref(a, _t(kernel, nd), _t(stride, nd), _t(padding, nd), ceil, cip, divisor)
    assert_close_np(AVG_FNS[nd](*args), want)


@pytest.mark.parametrize("case", range(len(AVG_CASES)))
def test_avg_pool_gradcheck_and_gradgradcheck(device, case):
    shape, kernel, stride, padding, ceil, cip, divisor = AVG_CASES[case]
    nd = _nd(shape, kernel)
    x = torch.randn(*shape, dtype=torch.float64, device=device, requires_grad=True)
    extra = (divisor,) if nd > 1 else ()
    fn = AVG_FNS[nd]
    assert gradcheck(lambda t: fn(t, kernel, stride, padding, ceil, cip, *extra), (x,))
    assert gradgradcheck(lambda t: fn(t, kernel, stride, padding, ceil, cip, *extra), (x,))
    name = fn(x, kernel, stride, padding, ceil, cip, *extra).grad_fn.name()
    assert name == ("AvgPool3DBackward0" if nd == 3 else "AvgPool2DBackward0")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_avg_pool_half_types_accumulate_in_float32(device, rng, dtype):
    x, _ = make(rng, (2, 3, 9, 8), dtype, device)
    a = to_np(x)  # bfloat16's values, as rounded
    y = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
    assert y.dtype == dtype
    want = avg_pool_ref(a.astype(np.float64), [3, 3], [2, 2], [1, 1], True, False)
    assert_close_np(y, want.astype(np.float32))
    x.requires_grad_(True)
    F.avg_pool2d(x, 3, 2, 1).sum().backward()
    assert x.grad.dtype == dtype
    g64 = torch.tensor(a.astype(np.float64), device=device, requires_grad=True)
    F.avg_pool2d(g64, 3, 2, 1).sum().backward()
    assert_close_np(x.grad, to_np(g64.grad).astype(np.float32))


def test_avg_pool_int64_truncates_and_other_ints_refused(device):
    if device == "cuda":
        pytest.skip("torch's integer average pooling is CPU-only")
    x = torch.tensor([[[1, 2, 4, 7, -3, -4]]])
    np.testing.assert_array_equal(to_np(F.avg_pool1d(x, 2)), [[[1, 5, -3]]])
    with pytest.raises(NotImplementedError, match="\"avg_pool2d_out_frame\" not implemented for 'Int'"):
        F.avg_pool1d(x.int(), 2)


def test_avg_pool_nan_noncontiguous_unbatched(device, rng):
    a = rng.random((3, 6, 7))
    a[1, 2, 3] = np.nan
    x = torch.tensor(a, device=device).transpose(1, 2)
    want = avg_pool_ref(np.ascontiguousarray(a.transpose(0, 2, 1)), [2, 2], [2, 2], [0, 0], False, True)
    got = to_np(F.avg_pool2d(x, 2))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-12)


def test_pool_empty_batch_forward_and_backward(device):
    x = torch.zeros(0, 2, 5, 5, device=device, requires_grad=True)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    z = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)
    assert tuple(y.shape) == (0, 2, 2, 2) and tuple(z.shape) == (0, 2, 3, 3)
    (y.sum() + z.sum()).backward()
    assert tuple(x.grad.shape) == (0, 2, 5, 5)


def test_pool_core_errors(device):
    x = torch.zeros(1, 2, 5, 5, device=device)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        _C._avg_pool(x, [2, 2], [2, 2], [0, 0], False, True, 0)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        _C._max_pool_with_indices(x, [2, 2], [1, 1], [2, 0], [1, 1], False)
    with pytest.raises(RuntimeError, match=r"Calculated output size: \(2x0x4\). Output size is too small"):
        _C._max_pool_with_indices(x, [6, 2], [1, 1], [0, 0], [1, 1], False)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
        _C._avg_pool(x[0, 0], [2, 2], [2, 2], [0, 0], False, True, None)
    with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
        _C._max_pool_with_indices(x, [2, 2], [1, 1], [0, 0], [0, 1], False)


# ---------------------------------------------------------------------------------------------
# Adaptive pools that tile evenly run through the same kernels
# ---------------------------------------------------------------------------------------------


def test_adaptive_avg_pool_to_one_is_a_single_mean(device, rng):
    x, a = make(rng, (2, 3, 5, 7), torch.float64, device)
    x.requires_grad_(True)
    y = F.adaptive_avg_pool2d(x, 1)
    assert tuple(y.shape) == (2, 3, 1, 1)
    assert y.grad_fn.name() == "MeanBackward1"
    assert_close_np(y, a.mean(axis=(2, 3), keepdims=True))
    assert_close_np(F.adaptive_avg_pool2d(x[0], (1, 1)), a[0].mean(axis=(1, 2), keepdims=True))


def test_adaptive_pools_with_even_windows_use_the_kernels(device, rng):
    x, a = make(rng, (2, 3, 6, 8), torch.float64, device)
    x.requires_grad_(True)
    y = F.adaptive_avg_pool2d(x, (3, 2))
    assert y.grad_fn.name() == "AvgPool2DBackward0"
    assert_close_np(y, a.reshape(2, 3, 3, 2, 2, 4).mean(axis=(3, 5)))
    v, i = F.adaptive_max_pool2d(x, (2, 4), return_indices=True)
    want, want_idx = max_pool_ref(a, [3, 2], [3, 2], [0, 0], [1, 1], False)
    assert_close_np(v, want)
    np.testing.assert_array_equal(to_np(i), want_idx)
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 4)), (x,))
