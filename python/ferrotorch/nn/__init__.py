"""``ferrotorch.nn``: modules, parameters, ``functional`` and ``init``, with torch's names."""

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
