"""Range factories: ``arange``, ``range``, ``linspace``, ``logspace`` and ``eye``."""

import warnings as _warnings

from . import _C

arange = _C.arange
linspace = _C.linspace
logspace = _C.logspace
eye = _C.eye


def range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: A001
    """range(start=0, end, step=1, *, out=None, dtype=None, layout=torch.strided, device=None,
    requires_grad=False) -> Tensor

    Deprecated: a 1-D tensor of ``floor((end - start) / step) + 1`` values from ``start`` to
    ``end`` inclusive, in the default float dtype unless ``dtype`` is given. Use ``arange``.
    """
    _warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior "
        "is inconsistent with Python's range builtin. Instead, use torch.arange, which produces "
        "values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    return _C._range(start, end, step, out=out, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


__all__ = ["arange", "range", "linspace", "logspace", "eye"]
