"""``ferrotorch.cuda``: devices, synchronisation, memory statistics and events.

Everything here works on a machine without a GPU in the sense torch's does: ``is_available()``
is False, ``device_count()`` is 0, and calls that need a device raise a RuntimeError.
"""

from .. import _C
from .._C import default_generator as _default_generator
from . import _libs

__all__ = [
    "Event", "OutOfMemoryError", "Stream", "current_device", "current_stream", "default_stream",
    "device", "device_count", "empty_cache", "get_device_capability", "get_device_name",
    "get_device_properties", "init", "is_available", "is_initialized", "manual_seed",
    "manual_seed_all", "max_memory_allocated", "memory_allocated", "memory_reserved",
    "reset_peak_memory_stats", "set_device", "synchronize",
]

OutOfMemoryError = _C.OutOfMemoryError

# NVRTC and cuBLAS may come from NVIDIA's pip wheels: put them in the process before the core
# opens them by name. Cheap (a few directory listings) and harmless without a GPU.
_libs.preload()


def _index(device):
    """A device argument (None, int, "cuda:1", ferrotorch.device) as an ordinal."""
    if device is None:
        return _C._cuda_current_device()
    if isinstance(device, int):
        return device
    d = _C.device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return d.index if d.index is not None else _C._cuda_current_device()


def is_available():
    """True when the CUDA driver loads and sees at least one GPU."""
    return _C._cuda_is_available()


def device_count():
    return _C._cuda_device_count()


def is_initialized():
    return is_available()


def init():
    """Opens the current device (torch initialises lazily too; this forces it)."""
    _C._cuda_synchronize(None)


def current_device():
    return _C._cuda_current_device()


def set_device(device):
    _C._cuda_set_device(_index(device))


class device:  # noqa: N801  (torch's name)
    """Context manager that makes ``device`` the current one."""

    def __init__(self, device):
        self.idx = _index(device) if device is not None else -1
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev_idx = current_device()
            set_device(self.idx)

    def __exit__(self, *exc):
        if self.prev_idx >= 0:
            set_device(self.prev_idx)
        return False


def synchronize(device=None):
    """Waits for every kernel queued on the device; raises the error of an earlier gather,
    scatter or loss whose indices were out of range (checked on the device, reported at the next
    synchronisation, as torch's device-side asserts are)."""
    _C._cuda_synchronize(_index(device))


def get_device_name(device=None):
    return _C._cuda_get_device_name(_index(device))


def get_device_capability(device=None):
    p = _C._cuda_get_device_properties(_index(device))
    return (p["major"], p["minor"])


class _DeviceProperties:
    def __init__(self, props):
        self.name = props["name"]
        self.major = props["major"]
        self.minor = props["minor"]
        self.total_memory = props["total_memory"]
        self.multi_processor_count = props["multi_processor_count"]

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // (1 << 20)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    return _DeviceProperties(_C._cuda_get_device_properties(_index(device)))


def memory_allocated(device=None):
    """Bytes held by tensors on the device (blocks rounded up to 512 bytes, as torch)."""
    return _C._cuda_memory_stats(_index(device))[0]


def max_memory_allocated(device=None):
    """Peak of :func:`memory_allocated` since start or :func:`reset_peak_memory_stats`."""
    return _C._cuda_memory_stats(_index(device))[1]


def memory_reserved(device=None):
    """Bytes the allocator holds from the driver, in use or cached."""
    return _C._cuda_memory_stats(_index(device))[2]


def reset_peak_memory_stats(device=None):
    _C._cuda_reset_peak_memory_stats(_index(device))


def empty_cache():
    """Returns cached, unused device memory to the driver."""
    if is_available():
        _C._cuda_empty_cache(None)


def manual_seed(seed):
    """Seeds the generator CUDA tensors draw from. ferrotorch draws GPU random numbers with the
    same Philox generator as the CPU, so this seeds that one generator."""
    _default_generator.manual_seed(int(seed))


manual_seed_all = manual_seed


class Event:
    """A marker in the device's stream; with ``enable_timing=True`` two of them time the work
    between their ``record()`` calls (``start.elapsed_time(end)`` in milliseconds)."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        self._event = _C._CudaEvent(enable_timing)

    def record(self, stream=None):
        self._event.record()

    def synchronize(self):
        self._event.synchronize()

    def query(self):
        return self._event.query()

    def wait(self, stream=None):
        # One stream per device: work recorded before this event already precedes later work.
        pass

    def elapsed_time(self, end_event):
        return self._event.elapsed_time(end_event._event)


class Stream:
    """The device's stream. ferrotorch runs all work of a device on one stream (torch's default
    stream), so every Stream object stands for it."""

    def __init__(self, device=None, priority=0):
        self.device_index = _index(device)

    def synchronize(self):
        synchronize(self.device_index)

    def wait_event(self, event):
        pass

    def wait_stream(self, stream):
        pass

    def record_event(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def query(self):
        return True


def current_stream(device=None):
    return Stream(device)


def default_stream(device=None):
    return Stream(device)
