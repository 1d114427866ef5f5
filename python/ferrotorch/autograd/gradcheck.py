"""``gradcheck`` and ``gradgradcheck``: backward rules against central finite differences.

The analytical Jacobian is built row by row with ``autograd.grad`` (one backward per output
element); the numerical one by perturbing each input element by ``eps`` in place. In fast mode
both are projected on random vectors instead (``v^T J u``: one backward per output and two
evaluations per input). Use float64 inputs: float32 finite differences are too coarse for the
default tolerances.
"""

import itertools
import warnings

import numpy as np

from .. import _C
from .._C import Tensor
from .grad_mode import no_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` and ``gradgradcheck`` when the gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _float_outputs(out):
    """Outputs whose Jacobian is checked: the floating-point tensors."""
    return [o for o in _as_tuple(out) if isinstance(o, Tensor) and o.is_floating_point()]


def _to_np(t):
    return np.array(t.detach().double().cpu().numpy(), dtype=np.float64).ravel()


def _check_inputs(inputs):
    diff = [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i, x in diff:
        if x.dtype != _C.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of double "
                          "precision floating point. ", stacklevel=3)
        if any(st == 0 and n > 1 for st, n in zip(x.stride(), x.shape)):
            raise RuntimeError(
                f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs "
                "that are non-overlapping to be able to compute the numerical gradients "
                "correctly. You should call .contiguous on the input before passing it to "
                "gradcheck.")
    return [x for _, x in diff]


def _evaluate(func, inputs):
    # Grad mode stays as it is (as in torch): gradgradcheck's function calls autograd.grad.
    return [_to_np(o) for o in _float_outputs(func(*inputs))]


def _numerical(func, inputs, x, eps):
    """d(outputs)/d(x) by central differences: one (numel(x), numel(out)) array per output."""
    data = x.detach()
    rows = []
    for idx in itertools.product(*[range(n) for n in x.shape]):
        orig = data[idx].item()
        with no_grad():
            data[idx] = orig + eps
        plus = _evaluate(func, inputs)
        with no_grad():
            data[idx] = orig - eps
        minus = _evaluate(func, inputs)
        with no_grad():
            data[idx] = orig
        rows.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = [o.size for o in _evaluate(func, inputs)]
    return [np.array([r[j] for r in rows]).reshape(x.numel(), n_out[j])
            for j in range(len(n_out))]


def _one_hot_like(out, i):
    flat = np.zeros(out.numel())
    flat[i] = 1
    return _C.tensor(flat.reshape(tuple(out.shape)), dtype=out.dtype, device=out.device)


def _grads(out, diff_inputs, grad_output):
    from . import grad as autograd_grad

    grads = autograd_grad(out, diff_inputs, grad_output, retain_graph=True, allow_unused=True)
    for k, g in enumerate(grads):
        if g is not None and tuple(g.shape) != tuple(diff_inputs[k].shape):
            raise GradcheckError(f"Gradient has incorrect shape {tuple(g.shape)} for input {k} of "
                                 f"shape {tuple(diff_inputs[k].shape)}")
    return grads


def _analytical(outputs, diff_inputs, check_grad_dtypes):
    """One (numel(x), numel(out)) array per (input, output), from backward passes."""
    result = [[np.zeros((x.numel(), o.numel())) for o in outputs] for x in diff_inputs]
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for i in range(out.numel()):
            grads = _grads(out, diff_inputs, _one_hot_like(out, i))
            for k, g in enumerate(grads):
                if g is None:
                    continue
                if check_grad_dtypes and g.dtype != diff_inputs[k].dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
                result[k][j][:, i] = _to_np(g)
    return result


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _slow_check(func, inputs, outputs, diff_inputs, eps, atol, rtol, nondet_tol,
                check_grad_dtypes, raise_exception):
    # Both backward passes run before any perturbation: perturbing an input bumps its version
    # counter, which the graph's saved tensors would then refuse.
    analytical = _analytical(outputs, diff_inputs, check_grad_dtypes)
    again = _analytical(outputs, diff_inputs, check_grad_dtypes)
    for k, x in enumerate(diff_inputs):
        numerical = _numerical(func, inputs, x, eps)
        for j in range(len(outputs)):
            a, n = analytical[k][j], numerical[j]
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                return _fail(f"Jacobian mismatch for output {j} with respect to input {k},\n"
                             f"numerical:{n}\nanalytical:{a}\n", raise_exception)
    for k in range(len(diff_inputs)):
        for j in range(len(outputs)):
            if not np.allclose(analytical[k][j], again[k][j], rtol=0, atol=nondet_tol,
                               equal_nan=True):
                return _fail("Backward is not reentrant, i.e., running backward with same input "
                             "and grad_output multiple times gives different values, although "
                             "analytical gradient matches numerical gradient.The tolerance for "
                             f"nondeterminism was {nondet_tol}.", raise_exception)
    return True


def _fast_check(func, inputs, outputs, diff_inputs, eps, atol, rtol, nondet_tol,
                check_grad_dtypes, raise_exception):
    """Compares ``v_j^T J_jk u_k`` for random unit vectors ``u`` (per input), ``v`` (per output)."""
    rng = np.random.default_rng(0)

    def unit(n):
        w = rng.standard_normal(n)
        return w / max(np.linalg.norm(w), 1e-300)

    us = [unit(x.numel()) for x in diff_inputs]
    vs = [unit(o.numel()) for o in outputs]
    analytical = np.zeros((len(diff_inputs), len(outputs)))
    again = np.zeros_like(analytical)
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        go = _C.tensor(vs[j].reshape(tuple(out.shape)), dtype=out.dtype, device=out.device)
        for target in (analytical, again):
            for k, g in enumerate(_grads(out, diff_inputs, go)):
                if g is None:
                    continue
                if check_grad_dtypes and g.dtype != diff_inputs[k].dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
                target[k, j] = _to_np(g) @ us[k]
    for k, x in enumerate(diff_inputs):
        data = x.detach()
        with no_grad():
            orig = data.clone()
            u = _C.tensor(us[k].reshape(tuple(x.shape)), dtype=x.dtype, device=x.device)
            data.copy_(orig + u * eps)
        plus = _evaluate(func, inputs)
        with no_grad():
            data.copy_(orig - u * eps)
        minus = _evaluate(func, inputs)
        with no_grad():
            data.copy_(orig)
        for j in range(len(outputs)):
            n = float(vs[j] @ ((plus[j] - minus[j]) / (2 * eps)))
            a = analytical[k, j]
            # torch scales atol by the projections' sums (u and v have unit norm).
            tol = atol * abs(us[k].sum()) * abs(vs[j].sum())
            if not np.isclose(a, n, rtol=rtol, atol=tol, equal_nan=True):
                return _fail(f"Jacobian mismatch for output {j} with respect to input {k},\n"
                             f"numerical:{n}\nanalytical:{a}\n\nThe above quantities relating the "
                             "numerical and analytical jacobians are computed in fast mode (a "
                             "projection v^T J u on random unit vectors). Rerun with "
                             "fast_mode=False for the full Jacobians.", raise_exception)
    if not np.allclose(analytical, again, rtol=0, atol=nondet_tol, equal_nan=True):
        return _fail("Backward is not reentrant, i.e., running backward with same input and "
                     "grad_output multiple times gives different values, although analytical "
                     "gradient matches numerical gradient.The tolerance for nondeterminism was "
                     f"{nondet_tol}.", raise_exception)
    return True


def _mul_by_grad_output_error(outputs, diff_inputs):
    """torch's last check: with zero grad_outputs every gradient must be zero (a backward that
    adds something not multiplied by grad_output passes a loose Jacobian check otherwise)."""
    from . import grad as autograd_grad

    outs = [o for o in outputs if o.requires_grad]
    if not outs:
        return None
    zeros = [_C.zeros_like(o) for o in outs]
    grads = autograd_grad(outs, diff_inputs, zeros, retain_graph=True, allow_unused=True)
    for g, x in zip(grads, diff_inputs):
        if g is None:
            continue
        if tuple(g.shape) != tuple(x.shape):
            return "grad is incorrect size"
        if g.dtype != x.dtype:
            return "grad is incorrect type"
        if g.device != x.device:
            return "grad is incorrect device"
        if np.any(_to_np(g) != 0):
            return "backward not multiplied by grad_output"
    return None


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    r"""Checks the gradients of ``func`` at ``inputs`` against central finite differences.

    Args:
        func (function): a function of the inputs returning a Tensor or a tuple of Tensors.
        inputs (tuple of Tensors or Tensor): inputs to ``func``; those with
            ``requires_grad=True`` are checked (use float64 and contiguous or plain strided
            tensors; inputs with zero strides are refused, as in torch).
        eps (float): perturbation for finite differences.
        atol (float): absolute tolerance.
        rtol (float): relative tolerance.
        raise_exception (bool): raise ``GradcheckError`` on mismatch (default) instead of
            returning False.
        nondet_tol (float): how far two backward passes on the same input may differ.
        check_grad_dtypes (bool): require gradients to have their input's dtype.
        fast_mode (bool): compare random projections ``v^T J u`` instead of full Jacobians.
        check_undefined_grad (bool): accepted; ferrotorch's engine hands rules zeros for missing
            gradients (or None to Functions that ask for it), so there is nothing extra to check.
        check_batched_grad, check_batched_forward_grad (bool): accepted; ferrotorch has no
            batched (vmap) gradients, so there is no batched path to check.
        check_forward_ad (bool): not supported (no forward-mode AD yet); True raises
            ``NotImplementedError``.
        check_backward_ad (bool): check reverse-mode gradients (the only kind there is).

    Returns:
        True if every Jacobian entry matches.
    """
    if check_forward_ad:
        raise NotImplementedError("gradcheck: check_forward_ad=True is not supported yet "
                                  "(ferrotorch has no forward-mode AD)")
    inputs = _as_tuple(inputs)
    diff_inputs = _check_inputs(inputs)
    if not check_backward_ad:
        return True
    outputs = _float_outputs(func(*inputs))
    # Every backward pass runs before the numerical Jacobian perturbs the inputs (which bumps
    # their version counters); this one's verdict is reported after the Jacobians', as in torch.
    mul_error = _mul_by_grad_output_error(outputs, diff_inputs)
    check = _fast_check if fast_mode else _slow_check
    if not check(func, inputs, outputs, diff_inputs, eps, atol, rtol, nondet_tol,
                 check_grad_dtypes, raise_exception):
        return False
    if mul_error is not None:
        return _fail(mul_error, raise_exception)
    return True


def _random_grad_output(rng, o, non_contiguous):
    values = rng.uniform(-1.0, 1.0, tuple(o.shape))
    if non_contiguous and o.numel() > 0:
        # Every other element of a tensor twice as long in the last dimension.
        wide = np.zeros(tuple(o.shape[:-1]) + (2 * o.shape[-1],) if o.dim() else (2,))
        if o.dim():
            wide[..., ::2] = values
        else:
            wide[0] = values
        t = _C.tensor(wide, dtype=o.dtype, device=o.device)
        t = t[..., ::2] if o.dim() else t[0]
        return t.requires_grad_(True)
    return _C.tensor(values, dtype=o.dtype, device=o.device, requires_grad=True)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    r"""Checks second derivatives: ``gradcheck`` of the function that maps
    ``(inputs, grad_outputs)`` to the gradients of ``func`` (built with ``create_graph=True``).

    Args:
        func, inputs, eps, atol, rtol, raise_exception, nondet_tol, fast_mode: as ``gradcheck``.
        grad_outputs (tuple of Tensors or Tensor): gradients of the outputs; random ones (in
            [-1, 1], requiring grad) by default.
        gen_non_contig_grad_outputs (bool): make the random ``grad_outputs`` non-contiguous.

    Returns:
        True if every second-order Jacobian entry matches.
    """
    if check_fwd_over_rev:
        raise NotImplementedError("gradgradcheck: check_fwd_over_rev=True is not supported yet "
                                  "(ferrotorch has no forward-mode AD)")
    from . import grad as autograd_grad

    inputs = _as_tuple(inputs)
    outputs = [o for o in _float_outputs(func(*inputs)) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_random_grad_output(rng, o, gen_non_contig_grad_outputs)
                             for o in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    num_outputs = len(grad_outputs)
    n = len(inputs)

    def new_func(*args):
        input_args = args[:n]
        outs = [o for o in _float_outputs(func(*input_args)) if o.requires_grad]
        diff_input_args = [x for x in input_args if isinstance(x, Tensor) and x.requires_grad]
        grads = autograd_grad(outs, diff_input_args, list(args[n:n + num_outputs]),
                              create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    if not check_rev_over_rev:
        return True
    return gradcheck(new_func, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, fast_mode=fast_mode)
