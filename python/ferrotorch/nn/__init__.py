"""``ferrotorch.nn``: modules, parameters, ``functional`` and ``init``, with torch's names."""

from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401

# The star import also binds `modules`' own submodules, among them `modules/utils.py` (the
# tuple normalisers); `nn.utils` must be torch's nn.utils, so that name is dropped and imported.
globals().pop("utils", None)
from . import functional, init, utils  # noqa: E402,F401,I001
