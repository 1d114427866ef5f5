"""Tensor methods that are clearer in Python than in Rust. Attached to the Rust class."""

from . import _C
from ._size import Size

Tensor = _C.Tensor


def _attach(fn, name=None):
    setattr(Tensor, name or fn.__name__, fn)
    return fn


@_attach
def size(self, dim=None):
    """The shape as a ``Size``, or one dimension's size."""
    if dim is None:
        return Size(self._shape)
    shape = self._shape
    n = len(shape)
    if not -max(n, 1) <= dim < max(n, 1):
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], "
            f"but got {dim})"
        )
    return shape[dim]


Tensor.shape = property(lambda self: Size(self._shape), doc="The shape of the tensor.")


@_attach
def tolist(self):
    return _C._tolist(self)


@_attach
def __len__(self):
    if self.dim() == 0:
        raise TypeError("len() of a 0-d tensor")
    return self._shape[0]


@_attach
def __bool__(self):
    if self.numel() != 1:
        raise RuntimeError(
            f"Boolean value of Tensor with more than one value is ambiguous"
            if self.numel() > 1
            else "Boolean value of Tensor with no values is ambiguous"
        )
    return bool(self.item())


@_attach
def __float__(self):
    return float(self.item())


@_attach
def __int__(self):
    return int(self.item())


@_attach
def __index__(self):
    if self.dtype.is_floating_point or self.numel() != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return int(self.item())


@_attach
def __format__(self, spec):
    if self.dim() == 0:
        return self.item().__format__(spec)
    return object.__format__(self, spec)


@_attach
def __iter__(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(self.unbind(0))


@_attach
def __reversed__(self):
    return iter(reversed(self.unbind(0)))
