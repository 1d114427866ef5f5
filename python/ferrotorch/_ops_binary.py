"""Binary arithmetic as module-level functions: ``torch.add(a, b)`` is ``Tensor.add(a, b)``."""

from ._C import Tensor

add = Tensor.add
sub = Tensor.sub
subtract = Tensor.sub
mul = Tensor.mul
multiply = Tensor.mul

__all__ = ["add", "sub", "subtract", "mul", "multiply"]
