"""``default_collate`` and ``default_convert``: turn fetched samples into batches, as torch's.

``collate`` dispatches on the type of the first sample through ``collate_fn_map``, so users can
extend ``default_collate_fn_map`` with their own types.
"""

import collections.abc
import copy
import re

import numpy as np

import ferrotorch as torch

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def default_convert(data):
    r"""Converts NumPy arrays and scalars inside ``data`` to tensors, keeping the structure
    (mappings, namedtuples, sequences); tuples become lists, as in torch. Used when automatic
    batching is disabled (``batch_size=None``).

    Example:
        >>> default_convert(np.array([0, 1]))
        tensor([0, 1])
        >>> default_convert({"a": np.int64(1), "b": "x"})
        {'a': tensor(1), 'b': 'x'}
    """
    elem_type = type(data)
    if isinstance(data, torch.Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return _numpy_to_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            # The mapping type cannot be built from a dict: fall back to a plain dict.
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch keeps this for backwards compatibility
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def _numpy_to_tensor(x):
    # Through an ndarray so NumPy scalars keep their dtype (np.int32 -> int32, as torch.as_tensor).
    return torch.as_tensor(np.asarray(x))


def collate(batch, *, collate_fn_map=None):
    r"""Collates a batch of samples that share a structure: the first sample's type picks the
    function in ``collate_fn_map`` (exact type first, then ``isinstance``); mappings, namedtuples
    and sequences are collated field by field.

    Raises:
        RuntimeError: sequences in the batch have different lengths.
        TypeError: a type with no collate function.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


# dtypes whose tensors convert to NumPy without a copy (bfloat16 has no NumPy dtype).
_NUMPY_DTYPES = frozenset(
    [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.int16, torch.int8,
     torch.uint8, torch.bool]
)


def _stack_in_numpy(batch):
    """In a worker, stack through NumPy when the samples allow it (same shape and dtype, CPU, no
    grad). torch stacks into shared memory here; ferrotorch has none, and the batch crosses to the
    main process as a NumPy array anyway. It also keeps the copy out of the Rust thread pool,
    which does not survive ``fork``: a forked worker blocks in any op large enough to run
    in parallel (see ``DataLoader``'s notes on ``multiprocessing_context``)."""
    elem = batch[0]
    if elem.dtype not in _NUMPY_DTYPES or elem.device.type != "cpu":
        return None
    shape, dtype = elem.shape, elem.dtype
    for t in batch:
        if (type(t) is not torch.Tensor or t.requires_grad or t.shape != shape or t.dtype != dtype
                or t.device.type != "cpu"):
            return None
    return torch.from_numpy(np.stack([t.numpy() for t in batch]))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    from .worker import get_worker_info

    if get_worker_info() is not None:
        out = _stack_in_numpy(batch)
        if out is not None:
            return out
    return torch.stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    # Arrays of strings or objects have no tensor equivalent.
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([torch.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return _numpy_to_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    return torch.tensor(batch, dtype=torch.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return torch.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    torch.Tensor: collate_tensor_fn,
    # ndarray and its subclasses (memmap).
    np.ndarray: collate_numpy_array_fn,
    # NumPy's scalar hierarchy, without string scalars.
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    r"""Puts each data field into a tensor with an outer dimension of batch size; the default
    ``collate_fn`` of ``DataLoader`` when batching.

    The mapping of element types:

    * Tensor -> Tensor (stacked; the batch shares no memory with the samples)
    * NumPy arrays -> Tensor
    * float -> float64 Tensor; int -> int64 Tensor (bool -> bool Tensor)
    * str, bytes -> unchanged (a list)
    * Mapping[K, V_i] -> Mapping[K, default_collate([V_1, V_2, ...])]
    * NamedTuple[V1_i, V2_i, ...] -> NamedTuple[default_collate([V1_1, V1_2, ...]), ...]
    * Sequence[V1_i, V2_i, ...] -> Sequence[default_collate([V1_1, V1_2, ...]), ...]

    Args:
        batch: a single batch to be collated.

    Example:
        >>> default_collate([0, 1, 2, 3])
        tensor([0, 1, 2, 3])
        >>> default_collate([(0, "a"), (1, "b")])
        [tensor([0, 1]), ('a', 'b')]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
