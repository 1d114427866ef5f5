"""Scalar expression trees with gradients derived by hand (micrograd style): +, -, *, /, **,
relu, tanh, and nodes used several times. Each test states the derivation it checks."""

import math

import pytest

import ferrotorch as torch


def s(v, device):
    """A scalar leaf on `device`."""
    return torch.tensor(v, dtype=torch.float64, device=device, requires_grad=True)


def close(a, b):
    return abs(a - b) < 1e-12 * max(1.0, abs(b))


def test_sum_and_product_chain(device):
    # L = (a*b + c) * f with a=2, b=-3, c=10, f=-2: d = 4, L = -8.
    # dL/da = f*b = 6, dL/db = f*a = -4, dL/dc = f = -2, dL/df = d = 4.
    a, b, c, f = s(2.0, device), s(-3.0, device), s(10.0, device), s(-2.0, device)
    e = a * b
    d = e + c
    L = d * f
    L.backward()
    assert L.item() == -8.0
    assert L.device.type == device and a.grad.device.type == device
    assert (a.grad.item(), b.grad.item(), c.grad.item(), f.grad.item()) == (6.0, -4.0, -2.0, 4.0)


def test_node_used_twice(device):
    # b = a + a: db/da = 2.
    a = s(3.0, device)
    (a + a).backward()
    assert a.grad.item() == 2.0
    # f = (a*b) * (a+b) with a=-2, b=3: d = -6, e = 1.
    # df/da = b*e + d = 3 - 6 = -3; df/db = a*e + d = -2 - 6 = -8.
    a, b = s(-2.0, device), s(3.0, device)
    d = a * b
    e = a + b
    f = d * e
    f.backward()
    assert f.item() == -6.0
    assert a.grad.item() == -3.0 and b.grad.item() == -8.0


def test_intermediate_used_three_times(device):
    # u = 2x; y = u*u*u + u: dy/dx = (3u^2 + 1) * 2. At x = 1.5: u = 3, dy/dx = 56.
    x = s(1.5, device)
    u = x * 2
    y = u * u * u + u
    y.backward()
    assert y.item() == 30.0 and x.grad.item() == 56.0


def test_power_and_division(device):
    # y = x^3 / (x + 1) at x = 2: y = 8/3, dy/dx = (3x^2 (x+1) - x^3) / (x+1)^2 = 28/9.
    x = s(2.0, device)
    y = x ** 3 / (x + 1)
    y.backward()
    assert close(y.item(), 8 / 3) and close(x.grad.item(), 28 / 9)
    # q = a / b: dq/da = 1/b, dq/db = -a/b^2 at a = 3, b = -4.
    a, b = s(3.0, device), s(-4.0, device)
    (a / b).backward()
    assert close(a.grad.item(), -0.25) and close(b.grad.item(), -3 / 16)


def test_power_with_tensor_exponent(device):
    # z = a^b: dz/da = b a^(b-1), dz/db = a^b ln a at a = 2, b = 3: 12 and 8 ln 2.
    a, b = s(2.0, device), s(3.0, device)
    z = a ** b
    z.backward()
    assert z.item() == 8.0
    assert close(a.grad.item(), 12.0) and close(b.grad.item(), 8 * math.log(2.0))
    # r = 1 / x^2 written with a negative power: dr/dx = -2 x^-3 = -2/27 at x = 3.
    x = s(3.0, device)
    (x ** -2).backward()
    assert close(x.grad.item(), -2 / 27)


def test_subtraction_and_negation(device):
    # f = (a - b) * (-a) = -a^2 + ab: df/da = -2a + b, df/db = a. At a = 5, b = 2: -8, 5.
    a, b = s(5.0, device), s(2.0, device)
    f = (a - b) * (-a)
    f.backward()
    assert f.item() == -15.0 and a.grad.item() == -8.0 and b.grad.item() == 5.0


@pytest.mark.parametrize("w, expected", [
    # z = x*w + b with x = 1.5, b = 1: w = 2 gives z = 4 > 0 (grads x, w, 1);
    # w = -2 gives z = -2 < 0 (all zero).
    (2.0, (2.0, 1.5, 1.0)),
    (-2.0, (0.0, 0.0, 0.0)),
])
def test_relu_neuron(w, expected, device):
    x, wt, b = s(1.5, device), s(w, device), s(1.0, device)
    y = (x * wt + b).relu()
    y.backward()
    assert (x.grad.item(), wt.grad.item(), b.grad.item()) == expected


def test_relu_at_zero_has_zero_gradient(device):
    x = s(0.0, device)
    x.relu().backward()
    assert x.grad.item() == 0.0


def test_tanh_neuron(device):
    # o = tanh(x1 w1 + x2 w2 + b) with micrograd's numbers: n = 0.8813735870195432, o = 1/sqrt 2,
    # do/dn = 1 - o^2 = 0.5, so dx1 = w1/2, dw1 = x1/2, dx2 = w2/2, dw2 = x2/2.
    x1, x2, w1, w2 = s(2.0, device), s(0.0, device), s(-3.0, device), s(1.0, device)
    b = s(6.8813735870195432, device)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert close(o.item(), 1 / math.sqrt(2))
    grads = [t.grad.item() for t in (x1, w1, x2, w2)]
    assert all(abs(g - e) < 1e-9 for g, e in zip(grads, [-1.5, 1.0, 0.5, 0.0]))


def test_tanh_neuron_spelled_with_exp(device):
    # The same neuron with tanh(n) = (e^{2n} - 1) / (e^{2n} + 1): same gradients.
    x1, x2, w1, w2 = s(2.0, device), s(0.0, device), s(-3.0, device), s(1.0, device)
    b = s(6.8813735870195432, device)
    n = x1 * w1 + x2 * w2 + b
    e = (2 * n).exp()
    o = (e - 1) / (e + 1)
    o.backward()
    grads = [t.grad.item() for t in (x1, w1, x2, w2)]
    assert all(abs(g - e) < 1e-9 for g, e in zip(grads, [-1.5, 1.0, 0.5, 0.0]))


def test_micrograd_sanity_check(device):
    # micrograd's test_sanity_check: z = 2x + 2 + x, q = relu(z) + z x, h = relu(z z),
    # y = h + q + q x at x = -4. z = -10, q = 40, h = 100, y = -20.
    # dz/dx = 3; dq/dx = 3x + z = -22 (relu inactive); dh/dx = 2z * 3 = -60;
    # dy/dx = dh + dq + dq x + q = -60 - 22 + 88 + 40 = 46.
    x = s(-4.0, device)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.item() == -20.0 and x.grad.item() == 46.0


def test_gradients_accumulate_across_backward_calls(device):
    # Two separate graphs on the same leaf: grads add. d(x^2)/dx + d(3x)/dx at x = 2: 4 + 3.
    x = s(2.0, device)
    (x * x).backward()
    (x * 3).backward()
    assert x.grad.item() == 7.0
