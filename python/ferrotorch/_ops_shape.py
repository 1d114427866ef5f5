"""Views and shape ops as module-level functions (most are Tensor methods used as functions),
plus the stacking helpers, ``meshgrid`` and ``broadcast_shapes`` written on top of them."""

import warnings

from ._C import Tensor, broadcast_tensors, cat, stack
from ._size import Size

reshape = Tensor.reshape
permute = Tensor.permute
transpose = Tensor.transpose
swapaxes = Tensor.swapaxes
swapdims = Tensor.swapdims
t = Tensor.t
squeeze = Tensor.squeeze
unsqueeze = Tensor.unsqueeze
flatten = Tensor.flatten
unflatten = Tensor.unflatten
narrow = Tensor.narrow
select = Tensor.select
chunk = Tensor.chunk
split_with_sizes = Tensor.split_with_sizes
tensor_split = Tensor.tensor_split
unbind = Tensor.unbind
movedim = Tensor.movedim
moveaxis = Tensor.moveaxis
diagonal = Tensor.diagonal
as_strided = Tensor.as_strided
broadcast_to = Tensor.broadcast_to
flip = Tensor.flip
fliplr = Tensor.fliplr
flipud = Tensor.flipud
roll = Tensor.roll
tile = Tensor.tile
repeat_interleave = Tensor.repeat_interleave
tril = Tensor.tril
triu = Tensor.triu
rot90 = Tensor.rot90


def split(tensor, split_size_or_sections, dim=0):
    """Splits ``tensor`` into chunks of ``split_size_or_sections`` (an int size or a list of
    sizes) along ``dim``. Returns a tuple of views."""
    return tensor.split(split_size_or_sections, dim)


def concat(tensors, dim=0, *, out=None):
    """Alias of :func:`cat`."""
    return cat(tensors, dim, out=out)


def concatenate(tensors, axis=0, out=None):
    """Alias of :func:`cat` with NumPy's ``axis`` keyword."""
    return cat(tensors, axis, out=out)


def _tensor_args(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(tensors[0])
    return tensors


def _atleast(tensors, fn):
    tensors = _tensor_args(tensors)
    out = tuple(fn(x) for x in tensors)
    return out[0] if len(out) == 1 else out


def _to_1d(x):
    return x.reshape(1) if x.dim() == 0 else x


def _to_2d(x):
    if x.dim() == 0:
        return x.reshape(1, 1)
    return x.unsqueeze(0) if x.dim() == 1 else x


def _to_3d(x):
    if x.dim() == 0:
        return x.reshape(1, 1, 1)
    if x.dim() == 1:
        return x.unsqueeze(0).unsqueeze(-1)
    return x.unsqueeze(-1) if x.dim() == 2 else x


def atleast_1d(*tensors):
    """Views with at least one dimension (0-d becomes shape ``(1,)``)."""
    return _atleast(tensors, _to_1d)


def atleast_2d(*tensors):
    """Views with at least two dimensions (1-d ``(n,)`` becomes ``(1, n)``)."""
    return _atleast(tensors, _to_2d)


def atleast_3d(*tensors):
    """Views with at least three dimensions (``(m, n)`` becomes ``(m, n, 1)``)."""
    return _atleast(tensors, _to_3d)


def hstack(tensors, *, out=None):
    """Stacks horizontally: along dim 0 for 1-d inputs, else along dim 1."""
    ts = [_to_1d(x) for x in tensors]
    return cat(ts, 0 if ts and ts[0].dim() == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Stacks vertically (row-wise) after making every input at least 2-d."""
    return cat([_to_2d(x) for x in tensors], 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Stacks depth-wise (along dim 2) after making every input at least 3-d."""
    return cat([_to_3d(x) for x in tensors], 2, out=out)


def column_stack(tensors, *, out=None):
    """Stacks as columns: 0-d and 1-d inputs become ``(n, 1)`` columns, then joins along dim 1."""
    return cat([x.reshape(x.numel(), 1) if x.dim() <= 1 else x for x in tensors], 1, out=out)


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to, as a ``Size``."""
    dims = []
    for s in shapes:
        s = (s,) if isinstance(s, int) else tuple(s)
        for v in s:
            if v < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {v}: {list(s)}")
        if len(s) > len(dims):
            dims = [1] * (len(s) - len(dims)) + dims
        for i, v in enumerate(s):
            j = len(dims) - len(s) + i
            if dims[j] == 1:
                dims[j] = v
            elif v != 1 and v != dims[j]:
                raise RuntimeError("Shape mismatch: objects cannot be broadcast to a single shape")
    return Size(dims)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-d tensors, as expanded views of the inputs.

    ``indexing='ij'`` (the default, with a warning as torch gives when it is omitted) makes
    output dim ``i`` follow input ``i``; ``'xy'`` swaps the first two dims (NumPy's default).
    """
    tensors = _tensor_args(tensors)
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for x in tensors:
        if x.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {x}")
        if x.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    n = len(tensors)
    swap = indexing == "xy" and n >= 2
    shape = [x.numel() for x in tensors]
    if swap:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, x in enumerate(tensors):
        pos = 1 - i if swap and i < 2 else i
        view_shape = [1] * n
        view_shape[pos] = -1
        out.append(x.reshape(view_shape).expand(shape))
    return tuple(out)


__all__ = [
    "reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "squeeze", "unsqueeze",
    "flatten", "unflatten", "narrow", "select", "chunk", "split", "split_with_sizes",
    "tensor_split", "unbind", "movedim", "moveaxis", "diagonal", "as_strided", "broadcast_to",
    "flip", "fliplr", "flipud", "rot90", "roll", "tile", "repeat_interleave", "tril", "triu",
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack",
    "column_stack", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_tensors",
    "broadcast_shapes", "meshgrid",
]
