"""``gradcheck`` and ``gradgradcheck``: backward rules against central finite differences.

The analytical Jacobian is built row by row with ``autograd.grad`` (one backward per output
element); the numerical one by perturbing each input element by ``eps`` in place. Use float64
inputs: float32 finite differences are too coarse for the default tolerances.
"""

import itertools

import numpy as np

from .. import _C
from .._C import Tensor
from .grad_mode import no_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when the gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    return [o for o in _as_tuple(func(*inputs))
            if isinstance(o, Tensor) and o.is_floating_point()]


def _numerical(func, inputs, x, eps):
    """d(outputs)/d(x) by central differences: one (numel(x), numel(out)) array per output."""
    data = x.detach()
    cols = None
    for idx in itertools.product(*[range(n) for n in x.shape]):
        with no_grad():
            orig = data[idx].item()
            data[idx] = orig + eps
            plus = [o.detach().double().numpy().ravel().copy() for o in _outputs(func, inputs)]
            data[idx] = orig - eps
            minus = [o.detach().double().numpy().ravel().copy() for o in _outputs(func, inputs)]
            data[idx] = orig
        rows = [(p - m) / (2 * eps) for p, m in zip(plus, minus)]
        if cols is None:
            cols = [[] for _ in rows]
        for c, r in zip(cols, rows):
            c.append(r)
    if cols is None:  # empty input: no rows
        return [np.zeros((0, o.numel())) for o in _outputs(func, inputs)]
    return [np.array(c).reshape(x.numel(), -1) for c in cols]


def _analytical(outputs, diff_inputs):
    """One (numel(x), numel(out)) array per (input, output), from backward passes."""
    from . import grad as autograd_grad

    result = [[np.zeros((x.numel(), o.numel())) for o in outputs] for x in diff_inputs]
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        flat = np.zeros(out.numel())
        for i in range(out.numel()):
            flat[:] = 0
            flat[i] = 1
            go = _C.tensor(flat.reshape(out.shape), dtype=out.dtype)
            grads = autograd_grad(out, diff_inputs, go, retain_graph=True, allow_unused=True)
            for k, g in enumerate(grads):
                if g is not None:
                    if tuple(g.shape) != tuple(diff_inputs[k].shape):
                        raise GradcheckError(
                            f"Gradient has incorrect shape {tuple(g.shape)} for input {k} of shape "
                            f"{tuple(diff_inputs[k].shape)}")
                    result[k][j][:, i] = g.detach().double().numpy().ravel()
    return result


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """Checks the gradients of ``func`` at ``inputs`` against finite differences.

    Args:
        func: a function of the inputs returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or tuple of inputs; those with ``requires_grad=True`` are checked.
        eps, atol, rtol: perturbation and tolerances, as in torch.
        raise_exception: raise ``GradcheckError`` on mismatch (default) instead of returning False.

    Returns:
        True if every Jacobian entry matches.
    """
    inputs = _as_tuple(inputs)
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not diff_inputs:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for x in diff_inputs:
        if x.dtype not in (_C.float64,):
            import warnings
            warnings.warn(f"Input #{inputs.index(x)} requires gradient and is not a double "
                          "precision floating point. This check will likely fail if all the "
                          "inputs are not of double precision floating point.", stacklevel=2)
    outputs = _outputs(func, inputs)
    analytical = _analytical(outputs, diff_inputs)
    for k, x in enumerate(diff_inputs):
        numerical = _numerical(func, inputs, x, eps)
        for j in range(len(outputs)):
            a, n = analytical[k][j], numerical[j]
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {j} with respect to input {k},\n"
                    f"numerical:{n}\nanalytical:{a}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Checks second derivatives: ``gradcheck`` of the function that maps
    ``(inputs, grad_outputs)`` to the gradients of ``func`` (built with ``create_graph=True``).
    """
    from . import grad as autograd_grad

    inputs = _as_tuple(inputs)
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            _C.tensor(rng.standard_normal(o.shape), dtype=o.dtype, requires_grad=True)
            for o in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*args):
        xs, gos = args[:n], args[n:]
        outs = [o for o in _outputs(func, xs) if o.requires_grad]
        grads = autograd_grad(outs, [xs[i] for i in diff_idx], gos[:len(outs)],
                              create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
