"""Unary elementwise math as module functions: ``torch.exp(x)`` is ``Tensor.exp(x)``.

The Rust binding defines each op once as a Tensor method (with ``out=``) and its in-place
``name_`` form; this module adds torch's aliases, the operators, ``positive`` and the Python
half of ``where``.
"""

from . import _C
from ._C import Tensor

# torch's alias -> the method it aliases. Each alias also gets the in-place form when the
# target has one.
_ALIASES = {
    "absolute": "abs",
    "negative": "neg",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "fix": "trunc",
    "clip": "clamp",
}
for _alias, _target in _ALIASES.items():
    setattr(Tensor, _alias, getattr(Tensor, _target))
    if hasattr(Tensor, _target + "_"):
        setattr(Tensor, _alias + "_", getattr(Tensor, _target + "_"))


def positive(input):
    """positive(input) -> Tensor

    Returns :attr:`input` itself. Raises for bool tensors, as torch does.
    """
    if input.dtype == _C.bool:
        raise RuntimeError(
            "The `+` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
            "use the `~` or `logical_not()` operator instead."
        )
    return input


def _invert(self):
    if self.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return self.bitwise_not()


Tensor.positive = positive
Tensor.__neg__ = Tensor.neg
Tensor.__pos__ = positive
Tensor.__abs__ = Tensor.abs
Tensor.__invert__ = _invert


def where(condition, input=None, other=None, *, out=None):
    """where(condition, input, other, *, out=None) -> Tensor

    Elements of :attr:`input` where :attr:`condition` is True, else of :attr:`other`, all
    broadcast together. :attr:`input` and :attr:`other` may be Python numbers; the result dtype
    follows torch's type promotion. ``where(condition)`` is
    ``condition.nonzero(as_tuple=True)``.
    """
    if input is None and other is None:
        if out is not None:
            raise TypeError("where(): out= is not supported with the one-argument form")
        return condition.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() missing required argument: 'input' and 'other' must both be given")
    return _C._where(condition, input, other, out=out)


def _tensor_where(self, condition, y):
    """``Tensor.where(condition, y)`` is ``torch.where(condition, self, y)``."""
    return _C._where(condition, self, y)


Tensor.where = _tensor_where

_METHODS = [
    "abs", "absolute", "neg", "negative", "exp", "exp2", "log", "log2", "log10", "log1p",
    "expm1", "sqrt", "rsqrt", "square", "sin", "cos", "tan", "asin", "arcsin", "acos", "arccos",
    "atan", "arctan", "sinh", "cosh", "tanh", "asinh", "arcsinh", "acosh", "arccosh", "atanh",
    "arctanh", "sigmoid", "relu", "erf", "erfc", "erfinv", "floor", "ceil", "round", "trunc",
    "fix", "frac", "sign", "sgn", "reciprocal", "clamp", "clip", "clamp_min", "clamp_max",
    "nan_to_num", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "logical_not",
    "bitwise_not", "lerp",
]
# In-place module functions torch exposes (torch.relu_, torch.exp_ ...).
_INPLACE_FUNCS = [
    "abs_", "neg_", "negative_", "exp_", "exp2_", "log_", "log2_", "log10_", "log1p_", "expm1_",
    "sqrt_", "rsqrt_", "square_", "sin_", "cos_", "tan_", "asin_", "arcsin_", "acos_", "arccos_",
    "atan_", "arctan_", "sinh_", "cosh_", "tanh_", "asinh_", "arcsinh_", "acosh_", "arccosh_",
    "atanh_", "arctanh_", "sigmoid_", "relu_", "erf_", "erfc_", "erfinv_", "floor_", "ceil_",
    "round_", "trunc_", "fix_", "frac_", "reciprocal_", "clamp_", "clip_", "clamp_min_",
    "clamp_max_", "nan_to_num_",
]
for _name in _METHODS + _INPLACE_FUNCS:
    globals()[_name] = getattr(Tensor, _name)

__all__ = _METHODS + _INPLACE_FUNCS + ["positive", "where"]

del _alias, _target, _name
