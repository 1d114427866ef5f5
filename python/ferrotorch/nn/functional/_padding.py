"""Padding, as in ``torch.nn.functional.pad``."""

import ferrotorch as torch

_MODES = ("constant", "reflect", "replicate", "circular")


def _fill_value(dtype, value):
    """The scalar ``value`` as the fill of a ``dtype`` tensor (torch truncates floats for ints)."""
    if dtype == torch.bool:
        return bool(value)
    if dtype.is_floating_point:
        return float(value)
    return int(value)


def _constant_pad(input, pad, value):
    ndim = input.dim()
    n_pad = len(pad) // 2
    sizes = list(input.shape)
    for i in range(ndim - n_pad, ndim):
        k = 2 * (ndim - i - 1)
        new = sizes[i] + pad[k] + pad[k + 1]
        if new < 0:
            raise RuntimeError(
                f"The input size {sizes[i]}, plus negative padding {pad[k]} and {pad[k + 1]} resulted "
                f"in a negative output size, which is invalid. Check dimension {i} of your input."
            )
    # Two kernels whatever the number of padded dims: a fill of the output, and one strided copy
    # of the (cropped) input into its place, whose gradient is a view of the output's.
    src, dst = [slice(None)] * ndim, [slice(None)] * ndim
    out_sizes = list(sizes)
    for i in range(ndim - n_pad, ndim):
        left, right = pad[2 * (ndim - i - 1)], pad[2 * (ndim - i - 1) + 1]
        out_sizes[i] = sizes[i] + left + right
        # A negative pad crops the input; a positive one leaves a margin of `value`.
        src[i] = slice(max(-left, 0), sizes[i] - max(-right, 0))
        dst[i] = slice(max(left, 0), out_sizes[i] - max(right, 0))
    out = torch.full(out_sizes, _fill_value(input.dtype, value), dtype=input.dtype, device=input.device)
    if out.numel():
        out[tuple(dst)] = input[tuple(src)]
    elif input.requires_grad and torch.is_grad_enabled():
        out = out + input.sum() * 0  # an empty result still belongs to the graph
    return out


def _source_index(mode, n, left, right, device):
    """For each output position along one dim, the input position it copies (an int64 tensor)."""
    out = torch.arange(n + left + right, device=device)
    if mode == "circular":
        # As torch: negative pads crop first, then the cropped block wraps around.
        m = n + min(left, 0) + min(right, 0)
        return (out - max(left, 0)).remainder(m) + max(-left, 0)
    t = out - left
    if mode == "replicate":
        return t.clamp(0, n - 1)
    # reflect: mirror about 0 and about n - 1 (the pads are < n, so one mirror suffices).
    t = t.abs()
    return (n - 1) - ((n - 1) - t).abs()


def _check_non_constant(input, pad, mode):
    n_pad = len(pad) // 2
    if input.dim() not in (n_pad + 1, n_pad + 2):
        raise NotImplementedError("Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now")
    sizes = list(input.shape)
    if any(s == 0 for s in sizes[1:]) or (input.dim() == n_pad + 1 and sizes[0] == 0):
        raise RuntimeError(
            f"Expected {n_pad + 1}D or {n_pad + 2}D (batch mode) tensor with possibly 0 batch size and "
            f"other non-zero dimensions for input, but got: {sizes}"
        )
    for j in range(n_pad):
        dim = input.dim() - 1 - j
        left, right = pad[2 * j], pad[2 * j + 1]
        n = sizes[dim]
        if mode == "reflect" and (left >= n or right >= n):
            raise RuntimeError(
                f"Argument #{4 + 2 * j}: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({left}, {right}) at dimension {dim} of input {sizes}"
            )
        if mode == "circular":
            if left > n or right > n:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if n + min(left, 0) + min(right, 0) <= 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
            continue
        if n + left + right < 1:
            names = "WHD"[j]
            raise RuntimeError(
                f"input ({names}: {n}) is too small. Calculated output {names}: {n + left + right}"
            )


def pad(input, pad, mode="constant", value=None):
    r"""Pads ``input``. ``pad`` lists (left, right) amounts starting from the LAST dim:
    ``(left, right)`` pads the last dim, ``(left, right, top, bottom)`` the last two, and so on.
    A negative amount crops.

    Args:
        input (Tensor): N-dimensional tensor.
        pad (tuple): m-element tuple, m/2 <= input dimensions and m even.
        mode (str): ``'constant'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
            Default: ``'constant'``.
        value (float, optional): fill value for ``'constant'`` padding. Default: ``0``.

    ``'reflect'``, ``'replicate'`` and ``'circular'`` pad the last 1, 2 or 3 dims of a 2D-5D input
    (with or without a batch dimension).
    """
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * input.dim():
        raise RuntimeError("Padding length too large")
    if mode == "constant":
        return _constant_pad(input, pad, 0 if value is None else value)
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_non_constant(input, pad, mode)
    # One gather whatever the number of padded dims: an index tensor per padded dim, shaped to
    # broadcast against the others (advanced indexing), so the backward is one scatter-add.
    n_pad = len(pad) // 2
    index = []
    for j in reversed(range(n_pad)):
        dim = input.dim() - 1 - j
        idx = _source_index(mode, input.shape[dim], pad[2 * j], pad[2 * j + 1], input.device)
        index.append(idx.reshape([-1] + [1] * j))
    return input[(Ellipsis, *index)]


__all__ = ["pad"]
