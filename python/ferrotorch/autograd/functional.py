"""Higher-level differentiation helpers: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``,
``vhp``, with torch's signatures, return structures and error messages.

Everything is built on reverse mode (``autograd.grad``): a Jacobian is assembled one output
element at a time; forward-mode products (``jvp``, ``hvp``) use the "double backward trick":
the vector-Jacobian product ``u -> u^T J`` is linear in ``u``, so differentiating it with
respect to ``u`` in the direction ``v`` gives ``J v``. That needs the function to be twice
differentiable, which every op with a backward rule is (rules are written with recorded ops).
"""

from .. import _C
from .._C import Tensor
from .grad_mode import enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# Utilities shared by the functions below (they follow torch's own helpers of the same names).

def _as_tuple_nocheck(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _as_tuple(inp, arg_name=None, fn_name=None):
    """``(was_tuple, tuple_of_tensors)``; checks every element is a Tensor."""
    if arg_name is None and fn_name is None:
        return _as_tuple_nocheck(inp)
    is_inp_tuple = True
    if not isinstance(inp, tuple):
        inp = (inp,)
        is_inp_tuple = False
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            if is_inp_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                                f"tuple of Tensors but the value at index {i} has type "
                                f"{type(el)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the given {arg_name} has type {type(el)}.")
    return is_inp_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Undoes ``_as_tuple``: unpacks one level (or two, for Jacobians and Hessians) where the
    user gave a single Tensor instead of a tuple."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """Inputs the function will be differentiated with respect to: fresh leaves, or (with
    ``create_graph``) views that keep the user's graph so the result stays differentiable."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    if isinstance(inputs[0], Tensor):
        if not create_graph:
            return tuple(inp.detach() for inp in inputs)
        return inputs
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but "
                               f"got {el_v.size()}.")


def _check_requires_grad(inputs, input_type, strict):
    if not strict:
        return
    if input_type not in ("outputs", "grad_inputs", "jacobian", "hessian"):
        raise RuntimeError("Invalid input_type to _check_requires_grad")
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not inp.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(
                    f"The hessian of the user-provided function with respect to input {i} is "
                    "independent of the input. This is not allowed in strict mode. You should "
                    "ensure that your function is thrice differentiable and that the hessian "
                    "depends on the inputs.")
            if input_type == "jacobian":
                raise RuntimeError(
                    "While computing the hessian, found that the jacobian of the user-provided "
                    f"function with respect to input {i} is independent of the input. This is "
                    "not allowed in strict mode. You should ensure that your function is twice "
                    "differentiable and that the jacobian depends on the inputs (this would be "
                    "violated by a linear function for example).")
            if input_type == "grad_inputs":
                raise RuntimeError(
                    f"The gradient with respect to input {i} is independent of the inputs of the "
                    "user-provided function. This is not allowed in strict mode.")
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when "
                "running in strict mode.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` over the outputs that require grad; all None when none does."""
    from . import grad

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    new_outputs, new_grad_outputs = [], []
    for out, grad_out in zip(outputs, grad_outputs):
        if out is not None and out.requires_grad:
            new_outputs.append(out)
            new_grad_outputs.append(grad_out)
    if not new_outputs:
        return (None,) * len(inputs)
    return grad(new_outputs, inputs, new_grad_outputs, allow_unused=True,
                create_graph=create_graph, retain_graph=retain_graph)


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros in place of the None gradients of unused inputs (an error in strict mode)."""
    if stage not in ("back", "back_trick", "double_back", "double_back_trick"):
        raise RuntimeError(f"Invalid stage argument '{stage}' to _fill_in_zeros")
    res = []
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                if stage == "back":
                    raise RuntimeError(f"The output of the user-provided function is independent "
                                       f"of input {i}. This is not allowed in strict mode.")
                if stage == "back_trick":
                    raise RuntimeError(
                        f"The gradient with respect to the input is independent of entry {i} in "
                        "the grad_outputs when using the double backward trick to compute "
                        "forward mode gradients. This is not allowed in strict mode.")
                if stage == "double_back":
                    raise RuntimeError(f"The jacobian of the user-provided function is "
                                       f"independent of input {i}. This is not allowed in strict "
                                       "mode.")
                raise RuntimeError(
                    f"The hessian of the user-provided function is independent of entry {i} in "
                    "the grad_jacobian. This is not allowed in strict mode as it prevents from "
                    "using the double backward trick to replace forward mode AD.")
            grads_i = _C.zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            if "double" not in stage:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            raise RuntimeError(f"The hessian of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(grads_i)
    return tuple(res)


def _prepare_v(v, against, is_against_tuple, create_graph, fn_name, what):
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, against, is_against_tuple)
        return v
    if len(against) != 1 or against[0].nelement() != 1:
        raise RuntimeError(f"The vector v can only be None if the {what} a single Tensor with a "
                           "single element.")
    return None


# Public API.

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    r"""The dot product of a vector ``v`` with the Jacobian of ``func`` at ``inputs``.

    Args:
        func (function): a Python function taking Tensor inputs and returning a Tensor or a
            tuple of Tensors.
        inputs (tuple of Tensors or Tensor): inputs to ``func``.
        v (tuple of Tensors or Tensor): the vector, shaped like the outputs. May be None when
            ``func`` returns a single one-element Tensor.
        create_graph (bool): make the result differentiable (with respect to the inputs).
        strict (bool): raise when an output does not depend on an input instead of returning
            zeros.

    Returns:
        (func_output, vjp): the outputs of ``func(inputs)`` and ``v^T J``, shaped like the
        inputs (a Tensor where ``inputs`` was a Tensor, a tuple where it was a tuple).

    Example::

        >>> def exp_reducer(x):
        ...     return x.exp().sum(dim=1)
        >>> inputs = torch.rand(4, 4)
        >>> v = torch.ones(4)
        >>> out, g = torch.autograd.functional.vjp(exp_reducer, inputs, v)
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, create_graph, "vjp",
                       "user-provided function returns")
    enabled = True if create_graph else _C.is_grad_enabled()
    with set_grad_enabled(enabled):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    r"""The product of the Jacobian of ``func`` at ``inputs`` with a vector ``v``.

    Computed with the double backward trick (see the module docstring), so ``func`` must be
    twice differentiable.

    Args:
        func (function): a Python function taking Tensor inputs and returning a Tensor or a
            tuple of Tensors.
        inputs (tuple of Tensors or Tensor): inputs to ``func``.
        v (tuple of Tensors or Tensor): the vector, shaped like the inputs. May be None when
            the input is a single one-element Tensor.
        create_graph (bool): make the result differentiable.
        strict (bool): raise when an output does not depend on an input instead of returning
            zeros.

    Returns:
        (func_output, jvp): the outputs of ``func(inputs)`` and ``J v``, shaped like the outputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "jvp",
                       "input to the user-provided function is")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        # The backward pass is linear in grad_outputs, so their value does not matter (it never
        # reaches the double backward graph); zeros cannot bring in inf or NaN.
        grad_outputs = tuple(_C.zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_outputs_tuple))


def _one_hot(ref, j):
    """A tensor like ``ref`` with 1 at flat position ``j`` and 0 elsewhere."""
    e = _C.zeros(ref.numel(), dtype=ref.dtype, device=ref.device)
    e[j] = 1
    return e.view(ref.shape)


def _assemble(rows, out_shape, in_shape, create_graph):
    """Stacks per-output-element gradients (each shaped like the input) into a Jacobian block
    of shape ``out_shape + in_shape``."""
    shape = tuple(out_shape) + tuple(in_shape)
    if len(rows) == 1:
        r = rows[0]
        # One output element: no stack (one op fewer to differentiate through for Hessians).
        return r if tuple(r.shape) == shape else r.reshape(shape)
    if not rows:
        return _C.zeros(shape, dtype=_C.float32)
    return _C.stack(rows, dim=0).view(shape)


def _jacobian_columns(func, inputs, create_graph, strict):
    """Forward-mode style Jacobian: one ``jvp`` per input element (a column block each)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        outputs = func(*[i.detach() for i in inputs])
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          "jacobian")
    cols = [[[] for _ in inputs] for _ in outputs]  # cols[i][k]: d(out i)/d(in k), per element
    for k, inp in enumerate(inputs):
        for j in range(inp.numel()):
            v = tuple(_one_hot(x, j) if m == k else _C.zeros_like(x)
                      for m, x in enumerate(inputs))
            _, jv = jvp(func, inputs, v, create_graph=create_graph, strict=strict)
            jv = _as_tuple_nocheck(jv)
            for i in range(len(outputs)):
                cols[i][k].append(jv[i])
    jac = []
    for i, out in enumerate(outputs):
        blocks = []
        for k, inp in enumerate(inputs):
            c = cols[i][k]
            if not c:
                blocks.append(_C.zeros(tuple(out.shape) + tuple(inp.shape), dtype=out.dtype))
                continue
            # Columns are stacked last: (out..., n_in) then reshaped to out + in.
            st = _C.stack(c, dim=-1) if len(c) > 1 else c[0].unsqueeze(-1)
            blocks.append(st.reshape(tuple(out.shape) + tuple(inp.shape)))
        jac.append(tuple(blocks))
    return _tuple_postprocess(tuple(jac), (is_outputs_tuple, is_inputs_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    r"""The Jacobian of ``func`` at ``inputs``.

    Args:
        func (function): a Python function taking Tensor inputs and returning a Tensor or a
            tuple of Tensors.
        inputs (tuple of Tensors or Tensor): inputs to ``func``.
        create_graph (bool): make the Jacobian differentiable.
        strict (bool): raise when an output does not depend on an input instead of returning
            zeros.
        vectorize (bool): accepted for compatibility; ferrotorch computes the rows one backward
            pass each either way (the results are the same).
        strategy (str): ``"reverse-mode"`` (one backward pass per output element) or
            ``"forward-mode"`` (one double-backward ``jvp`` per input element; needs
            ``vectorize=True``, as in torch).

    Returns:
        Jacobian (Tensor, or nested tuple of Tensors): for a single input and output, a Tensor
        of shape ``output.shape + input.shape``; with tuples, ``Jacobian[i][j]`` is the block of
        output ``i`` with respect to input ``j``.

    Example::

        >>> def exp_reducer(x):
        ...     return x.exp().sum(dim=1)
        >>> torch.autograd.functional.jacobian(exp_reducer, torch.rand(2, 2)).shape
        torch.Size([2, 2, 2])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                      "Hessian is only implemented for `vectorize=True`.")
        return _jacobian_columns(func, inputs, create_graph, strict)

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                               "`vectorized=True` are not supported together. Please either set "
                               "`strict=False` or `vectorize=False`.")
        jac = []
        for i, out in enumerate(outputs):
            rows = tuple([] for _ in inputs)
            for j in range(out.nelement()):
                # Row j: the gradient of output element j, taken with a one-hot grad_output
                # (the same as torch's out.reshape(-1)[j], without the indexing ops).
                vj = _autograd_grad((out,), inputs, (_one_hot(out, j),), retain_graph=True,
                                    create_graph=create_graph)
                for el_idx, (rows_el, vj_el, inp_el) in enumerate(zip(rows, vj, inputs)):
                    if vj_el is not None:
                        if strict and create_graph and not vj_el.requires_grad:
                            raise RuntimeError(
                                "The jacobian of the user-provided function is independent of "
                                f"input {i}. This is not allowed in strict mode when "
                                "create_graph=True.")
                        rows_el.append(vj_el)
                    else:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {el_idx}. This is not allowed in strict mode.")
                        rows_el.append(_C.zeros_like(inp_el))
            jac.append(tuple(
                _assemble(rows_el, out.shape, inputs[el_idx].shape, create_graph)
                if rows_el else _C.zeros(tuple(out.shape) + tuple(inputs[el_idx].shape),
                                         dtype=inputs[el_idx].dtype)
                for el_idx, rows_el in enumerate(rows)))
        jac = _grad_postprocess(tuple(jac), create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    r"""The Hessian of a scalar function ``func`` at ``inputs``.

    Args:
        func (function): a Python function taking Tensor inputs and returning a Tensor with a
            single element.
        inputs (tuple of Tensors or Tensor): inputs to ``func``.
        create_graph (bool): make the Hessian differentiable.
        strict (bool): raise when some part of the Hessian is independent of the inputs instead
            of returning zeros.
        vectorize (bool): accepted for compatibility (see ``jacobian``).
        outer_jacobian_strategy (str): strategy of the outer ``jacobian`` (see ``jacobian``).

    Returns:
        Hessian (Tensor or tuple of tuples of Tensors): for a single input, a Tensor of shape
        ``input.shape + input.shape``; with a tuple of inputs, ``Hessian[i][j]`` is the block of
        inputs ``i`` and ``j``.

    Example::

        >>> def pow_reducer(x):
        ...     return x.pow(3).sum()
        >>> torch.autograd.functional.hessian(pow_reducer, torch.rand(2, 2)).shape
        torch.Size([2, 2, 2, 2])
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze() if out.dim() else out

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function_check(outputs, is_outputs_tuple, fn_name):
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    r"""The product of a vector ``v`` with the Hessian of the scalar function ``func``.

    Args:
        func (function): a Python function taking Tensor inputs and returning a one-element
            Tensor.
        inputs (tuple of Tensors or Tensor): inputs to ``func``.
        v (tuple of Tensors or Tensor): the vector, shaped like the inputs. May be None when the
            input is a single one-element Tensor.
        create_graph (bool): make the result differentiable.
        strict (bool): raise when the Hessian is independent of an input instead of returning
            zeros.

    Returns:
        (func_output, vhp): ``func(inputs)`` and ``v^T H``, shaped like the inputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "vhp",
                       "input to the user-provided function is")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "vhp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        _scalar_function_check(outputs, is_outputs_tuple, "vhp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    r"""The product of the Hessian of the scalar function ``func`` with a vector ``v``.

    Uses the double backward trick on top of a double backward (so ``func`` must be thrice
    differentiable). For twice-differentiable functions the Hessian is symmetric and ``vhp``
    gives the same result more cheaply.

    Args:
        func (function): a Python function taking Tensor inputs and returning a one-element
            Tensor.
        inputs (tuple of Tensors or Tensor): inputs to ``func``.
        v (tuple of Tensors or Tensor): the vector, shaped like the inputs. May be None when the
            input is a single one-element Tensor.
        create_graph (bool): make the result differentiable.
        strict (bool): raise when the Hessian is independent of an input instead of returning
            zeros.

    Returns:
        (func_output, hvp): ``func(inputs)`` and ``H v``, shaped like the inputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "hvp",
                       "input to the user-provided function is")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "hvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        _scalar_function_check(outputs, is_outputs_tuple, "hvp")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_jac = tuple(_C.zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))
