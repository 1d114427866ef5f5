"""Indexing ops as module-level functions: ``torch.gather(t, dim, idx)`` is ``Tensor.gather``."""

from ._C import Tensor, bucketize, searchsorted  # noqa: F401

index_select = Tensor.index_select
gather = Tensor.gather
scatter = Tensor.scatter
scatter_add = Tensor.scatter_add
scatter_reduce = Tensor.scatter_reduce
index_add = Tensor.index_add
index_copy = Tensor.index_copy
index_fill = Tensor.index_fill
index_put = Tensor.index_put
index_put_ = Tensor.index_put_
masked_fill = Tensor.masked_fill
masked_select = Tensor.masked_select
masked_scatter = Tensor.masked_scatter
take = Tensor.take
take_along_dim = Tensor.take_along_dim
put = Tensor.put
nonzero = Tensor.nonzero
argwhere = Tensor.argwhere
bincount = Tensor.bincount

__all__ = [
    "index_select",
    "gather",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "index_add",
    "index_copy",
    "index_fill",
    "index_put",
    "index_put_",
    "masked_fill",
    "masked_select",
    "masked_scatter",
    "take",
    "take_along_dim",
    "put",
    "nonzero",
    "argwhere",
    "bincount",
    "searchsorted",
    "bucketize",
]
