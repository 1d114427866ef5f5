"""The fused convolution op ``_C._convolution`` (torch's ``aten::convolution``) behind every F.conv*d
and F.conv_transpose*d: values against NumPy references written as sums over windows, for 1-3 spatial
dims, stride, padding, dilation, groups (depthwise too), transposed with output_padding, every float
dtype; first and second derivatives (``ConvolutionBackward0``, fused and recorded backward); and the
``torch.backends.cudnn`` switches (cuDNN serves CUDA float tensors)."""

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers import to_np

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch import _C
from ferrotorch.autograd import gradcheck, gradgradcheck

# ---------------------------------------------------------------------------------------------
# NumPy references: one einsum per kernel offset
# ---------------------------------------------------------------------------------------------


def conv_ref(x, w, b, stride, padding, dilation, groups):
    """``y[n, g*O/G + o, p] = sum_{c, k} w[g*O/G + o, c, k] * xpad[n, g*C/G + c, p * s + k * d]``."""
    nd = x.ndim - 2
    x = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(p, p) for p in padding])
    w = w.astype(np.float64)
    n, c = x.shape[:2]
    o, k = w.shape[0], w.shape[2:]
    out = [(x.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    xg = x.reshape(n, groups, c // groups, *x.shape[2:])
    wg = w.reshape(groups, o // groups, c // groups, *k)
    y = np.zeros((n, groups, o // groups, *out))
    for kk in np.ndindex(*k):
        win = tuple(slice(kk[i] * dilation[i], kk[i] * dilation[i] + (out[i] - 1) * stride[i] + 1, stride[i])
                    for i in range(nd))
        y += np.einsum("ngc...,goc->ngo...", xg[(slice(None),) * 3 + win], wg[(slice(None),) * 3 + kk])
    y = y.reshape(n, o, *out)
    if b is not None:
        y += b.astype(np.float64).reshape([1, -1] + [1] * nd)
    return y


def conv_transpose_ref(x, w, b, stride, padding, output_padding, groups, dilation):
    """Every input element scatters ``x[n, c, p] * w[c, o, k]`` to ``p * s + k * d - padding``."""
    nd = x.ndim - 2
    x, w = x.astype(np.float64), w.astype(np.float64)
    n, cin = x.shape[:2]
    og, k = w.shape[1], w.shape[2:]
    size_in = x.shape[2:]
    full = [(size_in[i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + 1 + output_padding[i] for i in range(nd)]
    xg = x.reshape(n, groups, cin // groups, *size_in)
    wg = w.reshape(groups, cin // groups, og, *k)
    y = np.zeros((n, groups, og, *full))
    for kk in np.ndindex(*k):
        win = tuple(slice(kk[i] * dilation[i], kk[i] * dilation[i] + (size_in[i] - 1) * stride[i] + 1, stride[i])
                    for i in range(nd))
        y[(slice(None),) * 3 + win] += np.einsum("ngc...,gco->ngo...", xg, wg[(slice(None),) * 3 + kk])
    y = y.reshape(n, groups * og, *full)
    y = y[(slice(None), slice(None)) + tuple(slice(padding[i], full[i] - padding[i]) for i in range(nd))]
    if b is not None:
        y = y + b.astype(np.float64).reshape([1, -1] + [1] * nd)
    return y


@pytest.fixture(autouse=True)
def exact_float32():
    """Value tests compare float32 with tight tolerances: no TF32 rounding in cuDNN."""
    saved = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32 = saved


def _tensor(arr, dtype, device, requires_grad=False):
    t = torch.tensor(arr, dtype=torch.float64, device=device).to(dtype)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _tol(dtype, scale, device="cpu"):
    """rtol/atol for a result whose entries are sums of magnitude up to ``scale``. cuDNN's float32
    algorithms (Winograd, FFT) round differently from a direct sum, even without TF32."""
    if dtype == torch.float32 and device == "cuda":
        return dict(rtol=1e-4, atol=1e-4 * scale)
    return {
        torch.float64: dict(rtol=1e-10, atol=1e-10 * scale),
        torch.float32: dict(rtol=1e-5, atol=2e-5 * scale),
        torch.float16: dict(rtol=1e-2, atol=4e-3 * scale),
        torch.bfloat16: dict(rtol=3e-2, atol=3e-2 * scale),
    }[dtype]


def _check(y, ref, dtype):
    got = to_np(y).astype(np.float64)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    scale = max(1.0, float(np.abs(ref).max(initial=0)))
    np.testing.assert_allclose(got, ref, **_tol(dtype, scale, y.device.type))


# nd, (N, C, *spatial), out_channels, kernel, stride, padding, dilation, groups, bias
CONV_CASES = [
    (1, (2, 3, 9), 4, (3,), (1,), (0,), (1,), 1, True),
    (1, (2, 4, 11), 6, (3,), (2,), (2,), (2,), 2, False),
    (2, (2, 3, 7, 6), 4, (3, 2), (1, 1), (1, 0), (1, 1), 1, True),
    (2, (1, 4, 9, 8), 4, (3, 3), (2, 1), (1, 2), (2, 1), 2, True),
    (2, (2, 6, 6, 5), 6, (3, 3), (1, 2), (1, 1), (1, 1), 6, True),  # depthwise
    (2, (2, 4, 6, 5), 8, (3, 3), (1, 1), (1, 1), (1, 1), 4, False),  # depthwise, multiplier 2
    (2, (2, 5, 6, 7), 3, (1, 1), (1, 1), (0, 0), (1, 1), 1, True),  # pointwise
    (3, (1, 2, 5, 4, 6), 3, (2, 2, 3), (1, 2, 1), (1, 0, 1), (1, 1, 2), 1, True),
    (3, (2, 4, 4, 5, 4), 2, (3, 1, 2), (2, 1, 1), (1, 1, 0), (1, 2, 1), 2, False),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", CONV_CASES)
def test_convolution_matches_numpy(device, rng, dtype, case):
    nd, xs, o, k, s, p, d, g, bias = case
    x = rng.standard_normal(xs)
    w = rng.standard_normal((o, xs[1] // g, *k))
    b = rng.standard_normal(o) if bias else None
    y = _C._convolution(_tensor(x, dtype, device), _tensor(w, dtype, device),
                        None if b is None else _tensor(b, dtype, device),
                        list(s), list(p), list(d), False, [0] * nd, g)
    assert y.dtype == dtype and y.device.type == device
    _check(y, conv_ref(x, w, b, s, p, d, g), dtype)


# nd, (N, C_in, *spatial), out_channels / groups, kernel, stride, padding, output_padding, dilation, groups,
# bias. Some have output_padding >= stride (allowed below the dilation).
TRANSPOSED_CASES = [
    (1, (2, 3, 6), 2, (3,), (2,), (1,), (1,), (1,), 1, True),
    (1, (2, 4, 5), 3, (2,), (1,), (0,), (1,), (2,), 2, False),  # output_padding >= stride
    (2, (2, 4, 4, 5), 3, (3, 2), (2, 1), (1, 0), (1, 0), (1, 1), 1, True),
    (2, (1, 6, 3, 4), 1, (3, 3), (2, 2), (1, 1), (0, 1), (1, 2), 3, True),
    (2, (1, 2, 4, 4), 2, (2, 2), (1, 1), (1, 0), (1, 0), (3, 1), 1, False),  # output_padding >= stride
    (2, (2, 3, 4, 3), 2, (1, 1), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),  # pointwise
    (3, (1, 2, 3, 3, 2), 2, (2, 2, 2), (2, 1, 2), (0, 1, 1), (1, 0, 0), (1, 1, 1), 2, True),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", TRANSPOSED_CASES)
def test_conv_transpose_matches_numpy(device, rng, dtype, case):
    nd, xs, og, k, s, p, op, d, g, bias = case
    x = rng.standard_normal(xs)
    w = rng.standard_normal((xs[1], og, *k))
    b = rng.standard_normal(og * g) if bias else None
    y = _C._convolution(_tensor(x, dtype, device), _tensor(w, dtype, device),
                        None if b is None else _tensor(b, dtype, device),
                        list(s), list(p), list(d), True, list(op), g)
    _check(y, conv_transpose_ref(x, w, b, s, p, op, g, d), dtype)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("transposed", [False, True])
def test_half_dtypes(device, rng, dtype, transposed):
    if device == "cpu" and dtype == torch.bfloat16 and transposed:
        pytest.skip("covered by the float16 case; the CPU half products are slow")
    x = rng.standard_normal((2, 4, 6, 7)) * 0.5
    if transposed:
        w = rng.standard_normal((4, 3, 3, 3)) * 0.5
        ref = conv_transpose_ref(x, w, None, (2, 1), (1, 1), (1, 0), 1, (1, 1))
        y = _C._convolution(_tensor(x, dtype, device), _tensor(w, dtype, device), None,
                            [2, 1], [1, 1], [1, 1], True, [1, 0], 1)
    else:
        w = rng.standard_normal((6, 2, 3, 3)) * 0.5
        b = rng.standard_normal(6)
        ref = conv_ref(x, w, b, (1, 2), (1, 1), (1, 1), 2)
        y = _C._convolution(_tensor(x, dtype, device), _tensor(w, dtype, device), _tensor(b, dtype, device),
                            [1, 2], [1, 1], [1, 1], False, [0, 0], 2)
    assert y.dtype == dtype
    _check(y, ref, dtype)


def test_functional_wrappers_use_the_op(device, rng):
    x = torch.tensor(rng.standard_normal((2, 3, 8)), device=device, requires_grad=True)
    w = torch.tensor(rng.standard_normal((4, 3, 3)), device=device, requires_grad=True)
    for y in (F.conv1d(x, w, padding=1), F.conv_transpose1d(x, w.transpose(0, 1).contiguous(), stride=2)):
        assert y.grad_fn.name() == "ConvolutionBackward0"
    x2 = torch.tensor(rng.standard_normal((1, 2, 5, 5)), device=device, requires_grad=True)
    w2 = torch.tensor(rng.standard_normal((2, 2, 2, 2)), device=device)
    assert F.conv2d(x2, w2, padding="same").grad_fn.name() == "ConvolutionBackward0"
    x3 = torch.tensor(rng.standard_normal((1, 2, 3, 4, 3)), device=device)
    w3 = torch.tensor(rng.standard_normal((2, 1, 2, 2, 2)), device=device, requires_grad=True)
    assert F.conv3d(x3, w3, groups=2).grad_fn.name() == "ConvolutionBackward0"
    assert F.conv_transpose3d(x3, w3, groups=2).grad_fn.name() == "ConvolutionBackward0"


def test_noncontiguous_and_empty(device, rng):
    x = rng.standard_normal((2, 3, 5, 6))
    w = rng.standard_normal((4, 3, 2, 3))
    xt = torch.tensor(np.ascontiguousarray(x.transpose(0, 1, 3, 2)), device=device).transpose(2, 3)
    wt = torch.tensor(np.ascontiguousarray(w.transpose(1, 0, 2, 3)), device=device).transpose(0, 1)
    y = _C._convolution(xt, wt, None, [1, 1], [1, 0], [1, 1], False, [0, 0], 1)
    _check(y, conv_ref(x, w, None, (1, 1), (1, 0), (1, 1), 1), torch.float64)
    empty = torch.zeros(0, 3, 5, 6, device=device)
    y = _C._convolution(empty, torch.ones(4, 3, 2, 3, device=device), torch.ones(4, device=device),
                        [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    assert list(y.shape) == [0, 4, 4, 4]
    no_channels = _C._convolution(torch.zeros(2, 0, 4, device=device), torch.zeros(3, 0, 2, device=device),
                                  torch.ones(3, device=device), [1], [0], [1], False, [0], 1)
    np.testing.assert_array_equal(to_np(no_channels), np.ones((2, 3, 3)))


def test_errors_raise_runtime_error(device):
    x = torch.zeros(1, 4, 5, 5, device=device)
    with pytest.raises(RuntimeError, match="to have 6 channels, but got 4 channels"):
        _C._convolution(x, torch.zeros(2, 3, 3, 3, device=device), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 2)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        _C._convolution(x, torch.zeros(2, 4, 7, 7, device=device), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    with pytest.raises(RuntimeError, match="non-positive stride"):
        _C._convolution(x, torch.zeros(2, 4, 3, 3, device=device), None, [0, 1], [0, 0], [1, 1], False, [0, 0], 1)
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        _C._convolution(x, torch.zeros(4, 2, 3, 3, device=device), None, [1, 1], [0, 0], [1, 1], True, [1, 0], 1)
    with pytest.raises(RuntimeError, match="should be the same"):
        _C._convolution(x, torch.zeros(2, 4, 3, 3, dtype=torch.float64, device=device), None,
                        [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 2 elements"):
        _C._convolution(x, torch.zeros(2, 4, 3, 3, device=device), torch.zeros(3, device=device),
                        [1, 1], [0, 0], [1, 1], False, [0, 0], 1)


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------

# transposed, (N, C_in, *spatial), weight shape, stride, padding, dilation, output_padding, groups
GRAD_CASES = [
    (False, (2, 4, 7), (4, 2, 3), (2,), (1,), (1,), (0,), 2),
    (False, (1, 2, 5, 6), (3, 2, 2, 3), (1, 2), (1, 0), (2, 1), (0, 0), 1),
    (False, (1, 3, 5, 4), (3, 1, 3, 3), (1, 1), (1, 1), (1, 1), (0, 0), 3),
    (False, (1, 2, 4, 3, 4), (2, 1, 2, 2, 2), (1, 1, 2), (0, 1, 1), (1, 1, 1), (0, 0, 0), 2),
    (True, (1, 4, 4), (4, 1, 3), (2,), (1,), (1,), (1,), 2),
    (True, (1, 2, 3, 4), (2, 3, 2, 2), (2, 1), (0, 1), (1, 2), (1, 1), 1),  # output_padding >= stride
    (True, (1, 2, 2, 3, 2), (2, 2, 2, 2, 2), (1, 2, 1), (0, 1, 0), (1, 1, 1), (0, 1, 0), 1),
]


def _grad_inputs(rng, case, device):
    transposed, xs, ws, s, p, d, op, g = case
    x = torch.tensor(rng.standard_normal(xs), device=device, requires_grad=True)
    w = torch.tensor(rng.standard_normal(ws), device=device, requires_grad=True)
    cout = ws[1] * g if transposed else ws[0]
    b = torch.tensor(rng.standard_normal(cout), device=device, requires_grad=True)

    def fn(x, w, b):
        return _C._convolution(x, w, b, list(s), list(p), list(d), transposed, list(op), g)

    return fn, (x, w, b)


@pytest.mark.parametrize("case", GRAD_CASES)
def test_gradcheck(device, rng, case):
    fn, inputs = _grad_inputs(rng, case, device)
    assert fn(*inputs).grad_fn.name() == "ConvolutionBackward0"
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("case", GRAD_CASES)
def test_gradgradcheck(device, rng, case):
    fn, inputs = _grad_inputs(rng, case, device)
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("case", GRAD_CASES)
def test_fused_and_recorded_backward_agree(device, rng, case):
    """The fused backward (cuDNN or im2col) and the recorded one (create_graph) give one answer."""
    fn, inputs = _grad_inputs(rng, case, device)
    y = fn(*inputs)
    gy = torch.tensor(rng.standard_normal(tuple(y.shape)), device=device)
    fused = torch.autograd.grad(y, inputs, gy, retain_graph=True)
    recorded = torch.autograd.grad(y, inputs, gy, create_graph=True)
    assert recorded[0].requires_grad
    for a, b in zip(fused, recorded):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-10, atol=1e-10)


def test_grad_of_some_inputs_only(device, rng):
    x = torch.tensor(rng.standard_normal((2, 3, 6, 5)), device=device)
    w = torch.tensor(rng.standard_normal((4, 3, 3, 3)), device=device, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    (gw,) = torch.autograd.grad(y.sum(), [w])
    ref = np.zeros((4, 3, 3, 3))
    xp = np.pad(to_np(x), [(0, 0), (0, 0), (1, 1), (1, 1)])
    for i, j in np.ndindex(3, 3):
        ref[:, :, i, j] = xp[:, :, i:i + 6, j:j + 5].sum(axis=(0, 2, 3))[None, :]
    np.testing.assert_allclose(to_np(gw), ref, rtol=1e-10, atol=1e-10)


def test_float32_backward_matches_float64(device, rng):
    x = rng.standard_normal((2, 4, 9, 8))
    w = rng.standard_normal((6, 2, 3, 3))
    gy = rng.standard_normal((2, 6, 5, 8))
    grads = {}
    for dtype in (torch.float32, torch.float64):
        xt = _tensor(x, dtype, device, True)
        wt = _tensor(w, dtype, device, True)
        bt = _tensor(np.zeros(6), dtype, device, True)
        y = _C._convolution(xt, wt, bt, [2, 1], [1, 1], [1, 1], False, [0, 0], 2)
        grads[dtype] = [to_np(g) for g in torch.autograd.grad(y, (xt, wt, bt), _tensor(gy, dtype, device))]
    for a, b in zip(grads[torch.float32], grads[torch.float64]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(b).max()))


def conv_weight_grad_ref(x, gy, kernel, stride, padding, dilation, groups):
    """``gw[g*O/G + o, c, k] = sum_{n, p} gy[n, g*O/G + o, p] * xpad[n, g*C/G + c, p * s + k * d]``."""
    nd = x.ndim - 2
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(q, q) for q in padding])
    n, c = x.shape[:2]
    o, out = gy.shape[1], gy.shape[2:]
    xg = xp.reshape(n, groups, c // groups, *xp.shape[2:])
    gyg = gy.astype(np.float64).reshape(n, groups, o // groups, -1)
    gw = np.zeros((groups, o // groups, c // groups, *kernel))
    for kk in np.ndindex(*kernel):
        win = tuple(slice(kk[i] * dilation[i], kk[i] * dilation[i] + (out[i] - 1) * stride[i] + 1, stride[i])
                    for i in range(nd))
        xw = xg[(slice(None),) * 3 + win].reshape(n, groups, c // groups, -1)
        gw[(slice(None),) * 3 + kk] = np.einsum("ngop,ngcp->goc", gyg, xw)
    return gw.reshape(o, c // groups, *kernel)


def conv_input_grad_ref(gy, w, x_shape, stride, padding, dilation, groups):
    """The transposed convolution of ``gy``, with the output padding that restores ``x``'s size (the
    rows a stride skips at the end get no gradient)."""
    k = w.shape[2:]
    op = [(x_shape[2 + i] + 2 * padding[i] - dilation[i] * (k[i] - 1) - 1) % stride[i] for i in range(len(k))]
    return conv_transpose_ref(gy, w, None, stride, padding, op, groups, dilation)


# The CPU kernels (``cpu::convolution``): float32 at unit stride takes the direct AVX-512 kernels
# where the CPU has them (rows of 8 or more outputs, masked stores for a row's tail), everything
# else im2col + gemm per sample. Batches above the thread count run in chunks across threads, one
# sample with enough work is split inside it.
# (N, C, *spatial), out_channels, kernel, stride, padding, dilation, groups, bias
KERNEL_CASES = [
    ((16, 8, 14, 14), 16, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    ((1, 32, 24, 24), 40, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),  # one sample, split inside
    ((6, 4, 12, 17), 13, (3, 5), (1, 1), (1, 2), (2, 1), 1, True),  # two vectors per row, dilation
    ((8, 12, 10, 12), 12, (3, 3), (1, 1), (0, 3), (1, 1), 4, False),  # padding past the kernel's span
    ((4, 6, 9, 40), 9, (2, 4), (1, 1), (1, 3), (1, 1), 3, True),  # even kernel
    ((8, 5, 33), 7, (3,), (1,), (1,), (1,), 1, True),  # 1-D
    ((3, 3, 6, 7, 18), 5, (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1, True),  # 3-D
    ((64, 1, 28, 28), 16, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),  # a CNN's first layer
    ((5, 3, 7, 9), 5, (3, 3), (1, 1), (1, 1), (1, 1), 1, False),  # rows of 9: one masked vector
    ((3, 4, 5, 31), 6, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),  # rows of 31: a 15-lane tail
    ((4, 2, 6, 5), 3, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),  # rows of 5: too short, im2col
    ((10, 8, 12, 20), 8, (3, 3), (1, 1), (1, 1), (1, 1), 8, True),  # depthwise
    ((3, 4, 9, 16), 8, (3, 3), (1, 1), (2, 2), (2, 2), 4, False),  # depthwise, multiplier 2
    ((6, 5, 7, 16), 4, (1, 1), (1, 1), (0, 0), (1, 1), 1, True),  # pointwise
    ((9, 6, 15, 13), 8, (3, 3), (2, 2), (1, 1), (1, 1), 1, True),  # stride 2
    ((3, 4, 8, 9), 6, (2, 2), (2, 2), (3, 3), (1, 1), 2, False),  # stride 2, padding past the kernel
    ((4, 3, 30), 4, (3,), (2,), (2,), (2,), 1, True),  # 1-D, stride and dilation
    ((2, 2, 5, 6, 9), 4, (3, 3, 3), (2, 1, 2), (1, 1, 1), (1, 1, 1), 2, False),  # 3-D, stride
    ((2, 2, 8, 16), 3, (3, 3), (1, 1), (20, 20), (20, 20), 1, True),  # huge padding and dilation
]


def _kernel_case(rng, case):
    xs, o, k, s, p, d, g, bias = case
    x = rng.standard_normal(xs)
    w = rng.standard_normal((o, xs[1] // g, *k))
    b = rng.standard_normal(o) if bias else None
    return x, w, b


def _kernel_refs(case, x, w, b, gy):
    """y, gx, gw, gb of a KERNEL_CASES case in float64."""
    xs, o, k, s, p, d, g, bias = case
    nd = len(k)
    return (conv_ref(x, w, b, s, p, d, g),
            conv_input_grad_ref(gy, w, xs, s, p, d, g),
            conv_weight_grad_ref(x, gy, k, s, p, d, g),
            gy.sum(axis=(0, *range(2, nd + 2))) if bias else None)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", KERNEL_CASES)
def test_kernels_and_gradients(device, rng, dtype, case):
    xs, o, k, s, p, d, g, bias = case
    nd = len(k)
    x, w, b = _kernel_case(rng, case)
    inputs = [_tensor(a, dtype, device, True) for a in (x, w, b) if a is not None]
    y = _C._convolution(inputs[0], inputs[1], inputs[2] if bias else None,
                        list(s), list(p), list(d), False, [0] * nd, g)
    gy = rng.standard_normal(tuple(y.shape))
    refs = _kernel_refs(case, x, w, b, gy)
    _check(y, refs[0], dtype)
    grads = torch.autograd.grad(y, inputs, _tensor(gy, dtype, device))
    for got, ref in zip(grads, refs[1:]):
        _check(got, ref, dtype)


def test_generic_kernels_where_avx512_is_off(tmp_path, rng):
    """``FERROTORCH_DISABLE_AVX512`` (read once per process) runs the im2col + gemm kernels where the
    direct AVX-512 ones would run: a child process with it set gives the float64 references' values
    for the float32 unit-stride cases, and the same values as this process within rounding."""
    cases = [c for c in KERNEL_CASES if c[3] == (1,) * len(c[2])]
    data = {}
    for i, (xs, o, k, s, p, d, g, bias) in enumerate(cases):
        x, w, b = _kernel_case(rng, cases[i])
        gy = rng.standard_normal(conv_ref(x, w, b, s, p, d, g).shape)
        data.update({f"x{i}": x, f"w{i}": w, f"gy{i}": gy})
        if b is not None:
            data[f"b{i}"] = b
    np.savez(tmp_path / "in.npz", **data)
    code = textwrap.dedent("""
        import sys
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        import ferrotorch as torch
        from ferrotorch import _C
        cases, d, out = eval(sys.argv[2]), np.load(sys.argv[3]), {}
        for i, (xs, o, k, s, p, dil, g, bias) in enumerate(cases):
            names = ["x", "w"] + (["b"] if bias else [])
            ts = [torch.tensor(d[f"{n}{i}"], dtype=torch.float32, requires_grad=True) for n in names]
            y = _C._convolution(ts[0], ts[1], ts[2] if bias else None, list(s), list(p), list(dil), False,
                                [0] * len(k), g)
            grads = torch.autograd.grad(y, ts, torch.tensor(d[f"gy{i}"], dtype=torch.float32))
            for n, t in zip(["y"] + names, [y, *grads]):
                out[f"{n}{i}"] = t.detach().numpy()
        np.savez(sys.argv[4], **out)
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(torch.__file__)))
    env = dict(os.environ, FERROTORCH_DISABLE_AVX512="1")
    subprocess.run([sys.executable, "-c", code, root, repr(cases), str(tmp_path / "in.npz"),
                    str(tmp_path / "out.npz")], env=env, check=True, timeout=300)
    child = np.load(tmp_path / "out.npz")
    for i, case in enumerate(cases):
        xs, o, k, s, p, d, g, bias = case
        x, w, gy = data[f"x{i}"], data[f"w{i}"], data[f"gy{i}"]
        b = data.get(f"b{i}")
        refs = _kernel_refs(case, x, w, b, gy)
        ts = [_tensor(a, torch.float32, "cpu", True) for a in (x, w, b) if a is not None]
        y = _C._convolution(ts[0], ts[1], ts[2] if bias else None, list(s), list(p), list(d), False,
                            [0] * len(k), g)
        here = [y, *torch.autograd.grad(y, ts, _tensor(gy, torch.float32, "cpu"))]
        for n, ref, mine in zip(["y", "x", "w", "b"], refs, here):
            generic = child[f"{n}{i}"]
            _check(torch.from_numpy(generic), ref, torch.float32)
            scale = max(1.0, float(np.abs(ref).max()))
            np.testing.assert_allclose(to_np(mine), generic, rtol=1e-5, atol=2e-5 * scale)


# ---------------------------------------------------------------------------------------------
# torch.backends.cudnn
# ---------------------------------------------------------------------------------------------


def test_cudnn_flags_defaults_and_toggling():
    cudnn = torch.backends.cudnn
    # The autouse fixture turned TF32 off; torch's default is on.
    torch.backends.cudnn.allow_tf32 = True
    assert cudnn.allow_tf32 is True
    cudnn.allow_tf32 = False
    assert cudnn.allow_tf32 is False and _C._cudnn_flags()[1] is False
    cudnn.allow_tf32 = True
    assert _C._cudnn_flags()[1] is True
    assert cudnn.enabled is True and cudnn.deterministic is False and cudnn.benchmark is False
    with cudnn.flags(enabled=False, deterministic=True):
        assert cudnn.enabled is False and cudnn.deterministic is True
    assert cudnn.enabled is True and cudnn.deterministic is False
    assert isinstance(cudnn.is_available(), bool)
    v = cudnn.version()
    assert (v is None) == (not cudnn.is_available())
    if v is not None:
        assert v >= 8000


def test_allow_tf32_default_is_true():
    code = "import ferrotorch as t; print(t.backends.cudnn.allow_tf32, t.backends.cuda.matmul.allow_tf32)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


@pytest.mark.parametrize("allow", [False, True])
def test_tf32_switch_float32_accuracy(device, rng, allow):
    """float32 within float32 accuracy with TF32 off; within TF32's (10-bit mantissa) with it on."""
    torch.backends.cudnn.allow_tf32 = allow
    x = rng.standard_normal((4, 16, 12, 12))
    w = rng.standard_normal((16, 16, 3, 3))
    y = _C._convolution(_tensor(x, torch.float32, device), _tensor(w, torch.float32, device), None,
                        [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
    ref = conv_ref(x, w, None, (1, 1), (1, 1), (1, 1), 1)
    scale = math.sqrt(16 * 9)
    atol = {"cpu": 1e-5, "cuda": 5e-3 if allow else 2e-4}[device] * scale
    np.testing.assert_allclose(to_np(y), ref, rtol=0, atol=atol)


@pytest.mark.parametrize("enabled,deterministic", [(False, False), (True, True)])
def test_cudnn_switches_keep_values(device, rng, enabled, deterministic):
    """cuDNN off (im2col + cuBLAS on CUDA) and deterministic algorithms give the same values."""
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((4, 2, 3, 2))
    with torch.backends.cudnn.flags(enabled=enabled, deterministic=deterministic, allow_tf32=False):
        xt = _tensor(x, torch.float64, device, True)
        wt = _tensor(w, torch.float64, device, True)
        y = _C._convolution(xt, wt, None, [1, 2], [1, 1], [1, 1], False, [0, 0], 2)
        gx, gw = torch.autograd.grad(y.sum(), (xt, wt))
    _check(y, conv_ref(x, w, None, (1, 2), (1, 1), (1, 1), 2), torch.float64)
    # The input gradient of a sum is the transposed convolution of ones.
    ones = np.ones(tuple(y.shape))
    _check(gx, conv_transpose_ref(ones, w, None, (1, 2), (1, 1), (0, 0), 2, (1, 1)), torch.float64)
    assert gw.shape == wt.shape
