"""The softmax family as module functions: ``torch.softmax(x, 1)`` is ``Tensor.softmax(x, 1)``,
one fused kernel on every device."""

from ._C import Tensor

softmax = Tensor.softmax
log_softmax = Tensor.log_softmax

__all__ = ["softmax", "log_softmax"]
