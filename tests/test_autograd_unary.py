"""Autograd of the unary/ternary elementwise family and of the conversions.

Every differentiable op is checked with gradcheck and gradgradcheck in float64 (contiguous,
transposed and sliced inputs), its ``grad_fn`` name against torch's, its in-place form, its
``out=`` refusal when an input requires grad, and torch's values at non-differentiable points.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from ferrotorch.autograd import gradcheck, gradgradcheck
from helpers import to_np, tolerance


def _away_from_integers(a):
    """Moves values to k + [0.15, 0.85] so rounding functions are locally constant."""
    return np.floor(a) + 0.15 + 0.7 * (a - np.floor(a))


def _away_from_zero(a):
    return np.where(np.abs(a) < 0.2, np.sign(a + 1e-9) * 0.2 + a, a)


# name -> (domain of random inputs, transform that keeps them away from kinks)
GENERAL = (-2.0, 2.0)
POSITIVE = (0.2, 3.0)
UNIT = (-0.9, 0.9)
ABOVE_ONE = (1.2, 3.0)
UNARY = {
    "neg": (GENERAL, None, "NegBackward0"),
    "exp": (GENERAL, None, "ExpBackward0"),
    "exp2": (GENERAL, None, "Exp2Backward0"),
    "expm1": (GENERAL, None, "Expm1Backward0"),
    "log": (POSITIVE, None, "LogBackward0"),
    "log2": (POSITIVE, None, "Log2Backward0"),
    "log10": (POSITIVE, None, "Log10Backward0"),
    "log1p": (UNIT, None, "Log1PBackward0"),
    "sqrt": (POSITIVE, None, "SqrtBackward0"),
    "rsqrt": (POSITIVE, None, "RsqrtBackward0"),
    "sin": (GENERAL, None, "SinBackward0"),
    "cos": (GENERAL, None, "CosBackward0"),
    "tan": (UNIT, None, "TanBackward0"),
    "asin": (UNIT, None, "AsinBackward0"),
    "acos": (UNIT, None, "AcosBackward0"),
    "atan": (GENERAL, None, "AtanBackward0"),
    "sinh": (GENERAL, None, "SinhBackward0"),
    "cosh": (GENERAL, None, "CoshBackward0"),
    "tanh": (GENERAL, None, "TanhBackward0"),
    "asinh": (GENERAL, None, "AsinhBackward0"),
    "acosh": (ABOVE_ONE, None, "AcoshBackward0"),
    "atanh": (UNIT, None, "AtanhBackward0"),
    "sigmoid": (GENERAL, None, "SigmoidBackward0"),
    "erf": (GENERAL, None, "ErfBackward0"),
    "erfc": (GENERAL, None, "ErfcBackward0"),
    "erfinv": (UNIT, None, "ErfinvBackward0"),
    "reciprocal": (GENERAL, _away_from_zero, "ReciprocalBackward0"),
    "abs": (GENERAL, _away_from_zero, "AbsBackward0"),
    "relu": (GENERAL, _away_from_zero, "ReluBackward0"),
    "square": (GENERAL, None, "PowBackward0"),
    "sign": (GENERAL, _away_from_zero, "SignBackward0"),
    "sgn": (GENERAL, _away_from_zero, "SgnBackward0"),
    "floor": (GENERAL, _away_from_integers, "FloorBackward0"),
    "ceil": (GENERAL, _away_from_integers, "CeilBackward0"),
    "trunc": (GENERAL, _away_from_integers, "TruncBackward0"),
    "round": (GENERAL, _away_from_integers, "RoundBackward0"),
    "frac": (GENERAL, _away_from_integers, "FracBackward0"),
    "nan_to_num": (GENERAL, None, "NanToNumBackward0"),
}
ALIASES = {
    "absolute": "abs", "negative": "neg", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "fix": "trunc",
}


def _grad(y, x, w=None, **kwargs):
    """Gradient of ``sum(y * w)`` (``w`` defaults to ones) with respect to ``x``."""
    return torch.autograd.grad(y, x, torch.ones_like(y) if w is None else w, **kwargs)


def _backward(y):
    y.backward(torch.ones_like(y))


def _values(rng, domain, transform, shape):
    lo, hi = domain
    a = rng.uniform(lo, hi, shape)
    return transform(a) if transform else a


def _leaf(device, a, layout="contiguous"):
    """A float64 leaf that requires grad: contiguous, transposed (Fortran order) or sliced."""
    if layout == "transposed":
        # A row-major copy of the transpose, permuted back.
        t = torch.tensor(np.ascontiguousarray(a.T), dtype=torch.float64, device=device)
        t = t.permute(*reversed(range(a.ndim))).detach()
    elif layout == "sliced":
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],))
        wide[..., ::2] = a
        t = torch.tensor(wide, dtype=torch.float64, device=device)[..., ::2].detach()
    else:
        t = torch.tensor(a, dtype=torch.float64, device=device)
    assert (layout == "contiguous") == t.is_contiguous()
    return t.requires_grad_()


def _f32_tol(device):
    """NumPy's default tolerance for float32 results on the CPU; on CUDA, whose libm is a few
    ulp off NumPy's, the CUDA tolerance."""
    return {} if device == "cpu" else tolerance(torch.float32, device)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck_andgradgradcheck(name, layout, device):
    domain, transform, _ = UNARY[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    x = _leaf(device, _values(rng, domain, transform, (3, 4)), layout)
    fn = getattr(torch, name)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_grad_fn_name_and_first_derivative_value(name, device):
    domain, transform, node = UNARY[name]
    rng = np.random.default_rng(1)
    a = _values(rng, domain, transform, (5,))
    x = torch.tensor(a, device=device, requires_grad=True)
    y = getattr(torch, name)(x)
    assert y.grad_fn.name() == node
    assert y.requires_grad and not y.is_leaf and y.device.type == device
    # Compare with a central difference computed in NumPy through the forward op itself.
    (g,) = _grad(y, x)
    eps = 1e-6
    with torch.no_grad():
        up = to_np(getattr(torch, name)(torch.tensor(a + eps, device=device)))
        down = to_np(getattr(torch, name)(torch.tensor(a - eps, device=device)))
    np.testing.assert_allclose(to_np(g), (up - down) / (2 * eps), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_aliases_record_their_targets_node(alias, device):
    target = ALIASES[alias]
    domain, transform, node = UNARY[target]
    a = _values(np.random.default_rng(2), domain, transform, (4,))
    x = torch.tensor(a, device=device, requires_grad=True)
    assert getattr(torch, alias)(x).grad_fn.name() == node
    assert getattr(x, alias)().grad_fn.name() == node


@pytest.mark.parametrize("name", sorted(UNARY))
def test_inplace_forms_match_out_of_place(name, device):
    domain, transform, node = UNARY[name]
    a = _values(np.random.default_rng(3), domain, transform, (2, 3))
    x = torch.tensor(a, device=device, requires_grad=True)
    w = torch.tensor(np.random.default_rng(4).uniform(0.5, 1.5, (2, 3)), device=device)
    (want,) = _grad(getattr(torch, name)(x), x, w)
    y = x * 1.0
    out = getattr(y, name + "_")()
    assert out is y
    assert y.grad_fn.name() == node
    (got,) = _grad(y, x, w)
    np.testing.assert_allclose(to_np(got), to_np(want), rtol=1e-12, atol=1e-12)
    # Module-level in-place functions (torch.exp_ ...) where torch has them.
    if hasattr(torch, name + "_"):
        z = x * 1.0
        getattr(torch, name + "_")(z)
        assert z.grad_fn.name() == node


def test_inplace_on_a_leaf_that_requires_grad_raises(device):
    x = torch.tensor([0.5, 1.0], device=device, requires_grad=True)
    for call in (lambda: x.exp_(), lambda: x.clamp_(0, 1), lambda: x.round_(), lambda: x.relu_(),
                 lambda: x.nan_to_num_(), lambda: x.lerp_(torch.ones(2, device=device), 0.5)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            call()
    with torch.no_grad():
        x.exp_()
    np.testing.assert_allclose(to_np(x), np.exp([0.5, 1.0]), **_f32_tol(device))


def test_inplace_through_a_view_reaches_the_base(device):
    x = torch.tensor([0.5, -1.0, 2.0], device=device, requires_grad=True)
    y = x * 1.0
    v = y[1:]
    v.exp_()
    (g,) = _grad(y, x)
    np.testing.assert_allclose(to_np(g), [1.0, np.exp(-1.0), np.exp(2.0)], **_f32_tol(device))


@pytest.mark.parametrize("call", [
    lambda x, o: torch.exp(x, out=o),
    lambda x, o: torch.sigmoid(x, out=o),
    lambda x, o: torch.abs(x, out=o),
    lambda x, o: torch.round(x, decimals=1, out=o),
    lambda x, o: torch.clamp(x, 0, 1, out=o),
    lambda x, o: torch.clamp_min(x, 0, out=o),
    lambda x, o: torch.nan_to_num(x, out=o),
    lambda x, o: torch.lerp(x, torch.zeros(3, dtype=torch.float64, device=x.device), 0.5, out=o),
    lambda x, o: torch.where(x > 0, x, 0.0, out=o),
])
def test_out_with_requires_grad_raises(call, device):
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, device=device, requires_grad=True)
    out = torch.empty(3, dtype=torch.float64, device=device)
    with pytest.raises(RuntimeError, match=r"functions with out=\.\.\. arguments don't support automatic differentiation, but one of the arguments requires grad\."):
        call(x, out)
    # Without grad mode the raw kernel writes into out.
    with torch.no_grad():
        assert call(x, out) is out


def test_out_names_the_op(device):
    x = torch.tensor([0.5], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^sigmoid\(\): functions with out="):
        torch.sigmoid(x, out=torch.empty(1, device=device))
    # out= without any input requiring grad works as before.
    o = torch.empty(1, device=device)
    assert torch.sigmoid(torch.tensor([0.0], device=device), out=o) is o
    assert o.item() == 0.5


def test_values_at_non_differentiable_points_follow_torch(device):
    def grad_of(fn, values):
        x = torch.tensor(values, dtype=torch.float64, device=device, requires_grad=True)
        _backward(fn(x))
        return to_np(x.grad)

    np.testing.assert_array_equal(grad_of(torch.abs, [-2.0, 0.0, 3.0]), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_of(torch.relu, [-2.0, 0.0, 3.0]), [0.0, 0.0, 1.0])
    for fn in (torch.sign, torch.sgn, torch.floor, torch.ceil, torch.trunc, torch.round):
        np.testing.assert_array_equal(grad_of(fn, [-1.0, 0.0, 0.5, 2.5]), [0.0] * 4)
    np.testing.assert_array_equal(grad_of(lambda x: torch.round(x, decimals=2), [0.125, 0.5]), [0.0, 0.0])
    # clamp passes the gradient where min <= x <= max, bounds included.
    np.testing.assert_array_equal(grad_of(lambda x: x.clamp(0, 1), [-1.0, 0.0, 0.5, 1.0, 2.0]),
                                  [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(grad_of(lambda x: x.clamp(min=0), [-1.0, 0.0, 1.0]), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(grad_of(lambda x: x.clamp(max=0), [-1.0, 0.0, 1.0]), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(grad_of(lambda x: x.clamp_min(0), [-1.0, 0.0, 1.0]), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(grad_of(lambda x: x.clamp_max(0), [-1.0, 0.0, 1.0]), [1.0, 1.0, 0.0])
    # nan_to_num: no gradient where the input is NaN or infinite.
    np.testing.assert_array_equal(grad_of(torch.nan_to_num, [float("nan"), float("inf"), -float("inf"), 2.0]),
                                  [0.0, 0.0, 0.0, 1.0])
    # sqrt'(0) = inf, log'(0) = inf, as torch.
    assert grad_of(torch.sqrt, [0.0])[0] == np.inf
    assert grad_of(torch.log, [0.0])[0] == np.inf
    # relu of NaN passes the gradient (threshold_backward keeps it where result <= 0 fails).
    assert grad_of(torch.relu, [float("nan")])[0] == 1.0


# ---- clamp / clip ------------------------------------------------------------------------------

def test_clamp_grad_fn_names(device):
    x = torch.tensor([0.5, 2.0], device=device, requires_grad=True)
    t = torch.tensor([0.0, 1.0], device=device)
    assert x.clamp(0, 1).grad_fn.name() == "ClampBackward1"
    assert x.clamp(min=0).grad_fn.name() == "ClampBackward1"
    assert torch.clip(x, max=1.0).grad_fn.name() == "ClampBackward1"
    assert x.clamp(t, t + 1).grad_fn.name() == "ClampBackward0"
    assert x.clamp(min=t).grad_fn.name() == "ClampBackward0"
    assert x.clamp_min(0.0).grad_fn.name() == "ClampMinBackward0"
    assert x.clamp_min(t).grad_fn.name() == "ClampMinBackward1"
    assert x.clamp_max(1.0).grad_fn.name() == "ClampMaxBackward0"
    assert x.clamp_max(t).grad_fn.name() == "ClampMaxBackward1"


def test_clamp_gradcheck_with_scalar_and_broadcast_tensor_bounds(device):
    rng = np.random.default_rng(5)
    # Keep x away from the bounds.
    a = rng.choice([-1.0, 1.0], (3, 4)) * rng.uniform(0.1, 0.4, (3, 4)) + rng.choice([-1.0, 0.5, 2.0], (3, 4))
    x = _leaf(device, a)
    for fn in (lambda x: x.clamp(-0.5, 1.0), lambda x: x.clamp(min=0.0), lambda x: x.clamp(max=0.0),
               lambda x: torch.clip(x, -0.5, 1.0)):
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
    lo = _leaf(device, np.array([-0.5, 0.0, 1.0, -3.0]))
    hi = _leaf(device, np.array([[1.25], [0.75], [3.0]]))
    assert gradcheck(lambda x, lo, hi: torch.clamp(x, lo, hi), (x, lo, hi))
    assert gradgradcheck(lambda x, lo, hi: torch.clamp(x, lo, hi), (x, lo, hi))
    assert gradcheck(lambda x, lo: torch.clamp_min(x, lo), (x, lo))
    assert gradcheck(lambda x, hi: torch.clamp_max(x, hi), (x, hi))
    assert gradcheck(lambda x, lo: x.clamp(min=lo), (_leaf(device, a, "transposed"), lo))


def test_clamp_bounds_get_the_gradient_where_they_win(device):
    x = torch.tensor([-2.0, 0.5, 3.0, 0.5], device=device, requires_grad=True)
    lo = torch.tensor([0.0, 0.0, 0.0, 2.0], device=device, requires_grad=True)
    hi = torch.tensor([1.0, 1.0, 1.0, 1.0], device=device, requires_grad=True)
    y = torch.clamp(x, lo, hi)
    # Last element: min > max gives max, and max (not min) gets the gradient.
    np.testing.assert_array_equal(to_np(y), [0.0, 0.5, 1.0, 1.0])
    _backward(y)
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(to_np(lo.grad), [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(to_np(hi.grad), [0.0, 0.0, 1.0, 1.0])
    # A 0-d bound broadcast over x gets the summed gradient.
    b = torch.tensor(0.0, device=device, requires_grad=True)
    _backward(torch.tensor([-1.0, -2.0, 1.0], device=device).clamp_min(b))
    assert b.grad.item() == 2.0


def test_clamp_inplace_with_tensor_bound_records_and_checks_dtype(device):
    x = torch.tensor([-1.0, 0.5, 2.0], device=device, requires_grad=True)
    lo = torch.tensor(0.0, device=device, requires_grad=True)
    y = x * 1.0
    y.clamp_(min=lo, max=1.0)
    assert y.grad_fn.name() == "ClampBackward0"
    _backward(y)
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 1.0, 0.0])
    assert lo.grad.item() == 1.0
    # An integer tensor cannot take a float result in place (grad mode changes nothing).
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type long int"):
        lo = torch.tensor(0.5, device=device, requires_grad=True)
        torch.tensor([1, 2], device=device).clamp_(min=lo)


# ---- lerp / where ------------------------------------------------------------------------------

def test_lerp_grad_fn_names_and_gradcheck(device):
    rng = np.random.default_rng(6)
    x, end = _leaf(device, rng.normal(size=(3, 4))), _leaf(device, rng.normal(size=(4,)))
    w = _leaf(device, rng.uniform(-0.2, 1.2, (3, 1)))
    assert torch.lerp(x, end, 0.3).grad_fn.name() == "LerpBackward0"
    assert torch.lerp(x, end, w).grad_fn.name() == "LerpBackward1"
    for weight in (0.3, 0.8):
        assert gradcheck(lambda x, e: torch.lerp(x, e, weight), (x, end))
        assert gradgradcheck(lambda x, e: torch.lerp(x, e, weight), (x, end))
    assert gradcheck(torch.lerp, (x, end, w))
    assert gradgradcheck(torch.lerp, (x, end, w))
    assert gradcheck(torch.lerp, (_leaf(device, rng.normal(size=(3, 4)), "sliced"), end, w))


def test_lerp_inplace(device):
    x = torch.tensor([0.0, 1.0], device=device, requires_grad=True)
    e = torch.tensor([2.0, 3.0], device=device, requires_grad=True)
    y = x * 1.0
    y.lerp_(e, 0.25)
    assert y.grad_fn.name() == "LerpBackward0"
    np.testing.assert_allclose(to_np(y), [0.5, 1.5])
    _backward(y)
    np.testing.assert_allclose(to_np(x.grad), [0.75, 0.75])
    np.testing.assert_allclose(to_np(e.grad), [0.25, 0.25])


def test_where_gradcheck_broadcast_and_scalars(device):
    rng = np.random.default_rng(7)
    a, b = _leaf(device, rng.normal(size=(3, 4))), _leaf(device, rng.normal(size=(4,)))
    cond = torch.tensor(rng.random((3, 1)) > 0.5, device=device)
    y = torch.where(cond, a, b)
    assert y.grad_fn.name() == "WhereBackward0"
    assert gradcheck(lambda a, b: torch.where(cond, a, b), (a, b))
    assert gradgradcheck(lambda a, b: torch.where(cond, a, b), (a, b))
    assert gradcheck(lambda a: torch.where(cond, a, 0.0), (a,))
    assert gradcheck(lambda a: a.where(cond, 1.5),
                     (_leaf(device, rng.normal(size=(3, 4)), "transposed"),))
    # Values: the condition routes each element's gradient.
    x = torch.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    _backward(torch.where(x > 1.5, x * x, -x))
    np.testing.assert_array_equal(to_np(x.grad), [-1.0, 4.0, 6.0])


# ---- extra arguments ---------------------------------------------------------------------------

def test_round_decimals_and_nan_to_num_arguments(device):
    x = torch.tensor([0.123, 4.5678], device=device, requires_grad=True)
    assert torch.round(x, decimals=2).grad_fn.name() == "RoundBackward1"
    assert x.round().grad_fn.name() == "RoundBackward0"
    y = torch.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0)
    assert y.grad_fn.name() == "NanToNumBackward0"
    a = _leaf(device, np.random.default_rng(8).normal(size=(3, 3)))
    assert gradcheck(lambda x: torch.nan_to_num(x, nan=0.5), (a,))
    assert gradgradcheck(lambda x: torch.nan_to_num(x, nan=0.5), (a,))


# ---- non-differentiable outputs ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal",
                                  "logical_not", "signbit"])
def test_bool_outputs_have_no_grad_fn(name, device):
    if not hasattr(torch, name):
        pytest.skip(f"ferrotorch has no {name}")
    x = torch.tensor([0.5, -1.0], device=device, requires_grad=True)
    y = getattr(torch, name)(x)
    assert y.dtype == torch.bool
    assert y.grad_fn is None and not y.requires_grad


def test_integer_conversions_have_no_grad_fn(device):
    x = torch.tensor([0.5, -1.5], device=device, requires_grad=True)
    for y in (x.long(), x.int(), x.to(torch.int64), x.bool(), x.type(torch.int32), x.byte()):
        assert y.grad_fn is None and not y.requires_grad


def test_logical_not_inplace_on_a_graph_tensor_fails_on_backward(device):
    x = torch.tensor([0.5, 0.0], device=device, requires_grad=True)
    y = x * 1.0
    y.logical_not_()
    np.testing.assert_array_equal(to_np(y), [0.0, 1.0])
    with pytest.raises(RuntimeError, match="the derivative for 'logical_not_' is not implemented"):
        _backward(y)


def test_no_grad_records_nothing(device):
    x = torch.tensor([0.5], device=device, requires_grad=True)
    with torch.no_grad():
        for y in (x.exp(), x.clamp(0, 1), x.lerp(x, 0.5), x.double(), x.clone(), torch.where(x > 0, x, x)):
            assert y.grad_fn is None and not y.requires_grad


# ---- conversions -------------------------------------------------------------------------------

def test_dtype_conversions_record_to_copy(device):
    x = torch.tensor([1.5, -2.0], dtype=torch.float64, device=device, requires_grad=True)
    assert x.double() is x
    assert x.to(torch.float64) is x
    assert x.type(torch.float64) is x
    for y in (x.float(), x.half(), x.bfloat16(), x.to(torch.float32), x.type(torch.float32),
              x.type("torch.FloatTensor"), x.to(torch.float64, copy=True), x.to(dtype=torch.float16)):
        assert y.grad_fn.name() == "ToCopyBackward0"
    y = x.float()
    y.backward(torch.tensor([2.0, 3.0], device=device))
    assert x.grad.dtype == torch.float64
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 3.0])
    # float32 -> float64 -> float32 round trip keeps the gradient's dtype at every step.
    f = torch.tensor([1.0, 2.0], device=device, requires_grad=True)
    (g,) = _grad(f.double().exp(), f)
    assert g.dtype == torch.float32
    np.testing.assert_allclose(to_np(g), np.exp([1.0, 2.0]), rtol=1e-6)


def test_conversions_gradcheck(device):
    a = np.random.default_rng(9).normal(size=(3, 4))
    for layout in ("contiguous", "transposed", "sliced"):
        x = _leaf(device, a, layout)
        for fn in (lambda x: x.clone(), lambda x: x.contiguous(), lambda x: x.to(torch.float64, copy=True),
                   lambda x: x.clone().exp()):
            assert gradcheck(fn, (x,))
            assert gradgradcheck(fn, (x,))


def test_clone_and_contiguous(device):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    assert x.clone().grad_fn.name() == "CloneBackward0"
    assert torch.clone(x).grad_fn.name() == "CloneBackward0"
    assert x.contiguous() is x
    t = _leaf(device, np.arange(6.0).reshape(2, 3), "transposed")
    c = t.contiguous()
    assert c.is_contiguous() and c.grad_fn.name() == "CloneBackward0"
    c.backward(torch.tensor(np.arange(6.0).reshape(2, 3) + 1, device=device))
    np.testing.assert_array_equal(to_np(t.grad), np.arange(6.0).reshape(2, 3) + 1)


# ---- hypothesis: shapes and strides ------------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    name=st.sampled_from(["sigmoid", "tanh", "exp", "sin", "atan", "erf"]),
    transposed=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_hypothesis_shapes(shape, name, transposed, seed, device):
    a = np.random.default_rng(seed).uniform(-1.5, 1.5, shape)
    layout = "transposed" if transposed and len(shape) >= 2 and min(shape) > 1 else "contiguous"
    x = _leaf(device, a, layout)
    fn = getattr(torch, name)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_empty_and_zero_dim_inputs(device):
    e = torch.zeros(0, 3, dtype=torch.float64, device=device, requires_grad=True)
    _backward(torch.exp(e))
    assert e.grad.shape == (0, 3)
    s = torch.tensor(0.25, dtype=torch.float64, device=device, requires_grad=True)
    torch.sigmoid(s).backward()
    np.testing.assert_allclose(s.grad.item(), 1 / (1 + np.exp(-0.25)) * (1 - 1 / (1 + np.exp(-0.25))))
    assert gradgradcheck(torch.tanh, (s,))


def test_double_backward_values(device):
    # d2/dx2 tanh(x) = -2 tanh(x) (1 - tanh(x)^2)
    x = torch.tensor([0.3, -0.7], dtype=torch.float64, device=device, requires_grad=True)
    (g,) = _grad(torch.tanh(x), x, create_graph=True)
    (gg,) = _grad(g, x)
    t = np.tanh([0.3, -0.7])
    np.testing.assert_allclose(to_np(gg), -2 * t * (1 - t * t), rtol=1e-12)
    # d2/dx2 sigmoid(x) = s (1 - s) (1 - 2 s)
    (g,) = _grad(torch.sigmoid(x), x, create_graph=True)
    (gg,) = _grad(g, x)
    s = 1 / (1 + np.exp(-np.array([0.3, -0.7])))
    np.testing.assert_allclose(to_np(gg), s * (1 - s) * (1 - 2 * s), rtol=1e-12)
