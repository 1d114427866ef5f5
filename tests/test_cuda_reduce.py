"""Reductions, scans and sorting on CUDA tensors give what the same ops give on the CPU (which
test_reduce.py and test_sort.py check against NumPy): every op and dtype, dims and keepdim,
non-contiguous inputs, 0-d and empty tensors, large sizes, ties and NaN, out= and gradients.
Skipped without a GPU."""

import math

import numpy as np
import pytest

import ferrotorch as torch
from helpers import ALL_DTYPES, FLOAT_DTYPES, random_array

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

# Sums run in another order on the GPU: allow a few roundings of the accumulator.
TOL = {
    torch.float16: dict(rtol=3e-3, atol=3e-3),
    torch.bfloat16: dict(rtol=2e-2, atol=2e-2),
    torch.float32: dict(rtol=1e-4, atol=1e-4),
    torch.float64: dict(rtol=1e-9, atol=1e-9),
}
NUM_DTYPES = [d for d in ALL_DTYPES if d != torch.bool]


def host(t):
    t = t.cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()
    return np.array(t.numpy(), copy=True)


def same(got, want, exact=False):
    """got (from CUDA) equals want (from the CPU): device, dtype, shape and values."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w, exact)
        return
    assert got.is_cuda, "result left the GPU"
    assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape), (got, want)
    g, w = host(got), host(want)
    if want.dtype in TOL and not exact:
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), equal_nan=True,
                                   **TOL[want.dtype])
    else:
        np.testing.assert_array_equal(g, w)


def check(fn, *inputs, exact=False):
    """Runs fn on CPU tensors and on their CUDA copies and compares."""
    want = fn(*inputs)
    got = fn(*[x.cuda() for x in inputs])
    same(got, want, exact)
    return got


def rand(rng, shape, dtype):
    return torch.tensor(random_array(rng, shape, dtype), dtype=dtype)


def views(rng, dtype):
    """Contiguous, transposed, sliced and expanded inputs, created on the CPU."""
    base = rand(rng, (6, 40), dtype)
    return [
        base,
        base.t(),
        base[1::2, ::3],
        rand(rng, (5, 1, 7), dtype).expand(5, 4, 7),
        rand(rng, (3, 4, 5), dtype).permute(2, 0, 1),
    ]


# ---------------------------------------------------------------- reductions

DIMS = [None, 0, 1, -1, (0, 1)]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_every_dtype_dim_and_view(rng, dtype, dim, keepdim):
    for x in views(rng, dtype):
        if dim is None:
            check(lambda t: t.sum(), x)
        else:
            check(lambda t: t.sum(dim, keepdim), x)
        check(lambda t: torch.nansum(t, dim, keepdim) if dim is not None else torch.nansum(t), x)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_prod(rng, dtype, dim):
    if dtype.is_floating_point:
        x = torch.tensor(0.9 + 0.2 * rng.random((4, 9)), dtype=dtype)
    else:
        x = rand(rng, (4, 9), dtype)
    check(lambda t: t.prod() if dim is None else t.prod(dim), x)
    check(lambda t: t.t().prod() if dim is None else t.t().prod(dim, True), x)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_mean_nanmean(rng, dtype, dim, keepdim):
    for x in views(rng, dtype):
        if dim is None:
            check(lambda t: t.mean(), x)
            check(lambda t: t.nanmean(), x)
        else:
            check(lambda t: t.mean(dim, keepdim), x)
            check(lambda t: t.nanmean(dim, keepdim), x)
    x = torch.tensor([[1.0, float("nan"), 3.0], [float("nan")] * 3], dtype=dtype)
    check(lambda t: t.nanmean(1), x)
    check(lambda t: torch.nansum(t, 1), x)
    check(lambda t: t.mean(1), x)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_min_amax_argmax(rng, dtype, dim):
    for x in views(rng, dtype):
        check(lambda t: t.max(), x)
        check(lambda t: t.min(), x)
        check(lambda t: t.amax(dim), x)
        check(lambda t: t.amin((0, 1), True), x)
        # Small integers tie often: the first index must win.
        check(lambda t: tuple(t.max(dim)), x, exact=True)
        check(lambda t: tuple(t.min(dim, True)), x, exact=True)
        check(lambda t: t.argmax(), x)
        check(lambda t: t.argmin(dim), x)
        check(lambda t: t.argmax(dim, True), x)
        check(lambda t: tuple(torch.aminmax(t)), x)
        check(lambda t: tuple(torch.aminmax(t, dim=dim, keepdim=True)), x)


def test_ties_and_nan_in_max_min():
    nan = float("nan")
    x = torch.tensor([[1.0, 3.0, 3.0, nan, 2.0, nan], [5.0, 5.0, 1.0, 1.0, 0.0, 5.0]])
    for fn in [lambda t: t.max(), lambda t: t.amin(1), lambda t: tuple(t.max(1)),
               lambda t: tuple(t.min(1)), lambda t: t.argmax(), lambda t: t.argmin(1),
               lambda t: tuple(torch.aminmax(t, dim=1))]:
        check(fn, x, exact=True)
    big = torch.zeros(1 << 20)
    big[700_000] = nan
    big[900_000] = 7.0
    check(lambda t: (t.max(), t.argmax(), t.amin()), big, exact=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_and_their_means(rng, dtype, dim, correction):
    for x in views(rng, dtype):
        check(lambda t: t.var(dim, correction=correction), x)
        check(lambda t: t.std(dim, correction=correction, keepdim=True), x)
        check(lambda t: tuple(torch.var_mean(t, dim, correction=correction)), x)
        check(lambda t: tuple(torch.std_mean(t, dim, correction=correction)), x)
    one = torch.tensor([2.5], dtype=dtype)
    check(lambda t: t.var(), one)  # 0 / 0 -> NaN, as on the CPU


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("p", [2, 1, 0, 3, 0.5, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_vector_norms(rng, dtype, p, dim):
    for x in views(rng, dtype):
        check(lambda t: torch.linalg.vector_norm(t, p, dim), x)
        check(lambda t: torch.norm(t, p, dim, keepdim=True), x)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.int32])
@pytest.mark.parametrize("dim", [0, 1, (0, 1)])
def test_logsumexp(rng, dtype, dim):
    for x in views(rng, dtype):
        check(lambda t: torch.logsumexp(t, dim), x)
    inf, nan = float("inf"), float("nan")
    x = torch.tensor([[1000.0, 1000.0, -inf], [-inf, -inf, -inf], [inf, 1.0, 2.0], [nan, 1.0, 2.0]])
    check(lambda t: torch.logsumexp(t, 1), x)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_all_any_count_nonzero(rng, dtype, dim):
    for x in views(rng, dtype):
        if dim is None:
            check(lambda t: (t.all(), t.any(), torch.count_nonzero(t)), x)
        else:
            check(lambda t: (t.all(dim), t.any(dim, True), torch.count_nonzero(t, dim)), x)
    z = torch.zeros(3, 50, dtype=dtype)
    z[1, 7] = 1
    check(lambda t: (t.all(1), t.any(1), t.any(), t.all()), z)
    check(lambda t: torch.count_nonzero(torch.tensor([0.0, float("nan"), -0.0]).to(t.device)), z)


def test_zero_dim_and_empty(rng):
    s = torch.tensor(2.5)
    for fn in [lambda t: t.sum(), lambda t: t.sum(0), lambda t: t.mean(), lambda t: t.max(),
               lambda t: tuple(t.max(0)), lambda t: t.argmax(), lambda t: t.prod(),
               lambda t: t.var(correction=0), lambda t: torch.logsumexp(t, 0),
               lambda t: t.norm(), lambda t: t.all(), lambda t: t.cumsum(0),
               lambda t: tuple(t.cummax(0)), lambda t: tuple(t.sort()), lambda t: t.median()]:
        check(fn, s)
    e = torch.zeros(0, 4)
    for fn in [lambda t: t.sum(), lambda t: t.sum(0), lambda t: t.sum(1), lambda t: t.prod(0),
               lambda t: t.mean(0), lambda t: t.amax(1), lambda t: t.all(0), lambda t: t.any(),
               lambda t: torch.count_nonzero(t, 0), lambda t: t.norm(dim=0),
               lambda t: torch.logsumexp(t, 0), lambda t: t.cumsum(0), lambda t: t.cumprod(1),
               lambda t: tuple(t.sort(0)), lambda t: tuple(t.topk(0, 1)), lambda t: t.var(0)]:
        check(fn, e)
    for fn in [lambda t: t.max(), lambda t: t.amax(0), lambda t: t.argmax()]:
        with pytest.raises(IndexError) as cpu_err:
            fn(e)
        with pytest.raises(IndexError) as gpu_err:
            fn(e.cuda())
        assert str(gpu_err.value) == str(cpu_err.value)


def test_sums_past_two_to_the_24():
    n = (1 << 24) + 3
    ones = torch.ones(n, device="cuda")
    assert ones.sum().item() == pytest.approx(n, rel=1e-6)
    assert ones.to(torch.int32).sum().item() == n
    assert ones.to(torch.float16).sum().item() == math.inf  # f16 holds at most 65504
    assert ones.to(torch.float64).sum().item() == n
    assert ones.to(torch.bfloat16).sum(dtype=torch.float32).item() == pytest.approx(n, rel=1e-6)
    assert ones.mean().item() == pytest.approx(1.0, rel=1e-6)
    tenth = torch.full((10_000_000,), 0.1, device="cuda")
    assert tenth.sum().item() == pytest.approx(1e6, rel=1e-5)
    assert torch.count_nonzero(ones).item() == n


def test_large_row_and_column_reductions(rng):
    x = torch.tensor(rng.random((1500, 1100)).astype(np.float32))
    for fn in [lambda t: t.sum(0), lambda t: t.sum(1), lambda t: t.t().sum(0), lambda t: t.mean(),
               lambda t: tuple(t.max(0)), lambda t: t.argmin(), lambda t: t.var(0),
               lambda t: torch.logsumexp(t, 1), lambda t: t.norm(dim=0),
               lambda t: t[:, :3].sum(0), lambda t: t.reshape(-1, 2).sum(1)]:
        check(fn, x)
    mid = torch.tensor(rng.random((64, 300, 50)).astype(np.float32))
    for fn in [lambda t: t.sum(1), lambda t: t.argmax(1), lambda t: torch.logsumexp(t, 1),
               lambda t: tuple(t.var_mean(1)), lambda t: t.amin((0, 1)), lambda t: t.sum((0, 1))]:
        check(fn, mid)
    col = torch.tensor(rng.random((3_000_000, 2)).astype(np.float32))
    check(lambda t: t.sum(0), col)
    check(lambda t: tuple(t.max(0)), col, exact=True)


@pytest.mark.parametrize("dtype", [torch.int8, torch.int32, torch.int64, torch.uint8])
def test_int_sums_wrap_in_int64(dtype):
    x = torch.full((1000,), 100, dtype=dtype)
    check(lambda t: (t.sum(), t.prod(), torch.cumsum(t, 0)), x)
    big = torch.tensor([2**62, 2**62, 2**62], dtype=torch.int64)
    check(lambda t: (t.sum(), t.prod()), big)


def test_sum_out_and_dtype(rng):
    x = rand(rng, (3, 4), torch.int8).cuda()
    out = torch.zeros(3, dtype=torch.int64, device="cuda")
    r = torch.sum(x, 1, out=out)
    assert r is out and out.tolist() == x.cpu().sum(1).tolist()
    assert x.sum(dtype=torch.float32).dtype == torch.float32
    v = torch.zeros(4, device="cuda")
    i = torch.zeros(4, dtype=torch.int64, device="cuda")
    y = rand(rng, (3, 4), torch.float32)
    res = torch.max(y.cuda(), 0, out=(v, i))
    assert res.values is v and v.tolist() == y.max(0).values.tolist()
    assert i.tolist() == y.max(0).indices.tolist()


# ---------------------------------------------------------------- scans


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_cumprod(rng, dtype, dim):
    for x in views(rng, dtype):
        check(lambda t: torch.cumsum(t, dim), x)
        check(lambda t: t.cumsum(dim, dtype=torch.float64), x)
    if dtype.is_floating_point:
        x = torch.tensor(0.95 + 0.1 * rng.random((3, 70)), dtype=dtype)
    else:
        x = rand(rng, (3, 70), dtype)
    check(lambda t: torch.cumprod(t, dim), x)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, 1])
def test_cummax_cummin(rng, dtype, dim):
    for x in views(rng, dtype):
        check(lambda t: tuple(torch.cummax(t, dim)), x, exact=True)
        check(lambda t: tuple(torch.cummin(t, dim)), x, exact=True)


def test_cummax_ties_and_nan():
    nan = float("nan")
    x = torch.tensor([1.0, 3.0, 3.0, nan, 5.0, nan, 2.0] * 50)
    check(lambda t: (tuple(t.cummax(0)), tuple(t.cummin(0))), x, exact=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp(rng, dtype, dim):
    for x in views(rng, dtype):
        check(lambda t: torch.logcumsumexp(t, dim), x)
    inf, nan = float("inf"), float("nan")
    x = torch.tensor([-inf, -inf, 0.0, inf, 1.0, inf, nan, 3.0], dtype=dtype)
    check(lambda t: torch.logcumsumexp(t, 0), x)


@pytest.mark.parametrize("n", [1, 63, 64, 65, 1000, 1024, 5000, 300_000])
def test_long_scans(rng, n):
    x = torch.tensor(rng.random((2, n)).astype(np.float32))
    check(lambda t: t.cumsum(1), x)
    check(lambda t: t.t().cumsum(0), x)
    check(lambda t: tuple(t.cummax(1)), x, exact=True)
    check(lambda t: torch.logcumsumexp(t, 1), x)
    i = torch.tensor(rng.integers(-5, 5, (3, n)))
    check(lambda t: (t.cumsum(1), tuple(t.cummin(1))), i, exact=True)


def test_scan_over_many_rows(rng):
    x = torch.tensor(rng.random((5000, 3, 8)).astype(np.float32))
    check(lambda t: (t.cumsum(1), t.cumsum(0), tuple(t.cummax(2))), x)


# ---------------------------------------------------------------- sorting


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_every_dtype_and_view(rng, dtype, descending):
    for x in views(rng, dtype):
        for dim in [0, 1, -1]:
            check(lambda t: tuple(t.sort(dim, descending)), x, exact=True)
            check(lambda t: t.argsort(dim, descending=descending), x, exact=True)
        check(lambda t: torch.msort(t), x, exact=True)


@pytest.mark.parametrize("n", [1, 2, 3, 31, 1000, 2048, 2049, 5000])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_lengths_ties_and_nan(rng, n, descending):
    vals = rng.integers(0, 5, (3, n)).astype(np.float32)
    vals[rng.random((3, n)) < 0.1] = np.nan
    x = torch.tensor(vals)
    check(lambda t: tuple(t.sort(1, descending)), x, exact=True)
    check(lambda t: tuple(t.sort(0, descending)), x, exact=True)
    k = min(n, 5)
    check(lambda t: tuple(t.topk(k, 1, largest=not descending)), x, exact=True)
    check(lambda t: tuple(t.kthvalue(k, 1, True)), x, exact=True)


def test_sort_a_million_elements(rng):
    x = torch.tensor(rng.random(1 << 20).astype(np.float32))
    v, i = x.cuda().sort()
    same((v, i), x.sort(), exact=True)
    vals = torch.tensor(rng.integers(0, 1000, 1_500_000))
    check(lambda t: tuple(t.sort(descending=True)), vals, exact=True)
    check(lambda t: tuple(t.topk(10)), vals, exact=True)


@pytest.mark.parametrize("dtype", NUM_DTYPES)
def test_topk_kthvalue(rng, dtype):
    for x in views(rng, dtype):
        for dim in [0, -1]:
            check(lambda t: tuple(t.topk(2, dim)), x, exact=True)
            check(lambda t: tuple(t.topk(3, dim, largest=False)), x, exact=True)
            check(lambda t: tuple(t.kthvalue(2, dim)), x, exact=True)
            check(lambda t: tuple(t.kthvalue(1, dim, keepdim=True)), x, exact=True)


@pytest.mark.parametrize("dtype", NUM_DTYPES)
def test_median_nanmedian_mode(rng, dtype):
    for x in views(rng, dtype):
        check(lambda t: t.median(), x, exact=True)
        for dim in [0, 1]:
            check(lambda t: tuple(t.median(dim)), x, exact=True)
            check(lambda t: tuple(t.nanmedian(dim, True)), x, exact=True)
            check(lambda t: tuple(t.mode(dim)), x, exact=True)
    if dtype.is_floating_point:
        nan = float("nan")
        x = torch.tensor([[1.0, nan, 3.0, 2.0], [nan, nan, nan, nan], [4.0, 1.0, 1.0, 4.0],
                          [nan, 2.0, 2.0, nan]], dtype=dtype)
        for fn in [lambda t: tuple(t.median(1)), lambda t: tuple(t.nanmedian(1)),
                   lambda t: tuple(t.mode(1)), lambda t: t.median(), lambda t: t.nanmedian()]:
            check(fn, x, exact=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool, torch.float16])
def test_unique(rng, dtype):
    x = rand(rng, (7, 9), dtype)
    check(lambda t: torch.unique(t, return_inverse=True, return_counts=True), x, exact=True)
    check(lambda t: torch.unique_consecutive(t, return_inverse=True, return_counts=True), x,
          exact=True)
    check(lambda t: torch.unique(t), x.t(), exact=True)


# ---------------------------------------------------------------- gradients


def grads(fn, x):
    """d(sum of fn(x)) / dx on the CPU and on CUDA; skips when an op of another family
    refuses CUDA tensors."""
    out = []
    for t in [x.detach().clone(), x.detach().cuda()]:
        t.requires_grad_(True)
        try:
            y = fn(t)
            y = y[0] if isinstance(y, tuple) else y
            y.sum().backward()
        except NotImplementedError as e:
            pytest.skip(f"backward needs an op CUDA lacks here: {e}")
        out.append(t.grad)
    return out


GRAD_FNS = {
    "sum": lambda t: t.sum(1),
    "mean": lambda t: t.mean(0),
    "prod": lambda t: t.prod(1),
    "amax": lambda t: t.amax(1),
    "max_dim": lambda t: t.max(1),
    "max_all": lambda t: t.max(),
    "var": lambda t: t.var(1),
    "std": lambda t: t.std(),
    "norm": lambda t: t.norm(dim=1),
    "logsumexp": lambda t: torch.logsumexp(t, 1),
    "cumsum": lambda t: t.cumsum(1),
    "cumprod": lambda t: t.cumprod(0),
    "cummax": lambda t: t.cummax(1),
    "logcumsumexp": lambda t: torch.logcumsumexp(t, 1),
    "sort": lambda t: t.sort(1),
    "topk": lambda t: t.topk(2, 1),
    "kthvalue": lambda t: t.kthvalue(2, 1),
    "median": lambda t: t.median(1),
}


@pytest.mark.parametrize("name", list(GRAD_FNS))
def test_gradients_match_the_cpu(rng, name):
    x = torch.tensor(rng.random((4, 6)) + 0.5, dtype=torch.float64)
    cpu, gpu = grads(GRAD_FNS[name], x)
    same(gpu, cpu)
