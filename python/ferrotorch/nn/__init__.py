"""``ferrotorch.nn``: for now only ``nn.functional.one_hot``; modules come later."""

from . import functional  # noqa: F401
