"""Pooling layers' functional forms, as in ``torch.nn.functional``.

Max and average pooling are single core kernels (``_C._max_pool_with_indices``, ``_C._avg_pool``)
over 1, 2 or 3 spatial dims, forward and backward; padded positions never win a max and are
counted in an average only with ``count_include_pad``. Indices are torch's: flat positions within
each (unpadded) input plane. Adaptive pools whose windows tile the input evenly run through the
same kernels (a 1x1 output is one mean); uneven windows are composed from other ops.
"""

import math

import ferrotorch as torch
from ferrotorch import _C


def _ints(value, n, fn, name):
    """``value`` as an ``n``-tuple: an int is repeated; a sequence must have 1 or ``n`` items."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        if n == 1:
            raise RuntimeError(f"{fn}() {name} must be an int, list of ints or tuple of ints of size 1 "
                               f"but got size {len(value)}")
        words = {2: "two", 3: "three"}[n]
        raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {words} ints")
    return value


def _output_size(size, kernel, pad, stride, dilation, ceil_mode):
    """torch's ``pooling_output_shape`` for one dim (with its checks)."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > ((kernel - 1) * dilation + 1) // 2:
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={pad}, "
            f"kernel_size={kernel} and dilation={dilation}"
        )
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    # In ceil mode the last window must start inside the input or its left padding.
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _pool_setup(input, nd, kernel_size, stride, padding, dilation, ceil_mode, fn):
    """torch's checks of a pooling call; the parameters as ``nd``-tuples."""
    kernel = _ints(kernel_size, nd, fn, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _ints(stride, nd, fn, "stride")
    padding = _ints(padding, nd, fn, "padding")
    dilation = _ints(dilation, nd, fn, "dilation")
    shape = list(input.shape)
    letters = ("W",) if nd == 1 else ("H", "W") if nd == 2 else ("T", "H", "W")
    for what, prefix, values in (("kernel size", "k", kernel), ("stride", "d", stride),
                                 ("dilation", "dilation", dilation)):
        if any(v <= 0 for v in values):
            got = " ".join(f"{prefix}{c}: {v}" for c, v in zip(letters, values))
            raise RuntimeError(f"{what} should be greater than zero, but got {got}")
    if input.dim() not in (nd + 1, nd + 2) or any(s == 0 for s in shape[-nd - 1:]):
        if nd == 1:
            raise RuntimeError(f"{fn}() Expected 2D or 3D input tensor, but got {shape}")
        if nd == 2:
            raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for "
                               f"input, but got:{shape}")
        raise RuntimeError(f"{fn}(): Expected 4D or 5D tensor for input, but got: {shape}")
    size = shape[-nd:]
    out = [_output_size(size[i], kernel[i], padding[i], stride[i], dilation[i], ceil_mode) for i in range(nd)]
    if any(o < 1 for o in out):
        planes = shape[-nd - 1]
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, [planes] + size))}). Calculated output size: "
            f"({'x'.join(map(str, [planes] + out))}). Output size is too small"
        )
    return kernel, stride, padding, dilation


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, fn):
    kernel, stride, padding, dilation = _pool_setup(input, nd, kernel_size, stride, padding, dilation,
                                                    ceil_mode, fn)
    values, indices = _C._max_pool_with_indices(input, kernel, stride, padding, dilation, bool(ceil_mode))
    return (values, indices) if return_indices else values


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r"""1D max pooling over ``(N, C, L)`` or ``(C, L)``; ``stride`` defaults to ``kernel_size``.
    With ``return_indices``, also returns the argmax positions (int64, flat within each plane)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r"""2D max pooling over ``(N, C, H, W)`` or ``(C, H, W)``; ``stride`` defaults to ``kernel_size``.
    With ``return_indices``, also returns the argmax positions (int64, ``h * W + w``)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r"""3D max pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``; ``stride`` defaults to
    ``kernel_size``. With ``return_indices``, also returns flat per-plane argmax positions."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3, "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """:func:`max_pool1d` returning ``(output, indices)``."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 1, "max_pool1d")


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """:func:`max_pool2d` returning ``(output, indices)``."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 2, "max_pool2d")


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """:func:`max_pool3d` returning ``(output, indices)``."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 3, "max_pool3d")


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, fn):
    kernel, stride, padding, _ = _pool_setup(input, nd, kernel_size, stride, padding, 1, ceil_mode, fn)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    divisor = None if divisor_override is None else int(divisor_override)
    return _C._avg_pool(input, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad), divisor)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    r"""1D average pooling over ``(N, C, L)`` or ``(C, L)``; ``stride`` defaults to ``kernel_size``.
    ``count_include_pad`` counts the zero padding in the divisor."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    r"""2D average pooling over ``(N, C, H, W)`` or ``(C, H, W)``; ``stride`` defaults to
    ``kernel_size``. ``divisor_override`` replaces the window size as the divisor."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                     "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    r"""3D average pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``; ``stride`` defaults to
    ``kernel_size``. ``divisor_override`` replaces the window size as the divisor."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3,
                     "avg_pool3d")


def _adaptive_setup(input, output_size, nd, fn):
    shape = list(input.shape)
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {shape}")
    for i in range(input.dim() - nd, input.dim()):
        if shape[i] == 0:
            raise RuntimeError(
                f"{fn}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                f"sizes {shape} with dimension {i} being empty"
            )
    size = shape[-nd:]
    if isinstance(output_size, int):
        out = [output_size] * nd
    else:
        out = list(output_size)
        if len(out) != nd:
            raise RuntimeError(f"{fn}: output_size must be {nd}")
        # None keeps the input's size along that dim.
        out = [size[i] if o is None else int(o) for i, o in enumerate(out)]
    if any(o < 0 for o in out):
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal to 0 but received "
                           f"{out}")
    batched = input.dim() == nd + 2
    return (input if batched else input.unsqueeze(0)), batched, size, out


def _adaptive_bounds(size, out, device):
    """torch's adaptive windows along one dim: ``[floor(i * size / out), ceil((i + 1) * size / out))``."""
    i = torch.arange(out, device=device)
    return (i * size).floor_divide(out), ((i + 1) * size + out - 1).floor_divide(out)


def _adaptive_avg_pool(input, output_size, nd, fn):
    x, batched, size, out = _adaptive_setup(input, output_size, nd, fn)
    if all(o == 1 for o in out):
        return input.mean(dim=tuple(range(input.dim() - nd, input.dim())), keepdim=True)
    if all(o and n % o == 0 for n, o in zip(size, out)):
        # Equal windows that tile the input: average pooling with kernel = stride.
        kernel = [n // o for n, o in zip(size, out)]
        return _C._avg_pool(input, kernel, kernel, [0] * nd, False, True, None)
    for i in range(nd):
        dim = x.dim() - nd + i
        n, o = size[i], out[i]
        if o and n % o == 0:
            x = x.unflatten(dim, (o, n // o)).mean(dim + 1)
        else:
            # Unequal windows: average with a (size, out) matrix of 1/len over each window.
            start, end = _adaptive_bounds(n, o, x.device)
            j = torch.arange(n, device=x.device).unsqueeze(1)
            inside = (j >= start) & (j < end)
            weights = inside.to(x.dtype) / (end - start).to(x.dtype)
            x = torch.matmul(x.movedim(dim, -1), weights).movedim(-1, dim)
    return x if batched else x.squeeze(0)


def adaptive_avg_pool1d(input, output_size):
    r"""1D adaptive average pooling: ``(N, C, L)`` or ``(C, L)`` -> length ``output_size``."""
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    r"""2D adaptive average pooling to ``output_size`` (int or ``(H, W)``; ``None`` keeps a size)."""
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    r"""3D adaptive average pooling to ``output_size`` (int or ``(D, H, W)``; ``None`` keeps a size)."""
    return _adaptive_avg_pool(input, output_size, 3, "adaptive_avg_pool3d")


def _adaptive_windows(x, size, out, nd):
    """``x``'s adaptive windows along its last ``nd`` dims as ``(*lead, K, L)``: K elements of each
    of the L windows. Unequal windows are gathered to the longest length, repeating each one's last
    element (harmless for a max); equal ones are a plain view."""
    lead = x.dim() - nd
    window = []
    for i in range(nd):
        dim = lead + 2 * i
        n, o = size[i], out[i]
        if n % o == 0:
            window.append(n // o)
            x = x.unflatten(dim, (o, n // o))
            continue
        longest = max(((j + 1) * n + o - 1) // o - (j * n) // o for j in range(o))
        window.append(longest)
        start, end = _adaptive_bounds(n, o, x.device)
        index = torch.minimum(start.unsqueeze(1) + torch.arange(longest, device=x.device), end.unsqueeze(1) - 1)
        x = x.index_select(dim, index.reshape(-1)).unflatten(dim, (o, longest))
    perm = list(range(lead)) + [lead + 2 * i + 1 for i in range(nd)] + [lead + 2 * i for i in range(nd)]
    return x.permute(*perm).reshape(list(x.shape[:lead]) + [math.prod(window), math.prod(out)])


def _select_max(windows, plane_index):
    """Max over dim 2 of ``windows`` ``(N, C, K, L)`` and the matching entries of ``plane_index``
    ``(K, L)``, the flat per-plane position of each window element."""
    arg = windows.argmax(2, keepdim=True)
    values = windows.gather(2, arg).squeeze(2)
    indices = plane_index.expand(windows.shape).gather(2, arg).squeeze(2)
    return values, indices


def _adaptive_max_pool(input, output_size, return_indices, nd, fn):
    x, batched, size, out = _adaptive_setup(input, output_size, nd, fn)
    if any(o == 0 for o in out):
        raise RuntimeError(f"{fn}(): output_size must be positive, but got {out}")
    if all(n % o == 0 for n, o in zip(size, out)):
        # Equal windows that tile the input: max pooling with kernel = stride.
        kernel = [n // o for n, o in zip(size, out)]
        values, indices = _C._max_pool_with_indices(input, kernel, kernel, [0] * nd, [1] * nd, False)
        return (values, indices) if return_indices else values
    positions = torch.arange(math.prod(size), device=x.device).reshape(size)
    values, indices = _select_max(_adaptive_windows(x, size, out, nd), _adaptive_windows(positions, size, out, nd))
    shape = [x.shape[0], x.shape[1]] + out
    values, indices = values.reshape(shape), indices.reshape(shape)
    if not batched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    r"""1D adaptive max pooling: ``(N, C, L)`` or ``(C, L)`` -> length ``output_size``."""
    return _adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    r"""2D adaptive max pooling to ``output_size`` (int or ``(H, W)``; ``None`` keeps a size)."""
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    r"""3D adaptive max pooling to ``output_size`` (int or ``(D, H, W)``; ``None`` keeps a size)."""
    return _adaptive_max_pool(input, output_size, return_indices, 3, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool1d` returning ``(output, indices)``."""
    return _adaptive_max_pool(input, output_size, True, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool2d` returning ``(output, indices)``."""
    return _adaptive_max_pool(input, output_size, True, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool3d` returning ``(output, indices)``."""
    return _adaptive_max_pool(input, output_size, True, 3, "adaptive_max_pool3d")


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd, avg):
    kernel = _ints(kernel_size, nd, f"lp_pool{nd}d", "kernel_size")
    out = avg(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    # sign * relu(abs) zeroes the (rounding-)negative means before the root, as torch does.
    return (torch.sign(out) * torch.relu(torch.abs(out))).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    r"""1D power-average pooling: ``(sum over each window of x^p)^(1/p)``."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1, avg_pool1d)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    r"""2D power-average pooling: ``(sum over each window of x^p)^(1/p)``."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2, avg_pool2d)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    r"""3D power-average pooling: ``(sum over each window of x^p)^(1/p)``."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3, avg_pool3d)


def _unpool_output_size(input, kernel, stride, padding, output_size):
    nd = len(kernel)
    default = [(input.shape[input.dim() - nd + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        return default
    output_size = list(output_size)
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(
            f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a length "
            f"of '{len(output_size)}'"
        )
    for d in range(nd):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {low} and {high})')
    return [int(s) for s in output_size]


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd):
    fn = f"max_unpool{nd}d"
    kernel = _ints(kernel_size, nd, fn, "kernel_size")
    stride = kernel if stride is None else _ints(stride, nd, fn, "stride")
    padding = _ints(padding, nd, fn, "padding")
    size = _unpool_output_size(input, kernel, stride, padding, output_size)
    if indices.dtype != torch.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {indices.dtype}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to max_unpooling{nd}d should be a {nd + 1}d or {nd + 2}d Tensor, but got a "
                           f"tensor with {input.dim()} dimensions.")
    if list(input.shape) != list(indices.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) but got "
            f"indices tensor with shape: {list(indices.shape)}"
        )
    plane = math.prod(size)
    lead = list(input.shape[:input.dim() - nd])
    pooled = math.prod(input.shape[input.dim() - nd:])
    flat_index = indices.reshape(lead + [pooled])
    if flat_index.numel() and (int(flat_index.min()) < 0 or int(flat_index.max()) >= plane):
        bad = int(flat_index.min()) if int(flat_index.min()) < 0 else int(flat_index.max())
        raise RuntimeError(
            f"Found an invalid max index: {bad} (output volumes are of size {'x'.join(map(str, size))})"
        )
    out = torch.zeros(lead + [plane], dtype=input.dtype, device=input.device)
    out = out.scatter(-1, flat_index, input.reshape(lead + [pooled]))
    return out.reshape(lead + size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    r"""Partial inverse of :func:`max_pool1d`: puts each value at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    r"""Partial inverse of :func:`max_pool2d`: puts each value at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    r"""Partial inverse of :func:`max_pool3d`: puts each value at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool2d_with_indices", "max_pool3d",
    "max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
]
