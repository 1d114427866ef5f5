"""Distance and similarity between pairs of vectors."""

from .. import functional as F
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class PairwiseDistance(Module):
    r"""``||x1 - x2 + eps||_p`` over the last dimension.

    Args:
        p (float, optional): the norm degree; may be negative. Default: 2
        eps (float, optional): added to the difference to avoid division by zero. Default: 1e-6
        keepdim (bool, optional): keep the reduced dimension. Default: ``False``

    Shape:
        - Input1: :math:`(N, D)` or :math:`(D)`
        - Input2: the same as Input1 (or broadcastable to it)
        - Output: :math:`(N)` or :math:`()`; :math:`(N, 1)` or :math:`(1)` with ``keepdim``.
    """

    __constants__ = ["norm", "eps", "keepdim"]

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    r"""``x1 . x2 / max(||x1||_2 * ||x2||_2, eps)`` along ``dim``.

    Args:
        dim (int, optional): the dimension to reduce. Default: 1
        eps (float, optional): lower bound of the norms, to avoid division by zero. Default: 1e-8

    Shape:
        - Input1: :math:`(\ast_1, D, \ast_2)`, ``D`` at position ``dim``
        - Input2: the same number of dimensions, broadcastable with Input1
        - Output: :math:`(\ast_1, \ast_2)`
    """

    __constants__ = ["dim", "eps"]

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
