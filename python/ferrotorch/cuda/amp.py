"""``torch.cuda.amp``: the older spelling of ``torch.amp`` for CUDA (deprecated, as in torch)."""

import warnings

import ferrotorch
from ferrotorch.amp import autocast_mode

__all__ = ["autocast"]


class autocast(autocast_mode.autocast):
    """``torch.autocast("cuda", ...)`` under its old name; warns that it is deprecated."""

    def __init__(self, enabled=True, dtype=ferrotorch.float16, cache_enabled=True):
        warnings.warn(
            "`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
            "`torch.amp.autocast('cuda', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
