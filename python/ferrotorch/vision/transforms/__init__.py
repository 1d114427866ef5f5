"""Image transforms with torchvision's names, defaults and behaviour."""

from . import functional  # noqa: F401
from .functional import InterpolationMode
from .transforms import (
    CenterCrop,
    Compose,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    Resize,
    ToTensor,
)

__all__ = [
    "functional", "InterpolationMode", "CenterCrop", "Compose", "Lambda", "Normalize", "Pad", "PILToTensor",
    "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "Resize", "ToTensor",
]
