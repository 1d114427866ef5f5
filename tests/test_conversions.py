"""Conversions (to/type/float/.../clone/copy_/fill_), Python dunders, whole-tensor comparisons
(isclose/allclose/equal) and torch.testing.assert_close."""

import operator
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from helpers import ALL_DTYPES, FLOAT_DTYPES, NP_DTYPES, make, to_np

# ----------------------------------------------------------------------------- conversions


def cast_oracle(src, dst):
    """NumPy twin of torch's cast: float to int truncates toward zero then wraps."""
    if dst == torch.bool:
        return src != 0
    if dst == torch.bfloat16:
        return src.astype(np.float32)
    np_dst = NP_DTYPES[dst]
    if np.issubdtype(src.dtype, np.floating) and not np.issubdtype(np_dst, np.floating):
        return np.trunc(src).astype(np.int64).astype(np_dst)
    return src.astype(np_dst)


@pytest.mark.parametrize("src", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("dst", ALL_DTYPES, ids=str)
def test_to_every_dtype_pair_matches_numpy(rng, src, dst, device):
    t, _ = make(rng, (4, 5), src, device=device)
    src_np = to_np(t)
    out = t.to(dst)
    assert out.dtype == dst and out.shape == t.shape and out.device.type == device
    expected = cast_oracle(src_np, dst)
    got = to_np(out)
    if dst == torch.bfloat16:
        np.testing.assert_allclose(got, expected, rtol=2**-8, atol=0)
    else:
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype


def test_cast_edge_values(device):
    def T(values, dtype=None):
        return torch.tensor(values, dtype=dtype, device=device)

    assert T([2.9, -2.9, 0.5, -0.0], torch.float64).long().tolist() == [2, -2, 0, 0]
    f = T([2.9, -2.9, 0.5, -0.0, float("nan"), float("inf")], torch.float64)
    assert f.bool().tolist() == [True, True, True, False, True, True]
    assert T([-1.7]).to(torch.uint8).tolist() == [255]
    assert T([300, -1]).byte().tolist() == [44, 255]
    assert T([70000]).half().tolist() == [float("inf")]
    assert T([True, False]).float().tolist() == [1.0, 0.0]
    assert T([0.1]).bfloat16().float().tolist() == [0.10009765625]


def test_non_contiguous_source_converts_on_device(device):
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    t = torch.tensor(a.T.copy(), device=device).t()  # a's values, column-major
    assert not t.is_contiguous()
    out = t.double()
    np.testing.assert_array_equal(to_np(out), a.astype(np.float64))
    # preserve_format: a transposed input gives a transposed output, as torch.
    assert out.stride() == t.stride() and out.device.type == device
    sliced = torch.arange(12.0, device=device).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(to_np(sliced.int()), [[0, 2], [4, 6], [8, 10]])
    assert sliced.int().is_contiguous()


# CPU only: NumPy arrays viewed in place (Fortran order, strided slices).
def test_non_contiguous_source_converts(rng):
    a = rng.random((3, 4)).astype(np.float32)
    t = torch.from_numpy(np.asfortranarray(a))
    assert not t.is_contiguous()
    out = t.double()
    np.testing.assert_array_equal(to_np(out), a.astype(np.float64))
    # preserve_format: a transposed input gives a transposed output, as torch.
    assert out.stride() == t.stride()
    sliced = torch.from_numpy(np.arange(12.0).reshape(3, 4)[:, ::2])
    np.testing.assert_array_equal(to_np(sliced.int()), [[0, 2], [4, 6], [8, 10]])
    assert sliced.int().is_contiguous()


def test_to_identity_rules(device):
    t = torch.tensor([1.0, 2.0], device=device)
    assert t.to(torch.float32) is t
    assert t.to(device) is t
    assert t.to(torch.device(device)) is t
    assert t.to(device, torch.float32) is t
    assert t.to(device=device, dtype=torch.float32, non_blocking=True) is t
    assert t.to(t) is t
    assert t.float() is t and (t.cpu() if device == "cpu" else t.cuda()) is t
    c = t.to(torch.float32, copy=True)
    assert c is not t and c.tolist() == t.tolist() and c.data_ptr() != t.data_ptr()
    assert c.device.type == device
    assert t.to(torch.float32, False, True) is not t  # positional non_blocking, copy
    assert t.to(device, torch.int32).dtype == torch.int32
    assert t.to(dtype=torch.float64).dtype == torch.float64
    assert t.to(torch.tensor([1], dtype=torch.int16, device=device)).dtype == torch.int16
    assert t.double() is not t and t.double().tolist() == [1.0, 2.0]
    assert t.to(float).dtype == torch.float64 and t.to(int).dtype == torch.int64
    assert t.to(bool).dtype == torch.bool and t.to(bool).device.type == device


def test_to_memory_format(device):
    fmt = getattr(torch, "contiguous_format", "torch.contiguous_format")
    t = torch.arange(6.0, dtype=torch.float64, device=device).reshape(3, 2).t()
    assert not t.is_contiguous()
    c = t.to(torch.float64, memory_format=fmt)
    assert c is not t and c.is_contiguous() and c.tolist() == t.tolist()
    assert t.clone(memory_format=fmt).is_contiguous()
    assert not t.clone().is_contiguous()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_a_gpu_raises():
    t = torch.ones(2)
    for move in (lambda: t.to("cuda"), lambda: t.to(device="cuda:0", dtype=torch.float64),
                 lambda: t.cuda(), lambda: t.type("torch.cuda.FloatTensor"),
                 lambda: torch.zeros(2, device="cuda")):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            move()


def test_to_errors(device):
    t = torch.ones(2, device=device)
    with pytest.raises(RuntimeError, match="device"):
        t.to("tpu")
    with pytest.raises(TypeError):
        t.to(torch.float32, dtype=torch.float64)
    with pytest.raises(TypeError):
        t.to(torch.float32, False, False, False)


@pytest.mark.parametrize(
    "method,dtype,name",
    [
        ("float", torch.float32, "FloatTensor"),
        ("double", torch.float64, "DoubleTensor"),
        ("half", torch.float16, "HalfTensor"),
        ("bfloat16", torch.bfloat16, "BFloat16Tensor"),
        ("long", torch.int64, "LongTensor"),
        ("int", torch.int32, "IntTensor"),
        ("short", torch.int16, "ShortTensor"),
        ("char", torch.int8, "CharTensor"),
        ("byte", torch.uint8, "ByteTensor"),
        ("bool", torch.bool, "BoolTensor"),
    ],
)
def test_dtype_shorthands_and_type(method, dtype, name, device):
    t = torch.tensor([0.0, 1.0, 2.5], device=device)
    out = getattr(t, method)()
    assert out.dtype == dtype and out.device.type == device
    assert getattr(out, method)() is out
    # CUDA tensors name their type torch.cuda.<Name>, as in torch.
    module = "torch.cuda." if device == "cuda" else "torch."
    assert out.type() == module + name
    assert t.type(module + name).dtype == dtype and t.type(module + name).device.type == device
    assert t.type(dtype).dtype == dtype
    assert out.type(dtype) is out
    expected = {torch.bool: [False, True, True]}.get(dtype, [0, 1, 2] if not dtype.is_floating_point else [0.0, 1.0, 2.5])
    assert out.tolist() == expected


def test_type_errors(device):
    t = torch.ones(1, device=device)
    with pytest.raises(ValueError, match="invalid type: 'torch.FooTensor'"):
        t.type("torch.FooTensor")


def test_clone_copies_on_device(device):
    t = torch.arange(6.0, device=device)
    c = t.clone()
    assert c.dtype == t.dtype and c.device.type == device and c.tolist() == t.tolist()
    t.fill_(100.0)
    assert c.tolist()[0] == 0.0
    assert torch.clone(t).tolist()[0] == 100.0
    e = torch.zeros(0, 3, dtype=torch.int8, device=device).clone()
    assert e.shape == (0, 3) and e.dtype == torch.int8
    z = torch.tensor(3, device=device).clone()
    assert z.shape == () and z.item() == 3


# CPU only: the source's memory is a NumPy array's.
def test_clone_copies():
    a = np.arange(6.0, dtype=np.float32)
    t = torch.from_numpy(a)
    c = t.clone()
    assert c.dtype == t.dtype and c.tolist() == t.tolist()
    a[0] = 100.0
    assert c.tolist()[0] == 0.0
    assert torch.clone(t).tolist()[0] == 100.0


def test_copy_broadcasts_and_converts(device):
    dst = torch.zeros(2, 3, dtype=torch.int32, device=device)
    r = dst.copy_(torch.tensor([1.9, -2.9, 3.0], device=device))
    assert r is dst and dst.device.type == device
    assert dst.tolist() == [[1, -2, 3], [1, -2, 3]]
    dst.copy_(torch.tensor(7))  # copy_ takes its source from any device
    assert dst.tolist() == [[7] * 3] * 2
    with pytest.raises(RuntimeError):
        dst.copy_(torch.ones(4, device=device))
    with pytest.raises(TypeError, match="must be Tensor"):
        dst.copy_(1.0)
    if hasattr(dst, "expand"):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            torch.zeros(1, device=device).expand(3).copy_(torch.ones(3, device=device))
    # Writing through a non-contiguous view reaches only the view's elements.
    base = torch.zeros(3, 4, dtype=torch.float64, device=device)
    base[:, ::2].copy_(torch.tensor([[1.0, 2.0]], device=device))
    assert base.tolist() == [[1, 0, 2, 0]] * 3


# CPU only: the view's memory is a NumPy array's.
def test_copy_into_a_numpy_view_reaches_the_array():
    # Writing through a non-contiguous view reaches the NumPy array behind it.
    base = np.zeros((3, 4), dtype=np.float64)
    view = torch.from_numpy(base[:, ::2])
    view.copy_(torch.tensor([[1.0, 2.0]]))
    np.testing.assert_array_equal(base, [[1, 0, 2, 0]] * 3)


def test_fill_and_zero(device):
    t = torch.zeros(2, 2, dtype=torch.int64, device=device)
    assert t.fill_(2.7) is t and t.tolist() == [[2, 2], [2, 2]]
    t.fill_(torch.tensor(5.0))  # a 0-d CPU value may fill a tensor on any device, as in torch
    assert t.tolist() == [[5, 5], [5, 5]]
    t.fill_(torch.tensor(6.0, device=device))
    assert t.tolist() == [[6, 6], [6, 6]]
    t.fill_(True)
    assert t.tolist() == [[1, 1], [1, 1]]
    assert t.zero_() is t and t.tolist() == [[0, 0], [0, 0]]
    b = torch.zeros(2, dtype=torch.bool, device=device).fill_(2)
    assert b.tolist() == [True, True]
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions"):
        t.fill_(torch.ones(1, device=device))
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without overflow"):
        torch.zeros(2, dtype=torch.uint8, device=device).fill_(300)
    with pytest.raises(RuntimeError, match="at::Half without overflow"):
        torch.zeros(2, dtype=torch.float16, device=device).fill_(1e6)
    h = torch.zeros(1, dtype=torch.float16, device=device).fill_(float("inf"))
    assert h.tolist() == [float("inf")]
    with pytest.raises(TypeError):
        t.fill_("a")
    base = torch.zeros(6, dtype=torch.float64, device=device)
    base[::2].fill_(1.5)
    assert base.tolist() == [1.5, 0, 1.5, 0, 1.5, 0]
    f = torch.ones(3, dtype=torch.float64, device=device)
    f.zero_()
    assert f.tolist() == [0.0, 0.0, 0.0]


# CPU only: the view's memory is a NumPy array's.
def test_fill_of_a_numpy_view_reaches_the_array():
    base = np.zeros(6)
    torch.from_numpy(base[::2]).fill_(1.5)
    np.testing.assert_array_equal(base, [1.5, 0, 1.5, 0, 1.5, 0])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_element_size_and_predicates(dtype, device):
    t = torch.zeros(2, dtype=dtype, device=device)
    assert t.element_size() == (2 if dtype == torch.bfloat16 else np.dtype(NP_DTYPES[dtype]).itemsize)
    assert t.is_floating_point() == (dtype in FLOAT_DTYPES)
    assert torch.is_floating_point(t) == (dtype in FLOAT_DTYPES)
    assert torch.is_tensor(t)


def test_module_predicates(device):
    assert not torch.is_tensor([1.0]) and not torch.is_tensor(np.ones(1))
    assert torch.numel(torch.zeros(2, 3, device=device)) == 6
    assert torch.numel(torch.tensor(1, device=device)) == 1
    with pytest.raises(TypeError):
        torch.is_floating_point(1.0)


# ------------------------------------------------------------------------ Python dunders


def test_bool_float_int_conversions(device):
    def T(values):
        return torch.tensor(values, device=device)

    assert bool(T([3])) is True
    assert bool(T(0.0)) is False
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(T([1, 2]))
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        bool(T([]))
    assert float(T([[2]])) == 2.0 and isinstance(float(T(2)), float)
    assert int(T(2.7)) == 2 and int(T(-2.7)) == -2
    assert complex(T(1.5)) == 1.5 + 0j
    with pytest.raises(ValueError, match="only one element tensors can be converted to Python scalars"):
        float(torch.ones(2, device=device))
    with pytest.raises(ValueError, match="only one element tensors"):
        int(torch.ones(0, device=device))


def test_index(device):
    def T(values):
        return torch.tensor(values, device=device)

    assert operator.index(T(2)) == 2
    assert [10, 20, 30][T(1)] == 20
    assert operator.index(T([True])) == 1
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        operator.index(T(1.0))
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        operator.index(T([1, 2]))


def test_len_iter_reversed(device):
    t = torch.tensor([[1, 2], [3, 4], [5, 6]], device=device)
    assert len(t) == 3
    rows = list(t)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    rows[1].fill_(0)  # rows are views
    assert t.tolist() == [[1, 2], [0, 0], [5, 6]]
    assert [r.tolist() for r in reversed(t)] == [[5, 6], [0, 0], [1, 2]]
    elems = list(torch.tensor([1.5, 2.5], device=device))
    assert all(e.shape == () for e in elems) and [e.item() for e in elems] == [1.5, 2.5]
    assert list(torch.zeros(0, 2, device=device)) == []
    s = torch.tensor(3, device=device)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(s)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(s)
    assert reversed(s) is s
    nc = torch.arange(6, device=device).reshape(2, 3).t()
    assert not nc.is_contiguous()
    assert [r.tolist() for r in nc] == [[0, 3], [1, 4], [2, 5]]


# ------------------------------------------------------------------- isclose / allclose


def near_pairs(rng, shape, np_dtype, rtol, atol):
    """Pairs whose differences straddle the tolerance, plus equal, nan and inf entries."""
    b = (rng.random(shape) * 4 - 2).astype(np_dtype)
    k = rng.choice([0.0, 0.5, 0.9, 1.1, 2.0, -0.9, -1.5], size=shape)
    a = (b.astype(np.float64) + k * (atol + rtol * np.abs(b.astype(np.float64)))).astype(np_dtype)
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    if flat_a.size >= 6:
        flat_a[:6] = [np.nan, np.nan, np.inf, np.inf, -np.inf, 1.0]
        flat_b[:6] = [np.nan, 1.0, np.inf, -np.inf, -np.inf, np.nan]
    return a, b


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16], ids=str)
@pytest.mark.parametrize("rtol,atol", [(1e-5, 1e-8), (1e-2, 1e-3), (0.0, 0.1), (0.0, 0.0)])
@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_matches_numpy(rng, dtype, rtol, atol, equal_nan, device):
    np_dtype = NP_DTYPES[dtype]
    a, b = near_pairs(rng, (7, 9), np_dtype, max(rtol, 1e-3), max(atol, 1e-3))
    ta, tb = torch.tensor(a, device=device), torch.tensor(b, device=device)
    got = torch.isclose(ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan)
    assert got.dtype == torch.bool and got.device.type == device
    expected = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    np.testing.assert_array_equal(to_np(got), expected)
    assert torch.allclose(ta, tb, rtol, atol, equal_nan) is bool(expected.all())
    assert ta.allclose(ta, equal_nan=True) is True


def test_isclose_bfloat16_through_float32(device):
    a = torch.tensor([1.0, 1.0, 2.0, float("nan")], dtype=torch.bfloat16, device=device)
    b = torch.tensor([1.0, 1.0078125, 2.5, float("nan")], dtype=torch.bfloat16, device=device)
    assert torch.isclose(a, b, rtol=1e-2, atol=0.0).tolist() == [True, True, False, False]
    assert torch.isclose(a, b, rtol=1e-2, atol=0.0, equal_nan=True).tolist()[3] is True


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8], ids=str)
def test_isclose_integers(rng, dtype, device):
    b = rng.integers(0, 20, (5, 6)).astype(NP_DTYPES[dtype])
    a = (b + rng.integers(0, 3, (5, 6))).astype(NP_DTYPES[dtype])
    ta, tb = torch.tensor(a, device=device), torch.tensor(b, device=device)
    got = torch.isclose(ta, tb, rtol=0.0, atol=1.0)
    np.testing.assert_array_equal(to_np(got), np.isclose(a, b, rtol=0.0, atol=1.0))
    got = torch.isclose(ta, tb)
    np.testing.assert_array_equal(to_np(got), a == b)


def test_isclose_integer_difference_wraps_like_torch(device):
    # torch takes |a - b| in the integer dtype, so uint8 3 - 5 wraps to 254.
    a = torch.tensor([3, 10], dtype=torch.uint8, device=device)
    b = torch.tensor([5, 8], dtype=torch.uint8, device=device)
    assert torch.isclose(a, b, rtol=0.0, atol=3.0).tolist() == [False, True]
    assert torch.isclose(a.long(), b.long(), rtol=0.0, atol=3.0).tolist() == [True, True]


def test_isclose_bool_and_broadcast_and_noncontiguous(rng, device):
    def T(values):
        return torch.tensor(values, device=device)

    x = T([True, False, True])
    assert torch.isclose(x, T([True, True, True])).tolist() == [True, False, True]
    a = rng.random((3, 1)).astype(np.float32)
    b = np.concatenate([a[:, 0], a[:2, 0] + 1]).astype(np.float32)
    got = torch.isclose(T(a), T(b))
    assert got.shape == (3, 5)
    np.testing.assert_array_equal(to_np(got), np.isclose(a, b))
    t = T(rng.random((3, 4))).t()
    assert not t.is_contiguous()
    np.testing.assert_array_equal(to_np(torch.isclose(t, t)), np.ones((4, 3), bool))
    assert torch.isclose(T(1.0), T(1.0)).shape == ()
    empty = torch.zeros(0, device=device)
    assert torch.isclose(empty, empty).shape == (0,)
    assert torch.allclose(empty, empty) is True


@settings(max_examples=25, deadline=None)
@given(
    shape_a=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    shape_b=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    seed=st.integers(0, 1000),
)
def test_isclose_broadcasting_property(shape_a, shape_b, seed, device):
    r = np.random.default_rng(seed)
    a = np.asarray(r.random(shape_a))
    b = np.asarray(r.choice([0.0, 1e-9, 1e-3], size=shape_b) + r.random(shape_b))
    ta, tb = torch.tensor(a, device=device), torch.tensor(b, device=device)
    try:
        expected = np.isclose(a, b)
    except ValueError:
        with pytest.raises(RuntimeError):
            torch.isclose(ta, tb)
        return
    got = torch.isclose(ta, tb)
    np.testing.assert_array_equal(to_np(got), expected)
    assert torch.allclose(ta, tb) is bool(expected.all())


def test_isclose_errors(device):
    f, d = torch.ones(2, device=device), torch.ones(2, dtype=torch.float64, device=device)
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        torch.isclose(f, d)
    with pytest.raises(RuntimeError, match="Long did not match Float"):
        torch.allclose(torch.ones(2, dtype=torch.int64, device=device), f)
    with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero, but got -1"):
        torch.isclose(f, f, rtol=-1.0)
    with pytest.raises(RuntimeError, match="atol must be greater than or equal to zero"):
        torch.allclose(f, f, atol=-0.5)
    with pytest.raises(TypeError, match="must be Tensor"):
        torch.isclose(f, 1.0)
    with pytest.raises(RuntimeError):
        torch.isclose(torch.ones(3, device=device), torch.ones(4, device=device))


def test_equal(device):
    def T(values):
        return torch.tensor(values, device=device)

    a = T([[1, 2], [3, 4]])
    assert torch.equal(a, T([[1, 2], [3, 4]])) is True
    assert a.equal(T([[1, 2], [3, 5]])) is False
    assert torch.equal(a, T([1, 2, 3, 4])) is False
    assert torch.equal(a, T([[1.0, 2.0], [3.0, 4.0]])) is True
    assert torch.equal(T([1, 1]), T([True, True])) is True
    n = T([1.0, float("nan")])
    assert torch.equal(n, n) is False
    assert torch.equal(torch.zeros(0, 2, device=device), torch.zeros(0, 2, device=device)) is True
    assert torch.equal(T(2.0), T(2.0)) is True
    base = torch.arange(12.0, device=device).reshape(3, 4)
    assert torch.equal(base[:, ::2], base[:, ::2].contiguous())
    assert torch.equal(base.t(), base.t().contiguous())
    with pytest.raises(TypeError):
        torch.equal(a, [[1, 2], [3, 4]])


# CPU only: NumPy arrays viewed in place (strided slices, transposes).
def test_equal_of_numpy_views():
    base = np.arange(12.0).reshape(3, 4)
    assert torch.equal(torch.from_numpy(base[:, ::2]), torch.from_numpy(np.ascontiguousarray(base[:, ::2])))
    assert torch.equal(torch.from_numpy(base.T), torch.from_numpy(np.ascontiguousarray(base.T)))


# ----------------------------------------------------------------------- assert_close


def test_assert_close_passes(device):
    def T(values, dtype=None):
        return torch.tensor(values, dtype=dtype, device=device)

    ones, zeros = torch.ones(2, device=device), torch.zeros(1, device=device)
    torch.testing.assert_close(T([1.0, 2.0]), T([1.0, 2.0 + 1e-6]))
    torch.testing.assert_close(T([1.0], torch.float16), T([1.0009765625], torch.float16))
    torch.testing.assert_close(T([1.0], torch.bfloat16), T([1.0078125], torch.bfloat16))
    torch.testing.assert_close(T([1, 2]), T([1, 2]))
    torch.testing.assert_close(1.0, 1.0 + 1e-8)
    torch.testing.assert_close(3, 3)
    torch.testing.assert_close([ones, (1.0, 2)], [ones, (1.0, 2)])
    torch.testing.assert_close({"a": zeros, "b": 2.0}, {"b": 2.0, "a": zeros})
    torch.testing.assert_close(T([float("nan")]), T([float("nan")]), equal_nan=True)
    torch.testing.assert_close(ones, ones.double(), check_dtype=False)
    torch.testing.assert_close(T([1.0]), T([1.1]), rtol=0.2, atol=0.0)
    torch.testing.assert_close(np.ones(3), np.ones(3))
    torch.testing.assert_close(None, None)
    torch.testing.assert_close(True, True)


def raises_msg(exc, *args, **kwargs):
    with pytest.raises(exc) as info:
        torch.testing.assert_close(*args, **kwargs)
    return str(info.value)


def test_assert_close_tensor_message(device):
    a = torch.tensor([1.0, 2.5, 3.0], device=device)
    msg = raises_msg(AssertionError, a, torch.tensor([1.0, 2.0, 3.0], device=device))
    assert msg == (
        "Tensor-likes are not close!\n\n"
        "Mismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.25 at index (1,) (up to 1.3e-06 allowed)"
    )


def test_assert_close_integer_and_2d_messages(device):
    a, e = torch.tensor([1, 2, 3], device=device), torch.tensor([1, 2, 4], device=device)
    msg = raises_msg(AssertionError, a, e)
    assert msg == (
        "Tensor-likes are not equal!\n\n"
        "Mismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 1 at index (2,)\n"
        "Greatest relative difference: 0.25 at index (2,)"
    )
    a = torch.tensor([[1.0, 2.0], [10.0, 4.0]], dtype=torch.float64, device=device)
    e = torch.tensor([[1.0, 2.0], [5.0, 0.0]], dtype=torch.float64, device=device)
    msg = raises_msg(AssertionError, a, e)
    assert "Mismatched elements: 2 / 4 (50.0%)" in msg
    assert "Greatest absolute difference: 5.0 at index (1, 0) (up to 1e-07 allowed)" in msg
    assert "Greatest relative difference: inf at index (1, 1) (up to 1e-07 allowed)" in msg


def test_assert_close_scalar_messages(device):
    msg = raises_msg(AssertionError, 1.0, 1.5)
    assert msg == (
        "Scalars are not close!\n\n"
        "Expected 1.5 but got 1.0.\n"
        "Absolute difference: 0.5 (up to 1e-07 allowed)\n"
        "Relative difference: 0.3333333333333333 (up to 1e-07 allowed)"
    )
    a, e = torch.tensor(2.0, device=device), torch.tensor(2.5, device=device)
    msg = raises_msg(AssertionError, a, e)
    assert msg.startswith("Scalars are not close!\n\nExpected 2.5 but got 2.0.")
    assert "(up to 1.3e-06 allowed)" in msg
    msg = raises_msg(AssertionError, 1, 2)
    assert msg.startswith("Scalars are not equal!") and "Absolute difference: 1\n" in msg
    assert raises_msg(AssertionError, 1, 1.0) == "The (d)types do not match: <class 'int'> != <class 'float'>."
    assert raises_msg(AssertionError, True, False) == "Booleans mismatch: True is not False"
    assert raises_msg(AssertionError, None, 1) == "None mismatch: None is not 1"
    assert "nan" in raises_msg(AssertionError, float("nan"), float("nan"))


def test_assert_close_attribute_and_structure_failures(device):
    def ones(*size, dtype=None):
        return torch.ones(*size, dtype=dtype, device=device)

    assert raises_msg(AssertionError, ones(2), ones(3)) == (
        "The values for attribute 'shape' do not match: torch.Size([2]) != torch.Size([3])."
    )
    assert raises_msg(AssertionError, ones(2), ones(2, dtype=torch.float64)) == (
        "The values for attribute 'dtype' do not match: torch.float32 != torch.float64."
    )
    if device != "cpu":
        assert raises_msg(AssertionError, ones(2), torch.ones(2)) == (
            "The values for attribute 'device' do not match: cuda:0 != cpu."
        )
    msg = raises_msg(AssertionError, [ones(2), ones(2)], [ones(2), torch.zeros(2, device=device)])
    assert msg.startswith("Tensor-likes are not close!")
    assert msg.endswith("\n\nThe failure occurred for item [1]")
    msg = raises_msg(AssertionError, {"a": [1.0, 2.0]}, {"a": [1.0, 3.0]})
    assert msg.endswith("The failure occurred for item ['a'][1]")
    assert raises_msg(AssertionError, [1, 2], [1]) == "The length of the sequences mismatch: 2 != 1"
    assert "Missing keys in the actual mapping: ['b']" in raises_msg(AssertionError, {"a": 1}, {"a": 1, "b": 2})
    msg = raises_msg(TypeError, ones(1), 1.0)
    assert msg.startswith("No comparison pair was able to handle inputs of type")
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted, but got no atol."):
        torch.testing.assert_close(ones(1), ones(1), rtol=0.1)
    nan = torch.tensor([float("nan"), 1.0], device=device)
    assert "Mismatched elements: 1 / 2 (50.0%)" in raises_msg(AssertionError, nan, nan)


def test_assert_close_custom_msg(device):
    one, zero = torch.ones(1, device=device), torch.zeros(1, device=device)
    assert raises_msg(AssertionError, one, zero, msg="custom") == "custom"
    msg = raises_msg(AssertionError, one, zero, msg=lambda m: "prefix: " + m)
    assert msg.startswith("prefix: Tensor-likes are not close!")


def test_assert_close_half_precision_messages(device):
    a = torch.tensor([1.0, 2.0], dtype=torch.float16, device=device)
    e = torch.tensor([1.0, 2.1], dtype=torch.float16, device=device)
    msg = raises_msg(AssertionError, a, e)
    # torch computes the differences in float16: |2 - 2.099609375| = 0.099609375.
    assert "Greatest absolute difference: 0.099609375 at index (1,) (up to 1e-05 allowed)" in msg
    assert re.search(r"Greatest relative difference: 0\.047\d* at index \(1,\) \(up to 0\.001 allowed\)", msg)
    b = torch.tensor([1.0, 3.0], dtype=torch.bfloat16, device=device)
    eb = torch.tensor([1.0, 2.0], dtype=torch.bfloat16, device=device)
    msg = raises_msg(AssertionError, b, eb)
    assert "Greatest absolute difference: 1.0 at index (1,) (up to 1e-05 allowed)" in msg
    assert "Greatest relative difference: 0.5 at index (1,) (up to 0.016 allowed)" in msg
