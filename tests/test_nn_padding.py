"""F.pad (constant, reflect, replicate, circular; negative amounts crop) and the padding modules."""

import numpy as np
import pytest
from helpers import assert_close_np, make, to_np
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck
from ferrotorch.nn.modules.padding import (
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)


def _source(mode, n, left, right):
    """Reference index map of one dim, written element by element from torch's kernels."""
    out = []
    if mode == "circular":
        m = n + min(left, 0) + min(right, 0)
        for j in range(n + left + right):
            out.append((j - max(left, 0)) % m + max(-left, 0))
        return out
    for j in range(n + left + right):
        t = j - left
        if mode == "replicate":
            t = min(max(t, 0), n - 1)
        else:
            if t < 0:
                t = -t
            if t > n - 1:
                t = 2 * (n - 1) - t
        out.append(t)
    return out


def pad_ref(x, pad, mode, value=0.0):
    x = np.asarray(x)
    for j in range(len(pad) // 2):
        dim = x.ndim - 1 - j
        left, right = pad[2 * j], pad[2 * j + 1]
        n = x.shape[dim]
        if mode == "constant":
            if left < 0:
                x = np.take(x, range(-left, n), axis=dim)
                left = 0
            if right < 0:
                x = np.take(x, range(0, x.shape[dim] + right), axis=dim)
                right = 0
            widths = [(0, 0)] * x.ndim
            widths[dim] = (left, right)
            x = np.pad(x, widths, constant_values=value)
        else:
            x = np.take(x, _source(mode, n, left, right), axis=dim)
    return x


CASES = [
    ((2, 3, 5), (2, 1)),
    ((3, 5), (1, 3)),
    ((2, 3, 4, 5), (1, 2, 3, 0)),
    ((3, 4, 5), (2, 2, 1, 1)),
    ((1, 2, 3, 4, 5), (1, 1, 2, 0, 0, 2)),
    ((2, 3, 4, 4), (1, 2, 0, 3, 2, 1)),
]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", CASES)
def test_pad_matches_numpy(device, rng, mode, shape, pad):
    x, a = make(rng, shape, torch.float32, device)
    assert_close_np(F.pad(x, pad, mode), pad_ref(a, pad, mode))


@pytest.mark.parametrize("mode,np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_pad_agrees_with_numpy_pad_modes(device, rng, mode, np_mode):
    x, a = make(rng, (2, 3, 4, 5), torch.float64, device)
    got = F.pad(x, (2, 1, 3, 2), mode)
    assert_close_np(got, np.pad(a, [(0, 0), (0, 0), (3, 2), (2, 1)], mode=np_mode))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(-1, 2), (2, -2), (-1, -1, 1, 0)])
def test_negative_padding_crops(device, rng, mode, pad):
    x, a = make(rng, (2, 4, 5), torch.float64, device)
    assert_close_np(F.pad(x, pad, mode), pad_ref(a, pad, mode))


def test_constant_value_dtype_and_leading_dims(device):
    x = torch.arange(6, device=device).reshape(2, 3)
    y = F.pad(x, (1, 0, 0, 1), value=7)
    assert y.dtype == torch.int64
    np.testing.assert_array_equal(to_np(y), [[7, 0, 1, 2], [7, 3, 4, 5], [7, 7, 7, 7]])
    z = torch.ones(2, 3, device=device)
    assert_close_np(F.pad(z, (0, 0, 1, 1), value=-2.5), np.pad(np.ones((2, 3)), [(1, 1), (0, 0)],
                                                               constant_values=-2.5))
    # Constant padding reaches any dim, e.g. the batch dim of a 1-D pad list of length 6.
    assert tuple(F.pad(z, (1, 1, 1, 1)).shape) == (4, 5)


def test_pad_result_does_not_alias_input(device):
    x = torch.zeros(2, 3, device=device)
    y = F.pad(x, (0, -1))
    y.add_(1)
    assert float(x.sum()) == 0.0


@settings(max_examples=25, deadline=None)
@given(
    mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]),
    sizes=st.lists(st.integers(2, 5), min_size=1, max_size=3),
    data=st.data(),
)
def test_pad_random(device, mode, sizes, data):
    shape = [2] + sizes
    pad = []
    for n in reversed(sizes):
        low = -(n - 1) // 2 if mode != "reflect" else -1
        left = data.draw(st.integers(low, n - 1))
        # Keep at least one element along the dim (replicate and reflect require it).
        pad += [left, data.draw(st.integers(max(low, 1 - n - left), n - 1))]
    a = np.random.default_rng(len(pad)).standard_normal(shape)
    x = torch.tensor(a, device=device)
    assert_close_np(F.pad(x, pad, mode), pad_ref(a, pad, mode))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", [
    ((2, 4), (2, 1)), ((1, 3, 4), (1, 2, 2, 1)), ((1, 2, 2, 3), (-1, 2, 1, 1, 1, 0)),
])
def test_pad_gradcheck(device, mode, shape, pad):
    x = torch.randn(*shape, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: F.pad(t, pad, mode), (x,))


def test_pad_errors(device):
    x = torch.zeros(1, 2, 3, device=device)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match="Padding length too large"):
        F.pad(x, (1,) * 8)
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode wrap"):
        F.pad(x, (1, 1), "wrap")
    with pytest.raises(RuntimeError, match='Padding mode "reflect" doesn\'t take in value argument'):
        F.pad(x, (1, 1), "reflect", 0.0)
    with pytest.raises(RuntimeError, match=r"Argument #4: Padding size should be less than the corresponding "
                                           r"input dimension, but got: padding \(3, 3\) at dimension 2 of "
                                           r"input \[1, 2, 3\]"):
        F.pad(x, (3, 3), "reflect")
    with pytest.raises(RuntimeError, match="Padding value causes wrapping around more than once"):
        F.pad(x, (4, 0), "circular")
    with pytest.raises(NotImplementedError, match="Only 2D, 3D, 4D, 5D padding with non-constant padding"):
        F.pad(torch.zeros(3, device=device), (1, 1), "replicate")
    with pytest.raises(RuntimeError, match=r"The input size 3, plus negative padding -2 and -2 resulted in a "
                                           r"negative output size, which is invalid. Check dimension 2"):
        F.pad(x, (-2, -2))


MODULES = [
    (ZeroPad1d(2), "ZeroPad1d((2, 2))", (2, 3), (2, 2), "constant", {}),
    (ZeroPad2d((1, 0, 2, 1)), "ZeroPad2d((1, 0, 2, 1))", (1, 2, 3), (1, 0, 2, 1), "constant", {}),
    (ZeroPad3d(1), "ZeroPad3d((1, 1, 1, 1, 1, 1))", (1, 2, 2, 2), (1,) * 6, "constant", {}),
    (ConstantPad1d((1, 2), 3.5), "ConstantPad1d(padding=(1, 2), value=3.5)", (2, 3), (1, 2), "constant",
     {"value": 3.5}),
    (ConstantPad2d(1, -1.0), "ConstantPad2d(padding=(1, 1, 1, 1), value=-1.0)", (2, 2, 3), (1,) * 4, "constant",
     {"value": -1.0}),
    (ConstantPad3d((0, 1, 1, 0, 1, 1), 2.0), "ConstantPad3d(padding=(0, 1, 1, 0, 1, 1), value=2.0)",
     (1, 2, 2, 2), (0, 1, 1, 0, 1, 1), "constant", {"value": 2.0}),
    (ReflectionPad1d((2, 1)), "ReflectionPad1d((2, 1))", (2, 2, 4), (2, 1), "reflect", {}),
    (ReflectionPad2d(1), "ReflectionPad2d((1, 1, 1, 1))", (2, 3, 3), (1,) * 4, "reflect", {}),
    (ReflectionPad3d(1), "ReflectionPad3d((1, 1, 1, 1, 1, 1))", (1, 2, 2, 3, 3), (1,) * 6, "reflect", {}),
    (ReplicationPad1d(3), "ReplicationPad1d((3, 3))", (2, 4), (3, 3), "replicate", {}),
    (ReplicationPad2d((0, 2, 1, 0)), "ReplicationPad2d((0, 2, 1, 0))", (1, 2, 3, 3), (0, 2, 1, 0), "replicate", {}),
    (ReplicationPad3d(1), "ReplicationPad3d((1, 1, 1, 1, 1, 1))", (2, 2, 2, 2), (1,) * 6, "replicate", {}),
    (CircularPad1d(1), "CircularPad1d((1, 1))", (2, 3, 4), (1, 1), "circular", {}),
    (CircularPad2d((1, 0, 2, 1)), "CircularPad2d((1, 0, 2, 1))", (2, 3, 3), (1, 0, 2, 1), "circular", {}),
    (CircularPad3d(1), "CircularPad3d((1, 1, 1, 1, 1, 1))", (1, 1, 2, 2, 2), (1,) * 6, "circular", {}),
]


@pytest.mark.parametrize("module,text,shape,pad,mode,kw", MODULES, ids=[m[1].split("(")[0] for m in MODULES])
def test_padding_modules(device, rng, module, text, shape, pad, mode, kw):
    assert repr(module) == text
    assert len(module.state_dict()) == 0
    x, a = make(rng, shape, torch.float32, device)
    assert_close_np(module(x), pad_ref(a, pad, mode, **kw))


def test_circular_pad_module_checks_rank(device):
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        CircularPad1d(1)(torch.zeros(1, 1, 1, 3, device=device))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        CircularPad2d(1)(torch.zeros(3, 3, device=device))
