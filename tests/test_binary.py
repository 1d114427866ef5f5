"""Binary elementwise ops, comparisons, logical/bitwise ops and operator dunders against NumPy,
on every device."""

import operator
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from helpers import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, NP_DTYPES, TOL, to_np, tolerance

NUMERIC = INT_DTYPES + FLOAT_DTYPES
NP_FLOATS = [torch.float32, torch.float64, torch.float16]


# ---------------------------------------------------------------------------------- helpers


def arr(rng, shape, dtype, nonzero=False, small=False):
    """Random values every dtype holds exactly; `nonzero` for divisors, `small` for exponents."""
    if dtype == torch.bool:
        a = np.array(rng.random(shape) > 0.5)
        return np.ones(shape, bool) if nonzero else a
    if dtype in INT_DTYPES:
        lo = 0 if dtype == torch.uint8 else (-3 if small else -20)
        a = np.array(rng.integers(lo, 4 if small else 20, shape), dtype=NP_DTYPES[dtype])
        if small:
            a = np.abs(a)
        if nonzero:
            a[a == 0] = 1
        return a
    np_dt = np.float32 if dtype == torch.bfloat16 else NP_DTYPES[dtype]
    a = np.array(rng.random(shape) * 6 - 3, dtype=np_dt)
    if nonzero:
        a[np.abs(a) < 0.25] = 0.5
    return a


def tensor(a, dtype, layout="contiguous", device="cpu"):
    """A tensor of `a` as `dtype` on `device`, optionally as a non-contiguous view."""
    if layout == "contiguous" or a.ndim < 2:
        return torch.tensor(a, dtype=dtype, device=device)
    if layout == "fortran":  # column-major: the transpose of a row-major tensor of the reversed shape
        t = torch.tensor(np.ascontiguousarray(a.T), dtype=dtype, device=device)
        t = t.permute(*reversed(range(a.ndim)))
    else:  # "strided": every other column of a wider tensor
        t = torch.tensor(np.repeat(a, 2, axis=-1), dtype=dtype, device=device)[..., ::2]
    assert not t.is_contiguous()
    return t


def rounded(a, dtype):
    """`a` as the values a tensor of `dtype` holds (bfloat16 rounding made visible)."""
    if dtype == torch.bfloat16:
        return to_np(torch.tensor(a, dtype=dtype))
    return a.astype(NP_DTYPES[dtype])


def check(got, expected, dtype):
    """`got` (a tensor of dtype `dtype`) equals `expected` within the dtype's tolerance on its device."""
    assert got.dtype == dtype, (got.dtype, dtype)
    g = to_np(got)
    e = np.asarray(expected)
    assert g.shape == e.shape, (g.shape, e.shape)
    if dtype in TOL:
        tol = tolerance(dtype, got.device)
        np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64), equal_nan=True, **tol)
    else:
        np.testing.assert_array_equal(g, e.astype(g.dtype))


def np_xlogy(x, y):
    with np.errstate(all="ignore"):
        r = np.where(x == 0, 0.0, x * np.log(y))
    return np.where(np.isnan(y), np.nan, r)


def np_div_floor(x, y):
    return np.floor_divide(x, y)


# op name -> (torch function, numpy oracle, supported dtypes, kind). kind: "arith" keeps the
# common dtype, "float" turns integers into the default float, "bool" returns bool.
OPS = {
    "add": (torch.add, np.add, ALL_DTYPES, "arith"),
    "sub": (torch.sub, np.subtract, NUMERIC, "arith"),
    "mul": (torch.mul, np.multiply, ALL_DTYPES, "arith"),
    "div": (torch.div, np.true_divide, ALL_DTYPES, "float"),
    "floor_divide": (torch.floor_divide, np_div_floor, INT_DTYPES + NP_FLOATS, "arith"),
    "div_trunc": (lambda a, b, **k: torch.div(a, b, rounding_mode="trunc", **k),
                  lambda x, y: np.trunc(np.true_divide(x, y)).astype(np.result_type(x, y)),
                  INT_DTYPES + NP_FLOATS, "arith"),
    "remainder": (torch.remainder, np.remainder, INT_DTYPES + NP_FLOATS, "arith"),
    "fmod": (torch.fmod, np.fmod, INT_DTYPES + NP_FLOATS, "arith"),
    "pow": (torch.pow, np.power, NUMERIC, "arith"),
    "atan2": (torch.atan2, np.arctan2, ALL_DTYPES, "float"),
    "hypot": (torch.hypot, np.hypot, FLOAT_DTYPES, "arith"),
    "copysign": (torch.copysign, np.copysign, ALL_DTYPES, "float"),
    "xlogy": (torch.xlogy, np_xlogy, NP_FLOATS + INT_DTYPES, "float"),
    "maximum": (torch.maximum, np.maximum, ALL_DTYPES, "arith"),
    "minimum": (torch.minimum, np.minimum, ALL_DTYPES, "arith"),
    "fmax": (torch.fmax, np.fmax, ALL_DTYPES, "arith"),
    "fmin": (torch.fmin, np.fmin, ALL_DTYPES, "arith"),
    "eq": (torch.eq, np.equal, ALL_DTYPES, "bool"),
    "ne": (torch.ne, np.not_equal, ALL_DTYPES, "bool"),
    "lt": (torch.lt, np.less, ALL_DTYPES, "bool"),
    "le": (torch.le, np.less_equal, ALL_DTYPES, "bool"),
    "gt": (torch.gt, np.greater, ALL_DTYPES, "bool"),
    "ge": (torch.ge, np.greater_equal, ALL_DTYPES, "bool"),
    "logical_and": (torch.logical_and, np.logical_and, ALL_DTYPES, "bool"),
    "logical_or": (torch.logical_or, np.logical_or, ALL_DTYPES, "bool"),
    "logical_xor": (torch.logical_xor, np.logical_xor, ALL_DTYPES, "bool"),
    "bitwise_and": (torch.bitwise_and, np.bitwise_and, INT_DTYPES + [torch.bool], "arith"),
    "bitwise_or": (torch.bitwise_or, np.bitwise_or, INT_DTYPES + [torch.bool], "arith"),
    "bitwise_xor": (torch.bitwise_xor, np.bitwise_xor, INT_DTYPES + [torch.bool], "arith"),
    "bitwise_left_shift": (torch.bitwise_left_shift, np.left_shift, INT_DTYPES, "arith"),
    "bitwise_right_shift": (torch.bitwise_right_shift, np.right_shift, INT_DTYPES, "arith"),
}
DIVIDES = {"div", "floor_divide", "div_trunc", "remainder", "fmod"}
SMALL_RHS = {"pow", "bitwise_left_shift", "bitwise_right_shift"}
# Ops whose results jump at integers: bfloat16 rounding would make NumPy in float32 disagree.
NO_BF16 = {"floor_divide", "div_trunc", "remainder", "fmod", "xlogy"}


def result_dtype(kind, dtype):
    if kind == "bool":
        return torch.bool
    if kind == "float" and not dtype.is_floating_point:
        return torch.float32
    return dtype


def cases():
    for name, (_, _, dtypes, _) in OPS.items():
        for dt in dtypes:
            if dt == torch.bfloat16 and name in NO_BF16:
                continue
            yield pytest.param(name, dt, id=f"{name}-{str(dt).split('.')[-1]}")


def operands(rng, name, dtype, sa, sb):
    a = arr(rng, sa, dtype)
    b = arr(rng, sb, dtype, nonzero=name in DIVIDES, small=name in SMALL_RHS)
    if name == "xlogy":
        b = np.array(np.abs(b), dtype=b.dtype)
        if dtype in FLOAT_DTYPES:
            b += b.dtype.type(0.1)
        elif dtype in INT_DTYPES:
            b[b == 0] = 1
    if name == "pow" and dtype in FLOAT_DTYPES:
        a = np.abs(a) + a.dtype.type(0.5)  # positive bases: no NaN from fractional exponents
    return a, b


def expected(name, dtype, a, b):
    fn_np = OPS[name][1]
    ra, rb = rounded(a, dtype), rounded(b, dtype)
    if OPS[name][3] == "float" and not dtype.is_floating_point:
        # torch converts integers to float32 first (NumPy would pick float16 for int8).
        ra, rb = ra.astype(np.float32), rb.astype(np.float32)
    with np.errstate(all="ignore"):
        return fn_np(ra, rb)


# ---------------------------------------------------------------------------- every op / dtype


@pytest.mark.parametrize("name,dtype", list(cases()))
def test_op_matches_numpy_with_broadcasting(name, dtype, rng, device):
    fn, _, _, kind = OPS[name]
    for sa, sb in [((3, 1, 4), (5, 1)), ((2, 3), (2, 3)), ((), (4,)), ((4,), ()), ((0, 3), (3,))]:
        a, b = operands(rng, name, dtype, sa, sb)
        out = fn(tensor(a, dtype, device=device), tensor(b, dtype, device=device))
        assert out.device.type == device
        check(out, expected(name, dtype, a, b), result_dtype(kind, dtype))


@pytest.mark.parametrize("layout", ["fortran", "strided"])
@pytest.mark.parametrize("name", list(OPS))
def test_op_on_non_contiguous_inputs(name, layout, rng, device):
    fn, _, dtypes, kind = OPS[name]
    dtype = torch.float32 if torch.float32 in dtypes else torch.int32
    a, b = operands(rng, name, dtype, (4, 6), (4, 6))
    out = fn(tensor(a, dtype, layout, device), tensor(b, dtype, layout, device))
    check(out, expected(name, dtype, a, b), result_dtype(kind, dtype))
    # And against a contiguous operand broadcast along the first dim.
    out = fn(tensor(a, dtype, layout, device), tensor(b[:1], dtype, device=device))
    check(out, expected(name, dtype, a, b[:1]), result_dtype(kind, dtype))


@pytest.mark.parametrize("name", [n for n in OPS if n not in ("bitwise_left_shift",)])
def test_large_inputs_use_the_parallel_path(name, rng, device):
    fn, _, dtypes, kind = OPS[name]
    dtype = torch.float64 if torch.float64 in dtypes else torch.int64
    a, b = operands(rng, name, dtype, (70000,), (70000,))
    ta = tensor(a, dtype, device=device)
    check(fn(ta, tensor(b, dtype, device=device)), expected(name, dtype, a, b), result_dtype(kind, dtype))
    # Scalar on the right, then on the left.
    check(fn(ta, tensor(b[:1], dtype, device=device)), expected(name, dtype, a, b[:1]), result_dtype(kind, dtype))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=0, max_size=4),
    st.lists(st.booleans(), min_size=4, max_size=4),
    st.sampled_from(["add", "mul", "maximum", "lt", "remainder"]),
)
def test_random_broadcast_shapes(device, shape, drop, name):  # @given fills the rightmost arguments
    rng = np.random.default_rng(len(shape))
    sb = tuple(1 if d else s for s, d in zip(shape, drop))[rng.integers(0, len(shape) + 1):]
    fn, _, _, kind = OPS[name]
    a, b = operands(rng, name, torch.int64, tuple(shape), sb)
    out = fn(tensor(a, torch.int64, device=device), tensor(b, torch.int64, device=device))
    check(out, expected(name, torch.int64, a, b), result_dtype(kind, torch.int64))


# -------------------------------------------------------------------------------- operators

BINOPS = [
    (operator.add, np.add), (operator.sub, np.subtract), (operator.mul, np.multiply),
    (operator.truediv, np.true_divide), (operator.floordiv, np.floor_divide),
    (operator.mod, np.remainder), (operator.pow, np.power),
]


@pytest.mark.parametrize("op,np_op", BINOPS, ids=lambda f: getattr(f, "__name__", ""))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int32])
def test_arithmetic_operators_with_numbers_on_either_side(op, np_op, dtype, rng, device):
    a = arr(rng, (3, 4), dtype, nonzero=True, small=True)
    if dtype.is_floating_point:
        a = np.abs(a) + a.dtype.type(0.5)
    t = tensor(a, dtype, device=device)
    for s in (2, 3.0):
        res = op(t, s)
        assert res.device.type == device
        exp_dt = torch.float32 if (isinstance(s, float) and not dtype.is_floating_point) else dtype
        if op is operator.truediv and not dtype.is_floating_point:
            exp_dt = torch.float32
        with np.errstate(all="ignore"):
            check(res, np_op(a.astype(np.float64), s), exp_dt)
            if op is operator.pow and not dtype.is_floating_point and isinstance(s, int):
                check(op(s, t), np_op(s, a), dtype)  # int ** int tensor stays integral
            else:
                check(op(s, t), np_op(s, a.astype(np.float64)), exp_dt)


@pytest.mark.parametrize("op,np_op", [
    (operator.and_, np.bitwise_and), (operator.or_, np.bitwise_or), (operator.xor, np.bitwise_xor),
    (operator.lshift, np.left_shift), (operator.rshift, np.right_shift),
])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int8, torch.uint8])
def test_bitwise_operators(op, np_op, dtype, rng, device):
    a = arr(rng, (5,), dtype)
    b = arr(rng, (5,), dtype, small=True)
    ta, tb = tensor(a, dtype, device=device), tensor(b, dtype, device=device)
    check(op(ta, tb), np_op(a, b), dtype)
    check(op(ta, 2), np_op(a, a.dtype.type(2)), dtype)
    check(op(3, tb), np_op(b.dtype.type(3), b), dtype)


def test_bool_bitwise_operators(device):
    a = torch.tensor([True, True, False], device=device)
    b = torch.tensor([True, False, False], device=device)
    assert (a & b).tolist() == [True, False, False]
    assert (a | b).tolist() == [True, True, False]
    assert (a ^ b).tolist() == [False, True, False]
    assert (a & b).dtype == torch.bool
    assert (a & 1).dtype == torch.int64


@pytest.mark.parametrize("op,np_op", [
    (operator.eq, np.equal), (operator.ne, np.not_equal), (operator.lt, np.less),
    (operator.le, np.less_equal), (operator.gt, np.greater), (operator.ge, np.greater_equal),
])
def test_comparison_operators(op, np_op, rng, device):
    a = arr(rng, (3, 4), torch.int64)
    t = torch.tensor(a, device=device)
    check(op(t, 2), np_op(a, 2), torch.bool)
    check(op(2, t), np_op(2, a), torch.bool)  # reflected: 2 < t is t > 2
    check(op(t, 2.5), np_op(a, 2.5), torch.bool)
    check(op(t, torch.tensor(a[::-1].copy(), device=device)), np_op(a, a[::-1]), torch.bool)


def test_unknown_operands_give_not_implemented(device):
    t = torch.tensor([1.0, 2.0], device=device)
    assert (t == "a") is False
    assert (t != None) is True  # noqa: E711
    for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
               operator.mod, operator.pow, operator.and_, operator.lshift, operator.lt):
        with pytest.raises(TypeError):
            op(t, "a")
        if op is operator.mod:
            continue  # "a" % t is str formatting: a Tensor has __getitem__, so it is a mapping
        with pytest.raises(TypeError):
            op("a", t)
    with pytest.raises(TypeError):
        t += "a"


# A property of the Python object, not of any device's data: CPU only.
def test_hash_is_identity_and_tensors_work_as_dict_keys():
    a, b = torch.tensor([1.0]), torch.tensor([1.0])
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2 and len({a, b, a}) == 2
    assert hash(a) == hash(a) and hash(a) != hash(b)


def test_zero_dim_cpu_tensors_combine_with_tensors_on_any_device(device):
    t = torch.tensor([1.0, 2.0], device=device)
    r = t + torch.tensor(2.0)  # a 0-d CPU tensor takes part like a number, as in torch
    assert r.device.type == device and r.tolist() == [3.0, 4.0]
    r = torch.tensor(3) * t
    assert r.device.type == device and r.tolist() == [3.0, 6.0]
    if device != "cpu":
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            t + torch.tensor([1.0, 2.0])


# ------------------------------------------------------------------------------- promotion

D = torch
PROMOTION = [
    # (lhs, rhs, torch's result dtype). Tensors are (dtype, ndim); numbers are Python values.
    ((D.int32, 1), 2.5, D.float32),
    ((D.int64, 1), True, D.int64),
    ((D.bool, 1), 1, D.int64),
    ((D.bool, 1), 1.5, D.float32),
    ((D.uint8, 1), (D.int8, 1), D.int16),
    ((D.uint8, 1), -1, D.uint8),
    ((D.int8, 1), 1000, D.int8),
    ((D.float16, 1), (D.float64, 0), D.float16),
    ((D.int32, 1), (D.float64, 0), D.float64),
    ((D.int32, 1), (D.int64, 0), D.int32),
    ((D.float32, 1), (D.float64, 1), D.float64),
    ((D.bfloat16, 1), (D.float16, 1), D.float32),
    ((D.int16, 0), 2.5, D.float32),
    ((D.int16, 0), (D.int32, 0), D.int32),
    ((D.float16, 1), 2.5, D.float16),
    (3, (D.int32, 1), D.int32),
    (2.0, (D.int64, 1), D.float32),
    ((D.bool, 1), (D.bool, 1), D.bool),
]


def _operand(spec, device):
    if isinstance(spec, tuple):
        dtype, ndim = spec
        return torch.tensor([1] if ndim else 1, dtype=dtype, device=device)
    return spec


@pytest.mark.parametrize("lhs,rhs,expected", PROMOTION)
def test_add_and_mul_promote_like_torch(lhs, rhs, expected, device):
    a, b = _operand(lhs, device), _operand(rhs, device)
    assert (a + b).dtype == expected
    assert (a * b).dtype == expected


def test_op_specific_result_dtypes(device):
    i = torch.tensor([4, 6], dtype=torch.int32, device=device)
    assert (i / i).dtype == torch.float32
    assert torch.true_divide(i, 2).dtype == torch.float32
    assert (i // 4).dtype == torch.int32 and (i % 4).dtype == torch.int32
    assert torch.atan2(i, i).dtype == torch.float32
    assert torch.copysign(i, -1).dtype == torch.float32
    assert torch.float_power(i, 2).dtype == torch.float64
    assert torch.float_power(torch.tensor([2.0], device=device), 2).dtype == torch.float64
    assert (i == 4.0).dtype == torch.bool
    assert torch.logical_and(i, torch.tensor([1.5, 0.0], device=device)).dtype == torch.bool
    assert (2 ** i).dtype == torch.int32 and (2.5 ** i).dtype == torch.float32
    torch.set_default_dtype(torch.float64)
    try:
        assert (i / i).dtype == torch.float64
        assert (i + 1.5).dtype == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)


# --------------------------------------------------------------------------- special values


def test_division_rounding_modes_and_signs(device):
    def t(values):
        return torch.tensor(values, device=device)

    a = t([-7, 7, -7, 7])
    b = t([2, -2, -2, 2])
    assert torch.div(a, b, rounding_mode="trunc").tolist() == [-3, -3, 3, 3]
    assert torch.div(a, b, rounding_mode="floor").tolist() == [-4, -4, 3, 3]
    assert (a // b).tolist() == [-4, -4, 3, 3]
    assert (a % b).tolist() == [1, -1, -1, 1]
    assert torch.fmod(a, b).tolist() == [-1, 1, -1, 1]
    f = t([-7.5, 7.5])
    assert torch.div(f, 2, rounding_mode="floor").tolist() == [-4.0, 3.0]
    assert torch.div(f, 2, rounding_mode="trunc").tolist() == [-3.0, 3.0]
    assert (f % -2).tolist() == [-1.5, -0.5]
    assert torch.fmod(f, -2).tolist() == [-1.5, 1.5]
    assert (5 % t([3, -3])).tolist() == [2, -1]
    assert torch.remainder(-5, t([3])).tolist() == [1]
    z = (t([1.0, -1.0, 0.0]) / 0).tolist()
    assert z[0] == float("inf") and z[1] == float("-inf") and z[2] != z[2]


# CPU only: torch's CUDA kernels do not check divisors (a check would cost a device round trip);
# test_cuda_elementwise.py covers what they give.
@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("fn", [
    lambda a, b: a // b, lambda a, b: a % b, torch.fmod, torch.floor_divide,
    lambda a, b: torch.div(a, b, rounding_mode="trunc"), lambda a, b: torch.div(a, b, rounding_mode="floor"),
])
def test_integer_division_by_zero_raises(fn, dtype):
    a = torch.tensor([5, 6], dtype=dtype)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(a, torch.tensor([1, 0], dtype=dtype))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(a, 0)
    assert (a / 0).dtype == torch.float32  # true division is fine


def test_integer_extremes_wrap_without_crashing(device):
    m = torch.tensor([-(2**63)], dtype=torch.int64, device=device)
    assert (m // -1).tolist() == [-(2**63)]
    assert (m % -1).tolist() == [0]
    i8 = torch.tensor([100], dtype=torch.int8, device=device)
    assert (i8 + i8).tolist() == [-56]
    assert (i8 * 3).tolist() == [44]
    assert (torch.tensor([250], dtype=torch.uint8, device=device) + 10).tolist() == [4]


def test_integer_pow(device):
    base = torch.tensor([2, -2, 1, -1, 0, 3], device=device)
    assert (base ** 3).tolist() == [8, -8, 1, -1, 0, 27]
    assert (base ** torch.tensor([-1, -2, -3, -3, 2, 0], device=device)).tolist() == [0, 0, 1, -1, 0, 1]
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed."):
        base ** -1
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed."):
        base.pow_(-2)
    assert (torch.tensor([2.0, 4.0], device=device) ** -1).tolist() == [0.5, 0.25]
    assert (2 ** torch.tensor([3, 0], device=device)).tolist() == [8, 1]
    assert torch.pow(2, torch.tensor([1.0, 3.0], device=device)).tolist() == [2.0, 8.0]
    assert (torch.tensor([3], dtype=torch.uint8, device=device) ** 6).tolist() == [729 % 256]


def test_shifts_follow_torch_for_out_of_range_amounts(device):
    a = torch.tensor([-8, 8], device=device)
    assert (a << 64).tolist() == [0, 0]
    assert (a >> 64).tolist() == [-1, 0]
    assert (a << -1).tolist() == [0, 0]
    assert (a >> 1).tolist() == [-4, 4]
    u = torch.tensor([255], dtype=torch.uint8, device=device)
    assert (u >> 9).tolist() == [0] and (u << 1).tolist() == [254]
    assert torch.bitwise_left_shift(1, torch.tensor([3], device=device)).tolist() == [8]


def test_nan_handling_of_min_max(device):
    nan = float("nan")
    a = torch.tensor([1.0, nan, nan, 3.0], device=device)
    b = torch.tensor([nan, 2.0, nan, 1.0], device=device)
    mx = torch.maximum(a, b).tolist()
    assert all(v != v for v in mx[:3]) and mx[3] == 3.0
    mn = torch.minimum(a, b).tolist()
    assert all(v != v for v in mn[:3]) and mn[3] == 1.0
    fm = torch.fmax(a, b).tolist()
    assert fm[0] == 1.0 and fm[1] == 2.0 and fm[2] != fm[2] and fm[3] == 3.0
    fn = torch.fmin(a, b).tolist()
    assert fn[0] == 1.0 and fn[1] == 2.0 and fn[3] == 1.0
    assert (a == a).tolist() == [True, False, False, True]
    assert (a != a).tolist() == [False, True, True, False]


def test_xlogy_and_logical_truthiness(device):
    def t(values):
        return torch.tensor(values, device=device)

    nan = float("nan")
    assert torch.xlogy(t([0.0, 2.0, 0.0]), t([0.0, 1.0, nan])).tolist()[:2] == [0.0, 0.0]
    assert torch.xlogy(2, t([1.0])).tolist() == [0.0]
    assert torch.logical_and(t([nan, 0.0, 2.0]), t([1, 1, 0])).tolist() == [True, False, False]
    assert torch.logical_xor(t([1, 0]), 1).tolist() == [False, True]


def test_add_sub_alpha(device):
    a = torch.tensor([1.0, 2.0], device=device)
    b = torch.tensor([10.0, 20.0], device=device)
    assert torch.add(a, b, alpha=2).tolist() == [21.0, 42.0]
    assert torch.sub(a, b, alpha=0.5).tolist() == [-4.0, -8.0]
    assert a.add(3, alpha=2).tolist() == [7.0, 8.0]
    i = torch.tensor([1, 2], device=device)
    assert i.sub(i, alpha=3).tolist() == [-2, -4]
    with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
        i.add(i, alpha=0.5)
    with pytest.raises(RuntimeError, match="Boolean alpha only supported for Boolean results"):
        a.add(b, alpha=True)
    c = a.clone()
    c.add_(b, alpha=-1)
    assert c.tolist() == [-9.0, -18.0]


def test_bfloat16_arithmetic_rounds_to_bfloat16(device):
    a = torch.tensor([1.0, 2.0, 3.0], dtype=torch.bfloat16, device=device)
    r = a / 3
    assert r.dtype == torch.bfloat16 and r.device.type == device
    np.testing.assert_allclose(r.tolist(), [1 / 3, 2 / 3, 1.0], rtol=1e-2)
    assert (a + 0.001).tolist() == [1.0, 2.0, 3.0]  # below bfloat16 resolution


# ------------------------------------------------------------------------ in-place / augmented

INPLACE = [
    ("add_", operator.iadd, np.add), ("sub_", operator.isub, np.subtract),
    ("mul_", operator.imul, np.multiply), ("div_", operator.itruediv, np.true_divide),
    ("floor_divide_", operator.ifloordiv, np.floor_divide), ("remainder_", operator.imod, np.remainder),
    ("pow_", operator.ipow, np.power),
]


def _inplace_operands(rng):
    base = (np.abs(arr(rng, (3, 4), torch.float32)) + 0.5).astype(np.float32)
    other = np.abs(arr(rng, (4,), torch.float32, nonzero=True)).astype(np.float32)
    return base, other


@pytest.mark.parametrize("method,iop,np_op", INPLACE, ids=[m for m, _, _ in INPLACE])
def test_augmented_assignment_writes_into_self(method, iop, np_op, rng, device):
    base, other = _inplace_operands(rng)
    exp = np_op(base, other)
    for use_method in (False, True):
        t = torch.tensor(base, device=device)
        ptr, ident = t.data_ptr(), id(t)
        if use_method:
            r = getattr(t, method)(torch.tensor(other, device=device))
            assert r is t
        else:
            t = iop(t, torch.tensor(other, device=device))
        assert id(t) == ident and t.data_ptr() == ptr
        check(t, exp, torch.float32)


# CPU only: the result must show through the NumPy array the tensor shares memory with.
@pytest.mark.parametrize("method,iop,np_op", INPLACE, ids=[m for m, _, _ in INPLACE])
def test_augmented_assignment_writes_into_numpy_memory(method, iop, np_op, rng):
    base, other = _inplace_operands(rng)
    exp = np_op(base, other)
    for use_method in (False, True):
        mem = base.copy()
        t = torch.from_numpy(mem)
        if use_method:
            getattr(t, method)(torch.tensor(other))
        else:
            t = iop(t, torch.tensor(other))
        np.testing.assert_allclose(mem, exp, rtol=1e-5)


def test_in_place_on_non_contiguous_self_and_views(device):
    t = torch.arange(12, device=device).reshape(3, 4)
    view = t[:, ::2]
    view += 100
    assert t.tolist() == [[100, 1, 102, 3], [104, 5, 106, 7], [108, 9, 110, 11]]
    f = torch.tensor([[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]], dtype=torch.float64, device=device).t()
    assert not f.is_contiguous()  # column-major [[0, 1, 2], [3, 4, 5]]
    f *= torch.tensor([1.0, 10.0, 100.0], device=device)
    assert f.tolist() == [[0.0, 10.0, 200.0], [3.0, 40.0, 500.0]]


# CPU only: NumPy views become tensors over the same memory.
def test_in_place_on_non_contiguous_numpy_views():
    mem = np.arange(12, dtype=np.int64).reshape(3, 4)
    view = torch.from_numpy(mem[:, ::2])
    view += 100
    assert mem.tolist() == [[100, 1, 102, 3], [104, 5, 106, 7], [108, 9, 110, 11]]
    f = np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3))
    t = torch.from_numpy(f)
    t *= torch.tensor([1.0, 10.0, 100.0])
    assert f.tolist() == [[0.0, 10.0, 200.0], [3.0, 40.0, 500.0]]


def test_in_place_scalar_and_self_aliasing(device):
    t = torch.tensor([1.0, 2.0, 3.0], device=device)
    t += t
    assert t.tolist() == [2.0, 4.0, 6.0]
    t.mul_(t)
    assert t.tolist() == [4.0, 16.0, 36.0]
    big = torch.ones(100000, device=device)
    big += 2
    big *= big
    assert big.min().item() == 9.0 and big.max().item() == 9.0


def test_in_place_with_overlapping_views(device):
    m = np.arange(9, dtype=np.int64).reshape(3, 3)
    t = torch.tensor(m, device=device)
    t += t.t()  # a transposed view of self
    assert t.tolist() == (m + m.T).tolist()
    v = torch.arange(6, dtype=torch.float64, device=device)
    torch.mul(v[:-1], 10, out=v[1:])
    assert v.tolist() == [0.0, 0.0, 10.0, 20.0, 30.0, 40.0]
    w = torch.tensor([1.0, 2.0, 3.0], device=device)
    w -= w[:1]  # a broadcast element of self, read before it is changed
    assert w.tolist() == [0.0, 1.0, 2.0]


# CPU only: separate tensors (from NumPy views) over one memory, which no storage identity links.
def test_in_place_with_overlapping_views_of_one_numpy_array():
    m = np.arange(9, dtype=np.int64).reshape(3, 3)
    expected = (m + m.T).tolist()
    t = torch.from_numpy(m)
    t += torch.from_numpy(m.T)  # another tensor object over the same memory, transposed
    assert m.tolist() == expected
    v = np.arange(6, dtype=np.float64)
    torch.mul(torch.from_numpy(v[:-1]), 10, out=torch.from_numpy(v[1:]))
    assert v.tolist() == [0.0, 0.0, 10.0, 20.0, 30.0, 40.0]
    w = np.array([1.0, 2.0, 3.0])
    t = torch.from_numpy(w)
    t -= torch.from_numpy(w[:1])  # a broadcast element of self, read before it is changed
    assert w.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("stmt,msg", [
    ("i += 1.5", "result type Float can't be cast to the desired output type Long"),
    ("i /= 2", "result type Float can't be cast to the desired output type Long"),
    ("i.div_(i)", "result type Float can't be cast to the desired output type Long"),
    ("i.atan2_(i)", "result type Float can't be cast to the desired output type Long"),
    ("b += 1", "result type Long can't be cast to the desired output type Bool"),
    ("i32 += torch.tensor([1.0], device=d)", "result type Float can't be cast to the desired output type Int"),
    ("f.add_(torch.ones(2, 3, device=d))", "output with shape [3] doesn't match the broadcast shape [2, 3]"),
    ("f.float_power_(2)", "the base given to float_power_ has dtype Float but the operation's result requires dtype Double"),
])
def test_in_place_cast_and_shape_errors(stmt, msg, device):
    env = dict(torch=torch, d=device, i=torch.tensor([1, 2], device=device),
               b=torch.tensor([True], device=device),
               i32=torch.tensor([1], dtype=torch.int32, device=device), f=torch.ones(3, device=device))
    names = ["i", "b", "i32", "f"]
    before = {k: env[k].tolist() for k in names}
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        exec(stmt, env)
    assert {k: env[k].tolist() for k in names} == before  # nothing written


def test_in_place_keeps_dtype_when_cast_is_allowed(device):
    i32 = torch.tensor([1, 2], dtype=torch.int32, device=device)
    i32 += torch.tensor([10, 20], device=device)  # int64 result written back as int32
    assert i32.dtype == torch.int32 and i32.tolist() == [11, 22]
    f = torch.tensor([1.0, 2.0], device=device)
    f.eq_(torch.tensor([1.0, 3.0], device=device))
    assert f.dtype == torch.float32 and f.tolist() == [1.0, 0.0]
    f64 = torch.tensor([2.0], dtype=torch.float64, device=device)
    f64.float_power_(3)
    assert f64.tolist() == [8.0]
    x = torch.tensor([5, 6], device=device)
    x.logical_and_(torch.tensor([1, 0], device=device))
    assert x.dtype == torch.int64 and x.tolist() == [1, 0]
    assert x.device.type == device


def test_in_place_broadcast_self_refused(device):
    t = torch.ones(1, device=device).expand(3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        t.add_(1)


# CPU only: a NumPy broadcast (zero-stride) array as the tensor's memory.
def test_in_place_broadcast_numpy_self_refused():
    t = torch.from_numpy(np.broadcast_to(np.ones(1, dtype=np.float32), (3,)))
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        t.add_(1)


def test_aliases_exist_as_methods_and_functions(device):
    t = torch.tensor([1.0, 4.0], device=device)
    assert t.subtract(1).tolist() == [0.0, 3.0] and t.multiply(2).tolist() == [2.0, 8.0]
    assert t.divide(2).tolist() == [0.5, 2.0] and t.true_divide(2).tolist() == [0.5, 2.0]
    assert torch.greater(t, 2).tolist() == [False, True] and torch.less_equal(t, 1).tolist() == [True, False]
    assert torch.not_equal(t, 1).tolist() == [False, True]
    assert torch.arctan2(t, t).dtype == torch.float32
    t.subtract_(1)
    assert t.tolist() == [0.0, 3.0]
    t.greater_(1)
    assert t.tolist() == [0.0, 1.0]


# ------------------------------------------------------------------------------------- out=


def test_out_writes_into_given_tensor(device):
    a = torch.tensor([1, 2, 3], device=device)
    b = torch.tensor([10, 20, 30], device=device)
    out = torch.empty(3, dtype=torch.float64, device=device)
    r = torch.add(a, b, out=out)
    assert r is out and out.dtype == torch.float64 and out.tolist() == [11.0, 22.0, 33.0]
    o = torch.zeros(3, dtype=torch.int64, device=device)
    torch.mul(a, b, out=o)
    assert o.tolist() == [10, 40, 90]
    torch.lt(a, 2, out=o)
    assert o.tolist() == [1, 0, 0]
    torch.add(a, b, out=a)  # out aliasing an input
    assert a.tolist() == [11, 22, 33]
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        torch.div(a, b, out=o)


# CPU only: out= over memory shared with NumPy.
def test_out_writes_into_numpy_memory():
    a, b = torch.tensor([1, 2, 3]), torch.tensor([10, 20, 30])
    mem = np.zeros(3, dtype=np.int64)
    o = torch.from_numpy(mem)
    torch.mul(a, b, out=o)
    assert mem.tolist() == [10, 40, 90]
    torch.lt(a, 2, out=o)
    assert mem.tolist() == [1, 0, 0]


def test_out_of_other_shape_is_resized(device):
    out = torch.empty(0, device=device)
    r = torch.sub(torch.ones(2, 3, device=device), 1.0, out=out)
    assert r is out and out.shape == (2, 3) and out.tolist() == [[0.0] * 3] * 2
    out2 = torch.empty(5, dtype=torch.int64, device=device)
    torch.pow(torch.tensor([2, 3], device=device), 2, out=out2)
    assert out2.tolist() == [4, 9]


# ------------------------------------------------------------------------------------ errors


def test_shape_mismatch_names_op_and_shapes(device):
    def ones(*shape):
        return torch.ones(*shape, device=device)

    with pytest.raises(RuntimeError, match=r"add: The size of tensor a \(3\) must match the size of tensor b \(2\).*\[3\] and \[2\]"):
        ones(3) + ones(2)
    with pytest.raises(RuntimeError, match=r"maximum: .*\[2, 3\] and \[4\]"):
        torch.maximum(ones(2, 3), ones(4))


@pytest.mark.parametrize("stmt,exc,msg", [
    ("T([True]) - T([True])", RuntimeError, "with two bool tensors is not supported"),
    ("T([True]) - 1", RuntimeError, "with a bool tensor is not supported"),
    ("1 - T([True])", RuntimeError, "with a bool tensor is not supported"),
    ("ones(2) & ones(2)", RuntimeError, "\"bitwise_and_cpu\" not implemented for 'Float'"),
    ("ones(2) | 1", RuntimeError, "\"bitwise_or_cpu\" not implemented for 'Float'"),
    ("T([1]) << 1.5", RuntimeError, "\"lshift_cpu\" not implemented for 'Float'"),
    ("T([True]) << T([True])", RuntimeError, "not implemented for 'Bool'"),
    ("torch.hypot(T([1]), T([1]))", RuntimeError, "\"hypot_cpu\" not implemented for 'Long'"),
    ("T([True]) // T([True])", RuntimeError, "not implemented for 'Bool'"),
    ("T([True]) ** T([True])", RuntimeError, "not implemented for 'Bool'"),
    ("torch.div(ones(1), 2, rounding_mode='round')", RuntimeError, "rounding_mode to be one of None, 'trunc', or 'floor'"),
    ("torch.add(ones(1), 'x')", TypeError, "must be Tensor or Number"),
    ("ones(1).mul_([1])", TypeError, "must be Tensor or Number"),
    ("torch.add(ones(1), 1, out=3)", TypeError, "out"),
])
def test_errors(stmt, exc, msg, device):
    if device != "cpu":
        # torch names its CUDA kernels after the device: "bitwise_and_cuda".
        msg = msg.replace('_cpu"', '_cuda"')
    pattern = re.escape(msg)
    env = dict(torch=torch, T=lambda v: torch.tensor(v, device=device), ones=lambda *s: torch.ones(*s, device=device))
    with pytest.raises(exc, match=pattern):
        eval(stmt, env)


def test_bitwise_augmented_assignment_keeps_identity(device):
    t = torch.tensor([12, 10, 7], dtype=torch.int32, device=device)
    ident = id(t)
    t &= 14
    t |= torch.tensor([1, 0, 16], dtype=torch.int32, device=device)
    t ^= 3
    t <<= 2
    t >>= 1
    assert id(t) == ident
    expected = ((((np.array([12, 10, 7]) & 14) | [1, 0, 16]) ^ 3) << 2) >> 1
    assert t.tolist() == expected.tolist() and t.dtype == torch.int32
    b = torch.tensor([True, False], device=device)
    b &= torch.tensor([True, True], device=device)
    b |= False
    assert b.tolist() == [True, False] and b.dtype == torch.bool
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output type Bool"):
        b <<= 1
