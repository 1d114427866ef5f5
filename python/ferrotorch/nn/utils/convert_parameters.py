"""Flattening parameters into one vector and back, as ``torch.nn.utils``."""

import ferrotorch as torch


def _check_same_device(param, device):
    if device is not None and param.device != device:
        raise TypeError(
            "Found two parameters on different devices, this is currently not supported."
        )
    return param.device


def _typename(obj):
    """How torch.typename names a non-tensor: its qualified type name, builtins bare."""
    t = type(obj)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def parameters_to_vector(parameters):
    """The parameters' values concatenated into one 1-D tensor (a differentiable copy)."""
    device = None
    flat = []
    for p in parameters:
        device = _check_same_device(p, device)
        flat.append(p.reshape(-1))
    return torch.cat(flat)


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D ``vec`` into the parameters' values."""
    if not isinstance(vec, torch.Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    device = None
    start = 0
    for p in parameters:
        device = _check_same_device(p, device)
        n = p.numel()
        p.data = vec[start:start + n].view_as(p).data
        start += n


__all__ = ["parameters_to_vector", "vector_to_parameters"]
