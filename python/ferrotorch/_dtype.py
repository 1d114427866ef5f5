"""dtype queries: default dtype, promotion, ``finfo`` and ``iinfo``."""

import numpy as np

from . import _C

_FLOAT_BITS = {"float16": 16, "bfloat16": 16, "float32": 32, "float64": 64}


def get_default_dtype():
    """The dtype of float tensors created without ``dtype=`` (float32 unless changed)."""
    return _C._get_default_dtype()


def set_default_dtype(d):
    """Sets the default floating dtype (float16, bfloat16, float32 or float64)."""
    _C._set_default_dtype(d)


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` convert to without losing category."""
    return _C._promote_types(type1, type2)


def result_type(tensor1, tensor2):
    """The dtype of ``tensor1 + tensor2`` under torch's promotion rules (tensors or numbers)."""
    return _C._result_type(tensor1, tensor2)


def is_floating_point(input):
    return input.dtype.is_floating_point


class finfo:
    """Machine limits of a floating dtype, as ``torch.finfo``."""

    def __init__(self, type=None):
        type = get_default_dtype() if type is None else type
        if not type.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type, got {type}")
        self.dtype = str(type).split(".")[-1]
        self.bits = _FLOAT_BITS[self.dtype]
        if self.dtype == "bfloat16":
            # bfloat16 is float32 with the low 16 mantissa bits dropped.
            self.eps = 2.0**-7
            self.max = float(np.float32(3.3895313892515355e38))
            self.min = -self.max
            self.tiny = self.smallest_normal = 2.0**-126
            self.resolution = 0.01
        else:
            info = np.finfo(self.dtype)
            self.eps = float(info.eps)
            self.max = float(info.max)
            self.min = float(info.min)
            self.tiny = self.smallest_normal = float(info.tiny)
            self.resolution = float(info.resolution)

    def __repr__(self):
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:
    """Machine limits of an integer dtype, as ``torch.iinfo``."""

    def __init__(self, type):
        if type.is_floating_point:
            raise TypeError(f"torch.iinfo() requires an integer input type, got {type}")
        self.dtype = str(type).split(".")[-1]
        if self.dtype == "bool":
            self.bits, self.min, self.max = 8, 0, 1
        else:
            info = np.iinfo(self.dtype)
            self.bits, self.min, self.max = info.bits, int(info.min), int(info.max)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
