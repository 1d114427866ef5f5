"""Datasets with torchvision's constructors, on-disk layout and item types."""

from .mnist import MNIST, FashionMNIST
from .utils import calculate_md5, check_integrity, download_and_extract_archive, download_url

__all__ = [
    "MNIST", "FashionMNIST",
    "calculate_md5", "check_integrity", "download_url", "download_and_extract_archive",
]
