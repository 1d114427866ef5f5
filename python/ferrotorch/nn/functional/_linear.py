"""Linear maps, embeddings, dropout, distances and padding, as in ``torch.nn.functional``."""

import math

import ferrotorch as torch
from ferrotorch import _C


def linear(input, weight, bias=None):
    """``y = x @ weight.T + bias``; ``x`` is ``(*, in_features)``, ``weight`` ``(out, in)``."""
    if bias is None:
        return torch.matmul(input, weight.t())
    if input.dim() == 2:
        return torch.addmm(bias, input, weight.t())  # one GEMM with the bias fused
    if input.dim() > 2 and weight.dim() == 2 and input.is_contiguous():
        # As torch does: the batch dims flattened into the rows of one GEMM, bias fused. Under
        # autocast addmm casts the bias too, so the result stays in the fast dtype instead of
        # widening to the bias's float32 in a separate add.
        rows = math.prod(input.shape[:-1])
        out = torch.addmm(bias, input.view(rows, input.shape[-1]), weight.t())
        return out.view(*input.shape[:-1], weight.shape[0])
    out = torch.matmul(input, weight.t())
    if out.dtype != bias.dtype and torch.is_autocast_enabled(out.device.type):
        bias = bias.to(out.dtype)  # torch autocasts linear as one op, bias included
    return out + bias


def bilinear(input1, input2, weight, bias=None):
    """``y[.., o] = x1 @ weight[o] @ x2 + bias[o]``."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
            f"{list(input2.shape[:-1])}"
        )
    out = torch.einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


def one_hot(tensor, num_classes=-1):
    """``(*, num_classes)`` int64 tensor that is 1 at each index's class, 0 elsewhere."""
    return _C._one_hot(tensor, num_classes)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer ``input``; the row at ``padding_idx`` gets no gradient."""
    if input.dtype not in (torch.int64, torch.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)"
        )
    if padding_idx is not None:
        n = weight.shape[0]
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= n
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported")
    return _C._embedding(weight, input, padding_idx, scale_grad_by_freq)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxes of bags of embedding rows. ``input`` is ``(B, L)`` (one bag per row) or
    1-D with ``offsets`` giving where each bag starts."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
            f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
        )
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences.")
        bags, length = input.shape
        bag_of = torch.arange(bags, device=input.device).repeat_interleave(length)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None or offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor but got None" if offsets is None else
                             "offsets has to be a 1D Tensor")
        starts = offsets[:-1] if include_last_offset else offsets
        bags = starts.shape[0]
        positions = torch.arange(input.shape[0], device=input.device)
        bag_of = torch.searchsorted(starts.contiguous(), positions, right=True) - 1
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    rows = weight.index_select(0, input)
    keep = None
    if padding_idx is not None:
        keep = input != (padding_idx % weight.shape[0])
        rows = rows * keep.unsqueeze(1).to(rows.dtype)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    out = torch.zeros((bags, weight.shape[1]), dtype=weight.dtype, device=weight.device)
    if mode == "max":
        idx = bag_of.unsqueeze(1).expand(rows.shape)
        if keep is not None:
            rows = torch.where(keep.unsqueeze(1), rows, torch.full_like(rows, float("-inf")))
        out = out.scatter_reduce(0, idx, rows, "amax", include_self=False)
        return torch.where(torch.isinf(out) & (out < 0), torch.zeros_like(out), out)
    out = out.index_add(0, bag_of, rows)
    if mode == "mean":
        counted = keep.to(torch.int64) if keep is not None else torch.ones_like(bag_of)
        counts = torch.zeros(bags, dtype=torch.int64, device=input.device).index_add(0, bag_of, counted)
        out = out / counts.clamp(min=1).unsqueeze(1).to(out.dtype)
    return out


def _embedding_renorm_(weight, input, max_norm, norm_type):
    """Rescales, in place, the rows of ``weight`` that ``input`` looks up whose norm exceeds
    ``max_norm`` (torch's ``embedding_renorm_``)."""
    with torch.no_grad():
        rows = torch.unique(input.reshape(-1))
        picked = weight.index_select(0, rows)
        norms = picked.norm(norm_type, dim=1, keepdim=True)
        scale = torch.where(norms > max_norm, max_norm / (norms + 1e-7), torch.ones_like(norms))
        weight.index_copy_(0, rows, picked * scale)
    return weight


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, like):
    """1 with probability ``1 - p``, else 0, in ``like``'s dtype and device."""
    return (torch.rand(shape, dtype=like.dtype, device=like.device) >= p).to(like.dtype)


def _apply_mask(input, mask, scale, inplace):
    out = input * mask * scale
    return input.copy_(out) if inplace else out


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)``."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0) if inplace else input * 0
    mask = _keep_mask(input.shape, p, input)
    return _apply_mask(input, mask, 1.0 / (1.0 - p), inplace)


def _feature_dropout(input, p, training, inplace, batched_ndim, name):
    _check_p(p)
    if input.dim() not in (batched_ndim, batched_ndim - 1):
        raise RuntimeError(
            f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but received a "
            f"{input.dim()}D input"
        )
    if not training or p == 0.0:
        return input
    # One draw per (sample, channel), shared by the channel's whole feature map.
    lead = 2 if input.dim() == batched_ndim else 1
    shape = list(input.shape[:lead]) + [1] * (input.dim() - lead)
    mask = _keep_mask(shape, p, input)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return _apply_mask(input, mask, scale, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of ``(N, C, L)`` or ``(C, L)`` inputs."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of ``(N, C, H, W)`` or ``(C, H, W)`` inputs."""
    return _feature_dropout(input, p, training, inplace, 4, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs."""
    return _feature_dropout(input, p, training, inplace, 5, "dropout3d")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's zero mean and unit variance (dropped units take SELU's negative
    saturation value, then an affine map restores the moments)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0) if inplace else input * 0
    alpha = -1.7580993408473766  # -scale * alpha of SELU
    keep = _keep_mask(input.shape, p, input)
    a = ((1.0 - p) * (1.0 + p * alpha * alpha)) ** -0.5
    b = -a * alpha * p
    out = (input * keep + alpha * (1 - keep)) * a + b
    return input.copy_(out) if inplace else out


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``x / max(||x||_p, eps)`` along ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    result = input / denom
    return result if out is None else out.copy_(result)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / max(||x1|| * ||x2||, eps)`` along ``dim`` (inputs broadcast)."""
    x1, x2 = torch.broadcast_tensors(x1, x2)
    # torch clamps each norm separately before multiplying (ATen's cosine_similarity).
    n1 = x1.norm(2, dim).clamp(min=eps)
    n2 = x2.norm(2, dim).clamp(min=eps)
    return (x1 * x2).sum(dim) / (n1 * n2)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dimension."""
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


def pdist(input, p=2.0):
    """Distances between each pair of rows of ``(N, M)`` ``input``, upper triangle as a vector."""
    n = input.shape[0]
    i, j = _triu_indices(n, input.device)
    return (input[i] - input[j]).norm(p, -1)


def _triu_indices(n, device):
    rows = [r for r in range(n) for _ in range(r + 1, n)]
    cols = [c for r in range(n) for c in range(r + 1, n)]
    return torch.tensor(rows, device=device, dtype=torch.int64), torch.tensor(cols, device=device, dtype=torch.int64)


def pixel_shuffle(input, upscale_factor):
    """``(*, C * r^2, H, W)`` to ``(*, C, H * r, W * r)``."""
    r = upscale_factor
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    x = input.reshape(lead + [c // (r * r), r, r, h, w])
    n = len(lead)
    x = x.permute(list(range(n)) + [n, n + 3, n + 1, n + 4, n + 2])
    return x.reshape(lead + [c // (r * r), h * r, w * r])


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H * r, W * r)`` to ``(*, C * r^2, H, W)``."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    x = input.reshape(lead + [c, h // r, r, w // r, r])
    n = len(lead)
    x = x.permute(list(range(n)) + [n, n + 2, n + 4, n + 1, n + 3])
    return x.reshape(lead + [c * r * r, h // r, w // r])


def channel_shuffle(input, groups):
    """Splits the channels into ``groups`` and interleaves them."""
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    return input.reshape([n, groups, c // groups] + rest).transpose(1, 2).reshape([n, c] + rest)


__all__ = [
    "alpha_dropout", "bilinear", "channel_shuffle", "cosine_similarity", "dropout", "dropout1d", "dropout2d",
    "dropout3d", "embedding", "embedding_bag", "linear", "normalize", "one_hot", "pairwise_distance", "pdist", "pixel_shuffle",
    "pixel_unshuffle",
]
