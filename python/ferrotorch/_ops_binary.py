"""Binary elementwise ops as module-level functions: ``torch.add(a, b)`` is ``Tensor.add(a, b)``.

Every op is a Rust method of ``Tensor``; the module function is that same method object, so a
call goes straight to Rust. Functions whose first argument may be a Python number
(``torch.pow(2, t)``) are Rust module functions instead. torch's alias names are attached here.
"""

from ._C import Tensor
from ._C import bitwise_left_shift, bitwise_right_shift, float_power, pow, remainder, xlogy  # noqa: A004

# Method aliases torch defines, with their in-place twins.
_ALIASES = {
    "subtract": "sub",
    "multiply": "mul",
    "divide": "div",
    "true_divide": "div",
    "arctan2": "atan2",
    "greater": "gt",
    "greater_equal": "ge",
    "less": "lt",
    "less_equal": "le",
    "not_equal": "ne",
}
for _alias, _name in _ALIASES.items():
    setattr(Tensor, _alias, getattr(Tensor, _name))
    setattr(Tensor, _alias + "_", getattr(Tensor, _name + "_"))
del _alias, _name

add = Tensor.add
sub = Tensor.sub
subtract = Tensor.sub
mul = Tensor.mul
multiply = Tensor.mul
div = Tensor.div
divide = Tensor.div
true_divide = Tensor.div
floor_divide = Tensor.floor_divide
fmod = Tensor.fmod
atan2 = Tensor.atan2
arctan2 = Tensor.atan2
hypot = Tensor.hypot
copysign = Tensor.copysign
maximum = Tensor.maximum
minimum = Tensor.minimum
fmax = Tensor.fmax
fmin = Tensor.fmin
eq = Tensor.eq
ne = Tensor.ne
lt = Tensor.lt
le = Tensor.le
gt = Tensor.gt
ge = Tensor.ge
greater = Tensor.gt
greater_equal = Tensor.ge
less = Tensor.lt
less_equal = Tensor.le
not_equal = Tensor.ne
logical_and = Tensor.logical_and
logical_or = Tensor.logical_or
logical_xor = Tensor.logical_xor
bitwise_and = Tensor.bitwise_and
bitwise_or = Tensor.bitwise_or
bitwise_xor = Tensor.bitwise_xor

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "float_power", "atan2", "arctan2", "hypot", "copysign", "xlogy",
    "maximum", "minimum", "fmax", "fmin", "eq", "ne", "lt", "le", "gt", "ge", "greater",
    "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or",
    "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
    "bitwise_right_shift",
]
