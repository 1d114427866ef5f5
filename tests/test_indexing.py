"""Indexing (__getitem__/__setitem__) and the index ops, against NumPy, on every device."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferrotorch as torch
import ferrotorch.nn.functional as F
from helpers import ALL_DTYPES, random_array, synchronize, to_np, tolerance

SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def npy(t):
    """A NumPy copy of a tensor on any device (bfloat16 through float32)."""
    return to_np(t)


def tensor(arr, dtype=None, device="cpu"):
    """A tensor of a NumPy array (or anything NumPy reads), keeping NumPy's dtype by default."""
    return torch.tensor(np.asarray(arr), dtype=dtype, device=device)


def colmajor(arr, device="cpu"):
    """A column-major (non-contiguous) tensor of `arr`."""
    t = torch.tensor(np.ascontiguousarray(arr.T), device=device)
    return t.permute(*reversed(range(arr.ndim)))


def mk(rng, shape, dt, device="cpu"):
    """A random tensor of `dt` and the exact values it holds (bfloat16 rounded, as float32)."""
    t = torch.tensor(random_array(rng, shape, dt), dtype=dt, device=device)
    return t, npy(t)


def ramp(shape, device="cpu"):
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    return torch.tensor(a, device=device), a


def torch_style(a, idx):
    """NumPy oracle with torch's rule for integers: they select first (basic indexing), then
    the advanced indices apply to the resulting view. Equals NumPy whenever ints and arrays
    are not separated by a slice; `torch_style_set` is the matching assignment."""
    view, adv = _split(a, idx)
    return view if adv is None else view[adv]


def torch_style_set(a, idx, value):
    view, adv = _split(a, idx)
    # torch drops leading size-1 dims of the value (NumPy refuses some of them for masks).
    value = np.asarray(value)
    target = view.shape if adv is None else view[adv].shape
    while value.ndim > len(target) and value.shape[0] == 1:
        value = value[0]
    if adv is None:
        view[...] = value
    else:
        view[adv] = value


def assert_set_result(got, before, idx, value, device):
    """`got` is `before` after `before[idx] = value` with torch's semantics. On the CPU the last
    write to a position named twice wins; on CUDA any of the values written there may win (as
    in torch), so there `got` must hold one of them."""
    exp = before.copy()
    torch_style_set(exp, idx, value)
    if device == "cpu":
        np.testing.assert_array_equal(got, exp)
        return
    ids = np.asarray(torch_style(np.arange(before.size).reshape(before.shape), idx))
    v = np.asarray(value)
    while v.ndim > ids.ndim and v.shape[0] == 1:
        v = v[0]
    written = {}
    for i, x in zip(ids.ravel(), np.broadcast_to(v, ids.shape).ravel()):
        written.setdefault(int(i), set()).add(x.item())
    flat_got, flat_exp = got.ravel(), exp.ravel()
    for i in range(before.size):
        if len(written.get(i, ())) > 1:
            assert flat_got[i].item() in written[i], (i, flat_got[i], written[i])
        else:
            assert flat_got[i] == flat_exp[i], (i, flat_got[i], flat_exp[i])


def _split(a, idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    step1, step2, has_adv = [], [], False
    for it in idx:
        if isinstance(it, (bool, np.bool_)):
            step1.append(None)
            step2.append(np.arange(int(it)))
            has_adv = True
        elif isinstance(it, (int, np.integer)):
            step1.append(int(it))
        elif it is None:
            step1.append(None)
            step2.append(slice(None))
        elif it is Ellipsis:
            step1.append(Ellipsis)
            step2.append(Ellipsis)
        elif isinstance(it, slice):
            step1.append(it)
            step2.append(slice(None))
        else:
            arr = np.asarray(it)
            if arr.size == 0 and arr.dtype != np.bool_:
                arr = arr.astype(np.int64)  # `[]` reads as float64
            if arr.dtype == np.bool_ and arr.ndim == 0:
                step1.append(None)
                step2.append(np.arange(int(arr)))
            elif arr.ndim == 0:
                step1.append(int(arr))
                continue
            elif arr.dtype == np.bool_:
                step1.extend([slice(None)] * arr.ndim)
                step2.append(arr)
            else:
                step1.append(slice(None))
                step2.append(arr)
            has_adv = True
    if Ellipsis not in step1:
        step1.append(Ellipsis)  # keeps a 0-d result a view, not a NumPy scalar
    view = a[tuple(step1)]
    return view, (tuple(step2) if has_adv else None)


# ----------------------------------------------------------------------------------------------
# __getitem__: hand-picked forms against NumPy


BASIC = [
    1,
    -1,
    (0, 2),
    slice(1, 3),
    slice(None, None, 2),
    (slice(None), 1),
    (Ellipsis, 1),
    (None, 0),
    (1, None, slice(None), None),
    (Ellipsis, None),
    (slice(-100, 100), slice(1, None, 3)),
    (slice(3, 1),),
    (),
    Ellipsis,
]

ADVANCED = [
    [0, 2],
    ([0, 1], [1, 2]),
    (slice(None), [0, 2]),
    (slice(None), [[0], [2]], [1, 3]),
    ([0, 1], slice(None), [1, 3]),
    ([[0], [1]], slice(None), [1, 3, 0]),
    (Ellipsis, [0, -1]),
    (None, [1, 0], None),
    ([-1, 0, -1],),
    (slice(None), [], slice(1, 3)),
    ([0, 1], Ellipsis, [0, 3]),
    True,
    False,
    (None, False),
    (slice(None), True, [1, 2]),
]


@pytest.mark.parametrize("idx", BASIC + ADVANCED, ids=repr)
def test_getitem_matches_numpy(idx, device):
    t, a = ramp((3, 4, 5), device)
    got = t[idx]
    assert got.device.type == device
    np.testing.assert_array_equal(npy(got), a[idx])


def test_getitem_masks(device):
    t, a = ramp((2, 3, 4), device)
    rng = np.random.default_rng(0)
    for m in [a % 3 == 0, (a % 2 == 0)[:, :, 0], (a > 4)[0, 0], np.zeros((2, 3), bool)]:
        idx = m if m.shape[0] == 2 else (slice(None), slice(None), m) if m.ndim == 1 else m
        np.testing.assert_array_equal(npy(t[idx]), a[idx])
        np.testing.assert_array_equal(npy(t[tensor(m, device=device)] if m.shape[0] == 2 else t[idx]), a[idx])
    m = rng.random(3) > 0.5
    np.testing.assert_array_equal(npy(t[:, tensor(m, device=device)]), a[:, m])
    np.testing.assert_array_equal(npy(t[1, m, 2:]), a[1, m, 2:])
    np.testing.assert_array_equal(npy(t[torch.tensor(True, device=device)]), a[np.True_])


def test_getitem_torch_rule_for_separated_ints(device):
    # torch applies ints as select first: x[1, :, [0, 1]] has shape (3, 2), not NumPy's (2, 3).
    t, a = ramp((2, 3, 4), device)
    r = t[1, :, [0, 1]]
    assert tuple(r.shape) == (3, 2)
    np.testing.assert_array_equal(npy(r), a[1][:, [0, 1]])


def test_getitem_index_kinds(device):
    t, a = ramp((4, 5), device)
    np.testing.assert_array_equal(npy(t[np.int64(2)]), a[2])
    np.testing.assert_array_equal(npy(t[np.array([3, 1])]), a[[3, 1]])
    np.testing.assert_array_equal(npy(t[torch.tensor([3, 1], dtype=torch.int32, device=device)]), a[[3, 1]])
    # An index tensor on the CPU indexes a tensor on any device, as in torch.
    np.testing.assert_array_equal(npy(t[torch.tensor([3, 1])]), a[[3, 1]])
    np.testing.assert_array_equal(npy(t[torch.tensor(2, device=device)]), a[2])
    np.testing.assert_array_equal(npy(t[[True, False, True, False]]), a[[True, False, True, False]])
    np.testing.assert_array_equal(npy(t[torch.tensor([[0, 1], [2, 3]], device=device)]), a[[[0, 1], [2, 3]]])
    np.testing.assert_array_equal(npy(t[1:3, np.array([4, 0])]), a[1:3, [4, 0]])
    np.testing.assert_array_equal(npy(t[torch.tensor(2, device=device)]), a[2])
    z = tensor(np.array(5.0), device=device)
    np.testing.assert_array_equal(npy(z[None]), np.array([5.0]))
    np.testing.assert_array_equal(npy(z[...]), np.array(5.0))
    np.testing.assert_array_equal(npy(z[True]), np.array([5.0]))


def test_getitem_noncontiguous_and_dtypes(device):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((6, 8))
    arr = base[:, ::2]  # strided
    t = tensor(base, device=device)[:, ::2]
    for idx in [([0, 5, 2],), (slice(None), [3, 0]), (arr > 0,), (slice(1, None, 2), 1)]:
        np.testing.assert_array_equal(npy(t[idx]), arr[idx])
    tt = colmajor(base, device)
    np.testing.assert_array_equal(npy(tt[[1, 4]]), base[[1, 4]])
    for dt in ALL_DTYPES:
        t, exp = mk(rng, (3, 4), dt, device)
        for idx in [1, (slice(None), [2, 0]), (exp != 0,), ([0, 2], [1, 3])]:
            got = t[idx]
            assert got.dtype == dt
            np.testing.assert_array_equal(npy(got), exp[idx])


def test_getitem_empty_dims(device):
    t, a = ramp((0, 3), device)
    for idx in [(slice(None), 1), (slice(None), [0, 2]), (np.zeros((0, 3), bool),), ([],)]:
        np.testing.assert_array_equal(npy(t[idx]), a[idx])
    t, a = ramp((3, 4), device)
    np.testing.assert_array_equal(npy(t[[]]), a[np.array([], dtype=np.int64)])
    assert tuple(t[np.zeros((3, 4), bool)].shape) == (0,)


# ----------------------------------------------------------------------------------------------
# views share storage


def test_basic_indexing_returns_views(device):
    t, a = ramp((3, 4, 5), device)
    # (index, the same index for NumPy): a 0-d index tensor selects like an int.
    for idx, np_idx in [(1, 1), ((slice(None), 2),) * 2, ((Ellipsis, slice(1, 4, 2)),) * 2, ((None, 1, 2),) * 2,
                        ((torch.tensor(1, device=device),), (1,))]:
        v = t[idx]
        assert v.shape == torch.Size(a[np_idx].shape)
        assert v.device.type == device
        v[...] = -7
        assert (npy(t)[np_idx] == -7).all()
    t, a = ramp((3, 4), device)
    v = t[1:, ::2]
    assert v.storage_offset() == 4
    assert v.stride() == (4, 2)
    assert v.data_ptr() == t.data_ptr() + 4 * 8


def test_advanced_indexing_copies(device):
    t, a = ramp((3, 4), device)
    c = t[[0, 1]]
    c[...] = 100
    np.testing.assert_array_equal(npy(t), a)


# ----------------------------------------------------------------------------------------------
# __setitem__


SET_CASES = [
    (1, 5),
    ((slice(None), 1), -3),
    ((Ellipsis, slice(None, None, 2)), 9),
    ([0, 2], 7),
    ((slice(None), [0, 3]), 8),
    (([0, 2, 0], [1, 1, 1]), np.array([1, 2, 3])),  # duplicate index: last write wins (CPU)
    (([[0], [2]], [1, 3]), np.array([[1, 2], [3, 4]])),
    ((None, 1), np.arange(4)),
    ((1,), np.ones((1, 4), np.int64) * 42),  # leading 1 dims are dropped
    (True, 11),
    (False, 11),
    (([], 1), 3),
]


@pytest.mark.parametrize("idx,value", SET_CASES, ids=repr)
def test_setitem_matches_numpy(idx, value, device):
    t, a = ramp((3, 4), device)
    v = value if np.isscalar(value) else tensor(value, device=device)
    t[idx] = v
    assert t.device.type == device
    assert_set_result(npy(t), a, idx, value, device)


def test_setitem_masks_and_dtype_conversion(device):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    t = tensor(a, device=device)
    m = a > 0
    t[tensor(m, device=device)] = 0
    exp = a.copy()
    exp[m] = 0
    np.testing.assert_array_equal(npy(t), exp)
    # value of another dtype is converted (float64 -> float32, int -> float)
    t[:, 1] = tensor(np.arange(4, dtype=np.float64), device=device)
    exp[:, 1] = np.arange(4)
    np.testing.assert_array_equal(npy(t), exp)
    ti = torch.zeros(3, dtype=torch.int32, device=device)
    ti[[0, 2]] = 2.7
    np.testing.assert_array_equal(npy(ti), [2, 0, 2])
    # A 0-d CPU tensor is a number to a tensor on any device, as in torch.
    ti[1] = torch.from_numpy(np.array(-5.9))
    np.testing.assert_array_equal(npy(ti), [2, -5, 2])
    # mask over two leading dims, with a row value broadcast to the masked rows
    b = np.zeros((2, 3, 4), np.int64)
    tb = tensor(b, device=device)
    mm = np.array([[True, False, True], [False, True, False]])
    tb[tensor(mm, device=device)] = tensor(np.arange(4), device=device)
    b[mm] = np.arange(4)
    np.testing.assert_array_equal(npy(tb), b)


def test_setitem_is_in_place_on_numpy_memory():
    # CPU only: the tensor borrows the NumPy array's memory.
    a = np.zeros((3, 4))
    t = torch.from_numpy(a)
    t[1] = 1.0
    t[[0, 2], [3, 0]] = 2.0
    t[np.array([[False] * 4, [False] * 4, [True] * 4])] = 3.0
    np.testing.assert_array_equal(a, [[0, 0, 0, 2], [1, 1, 1, 1], [3, 3, 3, 3]])


def test_setitem_overlapping_self(device):
    t, a = ramp((6,), device)
    t[1:] = t[:-1]
    np.testing.assert_array_equal(npy(t), [0, 0, 1, 2, 3, 4])
    t, a = ramp((6,), device)
    t[[5, 4, 3]] = t[0:3]
    np.testing.assert_array_equal(npy(t), [0, 1, 2, 2, 1, 0])


def test_setitem_all_dtypes(device):
    rng = np.random.default_rng(3)
    for dt in ALL_DTYPES:
        t, exp = mk(rng, (3, 4), dt, device)
        t[[0, 2], 1] = 1
        exp[[0, 2], 1] = 1
        t[1] = 0
        exp[1] = 0
        assert t.dtype == dt
        np.testing.assert_array_equal(npy(t), exp)


# ----------------------------------------------------------------------------------------------
# hypothesis: random index tuples mixing every kind, for get and set


@st.composite
def index_case(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    # All integer arrays of one tuple share a broadcast-compatible shape.
    arr_shape = draw(st.sampled_from([(2,), (1,), (3, 1), (1, 2)]))
    items, dim, used_ellipsis, used_mask = [], 0, False, False
    while dim < ndim:
        size = shape[dim]
        kinds = ["int", "slice", "array", "mask", "none", "skip"]
        if not used_ellipsis:
            kinds.append("ellipsis")
        kind = draw(st.sampled_from(kinds))
        if kind == "int" and size > 0:
            items.append(draw(st.integers(-size, size - 1)))
            dim += 1
        elif kind == "slice":
            lo, hi = draw(st.integers(-size - 2, size + 2)), draw(st.integers(-size - 2, size + 2))
            items.append(slice(draw(st.sampled_from([None, lo])), draw(st.sampled_from([None, hi])), draw(st.sampled_from([None, 1, 2, 3]))))
            dim += 1
        elif kind == "array" and size > 0 and not used_mask:
            items.append(rng.integers(-size, size, arr_shape))
            dim += 1
        elif kind == "mask" and not used_mask and not any(isinstance(i, np.ndarray) for i in items):
            k = draw(st.integers(1, min(2, ndim - dim)))
            items.append(rng.random(shape[dim:dim + k]) > 0.4)
            used_mask = True
            dim += k
        elif kind == "none":
            items.append(None)
        elif kind == "ellipsis":
            items.append(Ellipsis)
            used_ellipsis = True
            dim = ndim  # the ellipsis covers the rest
        else:
            items.append(slice(None))
            dim += 1
    extra = draw(st.sampled_from([None, None, True, False, "int0d"]))
    if extra == "int0d":
        # A 0-d integer array selects like an int (consumes the first dim).
        if shape[0] > 0 and isinstance(items[0], slice) and items[0] == slice(None):
            items[0] = np.array(draw(st.integers(-shape[0], shape[0] - 1)))
    elif extra is not None or draw(st.booleans()):
        if extra is False and any(isinstance(i, np.ndarray) for i in items):
            extra = True  # an empty bool index only broadcasts against nothing
        items.insert(draw(st.integers(0, len(items))), extra)
    return shape, tuple(items)


def _to_torch_items(idx, as_tensor, device):
    out = []
    for it in idx:
        if isinstance(it, np.ndarray) and as_tensor:
            out.append(tensor(it, device=device))
        else:
            out.append(it)
    return tuple(out)


@SETTINGS
@given(case=index_case(), as_tensor=st.booleans())
def test_hypothesis_getitem(case, as_tensor, device):
    shape, idx = case
    t, a = ramp(shape, device)
    exp = torch_style(a, idx)
    got = t[_to_torch_items(idx, as_tensor, device)]
    np.testing.assert_array_equal(npy(got), exp)
    # Whenever NumPy agrees with torch's rule (no int separated from an array), match NumPy too.
    if not any(isinstance(i, int) or (isinstance(i, np.ndarray) and i.ndim == 0) for i in idx):
        np.testing.assert_array_equal(npy(got), a[idx])


@SETTINGS
@given(case=index_case(), as_tensor=st.booleans(), form=st.sampled_from(["scalar", "full", "row", "lead1"]))
def test_hypothesis_setitem(case, as_tensor, form, device):
    shape, idx = case
    t, a = ramp(shape, device)
    target = torch_style(a, idx).shape
    vshape = {"full": target, "row": target[-1:], "lead1": (1,) + target, "scalar": ()}[form]
    value = np.arange(int(np.prod(vshape)), dtype=np.int64).reshape(vshape) + 1000
    t[_to_torch_items(idx, as_tensor, device)] = 1000 if form == "scalar" else tensor(value, device=device)
    assert_set_result(npy(t), a, idx, value, device)


# ----------------------------------------------------------------------------------------------
# indexing errors


def test_getitem_errors(device):
    t, _ = ramp((3, 4), device)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        t[5]
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 1 with size 4"):
        t[0, -5]
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 0 with size 3"):
        t[[0, 7]]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        t[0, 0, 0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[::-1]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        t[::0]
    with pytest.raises(IndexError, match="single ellipsis"):
        t[..., ...]
    with pytest.raises(IndexError, match="shape of the mask"):
        t[np.ones(4, bool)]
    with pytest.raises(IndexError, match="could not be broadcast"):
        t[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="tensors used as indices"):
        t[tensor(np.array([0.0]), device=device)]
    with pytest.raises(IndexError, match="only integers, slices"):
        t[1.5]
    with pytest.raises(IndexError):
        tensor(np.array(1.0), device=device)[0]


def test_setitem_errors_do_not_write(device):
    t, a = ramp((3, 4), device)
    with pytest.raises(IndexError, match="out of bounds"):
        t[[0, 1, 9]] = 5
    with pytest.raises(RuntimeError, match="shape mismatch"):
        t[[0, 1]] = tensor(np.arange(3), device=device)
    with pytest.raises(RuntimeError):
        t[0] = tensor(np.arange(3), device=device)
    with pytest.raises(TypeError):
        t[0] = "x"
    np.testing.assert_array_equal(npy(t), a)


# ----------------------------------------------------------------------------------------------
# index ops


@pytest.mark.parametrize("dt", ALL_DTYPES, ids=str)
def test_gather_scatter_all_dtypes(dt, device):
    rng = np.random.default_rng(4)
    t, xf = mk(rng, (3, 4), dt, device)
    idx = rng.integers(0, 3, (2, 4))
    ti = tensor(idx, device=device)
    np.testing.assert_array_equal(npy(torch.gather(t, 0, ti)), np.take_along_axis(xf, idx, 0))
    idx1 = rng.integers(0, 4, (3, 6))
    np.testing.assert_array_equal(npy(t.gather(1, tensor(idx1, device=device))), np.take_along_axis(xf, idx1, 1))
    np.testing.assert_array_equal(npy(t.gather(-1, tensor(idx1[:, :2], device=device))), np.take_along_axis(xf, idx1[:, :2], 1))
    # scatter with a permutation index (no duplicates): put_along_axis
    perm = np.argsort(rng.random((3, 4)), axis=1)
    src, srcf = mk(rng, (3, 4), dt, device)
    exp = xf.copy()
    np.put_along_axis(exp, perm, srcf, 1)
    got = t.scatter(1, tensor(perm, device=device), src)
    assert got.device.type == device
    np.testing.assert_array_equal(npy(got), exp)
    np.testing.assert_array_equal(npy(t), xf)  # out-of-place leaves self alone
    r = t.scatter_(1, tensor(perm, device=device), src)
    assert r is t
    np.testing.assert_array_equal(npy(t), exp)
    # index_select / take / masked ops keep the dtype
    np.testing.assert_array_equal(npy(t.index_select(0, torch.tensor([2, 0], device=device))), exp[[2, 0]])
    np.testing.assert_array_equal(npy(torch.take(t, torch.tensor([[0, -1], [5, 3]], device=device))), exp.ravel()[[[0, -1], [5, 3]]])
    m = rng.random((3, 4)) > 0.5
    np.testing.assert_array_equal(npy(t.masked_select(tensor(m, device=device))), exp[m])
    mf = exp.copy()
    mf[m] = 1
    np.testing.assert_array_equal(npy(t.masked_fill(tensor(m, device=device), 1)), mf)
    assert torch.gather(t, 0, ti).dtype == dt


def test_gather_noncontiguous_and_3d(device):
    rng = np.random.default_rng(5)
    base = rng.standard_normal((4, 6, 5))
    x = base[:, ::2]  # (4, 3, 5) strided
    t = tensor(base, device=device)[:, ::2]
    for dim in range(3):
        shape = list(x.shape)
        shape[dim] = 7
        idx = rng.integers(0, x.shape[dim], shape)
        idx_nc = colmajor(idx, device)
        np.testing.assert_array_equal(npy(t.gather(dim, idx_nc)), np.take_along_axis(x, idx, dim))
    # index smaller than self in the other dims
    idx = rng.integers(0, 4, (2, 2, 2))
    np.testing.assert_array_equal(npy(t.gather(0, tensor(idx, device=device))), np.take_along_axis(x[:, :2, :2], idx, 0))
    big = np.arange(100000, dtype=np.float32).reshape(1000, 100)
    idx = rng.integers(0, 100, (1000, 100))
    np.testing.assert_array_equal(npy(tensor(big, device=device).gather(1, tensor(idx, device=device))), np.take_along_axis(big, idx, 1))


def test_scatter_value_and_reduce(device):
    t = tensor(np.ones((2, 4)), device=device)
    idx = torch.tensor([[0, 1, 0], [3, 3, 2]], device=device)
    got = t.scatter(1, idx, 5.0)
    exp = np.ones((2, 4))
    exp[0, [0, 1]] = 5
    exp[1, [3, 2]] = 5
    np.testing.assert_array_equal(npy(got), exp)
    np.testing.assert_array_equal(npy(t.scatter(1, idx, value=5.0)), exp)
    src = tensor(np.array([[1.0, 2, 3], [4, 5, 6]]), device=device)
    add = t.scatter(1, idx, src, reduce="add")
    np.testing.assert_array_equal(npy(add), [[5, 3, 1, 1], [1, 1, 7, 10]])
    mul = t.scatter(1, idx, src, reduce="multiply")
    np.testing.assert_array_equal(npy(mul), [[3, 2, 1, 1], [1, 1, 6, 20]])
    # scatter_add against np.add.at, with many duplicates, int dtype
    rng = np.random.default_rng(6)
    s = rng.integers(-5, 5, (5, 30))
    ix = rng.integers(0, 4, (5, 30))
    base = rng.integers(-5, 5, (5, 4))
    exp = base.copy()
    for i in range(5):
        np.add.at(exp[i], ix[i], s[i])
    ts, tix = tensor(s, device=device), tensor(ix, device=device)
    np.testing.assert_array_equal(npy(torch.scatter_add(tensor(base, device=device), 1, tix, ts)), exp)
    tb = tensor(base, device=device)
    tb.scatter_add_(1, tix, ts)
    np.testing.assert_array_equal(npy(tb), exp)
    # duplicate plain scatter: the last write wins on the CPU; on CUDA one of them, unspecified
    # which (as in torch)
    d = tensor(np.zeros(3), device=device)
    d.scatter_(0, torch.tensor([1, 1, 1], device=device), tensor(np.array([1.0, 2.0, 3.0]), device=device))
    got = npy(d)
    assert got[0] == got[2] == 0
    assert got[1] == 3 if device == "cpu" else got[1] in (1, 2, 3)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dt", [torch.float64, torch.float32, torch.int64, torch.int32, torch.float16, torch.bfloat16])
def test_scatter_reduce(reduce, include_self, dt, device):
    rng = np.random.default_rng(7)
    base = rng.integers(-4, 5, (3, 5)).astype(np.float64)
    src = rng.integers(-4, 5, (3, 8)).astype(np.float64)
    idx = rng.integers(0, 4, (3, 8))  # column 4 is never hit
    exp = base.copy()
    for i in range(3):
        for j in range(5):
            vals = list(src[i][idx[i] == j])
            if not vals:
                continue
            if include_self:
                vals.append(base[i, j])
            f = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce]
            v = f(vals)
            if reduce == "mean" and not dt.is_floating_point:
                v = np.floor(np.sum(vals) / len(vals))
            exp[i, j] = v
    t = torch.tensor(base, dtype=dt, device=device)
    ti, ts = tensor(idx, device=device), torch.tensor(src, dtype=dt, device=device)
    got = t.scatter_reduce(1, ti, ts, reduce, include_self=include_self)
    assert got.device.type == device
    tol = 2e-2 if dt in (torch.float16, torch.bfloat16) else 1e-6
    np.testing.assert_allclose(npy(got).astype(np.float64), exp, rtol=tol)
    t.scatter_reduce_(1, ti, ts, reduce, include_self=include_self)
    np.testing.assert_allclose(npy(t).astype(np.float64), exp, rtol=tol)


def test_scatter_reduce_nan_propagates(device):
    t = tensor(np.zeros(2), device=device)
    src = tensor(np.array([np.nan, 1.0]), device=device)
    got = npy(t.scatter_reduce(0, torch.tensor([0, 0], device=device), src, "amax"))
    assert np.isnan(got[0]) and got[1] == 0


def test_index_add_copy_fill(device):
    rng = np.random.default_rng(8)
    for dt in [torch.float32, torch.float64, torch.int64, torch.int16, torch.uint8, torch.float16, torch.bfloat16]:
        t, basef = mk(rng, (5, 3), dt, device)
        src, srcf = mk(rng, (4, 3), dt, device)
        idx = np.array([0, 4, 0, 2])
        exp = basef.copy()
        np.add.at(exp, idx, srcf)
        got = t.index_add(0, tensor(idx, device=device), src)
        assert got.device.type == device
        if dt in (torch.float16, torch.bfloat16):
            tol = dict(rtol=1e-2, atol=1e-2)
        elif dt.is_floating_point and device != "cpu":
            tol = tolerance(dt, device)  # a GPU may add the duplicates in another order
        else:
            tol = {}
        np.testing.assert_allclose(npy(got).astype(np.float64), exp.astype(np.float64), **tol)
        exp2 = basef.copy()
        np.add.at(exp2, idx, srcf * 2)
        got2 = torch.index_add(t, 0, tensor(idx, device=device), src, alpha=2)
        np.testing.assert_allclose(npy(got2).astype(np.float64), exp2.astype(np.float64), **tol)
        # index_copy with distinct indices, along dim 1
        cidx = np.array([2, 0])
        csrc, csrcf = mk(rng, (5, 2), dt, device)
        exp3 = basef.copy()
        exp3[:, cidx] = csrcf
        np.testing.assert_array_equal(npy(t.index_copy(1, tensor(cidx, device=device), csrc)), exp3)
        exp4 = basef.copy()
        exp4[[1, -1]] = 1
        np.testing.assert_array_equal(npy(t.index_fill(0, torch.tensor([1, -1], device=device), 1)), exp4)
        np.testing.assert_array_equal(npy(t), basef)
    t = tensor(np.zeros((2, 3)), device=device)
    r = t.index_add_(1, torch.tensor([1, 1], dtype=torch.int32, device=device), tensor(np.ones((2, 2)), device=device))
    assert r is t
    np.testing.assert_array_equal(npy(t), [[0, 2, 0], [0, 2, 0]])
    t.index_fill_(1, torch.tensor([0], device=device), tensor(np.array(7.0), device=device))
    np.testing.assert_array_equal(npy(t), [[7, 2, 0], [7, 2, 0]])
    t.index_copy_(0, torch.tensor([1], device=device), tensor(np.full((1, 3), 4.0), device=device))
    np.testing.assert_array_equal(npy(t), [[7, 2, 0], [4, 4, 4]])


def test_index_put(device):
    a = np.zeros((3, 4))
    t = tensor(a, device=device)
    i0, i1 = np.array([0, 2, 0]), np.array([1, 3, 1])
    vals = np.array([1.0, 2.0, 3.0])
    ti0, ti1, tvals = tensor(i0, device=device), tensor(i1, device=device), tensor(vals, device=device)
    got = t.index_put((ti0, ti1), tvals, accumulate=True)
    assert got.device.type == device
    exp = a.copy()
    np.add.at(exp, (i0, i1), vals)
    np.testing.assert_array_equal(npy(got), exp)
    np.testing.assert_array_equal(npy(t), a)
    t.index_put_((ti0, ti1), tvals)
    exp = a.copy()
    exp[i0, i1] = vals
    got = npy(t)
    if device != "cpu":
        # (0, 1) is written twice: on CUDA either value may win, as in torch
        assert got[0, 1] in (1.0, 3.0)
        exp[0, 1] = got[0, 1]
    np.testing.assert_array_equal(got, exp)
    m = tensor(np.array([True, False, True]), device=device)
    torch.index_put_(t, (m,), tensor(np.array(9.0), device=device))
    exp[[0, 2]] = 9
    np.testing.assert_array_equal(npy(t), exp)
    with pytest.raises(RuntimeError, match="dtypes match"):
        t.index_put_((m,), tensor(np.array(1, np.int64), device=device))
    # None stands for a full slice; 0-d indices select one position
    t.index_put_((None, torch.tensor([0, 2], device=device)), tensor(np.array(-2.0), device=device), accumulate=True)
    exp[:, [0, 2]] -= 2
    t.index_put_((torch.tensor(1, device=device), torch.tensor(1, device=device)), tensor(np.array(5.0), device=device))
    exp[1, 1] = 5
    np.testing.assert_array_equal(npy(t), exp)


def test_masked_ops(device):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4))
    t = tensor(x, device=device)
    m = rng.random(4) > 0.5  # broadcast over rows
    tm = tensor(m, device=device)
    exp = x.copy()
    exp[:, m] = -1.0
    np.testing.assert_array_equal(npy(t.masked_fill(tm, -1.0)), exp)
    np.testing.assert_array_equal(npy(torch.masked_fill(t, tm, tensor(np.array(-1.0), device=device))), exp)
    t2 = tensor(x, device=device)
    assert t2.masked_fill_(tm, -1) is t2
    np.testing.assert_array_equal(npy(t2), exp)
    # out-of-place masked_fill broadcasts self against the mask
    mm = rng.random((2, 3, 4)) > 0.5
    exp = np.broadcast_to(x, (2, 3, 4)).copy()
    exp[mm] = 0
    np.testing.assert_array_equal(npy(t.masked_fill(tensor(mm, device=device), 0)), exp)
    np.testing.assert_array_equal(npy(torch.masked_select(t, tensor(mm, device=device))), np.broadcast_to(x, (2, 3, 4))[mm])
    # masked_scatter: source elements in order
    m2 = rng.random((3, 4)) > 0.5
    src = rng.standard_normal(12)
    exp = x.copy()
    exp[m2] = src[: m2.sum()]
    got = t.masked_scatter(tensor(m2, device=device), tensor(src, device=device))
    assert got.device.type == device
    np.testing.assert_array_equal(npy(got), exp)
    t3 = tensor(x, device=device)
    t3.masked_scatter_(tensor(m2, device=device), tensor(src.reshape(3, 4), device=device))
    np.testing.assert_array_equal(npy(t3), exp)
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        t.masked_fill(tensor(m.astype(np.uint8), device=device), 0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        t.masked_fill(tm, tensor(np.ones(2), device=device))
    with pytest.raises(RuntimeError, match="at least"):
        t.masked_scatter(tensor(np.ones((3, 4), bool), device=device), tensor(np.ones(3), device=device))


def test_take_along_dim(device):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 4))
    t = tensor(x, device=device)
    idx = np.argsort(x, axis=1)
    np.testing.assert_array_equal(npy(torch.take_along_dim(t, tensor(idx, device=device), dim=1)), np.take_along_axis(x, idx, 1))
    idx0 = rng.integers(0, 3, (1, 4))  # broadcast along dim 1... and dim 0 sized 1
    np.testing.assert_array_equal(npy(t.take_along_dim(tensor(idx0, device=device), 0)), np.take_along_axis(x, idx0, 0))
    idxb = rng.integers(0, 4, (3, 1))
    np.testing.assert_array_equal(npy(t.take_along_dim(tensor(idxb, device=device), 1)), np.take_along_axis(x, idxb, 1))
    flat = rng.integers(0, 12, (5,))
    np.testing.assert_array_equal(npy(t.take_along_dim(tensor(flat, device=device))), x.ravel()[flat])


def test_nonzero_argwhere(device):
    rng = np.random.default_rng(11)
    for shape in [(5,), (3, 4), (2, 3, 4), (0, 3)]:
        for dt in ALL_DTYPES:
            x = random_array(rng, shape, dt)
            t = torch.tensor(x, dtype=dt, device=device)
            nz = t.nonzero()
            assert nz.dtype == torch.int64 and nz.device.type == device
            np.testing.assert_array_equal(npy(nz), np.argwhere(x))
            np.testing.assert_array_equal(npy(torch.argwhere(t)), np.argwhere(x))
            parts = torch.nonzero(t, as_tuple=True)
            assert len(parts) == len(shape)
            for p, e in zip(parts, np.nonzero(x)):
                np.testing.assert_array_equal(npy(p), e)
    z = tensor(np.array(3.0), device=device)
    assert tuple(z.nonzero().shape) == (1, 0)
    parts = z.nonzero(as_tuple=True)
    assert len(parts) == 1 and npy(parts[0]).tolist() == [0]
    xs = np.array([[0, 1], [2, 0]])[:, ::-1].copy()[:, ::1]
    np.testing.assert_array_equal(npy(colmajor(xs, device).nonzero()), np.argwhere(xs))


def test_bincount(device):
    x = np.array([1, 3, 3, 0, 7])
    t = tensor(x, device=device)
    np.testing.assert_array_equal(npy(t.bincount()), np.bincount(x))
    np.testing.assert_array_equal(npy(torch.bincount(t, minlength=10)), np.bincount(x, minlength=10))
    assert t.bincount().dtype == torch.int64
    assert t.bincount().device.type == device
    w = np.array([0.5, 1, 2, 3, 4], np.float32)
    r = torch.bincount(t, weights=tensor(w, device=device))
    assert r.dtype == torch.float32
    np.testing.assert_allclose(npy(r), np.bincount(x, w))
    r = torch.bincount(t, weights=tensor(w.astype(np.float16), device=device))
    assert r.dtype == torch.float64
    r = torch.bincount(t, weights=tensor(np.arange(5), device=device))
    assert r.dtype == torch.float64
    np.testing.assert_array_equal(npy(torch.bincount(tensor(np.array([], np.int64), device=device), minlength=3)), [0, 0, 0])
    with pytest.raises(RuntimeError, match="non-negative"):
        torch.bincount(torch.tensor([-1, 2], device=device))
    with pytest.raises(RuntimeError, match="1-d"):
        torch.bincount(torch.tensor([[1]], device=device))
    with pytest.raises(RuntimeError, match="same length"):
        torch.bincount(t, weights=tensor(np.ones(2), device=device))


def test_searchsorted_bucketize(device):
    rng = np.random.default_rng(12)
    seq = np.sort(rng.integers(0, 10, 8)).astype(np.float64)
    vals = rng.integers(-1, 11, (3, 4)).astype(np.float64)
    ts, tv = tensor(seq, device=device), tensor(vals, device=device)
    for side in ["left", "right"]:
        exp = np.searchsorted(seq, vals, side=side)
        got = torch.searchsorted(ts, tv, side=side)
        assert got.dtype == torch.int64 and got.device.type == device
        np.testing.assert_array_equal(npy(got), exp)
        np.testing.assert_array_equal(npy(torch.searchsorted(ts, tv, right=side == "right")), exp)
        np.testing.assert_array_equal(npy(torch.bucketize(tv, ts, right=side == "right")), exp)
    got = torch.searchsorted(ts, tv, out_int32=True)
    assert got.dtype == torch.int32
    assert torch.searchsorted(ts, 5).item() == np.searchsorted(seq, 5)
    assert torch.searchsorted(ts, 5.5, right=True).dim() == 0
    # N-D sorted sequence: one row per value row
    seq2 = np.sort(rng.standard_normal((2, 3, 6)), axis=-1)
    vals2 = rng.standard_normal((2, 3, 5))
    got = torch.searchsorted(tensor(seq2, device=device), tensor(vals2, device=device))
    exp = np.stack([[np.searchsorted(seq2[i, j], vals2[i, j]) for j in range(3)] for i in range(2)])
    np.testing.assert_array_equal(npy(got), exp)
    # int sequence with float values: compared in the promoted dtype
    np.testing.assert_array_equal(npy(torch.searchsorted(torch.tensor([1, 3, 5], device=device), tensor(np.array([2.5, 3.0]), device=device))), [1, 1])
    # sorter
    unsorted = np.array([3.0, 1.0, 2.0])
    sorter = np.argsort(unsorted)
    np.testing.assert_array_equal(
        npy(torch.searchsorted(tensor(unsorted, device=device), tensor(np.array([2.5]), device=device), sorter=tensor(sorter, device=device))),
        np.searchsorted(unsorted, [2.5], sorter=sorter),
    )
    with pytest.raises(RuntimeError, match="opposites"):
        torch.searchsorted(ts, tv, right=True, side="left")
    with pytest.raises(RuntimeError, match="first N-1 dimensions"):
        torch.searchsorted(tensor(seq2, device=device), tv)
    with pytest.raises(RuntimeError, match="boundaries tensor must be 1 dimension"):
        torch.bucketize(tv, tensor(seq2, device=device))


def test_one_hot(device):
    x = np.array([[0, 2], [1, 4]])
    got = F.one_hot(tensor(x, device=device))
    assert got.dtype == torch.int64 and got.device.type == device
    np.testing.assert_array_equal(npy(got), np.eye(5, dtype=np.int64)[x])
    np.testing.assert_array_equal(npy(F.one_hot(tensor(x, device=device), num_classes=7)), np.eye(7, dtype=np.int64)[x])
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(tensor(x, device=device), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(torch.tensor([-1], device=device))
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(torch.tensor([1], dtype=torch.int32, device=device))
    with pytest.raises(RuntimeError, match="empty tensor"):
        F.one_hot(tensor(np.array([], np.int64), device=device))


def test_index_op_errors(device):
    t = torch.zeros(3, 4, dtype=torch.float64, device=device)
    i32 = torch.tensor([[0]], dtype=torch.int32, device=device)
    ix = lambda v: torch.tensor(v, device=device)  # noqa: E731
    with pytest.raises(RuntimeError, match=r"gather\(\): Expected dtype int64 for index"):
        t.gather(0, i32)
    with pytest.raises(RuntimeError, match=r"scatter\(\): Expected dtype int64 for index"):
        t.scatter(0, i32, 1.0)
    # A CUDA kernel checks the index values itself, and its error cannot name the value.
    named = device == "cpu"
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 0 with size 3" if named
                       else "out of bounds for dimension 0 with size 3"):
        t.gather(0, ix([[3]]))
        synchronize(device)
    with pytest.raises(RuntimeError, match="out of bounds"):
        t.gather(1, ix([[-1]]))
        synchronize(device)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        t.gather(0, ix([0]))
    with pytest.raises(RuntimeError, match="no larger than self"):
        t.gather(0, ix([[0, 0, 0, 0, 0]]))
    with pytest.raises(RuntimeError, match="self.dtype to be equal to src.dtype"):
        t.scatter(0, ix([[0]]), torch.ones(1, 1, dtype=torch.float32, device=device))
    with pytest.raises(RuntimeError, match="add or multiply"):
        t.scatter(0, ix([[0]]), 1.0, reduce="max")
    with pytest.raises(RuntimeError, match="sum, prod, mean, amax or amin"):
        t.scatter_reduce(0, ix([[0]]), t, "max")
    with pytest.raises(IndexError, match="int32 or int64"):
        t.index_select(0, tensor(np.array([0.0]), device=device))
    with pytest.raises(IndexError, match="Expected a long tensor"):
        t.index_copy(0, torch.tensor([0], dtype=torch.int32, device=device), t[:1])
    with pytest.raises(IndexError, match="Expected dtype int64"):
        t.index_fill(0, torch.tensor([0], dtype=torch.int32, device=device), 1.0)
    with pytest.raises(IndexError, match="index out of range in self"):
        t.index_select(0, ix([3]))
        synchronize(device)
    with pytest.raises(IndexError, match="supposed to be a vector"):
        t.index_select(0, ix([[0]]))
    with pytest.raises(IndexError, match="out of range: tried to access index 12 on a tensor of 12 elements" if named
                       else "out of range: tried to access .* on a tensor of 12 elements"):
        t.take(ix([12]))
        synchronize(device)
    with pytest.raises(RuntimeError, match="same scalar type"):
        t.index_add(0, ix([0]), torch.ones(1, 4, dtype=torch.float32, device=device))
    with pytest.raises(IndexError, match="out of bounds"):
        t.index_add(0, ix([5]), torch.ones(1, 4, dtype=torch.float64, device=device))
        synchronize(device)
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        ix([1, 2]).index_add(0, ix([0]), ix([1]), alpha=0.5)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.gather(2, ix([[0]]))
    # no partial write on a bad index
    u = torch.zeros(4, dtype=torch.float64, device=device)
    with pytest.raises(RuntimeError):
        u.scatter_(0, ix([0, 1, 9]), torch.ones(3, dtype=torch.float64, device=device))
        synchronize(device)
    with pytest.raises(IndexError):
        u.index_put_((ix([0, 9]),), torch.ones(2, dtype=torch.float64, device=device))
    np.testing.assert_array_equal(npy(u), np.zeros(4))


def test_large_inputs_take_the_parallel_paths(device):
    rng = np.random.default_rng(13)
    a = rng.standard_normal((300, 257)).astype(np.float32)
    t = tensor(a, device=device)
    idx = rng.integers(-300, 300, 400)
    cols = rng.integers(0, 257, 300)
    m = a > 0.3
    np.testing.assert_array_equal(npy(t[idx]), a[idx])
    np.testing.assert_array_equal(npy(t[:, cols]), a[:, cols])
    np.testing.assert_array_equal(npy(t[idx, 5:9]), a[idx, 5:9])
    np.testing.assert_array_equal(npy(t[m]), a[m])
    # strided tensor and strided mask: the general (non-collapsed) mask walk
    tf, mf = colmajor(a, device), colmajor(m, device)
    np.testing.assert_array_equal(npy(tf[mf]), a[m])
    np.testing.assert_array_equal(npy(tf[:, :100][mf[:, :100]]), a[:, :100][m[:, :100]])
    tb = tensor(a, device=device)
    tb[tensor(m, device=device)] = 0.0
    exp = a.copy()
    exp[m] = 0
    np.testing.assert_array_equal(npy(tb), exp)


def test_uint8_masks_and_int32_indices(device):
    t, a = ramp((3, 4), device)
    m = (a % 3 == 0).astype(np.uint8)
    np.testing.assert_array_equal(npy(t[tensor(m, device=device)]), a[m.astype(bool)])
    i32 = torch.tensor([2, 0], dtype=torch.int32, device=device)
    np.testing.assert_array_equal(npy(t[i32]), a[[2, 0]])
    t.index_put_((i32,), tensor(np.array(-1, np.int64), device=device))
    a = a.copy()
    a[[2, 0]] = -1
    np.testing.assert_array_equal(npy(t), a)
    with pytest.raises(IndexError, match="tensors used as indices"):
        t[torch.tensor([0], dtype=torch.int16, device=device)]


def test_numpy_scalar_keys(device):
    t, a = ramp((2, 3), device)
    for k in [np.True_, np.False_, [np.int64(0), np.int64(1)], (slice(None), [np.int32(2)]), np.int32(1)]:
        np.testing.assert_array_equal(npy(t[k]), a[k])
    with pytest.raises(IndexError, match="tensors used as indices"):
        t[[1.5]]


@pytest.mark.parametrize("dt", ALL_DTYPES, ids=str)
def test_more_ops_all_dtypes(dt, device):
    rng = np.random.default_rng(14)
    t, x = mk(rng, (4, 5), dt, device)
    idx = rng.integers(0, 5, (4, 3))
    np.testing.assert_array_equal(npy(t.take_along_dim(tensor(idx, device=device), 1)), np.take_along_axis(x, idx, 1))
    exp = x.copy()
    exp[[0, -1]] = 1
    got = t.index_fill(0, torch.tensor([0, -1], device=device), 1)
    assert got.dtype == dt and got.device.type == device
    np.testing.assert_array_equal(npy(got), exp)
    m = rng.random((4, 5)) > 0.5
    src, srcf = mk(rng, (20,), dt, device)
    exp = x.copy()
    exp[m] = srcf[: m.sum()]
    np.testing.assert_array_equal(npy(t.masked_scatter(tensor(m, device=device), src)), exp)
    exp = x.copy()
    exp[[3, 1]] = x[[0, 2]]
    np.testing.assert_array_equal(npy(t.index_copy(0, torch.tensor([3, 1], device=device), t[[0, 2]])), exp)
    exp = x.copy()
    exp[1:3, [4, 0]] = 0
    u = t[1:3]
    u[:, [4, 0]] = 0  # advanced write through a basic view reaches the base tensor
    np.testing.assert_array_equal(npy(t), exp)
    if dt != torch.bool:
        seq = np.sort(x.astype(np.float64).ravel())
        ts = torch.tensor(seq, dtype=dt, device=device)
        vals = npy(t).astype(np.float64)
        for right in (False, True):
            got = torch.searchsorted(ts, t, right=right)
            np.testing.assert_array_equal(npy(got), np.searchsorted(npy(ts).astype(np.float64), vals, side="right" if right else "left"))
