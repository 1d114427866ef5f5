"""Convolutions (F.conv*d, F.conv_transpose*d), F.unfold/F.fold, and the Conv*, ConvTranspose*,
Unfold, Fold, Flatten and Unflatten modules."""

import math

import numpy as np
import pytest
from helpers import assert_close_np, make, to_np
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck
from ferrotorch.nn.modules.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    Fold,
    Unfold,
)
from ferrotorch.nn.modules.flatten import Flatten, Unflatten

# ---------------------------------------------------------------------------------------------
# NumPy references, written as the defining sums
# ---------------------------------------------------------------------------------------------


def conv_ref(x, w, b, stride, padding, dilation, groups):
    """``padding`` is a list of (left, right) per spatial dim."""
    nd = x.ndim - 2
    x = np.pad(x, [(0, 0), (0, 0)] + [tuple(p) for p in padding])
    c, o, k = x.shape[1], w.shape[0], w.shape[2:]
    out = [(x.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    y = np.zeros((x.shape[0], o, *out))
    cg, og = c // groups, o // groups
    for pos in np.ndindex(*out):
        for kk in np.ndindex(*k):
            src = tuple(pos[i] * stride[i] + kk[i] * dilation[i] for i in range(nd))
            xv = x[(slice(None), slice(None)) + src]
            for g in range(groups):
                wv = w[(slice(g * og, (g + 1) * og), slice(None)) + kk]
                y[(slice(None), slice(g * og, (g + 1) * og)) + pos] += xv[:, g * cg:(g + 1) * cg] @ wv.T
    if b is not None:
        y += b.reshape([1, -1] + [1] * nd)
    return y


def conv_transpose_ref(x, w, b, stride, padding, output_padding, groups, dilation):
    nd = x.ndim - 2
    cin, og, k = x.shape[1], w.shape[1], w.shape[2:]
    cg = cin // groups
    size = [(x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + output_padding[i] + 1
            for i in range(nd)]
    full = [size[i] + 2 * padding[i] for i in range(nd)]
    y = np.zeros((x.shape[0], og * groups, *full))
    for pos in np.ndindex(*x.shape[2:]):
        for kk in np.ndindex(*k):
            dst = tuple(pos[i] * stride[i] + kk[i] * dilation[i] for i in range(nd))
            for g in range(groups):
                wv = w[(slice(g * cg, (g + 1) * cg), slice(None)) + kk]
                y[(slice(None), slice(g * og, (g + 1) * og)) + dst] += x[(slice(None), slice(g * cg, (g + 1) * cg))
                                                                         + pos] @ wv
    y = y[(slice(None), slice(None)) + tuple(slice(padding[i], padding[i] + size[i]) for i in range(nd))]
    if b is not None:
        y += b.reshape([1, -1] + [1] * nd)
    return y


def unfold_ref(x, k, d, p, s):
    n, c, h, w = x.shape
    x = np.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], oh * ow))
    for ci in range(c):
        for i in range(k[0]):
            for j in range(k[1]):
                row = (ci * k[0] + i) * k[1] + j
                for a in range(oh):
                    for bb in range(ow):
                        out[:, row, a * ow + bb] = x[:, ci, a * s[0] + i * d[0], bb * s[1] + j * d[1]]
    return out


def fold_ref(cols, size, k, d, p, s):
    n, ck, _ = cols.shape
    c = ck // (k[0] * k[1])
    full = np.zeros((n, c, size[0] + 2 * p[0], size[1] + 2 * p[1]))
    oh = (size[0] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (size[1] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    for ci in range(c):
        for i in range(k[0]):
            for j in range(k[1]):
                row = (ci * k[0] + i) * k[1] + j
                for a in range(oh):
                    for bb in range(ow):
                        full[:, ci, a * s[0] + i * d[0], bb * s[1] + j * d[1]] += cols[:, row, a * ow + bb]
    return full[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]


def _tup(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


# ---------------------------------------------------------------------------------------------
# Functional convolutions
# ---------------------------------------------------------------------------------------------

CONV_CASES = [
    # nd, N, C, spatial, O, kernel, stride, padding, dilation, groups, bias
    (1, 2, 3, (9,), 4, (3,), 1, 0, 1, 1, True),
    (1, 2, 4, (10,), 6, (2,), 2, 1, 2, 2, False),
    (1, 1, 2, (7,), 3, (4,), 1, "same", 1, 1, True),
    (1, 2, 2, (7,), 2, (3,), 1, "same", 2, 2, False),
    (2, 2, 3, (6, 7), 4, (3, 3), 1, 1, 1, 1, True),
    (2, 2, 4, (7, 6), 6, (3, 2), (2, 1), (1, 2), (1, 2), 2, True),
    (2, 1, 4, (5, 6), 4, (2, 3), 1, "same", (2, 1), 4, True),
    (2, 2, 3, (5, 5), 2, (5, 5), 1, "valid", 1, 1, False),
    (2, 2, 4, (4, 5), 6, (1, 1), 1, 0, 1, 2, True),
    (2, 1, 3, (5, 4), 2, (1, 1), 2, 1, 1, 1, False),
    (3, 1, 2, (4, 5, 4), 3, (2, 3, 2), (1, 2, 1), (1, 0, 1), 1, 1, True),
    (3, 2, 2, (4, 4, 5), 2, (2, 2, 2), 1, "same", (1, 2, 1), 2, True),
]


def _conv_padding(padding, kernel, dilation, nd):
    if padding == "valid":
        return [(0, 0)] * nd
    if padding == "same":
        total = [dilation[i] * (kernel[i] - 1) for i in range(nd)]
        return [(t // 2, t - t // 2) for t in total]
    return [(p, p) for p in _tup(padding, nd)]


@pytest.mark.parametrize("nd,n,c,spatial,o,kernel,stride,padding,dilation,groups,bias", CONV_CASES)
def test_conv_matches_numpy(device, rng, nd, n, c, spatial, o, kernel, stride, padding, dilation, groups, bias):
    conv = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    x, xa = make(rng, (n, c, *spatial), torch.float64, device)
    w, wa = make(rng, (o, c // groups, *kernel), torch.float64, device)
    b, ba = make(rng, (o,), torch.float64, device) if bias else (None, None)
    got = conv(x, w, b, stride, padding, dilation, groups)
    d = _tup(dilation, nd)
    want = conv_ref(xa, wa, ba, _tup(stride, nd), _conv_padding(padding, kernel, d, nd), d, groups)
    assert_close_np(got, want)
    if padding == "same":
        assert tuple(got.shape[2:]) == spatial
    # Unbatched input gives the same values without the batch dim.
    assert_close_np(conv(x[0], w, b, stride, padding, dilation, groups), want[0])


@settings(max_examples=20, deadline=None)
@given(
    groups=st.sampled_from([1, 2]),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    bias=st.booleans(),
)
def test_conv2d_random_params(device, groups, kernel, stride, padding, dilation, bias):
    rng = np.random.default_rng(sum(kernel + stride + padding + dilation))
    xa = rng.standard_normal((2, 2 * groups, 6, 5))
    wa = rng.standard_normal((2 * groups, 2, *kernel))
    ba = rng.standard_normal(2 * groups) if bias else None
    x, w = torch.tensor(xa, device=device), torch.tensor(wa, device=device)
    b = torch.tensor(ba, device=device) if bias else None
    got = F.conv2d(x, w, b, stride, padding, dilation, groups)
    assert_close_np(got, conv_ref(xa, wa, ba, stride, [(p, p) for p in padding], dilation, groups))


def test_empty_batch(device):
    x = torch.zeros(0, 4, 6, 6, device=device, requires_grad=True)
    y = F.conv2d(x, torch.zeros(2, 4, 3, 3, device=device), padding=1)
    assert tuple(y.shape) == (0, 2, 6, 6)
    t = F.conv_transpose2d(x, torch.zeros(4, 2, 3, 3, device=device), stride=2)
    assert tuple(t.shape) == (0, 2, 13, 13)
    (y.sum() + t.sum()).backward()
    assert tuple(x.grad.shape) == (0, 4, 6, 6)
    assert tuple(F.unfold(x, 2).shape) == (0, 16, 25)
    assert tuple(F.fold(torch.zeros(0, 8, 25, device=device), (6, 6), 2).shape) == (0, 2, 6, 6)


def test_conv2d_float32_noncontiguous(device, rng):
    x, xa = make(rng, (2, 3, 6, 5), torch.float32, device, noncontiguous=True)
    w, wa = make(rng, (4, 3, 3, 3), torch.float32, device, noncontiguous=True)
    got = F.conv2d(x, w, padding=1, stride=2)
    assert got.dtype == torch.float32
    assert_close_np(got, conv_ref(xa.astype(np.float64), wa.astype(np.float64), None, (2, 2), [(1, 1)] * 2,
                                  (1, 1), 1).astype(np.float32))


TRANSPOSE_CASES = [
    # nd, N, Cin, spatial, Og, kernel, stride, padding, output_padding, groups, dilation, bias
    (1, 2, 3, (5,), 2, (3,), 2, 1, 1, 1, 1, True),
    (1, 1, 4, (4,), 3, (2,), 3, 0, 2, 2, 1, False),
    (2, 2, 4, (3, 4), 3, (3, 2), (2, 3), (1, 0), (1, 2), 2, (1, 2), True),
    (2, 1, 2, (4, 3), 2, (3, 3), 1, 1, 0, 1, 1, True),
    (2, 2, 2, (3, 3), 1, (2, 2), 1, 0, (1, 0), 1, 2, False),
    (3, 1, 2, (2, 3, 2), 2, (2, 2, 3), (2, 1, 2), (0, 1, 1), (1, 0, 0), 1, 1, True),
]


@pytest.mark.parametrize("nd,n,cin,spatial,og,kernel,stride,padding,output_padding,groups,dilation,bias",
                         TRANSPOSE_CASES)
def test_conv_transpose_matches_numpy(device, rng, nd, n, cin, spatial, og, kernel, stride, padding,
                                      output_padding, groups, dilation, bias):
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
    x, xa = make(rng, (n, cin, *spatial), torch.float64, device)
    w, wa = make(rng, (cin, og, *kernel), torch.float64, device)
    b, ba = make(rng, (og * groups,), torch.float64, device) if bias else (None, None)
    got = fn(x, w, b, stride, padding, output_padding, groups, dilation)
    want = conv_transpose_ref(xa, wa, ba, _tup(stride, nd), _tup(padding, nd), _tup(output_padding, nd), groups,
                              _tup(dilation, nd))
    assert_close_np(got, want)
    assert_close_np(fn(x[0], w, b, stride, padding, output_padding, groups, dilation), want[0])


def test_conv_transpose_is_adjoint_of_conv(device, rng):
    # <conv(x), y> == <x, conv_transpose(y)> with the same weight, stride, padding and dilation.
    x, _ = make(rng, (2, 3, 7, 8), torch.float64, device)
    w, _ = make(rng, (4, 3, 3, 2), torch.float64, device)
    y = F.conv2d(x, w, stride=2, padding=1, dilation=(1, 2))
    g, _ = make(rng, tuple(y.shape), torch.float64, device)
    back = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(0, 1), dilation=(1, 2))
    assert tuple(back.shape) == tuple(x.shape)
    assert abs(float((y * g).sum()) - float((x * back).sum())) < 1e-9


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_gradcheck(device, nd):
    conv = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    spatial = (5, 4, 4)[:nd]
    x = torch.randn(2, 4, *spatial, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(2, 2, *(2,) * nd, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda x, w, b: conv(x, w, b, 2 if nd == 1 else 1, 1, 1, 2), (x, w, b))


def test_conv2d_overlapping_windows_gradcheck(device):
    # Stride 1 with dilation: every input element sits in several windows, whose grads must add up.
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(3, 2, 2, 3, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda x, w: F.conv2d(x, w, padding="same", dilation=(2, 1)), (x, w))


def test_conv1d_gradgradcheck(device):
    x = torch.randn(1, 2, 5, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(3, 2, 2, dtype=torch.float64, device=device, requires_grad=True)
    assert gradgradcheck(lambda x, w: F.conv1d(x, w, padding=1, stride=2), (x, w))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_gradcheck(device, nd):
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
    spatial = (4, 3, 2)[:nd]
    x = torch.randn(1, 2, *spatial, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.randn(2, 2, *(2,) * nd, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda x, w, b: fn(x, w, b, 2, 1, 1, 2), (x, w, b))


def test_conv_errors(device):
    x = torch.zeros(2, 4, 5, 5, device=device)
    w = torch.zeros(8, 3, 3, 3, device=device)
    with pytest.raises(RuntimeError, match=r"^Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got "
                                           r"input of size: \[2, 3\]$"):
        F.conv2d(torch.zeros(2, 3, device=device), w)
    with pytest.raises(RuntimeError, match=r"^Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"):
        F.conv1d(x, torch.zeros(8, 4, 3, device=device))
    with pytest.raises(RuntimeError, match=r"^Given groups=1, weight of size \[8, 3, 3, 3\], expected "
                                           r"input\[2, 4, 5, 5\] to have 3 channels, but got 4 channels instead$"):
        F.conv2d(x, w)
    with pytest.raises(RuntimeError, match=r"Given groups=3, expected weight to be divisible by 3 at dimension 0"):
        F.conv2d(x, torch.zeros(8, 2, 3, 3, device=device), groups=3)
    with pytest.raises(RuntimeError, match=r"^Given weight of size \[8, 4, 3, 3\], expected bias to be "
                                           r"1-dimensional with 8 elements, but got bias of size \[4\] instead$"):
        F.conv2d(x, torch.zeros(8, 4, 3, 3, device=device), torch.zeros(4, device=device))
    with pytest.raises(RuntimeError, match=r"^Calculated padded input size per channel: \(5 x 5\). Kernel size: "
                                           r"\(7 x 7\). Kernel size can't be greater than actual input size$"):
        F.conv2d(x, torch.zeros(1, 4, 4, 4, device=device), dilation=2)
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(x, torch.zeros(1, 4, 3, 3, device=device), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="Invalid padding string: 'full'"):
        F.conv2d(x, torch.zeros(1, 4, 3, 3, device=device), padding="full")
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        F.conv2d(x, torch.zeros(1, 4, 3, 3, device=device), padding=-1)
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        F.conv2d(x, torch.zeros(1, 4, 3, 3, device=device), stride=0)
    with pytest.raises(RuntimeError, match=r"expected stride to be a single integer value or a list of 2 values to "
                                           r"match the convolution dimensions, but got stride=\[1, 1, 1\]"):
        F.conv2d(x, torch.zeros(1, 4, 3, 3, device=device), stride=(1, 1, 1))
    with pytest.raises(RuntimeError, match=r"^Expected 4-dimensional input for 4-dimensional weight "
                                           r"\[1, 4, 3, 3\], but got 5-dimensional input of size \[1, 1, 4, 5, 5\] "
                                           r"instead$"):
        F.conv3d(torch.zeros(1, 4, 5, 5, device=device), torch.zeros(1, 4, 3, 3, device=device))
    with pytest.raises(RuntimeError, match=r"Input type \(torch.float64\) and weight type \(torch.float32\)"):
        F.conv2d(x.double(), torch.zeros(1, 4, 3, 3, device=device))


def test_conv_transpose_errors(device):
    x = torch.zeros(2, 3, 5, 5, device=device)
    with pytest.raises(RuntimeError, match=r"^Given transposed=1, weight of size \[4, 8, 3, 3\], expected "
                                           r"input\[2, 3, 5, 5\] to have 4 channels, but got 3 channels instead$"):
        F.conv_transpose2d(x, torch.zeros(4, 8, 3, 3, device=device))
    with pytest.raises(RuntimeError, match=r"expected bias to be 1-dimensional with 4 elements"):
        F.conv_transpose2d(torch.zeros(2, 4, 5, 5, device=device), torch.zeros(4, 2, 3, 3, device=device),
                           torch.zeros(3, device=device), groups=2)
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(x, torch.zeros(3, 2, 3, 3, device=device), output_padding=1)
    with pytest.raises(RuntimeError, match=r"Given input size per channel: \(5 x 5\). Calculated output size per "
                                           r"channel: \(-1 x -1\). Output size is too small"):
        F.conv_transpose2d(x, torch.zeros(3, 2, 1, 1, device=device), padding=3)
    with pytest.raises(RuntimeError, match=r"input to conv_transpose1d, but got input of size: \[5\]"):
        F.conv_transpose1d(torch.zeros(5, device=device), torch.zeros(3, 2, 1, device=device))


# ---------------------------------------------------------------------------------------------
# unfold / fold
# ---------------------------------------------------------------------------------------------

FOLD_CASES = [
    ((2, 2), 1, 0, 1),
    ((2, 3), (1, 2), 1, (2, 1)),
    (3, 2, (2, 1), 2),
]


@pytest.mark.parametrize("kernel,dilation,padding,stride", FOLD_CASES)
def test_unfold_matches_numpy(device, rng, kernel, dilation, padding, stride):
    x, xa = make(rng, (2, 3, 7, 6), torch.float64, device)
    args = [_tup(v, 2) for v in (kernel, dilation, padding, stride)]
    want = unfold_ref(xa, *args)
    assert_close_np(F.unfold(x, kernel, dilation, padding, stride), want)
    assert_close_np(F.unfold(x[1], kernel, dilation, padding, stride), want[1])


@pytest.mark.parametrize("kernel,dilation,padding,stride", FOLD_CASES)
def test_fold_matches_numpy(device, rng, kernel, dilation, padding, stride):
    args = [_tup(v, 2) for v in (kernel, dilation, padding, stride)]
    k, d, p, s = args
    size = (7, 6)
    blocks = [(size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    cols, ca = make(rng, (2, 3 * k[0] * k[1], blocks[0] * blocks[1]), torch.float64, device)
    want = fold_ref(ca, size, k, d, p, s)
    assert_close_np(F.fold(cols, size, kernel, dilation, padding, stride), want)
    assert_close_np(F.fold(cols[0], size, kernel, dilation, padding, stride), want[0])


def test_fold_of_unfold_counts_overlaps(device):
    x = torch.ones(1, 1, 4, 4, device=device)
    counts = F.fold(F.unfold(x, 2), (4, 4), 2)
    np.testing.assert_array_equal(to_np(counts)[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_unfold_fold_gradcheck(device):
    x = torch.randn(1, 2, 4, 5, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: F.unfold(t, (2, 3), padding=1, stride=(1, 2)), (x,))
    c = torch.randn(1, 12, 15, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: F.fold(t, (4, 5), (2, 3), padding=1, stride=(1, 2)), (c,))


def test_unfold_fold_errors(device):
    with pytest.raises(RuntimeError, match=r"Expected 3D or 4D \(batch mode\) tensor input with possible 0 batch "
                                           r"size and non-zero dimensions, but got: \[4, 4\]"):
        F.unfold(torch.zeros(4, 4, device=device), 2)
    with pytest.raises(RuntimeError, match=r"calculated shape of the array of sliding blocks as \(0, 0\), but its "
                                           r"components must be at least one"):
        F.unfold(torch.zeros(1, 1, 2, 2, device=device), 3)
    with pytest.raises(RuntimeError, match=r"Expected size of input's dimension 1 to be divisible by the product of "
                                           r"kernel_size, but got input.size\(1\)=5 and kernel_size=\(2, 2\)"):
        F.fold(torch.zeros(1, 5, 9, device=device), (4, 4), 2)
    with pytest.raises(RuntimeError, match=r"expected size of input's dimension 2 to match the calculated number of "
                                           r"sliding blocks 3 \* 3 = 9, but got input.size\(2\)=8"):
        F.fold(torch.zeros(1, 4, 8, device=device), (4, 4), 2)
    with pytest.raises(RuntimeError, match="stride should be greater than zero"):
        F.unfold(torch.zeros(1, 1, 4, 4, device=device), 2, stride=0)


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls,args,kwargs,weight,text", [
    (Conv1d, (4, 6, 3), {}, (6, 4, 3), "Conv1d(4, 6, kernel_size=(3,), stride=(1,))"),
    (Conv2d, (4, 8, 3), {"stride": 2, "padding": 1, "groups": 2, "bias": False}, (8, 2, 3, 3),
     "Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=2, bias=False)"),
    (Conv2d, (3, 5, (3, 2)), {"padding": "same", "dilation": 2, "padding_mode": "reflect"}, (5, 3, 3, 2),
     "Conv2d(3, 5, kernel_size=(3, 2), stride=(1, 1), padding=same, dilation=(2, 2), padding_mode=reflect)"),
    (Conv3d, (2, 4, (1, 2, 3)), {"padding": (0, 1, 1)}, (4, 2, 1, 2, 3),
     "Conv3d(2, 4, kernel_size=(1, 2, 3), stride=(1, 1, 1), padding=(0, 1, 1))"),
    (ConvTranspose1d, (4, 6, 3), {"groups": 2}, (4, 3, 3),
     "ConvTranspose1d(4, 6, kernel_size=(3,), stride=(1,), groups=2)"),
    (ConvTranspose2d, (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (4, 6, 3, 3),
     "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))"),
    (ConvTranspose3d, (2, 3, 2), {"dilation": 2, "bias": False}, (2, 3, 2, 2, 2),
     "ConvTranspose3d(2, 3, kernel_size=(2, 2, 2), stride=(1, 1, 1), dilation=(2, 2, 2), bias=False)"),
])
def test_conv_module_parameters_and_repr(cls, args, kwargs, weight, text):
    m = cls(*args, **kwargs)
    assert repr(m) == text
    sd = m.state_dict()
    expected_keys = ["weight"] + ([] if kwargs.get("bias") is False else ["bias"])
    assert list(sd.keys()) == expected_keys
    assert tuple(sd["weight"].shape) == weight
    if "bias" in sd:
        assert tuple(sd["bias"].shape) == (args[1],)
    assert [n for n, _ in m.named_parameters()] == expected_keys


def test_conv_module_init_bounds():
    torch.manual_seed(0)
    m = Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = to_np(m.weight), to_np(m.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    # U(-a, a) has standard deviation a / sqrt(3).
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(b).max() <= bound
    t = ConvTranspose2d(16, 8, 3, groups=2)
    fan_in = (8 // 2) * 9  # dim 1 of the (in, out / groups, k, k) weight
    assert np.abs(to_np(t.weight)).max() <= 1 / math.sqrt(fan_in)
    assert np.abs(to_np(t.weight)).max() > 0.9 / math.sqrt(fan_in)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_module_padding_modes(device, rng, mode):
    m = Conv2d(2, 3, (3, 2), padding=(1, 2), padding_mode=mode).to(device)
    x, xa = make(rng, (2, 2, 5, 6), torch.float32, device)
    np_mode = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    padded = np.pad(xa, [(0, 0), (0, 0), (1, 1), (2, 2)], mode=np_mode).astype(np.float64)
    want = conv_ref(padded, to_np(m.weight).astype(np.float64), to_np(m.bias).astype(np.float64), (1, 1),
                    [(0, 0)] * 2, (1, 1), 1)
    assert_close_np(m(x), want.astype(np.float32))


def test_conv_module_same_padding_mode_circular(device, rng):
    m = Conv1d(1, 1, 4, padding="same", padding_mode="circular", bias=False).to(device)
    x, xa = make(rng, (1, 1, 6), torch.float64, device)
    m = m.double()
    padded = np.pad(xa, [(0, 0), (0, 0), (1, 2)], mode="wrap")
    assert_close_np(m(x), conv_ref(padded, to_np(m.weight), None, (1,), [(0, 0)], (1,), 1))


def test_conv_transpose_module_output_size(device, rng):
    m = ConvTranspose2d(2, 3, 3, stride=2, padding=1).to(device)
    x, _ = make(rng, (1, 2, 4, 4), torch.float32, device)
    assert tuple(m(x).shape) == (1, 3, 7, 7)
    y = m(x, output_size=[8, 7])
    assert tuple(y.shape) == (1, 3, 8, 7)
    want = F.conv_transpose2d(x, m.weight, m.bias, 2, 1, (1, 0))
    assert_close_np(y, to_np(want))
    assert tuple(m(x, output_size=(1, 3, 8, 8)).shape) == (1, 3, 8, 8)
    assert tuple(m(x[0], output_size=(3, 8, 8)).shape) == (3, 8, 8)
    with pytest.raises(ValueError, match=r"requested an output size of \[9, 9\], but valid sizes range from "
                                         r"\[7, 7\] to \[8, 8\] \(for an input of torch.Size\(\[4, 4\]\)\)"):
        m(x, output_size=[9, 9])
    with pytest.raises(ValueError, match=r"ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements "
                                         r"\(got 3\)"):
        m(x, output_size=[1, 8, 8])


def test_conv_module_backward(device):
    m = Conv2d(2, 2, 2).to(device).double()
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: m(t), (x,))
    m(x).sum().backward()
    assert tuple(m.weight.grad.shape) == (2, 2, 2, 2)
    # d(sum)/d(bias) is the number of output positions.
    np.testing.assert_allclose(to_np(m.bias.grad), [4.0, 4.0])


def test_conv_module_constructor_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        Conv1d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        Conv1d(4, 4, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        Conv2d(4, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        ConvTranspose2d(4, 4, 3, padding_mode="reflect")


def test_fold_unfold_modules(device, rng):
    u = Unfold(kernel_size=(2, 3), padding=1, stride=2)
    assert repr(u) == "Unfold(kernel_size=(2, 3), dilation=1, padding=1, stride=2)"
    x, xa = make(rng, (2, 3, 5, 6), torch.float64, device)
    assert_close_np(u(x), unfold_ref(xa, (2, 3), (1, 1), (1, 1), (2, 2)))
    f = Fold(output_size=(5, 6), kernel_size=(2, 3), padding=1, stride=2)
    assert repr(f) == "Fold(output_size=(5, 6), kernel_size=(2, 3), dilation=1, padding=1, stride=2)"
    cols = u(x)
    assert_close_np(f(cols), fold_ref(to_np(cols), (5, 6), (2, 3), (1, 1), (1, 1), (2, 2)))
    assert len(u.state_dict()) == 0 and len(f.state_dict()) == 0


def test_flatten_unflatten(device):
    x = torch.arange(24.0, device=device).reshape(2, 3, 4)
    f = Flatten()
    assert repr(f) == "Flatten(start_dim=1, end_dim=-1)"
    assert tuple(f(x).shape) == (2, 12)
    np.testing.assert_array_equal(to_np(f(x)), np.arange(24.0).reshape(2, 12))
    assert tuple(Flatten(0, 1)(x).shape) == (6, 4)
    u = Unflatten(1, (3, 4))
    assert repr(u) == "Unflatten(dim=1, unflattened_size=(3, 4))"
    np.testing.assert_array_equal(to_np(u(f(x))), to_np(x))
    assert tuple(Unflatten(-1, [2, -1])(x).shape) == (2, 3, 2, 2)
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found element of type float "
                                        "at pos 1"):
        Unflatten(1, (2, 2.0))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found type int"):
        Unflatten(1, 4)
    with pytest.raises(TypeError, match="invalid argument type for dim parameter"):
        Unflatten(1.0, (2, 2))
