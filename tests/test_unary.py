"""Unary elementwise math, clamp, where and lerp against NumPy, on every device."""

import math
import re

import numpy as np
import pytest

import ferrotorch as torch
from helpers import FLOAT_DTYPES, INT_DTYPES, NP_DTYPES, TOL, to_np, tolerance

ALL = FLOAT_DTYPES + INT_DTYPES + [torch.bool]


def tensor(arr, dtype, device="cpu"):
    return torch.tensor(np.asarray(arr), dtype=dtype, device=device)


def as_dtype_values(arr, dtype):
    """The values `arr` takes once stored as `dtype` (what the op really sees), as float64."""
    return to_np(tensor(arr, dtype)).astype(np.float64)


def check(t, expected, dtype):
    got = to_np(t)
    assert got.shape == np.shape(expected), (got.shape, np.shape(expected))
    tol = tolerance(dtype, t.device) if dtype in TOL else dict(rtol=0, atol=0)
    np.testing.assert_allclose(got.astype(np.float64), np.asarray(expected, dtype=np.float64), equal_nan=True, **tol)


def not_implemented(msg, device):
    """A pattern for torch's '"<kernel>" not implemented for ...' text. torch names its CUDA
    kernels per op (e.g. "frac_cuda"): on CUDA only the dtype part is checked."""
    pattern = re.escape(msg)
    return pattern if device == "cpu" else re.sub(r'"\w+_cpu"', r'"\\w+"', pattern)


_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])

# name -> (NumPy reference on float64, low, high) with the sampling domain of the inputs.
FLOAT_OPS = {
    "exp": (np.exp, -5, 5),
    "exp2": (np.exp2, -5, 5),
    "log": (np.log, 0.05, 5),
    "log2": (np.log2, 0.05, 5),
    "log10": (np.log10, 0.05, 5),
    "log1p": (np.log1p, -0.9, 5),
    "expm1": (np.expm1, -3, 3),
    "sqrt": (np.sqrt, 0, 5),
    "rsqrt": (lambda x: 1 / np.sqrt(x), 0.1, 5),
    "sin": (np.sin, -4, 4),
    "cos": (np.cos, -4, 4),
    "tan": (np.tan, -1.2, 1.2),
    "asin": (np.arcsin, -0.99, 0.99),
    "acos": (np.arccos, -0.99, 0.99),
    "atan": (np.arctan, -4, 4),
    "sinh": (np.sinh, -3, 3),
    "cosh": (np.cosh, -3, 3),
    "tanh": (np.tanh, -3, 3),
    "asinh": (np.arcsinh, -4, 4),
    "acosh": (np.arccosh, 1, 5),
    "atanh": (np.arctanh, -0.95, 0.95),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), -6, 6),
    "erf": (_erf, -3, 3),
    "erfc": (_erfc, -3, 3),
    "reciprocal": (lambda x: 1 / x, 0.2, 4),
}
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh"}


@pytest.mark.parametrize("name", list(FLOAT_OPS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_ops_match_numpy(rng, name, dtype, device):
    ref, lo, hi = FLOAT_OPS[name]
    arr = rng.uniform(lo, hi, (3, 7))
    x = tensor(arr, dtype, device)
    xv = as_dtype_values(arr, dtype)
    expected = ref(xv)
    out = getattr(torch, name)(x)
    assert out.dtype == dtype and out.device.type == device
    check(out, expected, dtype)
    check(getattr(x, name)(), expected, dtype)


@pytest.mark.parametrize("name", list(FLOAT_OPS))
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
def test_float_ops_on_integers_give_default_float(rng, name, dtype, device):
    ref = FLOAT_OPS[name][0]
    arr = np.array([1, 2, 3, 0, 1]) if dtype != torch.bool else np.array([True, False, True])
    x = tensor(arr, dtype, device)
    out = getattr(torch, name)(x)
    assert out.dtype == torch.float32 and out.device.type == device
    with np.errstate(all="ignore"):
        check(out, ref(arr.astype(np.float64)), torch.float32)


def test_float_ops_follow_default_dtype(device):
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.exp(torch.tensor([1, 2], device=device)).dtype == torch.float64
        assert torch.sqrt(torch.tensor([True], device=device)).dtype == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)
    assert torch.exp(torch.tensor([1, 2], device=device)).dtype == torch.float32


@pytest.mark.parametrize("alias,target", list(ALIASES.items()))
def test_aliases(alias, target, device):
    x = torch.tensor([0.1, 0.5] if target != "acosh" else [1.5, 2.0], device=device)
    assert to_np(getattr(torch, alias)(x)).tolist() == to_np(getattr(torch, target)(x)).tolist()
    y = x.clone()
    getattr(y, alias + "_")()
    assert y.tolist() == getattr(x, target)().tolist()


def test_exp_large_and_special_values(rng, device):
    # CUDA's expf/tanhf differ from the CPU's by a few ulp (in the subnormal range an ulp is
    # 1.4e-45, hence the absolute part).
    tol = dict(rtol=3e-7, atol=0) if device == "cpu" else dict(rtol=2e-5, atol=1e-44)
    # Long enough for the parallel path; covers overflow, underflow, subnormals, inf and NaN.
    arr = rng.uniform(-110, 95, 100_003).astype(np.float32)
    arr[:6] = [np.nan, np.inf, -np.inf, 0.0, 88.7, -103.0]
    got = to_np(torch.exp(torch.tensor(arr, device=device)))
    with np.errstate(all="ignore"):
        want = np.exp(arr.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(got, want, rtol=tol["rtol"], atol=1e-44, equal_nan=True)
    assert got[1] == np.inf and got[2] == 0.0 and got[3] == 1.0 and got[5] > 0
    th = to_np(torch.tanh(torch.tensor(arr / 8, device=device)))
    np.testing.assert_allclose(th, np.tanh((arr / 8).astype(np.float64)), rtol=tol["rtol"], atol=1e-45, equal_nan=True)
    assert th[1] == 1.0 and th[2] == -1.0 and th[3] == 0.0
    # Values torch 2.11 gives (Sleef) where the approximations are weakest.
    th = to_np(torch.tanh(torch.tensor([0.122088, 5.884536, 0.3, 1e-5], device=device)))
    np.testing.assert_allclose(th, [0.12148500233888626, 0.9999845027923584, 0.29131263494491577, 9.999999747378752e-06], **tol)
    ex = to_np(torch.exp(torch.tensor([88.72284, 88.7228, -103.97, -104.0, -87.4], device=device)))
    np.testing.assert_allclose(ex, [np.inf, 3.4026946730843054e38, 1.401298464324817e-45, 0.0, 1.1032187391487278e-38], **tol)
    sig = torch.sigmoid(torch.tensor([-200.0, 200.0, 0.0, float("nan")], device=device)).tolist()
    assert sig[:3] == [0.0, 1.0, 0.5] and math.isnan(sig[3])


def test_erfinv_known_values_and_inverse(device):
    y = torch.tensor([0.0, 0.5, -0.5, 0.9, 1.0, -1.0, 1.5, -2.0, float("nan")], dtype=torch.float64, device=device)
    got = torch.erfinv(y).tolist()
    assert got[0] == 0.0
    assert abs(got[1] - 0.4769362762044699) < 1e-15
    assert abs(got[2] + 0.4769362762044699) < 1e-15
    assert abs(got[3] - 1.1630871536766743) < 1e-14
    assert got[4] == math.inf and got[5] == -math.inf
    assert all(math.isnan(v) for v in got[6:])
    ys = np.linspace(-0.999999, 0.999999, 2001)
    xs = to_np(torch.erfinv(torch.tensor(ys, device=device)))
    np.testing.assert_allclose(_erf(xs), ys, rtol=1e-14, atol=1e-16)
    # Deep in the tail, where 1 - y carries the information.
    for q in [1e-8, 1e-12, 1e-16]:
        y = 1 - q
        x = torch.erfinv(torch.tensor([y], dtype=torch.float64, device=device)).item()
        assert abs(math.erfc(x) - (1 - y)) / (1 - y) < 1e-12
    for dtype in [torch.float32, torch.float16, torch.bfloat16]:
        ys = np.linspace(-0.99, 0.99, 101)
        xs = to_np(torch.erfinv(tensor(ys, dtype, device))).astype(np.float64)
        np.testing.assert_allclose(_erf(xs), as_dtype_values(ys, dtype), **tolerance(dtype, device))


def _np_keep(name, arr):
    return {
        "abs": np.abs, "neg": np.negative, "sign": np.sign, "square": np.square,
        "relu": lambda a: np.maximum(a, 0).astype(a.dtype), "floor": np.floor, "ceil": np.ceil,
        "trunc": np.trunc, "round": np.round,
    }[name](arr)


KEEP = ["abs", "neg", "sign", "square", "relu", "floor", "ceil", "trunc", "round"]


@pytest.mark.parametrize("name", KEEP)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES + INT_DTYPES)
def test_dtype_keeping_ops(rng, name, dtype, device):
    if dtype in INT_DTYPES:
        lo = 0 if dtype == torch.uint8 else -11
        arr = rng.integers(lo, 11, (4, 5)).astype(NP_DTYPES[dtype])
        xv = arr
    else:
        arr = rng.uniform(-3, 3, (4, 5))
        arr[0, :4] = [0.5, 1.5, -2.5, 2.5]  # ties round to even
        xv = as_dtype_values(arr, dtype)
    x = tensor(arr, dtype, device)
    out = getattr(torch, name)(x)
    assert out.dtype == dtype and out.device.type == device
    with np.errstate(all="ignore"):
        expected = _np_keep(name, xv)
    if dtype in INT_DTYPES:
        np.testing.assert_array_equal(to_np(out), expected.astype(NP_DTYPES[dtype]))
    else:
        check(out, expected, dtype)


def test_integer_wraparound(device):
    x = torch.tensor([-128, 127, 0], dtype=torch.int8, device=device)
    assert torch.abs(x).tolist() == [-128, 127, 0]
    assert torch.neg(x).tolist() == [-128, -127, 0]
    assert torch.neg(torch.tensor([1, 0], dtype=torch.uint8, device=device)).tolist() == [255, 0]
    assert torch.square(torch.tensor([16], dtype=torch.uint8, device=device)).tolist() == [0]


def test_bool_rules(device):
    b = torch.tensor([True, False], device=device)
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        torch.neg(b)
    with pytest.raises(RuntimeError, match="Negation"):
        -b
    with pytest.raises(RuntimeError, match="The `\\+` operator, on a bool tensor"):
        +b
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        torch.relu(b)
    with pytest.raises(NotImplementedError, match=not_implemented("\"abs_cpu\" not implemented for 'Bool'", device)):
        torch.abs(b)
    for name in ["floor", "ceil", "round", "trunc"]:
        msg = f"\"{name}_vml_cpu\" not implemented for 'Bool'"
        with pytest.raises(NotImplementedError, match=not_implemented(msg, device)):
            getattr(torch, name)(b)
    with pytest.raises(NotImplementedError, match=not_implemented("\"frac_cpu\" not implemented for 'Bool'", device)):
        torch.frac(b)
    assert torch.sign(b).dtype == torch.bool and torch.sign(b).tolist() == [True, False]
    sq = torch.square(b)
    assert sq.dtype == torch.int64 and sq.tolist() == [1, 0]


def test_sign_and_sgn_special_values(device):
    x = torch.tensor([-2.0, 0.0, 3.0, float("nan"), -float("inf")], device=device)
    # torch's sign is (0 < x) - (x < 0): NaN gives 0.
    assert torch.sign(x).tolist() == [-1.0, 0.0, 1.0, 0.0, -1.0]
    assert torch.sgn(x).tolist() == [-1.0, 0.0, 1.0, 0.0, -1.0]
    assert torch.sign(torch.tensor([-5, 0, 7], device=device)).tolist() == [-1, 0, 1]


def test_frac_and_fix(rng, device):
    arr = rng.uniform(-5, 5, 20)
    x = tensor(arr, torch.float64, device)
    check(torch.frac(x), arr - np.trunc(arr), torch.float64)
    check(torch.fix(x), np.trunc(arr), torch.float64)
    with pytest.raises(NotImplementedError, match=not_implemented("\"frac_cpu\" not implemented for 'Long'", device)):
        torch.frac(torch.tensor([1, 2], device=device))


def test_round_decimals(rng, device):
    arr = rng.uniform(-100, 100, 50)
    x = tensor(arr, torch.float64, device)
    for d in [1, 2, 3, -1, -2]:
        check(torch.round(x, decimals=d), np.round(arr, d), torch.float64)
    y = tensor(arr, torch.float32, device)
    rtol = 1e-6 if device == "cpu" else tolerance(torch.float32, device)["rtol"]
    np.testing.assert_allclose(to_np(torch.round(y, decimals=2)), np.round(arr.astype(np.float32), 2), rtol=rtol)
    assert torch.round(torch.tensor([3, -4], device=device), decimals=0).tolist() == [3, -4]
    with pytest.raises(NotImplementedError, match=not_implemented("\"round_cpu\" not implemented for 'Long'", device)):
        torch.round(torch.tensor([3, -4], device=device), decimals=2)
    z = tensor([1.2345, 2.5], torch.float64, device)
    z.round_(decimals=2)
    assert z.tolist() == [1.23, 2.5]


def test_predicates(device):
    vals = [0.0, -1.5, float("nan"), float("inf"), -float("inf"), 3.0]
    arr = np.array(vals)
    cases = {
        "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite,
        "isposinf": np.isposinf, "isneginf": np.isneginf, "isreal": np.isreal,
    }
    for dtype in FLOAT_DTYPES:
        x = tensor(arr, dtype, device)
        for name, ref in cases.items():
            out = getattr(torch, name)(x)
            assert out.dtype == torch.bool and out.device.type == device
            assert out.tolist() == ref(arr).tolist(), (name, dtype)
    for dtype in INT_DTYPES + [torch.bool]:
        x = tensor([1, 0, 1], dtype, device)
        for name, ref in cases.items():
            assert getattr(x, name)().tolist() == ref(np.array([1.0, 0.0, 1.0])).tolist()


@pytest.mark.parametrize("dtype", ALL)
def test_logical_not(rng, dtype, device):
    arr = np.array([0, 1, 2, 0]).astype(NP_DTYPES.get(dtype, np.float32))
    x = tensor(arr, dtype, device)
    out = torch.logical_not(x)
    assert out.dtype == torch.bool and out.tolist() == [True, False, False, True]
    assert torch.logical_not(torch.tensor([float("nan")], device=device)).tolist() == [False]


def test_logical_not_out_and_inplace(device):
    x = torch.tensor([0.0, 2.0], device=device)
    out = torch.zeros(2, dtype=torch.float32, device=device)
    res = torch.logical_not(x, out=out)
    assert res is out and out.tolist() == [1.0, 0.0]
    x.logical_not_()
    assert x.dtype == torch.float32 and x.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("dtype", INT_DTYPES + [torch.bool])
def test_bitwise_not(rng, dtype, device):
    if dtype == torch.bool:
        arr = np.array([True, False])
    else:
        arr = np.array([0, 1, 5, 17]).astype(NP_DTYPES[dtype])
    x = tensor(arr, dtype, device)
    for out in (torch.bitwise_not(x), ~x):
        assert out.dtype == dtype
        np.testing.assert_array_equal(to_np(out), np.invert(arr))


def test_bitwise_not_float_errors(device):
    x = torch.tensor([1.0], device=device)
    msg = "\"bitwise_not_cpu\" not implemented for 'Float'"
    with pytest.raises(NotImplementedError, match=not_implemented(msg, device)):
        torch.bitwise_not(x)
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        ~x


def test_operators(rng, device):
    arr = rng.uniform(-3, 3, (2, 3))
    x = tensor(arr, torch.float64, device)
    check(-x, -arr, torch.float64)
    check(abs(x), np.abs(arr), torch.float64)
    assert +x is x
    assert torch.positive(x) is x
    check(torch.negative(x), -arr, torch.float64)
    check(torch.absolute(x), np.abs(arr), torch.float64)


# ---- clamp ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES + INT_DTYPES)
def test_clamp_numbers(rng, dtype, device):
    if dtype in INT_DTYPES:
        arr = rng.integers(0 if dtype == torch.uint8 else -10, 10, (3, 6)).astype(NP_DTYPES[dtype])
        lo, hi = 2, 6
    else:
        arr = rng.uniform(-3, 3, (3, 6))
        lo, hi = -1.0, 1.5
    x = tensor(arr, dtype, device)
    xv = to_np(x).astype(np.float64)
    for args, ref in [((lo, hi), np.clip(xv, lo, hi)), ((lo, None), np.maximum(xv, lo)),
                      ((None, hi), np.minimum(xv, hi))]:
        out = torch.clamp(x, *args)
        assert out.dtype == dtype and out.device.type == device
        check(out, ref, dtype)
    check(torch.clamp_min(x, lo), np.maximum(xv, lo), dtype)
    check(torch.clamp_max(x, hi), np.minimum(xv, hi), dtype)
    check(torch.clip(x, min=lo, max=hi), np.clip(xv, lo, hi), dtype)
    check(x.clamp(max=hi), np.minimum(xv, hi), dtype)


def test_clamp_promotion_and_rules(device):
    def t(values, **kw):
        return torch.tensor(values, device=device, **kw)

    i = t([1, 2, 3])
    out = torch.clamp(i, min=1.5)
    assert out.dtype == torch.float32 and out.tolist() == [1.5, 2.0, 3.0]
    assert torch.clamp(i, 0, 2).dtype == torch.int64
    # min > max: max wins.
    assert torch.clamp(t([0.0, 5.0]), 3.0, 1.0).tolist() == [1.0, 1.0]
    r = torch.clamp(t([float("nan"), 2.0]), 0.0, 1.0).tolist()
    assert math.isnan(r[0]) and r[1] == 1.0
    # A NaN number bound is ignored; a NaN tensor bound makes everything NaN (as torch).
    assert torch.clamp(t([1.5, -2.5]), min=float("nan")).tolist() == [1.5, -2.5]
    assert torch.clamp(t([1.5, -2.5]), max=float("nan")).tolist() == [1.5, -2.5]
    r = torch.clamp(t([1.5, -2.5]), min=t(float("nan"))).tolist()
    assert all(math.isnan(v) for v in r)
    # An int number bound does not promote uint8; -1 wraps to 255.
    u = torch.clamp(t([1, 2, 3], dtype=torch.uint8), min=-1)
    assert u.dtype == torch.uint8 and u.tolist() == [255, 255, 255]
    # Tensor bounds promote with the input.
    p = torch.clamp(t([1, 2, 3], dtype=torch.int8), min=t([2], dtype=torch.int16))
    assert p.dtype == torch.int16 and p.tolist() == [2, 2, 3]
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        torch.clamp(i)
    # torch spells the destination as a TypeMeta here.
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type long int"):
        i.clamp_(min=0.5)
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        i.clamp_min_(0.5)


def test_clamp_tensor_bounds(rng, device):
    arr = rng.uniform(-3, 3, (4, 5))
    lo = rng.uniform(-2, 0, (5,))
    hi = rng.uniform(0, 2, (4, 1))
    x = tensor(arr, torch.float64, device)
    tlo, thi = tensor(lo, torch.float64, device), tensor(hi, torch.float64, device)
    check(torch.clamp(x, tlo, thi), np.minimum(np.maximum(arr, lo), hi), torch.float64)
    check(torch.clamp(x, min=tlo), np.maximum(arr, lo), torch.float64)
    check(torch.clamp(x, max=thi), np.minimum(arr, hi), torch.float64)
    # Bounds broadcast the result beyond x's shape.
    small = tensor(arr[0], torch.float64, device)
    assert tuple(torch.clamp(small, max=thi).shape) == (4, 5)
    # A float32 bound tensor against an int tensor promotes.
    out = torch.clamp(torch.tensor([1, 5], device=device), max=torch.tensor([2.5, 2.5], device=device))
    assert out.dtype == torch.float32 and out.tolist() == [1.0, 2.5]
    # A 0-d bound tensor; on the CPU it may meet a tensor on any device (as in torch).
    five = torch.tensor([1.0, 5.0], device=device)
    assert torch.clamp(five, max=torch.tensor(2.0, device=device)).tolist() == [1.0, 2.0]
    assert torch.clamp(five, max=torch.tensor(2.0)).tolist() == [1.0, 2.0]


# ---- nan_to_num --------------------------------------------------------------------------

FINITE_MAX = {torch.float16: 65504.0, torch.bfloat16: 3.3895313892515355e38,
              torch.float32: float(np.finfo(np.float32).max), torch.float64: float(np.finfo(np.float64).max)}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_to_num(dtype, device):
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), 1.5], dtype=dtype, device=device)
    big = FINITE_MAX[dtype]
    assert torch.nan_to_num(x).tolist() == [0.0, big, -big, 1.5]
    assert torch.nan_to_num(x, nan=2.0, posinf=1.0, neginf=-1.0).tolist() == [2.0, 1.0, -1.0, 1.5]
    assert x.nan_to_num(posinf=7.0).tolist() == [0.0, 7.0, -big, 1.5]
    x.nan_to_num_(nan=-3.0)
    assert x.tolist() == [-3.0, big, -big, 1.5]


def test_nan_to_num_integers(device):
    x = torch.tensor([1, -2, 3], device=device)
    out = torch.nan_to_num(x)
    assert out.dtype == torch.int64 and out.tolist() == [1, -2, 3]


# ---- where ---------------------------------------------------------------------------------

def test_where(rng, device):
    c = rng.random((3, 4)) > 0.5
    a = rng.uniform(-1, 1, (3, 4)).astype(np.float32)
    b = rng.uniform(-1, 1, (4,)).astype(np.float32)
    tc, ta, tb = (torch.tensor(v, device=device) for v in (c, a, b))
    out = torch.where(tc, ta, tb)
    assert out.dtype == torch.float32 and out.device.type == device
    np.testing.assert_array_equal(to_np(out), np.where(c, a, b))
    np.testing.assert_array_equal(to_np(ta.where(tc, tb)), np.where(c, a, b))
    i = torch.tensor([[1, 2, 3, 4]] * 3, device=device)
    assert torch.where(tc, i, 0).dtype == torch.int64
    assert torch.where(tc, i, 2.5).dtype == torch.float32
    assert torch.where(tc, 1.0, 0.0).dtype == torch.float32
    assert torch.where(tc, 1, 0).dtype == torch.int64
    np.testing.assert_array_equal(to_np(torch.where(tc, i, 2.5)), np.where(c, np.array([1, 2, 3, 4.0]), 2.5))
    mixed = torch.where(tc, ta, torch.tensor(b.astype(np.float64), device=device))
    assert mixed.dtype == torch.float64
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor, but got a tensor with dtype Float"):
        torch.where(ta, ta, tb)
    # uint8 conditions are still accepted (deprecated in torch).
    cu = torch.tensor([1, 0, 2], dtype=torch.uint8, device=device)
    assert torch.where(cu, torch.tensor([1, 2, 3], device=device), 0).tolist() == [1, 0, 3]
    with pytest.raises(RuntimeError):
        torch.where(tc, ta, torch.zeros(5, device=device))


def test_where_one_argument(device):
    cond = torch.tensor([[True, False], [False, True]], device=device)
    rows, cols = torch.where(cond)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    assert rows.device.type == device


def test_where_out(device):
    c = torch.tensor([True, False], device=device)
    out = torch.zeros(2, dtype=torch.float64, device=device)
    res = torch.where(c, torch.tensor([1.0, 2.0], device=device), torch.tensor([3.0, 4.0], device=device), out=out)
    assert res is out and out.tolist() == [1.0, 4.0]


# ---- lerp ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_lerp(rng, dtype, device):
    s = rng.uniform(-3, 3, (3, 4))
    e = rng.uniform(-3, 3, (3, 4))
    w = rng.uniform(-0.5, 1.5, (4,))
    ts, te, tw = tensor(s, dtype, device), tensor(e, dtype, device), tensor(w, dtype, device)
    sv, ev, wv = (as_dtype_values(v, dtype) for v in (s, e, w))
    check(torch.lerp(ts, te, tw), sv + wv * (ev - sv), dtype)
    check(torch.lerp(ts, te, 0.25), sv + 0.25 * (ev - sv), dtype)
    check(ts.lerp(te, 0.75), sv + 0.75 * (ev - sv), dtype)
    # weight == 1 gives `end` exactly.
    assert to_np(torch.lerp(ts, te, 1.0)).tolist() == to_np(te).tolist()


def test_lerp_errors(device):
    def t(values, **kw):
        return torch.tensor(values, device=device, **kw)

    f = t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        torch.lerp(f, t([1.0, 2.0], dtype=torch.float64), 0.5)
    with pytest.raises(RuntimeError, match="for `weight`"):
        torch.lerp(f, f, t([0.5, 0.5], dtype=torch.float64))
    msg = "\"lerp_kernel_scalar\" not implemented for 'Long'"
    if device != "cpu":
        msg = "not implemented for 'Long'"  # torch's CUDA kernel has another name
    with pytest.raises(NotImplementedError, match=re.escape(msg)):
        torch.lerp(t([1, 2]), t([3, 4]), 0.5)
    # A 0-d weight may have another dtype.
    w = t(0.5, dtype=torch.float64)
    assert torch.lerp(f, t([3.0, 4.0]), w).tolist() == [2.0, 3.0]
    x = t([0.0, 10.0])
    assert x.lerp_(t([10.0, 20.0]), 0.5) is x
    assert x.tolist() == [5.0, 15.0]


# ---- in-place, out=, layouts ---------------------------------------------------------------

SOME_OPS = ["exp", "log1p", "sin", "tanh", "sqrt", "abs", "neg", "floor", "round", "sigmoid", "erf", "square"]


@pytest.mark.parametrize("name", SOME_OPS)
def test_inplace_returns_self(rng, name, device):
    arr = rng.uniform(0.1, 3, (3, 4))
    x = tensor(arr, torch.float64, device)
    expected = getattr(torch, name)(x).tolist()
    ptr = x.data_ptr()
    assert getattr(x, name + "_")() is x
    assert x.data_ptr() == ptr and x.tolist() == expected
    y = tensor(arr, torch.float64, device)
    assert getattr(torch, name + "_")(y) is y and y.tolist() == expected


@pytest.mark.parametrize("name", ["exp", "sqrt", "sin", "sigmoid", "reciprocal", "erfinv"])
def test_inplace_float_op_on_integers_raises(name, device):
    x = torch.tensor([1, 2, 3], device=device)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        getattr(x, name + "_")()
    assert x.tolist() == [1, 2, 3]


def test_inplace_integer_ops(device):
    x = torch.tensor([-3, 4], dtype=torch.int32, device=device)
    x.abs_()
    assert x.tolist() == [3, 4] and x.dtype == torch.int32
    x.neg_()
    assert x.tolist() == [-3, -4]
    x.floor_()
    assert x.tolist() == [-3, -4]


def test_out(rng, device):
    rtol = 1e-6 if device == "cpu" else tolerance(torch.float32, device)["rtol"]
    arr = rng.uniform(0.1, 3, (2, 3)).astype(np.float32)
    x = torch.tensor(arr, device=device)
    out = torch.empty(2, 3, device=device)
    ptr = out.data_ptr()
    res = torch.exp(x, out=out)
    assert res is out and out.data_ptr() == ptr
    np.testing.assert_allclose(to_np(out), np.exp(arr), rtol=rtol)
    # A wider out dtype takes the converted result.
    out64 = torch.empty(2, 3, dtype=torch.float64, device=device)
    torch.sqrt(x, out=out64)
    np.testing.assert_allclose(to_np(out64), np.sqrt(arr), rtol=rtol)
    # A wrongly shaped out is resized.
    odd = torch.empty(5, device=device)
    torch.sin(x, out=odd)
    assert tuple(odd.shape) == (2, 3)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        torch.exp(x, out=torch.empty(2, 3, dtype=torch.int64, device=device))
    # out aliasing the input.
    y = torch.tensor(arr, device=device)
    torch.neg(y, out=y)
    np.testing.assert_array_equal(to_np(y), -arr)
    with pytest.raises(TypeError):
        torch.exp(x, out=3)


# CPU only: out= over memory shared with NumPy.
def test_out_into_numpy_memory(rng):
    arr = rng.uniform(0.1, 3, (2, 3)).astype(np.float32)
    mem = np.zeros((2, 3), dtype=np.float32)
    torch.exp(torch.from_numpy(arr), out=torch.from_numpy(mem))
    np.testing.assert_allclose(mem, np.exp(arr), rtol=1e-6)
    y = torch.from_numpy(arr.copy())
    torch.neg(y, out=y)
    np.testing.assert_array_equal(y.numpy(), -arr)


@pytest.mark.parametrize("name", list(FLOAT_OPS) + KEEP + ["frac", "isnan", "logical_not"])
def test_noncontiguous_0d_and_empty(rng, name, device):
    ref_fn = getattr(torch, name)
    base = rng.uniform(0.2, 0.9, (4, 6)) + (1 if name == "acosh" else 0)
    t = torch.tensor(base, device=device)[:, ::2]
    assert not t.is_contiguous()
    expected = ref_fn(torch.tensor(np.ascontiguousarray(base[:, ::2]), device=device))
    got = ref_fn(t)
    assert got.device.type == device
    np.testing.assert_array_equal(to_np(got), to_np(expected))
    fortran = torch.tensor(np.ascontiguousarray(base.T), device=device).t()  # column-major
    np.testing.assert_array_equal(to_np(ref_fn(fortran)), to_np(ref_fn(torch.tensor(base, device=device))))
    v0 = 1.5 if name == "acosh" else 0.5
    zero_d = ref_fn(torch.tensor(v0, dtype=torch.float64, device=device))
    assert tuple(zero_d.shape) == ()
    assert to_np(zero_d).item() == to_np(ref_fn(torch.tensor([v0], dtype=torch.float64, device=device)))[0]
    empty = ref_fn(torch.empty(0, 3, device=device))
    assert tuple(empty.shape) == (0, 3)


# CPU only: NumPy views become tensors over the same memory.
@pytest.mark.parametrize("name", ["exp", "round", "isnan"])
def test_noncontiguous_numpy_views(rng, name):
    ref_fn = getattr(torch, name)
    base = rng.uniform(0.2, 0.9, (4, 6))
    view = torch.from_numpy(base[:, ::2])
    assert not view.is_contiguous()
    np.testing.assert_array_equal(ref_fn(view).numpy(), ref_fn(torch.tensor(base[:, ::2])).numpy())
    fortran = torch.from_numpy(np.asfortranarray(base))
    np.testing.assert_array_equal(ref_fn(fortran).numpy(), ref_fn(torch.tensor(base)).numpy())


def test_inplace_on_noncontiguous_view(rng, device):
    base = rng.uniform(0.2, 0.9, (4, 6))
    t = torch.tensor(base, device=device)
    view = t[:, ::2]
    view.exp_()
    got = to_np(t)
    # CUDA's exp is within an ulp or two of NumPy's.
    np.testing.assert_allclose(got[:, ::2], np.exp(base[:, ::2]), rtol=1e-15 if device == "cpu" else 1e-7)
    np.testing.assert_array_equal(got[:, 1::2], base[:, 1::2])  # untouched
    assert t.shape == (4, 6)


# CPU only: the write must show through the NumPy array the tensor shares memory with.
def test_inplace_on_noncontiguous_numpy_view(rng):
    base = rng.uniform(0.2, 0.9, (4, 6))
    t = torch.from_numpy(base)  # shares memory with base
    view = torch.from_numpy(base[:, ::2])
    expected = np.exp(base[:, ::2])
    untouched = base[:, 1::2].copy()
    view.exp_()
    np.testing.assert_allclose(base[:, ::2], expected, rtol=1e-15)
    np.testing.assert_array_equal(base[:, 1::2], untouched)
    assert t.shape == (4, 6)


# ---- broadcasting over random shapes -------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _broadcastable(draw, base):
    """A shape that broadcasts against `base`: a suffix of it with some dims set to 1."""
    k = draw(st.integers(0, len(base)))
    return tuple(1 if draw(st.booleans()) else n for n in base[len(base) - k:])


@st.composite
def three_shapes(draw):
    base = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=3)))
    return base, _broadcastable(draw, base), _broadcastable(draw, base)


@settings(max_examples=25, deadline=None)
@given(three_shapes(), st.integers(0, 2**31 - 1))
def test_broadcasting_ternaries(device, shapes, seed):  # @given fills the rightmost arguments
    rng = np.random.default_rng(seed)
    sa, sb, sc = shapes
    a, b, c = rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb), rng.uniform(-2, 2, sc)

    def t(v):
        return torch.tensor(np.asarray(v), device=device)

    ta, tb = t(a), t(b)
    np.testing.assert_array_equal(to_np(torch.where(t(c > 0), ta, tb)), np.where(c > 0, a, b))
    lo, hi = np.minimum(b, c), np.maximum(b, c)
    got = torch.clamp(ta, t(lo), t(hi))
    np.testing.assert_array_equal(to_np(got), np.minimum(np.maximum(a, lo), hi))
    w = np.abs(c) / 2
    got = to_np(torch.lerp(ta, tb, t(w)))
    np.testing.assert_allclose(got, a + w * (b - a), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stmt,kernel,dtype_name", [
    ("torch.frac(torch.tensor([1], device=device))", "frac", "Long"),
    ("torch.floor(torch.tensor([True], device=device))", "floor", "Bool"),
    ("torch.bitwise_not(torch.tensor([1.0], device=device))", "bitwise_not", "Float"),
    ("torch.round(torch.tensor([1], device=device), decimals=1)", "round", "Long"),
])
def test_dtype_errors_name_the_devices_kernel(stmt, kernel, dtype_name, device):
    suffix = "cuda" if device != "cpu" else ("vml_cpu" if kernel == "floor" else "cpu")
    with pytest.raises((RuntimeError, NotImplementedError), match=f'"{kernel}_{suffix}" not implemented for \'{dtype_name}\''):
        eval(stmt, dict(torch=torch, device=device))
