"""Loss modules: thin owners of their options over ``nn.functional``.

Every loss takes ``reduction`` (``'none'`` | ``'mean'`` | ``'sum'``); most also accept torch's
deprecated ``size_average`` and ``reduce``, which, when given, override ``reduction`` with a
warning.
"""

import warnings

from .. import functional as F
from ..functional._loss import _legacy_reduction
from .distance import PairwiseDistance
from .module import Module

__all__ = [
    "L1Loss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "MSELoss", "BCELoss",
    "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss",
    "SoftMarginLoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
    "MultiMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss",
]


class _Loss(Module):
    """Base of the losses: holds ``reduction``, resolved from the legacy arguments if given."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = _legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight``, registered as a buffer."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    r"""Mean absolute error ``|x - y|`` between each element of the input and the target.

    Shape:
        - Input: :math:`(*)`; Target: :math:`(*)`, the same shape.
        - Output: scalar; :math:`(*)` with ``reduction='none'``.
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    r"""Mean squared error ``(x - y)^2`` between each element of the input and the target.

    Shape:
        - Input: :math:`(*)`; Target: :math:`(*)`, the same shape.
        - Output: scalar; :math:`(*)` with ``reduction='none'``.
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    r"""``0.5 * d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta`` (``d = x - y``).

    Args:
        beta (float, optional): where the loss turns from quadratic to linear; ``0`` gives the L1
            loss. Default: 1.0
    """

    __constants__ = ["reduction"]

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    r"""``0.5 * d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)`` (``d = x - y``).

    Args:
        delta (float, optional): where the loss turns from quadratic to linear; must be positive.
            Default: 1.0
    """

    __constants__ = ["reduction", "delta"]

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class NLLLoss(_WeightedLoss):
    r"""The negative log likelihood loss of log-probabilities over ``C`` classes.

    Args:
        weight (Tensor, optional): a rescaling weight per class, of size ``C``.
        ignore_index (int, optional): a target value that adds nothing to the loss or the gradient;
            the mean is taken over the other targets. Default: -100
        reduction (str, optional): ``'none'`` | ``'mean'`` (divided by the summed weights of the
            targets) | ``'sum'``. Default: ``'mean'``

    Shape:
        - Input: :math:`(N, C)`, :math:`(C)` or :math:`(N, C, d_1, ..., d_K)`.
        - Target: :math:`(N)`, :math:`()` or :math:`(N, d_1, ..., d_K)`, values in ``[0, C - 1]``.
        - Output: scalar; the target's shape with ``reduction='none'``.
    """

    __constants__ = ["ignore_index", "reduction"]

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    """Deprecated alias of :class:`NLLLoss`."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        warnings.warn(
            "`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement and see "
            "https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class CrossEntropyLoss(_WeightedLoss):
    r"""Cross entropy between logits and class indices or class probabilities
    (``log_softmax`` followed by :class:`NLLLoss`).

    Args:
        weight (Tensor, optional): a rescaling weight per class, of size ``C``.
        ignore_index (int, optional): a target class index that is ignored (class-index targets
            only). Default: -100
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        label_smoothing (float, optional): in ``[0, 1]``; the share of the target mixed with the
            uniform distribution. Default: 0.0

    Shape:
        - Input: :math:`(N, C)`, :math:`(C)` or :math:`(N, C, d_1, ..., d_K)` logits.
        - Target: class indices of shape :math:`(N)`, :math:`()` or :math:`(N, d_1, ..., d_K)`;
          or class probabilities of the input's shape.
        - Output: scalar; with ``reduction='none'`` the input's shape without the class dim.
    """

    __constants__ = ["ignore_index", "reduction", "label_smoothing"]

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class BCELoss(_WeightedLoss):
    r"""Binary cross entropy between probabilities and targets in ``[0, 1]``; each log is clamped
    at -100.

    Args:
        weight (Tensor, optional): a rescaling weight broadcast over the input.
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r"""Binary cross entropy of ``sigmoid(input)``, computed stably from the logits.

    Args:
        weight (Tensor, optional): a rescaling weight broadcast over the input.
        pos_weight (Tensor, optional): a weight of the positive examples, broadcast over the
            classes (the last dimension).
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )


class KLDivLoss(_Loss):
    r"""Kullback-Leibler divergence of the target from the log-probabilities ``input``.

    Args:
        reduction (str, optional): ``'none'`` | ``'batchmean'`` (the sum over the batch size: the
            true KL) | ``'sum'`` | ``'mean'`` (over every element). Default: ``'mean'``
        log_target (bool, optional): the target is given as log-probabilities. Default: ``False``
    """

    __constants__ = ["reduction"]

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    r"""Negative log likelihood of a Poisson-distributed target.

    Args:
        log_input (bool, optional): the input is the log of the rate: ``exp(x) - y * x``; else
            ``x - y * log(x + eps)``. Default: ``True``
        full (bool, optional): add Stirling's approximation of ``log(y!)``. Default: ``False``
        eps (float, optional): keeps ``log`` finite when ``log_input=False``. Default: 1e-8
    """

    __constants__ = ["log_input", "full", "eps", "reduction"]

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(
            log_input, target, log_input=self.log_input, full=self.full, eps=self.eps, reduction=self.reduction
        )


class GaussianNLLLoss(_Loss):
    r"""Negative log likelihood of a Gaussian target with predicted mean and variance.

    Args:
        full (bool, optional): add the constant ``0.5 * log(2 pi)``. Default: ``False``
        eps (float, optional): lower clamp of the variance. Default: 1e-6
    """

    __constants__ = ["full", "eps", "reduction"]

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    r"""``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``.

    Args:
        margin (float, optional): Default: 1.0
    """

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    r"""Multi-label hinge loss; each target row lists the sample's classes, ended by -1.

    Shape:
        - Input: :math:`(C)` or :math:`(N, C)`; Target: the same shape, int64.
        - Output: scalar; :math:`(N)` with ``reduction='none'``.
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    r"""Two-class logistic loss ``log(1 + exp(-y * x))`` for targets ``1`` or ``-1``."""

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    r"""Multi-label one-versus-all logistic loss, averaged over the classes.

    Args:
        weight (Tensor, optional): a rescaling weight per class, of size ``C``.
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    r"""``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where ``y == -1``.

    Args:
        margin (float, optional): in ``[-1, 1]``. Default: 0.0
    """

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    r"""``max(0, -y * (x1 - x2) + margin)``: ``y == 1`` asks for ``x1`` to rank above ``x2``.

    Args:
        margin (float, optional): Default: 0.0
    """

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    r"""Multi-class hinge loss between scores and a target class index.

    Args:
        p (int, optional): 1 or 2, the power of each hinge term. Default: 1
        margin (float, optional): Default: 1.0
        weight (Tensor, optional): a rescaling weight per class, of size ``C``.
    """

    __constants__ = ["p", "margin", "reduction"]

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p != 1 and p != 2:
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.dim()}D instead")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(
            input, target, p=self.p, margin=self.margin, weight=self.weight, reduction=self.reduction
        )


class TripletMarginLoss(_Loss):
    r"""``max(0, margin + d(a, p) - d(a, n))`` with the pairwise ``p``-norm distance.

    Args:
        margin (float, optional): must be positive. Default: 1.0
        p (float, optional): the norm degree. Default: 2.0
        eps (float, optional): added to the differences. Default: 1e-6
        swap (bool, optional): use the smaller of ``d(a, n)`` and ``d(p, n)``. Default: ``False``
    """

    __constants__ = ["margin", "p", "eps", "swap", "reduction"]

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(
            anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps, swap=self.swap,
            reduction=self.reduction,
        )


class TripletMarginWithDistanceLoss(_Loss):
    r"""``max(0, margin + d(a, p) - d(a, n))`` for a custom distance ``d``.

    Args:
        distance_function (Callable, optional): distance of two tensors; default
            :class:`PairwiseDistance`.
        margin (float, optional): must be positive. Default: 1.0
        swap (bool, optional): use the smaller of ``d(a, n)`` and ``d(p, n)``. Default: ``False``
    """

    __constants__ = ["margin", "swap", "reduction"]

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead"
            )
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function, margin=self.margin,
            swap=self.swap, reduction=self.reduction,
        )


class CTCLoss(_Loss):
    r"""Connectionist temporal classification loss.

    Args:
        blank (int, optional): the blank label. Default: 0
        reduction (str, optional): ``'none'`` | ``'mean'`` (each loss divided by its target
            length, then the batch mean) | ``'sum'``. Default: ``'mean'``
        zero_infinity (bool, optional): zero infinite losses and their gradients. Default: ``False``

    Shape:
        - Log_probs: :math:`(T, N, C)` or :math:`(T, C)`.
        - Targets: :math:`(N, S)` padded or :math:`(\sum target\_lengths)` concatenated.
        - Input_lengths, Target_lengths: :math:`(N)` tensors or tuples of ints.
        - Output: scalar; :math:`(N)` (or :math:`()` unbatched) with ``reduction='none'``.
    """

    __constants__ = ["blank", "reduction"]

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(
            log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction, self.zero_infinity
        )
