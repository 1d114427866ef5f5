"""Matrix products as module-level functions: ``torch.mm(a, b)`` is ``Tensor.mm(a, b)``.

``einsum``, ``tensordot``, ``chain_matmul`` and ``linalg.multi_dot`` normalise their
arguments here and call the Rust core.
"""

import builtins as _builtins

from . import _C
from ._C import Tensor

matmul = Tensor.matmul
mm = Tensor.mm
bmm = Tensor.bmm
mv = Tensor.mv
dot = Tensor.dot
vdot = Tensor.vdot
inner = Tensor.inner
outer = Tensor.outer
ger = Tensor.ger
addmm = Tensor.addmm
addmv = Tensor.addmv
addbmm = Tensor.addbmm
baddbmm = Tensor.baddbmm
addr = Tensor.addr


def _sublist_letter(i):
    if i is Ellipsis:
        return "..."
    if not isinstance(i, int) or isinstance(i, _builtins.bool) or not 0 <= i < 52:
        raise ValueError(f"einsum(): subscript in subscript list is not within the valid range [0, 52), got {i}")
    return chr(ord("A") + i) if i < 26 else chr(ord("a") + i - 26)


def _sublist_equation(args):
    """Turns ``einsum(op1, [0, 1], op2, [1, 2], [0, 2])`` into an equation and operands."""
    operands = list(args[0::2])
    sublists = list(args[1::2])
    out = None
    if len(args) % 2 == 1:
        out = operands.pop()
    terms = ["".join(_sublist_letter(i) for i in s) for s in sublists]
    eq = ",".join(terms)
    if out is not None:
        eq += "->" + "".join(_sublist_letter(i) for i in out)
    return eq, operands


def einsum(*args):
    r"""einsum(equation, *operands) -> Tensor

    Sums the product of the elements of the input ``operands`` along dimensions specified
    using a notation based on the Einstein summation convention. Supports an explicit
    output (``"ij,jk->ik"``), the implicit output (labels seen once, sorted), ``...`` for
    broadcast batch dimensions, repeated labels in one operand (diagonals), operands given as
    varargs or one list, and the sublist format ``einsum(op1, [0, 1], op2, [1, 2], [0, 2])``.
    """
    if len(args) < 2:
        raise TypeError("einsum(): must specify the equation string and at least one operand, "
                        "or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = operands[0]
    else:
        equation, operands = _sublist_equation(args)
    return _C._einsum(equation, list(operands))


def tensordot(a, b, dims=2, out=None):
    r"""tensordot(a, b, dims=2, out=None) -> Tensor

    Contraction of ``a`` and ``b`` over multiple dimensions. ``dims`` is an int ``d`` (the last
    ``d`` dims of ``a`` with the first ``d`` of ``b``), or a pair of lists of dims to contract.
    """
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int) and not isinstance(dims, _builtins.bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.dim() or dims > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(-dims, 0)), list(range(dims))
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
    else:
        raise RuntimeError(
            f"tensordot expects dims to be an int or a pair of lists of dims, but got dims={dims}"
        )
    return _C._tensordot(a, b, dims_a, dims_b, out)


def chain_matmul(*matrices, out=None):
    r"""chain_matmul(*matrices, out=None) -> Tensor

    The product of two or more 2-D tensors, multiplied in the order that needs the fewest
    operations. Deprecated in torch in favour of ``torch.linalg.multi_dot``.
    """
    return _C._chain_matmul(list(matrices), out=out)


def multi_dot(tensors, *, out=None):
    r"""linalg.multi_dot(tensors, *, out=None) -> Tensor

    Efficiently multiplies two or more matrices by reordering the multiplications so that the
    fewest arithmetic operations are performed. The first and last may be 1-D.
    """
    return _C._multi_dot(list(tensors), out=out)


def _install_linalg():
    """Offers ``multi_dot``/``matmul`` as ``torch.linalg`` functions unless linalg has its own."""
    from . import linalg

    for name, fn in (("multi_dot", multi_dot), ("matmul", matmul)):
        if not hasattr(linalg, name):
            setattr(linalg, name, fn)


_install_linalg()

__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv",
    "addbmm", "baddbmm", "addr", "einsum", "tensordot", "chain_matmul",
]
