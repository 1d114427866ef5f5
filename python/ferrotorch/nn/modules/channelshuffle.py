"""Channel shuffle (ShuffleNet): interleaves the channels of ``groups`` groups."""

from .. import functional as F
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    r"""Splits the ``C`` channels of ``(N, C, *)`` into ``groups`` groups and interleaves them:
    output channel ``i * groups + g`` is input channel ``g * (C / groups) + i``.

    Args:
        groups (int): number of groups to divide the channels into.

    Example::

        >>> cs = nn.ChannelShuffle(2)
        >>> cs(torch.arange(4.).view(1, 4, 1, 1)).flatten()
        tensor([0., 2., 1., 3.])
    """

    __constants__ = ["groups"]

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
