"""Elementwise ops on CUDA against the same ops on the CPU (which test_unary.py and
test_binary.py check against NumPy): unary math, sign and rounding ops, predicates, binary ops
and comparisons, where/clamp/lerp, isclose/allclose/equal; every dtype, 0-d, empty, large,
broadcast and non-contiguous inputs, CPU scalars, in-place and out= forms, and gradients."""

import numpy as np
import pytest

import ferrotorch as torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INTS = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]
ALL = FLOATS + INTS + [torch.bool]

# CUDA's libm and the CPU's differ by a few ulp (and the GPU contracts a * b + c into one
# rounding); half types also round intermediates differently in a few ops.
TOL = {
    torch.float32: dict(rtol=2e-5, atol=1e-6),
    torch.float64: dict(rtol=1e-12, atol=1e-12),
    torch.float16: dict(rtol=2e-3, atol=2e-3),
    torch.bfloat16: dict(rtol=1.6e-2, atol=1.6e-2),
}


def host(t):
    t = t.cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()
    return np.array(t.numpy(), copy=True)


def same(got, want):
    """`got` (CUDA) equals `want` (CPU): dtype, shape, and values within the dtype's tolerance."""
    assert got.is_cuda, got.device
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape), (got.shape, want.shape)
    g, w = host(got), host(want)
    tol = TOL.get(want.dtype)
    if tol is None:
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), equal_nan=True, **tol)


def from_np(arr, shape):
    """A CPU tensor of `shape` (0-d too) holding NumPy's values."""
    arr = np.ascontiguousarray(np.asarray(arr).reshape(-1))
    return torch.from_numpy(arr).reshape(tuple(shape))


def sample(rng, shape, dtype, lo=-3.0, hi=3.0):
    """CPU values every dtype holds; integers small, unsigned ones non-negative."""
    if dtype == torch.bool:
        return from_np(rng.random(shape) < 0.5, shape)
    if dtype.is_floating_point:
        return from_np(rng.uniform(lo, hi, shape), shape).to(dtype)
    low = 0 if dtype == torch.uint8 else -9
    return from_np(rng.integers(low, 10, shape), shape).to(dtype)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# --- unary -------------------------------------------------------------------------------

# name -> sampling domain of the inputs.
FLOAT_UNARY = {
    "exp": (-5, 5), "exp2": (-5, 5), "log": (0.05, 5), "log2": (0.05, 5), "log10": (0.05, 5),
    "log1p": (-0.9, 5), "expm1": (-3, 3), "sqrt": (0, 5), "rsqrt": (0.1, 5), "sin": (-4, 4),
    "cos": (-4, 4), "tan": (-1.2, 1.2), "asin": (-0.99, 0.99), "acos": (-0.99, 0.99),
    "atan": (-4, 4), "sinh": (-3, 3), "cosh": (-3, 3), "tanh": (-3, 3), "asinh": (-4, 4),
    "acosh": (1.1, 5), "atanh": (-0.95, 0.95), "sigmoid": (-6, 6), "erf": (-3, 3),
    "erfc": (-3, 3), "erfinv": (-0.95, 0.95), "reciprocal": (0.2, 4),
}
# Rounding at x.5 boundaries is exact on both devices; frac refuses integers.
KEEP = ["floor", "ceil", "trunc", "round", "frac", "neg", "abs", "sign", "relu", "square"]
PREDICATES = ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "logical_not"]


@pytest.mark.parametrize("name", list(FLOAT_UNARY))
@pytest.mark.parametrize("dtype", FLOATS + [torch.int32])
def test_float_unary_ops(rng, name, dtype):
    lo, hi = FLOAT_UNARY[name]
    if dtype == torch.int32:
        x = from_np(rng.uniform(max(lo, -3), hi, (4, 5)).round(), (4, 5)).to(dtype)
    else:
        x = sample(rng, (4, 5), dtype, lo, hi)
    f = getattr(torch, name)
    same(f(x.cuda()), f(x))


@pytest.mark.parametrize("name", ["exp", "sin", "sigmoid", "tanh", "log1p"])
def test_float_unary_ops_on_layouts(rng, name):
    x = sample(rng, (6, 8), torch.float32, -0.5, 0.5)
    g = x.cuda()
    f = getattr(torch, name)
    same(f(g.t()), f(x.t()))  # transposed
    same(f(g[1::2, ::3]), f(x[1::2, ::3]))  # sliced
    same(f(g[:1].expand(5, 8)), f(x[:1].expand(5, 8)))  # expanded
    same(f(g[2, 3]), f(x[2, 3]))  # 0-d
    same(f(g[:0]), f(x[:0]))  # empty


def test_special_float_values():
    vals = [0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), float("nan"), 1e-30, 2.5, -2.5, 0.5]
    for dtype in FLOATS:
        x = torch.tensor(vals, dtype=dtype)
        for name in list(FLOAT_UNARY) + KEEP + PREDICATES:
            f = getattr(torch, name)
            same(f(x.cuda()), f(x))


@pytest.mark.parametrize("name", KEEP)
@pytest.mark.parametrize("dtype", ALL)
def test_dtype_keeping_unary_ops(rng, name, dtype):
    x = sample(rng, (3, 7), dtype)
    f = getattr(torch, name)
    try:
        want = f(x)
    except (RuntimeError, NotImplementedError) as e:
        with pytest.raises(type(e)):
            f(x.cuda())
        return
    same(f(x.cuda()), want)


def test_integer_extremes_wrap():
    x = torch.tensor([-128, 127, 0, -1], dtype=torch.int8)
    for f in (torch.neg, torch.abs, torch.square, torch.sign):
        same(f(x.cuda()), f(x))
    big = torch.tensor([-(2**63), 2**63 - 1, 5], dtype=torch.int64)
    same(torch.abs(big.cuda()), torch.abs(big))
    same(-big.cuda(), -big)


@pytest.mark.parametrize("name", PREDICATES)
@pytest.mark.parametrize("dtype", ALL)
def test_predicates(rng, name, dtype):
    x = sample(rng, (2, 9), dtype)
    if dtype.is_floating_point:
        x[0, :3] = torch.tensor([float("nan"), float("inf"), float("-inf")]).to(dtype)
    f = getattr(torch, name)
    same(f(x.cuda()), f(x))
    same(f(x.cuda().t()), f(x.t()))


@pytest.mark.parametrize("dtype", INTS + [torch.bool])
def test_bitwise_not(rng, dtype):
    x = sample(rng, (5, 3), dtype)
    same(torch.bitwise_not(x.cuda()), torch.bitwise_not(x))
    same(~x.cuda().t(), ~x.t())


@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_to_num_and_round_decimals(dtype):
    x = torch.tensor([float("nan"), float("inf"), float("-inf"), 1.25, -3.5, 123.456], dtype=dtype)
    g = x.cuda()
    same(torch.nan_to_num(g), torch.nan_to_num(x))
    same(torch.nan_to_num(g, nan=1.5, posinf=2.0, neginf=-7.0),
         torch.nan_to_num(x, nan=1.5, posinf=2.0, neginf=-7.0))
    for d in (1, 2, -1):
        same(torch.round(g, decimals=d), torch.round(x, decimals=d))
    i = torch.tensor([1, 2], dtype=torch.int32)
    same(torch.nan_to_num(i.cuda()), torch.nan_to_num(i))


def test_unary_in_place_and_out(rng):
    x = sample(rng, (4, 6), torch.float32)
    g = x.cuda()
    g.exp_()
    same(g, x.exp())
    gt = x.cuda().t()
    gt.sin_()  # in place through a transposed view
    same(gt, x.t().sin())
    out = torch.empty((4, 6), device="cuda")
    r = torch.tanh(x.cuda(), out=out)
    assert r is out or r.data_ptr() == out.data_ptr()
    same(out, torch.tanh(x))
    # out= of another dtype receives a converted copy.
    out64 = torch.empty((4, 6), dtype=torch.float64, device="cuda")
    torch.neg(x.cuda(), out=out64)
    same(out64, torch.neg(x).double())
    i = sample(rng, (3, 3), torch.int16)
    gi = i.cuda()
    gi.abs_()
    same(gi, i.abs())
    with pytest.raises(RuntimeError, match="same device"):
        torch.exp(x.cuda(), out=torch.empty((4, 6)))


def test_large_unary(rng):
    x = sample(rng, ((1 << 20) + 3,), torch.float32)
    same(torch.exp(x.cuda()), torch.exp(x))
    same(torch.isfinite(x.cuda()), torch.isfinite(x))
    h = x.half()
    same(torch.sigmoid(h.cuda()), torch.sigmoid(h))


# --- binary ------------------------------------------------------------------------------

BINARY = {
    "add": ALL, "sub": FLOATS + INTS, "mul": ALL, "div": ALL,
    "floor_divide": FLOATS + INTS, "remainder": FLOATS + INTS, "fmod": FLOATS + INTS,
    "pow": FLOATS + INTS, "float_power": FLOATS + INTS, "atan2": ALL, "hypot": FLOATS,
    "copysign": ALL, "xlogy": FLOATS + INTS, "maximum": ALL, "minimum": ALL, "fmax": ALL,
    "fmin": ALL, "eq": ALL, "ne": ALL, "lt": ALL, "le": ALL, "gt": ALL, "ge": ALL,
    "logical_and": ALL, "logical_or": ALL, "logical_xor": ALL,
    "bitwise_and": INTS + [torch.bool], "bitwise_or": INTS + [torch.bool],
    "bitwise_xor": INTS + [torch.bool], "bitwise_left_shift": INTS,
    "bitwise_right_shift": INTS,
}
DIVIDES = {"floor_divide", "remainder", "fmod"}


def binary_operands(rng, name, dtype, sa, sb):
    a = sample(rng, sa, dtype)
    b = sample(rng, sb, dtype)
    if name in DIVIDES or name == "div":
        if dtype.is_floating_point:
            # Quotients away from integers, where a rounding would jump.
            a = (a * 4).round() / 4
            b = from_np(rng.choice([-2.0, -1.5, -0.75, 0.5, 1.25, 3.0], sb), sb).to(dtype)
        elif dtype != torch.bool:
            b = from_np(rng.choice([-3, -2, -1, 1, 2, 5] if dtype != torch.uint8
                                   else [1, 2, 3, 7], sb), sb).to(dtype)
    if name in ("pow", "float_power"):
        if dtype.is_floating_point:
            a = a.abs() + 0.5
        b = from_np(rng.integers(0, 4, sb), sb).to(dtype)
    if name.startswith("bitwise_") and "shift" in name:
        b = from_np(rng.integers(0, 7, sb), sb).to(dtype)
    if name == "xlogy" and dtype.is_floating_point:
        b = b.abs() + 0.1
    return a, b


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("dtype", ALL)
def test_binary_ops(rng, name, dtype):
    if dtype not in BINARY[name]:
        return
    f = getattr(torch, name)
    for sa, sb in [((3, 5), (3, 5)), ((3, 1), (1, 5)), ((2, 3, 4), (4,)), ((), (3,)), ((0, 2), (2,))]:
        a, b = binary_operands(rng, name, dtype, sa, sb)
        same(f(a.cuda(), b.cuda()), f(a, b))


@pytest.mark.parametrize("name", ["add", "mul", "div", "lt", "maximum", "remainder", "atan2"])
def test_binary_ops_on_layouts(rng, name):
    f = getattr(torch, name)
    a, b = binary_operands(rng, name, torch.float32, (6, 8), (8, 6))
    ga, gb = a.cuda(), b.cuda()
    same(f(ga, gb.t()), f(a, b.t()))
    same(f(ga[::2, 1::3], gb.t()[1::2, ::3]), f(a[::2, 1::3], b.t()[1::2, ::3]))
    same(f(ga[:1].expand(6, 8), gb.t()), f(a[:1].expand(6, 8), b.t()))
    same(f(ga[2, 3], gb[1, 1]), f(a[2, 3], b[1, 1]))
    x = sample(rng, (2, 3, 4, 5), torch.float32)
    gx = x.cuda()
    same(f(gx.permute(3, 1, 0, 2), gx.permute(3, 1, 0, 2).contiguous()),
         f(x.permute(3, 1, 0, 2), x.permute(3, 1, 0, 2).contiguous()))


@pytest.mark.parametrize("dtype", ALL)
def test_cpu_scalars_meet_cuda_tensors(rng, dtype):
    a = sample(rng, (4, 3), dtype)
    g = a.cuda()
    for s in (2, 1.5, True):
        same(g * s, a * s)
        same(s * g, s * a)
        same(g + s, a + s)
        same(g == s, a == s)
        same(torch.maximum(g, torch.tensor(s)), torch.maximum(a, torch.tensor(s)))
    if dtype != torch.bool:
        same(g - 1, a - 1)
        same(3 - g, 3 - a)
        same(torch.add(g, g, alpha=2), torch.add(a, a, alpha=2))
        same(torch.sub(g, g.t().contiguous().t(), alpha=3), torch.sub(a, a, alpha=3))
    same(g + torch.tensor(2, dtype=dtype), a + torch.tensor(2, dtype=dtype))
    same(g / 4, a / 4)
    same(torch.tensor(1.0) / (g.float() + 10), 1.0 / (a.float() + 10))
    with pytest.raises(RuntimeError, match="same device"):
        g + a
    with pytest.raises(RuntimeError, match="same device"):
        torch.tensor([1, 2, 3]) * g[0]


def test_integer_semantics_match_the_cpu():
    a = torch.tensor([-7, 7, -8, 8, 0, 5, -(2**63), 2**63 - 1], dtype=torch.int64)
    b = torch.tensor([2, -2, 3, -3, 4, 1, -1, 2], dtype=torch.int64)
    for f in (torch.floor_divide, torch.remainder, torch.fmod, torch.mul, torch.add, torch.sub):
        same(f(a.cuda(), b.cuda()), f(a, b))
    same(torch.div(a.cuda(), b.cuda(), rounding_mode="trunc"), torch.div(a, b, rounding_mode="trunc"))
    for dtype in INTS:
        x = torch.tensor([1, 2, 3, 100, 0, 7], dtype=dtype)
        s = torch.tensor([0, 1, 7, 8, 9, 63], dtype=dtype)
        same(x.cuda() << s.cuda(), x << s)
        same(x.cuda() >> s.cuda(), x >> s)
        base = torch.tensor([2, 3, 0, 1, 5, 7], dtype=dtype)
        e = torch.tensor([0, 5, 3, 9, 4, 3], dtype=dtype)
        same(base.cuda() ** e.cuda(), base ** e)
    neg = torch.tensor([-5, -1, 1, 2, -1], dtype=torch.int32)
    same(torch.tensor([1, -1, -1, 2, 3], dtype=torch.int32).cuda() ** neg.cuda(),
         torch.tensor([1, -1, -1, 2, 3], dtype=torch.int32) ** neg)
    # torch's CUDA kernels do not raise on an integer division by zero.
    q = torch.floor_divide(torch.tensor([4, 5]).cuda(), torch.tensor([0, 1]).cuda())
    assert q.cpu().tolist()[1] == 5


def test_float_edge_values():
    v = [0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), float("nan"), 2.5, -3.0]
    a = torch.tensor([x for x in v for _ in v])
    b = torch.tensor([y for _ in v for y in v])
    for name in ["add", "mul", "div", "maximum", "minimum", "fmax", "fmin", "atan2", "hypot",
                 "copysign", "xlogy", "eq", "lt", "ge", "logical_and", "fmod", "remainder",
                 "floor_divide", "pow"]:
        f = getattr(torch, name)
        same(f(a.cuda(), b.cuda()), f(a, b))


def test_binary_in_place_and_out(rng):
    a = sample(rng, (4, 5), torch.float32)
    b = sample(rng, (5,), torch.float32)
    g = a.cuda()
    g += b.cuda()
    same(g, a + b)
    g *= 2
    same(g, (a + b) * 2)
    g.sub_(b.cuda(), alpha=0.5)
    same(g, (a + b) * 2 - 0.5 * b)
    # In place with an overlapping operand in another layout reads the old values.
    sq = sample(rng, (4, 4), torch.int64)
    gs = sq.cuda()
    gs += gs.t()
    same(gs, sq + sq.t())
    # In place into a non-contiguous view.
    h = a.cuda()
    h.t().mul_(3)
    same(h, a * 3)
    out = torch.empty((4, 5), device="cuda")
    torch.mul(a.cuda(), b.cuda(), out=out)
    same(out, a * b)
    outb = torch.empty((4, 5), dtype=torch.bool, device="cuda")
    torch.lt(a.cuda(), b.cuda(), out=outb)
    same(outb, a < b)
    # An int result into a float out= is converted.
    i = sample(rng, (4, 5), torch.int32)
    outf = torch.empty((4, 5), dtype=torch.float64, device="cuda")
    torch.add(i.cuda(), 1, out=outf)
    same(outf, (i + 1).double())
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.cuda().div_(2)
    with pytest.raises(RuntimeError, match="same device"):
        torch.add(a.cuda(), 1, out=torch.empty((4, 5)))


def test_large_binary(rng):
    n = (1 << 20) + 5
    a = sample(rng, (n,), torch.float32)
    b = sample(rng, (n,), torch.float32)
    same(a.cuda() + b.cuda(), a + b)
    same(a.cuda() * 3, a * 3)
    m = sample(rng, (1025, 1024), torch.float16)
    r = sample(rng, (1024,), torch.float16)
    same(m.cuda() - r.cuda(), m - r)
    same(m.cuda().t() > r.cuda().reshape(1024, 1), m.t() > r.reshape(1024, 1))


# --- where / clamp / lerp ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
def test_where(rng, dtype):
    c = sample(rng, (3, 1, 4), torch.bool)
    a = sample(rng, (2, 4), dtype)
    b = sample(rng, (3, 2, 1), dtype)
    same(torch.where(c.cuda(), a.cuda(), b.cuda()), torch.where(c, a, b))
    same(torch.where(c.cuda(), a.cuda(), 0), torch.where(c, a, 0))
    same(torch.where(c.cuda(), 1.5, b.cuda()), torch.where(c, 1.5, b))
    a3, b3 = sample(rng, (3, 4), dtype), sample(rng, (1, 3), dtype)
    same(torch.where(c.cuda().transpose(0, 2), a3.cuda().t(), b3.cuda()),
         torch.where(c.transpose(0, 2), a3.t(), b3))
    same(torch.where(c.cuda().to(torch.uint8), a.cuda(), b.cuda()), torch.where(c.to(torch.uint8), a, b))
    with pytest.raises(RuntimeError, match="same device"):
        torch.where(c.cuda(), a, b.cuda())


@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_clamp(rng, dtype):
    x = sample(rng, (4, 5), dtype)
    g = x.cuda()
    same(torch.clamp(g, -1, 2), torch.clamp(x, -1, 2))
    same(torch.clamp(g, min=0), torch.clamp(x, min=0))
    same(torch.clamp(g.t(), max=1), torch.clamp(x.t(), max=1))
    same(torch.clamp(g, 2, -1), torch.clamp(x, 2, -1))
    lo, hi = sample(rng, (5,), dtype), sample(rng, (4, 1), dtype)
    same(torch.clamp(g, lo.cuda(), hi.cuda()), torch.clamp(x, lo, hi))
    same(torch.clamp(g, min=lo.cuda()), torch.clamp(x, min=lo))
    same(torch.clamp(g, max=hi.cuda()), torch.clamp(x, max=hi))
    same(torch.clamp(g, lo.cuda(), torch.tensor(1, dtype=dtype)),
         torch.clamp(x, lo, torch.tensor(1, dtype=dtype)))
    same(torch.clamp(g, torch.tensor(0, dtype=dtype).cuda(), 1), torch.clamp(x, torch.tensor(0, dtype=dtype), 1))
    if dtype.is_floating_point:
        same(torch.clamp(g, 0.5), torch.clamp(x, 0.5))
        y = torch.tensor([float("nan"), 1.0, -5.0]).to(dtype)
        same(torch.clamp(y.cuda(), -1, 1), torch.clamp(y, -1, 1))
        nb = torch.tensor([float("nan"), 0.0, 0.0]).to(dtype)
        same(torch.clamp(y.cuda(), min=nb.cuda()), torch.clamp(y, min=nb))
    h = g.clone()
    h.clamp_(-1, 1)
    same(h, x.clamp(-1, 1))


@pytest.mark.parametrize("dtype", FLOATS)
def test_lerp(rng, dtype):
    s, e = sample(rng, (3, 4), dtype), sample(rng, (4,), dtype)
    w = from_np(rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, 1.5], (3, 1)), (3, 1)).to(dtype)
    same(torch.lerp(s.cuda(), e.cuda(), 0.25), torch.lerp(s, e, 0.25))
    same(torch.lerp(s.cuda(), e.cuda(), 1.0), torch.lerp(s, e, 1.0))
    same(torch.lerp(s.cuda(), e.cuda(), w.cuda()), torch.lerp(s, e, w))
    same(torch.lerp(s.cuda().t().contiguous().t(), e.cuda(), w.cuda()), torch.lerp(s, e, w))
    h = s.cuda()
    h.lerp_(e.cuda(), 0.75)
    same(h, torch.lerp(s, e, 0.75))


# --- isclose / allclose / equal ----------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
def test_isclose_allclose_equal(rng, dtype):
    a = sample(rng, (4, 6), dtype)
    b = a.clone()
    if dtype.is_floating_point:
        b = (a.double() * (1 + from_np(rng.uniform(-1e-4, 1e-4, (4, 6)), (4, 6)))).to(dtype)
        a[0, 0] = float("nan")
        b[0, 0] = float("nan")
    elif dtype != torch.bool:
        b[1, 2] = b[1, 2] + 1
    ga, gb = a.cuda(), b.cuda()
    for kw in (dict(), dict(rtol=1e-3, atol=1e-3), dict(equal_nan=True), dict(rtol=0, atol=1.0)):
        same(torch.isclose(ga, gb, **kw), torch.isclose(a, b, **kw))
        same(torch.isclose(ga.t(), gb.t(), **kw), torch.isclose(a.t(), b.t(), **kw))
        assert torch.allclose(ga, gb, **kw) == torch.allclose(a, b, **kw)
        assert torch.allclose(ga[1:], gb[1:], **kw) == torch.allclose(a[1:], b[1:], **kw)
    same(torch.isclose(ga, gb[:1]), torch.isclose(a, b[:1]))
    assert torch.equal(ga, gb) == torch.equal(a, b)
    assert torch.equal(ga[1:].t(), ga[1:].t().contiguous())
    assert torch.equal(ga, ga) == (not dtype.is_floating_point)  # NaN is never equal
    assert not torch.equal(ga, ga[:2])
    assert torch.allclose(ga[:0], gb[:0])


def test_equal_promotes_and_refuses_mixed_devices():
    a = torch.tensor([1, 2, 3])
    assert torch.equal(a.cuda(), a.float().cuda())
    assert not torch.equal(a.cuda(), (a + 1).cuda())
    with pytest.raises(RuntimeError, match="different devices"):
        torch.equal(a.cuda(), a)


# --- gradients ---------------------------------------------------------------------------

def grads(f, *inputs, grad_seed=0):
    """Gradients of f's output (weighted by a fixed random tensor) for the CPU inputs, computed
    on the CPU and on CUDA."""
    results = []
    for dev in ("cpu", "cuda"):
        xs = [x.detach().to(dev).requires_grad_(True) for x in inputs]
        y = f(*xs)
        w = from_np(np.random.default_rng(grad_seed).uniform(-1, 1, tuple(y.shape)), tuple(y.shape))
        y.backward(w.to(y.dtype).to(dev))
        results.append([x.grad for x in xs])
    return results


@pytest.mark.parametrize("name", ["exp", "log", "sin", "tanh", "sigmoid", "sqrt", "erf",
                                  "reciprocal", "abs", "relu", "square", "atan", "erfinv"])
def test_unary_gradients(rng, name):
    x = sample(rng, (3, 4), torch.float64, 0.1, 0.9)
    f = getattr(torch, name)
    cpu, gpu = grads(f, x)
    same(gpu[0], cpu[0])


@pytest.mark.parametrize("f", [
    lambda a, b: a + b, lambda a, b: a - 2 * b, lambda a, b: a * b, lambda a, b: a / b,
    lambda a, b: a ** b, torch.atan2, torch.maximum, torch.hypot, torch.xlogy,
    lambda a, b: torch.where(a > b, a, b * b), lambda a, b: torch.clamp(a * b, 0.5, 1.5),
    lambda a, b: torch.lerp(a, b, 0.25), torch.copysign, torch.fmax,
])
def test_binary_gradients(rng, f):
    a = sample(rng, (3, 4), torch.float64, 0.2, 2.0)
    b = sample(rng, (3, 4), torch.float64, 0.2, 2.0)
    cpu, gpu = grads(f, a, b)
    for g, c in zip(gpu, cpu):
        same(g, c)
