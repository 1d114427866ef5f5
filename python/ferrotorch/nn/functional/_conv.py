"""Convolutions and sliding-window (un)folding, as in ``torch.nn.functional``.

Every convolution and transposed convolution is one core op, ``_C._convolution`` (torch's
``aten::convolution``, recorded as ``ConvolutionBackward0``): cuDNN for CUDA float tensors,
im2col + batched matrix products elsewhere, with the backward rule in the core. This module keeps
torch's argument checks and messages, the unbatched form, and ``padding='same'`` (whose odd
extra row or column on the right is added with ``F.pad`` first). ``unfold``/``fold`` are the
core's ``_C._im2col``/``_C._col2im``.
"""

from ferrotorch import _C

from ._padding import pad as _pad

_SPATIAL_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


_cudnn_loaded = False


def _convolution(x, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """``_C._convolution``, loading cuDNN's libraries before the first CUDA convolution."""
    global _cudnn_loaded
    if not _cudnn_loaded and x.is_cuda:
        from ...backends import cudnn

        cudnn._load()
        _cudnn_loaded = True
    return _C._convolution(x, weight, bias, stride, padding, dilation, transposed, output_padding, groups)


def _tuple(value, n, name):
    """``value`` as an ``n``-tuple of ints: an int is repeated; a sequence of 1 or ``n`` is taken."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {n} values to match the "
            f"convolution dimensions, but got {name}={list(value)}"
        )
    return value


def _batchify(input, nd, name):
    """``(input with a batch dim, whether it had one)``; torch's check on the input's rank."""
    if input.dim() == nd + 2:
        return input, True
    if input.dim() == nd + 1:
        return input.unsqueeze(0), False
    raise RuntimeError(
        f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of "
        f"size: {list(input.shape)}"
    )


def _n_blocks(size, kernel, stride, dilation):
    """How many windows fit along each dim of an (already padded) ``size``."""
    return [(size[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(len(size))]


def _same_padding(kernel, dilation):
    """torch's ``padding='same'``: total ``dilation * (kernel - 1)``, the odd one extra on the right."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return [t // 2 for t in total], [t - t // 2 for t in total]


def _check_dtypes(input, weight, bias):
    if weight.dtype != input.dtype:
        raise RuntimeError(
            f"Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same"
        )
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")


def _check_weight(input, weight, groups):
    """The checks shared by convolution and transposed convolution, in torch's order."""
    if weight.dim() != input.dim():
        raise RuntimeError(
            f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
            f"{list(weight.shape)}, but got {input.dim()}-dimensional input of size "
            f"{list(input.shape)} instead"
        )
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight.shape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
            f"weight of size {list(weight.shape)} instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
            f"got weight of size {list(weight.shape)} instead"
        )


def _check_params(stride, padding, dilation, output_padding=None):
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if output_padding is not None and any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")


def _conv(input, weight, bias, stride, padding, dilation, groups, nd, name):
    x, batched = _batchify(input, nd, name)
    _check_dtypes(x, weight, bias)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            left = right = [0] * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            left, right = _same_padding(list(weight.shape[2:]), dilation)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        left = right = list(_tuple(padding, nd, "padding"))
    _check_params(stride, left, dilation)
    _check_weight(x, weight, groups)
    cin, cout = x.shape[1], weight.shape[0]
    if cin != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(x.shape)} to have {weight.shape[1] * groups} channels, but got {cin} channels "
            "instead"
        )
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != cout):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
            f"{cout} elements, but got bias of size {list(bias.shape)} instead"
        )
    kernel = list(weight.shape[2:])
    padded = [x.shape[2 + i] + left[i] + right[i] for i in range(nd)]
    effective = [dilation[i] * (kernel[i] - 1) + 1 for i in range(nd)]
    if any(p < e for p, e in zip(padded, effective)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
            f"size: ({' x '.join(map(str, effective))}). Kernel size can't be greater than actual "
            "input size"
        )
    # The op pads symmetrically by `left`; 'same' with an even span needs one more on the
    # right, which only F.pad can add.
    extra = [right[i] - left[i] for i in range(nd)]
    if any(extra):
        x = _pad(x, [p for i in reversed(range(nd)) for p in (0, extra[i])])
    y = _convolution(x, weight, bias, list(stride), list(left), list(dilation), False, [0] * nd, groups)
    return y if batched else y.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""1D convolution over an input of shape ``(N, C_in, L)`` or ``(C_in, L)``.

    Args:
        weight: ``(out_channels, in_channels / groups, kW)``. bias: ``(out_channels)``.
        stride, dilation: int or 1-tuple. padding: int, 1-tuple, ``'valid'`` or ``'same'``.
        groups: splits the input channels into this many groups.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2D convolution over an input of shape ``(N, C_in, H, W)`` or ``(C_in, H, W)``.

    Args:
        weight: ``(out_channels, in_channels / groups, kH, kW)``. bias: ``(out_channels)``.
        stride, dilation: int or 2-tuple. padding: int, 2-tuple, ``'valid'`` or ``'same'``.
        groups: splits the input channels into this many groups.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""3D convolution over an input of shape ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``.

    Args:
        weight: ``(out_channels, in_channels / groups, kD, kH, kW)``. bias: ``(out_channels)``.
        stride, dilation: int or 3-tuple. padding: int, 3-tuple, ``'valid'`` or ``'same'``.
        groups: splits the input channels into this many groups.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name):
    x, batched = _batchify(input, nd, name)
    _check_dtypes(x, weight, bias)
    stride = _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    output_padding = _tuple(output_padding, nd, "output_padding")
    dilation = _tuple(dilation, nd, "dilation")
    _check_params(stride, padding, dilation, output_padding)
    _check_weight(x, weight, groups)
    cin = weight.shape[0]
    cout = weight.shape[1] * groups
    if x.shape[1] != cin:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} "
            f"to have {cin} channels, but got {x.shape[1]} channels instead"
        )
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != cout):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
            f"1-dimensional with {cout} elements, but got bias of size {list(bias.shape)} instead"
        )
    names = _SPATIAL_NAMES[nd]
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        detail = " ".join(
            [f"output_padding_{nm}: {v}" for nm, v in zip(names, output_padding)]
            + [f"stride_{nm}: {v}" for nm, v in zip(names, stride)]
            + [f"dilation_{nm}: {v}" for nm, v in zip(names, dilation)]
        )
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got {detail}")
    kernel = list(weight.shape[2:])
    size_in = list(x.shape[2:])
    size = [(size_in[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1)
            + output_padding[i] + 1 for i in range(nd)]
    if any(s < 1 for s in size):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, size_in))}). Calculated output size "
            f"per channel: ({' x '.join(map(str, size))}). Output size is too small"
        )
    y = _convolution(x, weight, bias, list(stride), list(padding), list(dilation), True,
                     list(output_padding), groups)
    return y if batched else y.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    r"""1D transposed convolution ("deconvolution") over ``(N, C_in, L)`` or ``(C_in, L)``.

    Args:
        weight: ``(in_channels, out_channels / groups, kW)``. bias: ``(out_channels)``.
        stride, padding, output_padding, dilation: int or 1-tuple. groups: channel groups.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    r"""2D transposed convolution ("deconvolution") over ``(N, C_in, H, W)`` or ``(C_in, H, W)``.

    Args:
        weight: ``(in_channels, out_channels / groups, kH, kW)``. bias: ``(out_channels)``.
        stride, padding, output_padding, dilation: int or 2-tuple. groups: channel groups.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    r"""3D transposed convolution ("deconvolution") over ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``.

    Args:
        weight: ``(in_channels, out_channels / groups, kD, kH, kW)``. bias: ``(out_channels)``.
        stride, padding, output_padding, dilation: int or 3-tuple. groups: channel groups.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                           "conv_transpose3d")


def _fold_params(kernel_size, dilation, padding, stride):
    kernel = _tuple(kernel_size, 2, "kernel_size")
    dilation = _tuple(dilation, 2, "dilation")
    padding = _tuple(padding, 2, "padding")
    stride = _tuple(stride, 2, "stride")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kernel_height: {kernel[0]} "
            f"kernel_width: {kernel[1]}"
        )
    if any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilation_height: {dilation[0]} "
            f"dilation_width: {dilation[1]}"
        )
    if any(p < 0 for p in padding):
        raise RuntimeError(
            f"padding should be non-negative, but got pad_height: {padding[0]} pad_width: {padding[1]}"
        )
    if any(s <= 0 for s in stride):
        raise RuntimeError(
            f"stride should be greater than zero, but got stride_height: {stride[0]} "
            f"stride_width: {stride[1]}"
        )
    return kernel, dilation, padding, stride


def _fold_blocks(size, kernel, dilation, padding, stride):
    return _n_blocks([size[i] + 2 * padding[i] for i in range(2)], kernel, stride, dilation)


def _describe(kernel, dilation, padding):
    return (f"kernel_size=({kernel[0]}, {kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), "
            f"padding=({padding[0]}, {padding[1]})")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    r"""Extracts sliding local blocks (im2col): ``(N, C, H, W)`` -> ``(N, C * prod(kernel_size), L)``,
    ``L`` the number of blocks; an unbatched ``(C, H, W)`` input gives ``(C * prod(kernel_size), L)``.
    """
    kernel, dilation, padding, stride = _fold_params(kernel_size, dilation, padding, stride)
    shape = list(input.shape)
    if not ((input.dim() == 3 and shape[0] and shape[1] and shape[2])
            or (input.dim() == 4 and shape[1] and shape[2] and shape[3])):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor input with possible 0 batch size and non-zero "
            f"dimensions, but got: {shape}"
        )
    x, batched = (input, True) if input.dim() == 4 else (input.unsqueeze(0), False)
    size = list(x.shape[2:])
    blocks = _fold_blocks(size, kernel, dilation, padding, stride)
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(
            f"Given input with spatial size ({size[0]}, {size[1]}), {_describe(kernel, dilation, padding)}, "
            f"calculated shape of the array of sliding blocks as ({blocks[0]}, {blocks[1]}), but its "
            "components must be at least one."
        )
    cols = _C._im2col(x, kernel, dilation, padding, stride)
    return cols if batched else cols.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    r"""Combines sliding local blocks into a tensor (col2im), summing overlaps:
    ``(N, C * prod(kernel_size), L)`` -> ``(N, C, *output_size)``; an unbatched
    ``(C * prod(kernel_size), L)`` gives ``(C, *output_size)``.
    """
    size = list(_tuple(output_size, 2, "output_size"))
    kernel, dilation, padding, stride = _fold_params(kernel_size, dilation, padding, stride)
    shape = list(input.shape)
    if not ((input.dim() == 2 and shape[0] and shape[1]) or (input.dim() == 3 and shape[1] and shape[2])):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
            f"dimensions for input, but got: {shape}"
        )
    x, batched = (input, True) if input.dim() == 3 else (input.unsqueeze(0), False)
    k = kernel[0] * kernel[1]
    if x.shape[1] % k:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
            f"got input.size(1)={x.shape[1]} and kernel_size=({kernel[0]}, {kernel[1]})."
        )
    blocks = _fold_blocks(size, kernel, dilation, padding, stride)
    given = (f"Given output_size=({size[0]}, {size[1]}), {_describe(kernel, dilation, padding)}, "
             f"stride=({stride[0]}, {stride[1]}), ")
    if x.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(
            f"{given}expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
            f"input.size(2)={x.shape[2]}."
        )
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(
            f"{given}calculated shape of the array of sliding blocks as ({blocks[0]}, {blocks[1]}), "
            "which is too small (non-positive)"
        )
    y = _C._col2im(x, size, kernel, dilation, padding, stride)
    return y if batched else y.squeeze(0)


__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "fold", "unfold",
]
