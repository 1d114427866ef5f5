"""Resampling of images and volumes (interpolate, grid_sample, affine_grid), as in
``torch.nn.functional``.

``interpolate`` is separable: each output position of a spatial dim reads a few source positions
("taps") with per-position weights. The indices and weights depend only on the sizes, so they
are computed on the host with torch's own formulas and in torch's own precision (float32 for
every dtype but float64); the core's ``_resample`` then applies the taps of every dim in one
kernel, and its gradient is the same kernel with the taps transposed (integer images, nearest
modes only, are gathered with ``index_select`` per dim). ``grid_sample`` computes its coordinates with tensor ops, so gradients
flow to both the input and the grid.
"""

import itertools
import math
import warnings

import numpy as np

import ferrotorch as torch
from ferrotorch import _C

_INTERP_MODES = "nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact"
_LINEAR_MODES = {"linear": 3, "bilinear": 4, "trilinear": 5}
_CUBIC_A = -0.75


def _type_name(t):
    """torch's scalar type name (``'Long'`` for int64), as in "not implemented for" errors."""
    return t.type().rsplit(".", 1)[-1].replace("Tensor", "")


def _is_integer(x):
    return isinstance(x, (int, np.integer))


# ---------------------------------------------------------------------------------------------
# Per-dimension source indices and weights (host side, torch's formulas).
# ---------------------------------------------------------------------------------------------


def _scale_value(scale, in_size, out_size, ft):
    """``1 / scale`` when the user's scale is used, else ``in / out`` (torch's
    ``compute_scales_value``), in the compute type ``ft``."""
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(in_size) / ft(out_size)


def _area_pixel_scale(in_size, out_size, align_corners, scale, ft):
    if align_corners:
        return ft(in_size - 1) / ft(out_size - 1) if out_size > 1 else ft(0)
    return _scale_value(scale, in_size, out_size, ft)


def _area_pixel_source(scale, out_size, align_corners, cubic, ft):
    dst = np.arange(out_size).astype(ft)
    if align_corners:
        return scale * dst
    src = scale * (dst + ft(0.5)) - ft(0.5)
    # Linear modes clamp at 0 (both taps then read pixel 0); cubic keeps the sign for its weights.
    return src if cubic else np.maximum(src, ft(0))


def _nearest_taps(in_size, out_size, scale, exact):
    """``(out, 1)`` source indices; float32 arithmetic exactly as torch's CPU kernels."""
    i = np.arange(out_size)
    if not exact and out_size == in_size:
        return i[:, None]
    if not exact and out_size == 2 * in_size:
        return (i >> 1)[:, None]
    s = _scale_value(scale, in_size, out_size, np.float32)
    if exact:
        # (i + 0.5) is a double, the product a double rounded to float by floorf.
        src = np.floor(((i + 0.5) * np.float64(s)).astype(np.float32))
    else:
        src = np.floor(i.astype(np.float32) * s)
    return np.minimum(src.astype(np.int64), in_size - 1)[:, None]


def _linear_taps(in_size, out_size, align_corners, scale, ft):
    i = np.arange(out_size)
    if out_size == in_size:
        idx = np.stack([i, i], 1)
        w = np.stack([np.ones(out_size, ft), np.zeros(out_size, ft)], 1)
        return idx, w
    ratio = _area_pixel_scale(in_size, out_size, align_corners, scale, ft)
    real = _area_pixel_source(ratio, out_size, align_corners, False, ft)
    i0 = np.minimum(np.floor(real).astype(np.int64), in_size - 1)
    lam1 = np.clip(real - i0.astype(ft), ft(0), ft(1)).astype(ft)
    i1 = i0 + (i0 < in_size - 1)
    return np.stack([i0, i1], 1), np.stack([ft(1) - lam1, lam1], 1)


def _cubic_coefficients(t, A=_CUBIC_A):
    """Keys' cubic convolution weights of the taps at ``-1, 0, 1, 2`` for fraction ``t``; works on
    arrays and tensors alike."""

    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    return [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]


def _cubic_taps(in_size, out_size, align_corners, scale, ft):
    ratio = _area_pixel_scale(in_size, out_size, align_corners, scale, ft)
    real = _area_pixel_source(ratio, out_size, align_corners, True, ft)
    i0 = np.minimum(np.floor(real).astype(np.int64), in_size - 1)
    t = np.clip(real - i0.astype(ft), ft(0), ft(1)).astype(ft)
    # Taps beyond the border read the border pixel.
    idx = np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, in_size - 1)
    w = np.stack([c.astype(ft) for c in _cubic_coefficients(t, ft(_CUBIC_A))], 1)
    return idx, w


def _area_taps(in_size, out_size, ft):
    """Adaptive average pooling windows ``[floor(i*in/out), ceil((i+1)*in/out))``, padded to the
    widest window with zero-weight taps."""
    i = np.arange(out_size)
    start = (i * in_size) // out_size
    end = ((i + 1) * in_size + out_size - 1) // out_size
    count = end - start
    k = int(count.max()) if count.size else 1
    offs = np.arange(k)[None, :]
    inside = offs < count[:, None]
    idx = np.where(inside, start[:, None] + offs, start[:, None])
    w = np.where(inside, (ft(1) / count.astype(ft))[:, None], ft(0)).astype(ft)
    return idx, w


def _gather_dim(x, axis, idx):
    """Along ``axis``, output row ``o`` is ``x[idx[o, 0]]`` (one tap, no weight)."""
    index = torch.tensor(np.ascontiguousarray(idx[:, 0]), dtype=torch.int64, device=x.device)
    return x.index_select(axis, index)


def _check_upsample_sizes(in_sizes, out_sizes):
    if all(s > 0 for s in in_sizes) and all(s > 0 for s in out_sizes):
        return
    names = ["D", "H", "W"][3 - len(in_sizes):]
    inp = ", ".join(f"{n}: {s}" for n, s in zip(names, in_sizes))
    outp = ", ".join(f"{n}: {s}" for n, s in zip(names, out_sizes))
    sep = " and output" if len(in_sizes) == 1 else " output"
    raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({inp}){sep} ({outp})")


def _upsample(input, out_sizes, scales, mode, align_corners, op_name):
    in_sizes = list(input.shape[2:])
    if mode != "area":
        _check_upsample_sizes(in_sizes, out_sizes)
    elif any(s < 0 for s in out_sizes):
        raise RuntimeError(
            f"{op_name}: elements of output_size must be greater than or equal to 0 but received "
            f"{{{', '.join(map(str, out_sizes))}}}"
        )
    if mode not in ("nearest", "nearest-exact") and not input.is_floating_point():
        raise RuntimeError(f'"{op_name}" not implemented for \'{_type_name(input)}\'')
    ft = np.float64 if input.dtype == torch.float64 else np.float32
    taps = []
    for d in range(len(in_sizes)):
        n_in, n_out, s = in_sizes[d], out_sizes[d], scales[d]
        if mode in ("nearest", "nearest-exact"):
            idx, w = _nearest_taps(n_in, n_out, s, mode == "nearest-exact"), None
        elif mode == "area":
            idx, w = _area_taps(n_in, n_out, ft)
        elif mode == "bicubic":
            idx, w = _cubic_taps(n_in, n_out, align_corners, s, ft)
        else:
            idx, w = _linear_taps(n_in, n_out, align_corners, s, ft)
        taps.append((idx, w))
    if not input.is_floating_point():
        # Integer images (nearest modes only): a gather per dim, no weights to apply.
        out = input
        for d, (idx, _) in enumerate(taps):
            out = _gather_dim(out, d + 2, idx)
        return out
    # Floating inputs: one fused kernel over every dim, whose gradient is the same kernel with
    # the taps transposed.
    arrays = [
        (np.ascontiguousarray(idx, dtype=np.int64),
         np.ones(idx.shape, np.float64) if w is None else np.ascontiguousarray(w, dtype=np.float64))
        for idx, w in taps
    ]
    return _C._resample(input, arrays, _node_name(mode, len(in_sizes)))


def _node_name(mode, nd):
    """torch's name for the backward node of ``mode`` over ``nd`` dims."""
    if mode == "area":
        return f"AdaptiveAvgPool{max(nd, 2)}DBackward0"
    linear = {1: "UpsampleLinear1DBackward0", 2: "UpsampleBilinear2DBackward0", 3: "UpsampleTrilinear3DBackward0"}
    return {
        "nearest": f"UpsampleNearest{nd}DBackward0",
        "nearest-exact": f"_UpsampleNearestExact{nd}DBackward0",
        "bicubic": "UpsampleBicubic2DBackward0",
    }.get(mode, linear[nd])


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Down/up samples the input to the given ``size`` or by the given ``scale_factor``.

    Args:
        input (Tensor): ``(N, C, W)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        size (int or Tuple[int]): output spatial size.
        scale_factor (float or Tuple[float]): multiplier for the spatial size.
        mode (str): ``'nearest'`` | ``'linear'`` | ``'bilinear'`` | ``'bicubic'`` |
            ``'trilinear'`` | ``'area'`` | ``'nearest-exact'``. Default: ``'nearest'``
        align_corners (bool, optional): for the linear and cubic modes, map the centres of the
            corner pixels onto each other instead of the corners of the image. Default: ``False``
        recompute_scale_factor (bool, optional): compute the sampling scale from the output size
            instead of using ``scale_factor`` directly.
        antialias (bool): only ``False`` is supported.
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False

    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    elif size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {list(input.shape[2:])} and output size of {size}. Please provide input tensor in "
                    "(N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
                )
            if not all(_is_integer(x) for x in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], but "
                    f"got size with types {[type(x) for x in size]}"
                )
            output_size = [int(s) for s in size]
        else:
            output_size = [size for _ in range(dim)]
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {list(input.shape[2:])} and scale_factor of shape {scale_factor}. Please "
                    "provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."
                )
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor) for _ in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")

    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    # "area" always works from an explicit size.
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [math.floor(float(input.shape[i + 2]) * scale_factors[i]) for i in range(dim)]
        scale_factors = None

    if antialias and not (mode in ("bilinear", "bicubic") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor as input")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")

    if output_size is None:
        # The kernels derive the output size by truncating ``size * scale`` (a double).
        output_size = [int(float(input.shape[i + 2]) * scale_factors[i]) for i in range(dim)]
    scales = scale_factors if scale_factors is not None else [None] * dim

    names = {
        ("nearest", 3): "upsample_nearest1d", ("nearest", 4): "upsample_nearest2d",
        ("nearest", 5): "upsample_nearest3d", ("nearest-exact", 3): "_upsample_nearest_exact1d",
        ("nearest-exact", 4): "_upsample_nearest_exact2d", ("nearest-exact", 5): "_upsample_nearest_exact3d",
        ("area", 3): "adaptive_avg_pool1d", ("area", 4): "adaptive_avg_pool2d", ("area", 5): "adaptive_avg_pool3d",
        ("linear", 3): "upsample_linear1d", ("bilinear", 4): "upsample_bilinear2d",
        ("trilinear", 5): "upsample_trilinear3d", ("bicubic", 4): "upsample_bicubic2d",
    }
    op_name = names.get((mode, input.dim()))
    if op_name is not None:
        return _upsample(input, output_size, scales, mode, align_corners, op_name)

    if mode in _LINEAR_MODES and input.dim() in (3, 4, 5):
        need = _LINEAR_MODES[mode]
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {need}D input")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: "
        f"{_INTERP_MODES} (got {mode})"
    )


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------------------------
# grid_sample / affine_grid
# ---------------------------------------------------------------------------------------------

_ALIGN_CORNERS_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)


def _unnormalize(coord, size, align_corners):
    """[-1, 1] to pixel coordinates: corner-pixel centres (``align_corners``) or image corners."""
    if align_corners:
        return ((coord + 1) / 2) * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """Reflects ``coord`` back and forth about ``low`` and ``high`` until it lies between them."""
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = (coord - low).abs()
    extra = torch.fmod(c, span)
    flips = torch.floor(c / span)
    return torch.where(torch.fmod(flips, 2) == 0, extra + low, span - extra + low)


def _apply_padding(coord, size, padding_mode, align_corners):
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


def _gather_points(flat, idx, sizes):
    """Values of ``flat`` (``(N, C, prod(sizes))``) at the integer-valued float coordinates
    ``idx`` (one ``(N, 1, P)`` tensor per spatial dim); 0 where a coordinate is out of bounds."""
    n, c = flat.shape[0], flat.shape[1]
    p = idx[0].shape[-1]
    valid = None
    linear = None
    for coord, size in zip(idx, sizes):
        inside = (coord >= 0) & (coord <= size - 1)
        valid = inside if valid is None else valid & inside
        i = coord.clamp(0, size - 1).to(torch.int64)
        linear = i if linear is None else linear * size + i
    vals = flat.gather(2, linear.expand(n, c, p))
    return torch.where(valid, vals, 0.0)


def _check_grid_sampler(input, grid, mode):
    if input.device != grid.device:
        raise RuntimeError(
            f"grid_sampler(): expected input and grid to be on same device, but input is on {input.device} and "
            f"grid is on {grid.device}"
        )
    if input.dtype != grid.dtype:
        raise RuntimeError(
            f"grid_sampler(): expected input and grid to have same dtype, but input has {input.dtype} and grid "
            f"has {grid.dtype}"
        )
    in_sizes, grid_sizes = list(input.shape), list(grid.shape)
    if input.dim() not in (4, 5) or input.dim() != grid.dim():
        nd = "4D" if input.dim() == 4 else "5D"
        raise RuntimeError(
            f"grid_sampler(): expected {nd} input and grid with same number of dimensions, but got input with "
            f"sizes {in_sizes} and grid with sizes {grid_sizes}"
        )
    if in_sizes[0] != grid_sizes[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
            f"{in_sizes} and grid with sizes {grid_sizes}"
        )
    if grid_sizes[-1] != input.dim() - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got grid with "
            f"sizes {grid_sizes}"
        )
    for i in range(2, input.dim()):
        if in_sizes[i] <= 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes "
                f"{in_sizes} with dimension {i} being empty"
            )
    if input.dim() == 5 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.is_floating_point():
        op = "grid_sampler_2d_cpu" if input.dim() == 4 else "grid_sampler_3d_cpu"
        raise RuntimeError(f'"{op}" not implemented for \'{_type_name(input)}\'')


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples ``input`` at the normalised locations of ``grid`` (``x`` first, in ``[-1, 1]``).

    Args:
        input (Tensor): ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        grid (Tensor): ``(N, H_out, W_out, 2)`` or ``(N, D_out, H_out, W_out, 3)``.
        mode (str): ``'bilinear'`` | ``'nearest'`` | ``'bicubic'`` (4-D only). Default: ``'bilinear'``
        padding_mode (str): ``'zeros'`` | ``'border'`` | ``'reflection'``. Default: ``'zeros'``
        align_corners (bool, optional): ``-1`` and ``1`` are the centres of the corner pixels
            (``True``) or the image's corners (``False``). Default: ``False``

    Returns:
        ``(N, C, H_out, W_out)`` or ``(N, C, D_out, H_out, W_out)``.
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', "
            f"but got: '{padding_mode}'"
        )
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, stacklevel=2)
        align_corners = False
    _check_grid_sampler(input, grid, mode)

    n, c = input.shape[0], input.shape[1]
    sizes = list(input.shape[2:])
    k = len(sizes)
    out_shape = [n, c] + list(grid.shape[1:-1])
    p = math.prod(out_shape[2:])
    flat = input.reshape(n, c, math.prod(sizes))
    # grid's last axis lists x (the last spatial dim) first; points are laid out as (N, 1, P) so
    # that they broadcast over the channels.
    coords = [_unnormalize(grid.select(-1, k - 1 - d).reshape(n, 1, p), sizes[d], align_corners) for d in range(k)]

    if mode == "bicubic":
        out = _bicubic_sample(flat, coords, sizes, padding_mode, align_corners)
        return out.reshape(out_shape)

    coords = [_apply_padding(cd, s, padding_mode, align_corners) for cd, s in zip(coords, sizes)]
    if mode == "nearest":
        # Round half to even, as nearbyint.
        idx = [torch.round(cd.detach()) for cd in coords]
        out = _gather_points(flat, idx, sizes)
        # torch gives the grid a zero gradient here rather than none; a masked-out branch of
        # `where` contributes exactly that, whatever the grid's values.
        never = torch.zeros(coords[0].shape, dtype=torch.bool, device=grid.device)
        out = out + torch.where(never, coords[0], 0.0)
        return out.reshape(out_shape)

    lows = [torch.floor(cd.detach()) for cd in coords]
    out = None
    for corner in itertools.product((0, 1), repeat=k):
        weight = None
        idx = []
        for cd, lo, bit in zip(coords, lows, corner):
            w = (cd - lo) if bit else (lo + 1 - cd)
            weight = w if weight is None else weight * w
            idx.append(lo + bit)
        term = _gather_points(flat, idx, sizes) * weight
        out = term if out is None else out + term
    return out.reshape(out_shape)


def _bicubic_sample(flat, coords, sizes, padding_mode, align_corners):
    y, x = coords
    y0, x0 = torch.floor(y.detach()), torch.floor(x.detach())
    wy = _cubic_coefficients(y - y0)
    wx = _cubic_coefficients(x - x0)
    out = None
    for i in range(4):
        # Padding is applied to each integer tap, not to the sampling point.
        yi = _apply_padding(y0 + (i - 1), sizes[0], padding_mode, align_corners)
        row = None
        for j in range(4):
            xj = _apply_padding(x0 + (j - 1), sizes[1], padding_mode, align_corners)
            term = _gather_points(flat, [yi, xj], sizes) * wx[j]
            row = term if row is None else row + term
        term = row * wy[i]
        out = term if out is None else out + term
    return out


def _linspace_from_neg_one(theta, steps, align_corners):
    if steps <= 1:
        return torch.zeros(1, dtype=theta.dtype, device=theta.device)
    r = torch.linspace(-1, 1, steps, dtype=theta.dtype, device=theta.device)
    return r if align_corners else r * (steps - 1) / steps


def affine_grid(theta, size, align_corners=None):
    """Sampling grid of the affine maps ``theta`` (``(N, 2, 3)`` or ``(N, 3, 4)``) for an output of
    ``size`` (``(N, C, H, W)`` or ``(N, C, D, H, W)``), to be passed to :func:`grid_sample`.

    Returns:
        ``(N, H, W, 2)`` or ``(N, D, H, W, 3)``.
    """
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(
                f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got {theta.shape}."
            )
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(
                f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got {theta.shape}."
            )
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. "
            f"Got size {size}."
        )
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.",
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")

    # Base grid (*spatial, k + 1): homogeneous coordinates, x (the last spatial dim) first.
    k = len(spatial)
    columns = []
    for d in reversed(range(k)):
        view = [1] * k
        view[d] = spatial[d]
        columns.append(_linspace_from_neg_one(theta, spatial[d], align_corners).reshape(view).expand(*spatial))
    columns.append(torch.ones(spatial, dtype=theta.dtype, device=theta.device))
    base = torch.stack(columns, -1).reshape(1, -1, k + 1).expand(size[0], -1, k + 1)
    return torch.bmm(base, theta.transpose(1, 2)).reshape([size[0]] + spatial + [k])


__all__ = ["affine_grid", "grid_sample", "interpolate", "upsample", "upsample_bilinear", "upsample_nearest"]
