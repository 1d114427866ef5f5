"""``ferrotorch.vision``: datasets and transforms with torchvision's names and defaults.

Use it where a script imports torchvision: ``from ferrotorch.vision import datasets, transforms``.
"""

from . import datasets, transforms  # noqa: F401

__all__ = ["datasets", "transforms"]
