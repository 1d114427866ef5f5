"""How tensors cross process boundaries: a reducer registered with multiprocessing's
``ForkingPickler`` (used by its queues and by the ``spawn``/``forkserver`` start methods).

torch moves tensors through shared memory; ferrotorch sends the bytes (a NumPy array) and
rebuilds the tensor on the other side, so a batch costs one copy in transit. Plain ``pickle``
of a tensor stays unsupported (``ferrotorch.save`` is the safe format); only multiprocessing,
which talks to processes it started itself, gets this reducer.
"""

from multiprocessing.reduction import ForkingPickler

import ferrotorch as torch

_registered = False


def _rebuild_tensor(cls, array, dtype, device, requires_grad, extra):
    # ``device`` travels as a string: ferrotorch.device does not pickle.
    t = torch.from_numpy(array)
    if t.dtype != dtype:
        t = t.to(dtype)
    if device != "cpu":
        t = t.to(device)
    if cls is torch.Tensor:
        return t.requires_grad_(requires_grad) if requires_grad else t
    if extra is not None:  # Buffer
        return cls(t, persistent=extra)
    return cls(t, requires_grad)  # Parameter


def _reduce_tensor(t):
    data = t.detach()
    if data.device.type != "cpu":
        data = data.cpu()
    if data.dtype == torch.bfloat16:
        data = data.float()  # NumPy has no bfloat16; float32 holds every bfloat16 exactly
    extra = getattr(t, "persistent", None) if type(t).__name__ == "Buffer" else None
    return _rebuild_tensor, (type(t), data.numpy(), t.dtype, str(t.device), t.requires_grad, extra)


def init_reductions():
    """Registers the tensor reducer (idempotent). Called lazily: ``nn`` imports this package
    while it is itself being imported, so ``Parameter`` is not importable at import time."""
    global _registered
    if _registered:
        return
    from ....nn.parameter import Buffer, Parameter

    for cls in (torch.Tensor, Parameter, Buffer):
        ForkingPickler.register(cls, _reduce_tensor)
    _registered = True
