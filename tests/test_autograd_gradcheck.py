"""gradcheck / gradgradcheck: they pass on correct gradients and fail (raise GradcheckError or
return False) on wrong ones; non-contiguous, 0-d and multiple inputs/outputs; fast mode."""

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.autograd import Function, gradcheck, gradgradcheck
from ferrotorch.autograd.function import once_differentiable
from ferrotorch.autograd.gradcheck import GradcheckError
from helpers import to_np


def rand(device, *shape, requires_grad=True, seed=0, low=0.5, high=2.0):
    values = np.random.default_rng(seed).uniform(low, high, shape)
    return torch.tensor(values, dtype=torch.float64, device=device, requires_grad=requires_grad)


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class WrongCube(Function):
    """x**3 with a backward off by a factor (2x^2 instead of 3x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x * x


class FlatSecondDerivative(Function):
    """x**3 whose first derivative is right but is built from a detached x*x, so the second
    derivative it reports is missing the 6x term."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * (x * x).detach()


class MulSwapped(Function):
    """x * y with the two gradients swapped (right only where x == y)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * x, g * y


def test_error_type():
    assert issubclass(GradcheckError, RuntimeError)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_passes_on_correct_elementwise_functions(fast_mode, device):
    x, y = rand(device, 2, 3, seed=1), rand(device, 2, 3, seed=2)
    assert gradcheck(lambda a, b: a * b + a / b - b ** 2, (x, y), fast_mode=fast_mode)
    assert gradcheck(lambda a: a ** 3, (x,), fast_mode=fast_mode)
    assert gradcheck(Cube.apply, (x,), fast_mode=fast_mode)
    # A single tensor instead of a tuple.
    assert gradcheck(lambda a: a * a, x, fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_fails_on_wrong_backward(fast_mode, device):
    x = rand(device, 3, seed=3)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to "
                                             "input 0"):
        gradcheck(WrongCube.apply, (x,), fast_mode=fast_mode)
    assert gradcheck(WrongCube.apply, (x,), raise_exception=False, fast_mode=fast_mode) is False


@pytest.mark.parametrize("fast_mode", [False, True])
def test_names_the_wrong_input(fast_mode, device):
    x, y = rand(device, 3, seed=4), rand(device, 3, seed=5, low=3.0, high=4.0)
    with pytest.raises(GradcheckError, match="with respect to input 0"):
        gradcheck(MulSwapped.apply, (x, y), fast_mode=fast_mode)
    # With y not differentiated, only x's (wrong) gradient is checked.
    y.requires_grad_(False)
    assert not gradcheck(MulSwapped.apply, (x, y), raise_exception=False, fast_mode=fast_mode)
    # With x fixed, y's gradient g*y is checked against x: wrong.
    x.requires_grad_(False)
    y.requires_grad_(True)
    with pytest.raises(GradcheckError, match="with respect to input 0"):
        gradcheck(MulSwapped.apply, (x, y), fast_mode=fast_mode)


def test_wrong_second_output_is_caught(device):
    class TwoOut(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, x * x

        @staticmethod
        def backward(ctx, g1, g2):
            (x,) = ctx.saved_tensors
            return g1 * 2 + g2 * x  # d(x*x)/dx is 2x, not x

    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 1 with respect to "
                                             "input 0"):
        gradcheck(TwoOut.apply, (rand(device, 2, seed=6),))


@pytest.mark.parametrize("fast_mode", [False, True])
def test_multiple_inputs_outputs_and_non_tensor_arguments(fast_mode, device):
    x, y = rand(device, 2, 2, seed=7), rand(device, 2, seed=8)  # y broadcasts against x

    def f(a, k, b, c):
        return a * b * k, a - b * b, c * 2, torch.tensor([1, 2], device=device)

    c = rand(device, 3, seed=9, requires_grad=False)  # a tensor input that is not checked
    assert gradcheck(f, (x, 3.0, y, c), fast_mode=fast_mode)


def test_non_contiguous_inputs(device):
    base = rand(device, 4, 6, seed=10, requires_grad=False)
    xt = base.t().detach().requires_grad_(True)  # transposed
    xs = base[:, ::2].detach().requires_grad_(True)  # every other column
    assert not xt.is_contiguous() and not xs.is_contiguous()
    w = rand(device, 6, 4, seed=11)
    assert gradcheck(lambda a, b: a * b + a * a, (xt, w))
    assert gradcheck(Cube.apply, (xs,))
    assert gradcheck(Cube.apply, (xt,), fast_mode=True)
    # gradcheck restores every perturbed element.
    assert np.array_equal(to_np(base), to_np(rand(device, 4, 6, seed=10, requires_grad=False)))
    with pytest.raises(GradcheckError):
        gradcheck(WrongCube.apply, (xt,))


def test_zero_dim_inputs(device):
    x = torch.tensor(1.3, dtype=torch.float64, device=device, requires_grad=True)
    y = torch.tensor(0.4, dtype=torch.float64, device=device, requires_grad=True)
    assert x.device.type == device
    assert gradcheck(lambda a, b: a * b * b, (x, y))
    assert not gradcheck(WrongCube.apply, (x,), raise_exception=False)


def test_expanded_input_is_refused(device):
    x = rand(device, 1, seed=12, requires_grad=False).expand(3).detach().requires_grad_(True)
    with pytest.raises(RuntimeError, match="has a dimension with stride 0"):
        gradcheck(lambda a: a * 2, (x,))


def test_argument_checks(device):
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (rand(device, 2, requires_grad=False),))
    with pytest.warns(UserWarning, match="is not a double precision floating point"):
        gradcheck(lambda a: a * 2, (torch.ones(2, device=device, requires_grad=True),),
                  atol=1e-2, rtol=1e-2, eps=1e-3)
    # No forward-mode AD in ferrotorch: refused rather than silently skipped.
    with pytest.raises(NotImplementedError, match="check_forward_ad"):
        gradcheck(lambda a: a * 2, (rand(device, 2),), check_forward_ad=True)


def test_constant_and_integer_outputs(device):
    x = rand(device, 2, seed=13)
    assert gradcheck(lambda a: (a * 2, torch.ones(2, dtype=torch.float64, device=device)), (x,))
    assert gradcheck(lambda a: (a * 2, torch.tensor([3, 4], device=device)), (x,))


def test_non_reentrant_backward_is_caught(device):
    calls = [0]

    class Drifting(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            calls[0] += 1
            return g * (2 * x + calls[0] * 1e-9)

    x = rand(device, 2, seed=14)
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(Drifting.apply, (x,))
    assert gradcheck(Drifting.apply, (x,), nondet_tol=1e-6)


def test_backward_not_multiplied_by_grad_output_is_caught(device):
    class Offset(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g + 1e-2  # within atol of the Jacobian, but not zero for a zero grad_output

    x = torch.ones(1, dtype=torch.float64, device=device, requires_grad=True)
    with pytest.raises(GradcheckError, match="backward not multiplied by grad_output"):
        gradcheck(Offset.apply, (x,), atol=1e-1)
    assert gradcheck(Offset.apply, (x,), atol=1e-1, raise_exception=False) is False


def test_gradgradcheck_passes_on_correct_functions(device):
    x, y = rand(device, 2, 2, seed=15), rand(device, 2, 2, seed=16)
    assert gradgradcheck(lambda a, b: a * a * b + b / a, (x, y))
    assert gradgradcheck(Cube.apply, (x,))
    assert gradgradcheck(lambda a: a ** 3, (x,), gen_non_contig_grad_outputs=True)
    go = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64, device=device,
                      requires_grad=True)
    assert gradgradcheck(lambda a: a ** 3, (x,), (go,))
    assert gradgradcheck(Cube.apply, (x,), fast_mode=True)


def test_gradgradcheck_fails_on_wrong_double_backward(device):
    x = rand(device, 3, seed=17)
    assert gradcheck(FlatSecondDerivative.apply, (x,))  # first order is right
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(FlatSecondDerivative.apply, (x,))
    assert gradgradcheck(FlatSecondDerivative.apply, (x,), raise_exception=False) is False
    assert gradgradcheck(FlatSecondDerivative.apply, (x,), raise_exception=False,
                         fast_mode=True) is False


def test_gradgradcheck_of_once_differentiable_raises(device):
    class Once(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    x = rand(device, 2, seed=18)
    assert gradcheck(Once.apply, (x,))
    with pytest.raises(RuntimeError, match="trying to differentiate twice"):
        gradgradcheck(Once.apply, (x,))
