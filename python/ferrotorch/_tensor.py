"""Tensor methods that are clearer in Python than in Rust. Attached to the Rust class."""

import builtins

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


_TYPE_NAMES = {
    _C.float32: "FloatTensor",
    _C.float64: "DoubleTensor",
    _C.float16: "HalfTensor",
    _C.bfloat16: "BFloat16Tensor",
    _C.int64: "LongTensor",
    _C.int32: "IntTensor",
    _C.int16: "ShortTensor",
    _C.int8: "CharTensor",
    _C.uint8: "ByteTensor",
    _C.bool: "BoolTensor",
}
_DTYPE_OF_TYPE_NAME = {name: dt for dt, name in _TYPE_NAMES.items()}


@_attach
def type(self, dtype=None, non_blocking=False, **kwargs):
    """Without ``dtype``: the type name, e.g. ``'torch.FloatTensor'``. With a dtype or such a
    name: the tensor converted to it (self when it already has that type)."""
    if dtype is None:
        return ("torch.cuda." if self.is_cuda else "torch.") + _TYPE_NAMES[self.dtype]
    if isinstance(dtype, str):
        module, _, name = dtype.rpartition(".")
        if module not in ("torch", "torch.cuda") or name not in _DTYPE_OF_TYPE_NAME:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _DTYPE_OF_TYPE_NAME[name]
        if module == "torch.cuda":
            device = self.device if self.is_cuda else "cuda"
            return self.to(device, dtype, non_blocking)
        if self.is_cuda:
            return self.to("cpu", dtype, non_blocking)
    return self.to(dtype, non_blocking)


@_attach
def __len__(self):
    if self.dim() == 0:
        raise TypeError("len() of a 0-d tensor")
    return self._shape[0]


@_attach
def __bool__(self):
    if self.numel() != 1:
        raise RuntimeError(
            "Boolean value of Tensor with more than one value is ambiguous"
            if self.numel() > 1
            else "Boolean value of Tensor with no values is ambiguous"
        )
    return bool(self.item())


def _one_element(self):
    if self.numel() != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    return self.item()


@_attach
def __float__(self):
    return float(_one_element(self))


@_attach
def __int__(self):
    return int(_one_element(self))


@_attach
def __complex__(self):
    return complex(_one_element(self))


@_attach
def __index__(self):
    if self.dtype.is_floating_point or self.numel() != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return int(self.item())


@_attach
def __format__(self, spec):
    # torch formats 0-d plain tensors as their value; everything else as object does
    # (an empty spec gives str(self), any other spec raises TypeError).
    if self.dim() == 0 and builtins.type(self) is Tensor:
        return self.item().__format__(spec)
    return object.__format__(self, spec)


@_attach
def __iter__(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    unbind = getattr(self, "unbind", None)
    return iter(unbind(0) if unbind is not None else self._unbind0())


@_attach
def __reversed__(self):
    """``reversed(t)`` is ``t.flip(0)`` in torch (a tensor, which iterates rows backwards)."""
    if self.dim() == 0:
        return self
    flip = getattr(self, "flip", None)
    return flip(0) if flip is not None else self._flip0()


@_attach
def __deepcopy__(self, memo):
    """``copy.deepcopy``: a leaf copy with its own memory, ``requires_grad`` and gradient."""
    if id(self) in memo:
        return memo[id(self)]
    if not self.is_leaf:
        raise RuntimeError(
            "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment."
        )
    import copy

    new = self.detach().clone()
    new.requires_grad_(self.requires_grad)
    if self.grad is not None:
        new.grad = copy.deepcopy(self.grad, memo)
    memo[id(self)] = new
    return new
