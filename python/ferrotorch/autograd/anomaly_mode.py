"""Anomaly detection: with it on, a NaN produced by a backward rule raises, naming the node."""

from .. import _C

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]

is_anomaly_enabled = _C.is_anomaly_enabled


class detect_anomaly:
    """Context manager that turns on anomaly detection for the block.

    Args:
        check_nan (bool): raise when backward produces NaN (default True).
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self.prev = False

    def __enter__(self):
        self.prev = _C.is_anomaly_enabled()
        _C._set_anomaly_enabled(self.check_nan)

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(self.prev)


class set_detect_anomaly:
    """Turns anomaly detection on or off: at once when called, for the block when used as a
    context manager (restoring the previous setting after it).

    Args:
        mode (bool): on or off.
        check_nan (bool): raise when backward produces NaN (default True).
    """

    def __init__(self, mode, check_nan=True):
        self.prev = _C.is_anomaly_enabled()
        _C._set_anomaly_enabled(bool(mode) and check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(self.prev)
