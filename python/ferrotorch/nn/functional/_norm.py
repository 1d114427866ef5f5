"""Normalisation layers' functional forms, as in ``torch.nn.functional``."""

import ferrotorch as torch
from ferrotorch import _C


def _affine(x, weight, bias, shape):
    if weight is not None:
        x = x * weight.reshape(shape)
    if bias is not None:
        x = x + bias.reshape(shape)
    return x


def _normalize_over(x, dims, eps):
    """``(x - mean) / sqrt(var + eps)`` over ``dims`` (biased variance, as torch's norms)."""
    var, mean = torch.var_mean(x, dims, correction=0, keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the last ``len(normalized_shape)`` dims, then scales and shifts:
    ``(x - mean) / sqrt(var + eps) * weight + bias`` (biased variance), by one fused kernel
    forward and one backward.

    Args:
        input (Tensor): ``(*, *normalized_shape)``.
        normalized_shape (int or tuple of ints): the trailing dims normalised over.
        weight (Tensor, optional): ``normalized_shape``, the scale.
        bias (Tensor, optional): ``normalized_shape``, the shift.
        eps (float): added to the variance.
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape or input.dim() < k:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{tuple(input.shape)}"
        )
    return _C._native_layer_norm(input, list(normalized_shape), weight, bias, eps)[0]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2) + eps)`` over the last dims, times ``weight``, by one fused kernel
    forward and one backward. ``eps`` defaults to ``torch.finfo(input.dtype).eps``."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    if eps is None:
        eps = torch.finfo(input.dtype).eps
    return _C._rms_norm(input, list(normalized_shape), weight, eps)[0]


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalises each channel (dim 1) over the batch and spatial dims. In training, the batch's
    statistics are used and the running ones updated in place (unbiased variance, as torch)."""
    if input.dim() < 2:
        raise ValueError(f"Expected 2D or more input (got {input.dim()}D input)")
    c = input.shape[1]
    dims = [0] + list(range(2, input.dim()))
    shape = [1, c] + [1] * (input.dim() - 2)
    if training:
        n = input.numel() // c
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(input.shape)}")
        var, mean = torch.var_mean(input, dims, correction=0, keepdim=True)
        if running_mean is not None:
            with torch.no_grad():
                m = momentum if momentum is not None else 0.1
                running_mean.mul_(1 - m).add_(mean.reshape(c).detach() * m)
                running_var.mul_(1 - m).add_(var.reshape(c).detach() * (m * n / (n - 1)))
    else:
        mean = running_mean.reshape(shape)
        var = running_var.reshape(shape)
    y = (input - mean) * torch.rsqrt(var + eps)
    return _affine(y, weight, bias, shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalises each (sample, channel) over its spatial dims."""
    shape = [1, input.shape[1]] + [1] * (input.dim() - 2)
    if use_input_stats:
        dims = list(range(2, input.dim()))
        if running_mean is not None:
            with torch.no_grad():
                var, mean = torch.var_mean(input, dims, correction=1)
                running_mean.mul_(1 - momentum).add_(mean.mean(0) * momentum)
                running_var.mul_(1 - momentum).add_(var.mean(0) * momentum)
        y = _normalize_over(input, dims, eps)
    else:
        y = (input - running_mean.reshape(shape)) * torch.rsqrt(running_var.reshape(shape) + eps)
    return _affine(y, weight, bias, shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises each sample's channels in ``num_groups`` groups."""
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of "
            f"shape {list(input.shape)} and num_groups={num_groups}"
        )
    x = input.reshape([n, num_groups, -1])
    # Each (sample, group) is a row of the fused layer-norm kernel.
    y = _C._native_layer_norm(x, [x.shape[2]], None, None, eps)[0].reshape(input.shape)
    return _affine(y, weight, bias, [1, c] + [1] * (input.dim() - 2))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divides each channel by ``(k + alpha * mean of squares over size neighbours)^beta``."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality input (got {dim} dimensions)"
        )
    sq = (input * input).unsqueeze(1)
    # Average the squares over a window of `size` channels centred on each channel.
    c = input.shape[1]
    pad_front, pad_back = size // 2, (size - 1) // 2
    sq = sq.reshape([sq.shape[0], 1, c, -1])
    zeros_f = torch.zeros([sq.shape[0], 1, pad_front, sq.shape[3]], dtype=sq.dtype, device=sq.device)
    zeros_b = torch.zeros([sq.shape[0], 1, pad_back, sq.shape[3]], dtype=sq.dtype, device=sq.device)
    padded = torch.cat([zeros_f, sq, zeros_b], 2)
    window = padded.unfold(2, size, 1).mean(-1)
    div = window.reshape(input.shape)
    return input / (div * alpha + k) ** beta


__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "local_response_norm", "rms_norm"]
