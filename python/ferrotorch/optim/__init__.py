"""``ferrotorch.optim``: optimizers with torch's structure (``param_groups``, ``state``)."""

from .adam import Adam, AdamW  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
