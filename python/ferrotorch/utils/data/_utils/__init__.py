"""Helpers behind ``DataLoader``: collation, fetching, worker processes, transport of tensors."""

import sys
import traceback

# How often (seconds) a worker checks that its parent is alive while it waits for work, and the
# longest the main process waits for a worker to exit at shutdown before terminating it.
MP_STATUS_CHECK_INTERVAL = 5.0

# How often (seconds) the main process checks its workers are alive while it waits for a batch.
# Short, so a dead worker is reported promptly; a poll costs one system call.
WORKER_LIVENESS_INTERVAL = 0.2


class KeyErrorMessage(str):
    """``KeyError`` prints its argument with ``repr``; this keeps the traceback text readable."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception caught in a worker, with its traceback as text, so it can cross a process
    boundary (tracebacks do not pickle) and be re-raised with its original type."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            # Some exceptions take the message as a keyword only.
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # The type needs other constructor arguments: keep the text, lose the type.
            raise RuntimeError(msg) from None
        raise exception


from . import collate, fetch, reduction, worker  # noqa: E402,F401
