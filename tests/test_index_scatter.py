"""Index writes on every device: scatter_reduce_ (every reduction and dtype), scatter_add_,
index_add_ and index_put_ with many duplicate indices, and out-of-range indices. On CUDA the
duplicates meet in atomics (compare-and-swap on the enclosing 32-bit word for 1- and 2-byte
dtypes), so the values are chosen to make every order give the same exact result."""

import math

import numpy as np
import pytest

import ferrotorch as torch
from helpers import NP_DTYPES, to_np

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
          torch.int16, torch.int8, torch.uint8, torch.bool]
REDUCES = ["sum", "prod", "mean", "amax", "amin"]


def np_dtype(dt):
    """The NumPy dtype the oracle holds `dt`'s values in (bfloat16 through float32)."""
    return np.float32 if dt == torch.bfloat16 else NP_DTYPES[dt]


def small(rng, shape, dt, top=4):
    """Values every dtype holds exactly: integers in [-3, top) ([0, top) for uint8), or bools."""
    if dt == torch.bool:
        return rng.random(shape) > 0.5
    return rng.integers(0 if dt == torch.uint8 else -3, top, shape).astype(np_dtype(dt))


def cast(v, dt):
    """A Python number as `dt` would store it: integers wrap, as torch's arithmetic does."""
    if dt == torch.bool:
        return bool(v)
    if dt.is_floating_point:
        return v
    return np.array(v, dtype=np.int64).astype(NP_DTYPES[dt])


def assert_equal(got, exp, dt):
    got = to_np(got)
    assert got.shape == exp.shape, (got.shape, exp.shape)
    if dt in (torch.float16, torch.bfloat16):
        np.testing.assert_allclose(got.astype(np.float64), exp.astype(np.float64), rtol=2e-2, atol=1e-2)
    elif dt.is_floating_point:
        np.testing.assert_allclose(got, exp, rtol=1e-6)
    else:
        np.testing.assert_array_equal(got, exp)


def reduce_oracle(base, idx, src, reduce, include_self, dt):
    """scatter_reduce along dim 1 of 2-D arrays, in exact Python arithmetic, then stored as `dt`."""
    out = base.copy()
    for i in range(idx.shape[0]):
        for j in range(base.shape[1]):
            vals = [v.item() for v in src[i, : idx.shape[1]][idx[i] == j]]
            if not vals:
                continue
            if include_self:
                vals.append(base[i, j].item())
            if dt == torch.bool:
                r = any(vals) if reduce in ("sum", "amax") else all(vals)
            elif reduce == "mean":
                r = sum(vals) / len(vals) if dt.is_floating_point else sum(vals) // len(vals)
            else:
                r = {"sum": sum, "prod": math.prod, "amax": max, "amin": min}[reduce](vals)
            out[i, j] = cast(r, dt)
    return out


@pytest.mark.parametrize("dt", DTYPES, ids=str)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_reduce_every_dtype(reduce, include_self, dt, device):
    if dt == torch.bool and reduce == "mean":
        pytest.skip("no mean of bools")
    rng = np.random.default_rng(REDUCES.index(reduce) * 10 + DTYPES.index(dt))
    base = small(rng, (3, 7), dt)
    src = small(rng, (3, 14), dt)
    idx = rng.integers(0, 6, (3, 12))  # column 6 is never hit; src is wider than the index
    exp = reduce_oracle(base, idx, src, reduce, include_self, dt)
    t = torch.tensor(base, dtype=dt, device=device)
    ti, ts = torch.tensor(idx, device=device), torch.tensor(src, dtype=dt, device=device)
    got = t.scatter_reduce(1, ti, ts, reduce, include_self=include_self)
    assert got.dtype == dt and got.device.type == device
    assert_equal(got, exp, dt)
    assert_equal(t, base, dt)
    assert t.scatter_reduce_(1, ti, ts, reduce, include_self=include_self) is t
    assert_equal(t, exp, dt)


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_duplicates_accumulate_under_contention(dt, device):
    # Thousands of values land on 8 neighbouring positions (two 32-bit words for 1-byte dtypes).
    # Zeros and ones keep every partial sum an integer that float16/bfloat16 hold exactly.
    rng = np.random.default_rng(DTYPES.index(dt))
    n = 1000 if dt == torch.bfloat16 else 4000
    src = rng.integers(0, 2, (2, n)).astype(np_dtype(dt))
    idx = rng.integers(0, 8, (2, n))
    base = small(rng, (2, 8), dt)
    exp_sum, exp_max = base.copy(), base.copy()
    for i in range(2):
        for j in range(8):
            vals = [v.item() for v in src[i][idx[i] == j]] + [base[i, j].item()]
            exp_sum[i, j] = cast(any(vals) if dt == torch.bool else sum(vals), dt)
            exp_max[i, j] = cast(max(vals), dt)
    t = torch.tensor(base, dtype=dt, device=device)
    ti, ts = torch.tensor(idx, device=device), torch.tensor(src, dtype=dt, device=device)
    assert_equal(torch.scatter_add(t, 1, ti, ts), exp_sum, dt)
    assert_equal(t.scatter_reduce(1, ti, ts, "amax"), exp_max, dt)
    # index_add_ and index_put_(accumulate=True) with the same duplicates, along dim 0
    rows = torch.tensor(idx[0], device=device)
    tb = torch.tensor(base.T.copy(), dtype=dt, device=device)
    vals = torch.tensor(src[:1].T.copy().repeat(2, axis=1), dtype=dt, device=device)
    exp = base.T.copy()
    exp[:, 0] = exp_sum[0]
    exp[:, 1] = [cast(sum(v.item() for v in src[0][idx[0] == j]) + base[1, j].item(), dt)
                 if dt != torch.bool else any([base[1, j], *src[0][idx[0] == j]]) for j in range(8)]
    assert_equal(tb.index_add(0, rows, vals), exp, dt)
    tb.index_put_((rows,), vals, accumulate=True)
    assert_equal(tb, exp, dt)


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_index_add_alpha_and_put_accumulate(dt, device):
    rng = np.random.default_rng(20 + DTYPES.index(dt))
    base = small(rng, (5, 3), dt)
    src = small(rng, (9, 3), dt)
    idx = np.array([0, 4, 0, 2, 4, 4, -1, 0, 1])
    exp = base.astype(np.int64 if not dt.is_floating_point else np.float64)
    alpha = 1 if dt == torch.bool else 2
    if dt == torch.bool:
        exp = base.copy()
        np.logical_or.at(exp, idx % 5, src)
    else:
        np.add.at(exp, idx % 5, src.astype(exp.dtype) * alpha)
        exp = np.array([[cast(v.item(), dt) for v in row] for row in exp], dtype=np_dtype(dt))
    t = torch.tensor(base, dtype=dt, device=device)
    ts = torch.tensor(src, dtype=dt, device=device)
    pos = torch.tensor(idx % 5, device=device)
    assert_equal(t.index_add(0, pos, ts, alpha=alpha), exp, dt)
    assert_equal(t.index_add(0, pos.int(), ts, alpha=alpha), exp, dt)
    if alpha == 1:
        # index_put_ wraps negative indices itself
        t.index_put_((torch.tensor(idx, device=device),), ts, accumulate=True)
        assert_equal(t, exp, dt)


def test_index_put_accumulate_separated_dims_and_masks(device):
    rng = np.random.default_rng(30)
    a = rng.integers(-5, 5, (4, 5, 6)).astype(np.float64)
    i0, i2 = rng.integers(-4, 4, 7), rng.integers(0, 6, 7)
    vals = rng.integers(-5, 5, (7, 5)).astype(np.float64)
    exp = a.copy()
    np.add.at(exp, (i0, slice(None), i2), vals)
    t = torch.tensor(a, device=device)
    t.index_put_((torch.tensor(i0, device=device), None, torch.tensor(i2, device=device)),
                 torch.tensor(vals, device=device), accumulate=True)
    np.testing.assert_array_equal(to_np(t), exp)
    # adjacent dims after a slice, through a transposed view
    b = rng.integers(-5, 5, (6, 5, 4)).astype(np.float32)
    tb = torch.tensor(b, device=device).permute(2, 1, 0)  # (4, 5, 6), strided
    exp = b.transpose(2, 1, 0).copy()
    j1, j2 = rng.integers(0, 5, (3, 1)), rng.integers(0, 6, (1, 2))
    v = rng.integers(-5, 5, (4, 3, 2)).astype(np.float32)
    np.add.at(exp, (slice(None), j1, j2), v)
    tb.index_put_((None, torch.tensor(j1, device=device), torch.tensor(j2, device=device)),
                  torch.tensor(v, device=device), accumulate=True)
    np.testing.assert_array_equal(to_np(tb), exp)
    # a mask over two dims, accumulating a broadcast row
    m = rng.random((4, 5)) > 0.5
    exp2 = exp.copy()
    exp2[m] += np.arange(6, dtype=np.float32)
    tb.index_put_((torch.tensor(m, device=device),), torch.arange(6, dtype=torch.float32, device=device), accumulate=True)
    np.testing.assert_array_equal(to_np(tb), exp2)
    np.testing.assert_array_equal(to_np(tb[torch.tensor(m, device=device)]), exp2[m])


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_scatter_number_every_dtype(dt, device):
    rng = np.random.default_rng(40 + DTYPES.index(dt))
    base = small(rng, (3, 5), dt)
    perm = np.argsort(rng.random((3, 5)), axis=1)[:, :3]  # distinct per row
    t = torch.tensor(base, dtype=dt, device=device)
    exp = base.copy()
    np.put_along_axis(exp, perm, cast(1, dt), 1)
    assert_equal(t.scatter(1, torch.tensor(perm, device=device), 1), exp, dt)
    # scatter_ of a number with reduce='add' accumulates over duplicates
    if dt != torch.bool:
        dup = np.array([[0, 0, 4], [1, 1, 1], [2, 3, 2]])
        exp = base.astype(np.int64 if not dt.is_floating_point else np.float64)
        for i in range(3):
            np.add.at(exp[i], dup[i], 2)
        exp = np.array([[cast(v.item(), dt) for v in row] for row in exp], dtype=np_dtype(dt))
        t.scatter_(1, torch.tensor(dup, device=device), 2, reduce="add")
        assert_equal(t, exp, dt)


def test_scatter_add_strided_3d(device):
    rng = np.random.default_rng(50)
    for dim in range(3):
        base = rng.integers(-5, 5, (5, 4, 3)).astype(np.float64)
        t = torch.tensor(np.ascontiguousarray(base.transpose(2, 1, 0)), device=device).permute(2, 1, 0)
        shape = [4, 3, 2]
        shape[dim] = 6
        idx = rng.integers(0, base.shape[dim], shape)
        src_full = rng.integers(-5, 5, (7, 14, 8)).astype(np.float64)
        src = torch.tensor(src_full, device=device)[:, ::2]  # (7, 7, 8): strided, larger than idx
        sv = src_full[:, ::2]
        exp = base.copy()
        for p in np.ndindex(*idx.shape):
            q = list(p)
            q[dim] = idx[p]
            exp[tuple(q)] += sv[p]
        got = t.scatter_add(dim, torch.tensor(idx, device=device), src)
        np.testing.assert_array_equal(to_np(got), exp)


@pytest.mark.parametrize("include_self", [True, False])
def test_amax_amin_propagate_nan(include_self, device):
    base = np.array([np.nan, 0.0, 1.0, 5.0])
    src = np.array([1.0, np.nan, 2.0, 3.0, np.nan, -1.0])
    idx = np.array([0, 1, 1, 2, 3, 3])
    t = torch.tensor(base, device=device)
    ts, ti = torch.tensor(src, device=device), torch.tensor(idx, device=device)
    for reduce in ["amax", "amin"]:
        got = to_np(t.scatter_reduce(0, ti, ts, reduce, include_self=include_self))
        assert np.isnan(got[0]) == include_self
        assert np.isnan(got[1]) and np.isnan(got[3])
        assert got[2] == (3.0 if reduce == "amax" or not include_self else 1.0)
    for dt in [torch.float16, torch.bfloat16, torch.float32]:
        got = to_np(torch.tensor(base, dtype=dt, device=device).scatter_reduce(0, ti, ts.to(dt), "amax"))
        assert np.isnan(got[[0, 1, 3]]).all() and got[2] == 3.0


def _zeros(device):
    return torch.zeros(3, 4, dtype=torch.float32, device=device)


BAD_INDEX = {
    "scatter_": (RuntimeError, "index 4 is out of bounds for dimension 1 with size 4",
                 lambda t, ix: t.scatter_(1, ix([[0, 4]]), torch.ones(1, 2, device=t.device))),
    "scatter_number": (RuntimeError, "index -1 is out of bounds for dimension 0 with size 3",
                       lambda t, ix: t.scatter_(0, ix([[1, -1]]), 2.0)),
    "scatter_add_": (RuntimeError, "index 3 is out of bounds for dimension 0 with size 3",
                     lambda t, ix: t.scatter_add_(0, ix([[0, 1], [3, 0]]), torch.ones(2, 2, device=t.device))),
    "scatter_reduce_": (RuntimeError, "index 9 is out of bounds for dimension 1 with size 4",
                        lambda t, ix: t.scatter_reduce_(1, ix([[9]]), torch.ones(1, 1, device=t.device),
                                                        "mean", include_self=False)),
    "index_add_": (IndexError, r"index_add_\(\): index 3 is out of bounds for dimension 0 with size 3",
                   lambda t, ix: t.index_add_(0, ix([0, 3]), torch.ones(2, 4, device=t.device))),
    "index_copy_": (IndexError, r"index_copy_\(\): index -1 is out of bounds for dimension 1 with size 4",
                    lambda t, ix: t.index_copy_(1, ix([-1]), torch.ones(3, 1, device=t.device))),
    "index_fill_": (IndexError, "index -5 is out of bounds for dimension 1 with size 4",
                    lambda t, ix: t.index_fill_(1, ix([0, -5]), 1.0)),
    "index_put_": (IndexError, "index 3 is out of bounds for dimension 0 with size 3",
                   lambda t, ix: t.index_put_((ix([0, 3]),), torch.ones(4, device=t.device), accumulate=True)),
    "getitem": (IndexError, "index 4 is out of bounds for dimension 1 with size 4",
                lambda t, ix: t[ix([0, 1]), ix([4, 0])]),
    "setitem": (IndexError, "index -4 is out of bounds for dimension 0 with size 3",
                lambda t, ix: t.__setitem__((ix([-4]), slice(None)), 1.0)),
}


@pytest.mark.parametrize("op", list(BAD_INDEX))
def test_out_of_range_index_raises_and_the_device_keeps_working(op, device):
    exc, msg, call = BAD_INDEX[op]
    t = _zeros(device)
    with pytest.raises(exc, match=msg):
        call(t, lambda v: torch.tensor(v, device=device))
        # On CUDA, gathers and scatters report at the next synchronisation, as torch's
        # device-side asserts do (advanced indexing reports at once).
        if device == "cuda":
            torch.cuda.synchronize()
    np.testing.assert_array_equal(to_np(t), np.zeros((3, 4)))  # nothing was written
    # The device is still usable: the next kernels run and read back.
    t[torch.tensor([0, 2], device=device)] += 1.0
    assert (t.sum() * 2).item() == 16.0
    assert to_np(t.index_select(0, torch.tensor([2], device=device))).tolist() == [[1.0] * 4]
