"""``torch.autocast``: mixed precision regions.

Inside a region the core casts the floating inputs of matrix products, convolutions and
attention to the region's dtype (float16 or bfloat16), and runs softmax, log-softmax, layer norm
and the NLL loss (so cross-entropy) in float32; gradients come back to the parameters in their
own dtype. The region is per thread and per device type, as in torch, and ``backward()`` runs
outside it.
"""

import functools
import threading
import warnings

import ferrotorch
from ferrotorch import _C

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "get_autocast_dtype",
           "set_autocast_enabled", "set_autocast_dtype"]

_DEVICE_TYPES = ("cpu", "cuda")
_DEFAULT_DTYPES = {"cpu": "bfloat16", "cuda": "float16"}


class _Settings(threading.local):
    """The dtype each device type's regions use (``set_autocast_dtype``), per thread."""

    def __init__(self):
        self.dtype = {d: getattr(ferrotorch, name) for d, name in _DEFAULT_DTYPES.items()}


_settings = _Settings()


def _device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    device_type = device_type.split(":")[0]
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(
            f"User specified an unsupported autocast device_type '{device_type}'; ferrotorch "
            f"supports {', '.join(repr(d) for d in _DEVICE_TYPES)}"
        )
    return device_type


def is_autocast_available(device_type):
    """Whether ``device_type`` supports autocast ("cpu" and "cuda")."""
    return device_type.split(":")[0] in _DEVICE_TYPES


def is_autocast_enabled(device_type=None):
    """Whether an autocast region is active for ``device_type`` (default "cuda")."""
    return _C._autocast_region(_device_type(device_type or "cuda") == "cuda") is not None


def get_autocast_dtype(device_type):
    """The dtype autocast regions of ``device_type`` cast to."""
    device_type = _device_type(device_type)
    active = _C._autocast_region(device_type == "cuda")
    return active if active is not None else _settings.dtype[device_type]


def set_autocast_enabled(device_type, enabled):
    """Enters (or leaves) an autocast region of ``device_type`` with its current dtype."""
    device_type = _device_type(device_type)
    _C._set_autocast_region(device_type == "cuda", _settings.dtype[device_type] if enabled else None)


def set_autocast_dtype(device_type, dtype):
    """Sets the dtype of ``device_type``'s regions (the active one too)."""
    device_type = _device_type(device_type)
    _settings.dtype[device_type] = dtype
    if is_autocast_enabled(device_type):
        _C._set_autocast_region(device_type == "cuda", dtype)


class autocast:
    r"""Runs the code inside in mixed precision; a context manager or a decorator.

    Args:
        device_type: ``"cuda"`` or ``"cpu"``.
        dtype: ``float16`` or ``bfloat16``. Default: ``float16`` on CUDA, ``bfloat16`` on CPU.
        enabled: whether the region casts at all. Default: ``True``.
        cache_enabled: accepted for compatibility; casts are not cached.

    Example::

        >>> with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        ...     loss = loss_fn(model(x), y)
        >>> loss.backward()
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        self.device = _device_type(device_type)
        self.fast_dtype = get_autocast_dtype(self.device) if dtype is None else dtype
        if not isinstance(enabled, bool):
            raise ValueError("Expected `enabled` to be of type `bool`")
        if self.fast_dtype not in (ferrotorch.float16, ferrotorch.bfloat16):
            warnings.warn(
                f"In {self.device.upper()} autocast, but the target dtype {self.fast_dtype} is not "
                "supported (float16 and bfloat16 are). Disabling autocast.",
                stacklevel=2,
            )
            enabled = False
        self._enabled = enabled
        self._cache_enabled = cache_enabled

    def __enter__(self):
        cuda = self.device == "cuda"
        self.prev = _C._autocast_region(cuda)
        _C._set_autocast_region(cuda, self.fast_dtype if self._enabled else None)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _C._set_autocast_region(self.device == "cuda", self.prev)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)

        return decorate_autocast
