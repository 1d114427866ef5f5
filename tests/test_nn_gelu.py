"""F.gelu's fused kernels (both approximations): values in every float dtype, the backward
kernel against the analytic derivative, double backward, strided inputs and errors."""

import math

import numpy as np
import pytest
from helpers import to_np

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def erf(a):
    return np.vectorize(math.erf)(a)


def gelu_np(a, approximate):
    if approximate == "none":
        return 0.5 * a * (1 + erf(a / math.sqrt(2)))
    return 0.5 * a * (1 + np.tanh(SQRT_2_OVER_PI * (a + 0.044715 * a**3)))


def gelu_grad_np(a, approximate):
    if approximate == "none":
        return 0.5 * (1 + erf(a / math.sqrt(2))) + a * np.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)
    t = np.tanh(SQRT_2_OVER_PI * (a + 0.044715 * a**3))
    return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)


TOL = {torch.float64: 1e-12, torch.float32: 2e-6, torch.bfloat16: 2e-2, torch.float16: 2e-3}


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16, torch.float16])
def test_values_and_fused_gradient(device, approximate, dtype):
    a = np.random.default_rng(0).uniform(-6, 6, (37, 129))
    x = torch.tensor(a, dtype=dtype, device=device).requires_grad_()
    a = to_np(x.detach()).astype(np.float64)  # the values the kernel sees, after rounding
    y = F.gelu(x, approximate=approximate)
    assert y.dtype == dtype
    tol = TOL[dtype]
    np.testing.assert_allclose(to_np(y), gelu_np(a, approximate), rtol=tol, atol=tol)
    g = np.random.default_rng(1).standard_normal(a.shape)
    y.backward(torch.tensor(g, dtype=dtype, device=device))
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(to_np(x.grad), g * gelu_grad_np(a, approximate), rtol=4 * tol, atol=4 * tol)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_strided_input_and_double_backward(device, approximate):
    a = np.random.default_rng(2).uniform(-3, 3, (6, 8))
    x = torch.tensor(a, dtype=torch.float64, device=device).t()  # not contiguous
    np.testing.assert_allclose(to_np(F.gelu(x, approximate)), gelu_np(a.T, approximate), rtol=1e-12, atol=1e-13)
    xs = x.detach().clone().requires_grad_()
    assert gradcheck(lambda t: F.gelu(t, approximate=approximate), (xs,))
    assert gradgradcheck(lambda t: F.gelu(t, approximate=approximate), (xs,))


def test_backward_op_and_module(device):
    a = np.linspace(-4, 4, 17)
    x = torch.tensor(a, device=device)
    g = torch.full_like(x, 2.0)
    np.testing.assert_allclose(to_np(torch._C._gelu_backward(g, x, "tanh")), 2 * gelu_grad_np(a, "tanh"), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(to_np(torch.nn.GELU("tanh")(x)), gelu_np(a, "tanh"), rtol=1e-12, atol=1e-13)


def test_errors(device):
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(torch.ones(2, device=device), approximate="fast")
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        F.gelu(torch.tensor([1, 2], device=device))
