"""``torch.backends.cudnn``: whether CUDA convolutions use cuDNN, and how.

``enabled`` (default True) sends CUDA convolutions to cuDNN; off, they run as im2col + cuBLAS.
``allow_tf32`` (default True, as in torch) lets float32 convolutions round their inputs to TF32
on tensor cores. ``deterministic`` (default False) restricts cuDNN to algorithms it reports as
deterministic. ``benchmark`` is accepted and kept, but ferrotorch always takes cuDNN's heuristic
choice of algorithm (cached per problem) rather than timing the candidates.
"""

import contextlib
import sys
import types

from ... import _C
from ...cuda import _libs

_loaded = False


def _load():
    """Puts cuDNN's libraries (possibly from NVIDIA's pip wheel) in the process, once."""
    global _loaded
    if not _loaded:
        _libs.preload_cudnn()
        _loaded = True


def is_available():
    """True when the cuDNN library loads (no GPU needed)."""
    _load()
    return _C._cudnn_version() is not None


def version():
    """cuDNN's version number (e.g. ``91300``), or None when it is not available."""
    _load()
    return _C._cudnn_version()


def is_acceptable(tensor):
    """Whether cuDNN would be tried for this tensor (a CUDA floating tensor, cuDNN on and loadable)."""
    return _C._cudnn_flags()[0] and tensor.is_cuda and tensor.dtype.is_floating_point and is_available()


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, deterministic=False, allow_tf32=True):
    """Sets the switches for the ``with`` block and restores them after, as torch's."""
    module = sys.modules[__name__]
    saved = (module.enabled, module.benchmark, module.deterministic, module.allow_tf32)
    module.enabled, module.benchmark = enabled, benchmark
    module.deterministic, module.allow_tf32 = deterministic, allow_tf32
    try:
        yield
    finally:
        module.enabled, module.benchmark, module.deterministic, module.allow_tf32 = saved


class _CudnnModule(types.ModuleType):
    """The module with ``enabled``, ``allow_tf32`` and ``deterministic`` as properties kept by
    the core, so that setting one takes effect at once (``torch.backends.cudnn.allow_tf32 = False``)."""

    @property
    def enabled(self):
        return _C._cudnn_flags()[0]

    @enabled.setter
    def enabled(self, value):
        _C._cudnn_set_flags(enabled=bool(value))

    @property
    def allow_tf32(self):
        return _C._cudnn_flags()[1]

    @allow_tf32.setter
    def allow_tf32(self, value):
        _C._cudnn_set_flags(allow_tf32=bool(value))

    @property
    def deterministic(self):
        return _C._cudnn_flags()[2]

    @deterministic.setter
    def deterministic(self, value):
        _C._cudnn_set_flags(deterministic=bool(value))


benchmark = False
benchmark_limit = 10

sys.modules[__name__].__class__ = _CudnnModule
