"""Graph nodes: ``Tensor.grad_fn`` objects are ``Node``s."""

from .._C import Node  # noqa: F401

__all__ = ["Node"]
