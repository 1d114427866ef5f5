"""Custom ``autograd.Function``s: ctx (saved tensors, needs_input_grad, non-differentiable
outputs, materialize_grads, dirty inputs), setup_context, once_differentiable, error messages,
and two worked examples trained to a known answer (a ReLU and torch's LegendrePolynomial3)."""

import math

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import autograd
from ferrotorch.autograd import Function
from ferrotorch.autograd.function import once_differentiable
from helpers import to_np


def leaf(values, device, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype, device=device, requires_grad=True)


def ones_like(t):
    return torch.ones(tuple(t.shape), dtype=t.dtype, device=t.device)


def double_tensor_name(device):
    """torch's legacy type name of a float64 tensor on `device`, as a regex."""
    return r"torch\.cuda\.DoubleTensor" if device == "cuda" else r"torch\.DoubleTensor"


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Cube(Function):
    """x**3, saving its input."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


def test_forward_backward_and_node(device):
    x = leaf([0.0, 1.0, -2.0], device)
    y = Exp.apply(x)
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "ExpBackward"
    ((acc, nr),) = y.grad_fn.next_functions
    assert acc.name().endswith("AccumulateGrad") and nr == 0
    y.backward(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, device=device))
    assert y.device.type == device and x.grad.device.type == device
    assert np.allclose(to_np(x.grad), np.exp([0.0, 1.0, -2.0]) * [1.0, 2.0, 3.0])


def test_chained_functions_and_builtin_ops(device):
    x = leaf([0.5, -1.5], device)
    y = Cube.apply(Exp.apply(x) * 2) + x
    y.backward(ones_like(y))
    e = np.exp([0.5, -1.5])
    # d/dx (2 e^x)^3 + x = 3 (2e^x)^2 * 2 e^x + 1 = 24 e^{3x} + 1
    assert np.allclose(to_np(x.grad), 24 * e ** 3 + 1)


def test_forward_runs_without_grad_and_no_graph_under_no_grad(device):
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(torch.is_grad_enabled())
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = leaf([1.0], device)
    y = Probe.apply(x)
    assert seen == [False] and y.requires_grad
    with torch.no_grad():
        z = Probe.apply(x)
    assert not z.requires_grad and z.grad_fn is None and z.item() == 2.0
    # No input requires grad: no node either.
    w = Probe.apply(torch.tensor([1.0], device=device))
    assert w.grad_fn is None and not w.requires_grad


def test_saved_tensors_round_trip_and_none(device):
    got = {}

    class Save(Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, None, w)
            return x * w

        @staticmethod
        def backward(ctx, g):
            x, nothing, w = ctx.saved_tensors
            got["saved"] = (x, nothing, w)
            return g * w, g * x

    x, w = leaf([1.0, 2.0], device), leaf([3.0, 4.0], device)
    Save.apply(x, w).backward(ones_like(x))
    sx, nothing, sw = got["saved"]
    assert nothing is None
    assert np.array_equal(to_np(sx), [1.0, 2.0])
    assert np.array_equal(to_np(sw), [3.0, 4.0])
    assert np.array_equal(to_np(x.grad), [3.0, 4.0])
    assert np.array_equal(to_np(w.grad), [1.0, 2.0])


def test_save_for_backward_only_takes_tensors(device):
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="save_for_backward can only save variables, but "
                                        "argument 1 is of type int"):
        Bad.apply(leaf([1.0], device))


def test_saved_tensors_are_freed_after_backward(device):
    ctxs = []

    class Keep(Exp):
        @staticmethod
        def forward(ctx, x):
            ctxs.append(ctx)
            return Exp.forward(ctx, x)

    x = leaf([1.0], device)
    y = Keep.apply(x)
    assert len(ctxs[0].saved_tensors) == 1  # readable before backward
    y.backward(retain_graph=True)
    y.backward()  # retained: a second pass works and accumulates
    assert np.allclose(to_np(x.grad), [2 * math.e])
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()
    with pytest.raises(RuntimeError, match="directly access saved tensors after they have "
                                           "already been freed"):
        ctxs[0].saved_tensors


def test_function_saving_nothing_can_run_backward_twice(device):
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = leaf([1.0], device)
    y = Double.apply(x)
    y.backward()
    y.backward()
    assert x.grad.item() == 4.0


def test_inplace_change_of_saved_input_is_detected(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = Cube.apply(x)
    with torch.no_grad():
        x.add_(1.0)
    stale = (r"modified by an inplace operation: \[" + double_tensor_name(device)
             + r" \[3\]\] is at version 1; expected version 0 instead")
    with pytest.raises(RuntimeError, match=stale):
        y.backward(ones_like(y))


def test_inplace_change_of_saved_non_leaf_names_its_node(device):
    x = leaf([1.0, 2.0], device)
    h = x * 2
    y = Cube.apply(h)
    h.add_(1.0)
    # As torch, the message names the tensor's current node (the in-place add).
    stale = (r"\[" + double_tensor_name(device)
             + r" \[2\]\], which is output 0 of AddBackward0, is at version 1; expected version 0")
    with pytest.raises(RuntimeError, match=stale):
        y.backward(ones_like(y))


def test_inplace_change_of_saved_output_is_detected(device):
    x = leaf([0.0, 1.0], device)
    y = Exp.apply(x)
    y.mul_(2)  # recorded on top of ExpBackward; Exp's saved output is now stale
    with pytest.raises(RuntimeError, match=r"which is output 0 of ExpBackward, is at version 1; "
                                           r"expected version 0"):
        y.backward(ones_like(y))


def test_needs_input_grad(device):
    seen = []

    class F(Function):
        @staticmethod
        def forward(ctx, x, w, k):
            seen.append(ctx.needs_input_grad)
            return x * w * k

        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            gx = g * 2 if ctx.needs_input_grad[0] else None
            gw = g * 3 if ctx.needs_input_grad[1] else None
            return gx, gw, None

    x = leaf([1.0], device)
    w = torch.tensor([1.0], dtype=torch.float64, device=device)
    F.apply(x, w, 5).backward()
    assert seen == [(True, False, False), (True, False, False)]
    assert x.grad.item() == 2.0
    # As in torch, needs_input_grad follows requires_grad alone, whatever the grad mode.
    with torch.no_grad():
        F.apply(x, w, 5)
    assert seen[-1] == (True, False, False)


def test_mark_non_differentiable_and_integer_outputs(device):
    got = {}

    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            doubled = x * 2
            flag = x * 0  # float, but marked non-differentiable
            idx = torch.tensor([1, 0], device=x.device)
            ctx.mark_non_differentiable(flag)
            return doubled, flag, idx

        @staticmethod
        def backward(ctx, g_doubled, g_flag, g_idx):
            got["grads"] = (g_doubled, g_flag, g_idx)
            return g_doubled * 2

    x = leaf([1.0, 2.0], device)
    doubled, flag, idx = SortLike.apply(x)
    assert doubled.requires_grad
    assert not flag.requires_grad and flag.grad_fn is None
    assert not idx.requires_grad and idx.grad_fn is None and idx.dtype == torch.int64
    doubled.backward(ones_like(doubled))
    assert np.array_equal(to_np(x.grad), [2.0, 2.0])
    g_doubled, g_flag, g_idx = got["grads"]
    # Gradients of non-differentiable outputs are materialised as zeros, as in torch.
    assert np.array_equal(to_np(g_flag), [0.0, 0.0])
    assert np.array_equal(to_np(g_idx), [0, 0])


def test_materialize_grads_default_and_off(device):
    got = []

    def make(materialize):
        class Two(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                got.append((g1, g2))
                out = g1 * 2
                if g2 is not None:
                    out = out + g2 * 3
                return out

        return Two

    x = leaf([1.0, 2.0], device)
    a, _ = make(True).apply(x)
    a.backward(ones_like(a))
    g1, g2 = got[-1]
    assert np.array_equal(to_np(g2), [0.0, 0.0]) and tuple(g2.shape) == (2,)
    x.grad = None
    a, _ = make(False).apply(x)
    a.backward(ones_like(a))
    g1, g2 = got[-1]
    assert g2 is None and np.array_equal(to_np(g1), [1.0, 1.0])
    assert np.array_equal(to_np(x.grad), [2.0, 2.0])


def test_once_differentiable_runs_without_grad_and_refuses_double_backward(device):
    modes = []

    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            modes.append(torch.is_grad_enabled())
            (x,) = ctx.saved_tensors
            return g * 2 * x

    x = leaf([3.0], device)
    Sq.apply(x).backward()
    assert x.grad.item() == 6.0 and modes == [False]
    # The gradient flowing into Sq depends on x, so with create_graph the result is marked:
    # differentiating it again raises.
    y = Sq.apply(x) * x
    (gx,) = autograd.grad(y, x, create_graph=True)
    assert modes[-1] is False
    assert gx.requires_grad
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was "
                                           "marked with @once_differentiable"):
        gx.backward()
    # autograd.grad raises too. (torch connects its error node only to fresh leaves, so there
    # autograd.grad skips it and silently returns the derivative without Sq's part.)
    (gx,) = autograd.grad(Sq.apply(x) * x, x, create_graph=True)
    with pytest.raises(RuntimeError, match="trying to differentiate twice"):
        autograd.grad(gx, x)


def test_double_backward_through_function_saving_its_input(device):
    x = leaf([0.5, 2.0], device)
    y = Cube.apply(x)
    (g,) = autograd.grad(y, x, ones_like(y), create_graph=True)
    assert np.allclose(to_np(g), 3 * np.array([0.5, 2.0]) ** 2)
    (gg,) = autograd.grad(g, x, ones_like(g))
    assert np.allclose(to_np(gg), 6 * np.array([0.5, 2.0]))


def test_double_backward_through_function_saving_its_output(device):
    x = leaf([0.5, -1.0], device)
    y = Exp.apply(x)
    (g,) = autograd.grad(y, x, ones_like(y), create_graph=True)
    assert g.requires_grad
    (gg,) = autograd.grad(g, x, ones_like(g))
    assert np.allclose(to_np(gg), np.exp([0.5, -1.0]))


def test_double_backward_when_the_saved_output_itself_was_dropped(device):
    # Only the sum of the output is kept: the saved output must still find its node.
    x = leaf([0.5, -1.0], device)
    (g,) = autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
    assert g.grad_fn is not None
    (gg,) = autograd.grad(g.sum(), x)
    assert np.allclose(to_np(gg), np.exp([0.5, -1.0]))


def test_setup_context_style(device):
    class Scale(Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k = inputs
            ctx.k = k
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert x.shape == g.shape
            return g * ctx.k, None

    x = leaf([1.0, 2.0], device)
    y = Scale.apply(x, 4.0)
    assert y.grad_fn.name() == "ScaleBackward"
    y.backward(ones_like(y))
    assert np.array_equal(to_np(x.grad), [4.0, 4.0])


def test_setup_context_binds_default_arguments(device):
    class Axpy(Function):
        @staticmethod
        def forward(x, y, alpha=2.0):
            return x * alpha + y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.alpha = inputs[2]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.alpha, g, None

    x, y = leaf([1.0], device), leaf([1.0], device)
    out = Axpy.apply(x, y)  # alpha takes its default, and backward returns a gradient for it
    assert out.item() == 3.0
    out.backward()
    assert x.grad.item() == 2.0 and y.grad.item() == 1.0
    Axpy.apply(x, y, 5.0).backward()
    assert x.grad.item() == 7.0
    with pytest.raises(TypeError, match="apply\\(\\) takes no keyword arguments"):
        Axpy.apply(x, y=y)


def test_non_tensor_arguments(device):
    class Affine(Function):
        @staticmethod
        def forward(ctx, x, scale, mode, extra):
            assert mode == "fast" and extra is None
            ctx.scale = scale
            return x * scale

        @staticmethod
        def backward(ctx, g):
            return g * ctx.scale, None, None, None

    x = leaf([1.0], device)
    Affine.apply(x, 2.5, "fast", None).backward()
    assert x.grad.item() == 2.5

    class GradForNumber(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="function GradForNumberBackward returned a gradient "
                                           "different than None at position 2, but the "
                                           "corresponding forward input was not a Variable"):
        GradForNumber.apply(leaf([1.0], device), 3.0).backward()


def test_multiple_outputs_and_non_tensor_output(device):
    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3, "tag"

        @staticmethod
        def backward(ctx, g2, g3, _):
            return g2 * 2 + g3 * 3

    x = leaf([1.0, -1.0], device)
    a, b, tag = Split.apply(x)
    assert tag == "tag"
    assert a.grad_fn == b.grad_fn and a.grad_fn.name() == "SplitBackward"
    assert (a.output_nr, b.output_nr) == (0, 1)
    (a * b).backward(ones_like(a))
    # d/dx (2x * 3x) = 12 x
    assert np.allclose(to_np(x.grad), [12.0, -12.0])


def test_wrong_number_of_gradients(device):
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match=r"function TooManyBackward returned an incorrect "
                                           r"number of gradients \(expected 1, got 2\)"):
        TooMany.apply(leaf([1.0], device)).backward()

    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match=r"function TooFewBackward returned an incorrect "
                                           r"number of gradients \(expected 2, got 1\)"):
        TooFew.apply(leaf([1.0], device), leaf([2.0], device)).backward()

    class TrailingNones(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, None, None  # extra Nones are allowed, as in torch

    x = leaf([1.0], device)
    TrailingNones.apply(x).backward()
    assert x.grad.item() == 1.0


def test_wrong_gradient_shape_and_broadcast_gradient(device):
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return torch.ones(3, dtype=torch.float64, device=g.device)

    y = BadShape.apply(leaf([1.0, 2.0], device))
    with pytest.raises(RuntimeError, match=r"Function BadShapeBackward returned an invalid "
                                           r"gradient at index 0 - got \[3\] but expected shape "
                                           r"compatible with \[2\]"):
        y.backward(ones_like(y))

    class Broadcast(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            # Summed to (2,), cast to float64.
            return torch.ones(4, 2, dtype=torch.float32, device=g.device)

    x = leaf([1.0, 2.0], device)
    Broadcast.apply(x).backward(torch.ones(2, dtype=torch.float64, device=device))
    assert x.grad.dtype == torch.float64 and np.array_equal(to_np(x.grad), [4.0, 4.0])
    assert x.grad.device.type == device


def test_gradient_on_another_device_is_refused(device):
    # A gradient is summed and cast, but never moved to its input's device (as in torch).
    class OnTheCpu(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return torch.ones(2, dtype=torch.float64)

    x = leaf([1.0, 2.0], device)
    if device == "cpu":
        OnTheCpu.apply(x).backward(ones_like(x))
        assert np.array_equal(to_np(x.grad), [1.0, 1.0])
        return
    with pytest.raises(RuntimeError, match=r"Function OnTheCpuBackward returned an invalid "
                                           r"gradient at index 0 - expected device cuda"):
        OnTheCpu.apply(x).backward(ones_like(x))


class BoomError(Exception):
    pass


def test_exception_in_backward_surfaces_unchanged(device):
    class Boom(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise BoomError("raised inside backward")

    x = leaf([1.0], device)
    with pytest.raises(BoomError, match="raised inside backward") as info:
        (Boom.apply(x) * 2).backward()
    assert type(info.value) is BoomError
    assert x.grad is None

    class KeyErr(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return {}["missing"]

    with pytest.raises(KeyError):
        KeyErr.apply(leaf([1.0], device)).backward()


def test_mark_dirty_inplace_function(device):
    class MulTwo_(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = leaf([1.0, 3.0], device)
    h = a * 1
    out = MulTwo_.apply(h)
    assert out is h
    assert h.grad_fn.name() == "MulTwo_Backward"
    assert np.array_equal(to_np(h), [2.0, 6.0])
    (h * h).backward(ones_like(h))
    # h = 2a, loss = sum(h^2): d/da = 2h * 2 = 8a
    assert np.array_equal(to_np(a.grad), [8.0, 24.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in "
                                           "an in-place operation"):
        MulTwo_.apply(leaf([1.0], device))

    class Forgets(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="Some elements marked as dirty during the forward "
                                           "method were not returned as output"):
        Forgets.apply(leaf([1.0], device) * 1)


def test_backward_and_vjp_both_defined_is_refused(device):
    class Both(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

        @staticmethod
        def vjp(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="Implementing both 'backward' and 'vjp'"):
        Both.apply(leaf([1.0], device)).backward()

    class OnlyVjp(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def vjp(ctx, g):
            return g * 7

    x = leaf([1.0], device)
    OnlyVjp.apply(x).backward()
    assert x.grad.item() == 7.0


def test_missing_backward_raises_on_backward(device):
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

    y = NoBackward.apply(leaf([1.0], device))
    with pytest.raises(NotImplementedError, match="You must implement either the backward or "
                                                  "vjp method"):
        y.backward()


def test_legacy_instance_call_is_refused(device):
    with pytest.warns(DeprecationWarning):
        f = Exp()
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward"):
        f(leaf([1.0], device))


def test_hooks_see_function_gradients(device):
    x = leaf([1.0, 2.0], device)
    y = Cube.apply(x)
    seen = []
    y.register_hook(lambda g: seen.append(to_np(g)))
    y.backward(torch.tensor([1.0, 10.0], dtype=torch.float64, device=device))
    assert np.array_equal(seen[0], [1.0, 10.0])
    assert np.array_equal(to_np(x.grad), [3.0, 120.0])


# Worked examples: train a small model whose nonlinearity is a custom Function.

class MyReLU(Function):
    """ReLU written as a Function, as in torch's "defining new autograd functions" tutorial."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[x < 0] = 0
        return grad_input


def test_my_relu_values_and_gradcheck(device):
    x = leaf([-2.0, -0.5, 0.25, 3.0], device)
    y = MyReLU.apply(x)
    assert np.array_equal(to_np(y), [0.0, 0.0, 0.25, 3.0])
    y.backward(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, device=device))
    assert np.array_equal(to_np(x.grad), [0.0, 0.0, 3.0, 4.0])
    assert autograd.gradcheck(MyReLU.apply, (leaf([-1.3, 0.7, 2.1, -0.2], device),))


def _relu_reference(steps, lr):
    """The same training loop in NumPy: fits y = 3 relu(x - 0.5) with a relu(w x + c) + b."""
    x = np.linspace(-2, 2, 101)
    y = 3 * np.maximum(x - 0.5, 0)
    a, w, c, b = 1.0, 1.0, 0.0, 0.0
    for _ in range(steps):
        z = w * x + c
        h = np.maximum(z, 0)
        g = 2 * (a * h + b - y)
        gz = g * a * (z > 0)
        a, w, c, b = a - lr * (g * h).sum(), w - lr * (gz * x).sum(), c - lr * gz.sum(), \
            b - lr * g.sum()
    return a, w, c, b


def test_train_with_custom_relu_reaches_known_answer(device):
    steps, lr = 600, 1e-3
    x = torch.linspace(-2, 2, 101, dtype=torch.float64, device=device)
    y = 3 * (x - 0.5).clamp(min=0)
    a = torch.tensor(1.0, dtype=torch.float64, device=device, requires_grad=True)
    w = torch.tensor(1.0, dtype=torch.float64, device=device, requires_grad=True)
    c = torch.tensor(0.0, dtype=torch.float64, device=device, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, device=device, requires_grad=True)
    losses = []
    for _ in range(steps):
        y_pred = a * MyReLU.apply(w * x + c) + b
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, w, c, b):
                p -= lr * p.grad
                p.grad = None
    assert losses[0] > 10 and losses[-1] < 1e-8
    # The teacher 3 relu(x - 0.5) is recovered up to the ReLU's scale symmetry.
    assert abs(a.item() * w.item() - 3.0) < 1e-4
    assert abs(c.item() / w.item() + 0.5) < 1e-4
    assert abs(b.item()) < 1e-4
    ref = _relu_reference(steps, lr)
    assert np.allclose([a.item(), w.item(), c.item(), b.item()], ref, rtol=1e-9, atol=1e-12)


class LegendrePolynomial3(Function):
    """P3(x) = (5x^3 - 3x) / 2, from torch's tutorial of the same name."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def test_legendre_p3_gradcheck(device):
    assert autograd.gradcheck(LegendrePolynomial3.apply, (leaf([-0.9, 0.1, 0.5, 1.7], device),))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_train_legendre_p3_as_in_torch_tutorial(dtype, device):
    # Fit y = sin(x) on [-pi, pi] with a + b * P3(c + d x), 2000 SGD steps of lr 5e-6 on the
    # summed squared error. torch's tutorial prints loss 209.958 at step 99 and ends at
    # y = -6.5e-09 + -2.2085 * P3(1.2e-09 + 0.2555 x), loss 8.94.
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype, device=device)
    y = torch.sin(x)
    a = torch.full((), 0.0, dtype=dtype, device=device, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, device=device, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, device=device, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, device=device, requires_grad=True)
    learning_rate = 5e-6
    losses = {}
    for t in range(2000):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            losses[t] = loss.item()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    assert abs(losses[99] - 209.958) < 0.01
    assert losses[1999] < 8.95 and abs(losses[1999] - 8.9436) < 0.001
    assert all(losses[t] > losses[t + 100] for t in range(99, 1999, 100))
    assert abs(a.item()) < 1e-6 and abs(c.item()) < 1e-6
    assert abs(b.item() - -2.2085) < 1e-3
    assert abs(d.item() - 0.2555) < 1e-3
