"""Activation functions and the softmax family, as in ``torch.nn.functional``.

Activations are written with differentiable tensor ops, so autograd and every device come for
free; the softmax family calls the fused kernels of the core (one pass per row forward and
backward).
"""


import ferrotorch as torch
from ferrotorch import _C


def _dim_for(ndim):
    # torch's legacy rule for softmax without `dim` (it warns; the choice is kept for parity).
    return 0 if ndim in (0, 1, 3) else 1


def _inplace(x, y):
    """Writes ``y`` into ``x`` (the ``inplace=True`` form) and returns ``x``."""
    return x.copy_(y)


def _threshold(input, limit, value, inplace):
    out = torch.where(input > limit, input, torch.tensor(value, dtype=input.dtype, device=input.device))
    return _inplace(input, out) if inplace else out


def threshold(input, threshold, value, inplace=False):
    """``y = x if x > threshold else value``."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, True)


def relu(input, inplace=False):
    """``max(0, x)``."""
    return input.relu_() if inplace else torch.relu(input)


def relu_(input):
    return input.relu_()


def relu6(input, inplace=False):
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``x`` clamped to ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return input.clamp_(min_val, max_val) if inplace else input.clamp(min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x if x >= 0 else negative_slope * x``."""
    out = torch.where(input >= 0, input, input * negative_slope)
    return _inplace(input, out) if inplace else out


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input, weight):
    """Leaky ReLU whose slope is learned: one per channel (dim 1) or one shared."""
    if weight.numel() != 1:
        if input.dim() < 2 or input.shape[1] != weight.numel():
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{weight.numel()} and channel size = {input.shape[1] if input.dim() >= 2 else 1}."
            )
        weight = weight.reshape([input.shape[1]] + [1] * (input.dim() - 2))
    return torch.where(input >= 0, input, input * weight)


def elu(input, alpha=1.0, inplace=False):
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    out = torch.where(input > 0, input, torch.expm1(input) * alpha)
    return _inplace(input, out) if inplace else out


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    out = elu(input, _SELU_ALPHA) * _SELU_SCALE
    return _inplace(input, out) if inplace else out


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    out = torch.where(input > 0, input, torch.expm1(input / alpha) * alpha)
    return _inplace(input, out) if inplace else out


def gelu(input, approximate="none"):
    """``x * Phi(x)`` with ``Phi`` the standard normal CDF; ``approximate='tanh'`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``. One fused kernel each way."""
    return _C._gelu(input, approximate)


def silu(input, inplace=False):
    """``x * sigmoid(x)``."""
    out = input * torch.sigmoid(input)
    return _inplace(input, out) if inplace else out


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    out = input * torch.tanh(softplus(input))
    return _inplace(input, out) if inplace else out


def sigmoid(input):
    return torch.sigmoid(input)


def tanh(input):
    return torch.tanh(input)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    out = (input + 3.0).clamp(0.0, 6.0) / 6.0
    return _inplace(input, out) if inplace else out


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    out = input * (input + 3.0).clamp(0.0, 6.0) / 6.0
    return _inplace(input, out) if inplace else out


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    scaled = input * beta
    # log1p(exp(-|z|)) + max(z, 0) never overflows; the linear branch matches torch above threshold.
    soft = (torch.log1p(torch.exp(-scaled.abs())) + scaled.clamp(min=0)) / beta
    return torch.where(scaled > threshold, input, soft)


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (1.0 + input.abs())


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - torch.tanh(input)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return torch.where(input.abs() > lambd, input, torch.zeros_like(input))


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return torch.where(input > lambd, input - lambd, torch.where(input < -lambd, input + lambd, torch.zeros_like(input)))


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|``."""
    return -softplus(-input)


def glu(input, dim=-1):
    """``a * sigmoid(b)`` where ``a, b`` are the halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {dim % input.dim()} is size {input.shape[dim]}"
        )
    a, b = input.chunk(2, dim)
    return a * torch.sigmoid(b)


def _cast(input, dtype):
    return input if dtype is None else input.to(dtype)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably (shifted by the maximum) by one
    fused kernel.

    Args:
        input (Tensor): the input.
        dim (int): the dim the values sum to 1 along.
        dtype (torch.dtype, optional): the input is cast to it first (to avoid overflow in a
            narrow type).

    Example::

        >>> F.softmax(torch.tensor([[1.0, 2.0], [3.0, 3.0]]), dim=1)
        tensor([[0.2689, 0.7311],
                [0.5000, 0.5000]])
    """
    x = _cast(input, dtype)
    if dim is None:
        dim = _dim_for(x.dim())
    return _C._softmax(x, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``x - logsumexp(x)`` along ``dim``, by one fused kernel (stable for large ``|x|``).

    Args:
        input (Tensor): the input.
        dim (int): the dim the log-probabilities are normalised along.
        dtype (torch.dtype, optional): the input is cast to it first.
    """
    x = _cast(input, dtype)
    if dim is None:
        dim = _dim_for(x.dim())
    return _C._log_softmax(x, dim)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    x = _cast(input, dtype)
    if dim is None:
        dim = _dim_for(x.dim())
    return _C._softmax(-x, dim)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution; ``hard=True`` returns one-hot samples whose
    gradient is the soft sample's (straight-through)."""
    uniform = torch.rand_like(logits).clamp(min=eps, max=1.0 - eps)
    gumbels = -torch.log(-torch.log(uniform))
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = torch.zeros_like(logits).scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


__all__ = [
    "celu", "elu", "elu_", "gelu", "glu", "gumbel_softmax", "hardshrink", "hardsigmoid", "hardswish",
    "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "log_softmax", "logsigmoid", "mish", "prelu",
    "relu", "relu6", "relu_", "selu", "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink",
    "softsign", "tanh", "tanhshrink", "threshold", "threshold_",
]
