"""Pixel (un)shuffle: trade channels for spatial resolution."""

from .. import functional as F
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    r"""Rearranges ``(*, C * r^2, H, W)`` into ``(*, C, H * r, W * r)``, ``r`` the
    ``upscale_factor`` (sub-pixel convolution).

    Args:
        upscale_factor (int): factor to increase the spatial resolution by.

    Example::

        >>> ps = nn.PixelShuffle(3)
        >>> ps(torch.randn(1, 9, 4, 4)).shape
        torch.Size([1, 1, 12, 12])
    """

    __constants__ = ["upscale_factor"]

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    r"""Reverses :class:`PixelShuffle`: ``(*, C, H * r, W * r)`` into ``(*, C * r^2, H, W)``.

    Args:
        downscale_factor (int): factor to decrease the spatial resolution by.

    Example::

        >>> pu = nn.PixelUnshuffle(3)
        >>> pu(torch.randn(1, 1, 12, 12)).shape
        torch.Size([1, 9, 4, 4])
    """

    __constants__ = ["downscale_factor"]

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
