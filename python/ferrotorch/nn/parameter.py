"""``nn.Parameter`` and ``nn.Buffer``: tensors that modules register when assigned to them."""

from .. import _C
from .._C import Tensor


class Parameter(Tensor):
    r"""A tensor that is a module parameter: assigning one to a ``Module`` attribute registers it,
    so it appears in ``parameters()`` and ``state_dict()``.

    Args:
        data (Tensor): the values; the parameter shares their memory. Default: an empty tensor.
        requires_grad (bool): whether the parameter requires gradient. Default: ``True``.
    """

    def __new__(cls, data=None, requires_grad=True):
        return Tensor.__new__(cls, data, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.detach().clone(), self.requires_grad)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        raise TypeError("ferrotorch tensors are not picklable; use ferrotorch.save")


class Buffer(Tensor):
    r"""A tensor that is a module buffer: assigning one to a ``Module`` attribute registers it
    with ``register_buffer`` (``persistent=False`` keeps it out of ``state_dict()``).

    Args:
        data (Tensor): the values; the buffer shares their memory. Default: an empty tensor.
        persistent (bool): whether the buffer is part of the module's ``state_dict``.
    """

    def __new__(cls, data=None, *, persistent=True):
        t = Tensor.__new__(cls, data, False if data is None else data.requires_grad)
        t.persistent = persistent
        return t


class UninitializedTensorMixin:
    """What uninitialized parameters and buffers share: no shape until ``materialize``."""

    def materialize(self, shape, device=None, dtype=None):
        r"""Gives the tensor its shape: its data becomes an uninitialized tensor of ``shape``
        (on the tensor's device and dtype unless others are given), and the object becomes an
        instance of ``cls_to_become`` in place.

        Args:
            shape (tuple): the shape for the materialized tensor.
            device (:class:`torch.device`): the desired device; default: the current one.
            dtype (:class:`torch.dtype`): the desired dtype; default: the current one.
        """
        if device is None:
            device = self.data.device
        if dtype is None:
            dtype = self.data.dtype
        self.data = _C.empty(shape, device=device, dtype=dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
            "initialized one. Call `forward` to initialize the parameters before accessing their "
            "attributes.")

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f"<{self.__class__.__name__}>"


def is_lazy(param):
    """Whether ``param`` is an uninitialized parameter or buffer (of a lazy module)."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    r"""A parameter that is not initialized yet: it has no shape until ``materialize(shape)``
    turns it into a regular :class:`Parameter` (lazy modules do this on their first call).

    Args:
        requires_grad (bool): whether the parameter requires gradient. Default: ``True``.
        device, dtype: of the tensor it will become.
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return Tensor.__new__(cls, _C.empty(0, device=device, dtype=dtype), requires_grad)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.data.device, self.data.dtype)
        return memo[id(self)]


class _MaterializedBuffer(Tensor):
    """What an ``UninitializedBuffer`` becomes: a plain tensor in behaviour. (A Python object
    cannot switch its class to the native ``Tensor`` type in place.)"""


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    r"""A buffer that is not initialized yet: it has no shape until ``materialize(shape)``
    gives it one (lazy modules do this on their first call).

    Args:
        requires_grad (bool): whether the buffer requires gradient. Default: ``False``.
        device, dtype: of the tensor it will become.
    """

    cls_to_become = _MaterializedBuffer

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        return Tensor.__new__(cls, _C.empty(0, device=device, dtype=dtype), requires_grad)
