"""Conversions, whole-tensor comparisons and printing options as module-level functions.

``torch.isclose(a, b)`` is ``Tensor.isclose(a, b)``; the predicates are small Python functions.
"""

from ._C import Tensor
from ._tensor_str import set_printoptions

isclose = Tensor.isclose
allclose = Tensor.allclose
equal = Tensor.equal
clone = Tensor.clone
numel = Tensor.numel


def is_tensor(obj):
    r"""Returns True if `obj` is a PyTorch tensor.

    Note that this function is simply doing ``isinstance(obj, Tensor)``.
    """
    return isinstance(obj, Tensor)


def is_floating_point(input):
    r"""Returns True if the data type of :attr:`input` is a floating point data type."""
    if not isinstance(input, Tensor):
        raise TypeError(
            f"is_floating_point(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    return input.is_floating_point()


__all__ = [
    "isclose",
    "allclose",
    "equal",
    "clone",
    "numel",
    "is_tensor",
    "is_floating_point",
    "set_printoptions",
]
