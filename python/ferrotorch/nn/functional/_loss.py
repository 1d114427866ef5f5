"""Loss functions, as in ``torch.nn.functional``.

Most losses are compositions of differentiable tensor ops, so autograd and every device come
for free. nll_loss, and cross_entropy over class indices, call the fused kernels of the core
(``log_softmax``, then one pass over the targets), which report an out-of-range target in torch's
words. Elsewhere class indices are looked up with ``gather``, which checks its indices on the
device; an out-of-range target is reported in torch's words only after that check has failed.
"""

import math
import warnings

import ferrotorch as torch
from ferrotorch import _C

from ._activation import log_softmax, logsigmoid, softplus
from ._linear import pairwise_distance

# ---------------------------------------------------------------------------------------------
# Reductions (torch.nn._reduction).
# ---------------------------------------------------------------------------------------------


def _legacy_reduction(size_average, reduce, emit_warning=True):
    """The reduction named by the deprecated ``size_average``/``reduce`` pair."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = ("mean" if size_average else "sum") if reduce else "none"
    if emit_warning:
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
            stacklevel=3,
        )
    return ret


def _check_reduction(reduction):
    """``reduction`` validated as torch's ``_Reduction.get_enum`` does; returns the name."""
    if reduction in ("none", "mean", "sum"):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _resolve(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return _check_reduction(reduction)


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _zeros_like_scalar(t):
    return torch.zeros((), dtype=t.dtype, device=t.device)


def _type_name(t):
    """torch's scalar type name (``'Long'`` for int64), as in its dtype errors."""
    return t.type().rsplit(".", 1)[-1].replace("Tensor", "")


def _check_long(target, also=()):
    if target.dtype != torch.int64 and target.dtype not in also:
        raise RuntimeError(f"expected scalar type Long but found {_type_name(target)}")


def _gather_checked(input, dim, index, error):
    """``input.gather(dim, index)``; an out-of-range index raises ``error(index)`` instead of
    gather's own message. On CUDA a gather reports bad indices only at the next
    synchronisation (as torch's device-side asserts do), so the indices are checked first,
    with one read-back: these losses name the bad target at the call, as torch does."""
    if input.is_cuda:
        size = input.shape[dim]
        if bool(((index < 0) | (index >= size)).any()):
            raise error(index)
        return input.gather(dim, index)
    try:
        return input.gather(dim, index)
    except RuntimeError as e:
        if "out of bounds" not in str(e):
            raise
        raise error(index) from None


def _first_out_of_range(index, size):
    bad = index[(index < 0) | (index >= size)]
    return bad.reshape(-1)[0].item()


# ---------------------------------------------------------------------------------------------
# Regression losses.
# ---------------------------------------------------------------------------------------------


def _warn_size(input, target):
    if target.size() != input.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def _weighted(loss, weight, input, reduction, mean_by_weight=True):
    """torch's optional per-element ``weight`` of l1/mse/huber: the weighted mean divides by the
    sum of the weights (huber's by the element count)."""
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|x - y|``.

    See :class:`~ferrotorch.nn.L1Loss` for details.
    """
    _warn_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    x, y = torch.broadcast_tensors(input, target)
    loss = (x - y).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, _check_reduction(reduction))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(x - y)^2``.

    See :class:`~ferrotorch.nn.MSELoss` for details.
    """
    _warn_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    x, y = torch.broadcast_tensors(input, target)
    d = x - y
    loss = d * d
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, _check_reduction(reduction))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 * d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta`` (``d = x - y``).

    See :class:`~ferrotorch.nn.SmoothL1Loss` for details.
    """
    _warn_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    reduction = _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, y = torch.broadcast_tensors(input, target)
    d = x - y
    z = d.abs()
    loss = z if beta == 0 else torch.where(z < beta, 0.5 * d * d / beta, z - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 * d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``.

    See :class:`~ferrotorch.nn.HuberLoss` for details.
    """
    _warn_size(input, target)
    if weight is None:
        reduction = _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, y = torch.broadcast_tensors(input, target)
    d = x - y
    z = d.abs()
    loss = torch.where(z < delta, 0.5 * d * d, delta * (z - 0.5 * delta))
    if weight is not None:
        return _weighted(loss, weight, input, reduction, mean_by_weight=False)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Classification losses over class indices or probabilities.
# ---------------------------------------------------------------------------------------------


def _check_nll(input, target, weight):
    """torch's argument checks of nll_loss, with its messages."""
    nd = input.dim()
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd != 1:
        if target.dim() == 0:
            raise RuntimeError(f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, got []")
        if input.shape[0] != target.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]})."
            )
    n_classes = input.shape[1] if nd > 1 else input.shape[0]
    if nd == 1 and target.numel() != 1:
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)}, target: {list(target.shape)})")
    if nd <= 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
            raise RuntimeError(
                f"weight tensor should be defined either for all {n_classes} classes or no classes but got "
                f"weight tensor of shape: {list(weight.shape)}"
            )
    else:
        if nd == 4 and target.dim() != 3:
            raise RuntimeError(
                f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {target.dim()}"
            )
        if list(target.shape[1:]) != list(input.shape[2:]):
            if nd == 4:
                raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}")
            raise RuntimeError(
                f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, got {list(target.shape)}"
            )
        if weight is not None and weight.numel() != n_classes:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
    _check_long(target, also=(torch.uint8,))


def _nll_terms(input, target, weight, ignore_index):
    """Per-element ``-w[t] * input[t]`` of nll_loss and the weights ``w[t]`` (0 where ignored),
    in the target's shape. Returns ``(loss, w, ignored)``."""
    _check_nll(input, target, weight)
    nd = input.dim()
    n_classes = input.shape[1] if nd > 1 else input.shape[0]
    # An unbatched (C,) input is one sample; a 1-element target keeps its batch dimension.
    x = input.unsqueeze(0) if nd == 1 else input
    t = target.long().reshape([x.shape[0]] + list(x.shape[2:]))
    ignored = t == ignore_index
    safe = torch.where(ignored, 0, t)

    def out_of_bounds(index):
        return IndexError(f"Target {_first_out_of_range(index, n_classes)} is out of bounds.")

    picked = _gather_checked(x, 1, safe.unsqueeze(1), out_of_bounds).squeeze(1)
    zero = _zeros_like_scalar(picked)
    if weight is None:
        w = torch.where(ignored, zero, torch.ones((), dtype=picked.dtype, device=picked.device))
        loss = torch.where(ignored, zero, -picked)
    else:
        w = torch.where(ignored, zero, weight.index_select(0, safe.reshape(-1)).reshape(safe.shape))
        loss = torch.where(ignored, zero, -picked * w)
    shape = list(target.shape)
    return loss.reshape(shape), w.reshape(shape), ignored.reshape(shape)


def _nll_reduce(loss, w, reduction):
    if reduction == "mean":
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def _weight_needs_grad(weight):
    return weight is not None and weight.requires_grad and torch.is_grad_enabled()


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """The negative log likelihood loss: ``-weight[t] * input[n, t]`` for each target class ``t``.

    ``input`` holds log-probabilities, ``(N, C)``, ``(C)`` or ``(N, C, d1, d2, ...)``; ``target``
    the class indices, ``(N)``, ``()`` or ``(N, d1, d2, ...)``. The mean divides by the summed
    weights of the targets that are not ``ignore_index``.

    See :class:`~ferrotorch.nn.NLLLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    if _weight_needs_grad(weight):
        # The fused kernel, like torch's, gives the class weights no gradient; composed of
        # differentiable ops, the loss gives them one.
        loss, w, _ = _nll_terms(input, target, weight, ignore_index)
        return _nll_reduce(loss, w, reduction)
    _check_nll(input, target, weight)
    if weight is not None and weight.dtype != input.dtype:
        weight = weight.to(input.dtype)
    return _C._nll_loss(input, target, weight, reduction, ignore_index)


def _class_view(weight, ndim, class_dim):
    """``weight`` shaped to broadcast along ``class_dim`` of an ``ndim``-dimensional input."""
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.reshape(shape)


def _check_smoothing(label_smoothing):
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing, class_dim):
    if not target.is_floating_point():
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {_type_name(target)}"
        )
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(
            f"cross_entropy: weight tensor should be defined either for all {n_classes} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}"
        )
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = logp * target
    if weight is not None:
        terms = terms * _class_view(weight, input.dim(), class_dim)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    if input.numel() == 0:
        return terms.sum() * float("nan")
    return -terms.sum() / (input.numel() // n_classes)


def cross_entropy(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
    label_smoothing=0.0,
):
    """Cross entropy between the logits ``input`` and ``target``: ``nll_loss(log_softmax(input))``
    for class indices, ``-sum(target * log_softmax(input))`` for class probabilities (a
    ``target`` of the input's shape).

    ``label_smoothing`` mixes the target with the uniform distribution over the ``C`` classes.

    See :class:`~ferrotorch.nn.CrossEntropyLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    class_dim = 0 if input.dim() == 1 else 1
    if input.shape == target.shape:
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing, class_dim)
    if _fused_cross_entropy_takes(input, target, weight, label_smoothing):
        return _C._cross_entropy(input, target, ignore_index, reduction)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
    logp = log_softmax(input, class_dim)
    if label_smoothing <= 0.0:
        return nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    loss, w, ignored = _nll_terms(logp, target, weight, ignore_index)
    nll = _nll_reduce(loss, w, reduction)
    # The smoothing part: the (weighted) sum of all classes' -log p, averaged like the nll part.
    per_class = logp if weight is None else logp * _class_view(weight, logp.dim(), class_dim)
    smooth = torch.where(ignored, _zeros_like_scalar(logp), -per_class.sum(class_dim))
    if reduction == "mean":
        smooth = smooth.sum() / w.sum()
    else:
        smooth = _reduce(smooth, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / input.shape[class_dim])


def _fused_cross_entropy_takes(input, target, weight, label_smoothing):
    """Whether the one-op cross entropy (log-sum-exp and target term per row, in float32, or
    float64 for float64 logits) computes what the composition would: ``(N, C)`` logits, class
    indices, no weights or smoothing, and a float32 result, which 16-bit logits get only under
    autocast."""
    if weight is not None or label_smoothing != 0.0 or input.dim() != 2 or target.dim() != 1:
        return False
    if target.dtype != torch.int64 or target.shape[0] != input.shape[0] or input.numel() == 0:
        return False
    if input.device != target.device:
        return False
    if input.dtype in (torch.float32, torch.float64):
        return True
    return input.dtype in (torch.float16, torch.bfloat16) and torch.is_autocast_enabled(input.device.type)


def _infer_size(a, b):
    """The broadcast of shapes ``a`` and ``b``, failing with torch's message."""
    n = max(len(a), len(b))
    a, b = [1] * (n - len(a)) + list(a), [1] * (n - len(b)) + list(b)
    for i, (sa, sb) in enumerate(zip(a, b)):
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton dimension {i}"
            )
    return [sb if sa == 1 else sa for sa, sb in zip(a, b)]


def _log_clamped(x):
    """``max(log(x), -100)`` as torch's binary_cross_entropy, with a finite gradient at 0."""
    positive = x > 0
    safe = torch.where(positive, x, torch.ones((), dtype=x.dtype, device=x.device))
    return torch.where(positive, torch.log(safe), torch.full((), -100.0, dtype=x.dtype, device=x.device)).clamp(
        min=-100.0
    )


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """``-w * (y * log(x) + (1 - y) * log(1 - x))`` for probabilities ``x``, each log clamped at
    -100 (so the loss stays finite at 0 and 1).

    See :class:`~ferrotorch.nn.BCELoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) is "
            "deprecated. Please ensure they have the same size."
        )
    if weight is not None:
        weight = weight.expand(_infer_size(target.shape, weight.shape))
    # The range check reads the input back, so it runs where that is free (CUDA would sync).
    if not input.is_cuda and bool(((input < 0) | (input > 1) | torch.isnan(input)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = (target - 1) * _log_clamped(1 - input) - target * _log_clamped(input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits:
    ``(1 - y) * x - (1 + (pos_weight - 1) * y) * logsigmoid(x)``, times ``weight``.

    See :class:`~ferrotorch.nn.BCEWithLogitsLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    log_sig = logsigmoid(input)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence ``target * (log(target) - input)`` for log-probabilities
    ``input``; ``reduction='batchmean'`` divides the sum by the batch size (the true KL).

    See :class:`~ferrotorch.nn.KLDivLoss` for details.
    """
    if size_average is not None or reduce is not None:
        mode = _legacy_reduction(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size."
                "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                stacklevel=2,
            )
        mode = "sum" if reduction == "batchmean" else _check_reduction(reduction)
    if log_target:
        loss = torch.exp(target) * (target - input)
    else:
        loss = torch.xlogy(target, target) - target * input
    out = _reduce(loss, mode)
    if reduction == "batchmean" and input.dim() != 0:
        out = out / input.shape[0]
    return out


def poisson_nll_loss(
    input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"
):
    """Poisson negative log likelihood: ``exp(x) - y * x`` (``log_input``) or
    ``x - y * log(x + eps)``; ``full`` adds Stirling's approximation of ``log(y!)`` where ``y > 1``.

    See :class:`~ferrotorch.nn.PoissonNLLLoss` for details.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if log_input:
        loss = torch.exp(input) - target * input
    else:
        loss = input - target * torch.log(input + eps)
    if full:
        big = target > 1
        # Evaluated on a safe copy: log(0) at small targets would make a nan gradient.
        t = torch.where(big, target, torch.ones((), dtype=target.dtype, device=target.device))
        stirling = t * torch.log(t) - t + 0.5 * torch.log(2 * math.pi * t)
        loss = loss + torch.where(big, stirling, _zeros_like_scalar(stirling))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log likelihood ``0.5 * (log(var) + (input - target)^2 / var)``, ``var``
    clamped below at ``eps``; ``full`` adds ``0.5 * log(2 pi)``.

    ``var`` has the input's shape, or one dimension of size 1 (or one fewer dimension) for a
    variance shared along it, or is a float.

    See :class:`~ferrotorch.nn.GaussianNLLLoss` for details.
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * torch.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)
        elif not (
            input.dim() == var.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
        ):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # torch clamps a copy in place without recording it: the clamped value, the identity gradient.
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (torch.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Margin and embedding losses.
# ---------------------------------------------------------------------------------------------


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where ``y == -1``.

    See :class:`~ferrotorch.nn.CosineEmbeddingLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    td = target.dim()
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if td == 1 and not (input1.dim() == 2 and input2.dim() == 2):
        raise RuntimeError(
            f"1D target tensor expects 2D input tensors, but found inputs with sizes {list(input1.shape)} and "
            f"{list(input2.shape)}."
        )
    if td == 0 and not (input1.dim() == 1 and input2.dim() == 1):
        raise RuntimeError(
            f"0D target tensor expects 1D input tensors, but found inputs with sizes {list(input1.shape)} and "
            f"{list(input2.shape)}."
        )
    eps = 1e-12  # torch's, added to each squared norm
    prod = (input1 * input2).sum(td)
    mag1 = (input1 * input1).sum(td) + eps
    mag2 = (input2 * input2).sum(td) + eps
    cos = prod / torch.sqrt(mag1 * mag2)
    zero = _zeros_like_scalar(cos)
    loss = torch.where(target == 1, 1 - cos, zero) + torch.where(target == -1, (cos - margin).clamp_min(0), zero)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """``max(0, -y * (x1 - x2) + margin)``.

    See :class:`~ferrotorch.nn.MarginRankingLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1`` (other targets add both).

    See :class:`~ferrotorch.nn.HingeEmbeddingLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    zero = _zeros_like_scalar(input)
    loss = torch.where(target != 1, (margin - input).clamp_min(0), zero) + torch.where(target != -1, input, zero)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-y * x))``, computed without overflow.

    See :class:`~ferrotorch.nn.SoftMarginLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    return _reduce(softplus(-target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per-class binary cross entropy of ``sigmoid(x)`` averaged over the classes (the last dim).

    See :class:`~ferrotorch.nn.MultiLabelSoftMarginLoss` for details.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def _margin_frames(input, target, check_sizes):
    """(frames, classes) of a multi-class margin loss's ``(C)`` / ``(N, C)`` input, checked."""
    nd = input.dim()
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0) or nd == 0):
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(input.shape)}"
        )
    nframe, dim = (1, 1 if nd == 0 else input.shape[0]) if nd <= 1 else tuple(input.shape)
    check_sizes(nd, nframe, dim)
    _check_long(target)
    return nframe, dim


def multi_margin_loss(
    input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """Multi-class hinge loss: for each sample, ``sum_i w[y] * max(0, margin - x[y] + x[i])^p``
    over the classes ``i != y``, divided by the number of classes.

    See :class:`~ferrotorch.nn.MultiMarginLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")

    def check(nd, nframe, dim):
        if target.dim() > 1 or target.numel() != nframe:
            raise RuntimeError(f"inconsistent target size, expected {nframe} but got {list(target.shape)}")
        if weight is not None and weight.numel() != dim:
            raise RuntimeError(f"inconsistent weight size, expected {dim} but got {list(weight.shape)}")

    nframe, dim = _margin_frames(input, target, check)
    x = input.reshape(nframe, dim)
    t = target.reshape(nframe, 1)
    x_y = _gather_checked(x, 1, t, lambda _: RuntimeError("target out of range"))
    z = (margin - x_y + x).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.index_select(0, t.reshape(-1)).unsqueeze(1)
    is_target = torch.arange(dim, device=x.device).unsqueeze(0) == t
    loss = torch.where(is_target, _zeros_like_scalar(z), z).sum(1) / dim
    return _reduce(loss.reshape(list(target.shape)), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: ``sum_{j, i} max(0, 1 - (x[y[j]] - x[i])) / C`` over the target
    classes ``y[j]`` (the entries before the first -1) and the non-target classes ``i``.

    See :class:`~ferrotorch.nn.MultiLabelMarginLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)

    def check(nd, nframe, dim):
        ok = (target.dim() <= 1 and target.numel() == dim) if nd <= 1 else (
            target.dim() == 2 and list(target.shape) == [nframe, dim]
        )
        if not ok:
            raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")

    nframe, dim = _margin_frames(input, target, check)
    x = input.reshape(nframe, dim)
    y = target.reshape(nframe, dim)
    valid = (y == -1).long().cumsum(1) == 0  # the prefix before the first -1
    safe = torch.where(valid, y, _zeros_like_scalar(y))
    x_y = _gather_checked(x, 1, safe, lambda _: RuntimeError("argument #2 'target' is out of range"))
    hits = torch.zeros((nframe, dim), dtype=x.dtype, device=x.device).scatter_add(1, safe, valid.to(x.dtype))
    # (frame, target j, class i): every target against every class that is not a target.
    z = (1 - x_y.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)
    keep = valid.unsqueeze(2) & (hits == 0).unsqueeze(1)
    loss = torch.where(keep, z, _zeros_like_scalar(z)).sum((1, 2)) / dim
    if input.dim() <= 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a}D, positive {p}D, and negative {n}D inputs"
        )


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None, reduce=None,
    reduction="mean",
):
    """``max(0, margin + d(a, p) - d(a, n))`` with the pairwise ``p``-norm distance ``d``; ``swap``
    uses ``min(d(a, n), d(p, n))`` for the negative distance.

    See :class:`~ferrotorch.nn.TripletMarginLoss` for details.
    """
    reduction = _resolve(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = torch.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(
    anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction="mean"
):
    """``max(0, margin + d(a, p) - d(a, n))`` for a custom distance ``d`` (default: the pairwise
    Euclidean distance).

    See :class:`~ferrotorch.nn.TripletMarginWithDistanceLoss` for details.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = torch.minimum(d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss", "cross_entropy",
    "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "kl_div", "l1_loss", "margin_ranking_loss",
    "mse_loss", "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss", "nll_loss",
    "poisson_nll_loss", "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]
