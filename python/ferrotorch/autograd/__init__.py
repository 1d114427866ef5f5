"""``ferrotorch.autograd``: reverse-mode automatic differentiation.

The graph is recorded by the Rust core as ops run and executed there by ``backward()``; this
package is the torch-shaped Python surface: ``backward``, ``grad``, grad-mode switches, custom
``Function``s, ``gradcheck`` and the ``functional`` helpers.
"""

from .. import _C
from .._C import Tensor
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401
from .grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = ["backward", "grad", "Function", "gradcheck", "gradgradcheck", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "detect_anomaly",
           "set_detect_anomaly", "functional", "graph"]


def _tensors(x, what):
    if isinstance(x, Tensor):
        return [x]
    if x is None:
        return []
    out = list(x)
    for t in out:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got "
                            f"{type(t).__name__}")
    return out


def _grads(grads, n, what):
    if grads is None:
        return [None] * n
    if isinstance(grads, Tensor):
        grads = [grads]
    grads = list(grads)
    if len(grads) != n:
        raise RuntimeError(f"{what} should be a sequence of length {n}, but got {len(grads)}")
    return [g if g is None or isinstance(g, Tensor) else _C.tensor(g) for g in grads]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulates the gradients of ``tensors`` into the ``.grad`` of the graph's leaves.

    Args:
        tensors: Tensor or sequence of Tensors to differentiate.
        grad_tensors: the gradient of each (None allowed for one-element tensors).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward pass itself, for higher-order gradients.
        inputs: accumulate only into these tensors' ``.grad``.
    """
    tensors = _tensors(tensors, "tensors")
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = _grads(grad_tensors, len(tensors), "grad_tensors")
    if inputs is not None:
        inputs = _tensors(inputs, "inputs")
    _C._run_backward(tensors, grads, retain_graph, create_graph, inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``; nothing is accumulated.

    Args:
        outputs: Tensor or sequence of Tensors.
        inputs: Tensor or sequence of Tensors to differentiate with respect to.
        grad_outputs: the gradient of each output (None allowed for one-element outputs).
        retain_graph: keep the graph (default: ``create_graph``).
        create_graph: record the gradient computation, for higher-order gradients.
        allow_unused: return None for inputs the outputs do not depend on instead of raising.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        tuple of Tensors (or None), one per input.
    """
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported yet")
    outputs = _tensors(outputs, "outputs")
    inputs_list = _tensors(inputs, "inputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    grads = _grads(grad_outputs, len(outputs), "grad_outputs")
    result = _C._run_grad(outputs, inputs_list, grads, retain_graph, create_graph, allow_unused)
    if materialize_grads:
        result = [_C.zeros_like(x) if g is None else g for g, x in zip(result, inputs_list)]
    return tuple(result)


from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402,F401
from . import functional, graph  # noqa: E402,F401
