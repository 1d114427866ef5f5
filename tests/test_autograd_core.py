"""The autograd engine seen from Python: leaves, .grad, grad_fn, backward/grad, errors, grad mode,
hooks, retain_grad, version counters, in-place ops on leaves, non-leaves and views."""

import threading

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import autograd
from helpers import to_np


def leaf(values, device, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype, device=device, requires_grad=True)


def double_tensor_name(device):
    """torch's legacy type name of a float64 tensor on `device`, as a regex."""
    return r"torch\.cuda\.DoubleTensor" if device == "cuda" else r"torch\.DoubleTensor"


def test_requires_grad_flags_and_leaves(device):
    x = torch.ones(3, device=device, requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    assert x.device.type == device
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "MulBackward0"
    z = torch.zeros(2, device=device)
    assert not z.requires_grad and z.is_leaf
    assert z.requires_grad_() is z and z.requires_grad
    z.requires_grad = False
    assert not z.requires_grad
    for factory in (torch.zeros(2, device=device, requires_grad=True),
                    torch.randn(2, device=device, requires_grad=True),
                    torch.full((2,), 3.0, device=device, requires_grad=True),
                    torch.arange(3.0, device=device, requires_grad=True),
                    torch.zeros_like(x, requires_grad=True)):
        assert factory.requires_grad and factory.is_leaf and factory.device.type == device


def test_only_float_tensors_require_grad(device):
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        torch.tensor([1, 2], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        torch.tensor([1, 2], device=device).requires_grad_()


def test_non_leaf_requires_grad_cannot_be_cleared(device):
    y = leaf([1.0], device) * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad = False


def test_next_functions_and_accumulate_grad(device):
    x = leaf([1.0, 2.0], device)
    w = leaf([3.0, 4.0], device)
    y = (x * w).sum()
    fn = y.grad_fn
    assert fn.name() == "SumBackward0"
    (mul, nr), = fn.next_functions
    assert mul.name() == "MulBackward0" and nr == 0
    (acc_x, _), (acc_w, _) = mul.next_functions
    assert acc_x.name() == "torch::autograd::AccumulateGrad" and acc_x.variable is not None
    assert acc_x is mul.next_functions[0][0]
    assert np.array_equal(to_np(acc_x.variable), [1.0, 2.0])
    assert "MulBackward0" in repr(mul)
    # Constant inputs have no edge.
    z = (x * 3.0).sum()
    (m, _), = z.grad_fn.next_functions
    assert m.next_functions[1][0] is None


def test_micrograd_style_expression_by_hand(device):
    # a = -4, b = 2; c = a + b; d = a*b + b**3; c += c + 1; c += 1 + c + (-a);
    # d += d*2 + relu(b + a); d += 3*d + relu(b - a); e = c - d; f = e**2; g = f/2 + 10/f
    a = leaf([-4.0], device)
    b = leaf([2.0], device)
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    # Values from micrograd's README (same expression): g = 24.7041, dg/da = 138.8338,
    # dg/db = 645.5773.
    assert abs(g.item() - 24.70408163265306) < 1e-9
    assert abs(a.grad.item() - 138.83381924198252) < 1e-9
    assert abs(b.grad.item() - 645.5772594752186) < 1e-9


def test_accumulation_and_second_backward_errors(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert np.array_equal(to_np(x.grad), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()
    # A node that saved nothing may run again (as in torch).
    z = (x + 1).sum()
    z.backward()
    z.backward()
    assert np.array_equal(to_np(x.grad), [6.0, 10.0])


def test_non_scalar_backward_needs_gradient(device):
    x = leaf([1.0, 2.0], device)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(torch.tensor([1.0, 10.0], dtype=torch.float64, device=device))
    assert np.array_equal(to_np(x.grad), [2.0, 20.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(torch.ones(3, dtype=torch.float64, device=device))


def test_backward_of_tensor_without_grad(device):
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        torch.ones(1, device=device).backward()


def test_autograd_grad_does_not_accumulate(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = (x ** 2).sum()
    (g,) = autograd.grad(y, x)
    assert np.allclose(to_np(g), [2.0, 4.0, 6.0])
    assert x.grad is None
    unused = leaf([1.0], device)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        autograd.grad((x * 2).sum(), [x, unused])
    g1, g2 = autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert g2 is None
    g1, g2 = autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    assert np.array_equal(to_np(g2), [0.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x * 2).sum(), torch.ones(1, device=device))


def test_grad_of_intermediate_and_multiple_outputs(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3
    y = (h * h).sum()
    (gh,) = autograd.grad(y, h, retain_graph=True)
    assert np.allclose(to_np(gh), 2 * to_np(h))
    gx, = autograd.grad([y, x.sum()], x, [None, None])
    assert np.allclose(to_np(gx), 18 * to_np(x) + 1)


def test_backward_inputs_accumulates_only_there(device):
    x = leaf([1.0], device)
    w = leaf([2.0], device)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and w.grad.item() == 1.0
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * w).sum().backward(inputs=[])


def test_create_graph_second_and_third_order(device):
    x = leaf([0.7], device)
    y = x ** 3
    (g,) = autograd.grad(y, x, create_graph=True)
    (gg,) = autograd.grad(g, x, create_graph=True)
    (ggg,) = autograd.grad(gg, x)
    assert np.allclose([g.item(), gg.item(), ggg.item()], [3 * 0.49, 6 * 0.7, 6.0])
    # backward(create_graph=True) leaves a differentiable .grad.
    x2 = leaf([2.0], device)
    (x2 * x2 * x2).backward(create_graph=True)
    assert x2.grad.requires_grad
    (gg2,) = autograd.grad(x2.grad, x2)
    assert gg2.item() == 12.0


def test_detach_and_data(device):
    x = leaf([1.0, 2.0], device)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    d[0] = 10.0  # shares memory
    assert y[0].item() == 10.0
    assert not x.data.requires_grad
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None
    x.data = torch.tensor([5.0, 6.0], dtype=torch.float64, device=device)
    assert x.requires_grad and x.is_leaf and x[1].item() == 6.0


def test_numpy_of_a_tensor_that_requires_grad_is_refused():
    # CPU only: numpy() and __array__ hand out host memory.
    x = leaf([1.0, 2.0], "cpu")
    for convert in (lambda t: t.numpy(), np.asarray):
        with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires "
                                               r"grad. Use tensor.detach\(\).numpy\(\) instead."):
            convert(x)
    assert np.array_equal(x.numpy(force=True), [1.0, 2.0])
    assert np.array_equal(x.detach().numpy(), [1.0, 2.0])


def test_grad_fn_is_one_object_per_node(device):
    x = leaf([1.0, 2.0], device)
    y = x * 2
    assert y.grad_fn is y.grad_fn
    a, b = torch.var_mean(x, 0)
    assert a.grad_fn is b.grad_fn


def test_grad_assignment_checks(device):
    x = leaf([1.0, 2.0], device)
    x.grad = torch.ones(2, dtype=torch.float64, device=device)
    assert np.array_equal(to_np(x.grad), [1.0, 1.0])
    (x * 3).sum().backward()
    assert np.array_equal(to_np(x.grad), [4.0, 4.0])
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = torch.ones(3, dtype=torch.float64, device=device)
    with pytest.raises(RuntimeError, match="dtype"):
        x.grad = torch.ones(2, dtype=torch.float32, device=device)
    if device != "cpu":
        with pytest.raises(RuntimeError, match="the gradient and the tensor are on the same "
                                               "device"):
            x.grad = torch.ones(2, dtype=torch.float64)
    x.grad = None
    assert x.grad is None


def test_grad_is_not_an_alias_of_anything(device):
    x = leaf([1.0, 2.0, 3.0], device)
    x.sum().backward()  # the incoming gradient is an expanded 0-d ones tensor
    g = x.grad
    assert g.is_contiguous() and g.stride() == (1,)
    g.add_(1.0)
    assert np.array_equal(to_np(x.grad), [2.0, 2.0, 2.0])


def test_grad_mode_switches(device):
    x = leaf([1.0], device)
    with torch.no_grad():
        y = x * 2
        assert not torch.is_grad_enabled()
        with torch.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad and torch.is_grad_enabled()

    @torch.no_grad()
    def f(t):
        return t * 2

    @torch.no_grad
    def f2(t):
        return t * 2

    assert not f(x).requires_grad and not f2(x).requires_grad
    torch.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    torch.set_grad_enabled(True)
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()
    with torch.inference_mode():
        assert torch.is_inference_mode_enabled() and not (x * 2).requires_grad
    assert not torch.is_inference_mode_enabled()

    @torch.inference_mode()
    def g(t):
        return t * 2

    assert not g(x).requires_grad


def test_grad_mode_is_thread_local():
    seen = []
    with torch.no_grad():
        t = threading.Thread(target=lambda: seen.append(torch.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_hooks_replace_and_observe(device):
    x = leaf([1.0, 2.0], device)
    seen = []
    h = x.register_hook(lambda g: seen.append(to_np(g)))
    y = x * 3
    y.register_hook(lambda g: g * 10)  # replaces the gradient flowing into y's node
    y.sum().backward()
    assert np.array_equal(to_np(x.grad), [30.0, 30.0])
    assert np.array_equal(seen[0], [30.0, 30.0])
    h.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert len(seen) == 1
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        torch.ones(1, device=device).register_hook(lambda g: g)


def test_post_accumulate_grad_hook(device):
    x = leaf([1.0, 2.0], device)
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(to_np(t.grad)))
    (x * 2).sum().backward()
    assert len(calls) == 1 and np.array_equal(calls[0], [2.0, 2.0])
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_hook_exception_propagates(device):
    x = leaf([1.0], device)

    def boom(g):
        raise ValueError("from the hook")

    x.register_hook(boom)
    with pytest.raises(ValueError, match="from the hook"):
        (x * 2).sum().backward()


def test_retain_grad(device):
    x = leaf([1.0, 2.0], device)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    z = (y * y).sum()
    z.backward()
    assert np.array_equal(to_np(y.grad), 2 * to_np(y))
    w = x * 5
    assert w.grad is None
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        torch.ones(1, device=device).retain_grad()


def test_inplace_on_leaf_requiring_grad_is_refused(device):
    x = leaf([1.0], device)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0:1].mul_(2)
    with torch.no_grad():
        x.add_(1)
    assert x.item() == 2.0


def test_modifying_a_saved_tensor_is_detected(device):
    x = leaf([1.0, 2.0], device)
    y = x * 2
    z = (y * y).sum()
    y.add_(1)
    # torch's legacy type name (torch.cuda.DoubleTensor on the GPU), and the node the tensor has
    # now (the in-place add).
    stale = (r"modified by an inplace operation: \[" + double_tensor_name(device)
             + r" \[2\]\], which is output 0 of AddBackward0, is at version 1; expected "
             r"version 0 instead")
    with pytest.raises(RuntimeError, match=stale):
        z.backward()
    # Saved outputs too: exp saves its result.
    e = x.exp()
    loss = e.sum()
    e.mul_(2)
    with pytest.raises(RuntimeError, match="output 0 of ExpBackward0, is at version 1; expected version 0"):
        loss.backward()


def test_inplace_on_non_leaf_is_differentiated(device):
    x = leaf([1.0, 2.0, 3.0], device)
    w = leaf([2.0], device)
    y = x * 1
    y.mul_(w)
    y.add_(x)
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    # y = x*w + x: dy/dx = w + 1, dy/dw = sum(x)
    assert np.array_equal(to_np(x.grad), [3.0, 3.0, 3.0])
    assert w.grad.item() == 6.0
    assert y._version == 2


def test_inplace_through_view_rebases_base(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    w = leaf([10.0], device)
    y = x * 1
    v = y[1:3]
    v.mul_(w)
    assert y.grad_fn.name() == "CopySlices"
    assert np.array_equal(to_np(y), [1.0, 20.0, 30.0, 4.0])
    (y * torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, device=device)).sum().backward()
    assert np.array_equal(to_np(x.grad), [1.0, 20.0, 30.0, 4.0])
    assert w.grad.item() == 2 * 2 + 3 * 3


def test_view_of_base_sees_inplace_through_another_view(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x * 1
    a = y[0:2]
    b = y[1:3]
    b.mul_(2)  # changes y[1] which a also sees
    a.sum().backward()
    # a = [x0, 2*x1]
    assert np.array_equal(to_np(x.grad), [1.0, 2.0, 0.0])


def test_copy_into_view_of_plain_tensor(device):
    w = leaf([5.0], device)
    buf = torch.zeros(3, dtype=torch.float64, device=device)
    buf[1:2].copy_(w * 2)
    assert buf.requires_grad and buf.grad_fn.name() == "CopySlices"
    (buf * torch.tensor([1.0, 7.0, 1.0], dtype=torch.float64, device=device)).sum().backward()
    assert w.grad.item() == 14.0


def test_copy_fill_zero_inplace(device):
    x = leaf([1.0, 2.0], device)
    y = x * 3
    y.copy_(x * x)
    y.sum().backward()
    assert np.array_equal(to_np(x.grad), [2.0, 4.0])
    x.grad = None
    y = x * 3
    y[0:1].fill_(7.0)
    y.sum().backward()
    assert np.array_equal(to_np(x.grad), [0.0, 3.0])
    x.grad = None
    y = x * 3
    y.zero_()
    y.sum().backward()
    assert np.array_equal(to_np(x.grad), [0.0, 0.0])


def test_out_with_requires_grad_is_refused(device):
    x = leaf([1.0], device)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        torch.add(x, 1, out=torch.empty(1, dtype=torch.float64, device=device))


def test_anomaly_mode_names_the_node(device):
    x = leaf([0.0], device)
    with autograd.detect_anomaly():
        z = x / x
        with pytest.raises(RuntimeError, match="Function 'DivBackward0' returned nan values"):
            z.sum().backward()
    assert not autograd.is_anomaly_enabled()


def test_backward_releases_the_gil(device):
    # A Python thread keeps counting while a long backward runs on the main thread.
    n = 600
    x = torch.randn(n, n, dtype=torch.float32, device=device, requires_grad=True)
    y = x
    for _ in range(30):
        y = y.matmul(x) * 0.01
    loss = y.sum()
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=count)
    t.start()
    import time
    time.sleep(0.01)
    before = counter[0]
    loss.backward()
    during = counter[0] - before
    stop.set()
    t.join()
    assert during > 0
