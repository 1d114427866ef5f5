"""Reductions, scans and sorting as module functions: ``torch.sum(x, 1)`` is ``Tensor.sum(x, 1)``.

Ops with two results return the named tuples of :mod:`ferrotorch.return_types`.
"""

from . import return_types  # noqa: F401  (torch.return_types)
from ._C import Tensor

sum = Tensor.sum  # noqa: A001
nansum = Tensor.nansum
mean = Tensor.mean
nanmean = Tensor.nanmean
prod = Tensor.prod
max = Tensor.max  # noqa: A001
min = Tensor.min  # noqa: A001
amax = Tensor.amax
amin = Tensor.amin
aminmax = Tensor.aminmax
argmax = Tensor.argmax
argmin = Tensor.argmin
var = Tensor.var
std = Tensor.std
var_mean = Tensor.var_mean
std_mean = Tensor.std_mean
logsumexp = Tensor.logsumexp
all = Tensor.all  # noqa: A001
any = Tensor.any  # noqa: A001
count_nonzero = Tensor.count_nonzero
cumsum = Tensor.cumsum
cumprod = Tensor.cumprod
cummax = Tensor.cummax
cummin = Tensor.cummin
logcumsumexp = Tensor.logcumsumexp
median = Tensor.median
nanmedian = Tensor.nanmedian
mode = Tensor.mode
sort = Tensor.sort
argsort = Tensor.argsort
msort = Tensor.msort
topk = Tensor.topk
kthvalue = Tensor.kthvalue
unique_consecutive = Tensor.unique_consecutive


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Returns the vector norm of ``input`` over ``dim`` (all elements when None).

    Args:
        input (Tensor): a floating tensor.
        p ('fro', int, float, inf, -inf): order of the norm; 'fro' is the 2-norm.
        dim (int or tuple of ints, optional): dims to reduce.
        keepdim (bool): keep reduced dims with size 1.
        dtype (torch.dtype, optional): compute and return in this dtype.
    """
    return Tensor.norm(input, p, dim, keepdim, dtype, out=out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """Returns the sorted unique elements of ``input`` (flattened; ``dim`` must be None).

    With ``return_inverse`` also the index of each input element in the output (input's shape),
    with ``return_counts`` also how often each unique value occurs.
    """
    return Tensor.unique(input, sorted, return_inverse, return_counts, dim)


__all__ = [
    "sum",
    "nansum",
    "mean",
    "nanmean",
    "prod",
    "max",
    "min",
    "amax",
    "amin",
    "aminmax",
    "argmax",
    "argmin",
    "var",
    "std",
    "var_mean",
    "std_mean",
    "norm",
    "logsumexp",
    "all",
    "any",
    "count_nonzero",
    "cumsum",
    "cumprod",
    "cummax",
    "cummin",
    "logcumsumexp",
    "median",
    "nanmedian",
    "mode",
    "sort",
    "argsort",
    "msort",
    "topk",
    "kthvalue",
    "unique",
    "unique_consecutive",
    "return_types",
]
