"""Sorting and order statistics against NumPy on every device: sort/argsort (stable,
descending, NaN last), topk, kthvalue, median, nanmedian, mode, unique, unique_consecutive,
msort."""

import math

import numpy as np
import pytest

import ferrotorch as torch
from helpers import ALL_DTYPES, random_array, to_np


def tensor_of(arr, dtype, device="cpu"):
    return torch.tensor(arr, dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape,dim", [((), 0), ((9,), 0), ((4, 6), 0), ((4, 6), -1), ((2, 3, 5), 1), ((3, 0), 1)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_stable_matches_numpy(rng, dtype, shape, dim, descending, device):
    arr = random_array(rng, shape, dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    r = torch.sort(t, dim=dim, descending=descending, stable=True)
    assert type(r).__name__ == "sort"
    assert r.values.device.type == device and r.indices.device.type == device
    if arr.ndim == 0:
        assert r.values.tolist() == t.tolist() and r.indices.tolist() == 0
        return
    # Stable descending == reverse of stable ascending on negated keys; build it with lexsort.
    moved = np.moveaxis(arr, dim, -1).astype(np.float64)
    key = -moved if descending else moved
    idx = np.argsort(key, axis=-1, kind="stable")
    np.testing.assert_array_equal(to_np(r.indices), np.moveaxis(idx, -1, dim))
    np.testing.assert_array_equal(to_np(r.values), np.take_along_axis(arr, np.moveaxis(idx, -1, dim), dim))
    np.testing.assert_array_equal(to_np(t.argsort(dim, descending, stable=True)), np.moveaxis(idx, -1, dim))


def test_sort_nan_last_ascending_first_descending(device):
    x = torch.tensor([3.0, float("nan"), -1.0, float("nan"), 2.0], device=device)
    v, i = x.sort()
    assert v.tolist()[:3] == [-1.0, 2.0, 3.0] and all(math.isnan(a) for a in v.tolist()[3:])
    assert i.tolist() == [2, 4, 0, 1, 3]
    v, i = x.sort(descending=True)
    assert all(math.isnan(a) for a in v.tolist()[:2]) and v.tolist()[2:] == [3.0, 2.0, -1.0]
    assert i.tolist() == [1, 3, 0, 4, 2]


def test_sort_noncontiguous_input(rng, device):
    arr = rng.standard_normal((5, 8))
    t = torch.tensor(arr, device=device)[:, ::2]
    np.testing.assert_array_equal(to_np(t.sort(0).values), np.sort(arr[:, ::2], axis=0))
    f = torch.tensor(np.ascontiguousarray(arr.T), device=device).t()  # column-major
    assert not t.is_contiguous() and not f.is_contiguous()
    np.testing.assert_array_equal(to_np(f.sort(1).indices), np.argsort(arr, axis=1, kind="stable"))
    np.testing.assert_array_equal(to_np(torch.msort(f)), np.sort(arr, axis=0))


def test_large_sort_runs_in_parallel(rng, device):
    arr = rng.standard_normal((64, 2048)).astype(np.float32)
    np.testing.assert_array_equal(to_np(torch.tensor(arr, device=device).sort(1).values), np.sort(arr, axis=1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int8, torch.uint8])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [0, 1, 3, 6])
def test_topk(rng, dtype, largest, k, device):
    arr = random_array(rng, (4, 6), dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    for dim in (0, 1):
        if k > arr.shape[dim]:
            with pytest.raises(RuntimeError, match="selected index k out of range"):
                t.topk(k, dim)
            continue
        r = torch.topk(t, k, dim=dim, largest=largest)
        assert type(r).__name__ == "topk"
        srt = np.sort(arr, axis=dim)
        if largest:
            srt = np.flip(srt, axis=dim)
        ref = np.take(srt, range(k), axis=dim)
        np.testing.assert_array_equal(to_np(r.values), ref)
        # Indices point at those values.
        np.testing.assert_array_equal(np.take_along_axis(arr, to_np(r.indices), dim), ref)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32])
def test_kthvalue(rng, dtype, device):
    arr = random_array(rng, (5, 7), dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    for dim, n in ((0, 5), (1, 7)):
        for k in (1, 3, n):
            r = torch.kthvalue(t, k, dim)
            assert type(r).__name__ == "kthvalue"
            ref = np.take(np.sort(arr, axis=dim), k - 1, axis=dim)
            np.testing.assert_array_equal(to_np(r.values), ref)
            np.testing.assert_array_equal(np.take_along_axis(arr, np.expand_dims(to_np(r.indices), dim), dim).squeeze(dim), ref)
        r = t.kthvalue(2, dim, keepdim=True)
        assert r.values.shape[dim] == 1
    with pytest.raises(RuntimeError, match="out of range"):
        t.kthvalue(8, 1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int16])
@pytest.mark.parametrize("n", [1, 4, 7])
def test_median_is_lower_median(rng, dtype, n, device):
    arr = random_array(rng, (3, n), dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    lower = np.sort(arr.ravel())[(arr.size - 1) // 2]
    assert t.median().item() == pytest.approx(lower)
    r = torch.median(t, 1)
    assert type(r).__name__ == "median"
    ref = np.sort(arr, axis=1)[:, (n - 1) // 2]
    np.testing.assert_array_equal(to_np(r.values), ref)
    np.testing.assert_array_equal(np.take_along_axis(arr, to_np(r.indices)[:, None], 1)[:, 0], ref)
    assert t.median(0, keepdim=True).values.shape == (1, n)


def test_median_nan_and_nanmedian(device):
    x = torch.tensor([[1.0, float("nan"), 3.0, 2.0], [4.0, 5.0, 6.0, 7.0]], device=device)
    r = x.median(1)
    assert math.isnan(r.values.tolist()[0]) and r.indices.tolist()[0] == 1
    assert r.values.tolist()[1] == 5.0
    assert math.isnan(x.median().item())
    n = torch.nanmedian(x, 1)
    assert n.values.tolist() == [2.0, 5.0] and n.indices.tolist() == [3, 1]
    assert torch.nanmedian(x).item() == 4.0
    assert math.isnan(torch.tensor([], device=device).median().item())
    with pytest.raises(IndexError, match="non-zero size"):
        torch.zeros((2, 0), device=device).median(1)


def test_mode(device):
    x = torch.tensor([[1, 2, 2, 3, 3], [5, 4, 4, 5, 9]], device=device)
    r = torch.mode(x)
    assert type(r).__name__ == "mode"
    assert r.values.tolist() == [2, 4]  # ties go to the smallest value
    rows = x.tolist()
    assert [rows[i][j] for i, j in enumerate(r.indices.tolist())] == [2, 4]
    r0 = x.mode(0, keepdim=True)
    assert r0.values.shape == (1, 5)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_unique(rng, dtype, device):
    arr = random_array(rng, (4, 6), dtype)
    t = tensor_of(arr, dtype, device)
    arr = to_np(t)  # the values as stored (bfloat16 rounds)
    vals, inv, counts = np.unique(arr, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(to_np(torch.unique(t)), vals)
    u, i, c = torch.unique(t, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(to_np(u), vals)
    np.testing.assert_array_equal(to_np(i), inv.reshape(arr.shape))
    np.testing.assert_array_equal(to_np(c), counts)
    assert i.dtype == torch.int64 and c.dtype == torch.int64
    u2, c2 = t.unique(return_counts=True)
    np.testing.assert_array_equal(to_np(c2), counts)
    with pytest.raises(NotImplementedError):
        t.unique(dim=0)


def test_unique_consecutive(device):
    x = torch.tensor([1, 1, 2, 2, 3, 1, 1, 2], device=device)
    out, inv, cnt = torch.unique_consecutive(x, return_inverse=True, return_counts=True)
    assert out.tolist() == [1, 2, 3, 1, 2]
    assert inv.tolist() == [0, 0, 1, 1, 2, 3, 3, 4]
    assert cnt.tolist() == [2, 2, 1, 2, 1]
    assert torch.unique_consecutive(torch.tensor([], dtype=torch.int64, device=device)).shape == (0,)


def test_return_types_behave_like_torch(device):
    r = torch.tensor([[1.0, 5.0], [3.0, 2.0]], device=device).max(1)
    assert repr(r).startswith("torch.return_types.max(\nvalues=")
    values, indices = r
    assert r[0] is values and len(r) == 2
    assert isinstance(r, torch.return_types.max)
    assert torch.return_types.aminmax((1, 2)).max == 2
