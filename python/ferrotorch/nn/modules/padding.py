"""Padding layers: constant (zero), reflection, replication and circular, in 1, 2 and 3 dims."""

from .. import functional as F
from .utils import _ntuple, _pair, _quadruple
from .module import Module

_sextuple = _ntuple(6, "_sextuple")


def _check_dim(input, dims):
    if input.dim() not in dims:
        raise ValueError(f"expected {dims[0]}D or {dims[1]}D input (got {input.dim()}D input)")


class _CircularPadNd(Module):
    __constants__ = ["padding"]
    _dims = ()

    def forward(self, input):
        _check_dim(input, self._dims)
        return F.pad(input, self.padding, "circular")

    def extra_repr(self):
        return f"{self.padding}"


class CircularPad1d(_CircularPadNd):
    r"""Pads the last dim of ``(N, C, W)`` or ``(C, W)`` by wrapping around: ``padding`` is an int or
    ``(left, right)``."""

    _dims = (2, 3)

    def __init__(self, padding):
        super().__init__()
        self.padding = _pair(padding)


class CircularPad2d(_CircularPadNd):
    r"""Pads the last two dims of ``(N, C, H, W)`` or ``(C, H, W)`` by wrapping around: ``padding`` is
    an int or ``(left, right, top, bottom)``."""

    _dims = (3, 4)

    def __init__(self, padding):
        super().__init__()
        self.padding = _quadruple(padding)


class CircularPad3d(_CircularPadNd):
    r"""Pads the last three dims of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` by wrapping around:
    ``padding`` is an int or ``(left, right, top, bottom, front, back)``."""

    _dims = (4, 5)

    def __init__(self, padding):
        super().__init__()
        self.padding = _sextuple(padding)


class _ConstantPadNd(Module):
    __constants__ = ["padding", "value"]

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    r"""Pads the last dim with ``value``: ``padding`` is an int or ``(left, right)``."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _pair(padding)


class ConstantPad2d(_ConstantPadNd):
    r"""Pads the last two dims with ``value``: ``padding`` is an int or ``(left, right, top, bottom)``."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _quadruple(padding)


class ConstantPad3d(_ConstantPadNd):
    r"""Pads the last three dims with ``value``: ``padding`` is an int or
    ``(left, right, top, bottom, front, back)``."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _sextuple(padding)


class _ReflectionPadNd(Module):
    __constants__ = ["padding"]

    def forward(self, input):
        return F.pad(input, self.padding, "reflect")

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ReflectionPadNd):
    r"""Pads the last dim with its reflection (edge not repeated): ``padding`` is an int or
    ``(left, right)``, each smaller than the dim."""

    def __init__(self, padding):
        super().__init__()
        self.padding = _pair(padding)


class ReflectionPad2d(_ReflectionPadNd):
    r"""Pads the last two dims with their reflection: ``padding`` is an int or
    ``(left, right, top, bottom)``."""

    def __init__(self, padding):
        super().__init__()
        self.padding = _quadruple(padding)


class ReflectionPad3d(_ReflectionPadNd):
    r"""Pads the last three dims with their reflection: ``padding`` is an int or
    ``(left, right, top, bottom, front, back)``."""

    def __init__(self, padding):
        super().__init__()
        self.padding = _sextuple(padding)


class _ReplicationPadNd(Module):
    __constants__ = ["padding"]

    def forward(self, input):
        return F.pad(input, self.padding, "replicate")

    def extra_repr(self):
        return f"{self.padding}"


class ReplicationPad1d(_ReplicationPadNd):
    r"""Pads the last dim by repeating its edge values: ``padding`` is an int or ``(left, right)``."""

    def __init__(self, padding):
        super().__init__()
        self.padding = _pair(padding)


class ReplicationPad2d(_ReplicationPadNd):
    r"""Pads the last two dims by repeating their edge values: ``padding`` is an int or
    ``(left, right, top, bottom)``."""

    def __init__(self, padding):
        super().__init__()
        self.padding = _quadruple(padding)


class ReplicationPad3d(_ReplicationPadNd):
    r"""Pads the last three dims by repeating their edge values: ``padding`` is an int or
    ``(left, right, top, bottom, front, back)``."""

    def __init__(self, padding):
        super().__init__()
        self.padding = _sextuple(padding)


class ZeroPad1d(ConstantPad1d):
    r"""Pads the last dim with zeros: ``padding`` is an int or ``(left, right)``."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    r"""Pads the last two dims with zeros: ``padding`` is an int or ``(left, right, top, bottom)``."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    r"""Pads the last three dims with zeros: ``padding`` is an int or
    ``(left, right, top, bottom, front, back)``."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]
