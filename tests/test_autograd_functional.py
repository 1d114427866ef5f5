"""autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp against Jacobians and Hessians
derived by hand (or with NumPy), their return structures (Tensor vs tuple) and torch's errors."""

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.autograd import functional as F
from helpers import to_np


def t(values, device, requires_grad=False):
    return torch.tensor(values, dtype=torch.float64, device=device, requires_grad=requires_grad)


X = [0.5, -1.0, 2.0]
Y = [1.5, 0.25, -3.0]


# jacobian

def test_jacobian_single_input_output_is_a_tensor(device):
    jac = F.jacobian(lambda x: 3 * x ** 2, t(X, device))
    assert isinstance(jac, torch.Tensor) and tuple(jac.shape) == (3, 3)
    assert jac.device.type == device
    assert np.allclose(to_np(jac), np.diag(6 * np.array(X)))
    assert not jac.requires_grad


def test_jacobian_matrix_shapes(device):
    xv = np.array([[0.5, -1.0, 2.0], [1.0, 3.0, -0.5]])
    jac = F.jacobian(lambda x: x * x, t(xv, device))
    assert tuple(jac.shape) == (2, 3, 2, 3)
    expected = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            expected[i, j, i, j] = 2 * xv[i, j]
    assert np.allclose(to_np(jac), expected)


def test_jacobian_broadcasting_output(device):
    # out[i, j] = x[j] * y[i, 0]: shapes (2, 3) from x (3,) and y (2, 1).
    xv, yv = np.array(X), np.array([[2.0], [-1.0]])
    jx, jy = F.jacobian(lambda x, y: x * y, (t(xv, device), t(yv, device)))
    ex = np.zeros((2, 3, 3))
    ey = np.zeros((2, 3, 2, 1))
    for i in range(2):
        for j in range(3):
            ex[i, j, j] = yv[i, 0]
            ey[i, j, i, 0] = xv[j]
    assert np.allclose(to_np(jx), ex) and np.allclose(to_np(jy), ey)


def test_jacobian_tuple_structure(device):
    x, y = t(X, device), t(Y, device)

    def f(a, b):
        return a * b, a + b

    jac = F.jacobian(f, (x, y))
    assert isinstance(jac, tuple) and len(jac) == 2
    assert all(isinstance(row, tuple) and len(row) == 2 for row in jac)
    (dp_da, dp_db), (ds_da, ds_db) = jac
    assert np.allclose(to_np(dp_da), np.diag(Y)) and np.allclose(to_np(dp_db), np.diag(X))
    assert np.allclose(to_np(ds_da), np.eye(3)) and np.allclose(to_np(ds_db), np.eye(3))
    # A tuple with one input: outer tuple per output, inner tuple of one block.
    jac1 = F.jacobian(lambda a: (a * 2, a * a), (x,))
    assert isinstance(jac1[0], tuple) and len(jac1[0]) == 1
    assert np.allclose(to_np(jac1[1][0]), np.diag(2 * np.array(X)))
    # One input given as a Tensor, two outputs: a tuple of Tensors.
    jac2 = F.jacobian(lambda a: (a * 2, a * a), x)
    assert isinstance(jac2, tuple) and isinstance(jac2[0], torch.Tensor)


def test_jacobian_unused_input_and_strict(device):
    x, y = t(X, device), t(Y, device)
    jx, jy = F.jacobian(lambda a, b: a * 2, (x, y))
    assert np.allclose(to_np(jy), np.zeros((3, 3)))
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1. This is not allowed in strict "
                                           "mode."):
        F.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not "
                                           "require gradients"):
        F.jacobian(lambda a: torch.ones(3, dtype=torch.float64, device=device), x, strict=True)
    # Not strict: a constant output has a zero Jacobian.
    const = F.jacobian(lambda a: torch.ones(2, dtype=torch.float64, device=device), x)
    assert np.allclose(to_np(const), np.zeros((2, 3)))


def test_jacobian_argument_errors(device):
    x = t(X, device)
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or "
                                        "a tuple of Tensors but the given inputs has type "
                                        "<class 'list'>."):
        F.jacobian(lambda a: a, [x])
    with pytest.raises(TypeError, match="but the value at index 1 has type <class 'float'>"):
        F.jacobian(lambda a, b: a, (x, 1.0))
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to "
                                        "jacobian must be either a Tensor or a tuple of Tensors"):
        F.jacobian(lambda a: 3.0, x)
    with pytest.raises(AssertionError, match="Expected strategy to be either"):
        F.jacobian(lambda a: a, x, strategy="sideways")
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        F.jacobian(lambda a: a, x, strategy="forward-mode")
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True` are not "
                                           "supported together"):
        F.jacobian(lambda a: a * 2, x, strict=True, vectorize=True)


def test_jacobian_vectorize_and_forward_mode_agree(device):
    x, y = t(X, device), t(Y, device)

    def f(a, b):
        return a * a * b, b / a

    ref = F.jacobian(f, (x, y))
    for kwargs in (dict(vectorize=True), dict(vectorize=True, strategy="forward-mode")):
        got = F.jacobian(f, (x, y), **kwargs)
        for r_row, g_row in zip(ref, got):
            for r, g in zip(r_row, g_row):
                assert tuple(r.shape) == tuple(g.shape)
                assert np.allclose(to_np(r), to_np(g))
    xa, ya = np.array(X), np.array(Y)
    (d00, d01), (d10, d11) = ref
    assert np.allclose(to_np(d00), np.diag(2 * xa * ya))
    assert np.allclose(to_np(d01), np.diag(xa * xa))
    assert np.allclose(to_np(d10), np.diag(-ya / xa ** 2))
    assert np.allclose(to_np(d11), np.diag(1 / xa))


def test_jacobian_does_not_touch_the_inputs_graph(device):
    x = t(X, device, requires_grad=True)
    jac = F.jacobian(lambda a: a * a, x)
    assert x.grad is None and not jac.requires_grad


def test_jacobian_create_graph_is_differentiable(device):
    x = t(X, device, requires_grad=True)
    jac = F.jacobian(lambda a: a ** 3, x, create_graph=True)
    assert jac.requires_grad
    # d/dx sum(diag(3x^2) weighted by eye) = 6x
    (g,) = torch.autograd.grad(jac, x, torch.eye(3, dtype=torch.float64, device=device))
    assert np.allclose(to_np(g), 6 * np.array(X))


def test_jacobian_of_matrix_vector_product(device):
    a = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    jac = F.jacobian(lambda x: torch.mv(t(a, device), x), t(X, device))
    assert np.allclose(to_np(jac), a)


def test_jacobian_of_nonlinear_map_against_numpy(device):
    # f(x) = tanh(W x) + exp(x[0]) : J = diag(1 - tanh^2(Wx)) W + e^{x0} e_0^T (broadcast)
    w = np.array([[0.3, -0.2, 0.1], [0.05, 0.4, -0.3], [0.2, 0.2, 0.2]])
    xa = np.array(X)
    jac = F.jacobian(lambda x: torch.tanh(torch.mv(t(w, device), x)) + x[0].exp(), t(X, device))
    th = np.tanh(w @ xa)
    expected = (1 - th ** 2)[:, None] * w
    expected[:, 0] += np.exp(xa[0])
    assert np.allclose(to_np(jac), expected)


# hessian

def test_hessian_of_scalar_inputs_by_hand(device):
    # f = x^2 y + y^3: H = [[2y, 2x], [2x, 6y]]
    x, y = t(1.5, device), t(-0.5, device)
    h = F.hessian(lambda a, b: a * a * b + b ** 3, (x, y))
    assert isinstance(h, tuple) and all(isinstance(r, tuple) and len(r) == 2 for r in h)
    got = np.array([[h[0][0].item(), h[0][1].item()], [h[1][0].item(), h[1][1].item()]])
    assert np.allclose(got, [[-1.0, 3.0], [3.0, -3.0]])
    # The outer Jacobian in forward mode (double-backward jvp columns): the same Hessian.
    hf = F.hessian(lambda a, b: a * a * b + b ** 3, (x, y), vectorize=True,
                   outer_jacobian_strategy="forward-mode")
    assert np.allclose([[hf[0][0].item(), hf[0][1].item()], [hf[1][0].item(), hf[1][1].item()]],
                       got)
    # One 0-d input given as a Tensor: a 0-d Tensor.
    h1 = F.hessian(lambda a: a ** 4, x)
    assert isinstance(h1, torch.Tensor) and tuple(h1.shape) == ()
    assert np.isclose(h1.item(), 12 * 1.5 ** 2)


def test_hessian_create_graph_gives_third_derivative(device):
    # H(a) = 12 a^2 for a^4; dH/da = 24 a = 36 at a = 1.5.
    x = t(1.5, device, requires_grad=True)
    h = F.hessian(lambda a: a ** 4, x, create_graph=True)
    assert h.requires_grad and np.isclose(h.item(), 27.0)
    (g,) = torch.autograd.grad(h, x)
    assert np.isclose(g.item(), 36.0)
    assert not F.hessian(lambda a: a ** 4, x).requires_grad


def test_hessian_of_one_element_vector_input(device):
    x = t([0.7], device)
    h = F.hessian(lambda a: a ** 3, x)
    assert tuple(h.shape) == (1, 1) and np.isclose(h.item(), 6 * 0.7)


def test_hessian_of_cubic_sum(device):
    xv = np.array(X)
    h = F.hessian(lambda x: (x ** 3).sum(), t(xv, device))
    assert np.allclose(to_np(h), np.diag(6 * xv))


def test_hessian_of_rosenbrock_against_numpy(device):
    xv = np.array([0.3, -0.7, 1.2, 0.4])

    def rosen(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    n = len(xv)
    expected = np.zeros((n, n))
    for i in range(n - 1):
        a, b = xv[i], xv[i + 1]
        expected[i, i] += 1200 * a * a - 400 * b + 2
        expected[i, i + 1] += -400 * a
        expected[i + 1, i] += -400 * a
        expected[i + 1, i + 1] += 200
    h = F.hessian(rosen, t(xv, device))
    assert h.device.type == device
    assert np.allclose(to_np(h), expected)


def test_hessian_errors(device):
    x = t(X, device)
    with pytest.raises(RuntimeError, match="The Tensor returned by the function given to hessian "
                                           "should contain a single element"):
        F.hessian(lambda a: a * a, x)
    with pytest.raises(RuntimeError, match="The function given to hessian should return a single "
                                           "Tensor"):
        F.hessian(lambda a: (a * a, a), t(2.0, device))
    # A linear function: its Jacobian does not depend on the input.
    assert np.allclose(to_np(F.hessian(lambda a: a * 3, t(2.0, device))), 0.0)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect "
                                           "to input 0 is independent of the input"):
        F.hessian(lambda a: a * 3, t(2.0, device), strict=True)


# vjp / jvp

def test_vjp_values_and_structure(device):
    x = t(X, device)
    v = t([1.0, 2.0, 3.0], device)
    out, g = F.vjp(lambda a: a ** 2, x, v)
    assert isinstance(out, torch.Tensor) and isinstance(g, torch.Tensor)
    assert out.device.type == device and g.device.type == device
    assert np.allclose(to_np(out), np.array(X) ** 2)
    assert np.allclose(to_np(g), 2 * np.array(X) * [1.0, 2.0, 3.0])
    assert not g.requires_grad and not out.requires_grad
    # Tuples in, tuples out; v for each output.
    y = t(Y, device)
    outs, (gx, gy) = F.vjp(lambda a, b: (a * b, a - b), (x, y), (v, v * 10))
    assert isinstance(outs, tuple) and len(outs) == 2
    vv = np.array([1.0, 2.0, 3.0])
    assert np.allclose(to_np(gx), vv * Y + 10 * vv)
    assert np.allclose(to_np(gy), vv * X - 10 * vv)


def test_vjp_v_none_for_one_element_output(device):
    out, g = F.vjp(lambda a: a * a * 3, t([2.0], device))
    assert np.allclose(to_np(g), [12.0])
    with pytest.raises(RuntimeError, match="The vector v can only be None if the user-provided "
                                           "function returns a single Tensor with a single "
                                           "element."):
        F.vjp(lambda a: a * 2, t(X, device))


def test_vjp_v_checks(device):
    x = t(X, device)
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be torch.Size\(\[3\]\) but "
                                           r"got torch.Size\(\[2\]\)."):
        F.vjp(lambda a: a * 2, x, t([1.0, 2.0], device))
    with pytest.raises(RuntimeError, match="The given v should contain a single Tensor."):
        F.vjp(lambda a: a * 2, x, (t(X, device), t(X, device)))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got "
                                           "1."):
        F.vjp(lambda a: (a, a * 2), x, (t(X, device),))
    with pytest.raises(RuntimeError, match=r"Entry 1 in v has invalid size"):
        F.vjp(lambda a: (a, a * 2), x, (t(X, device), t([1.0], device)))


def test_vjp_unused_input_strict(device):
    x, y = t(X, device), t(Y, device)
    _, (gx, gy) = F.vjp(lambda a, b: a * 2, (x, y), t(X, device))
    assert np.allclose(to_np(gy), 0.0)
    with pytest.raises(RuntimeError, match="The output of the user-provided function is "
                                           "independent of input 1. This is not allowed in strict "
                                           "mode."):
        F.vjp(lambda a, b: a * 2, (x, y), t(X, device), strict=True)


def test_vjp_runs_under_no_grad(device):
    with torch.no_grad():
        _, g = F.vjp(lambda a: a * a, t(X, device), t([1.0, 1.0, 1.0], device))
    assert np.allclose(to_np(g), 2 * np.array(X))


def test_vjp_create_graph_on_fresh_inputs(device):
    # Inputs that do not require grad: the result is differentiable with respect to v.
    v = t([1.0, 1.0, 1.0], device, requires_grad=True)
    _, g = F.vjp(lambda a: a ** 3, t(X, device), v, create_graph=True)
    assert g.requires_grad


def test_vjp_create_graph_through_user_graph(device):
    x = t(X, device, requires_grad=True)
    v = t([1.0, 1.0, 1.0], device)
    _, g = F.vjp(lambda a: a ** 3, x, v, create_graph=True)
    (gg,) = torch.autograd.grad(g, x, torch.ones(3, dtype=torch.float64, device=device))
    assert np.allclose(to_np(gg), 6 * np.array(X))


def test_jvp_values_and_structure(device):
    x = t(X, device)
    v = t([1.0, -1.0, 0.5], device)
    out, jv = F.jvp(lambda a: a ** 3, x, v)
    assert isinstance(jv, torch.Tensor) and jv.device.type == device
    assert np.allclose(to_np(out), np.array(X) ** 3)
    assert np.allclose(to_np(jv), 3 * np.array(X) ** 2 * [1.0, -1.0, 0.5])
    # Two inputs, two outputs: J v summed over inputs, one result per output.
    y = t(Y, device)
    vx, vy = t([1.0, 0.0, 2.0], device), t([0.5, 1.0, -1.0], device)
    outs, (j1, j2) = F.jvp(lambda a, b: (a * b, a - b * b), (x, y), (vx, vy))
    xa, ya = np.array(X), np.array(Y)
    vxa, vya = np.array([1.0, 0.0, 2.0]), np.array([0.5, 1.0, -1.0])
    assert np.allclose(to_np(j1), ya * vxa + xa * vya)
    assert np.allclose(to_np(j2), vxa - 2 * ya * vya)


def test_jvp_v_none_and_errors(device):
    _, jv = F.jvp(lambda a: a * a, t([3.0], device))
    assert np.allclose(to_np(jv), [6.0])
    with pytest.raises(RuntimeError, match="The vector v can only be None if the input to the "
                                           "user-provided function is a single Tensor with a "
                                           "single element."):
        F.jvp(lambda a: a * a, t(X, device))
    with pytest.raises(RuntimeError, match="v has invalid size"):
        F.jvp(lambda a: a * a, t(X, device), t([1.0], device))


def test_jvp_matches_jacobian_times_v(device):
    x, y = t(X, device), t(Y, device)
    v = (t([0.3, -0.2, 1.0], device), t([1.0, 2.0, -0.5], device))

    def f(a, b):
        return a * b / (a * a + 1), b ** 2 - a

    jac = F.jacobian(f, (x, y))
    _, jv = F.jvp(f, (x, y), v)
    for i in range(2):
        expected = sum(to_np(jac[i][k]) @ to_np(v[k]) for k in range(2))
        assert np.allclose(to_np(jv[i]), expected)
    _, vj = F.vjp(f, (x, y), v)
    for k in range(2):
        expected = sum(to_np(v[i]) @ to_np(jac[i][k]) for i in range(2))
        assert np.allclose(to_np(vj[k]), expected)


# hvp / vhp

def test_hvp_and_vhp_by_hand(device):
    # f = x^2 y + y^3: H = [[2y, 2x], [2x, 6y]] at x = 1.5, y = -0.5.
    x, y = t(1.5, device), t(-0.5, device)
    v = (t(1.0, device), t(2.0, device))

    def f(a, b):
        return a * a * b + b ** 3

    H = np.array([[-1.0, 3.0], [3.0, -3.0]])
    for fn in (F.hvp, F.vhp):
        out, (hx, hy) = fn(f, (x, y), v)
        assert np.isclose(out.item(), 1.5 ** 2 * -0.5 + (-0.5) ** 3)
        assert np.allclose([hx.item(), hy.item()], H @ [1.0, 2.0])
        assert not hx.requires_grad


def test_hvp_vhp_single_tensor_and_v_none(device):
    x = t([0.5], device)
    out, h = F.hvp(lambda a: a ** 4, x)
    assert isinstance(h, torch.Tensor) and np.allclose(to_np(h), [12 * 0.25])
    assert h.device.type == device
    out, h = F.vhp(lambda a: a ** 4, x, t([2.0], device))
    assert np.allclose(to_np(h), [2 * 12 * 0.25])


def test_hvp_vhp_errors(device):
    x = t(X, device)
    for fn, name in ((F.hvp, "hvp"), (F.vhp, "vhp")):
        with pytest.raises(RuntimeError, match=f"The Tensor returned by the function given to "
                                               f"{name} should contain a single element"):
            fn(lambda a: a * a, x, t(X, device))
        with pytest.raises(RuntimeError, match=f"The function given to {name} should return a "
                                               "single Tensor"):
            fn(lambda a: (a * a,), t(1.0, device), t(1.0, device))
        with pytest.raises(RuntimeError, match="The vector v can only be None"):
            fn(lambda a: a * a, x)


def test_hvp_of_vector_function_against_numpy(device):
    xv = np.array([0.3, -0.7, 1.2])
    v = np.array([1.0, -2.0, 0.5])

    def f(x):
        return (x ** 3).sum() + (x[0] * x[1] * x[2])

    H = np.diag(6 * xv) + np.array([[0, xv[2], xv[1]], [xv[2], 0, xv[0]], [xv[1], xv[0], 0]])
    _, hv = F.hvp(f, t(xv, device), t(v, device))
    _, vh = F.vhp(f, t(xv, device), t(v, device))
    assert np.allclose(to_np(hv), H @ v) and np.allclose(to_np(vh), v @ H)
