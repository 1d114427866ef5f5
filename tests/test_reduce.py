"""Reductions and scans against NumPy on every device: values, result dtypes, dims/keepdim,
strided, 0-d and empty inputs, and torch's errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from helpers import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, NP_DTYPES, TOL, random_array, to_np, tolerance

NP_FLOATS = [torch.float32, torch.float64]


def tensor_of(arr, dtype, device="cpu"):
    return torch.tensor(arr, dtype=dtype, device=device)


def close(t, expected, dtype=None, rtol=None, atol=None):
    got = to_np(t)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    dtype = dtype or t.dtype
    tol = dict(tolerance(dtype, t.device)) if dtype in TOL else {}
    if rtol is not None:
        tol.update(rtol=rtol, atol=atol or 0)
    if tol:
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), equal_nan=True, **tol)
    else:
        np.testing.assert_array_equal(got, expected)


SHAPES_DIMS = [
    ((), None),
    ((), 0),
    ((7,), 0),
    ((3, 4), None),
    ((3, 4), 0),
    ((3, 4), 1),
    ((3, 4), -1),
    ((2, 3, 5), (0, 2)),
    ((2, 3, 5), 1),
    ((2, 3, 5), (-1, -2)),
    ((4, 1, 6), (1,)),
    ((0, 3), 1),
]


def np_axis(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


def np_reduce(fn, arr, dim, keepdim):
    if arr.ndim == 0:
        return fn(arr)
    return fn(arr, axis=np_axis(dim), keepdims=keepdim)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_matches_numpy(rng, dtype, shape, dim, keepdim, device):
    arr = random_array(rng, shape, dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    got = t.sum(dim, keepdim) if dim is not None else t.sum()
    expected_dtype = dtype if dtype.is_floating_point else torch.int64
    assert got.dtype == expected_dtype and got.device.type == device
    ref = np_reduce(np.sum, arr.astype(np.float64 if dtype.is_floating_point else np.int64), dim, keepdim and dim is not None)
    close(got, ref, dtype if dtype.is_floating_point else None)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32, torch.uint8, torch.bool])
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_prod_matches_numpy(rng, dtype, shape, dim, device):
    if isinstance(dim, tuple):
        dim = dim[0]
    arr = random_array(rng, shape, dtype)
    if dtype.is_floating_point:
        arr = (arr / 3 + 1).astype(arr.dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    got = t.prod(dim) if dim is not None else t.prod()
    assert got.dtype == (dtype if dtype.is_floating_point else torch.int64)
    ref = np_reduce(np.prod, arr.astype(np.float64 if dtype.is_floating_point else np.int64), dim, False)
    close(got, ref, dtype if dtype.is_floating_point else None, rtol=1e-5 if dtype == torch.float32 else None)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_mean_matches_numpy(rng, dtype, shape, dim, keepdim, device):
    arr = random_array(rng, shape, dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    got = torch.mean(t, dim, keepdim) if dim is not None else torch.mean(t)
    assert got.dtype == dtype and got.device.type == device
    with np.errstate(invalid="ignore", divide="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = np_reduce(np.mean, arr.astype(np.float64), dim, keepdim and dim is not None)
    close(got, ref, dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape,dim", [s for s in SHAPES_DIMS if 0 not in s[0]])
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin_match_numpy(rng, dtype, shape, dim, op, device):
    arr = random_array(rng, shape, dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    got = getattr(torch, op)(t, dim if dim is not None else (), True)
    ref = np_reduce(np.max if op == "amax" else np.min, arr, dim, True)
    assert got.dtype == dtype
    close(got, np.asarray(ref).reshape(got.shape) if arr.ndim == 0 else ref)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_max_min_with_dim_return_values_and_first_indices(rng, dtype, device):
    arr = random_array(rng, (5, 6), dtype)
    arr[1, :] = arr[1, 0]  # ties: the first index wins
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    for dim in (0, 1, -1):
        r = torch.max(t, dim)
        assert type(r).__name__ == "max" and isinstance(r, tuple)
        values, indices = r
        assert r.values is values and r.indices is indices
        assert values.device.type == device and indices.device.type == device
        close(values, arr.max(axis=dim))
        np.testing.assert_array_equal(to_np(indices), arr.argmax(axis=dim))
        m = t.min(dim=dim, keepdim=True)
        close(m.values, arr.min(axis=dim, keepdims=True))
        np.testing.assert_array_equal(to_np(m.indices), np.expand_dims(arr.argmin(axis=dim), dim))
    close(t.max(), arr.max())
    assert t.max().dim() == 0


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("noncontig", [False, True])
def test_argmax_argmin(rng, dtype, noncontig, device):
    arr = random_array(rng, (4, 7), dtype)
    if noncontig:  # column-major: the transpose of a row-major tensor
        t = tensor_of(np.ascontiguousarray(arr.T), dtype, device).t()
        assert not t.is_contiguous()
    else:
        t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    assert t.argmax().item() == int(np.argmax(arr))
    assert t.argmin().item() == int(np.argmin(arr))
    for dim in (0, 1):
        np.testing.assert_array_equal(to_np(t.argmax(dim)), arr.argmax(axis=dim))
        np.testing.assert_array_equal(to_np(torch.argmin(t, dim, keepdim=True)), np.expand_dims(arr.argmin(axis=dim), dim))
    assert t.argmax().dtype == torch.int64


def test_nan_propagates_through_max_min_and_arg(device):
    x = torch.tensor([1.0, float("nan"), 5.0, float("nan")], device=device)
    assert math.isnan(x.max().item()) and math.isnan(x.min().item())
    assert x.argmax().item() == 1 and x.argmin().item() == 1
    assert math.isnan(torch.amax(x, 0).item())
    r = torch.tensor([[1.0, float("nan")], [3.0, 2.0]], device=device).max(1)
    assert math.isnan(r.values.tolist()[0]) and r.indices.tolist() == [1, 0]
    assert math.isnan(x.sum().item())
    assert x.nansum().item() == 6.0
    assert x.nanmean().item() == 3.0


def test_max_of_other_is_elementwise_maximum(device):
    a = torch.tensor([1.0, 5.0, float("nan"), -2.0], device=device)
    b = torch.tensor([3.0, 2.0, 0.0, float("nan")], device=device)
    got = to_np(torch.max(a, b))
    np.testing.assert_array_equal(got, np.maximum(to_np(a), to_np(b)))
    np.testing.assert_array_equal(to_np(a.min(b)), np.minimum(to_np(a), to_np(b)))
    c = torch.max(torch.tensor([[1, 7]], dtype=torch.int32, device=device), torch.tensor([[2.5], [0.5]], device=device))
    assert c.dtype == torch.float32 and c.tolist() == [[2.5, 7.0], [1.0, 7.0]]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_aminmax(rng, dtype, device):
    arr = random_array(rng, (3, 5), dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    r = torch.aminmax(t)
    assert type(r).__name__ == "aminmax"
    close(r.min, arr.min())
    close(r.max, arr.max())
    r = t.aminmax(dim=1, keepdim=True)
    close(r[0], arr.min(axis=1, keepdims=True))
    close(r[1], arr.max(axis=1, keepdims=True))


@pytest.mark.parametrize("dtype", NP_FLOATS + [torch.float16])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_match_numpy(rng, dtype, dim, correction, device):
    arr = random_array(rng, (6, 5), dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    a64 = arr.astype(np.float64)
    ax = np_axis(dim)
    close(torch.var(t, dim, correction=correction), np.var(a64, axis=ax, ddof=correction), dtype)
    close(t.std(dim, correction=correction, keepdim=True), np.std(a64, axis=ax, ddof=correction, keepdims=True), dtype)
    v, m = torch.var_mean(t, dim, correction=correction)
    close(v, np.var(a64, axis=ax, ddof=correction), dtype)
    close(m, np.mean(a64, axis=ax), dtype)
    s, m = torch.std_mean(t, dim, correction=correction)
    close(s, np.std(a64, axis=ax, ddof=correction), dtype)


def test_var_unbiased_forms(device):
    arr = np.array([1.0, 2.0, 4.0, 7.0], dtype=np.float64)
    t = torch.tensor(arr, device=device)
    assert t.var().item() == pytest.approx(np.var(arr, ddof=1))
    assert t.var(False).item() == pytest.approx(np.var(arr))
    assert torch.var(t, 0, False).item() == pytest.approx(np.var(arr))
    assert t.std(unbiased=False).item() == pytest.approx(np.std(arr))
    assert math.isnan(torch.tensor([3.0], device=device).var().item())


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, 0, math.inf, -math.inf, "fro"])
@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_norm_matches_numpy(rng, p, dim, device):
    arr = random_array(rng, (4, 5), torch.float64)
    arr[0, 0] = 0.0
    t = torch.tensor(arr, device=device)
    flat = arr if dim is not None else arr.ravel()
    ax = np_axis(dim) if dim is not None else None
    q = 2 if p == "fro" else p
    absv = np.abs(flat)
    if q == math.inf:
        ref = absv.max(axis=ax)
    elif q == -math.inf:
        ref = absv.min(axis=ax)
    elif q == 0:
        ref = (flat != 0).sum(axis=ax).astype(np.float64)
    else:
        ref = (absv**q).sum(axis=ax) ** (1 / q)
    close(torch.norm(t, p, dim), ref)
    if p != "fro":
        close(torch.linalg.vector_norm(t, p, dim), ref)


def test_vector_norm_defaults_keepdim_dtype(device):
    t = torch.tensor([[3.0, 4.0], [6.0, 8.0]], device=device)
    assert torch.linalg.vector_norm(t).item() == pytest.approx(math.sqrt(125))
    k = torch.linalg.vector_norm(t, dim=1, keepdim=True)
    assert k.shape == (2, 1) and k.tolist() == [[5.0], [10.0]]
    assert torch.linalg.vector_norm(t, dtype=torch.float64).dtype == torch.float64
    assert t.norm().item() == pytest.approx(math.sqrt(125))
    with pytest.raises(RuntimeError, match="floating point"):
        torch.linalg.vector_norm(torch.tensor([1, 2], device=device))
    with pytest.raises(RuntimeError, match="inf norm on an empty tensor"):
        torch.linalg.vector_norm(torch.tensor([], device=device), math.inf)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_logsumexp_is_stable(rng, dim, device):
    arr = rng.random((3, 4)) * 10 + 1000.0
    t = torch.tensor(arr, device=device)
    m = arr.max(axis=np_axis(dim), keepdims=True)
    ref = np.log(np.exp(arr - m).sum(axis=np_axis(dim), keepdims=True)) + m
    close(torch.logsumexp(t, dim, keepdim=True), ref)
    assert torch.logsumexp(torch.tensor([-math.inf, -math.inf], device=device), 0).item() == -math.inf
    assert torch.logsumexp(torch.tensor([1.0, math.inf], device=device), 0).item() == math.inf
    assert torch.logsumexp(torch.tensor([1, 2], device=device), 0).dtype == torch.float32


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_all_any_count_nonzero(rng, dtype, device):
    arr = random_array(rng, (4, 5), dtype)
    arr[0, :] = 0
    arr[1, :] = 1
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    out_dtype = torch.uint8 if dtype == torch.uint8 else torch.bool
    assert t.all().dtype == out_dtype
    assert bool(t.all().item()) == bool(arr.all())
    assert bool(torch.any(t).item()) == bool(arr.any())
    np.testing.assert_array_equal(to_np(t.all(1)).astype(bool), arr.all(axis=1))
    np.testing.assert_array_equal(to_np(t.any(0, keepdim=True)).astype(bool), arr.any(axis=0, keepdims=True))
    np.testing.assert_array_equal(to_np(torch.count_nonzero(t, 0)), np.count_nonzero(arr, axis=0))
    assert torch.count_nonzero(t).item() == np.count_nonzero(arr)
    assert torch.count_nonzero(t, (0, 1)).dtype == torch.int64


def test_empty_reductions_give_identities(device):
    e = torch.zeros((0, 3), device=device)
    assert e.sum().item() == 0 and e.prod().item() == 1
    assert e.sum(0).tolist() == [0.0, 0.0, 0.0] and e.prod(0).tolist() == [1.0, 1.0, 1.0]
    assert e.sum(1).shape == (0,)
    assert math.isnan(e.mean().item())
    assert e.all().item() is True and e.any().item() is False
    assert torch.tensor([], dtype=torch.int32, device=device).sum().dtype == torch.int64


def test_errors_follow_torch(device):
    i = torch.tensor([1, 2, 3], device=device)
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long"):
        i.mean()
    assert i.mean(dtype=torch.float64).item() == 2.0
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        i.var()
    e = torch.tensor([], device=device)
    with pytest.raises(IndexError, match=r"max\(\): Expected reduction dim to be specified for input.numel\(\) == 0"):
        e.max()
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified"):
        e.argmax()
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        torch.zeros((0, 2), device=device).max(0)
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        torch.amax(torch.zeros((0, 2), device=device), 0)
    assert torch.zeros((0, 2), device=device).max(1).values.shape == (0,)
    with pytest.raises(IndexError, match="Dimension out of range"):
        torch.ones((2, 3), device=device).sum(2)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        torch.ones((2, 3), device=device).sum((0, -2))
    with pytest.raises(TypeError):
        torch.ones(3, device=device).sum("a")


def test_sum_dtype_and_out(device):
    t = torch.tensor([[1, 2], [3, 4]], dtype=torch.int8, device=device)
    assert t.sum(dtype=torch.float32).dtype == torch.float32
    assert torch.sum(t, 0, dtype=torch.int32).dtype == torch.int32
    assert torch.tensor([True, True, False], device=device).sum().item() == 2
    out = torch.zeros(2, dtype=torch.int64, device=device)
    r = torch.sum(t, 1, out=out)
    assert r is out and out.tolist() == [3, 7]
    v, i = torch.zeros(2, device=device), torch.zeros(2, dtype=torch.int64, device=device)
    res = torch.max(torch.tensor([[1.0, 9.0], [7.0, 2.0]], device=device), 1, out=(v, i))
    assert res.values is v and v.tolist() == [9.0, 7.0] and i.tolist() == [1, 0]


def test_sum_of_ten_million_float32_is_accurate(device):
    # The GPU adds float32 partial sums in a tree (as torch's CUDA sum does): a few more roundings.
    rtol = 1e-6 if device == "cpu" else 1e-5
    arr = np.full(10_000_000, 0.1, dtype=np.float32)
    t = torch.tensor(arr, device=device)
    np.testing.assert_allclose(t.sum().item(), arr.astype(np.float64).sum(), rtol=rtol)
    np.testing.assert_allclose(t.mean().item(), 0.1, rtol=rtol)


@pytest.mark.parametrize("dim", [0, 1])
def test_large_row_and_column_sums(rng, dim, device):
    arr = rng.random((3000, 700)).astype(np.float32)
    t = torch.tensor(arr, device=device)
    close(t.sum(dim), arr.astype(np.float64).sum(axis=dim), rtol=1e-5, atol=1e-4)
    close(t.amax(dim), arr.max(axis=dim))
    np.testing.assert_array_equal(to_np(t.argmin(dim)), arr.argmin(axis=dim))
    f = torch.tensor(np.ascontiguousarray(arr.T), device=device).t()  # column-major
    close(f.sum(dim), arr.astype(np.float64).sum(axis=dim), rtol=1e-5, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=4),
    data=st.data(),
    keepdim=st.booleans(),
    step=st.integers(1, 2),
)
def test_strided_sums_and_maxes(shape, data, keepdim, step, device):
    rng = np.random.default_rng(len(shape))
    base = rng.standard_normal([s * step for s in shape]) if shape else rng.standard_normal(())
    arr = base[tuple(slice(None, None, step) for _ in shape)] if shape else base
    t = torch.tensor(base, device=device)
    t = t[tuple(slice(None, None, step) for _ in shape)] if shape else t
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-max(nd, 1), max(nd, 1) - 1), unique_by=lambda d: d % max(nd, 1), max_size=max(nd, 1)))
    dims = tuple(dims)
    ax = tuple(d % nd for d in dims) if nd and dims else None
    close(t.sum(dims, keepdim), np.sum(arr, axis=ax, keepdims=keepdim) if nd else arr, rtol=1e-12, atol=1e-12)
    if arr.size and (ax is None or all(arr.shape[a] for a in ax)):
        close(t.amax(dims, keepdim), np.max(arr, axis=ax, keepdims=keepdim) if nd else arr)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32, torch.int64, torch.uint8, torch.bool])
@pytest.mark.parametrize("shape,dim", [((), 0), ((6,), 0), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 1), ((2, 0, 3), 1)])
def test_cumsum_cumprod(rng, dtype, shape, dim, device):
    arr = random_array(rng, shape, dtype)
    if dtype.is_floating_point:
        arr = (arr / 3 + 1).astype(arr.dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    got = t.cumsum(dim)
    assert got.dtype == (dtype if dtype.is_floating_point else torch.int64)
    wide = arr.astype(np.float64 if dtype.is_floating_point else np.int64)
    ref = np.cumsum(wide, axis=dim) if arr.ndim else wide
    close(got, ref, dtype if dtype.is_floating_point else None)
    refp = np.cumprod(wide, axis=dim) if arr.ndim else wide
    close(torch.cumprod(t, dim), refp, dtype if dtype.is_floating_point else None, rtol=1e-5 if dtype == torch.float32 else None)
    if dtype != torch.bool:
        assert torch.cumsum(t, dim, dtype=torch.float64).dtype == torch.float64


def ref_cum(arr, dim, better):
    arr = np.moveaxis(arr, dim, -1)
    vals = np.empty_like(arr)
    idx = np.zeros(arr.shape, dtype=np.int64)
    for pos in np.ndindex(arr.shape[:-1]):
        cur, ci = None, 0
        for k, v in enumerate(arr[pos]):
            if k == 0 or (v != v) or better(v, cur):
                cur, ci = v, k
            vals[pos + (k,)] = cur
            idx[pos + (k,)] = ci
    return np.moveaxis(vals, -1, dim), np.moveaxis(idx, -1, dim)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.int16])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin(rng, dtype, dim, device):
    arr = rng.integers(0, 4, (4, 5)).astype(NP_DTYPES[dtype])  # many ties
    if dtype == torch.float32:
        arr[2, 1] = np.nan
    t = torch.tensor(arr, device=device)
    for op, better in (("cummax", lambda v, c: v >= c), ("cummin", lambda v, c: v <= c)):
        r = getattr(torch, op)(t, dim)
        assert type(r).__name__ == op
        ev, ei = ref_cum(arr, dim % 2, better)
        np.testing.assert_array_equal(to_np(r.values), ev)
        np.testing.assert_array_equal(to_np(r.indices), ei)


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_int_sums_wrap_in_int64(dtype, device):
    arr = np.array([100, 27, 1], dtype=NP_DTYPES[dtype])
    assert torch.tensor(arr, device=device).sum().item() == 128


def test_noncontiguous_inputs_for_every_kind_of_reduction(rng, device):
    base = rng.standard_normal((6, 10))
    tb = torch.tensor(base, device=device)
    column_major = torch.tensor(np.ascontiguousarray(base.T), device=device).t()
    for t, arr in ((tb[:, ::2], base[:, ::2]), (column_major, base), (tb[1:, 3:], base[1:, 3:])):
        assert not t.is_contiguous()
        for dim in (0, 1):
            close(t.var(dim), np.var(arr, axis=dim, ddof=1))
            close(t.mean(dim), arr.mean(axis=dim))
            close(t.prod(dim), arr.prod(axis=dim))
            close(torch.logsumexp(t, dim), np.log(np.exp(arr).sum(axis=dim)))
            close(t.cumsum(dim), np.cumsum(arr, axis=dim))
            close(t.norm(3, dim), (np.abs(arr) ** 3).sum(axis=dim) ** (1 / 3))
            np.testing.assert_array_equal(to_np(t.argmax(dim)), arr.argmax(axis=dim))
        close(t.std(), arr.std(ddof=1))
