"""``ferrotorch.utils``: helpers shared by the rest of the package (hooks, data loading)."""

from . import data, hooks  # noqa: F401
