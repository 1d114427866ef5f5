"""interpolate / upsample*, grid_sample, affine_grid and the resampling, shuffling and distance
modules, against NumPy references that loop over output pixels."""

import itertools
import math
import warnings

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck
from ferrotorch.nn.modules.channelshuffle import ChannelShuffle
from ferrotorch.nn.modules.distance import CosineSimilarity, PairwiseDistance
from ferrotorch.nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle
from ferrotorch.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from helpers import assert_close_np, to_np

# ---------------------------------------------------------------------------------------------
# NumPy references
# ---------------------------------------------------------------------------------------------


def keys_kernel(d, a=-0.75):
    """Keys' cubic convolution kernel at distance ``d``."""
    d = abs(d)
    if d <= 1:
        return (a + 2) * d**3 - (a + 3) * d**2 + 1
    if d < 2:
        return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
    return 0.0


def ratio(n_in, n_out, scale):
    """Input pixels per output pixel: from the user's scale when one is used, else from sizes."""
    return 1.0 / scale if scale is not None else n_in / n_out


def taps_1d(mode, o, n_in, n_out, align_corners, scale):
    """(index, weight) pairs producing output position ``o`` along one dimension."""
    if mode == "nearest":
        if n_out == n_in:
            return [(o, 1.0)]
        if n_out == 2 * n_in:
            return [(o // 2, 1.0)]
        return [(min(math.floor(o * ratio(n_in, n_out, scale)), n_in - 1), 1.0)]
    if mode == "nearest-exact":
        return [(min(math.floor((o + 0.5) * ratio(n_in, n_out, scale)), n_in - 1), 1.0)]
    if mode == "area":
        lo = math.floor(o * n_in / n_out)
        hi = math.ceil((o + 1) * n_in / n_out)
        return [(i, 1.0 / (hi - lo)) for i in range(lo, hi)]
    if mode == "linear" and n_out == n_in:
        return [(o, 1.0)]
    if align_corners:
        x = o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        x = (o + 0.5) * ratio(n_in, n_out, scale) - 0.5
    if mode == "linear":
        x = max(x, 0.0)
        i0 = min(math.floor(x), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        lam = x - i0
        return [(i0, 1 - lam), (i1, lam)]
    base = math.floor(x)
    return [(min(max(base + j, 0), n_in - 1), keys_kernel(x - (base + j))) for j in (-1, 0, 1, 2)]


def ref_interpolate(a, out_sizes, mode, align_corners=False, scales=None):
    """Loops over every output pixel; the N-d weight is the product of the 1-d ones."""
    kind = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    in_sizes = a.shape[2:]
    scales = scales or [None] * len(in_sizes)
    out = np.zeros(a.shape[:2] + tuple(out_sizes))
    for pos in itertools.product(*[range(s) for s in out_sizes]):
        per_dim = [taps_1d(kind, o, n_in, n_out, align_corners, s)
                   for o, n_in, n_out, s in zip(pos, in_sizes, out_sizes, scales)]
        acc = np.zeros(a.shape[:2])
        for combo in itertools.product(*per_dim):
            w = np.prod([t[1] for t in combo])
            acc += w * a[(slice(None), slice(None)) + tuple(t[0] for t in combo)]
        out[(slice(None), slice(None)) + pos] = acc
    return out


def unnormalize(c, size, align_corners):
    return (c + 1) / 2 * (size - 1) if align_corners else ((c + 1) * size - 1) / 2


def fold(x, lo, hi):
    """Mirror ``x`` into ``[lo, hi]`` as many times as needed."""
    if hi == lo:
        return 0.0
    span = hi - lo
    d = abs(x - lo)
    k = math.floor(d / span)
    r = d - k * span
    return lo + r if k % 2 == 0 else hi - r


def pad_coord(x, size, padding_mode, align_corners):
    if padding_mode == "reflection":
        x = fold(x, 0, size - 1) if align_corners else fold(x, -0.5, size - 0.5)
    if padding_mode in ("border", "reflection"):
        x = min(max(x, 0.0), size - 1)
    return x


def ref_grid_sample(a, grid, mode, padding_mode, align_corners):
    n, c = a.shape[:2]
    sizes = a.shape[2:]
    k = len(sizes)
    out = np.zeros((n, c) + grid.shape[1:-1])

    def value(b, idx):
        if all(0 <= i < s for i, s in zip(idx, sizes)):
            return a[(b, slice(None)) + tuple(idx)]
        return np.zeros(c)

    for b in range(n):
        for pos in itertools.product(*[range(s) for s in grid.shape[1:-1]]):
            g = grid[(b,) + pos]
            xs = [unnormalize(g[k - 1 - d], sizes[d], align_corners) for d in range(k)]
            if mode == "bicubic":
                base = [math.floor(x) for x in xs]
                acc = np.zeros(c)
                for jy, jx in itertools.product(range(-1, 3), repeat=2):
                    ty, tx = base[0] + jy, base[1] + jx
                    w = keys_kernel(xs[0] - ty) * keys_kernel(xs[1] - tx)
                    py = int(pad_coord(ty, sizes[0], padding_mode, align_corners))
                    px = int(pad_coord(tx, sizes[1], padding_mode, align_corners))
                    acc += w * value(b, [py, px])
            else:
                xs = [pad_coord(x, s, padding_mode, align_corners) for x, s in zip(xs, sizes)]
                if mode == "nearest":
                    acc = value(b, [int(np.rint(x)) for x in xs])
                else:
                    acc = np.zeros(c)
                    for corner in itertools.product((0, 1), repeat=k):
                        idx = [math.floor(x) + bit for x, bit in zip(xs, corner)]
                        w = np.prod([1 - abs(x - i) for x, i in zip(xs, idx)])
                        acc += w * value(b, idx)
            out[(b, slice(None)) + pos] = acc
    return out


def ref_affine_grid(theta, size, align_corners):
    n = size[0]
    spatial = size[2:]
    k = len(spatial)

    def axis(steps):
        if steps == 1:
            return np.zeros(1)
        if align_corners:
            return np.array([-1 + 2 * i / (steps - 1) for i in range(steps)])
        return np.array([(2 * i + 1) / steps - 1 for i in range(steps)])

    axes = [axis(s) for s in spatial]
    out = np.zeros([n] + list(spatial) + [k])
    for b in range(n):
        for pos in itertools.product(*[range(s) for s in spatial]):
            point = [axes[d][pos[d]] for d in reversed(range(k))] + [1.0]
            out[(b,) + pos] = theta[b] @ np.array(point)
    return out


def rand(rng, shape, device, dtype=torch.float64, requires_grad=False):
    arr = rng.standard_normal(shape)
    return torch.tensor(arr, dtype=dtype, device=device, requires_grad=requires_grad), arr


# ---------------------------------------------------------------------------------------------
# interpolate: forward values
# ---------------------------------------------------------------------------------------------

SHAPES = {3: (2, 3, 5), 4: (2, 2, 4, 5), 5: (1, 2, 3, 4, 3)}
LINEAR_MODE = {3: "linear", 4: "bilinear", 5: "trilinear"}


@pytest.mark.parametrize("ndim", [3, 4, 5])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "area"])
@pytest.mark.parametrize("target", ["up", "down", "mixed"])
def test_interpolate_size_matches_reference(device, rng, ndim, mode, target):
    shape = SHAPES[ndim]
    spatial = shape[2:]
    factor = {"up": [1.75, 2.0, 1.4], "down": [0.6, 0.5, 0.75], "mixed": [2.4, 0.5, 1.0]}[target]
    size = [max(1, int(s * f)) for s, f in zip(spatial, factor)]
    mode = LINEAR_MODE[ndim] if mode == "linear" else mode
    x, a = rand(rng, shape, device)
    for ac in ([False, True] if mode in LINEAR_MODE.values() else [None]):
        out = F.interpolate(x, size=size, mode=mode, align_corners=ac)
        assert_close_np(out, ref_interpolate(a, size, mode, bool(ac)))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(7, 9), (3, 2), (4, 5), (1, 1), (6, 3)])
def test_bicubic_matches_reference(device, rng, align_corners, size):
    x, a = rand(rng, (2, 2, 4, 5), device)
    out = F.interpolate(x, size=size, mode="bicubic", align_corners=align_corners)
    assert_close_np(out, ref_interpolate(a, size, "bicubic", align_corners))


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("scale", [1.7, 0.45, (2.3, 1.25), (0.8, 3.0)])
def test_scale_factor_uses_the_given_scale(device, rng, mode, scale):
    """Without recompute_scale_factor, source coordinates use 1 / scale_factor, not in / out."""
    x, a = rand(rng, (1, 2, 6, 5), device)
    scales = list(scale) if isinstance(scale, tuple) else [scale, scale]
    size = [int(n * s) for n, s in zip(a.shape[2:], scales)]
    ac = False if mode in ("bilinear", "bicubic") else None
    out = F.interpolate(x, scale_factor=scale, mode=mode, align_corners=ac)
    assert tuple(out.shape) == (1, 2, *size)
    assert_close_np(out, ref_interpolate(a, size, mode, False, scales))
    # recompute_scale_factor=True: same size, scale taken from the sizes.
    out = F.interpolate(x, scale_factor=scale, mode=mode, align_corners=ac, recompute_scale_factor=True)
    assert_close_np(out, ref_interpolate(a, size, mode, False))


def test_scale_and_recomputed_scale_differ(device):
    # 4 -> 6 pixels with scale 1.7: the given scale and in/out give different nearest sources.
    x = torch.arange(4, dtype=torch.float32, device=device).reshape(1, 1, 4)
    assert to_np(F.interpolate(x, scale_factor=1.7)).ravel().tolist() == [0, 0, 1, 1, 2, 2]
    assert to_np(F.interpolate(x, scale_factor=1.7, recompute_scale_factor=True)).ravel().tolist() == [0, 0, 1, 2, 2, 3]


def test_nearest_exact_uses_float32_index_math(device):
    """torch rounds (o + 0.5) / scale to float32 before the floor: output 18 of 10 -> 37 pixels
    at scale 3.7 reads pixel 5, where float64 arithmetic gives 4 (values printed by torch 2.11)."""
    x = torch.arange(10, dtype=torch.float32, device=device).reshape(1, 1, 10)
    expected = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8,
                9, 9, 9, 9]
    assert to_np(F.interpolate(x, scale_factor=3.7, mode="nearest-exact")).ravel().tolist() == expected


def test_scale_factor_ignored_with_align_corners(device, rng):
    x, a = rand(rng, (1, 1, 5), device)
    out = F.interpolate(x, scale_factor=1.7, mode="linear", align_corners=True)
    assert_close_np(out, ref_interpolate(a, [8], "linear", True))


def test_area_ignores_scale_factor(device, rng):
    x, a = rand(rng, (1, 2, 7, 5), device)
    out = F.interpolate(x, scale_factor=0.6, mode="area")
    assert_close_np(out, ref_interpolate(a, [4, 3], "area"))


def test_documented_bilinear_values(device):
    """The values printed in torch's ``nn.Upsample`` documentation."""
    x = torch.zeros(1, 1, 3, 3, device=device)
    x[:, :, :2, :2] = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    expected = [[1.0000, 1.2500, 1.7500, 1.5000, 0.5000, 0.0000],
                [1.5000, 1.7500, 2.2500, 1.8750, 0.6250, 0.0000],
                [2.5000, 2.7500, 3.2500, 2.6250, 0.8750, 0.0000],
                [2.2500, 2.4375, 2.8125, 2.2500, 0.7500, 0.0000],
                [0.7500, 0.8125, 0.9375, 0.7500, 0.2500, 0.0000],
                [0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000]]
    assert_close_np(F.interpolate(x, scale_factor=2, mode="bilinear")[0, 0], np.array(expected))
    expected = [[1.0000, 1.4000, 1.8000, 1.6000, 0.8000, 0.0000],
                [1.8000, 2.2000, 2.6000, 2.2400, 1.1200, 0.0000],
                [2.6000, 3.0000, 3.4000, 2.8800, 1.4400, 0.0000],
                [2.4000, 2.7200, 3.0400, 2.5600, 1.2800, 0.0000],
                [1.2000, 1.3600, 1.5200, 1.2800, 0.6400, 0.0000],
                [0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000]]
    out = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)[0, 0]
    np.testing.assert_allclose(to_np(out), np.array(expected), atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_interpolate_low_precision_dtypes(device, rng, dtype):
    a = rng.standard_normal((1, 2, 4, 4))
    x = torch.tensor(a, dtype=dtype, device=device)
    out = F.interpolate(x, size=(6, 3), mode="bilinear")
    assert out.dtype == dtype
    np.testing.assert_allclose(to_np(out), ref_interpolate(a, [6, 3], "bilinear"), **_loose(dtype))


def _loose(dtype):
    return {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float16: dict(rtol=1e-2, atol=1e-2),
            torch.bfloat16: dict(rtol=5e-2, atol=5e-2)}[dtype]


def test_nearest_keeps_integer_dtype(device):
    x = torch.tensor([[[1, 2, 3]]], dtype=torch.int64, device=device)
    out = F.interpolate(x, size=5)
    assert out.dtype == torch.int64
    assert to_np(out).ravel().tolist() == [1, 1, 2, 2, 3]


def test_interpolate_non_contiguous_and_empty_batch(device, rng):
    x, a = rand(rng, (2, 3, 5, 4), device)
    xt = x.transpose(2, 3)
    assert_close_np(F.interpolate(xt, size=(6, 7), mode="bilinear"),
                    ref_interpolate(a.transpose(0, 1, 3, 2), [6, 7], "bilinear"))
    empty = torch.zeros(0, 3, 4, 4, dtype=torch.float64, device=device)
    assert tuple(F.interpolate(empty, scale_factor=2, mode="bicubic").shape) == (0, 3, 8, 8)


def test_upsample_aliases(device, rng):
    x, a = rand(rng, (1, 2, 3, 4), device)
    with pytest.warns(UserWarning, match="deprecated"):
        out = F.upsample(x, size=(5, 6), mode="bilinear", align_corners=False)
    assert_close_np(out, ref_interpolate(a, [5, 6], "bilinear", False))
    with pytest.warns(UserWarning, match="deprecated"):
        out = F.upsample_nearest(x, scale_factor=2)
    assert_close_np(out, a.repeat(2, axis=2).repeat(2, axis=3))
    with pytest.warns(UserWarning, match="deprecated"):
        out = F.upsample_bilinear(x, size=(5, 7))
    assert_close_np(out, ref_interpolate(a, [5, 7], "bilinear", True))


# ---------------------------------------------------------------------------------------------
# interpolate: gradients and errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode,shape,kwargs", [
    ("nearest", (1, 2, 3, 3), dict(size=(4, 2))),
    ("nearest-exact", (1, 1, 2, 3, 2), dict(scale_factor=1.5)),
    ("linear", (2, 1, 4), dict(size=7, align_corners=True)),
    ("bilinear", (1, 2, 3, 4), dict(scale_factor=(1.6, 0.7))),
    ("bicubic", (1, 1, 4, 3), dict(size=(3, 5))),
    ("trilinear", (1, 1, 2, 3, 2), dict(size=(3, 2, 4))),
    ("area", (1, 2, 5, 4), dict(size=(2, 3))),
])
def test_interpolate_gradcheck(device, rng, mode, shape, kwargs):
    x, _ = rand(rng, shape, device, requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, mode=mode, **kwargs), (x,))


@pytest.mark.parametrize("mode,shape,kwargs,node", [
    ("nearest", (1, 2, 3), dict(scale_factor=2), "UpsampleNearest1DBackward0"),
    ("bilinear", (1, 2, 3, 4), dict(scale_factor=(1.6, 0.7)), "UpsampleBilinear2DBackward0"),
    ("bicubic", (1, 1, 4, 3), dict(size=(3, 5), align_corners=True), "UpsampleBicubic2DBackward0"),
    ("trilinear", (1, 1, 2, 3, 2), dict(size=(3, 2, 4)), "UpsampleTrilinear3DBackward0"),
    ("area", (1, 2, 5, 4), dict(size=(2, 3)), "AdaptiveAvgPool2DBackward0"),
])
def test_interpolate_is_one_fused_op_twice_differentiable(device, rng, mode, shape, kwargs, node):
    # One node for every dim, named as torch's; its gradient is the same linear op transposed,
    # so the second derivative exists too (gradgradcheck).
    x, _ = rand(rng, shape, device, requires_grad=True)
    y = F.interpolate(x, mode=mode, **kwargs)
    assert y.grad_fn.name() == node
    assert y.grad_fn.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"
    assert gradgradcheck(lambda t: F.interpolate(t, mode=mode, **kwargs), (x,))


def test_interpolate_backward_values(device):
    # Nearest 2x upsampling: each input pixel receives the sum of its four copies' gradients.
    x = torch.zeros(1, 1, 2, 2, dtype=torch.float64, device=device, requires_grad=True)
    g = torch.arange(16, dtype=torch.float64, device=device).reshape(1, 1, 4, 4)
    F.interpolate(x, scale_factor=2).backward(g)
    assert to_np(x.grad)[0, 0].tolist() == [[0 + 1 + 4 + 5, 2 + 3 + 6 + 7], [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]]


def test_interpolate_errors(device):
    x = torch.zeros(1, 1, 4, 4, device=device)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=2, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="Input and output must have the same number of spatial dimensions"):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(ValueError, match="Input and scale_factor must have the same number"):
        F.interpolate(x, scale_factor=(2.0,))
    with pytest.raises(TypeError, match="expected size to be one of int"):
        F.interpolate(x, size=(2.0, 3))
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=2, recompute_scale_factor=True)
    with pytest.raises(ValueError, match="Anti-alias option"):
        F.interpolate(x, size=2, mode="nearest", antialias=True)
    with pytest.raises(NotImplementedError):
        F.interpolate(x, size=2, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, size=2, mode="linear")
    with pytest.raises(NotImplementedError, match="Got 4D input, but trilinear mode needs 5D input"):
        F.interpolate(x, size=2, mode="trilinear")
    with pytest.raises(NotImplementedError, match=r"Only 3D, 4D and 5D input Tensors supported \(got 2D\)"):
        F.interpolate(torch.zeros(2, 2, device=device), size=[], mode="nearest")
    with pytest.raises(NotImplementedError, match=r"\(got cubic\)"):
        F.interpolate(x, size=2, mode="cubic")
    with pytest.raises(RuntimeError, match=r"Input and output sizes should be greater than 0, but got input "
                                           r"\(H: 4, W: 4\) output \(H: 0, W: 0\)"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(RuntimeError, match=r"input \(W: 4\) and output \(W: 0\)"):
        F.interpolate(torch.zeros(1, 1, 4, device=device), size=0, mode="linear")
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        F.interpolate(torch.zeros(1, 1, 4, 4, dtype=torch.int64, device=device), size=2, mode="bilinear")


# ---------------------------------------------------------------------------------------------
# grid_sample / affine_grid
# ---------------------------------------------------------------------------------------------


def make_grid(rng, shape, device, spread=1.3, requires_grad=False):
    arr = rng.uniform(-spread, spread, shape)
    return torch.tensor(arr, dtype=torch.float64, device=device, requires_grad=requires_grad), arr


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_2d_matches_reference(device, rng, mode, padding_mode, align_corners):
    x, a = rand(rng, (2, 3, 4, 5), device)
    # Far outside [-1, 1] too, so reflection folds more than once.
    grid, g = make_grid(rng, (2, 3, 6, 2), device, spread=3.2)
    out = F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    assert tuple(out.shape) == (2, 3, 3, 6)
    assert_close_np(out, ref_grid_sample(a, g, mode, padding_mode, align_corners))


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_3d_matches_reference(device, rng, mode, padding_mode, align_corners):
    x, a = rand(rng, (1, 2, 3, 4, 2), device)
    grid, g = make_grid(rng, (1, 2, 3, 2, 3), device, spread=2.5)
    out = F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    assert tuple(out.shape) == (1, 2, 2, 3, 2)
    assert_close_np(out, ref_grid_sample(a, g, mode, padding_mode, align_corners))


def test_grid_sample_identity_and_float32(device, rng):
    a = rng.standard_normal((1, 2, 5, 6)).astype(np.float32)
    x = torch.tensor(a, device=device)
    theta = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], device=device)
    for ac in (False, True):
        grid = F.affine_grid(theta, (1, 2, 5, 6), align_corners=ac)
        assert_close_np(F.grid_sample(x, grid, align_corners=ac), a)
        assert_close_np(F.grid_sample(x, grid, mode="bicubic", align_corners=ac), a)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_empty(device, mode):
    x = torch.zeros(0, 2, 3, 3, device=device)
    assert tuple(F.grid_sample(x, torch.zeros(0, 4, 5, 2, device=device), mode=mode, align_corners=False).shape) \
        == (0, 2, 4, 5)
    x = torch.zeros(2, 2, 3, 3, device=device)
    assert tuple(F.grid_sample(x, torch.zeros(2, 0, 5, 2, device=device), mode=mode, align_corners=False).shape) \
        == (2, 2, 0, 5)


def test_grid_sample_nearest_rounds_half_to_even(device):
    x = torch.arange(4, dtype=torch.float64, device=device).reshape(1, 1, 1, 4)
    # align_corners=True: x = -1/3 and 1/3 land on pixels 1.0 and 2.0; +-0.5 offsets land at 0.5 / 2.5.
    xs = torch.tensor([-2 / 3, 2 / 3], dtype=torch.float64, device=device)
    grid = torch.stack([xs, torch.zeros_like(xs)], -1).reshape(1, 1, 2, 2)
    out = F.grid_sample(x, grid, mode="nearest", align_corners=True)
    assert to_np(out).ravel().tolist() == [0.0, 2.0]


def test_grid_sample_nearest_gives_grid_a_zero_gradient(device):
    x = torch.ones(1, 1, 2, 2, dtype=torch.float64, device=device, requires_grad=True)
    grid = torch.tensor([[[[0.3, float("inf")], [0.2, -0.4]]]], dtype=torch.float64, device=device,
                        requires_grad=True)
    out = F.grid_sample(x, grid, mode="nearest", align_corners=False)
    assert to_np(out).ravel().tolist() == [0.0, 1.0]
    out.sum().backward()
    assert to_np(grid.grad).tolist() == [[[[0.0, 0.0], [0.0, 0.0]]]]
    assert to_np(x.grad).tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]  # (0.2, -0.4) -> pixel (0.1, 0.7)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck(device, rng, mode, padding_mode):
    x, _ = rand(rng, (1, 2, 3, 4), device, requires_grad=True)
    grid, _ = make_grid(rng, (1, 2, 3, 2), device, spread=1.4, requires_grad=True)
    for ac in (False, True):
        assert gradcheck(lambda t, g: F.grid_sample(t, g, mode=mode, padding_mode=padding_mode, align_corners=ac),
                         (x, grid))


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d_gradcheck(device, rng, mode):
    x, _ = rand(rng, (1, 1, 2, 3, 2), device, requires_grad=True)
    grid, _ = make_grid(rng, (1, 2, 1, 2, 3), device, requires_grad=mode == "bilinear")
    inputs = (x, grid)
    assert gradcheck(lambda t, g: F.grid_sample(t, g, mode=mode, padding_mode="reflection", align_corners=False),
                     inputs)


def test_grid_sample_errors_and_warning(device):
    x = torch.zeros(1, 1, 3, 3, device=device)
    grid = torch.zeros(1, 2, 2, 2, device=device)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'area'"):
        F.grid_sample(x, grid, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"):
        F.grid_sample(x, grid, padding_mode="circular", align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid and input to have same batch size"):
        F.grid_sample(x, torch.zeros(2, 2, 2, 2, device=device), align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid to have size 2 in last dimension"):
        F.grid_sample(x, torch.zeros(1, 2, 2, 3, device=device), align_corners=False)
    with pytest.raises(RuntimeError, match="expected 4D input and grid with same number of dimensions"):
        F.grid_sample(x, torch.zeros(1, 2, 2, device=device), align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(torch.zeros(1, 1, 2, 2, 2, device=device), torch.zeros(1, 1, 1, 1, 3, device=device),
                      mode="bicubic", align_corners=False)
    with pytest.raises(RuntimeError, match="expected input to have non-empty spatial dimensions"):
        F.grid_sample(torch.zeros(1, 1, 0, 3, device=device), grid, align_corners=False)
    with pytest.raises(RuntimeError, match="expected input and grid to have same dtype"):
        F.grid_sample(x, grid.double(), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, grid)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 2, 4)])
def test_affine_grid_matches_reference(device, rng, align_corners, size):
    k = len(size) - 2
    theta_np = rng.standard_normal((size[0], k, k + 1))
    theta = torch.tensor(theta_np, dtype=torch.float64, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = F.affine_grid(theta, size, align_corners=align_corners)
    assert tuple(out.shape) == (size[0], *size[2:], k)
    assert_close_np(out, ref_affine_grid(theta_np, size, align_corners))


def test_affine_grid_gradcheck(device, rng):
    theta = torch.tensor(rng.standard_normal((2, 2, 3)), dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 2), align_corners=False), (theta,))
    theta = torch.tensor(rng.standard_normal((1, 3, 4)), dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda t: F.affine_grid(t, (1, 1, 2, 2, 3), align_corners=True), (theta,))


def test_spatial_transformer_chain_gradcheck(device, rng):
    x, _ = rand(rng, (1, 1, 3, 3), device, requires_grad=True)
    theta = torch.tensor([[[0.87, 0.23, 0.13], [-0.11, 1.07, 0.06]]], dtype=torch.float64, device=device,
                         requires_grad=True)
    assert gradcheck(lambda t, th: F.grid_sample(t, F.affine_grid(th, (1, 1, 2, 3), align_corners=False),
                                                 align_corners=False), (x, theta))


def test_affine_grid_errors(device):
    theta = torch.zeros(1, 2, 3, device=device)
    with pytest.raises(ValueError, match="Expected theta to have floating point type"):
        F.affine_grid(torch.zeros(1, 2, 3, dtype=torch.int64, device=device), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(torch.zeros(1, 3, 4, device=device), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="Expected a batch of 3D affine matrices of shape Nx3x4"):
        F.affine_grid(theta, (1, 1, 2, 2, 2), align_corners=False)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
        F.affine_grid(theta, (1, 1, 2), align_corners=False)
    with pytest.raises(ValueError, match="Expected non-zero, positive output size"):
        F.affine_grid(theta, (1, 1, 0, 2), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(theta, (1, 1, 2, 2))


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------

def test_upsample_module(device, rng):
    x, a = rand(rng, (1, 2, 3, 4), device)
    m = Upsample(scale_factor=1.5, mode="bilinear", align_corners=True)
    assert m.scale_factor == 1.5 and isinstance(m.scale_factor, float)
    assert repr(m) == "Upsample(scale_factor=1.5, mode='bilinear')"
    assert_close_np(m(x), ref_interpolate(a, [4, 6], "bilinear", True))
    m = Upsample(size=(5, 2))
    assert repr(m) == "Upsample(size=(5, 2), mode='nearest')"
    assert_close_np(m(x), ref_interpolate(a, [5, 2], "nearest"))
    m = Upsample(scale_factor=(2, 3), mode="bicubic")
    assert m.scale_factor == (2.0, 3.0)
    assert repr(m) == "Upsample(scale_factor=(2.0, 3.0), mode='bicubic')"
    assert_close_np(m(x), ref_interpolate(a, [6, 12], "bicubic", False, [2.0, 3.0]))
    m = Upsample(scale_factor=1.7, recompute_scale_factor=True)
    assert_close_np(m(x), ref_interpolate(a, [5, 6], "nearest"))
    assert list(m.state_dict().keys()) == [] and list(m.parameters()) == []


def test_upsampling_2d_modules(device, rng):
    x, a = rand(rng, (1, 1, 3, 2), device)
    m = UpsamplingNearest2d(scale_factor=2)
    assert repr(m) == "UpsamplingNearest2d(scale_factor=2.0, mode='nearest')"
    assert_close_np(m(x), a.repeat(2, axis=2).repeat(2, axis=3))
    m = UpsamplingBilinear2d(size=(4, 5))
    assert m.align_corners is True
    assert repr(m) == "UpsamplingBilinear2d(size=(4, 5), mode='bilinear')"
    assert_close_np(m(x), ref_interpolate(a, [4, 5], "bilinear", True))


def test_upsample_module_gradcheck(device, rng):
    x, _ = rand(rng, (1, 1, 2, 3), device, requires_grad=True)
    assert gradcheck(Upsample(scale_factor=1.5, mode="bicubic"), (x,))


def ref_pixel_shuffle(a, r):
    n, c, h, w = a.shape
    out = np.zeros((n, c // (r * r), h * r, w * r))
    for b, ch, y, x in itertools.product(*[range(s) for s in out.shape]):
        out[b, ch, y, x] = a[b, ch * r * r + (y % r) * r + (x % r), y // r, x // r]
    return out


def test_pixel_shuffle_modules(device, rng):
    x, a = rand(rng, (2, 8, 2, 3), device, requires_grad=True)
    ps = PixelShuffle(2)
    assert repr(ps) == "PixelShuffle(upscale_factor=2)"
    y = ps(x)
    assert_close_np(y, ref_pixel_shuffle(a, 2))
    pu = PixelUnshuffle(2)
    assert repr(pu) == "PixelUnshuffle(downscale_factor=2)"
    assert_close_np(pu(y), a)
    assert gradcheck(lambda t: pu(ps(t) * 2.0), (x,))
    assert list(ps.state_dict().keys()) == [] and list(pu.parameters()) == []


def test_channel_shuffle_module(device, rng):
    x, a = rand(rng, (2, 6, 2, 1), device, requires_grad=True)
    m = ChannelShuffle(3)
    assert repr(m) == "ChannelShuffle(groups=3)"
    # 3 groups of 2: output channel i * 3 + g is input channel g * 2 + i.
    assert_close_np(m(x), a[:, [0, 2, 4, 1, 3, 5]])
    assert gradcheck(m, (x,))
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups"):
        ChannelShuffle(4)(x)


def test_cosine_similarity_module(device, rng):
    x1, a1 = rand(rng, (3, 4, 2), device, requires_grad=True)
    x2, a2 = rand(rng, (3, 4, 2), device, requires_grad=True)
    m = CosineSimilarity()
    assert (m.dim, m.eps) == (1, 1e-8)
    assert repr(m) == "CosineSimilarity()"
    expected = (a1 * a2).sum(1) / (np.linalg.norm(a1, axis=1) * np.linalg.norm(a2, axis=1))
    assert_close_np(m(x1, x2), expected)
    m = CosineSimilarity(dim=-1, eps=1e-6)
    expected = (a1 * a2).sum(-1) / (np.linalg.norm(a1, axis=-1) * np.linalg.norm(a2, axis=-1))
    assert_close_np(m(x1, x2), expected)
    assert gradcheck(m, (x1, x2))


def test_pairwise_distance_module(device, rng):
    x1, a1 = rand(rng, (3, 5), device, requires_grad=True)
    x2, a2 = rand(rng, (3, 5), device, requires_grad=True)
    m = PairwiseDistance()
    assert (m.norm, m.eps, m.keepdim) == (2.0, 1e-6, False)
    assert repr(m) == "PairwiseDistance()"
    assert_close_np(m(x1, x2), np.sqrt(((a1 - a2 + 1e-6) ** 2).sum(-1)))
    m = PairwiseDistance(p=1.0, eps=0.0, keepdim=True)
    out = m(x1, x2)
    assert tuple(out.shape) == (3, 1)
    assert_close_np(out, np.abs(a1 - a2).sum(-1, keepdims=True))
    assert gradcheck(PairwiseDistance(p=3.0), (x1, x2))
