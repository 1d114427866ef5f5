"""``torch.linalg`` (the vector norms live here; matrix functions belong to other families)."""

from . import _C

__all__ = ["vector_norm", "norm"]


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A002
    """Computes a vector norm of ``x`` over ``dim`` (all elements, flattened, when None).

    Args:
        x (Tensor): a floating tensor.
        ord (int, float, inf, -inf): order of the norm (default 2). 0 counts non-zeros.
        dim (int or tuple of ints, optional): dims to reduce.
        keepdim (bool): keep reduced dims with size 1.
        dtype (torch.dtype, optional): compute and return in this dtype.
    """
    return _C._vector_norm(x, ord, dim, keepdim, dtype=dtype, out=out)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A002
    """``torch.linalg.norm`` for vector norms: ``ord`` None is the 2-norm of the flattened input.

    Matrix norms (a 2-tuple ``dim`` with a matrix ``ord``) are not supported yet.
    """
    if isinstance(ord, str) or (isinstance(dim, (tuple, list)) and len(dim) == 2 and ord is not None):
        raise NotImplementedError("linalg.norm: matrix norms are not supported by ferrotorch yet")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
