"""Autograd of the indexing family: __getitem__/__setitem__, gather/scatter, index_*, masked_*,
take/take_along_dim/put, against finite differences (gradcheck in float64) and hand-derived
values; grad_fn names, in-place forms, out= refusal, integer results."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from ferrotorch.autograd import gradcheck
from helpers import synchronize, to_np


def rnd(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def leaf(arr, device):
    return torch.tensor(np.asarray(arr, dtype=np.float64), device=device, requires_grad=True)


def fortran(arr, device):
    """A column-major (non-contiguous) float64 tensor: a row-major copy of arr's transpose,
    permuted back."""
    arr = np.asarray(arr, dtype=np.float64)
    base = torch.tensor(np.ascontiguousarray(arr.T), device=device)
    t = base.permute(*reversed(range(arr.ndim))).detach()
    assert not t.is_contiguous() or t.dim() < 2
    return t


def fortran_leaf(arr, device):
    """A column-major (non-contiguous) leaf."""
    return fortran(arr, device).requires_grad_()


def long(v, device):
    return torch.tensor(v, dtype=torch.int64, device=device)


def bmask(v, device):
    return torch.tensor(v, dtype=torch.bool, device=device)


def on_device(key, device):
    """An index key with its tensors moved to device (parametrised keys are built on the CPU)."""
    if isinstance(key, tuple):
        return tuple(on_device(k, device) for k in key)
    return key.to(device) if isinstance(key, torch.Tensor) else key


def gradgradcheck(f, inputs):
    """Second derivatives: gradcheck of (inputs, grad_output) -> d<f(inputs), grad_output>/dinputs
    built with create_graph=True. Grad mode is forced on inside, since gradcheck perturbs
    inputs under no_grad."""
    inputs = tuple(inputs)
    go = leaf(rnd(tuple(f(*inputs).shape), 5), inputs[0].device)

    def first(*args):
        xs, g = args[:-1], args[-1]
        with torch.enable_grad():
            out = f(*xs)
            return torch.autograd.grad(out, list(xs), g, create_graph=True, allow_unused=True)

    return gradcheck(first, inputs + (go,))


def backward_ones(y):
    y.backward(torch.ones_like(y))


def grads(out, inputs, go=None):
    go = torch.ones_like(out) if go is None else go
    return torch.autograd.grad(out, inputs, go, allow_unused=True)


# ------------------------------------------------------------------------------------------
# __getitem__


@pytest.mark.parametrize("key, name", [
    (1, "SelectBackward0"),
    (slice(0, 2), "SliceBackward0"),
    (slice(None), "SliceBackward0"),
    (None, "UnsqueezeBackward0"),
    (Ellipsis, "AliasBackward0"),
    ((1, slice(1, 3)), "SliceBackward0"),
    ((slice(None), 0), "SelectBackward0"),
    ((Ellipsis, None), "UnsqueezeBackward0"),
    ([0, 2], "IndexBackward0"),
    ((slice(None), [1, 1]), "IndexBackward0"),
    (True, "IndexBackward0"),
])
def test_getitem_grad_fn_names(key, name, device):
    x = leaf(rnd((3, 4)), device)
    assert x[key].grad_fn.name() == name


def test_basic_indexing_is_a_view(device):
    x = leaf(rnd((3, 4)), device)
    y = x * 1
    v = y[1:, ::2]
    assert v.data_ptr() == y.data_ptr() + 4 * 8
    (g,) = grads(v, [x])
    want = np.zeros((3, 4))
    want[1:, ::2] = 1
    np.testing.assert_array_equal(to_np(g), want)


@pytest.mark.parametrize("key", [
    0, -1, slice(1, 3), slice(None, None, 2), (Ellipsis, 1), (None, slice(1, None), 2),
    ([2, 0, 2],), ([[0, 1], [1, 1]],), (slice(None), [3, 3, 0]), ([0, 2], [1, 3]),
    ([0, 2], Ellipsis, [1, 0]), (1, [2, 2]), (slice(0, 2), None, [0, 0, 1]),
    (bmask([True, False, True], "cpu"),), (bmask([[True, False, True, False]] * 3, "cpu"),),
    (slice(None), bmask([False, True, True, False], "cpu")), (True,), (False,),
])
def test_getitem_gradcheck(key, device):
    key = on_device(key, device)
    x = leaf(rnd((3, 4)), device)
    assert gradcheck(lambda t: t[key], (x,))


def test_getitem_gradcheck_noncontiguous_3d(device):
    x = fortran_leaf(rnd((3, 4, 2), 1), device)
    assert gradcheck(lambda t: t[[2, 2, 0], :, 1], (x,))
    assert gradcheck(lambda t: t[::2][1, [3, 0, 3]], (x,))
    assert gradcheck(lambda t: t[..., bmask([True, False], device)], (x,))


def test_getitem_duplicates_accumulate_by_hand(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    y = x[[0, 2, 0, 0]]
    assert y.device.type == device
    w = torch.tensor([1.0, 10.0, 100.0, 1000.0], dtype=torch.float64, device=device)
    y.backward(w)
    np.testing.assert_array_equal(to_np(x.grad), [1101.0, 0.0, 10.0, 0.0])


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_hypothesis_getitem_gradients(device, data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    x = leaf(rnd(shape, data.draw(st.integers(0, 1000))), device)
    key = []
    for n in shape:
        kind = data.draw(st.sampled_from(["int", "slice", "list", "full"]))
        if kind == "int":
            key.append(data.draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            a = data.draw(st.integers(0, n))
            key.append(slice(a, data.draw(st.integers(a, n)), data.draw(st.integers(1, 2))))
        elif kind == "list":
            key.append(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)))
        else:
            key.append(slice(None))
    # At most one list keeps NumPy's and torch's placement rules in agreement with the oracle.
    lists = [i for i, k in enumerate(key) if isinstance(k, list)]
    for i in lists[1:]:
        key[i] = slice(None)
    key = tuple(key)
    out = x[key]
    w = rnd(tuple(out.shape), 7)
    out.backward(torch.tensor(w, device=device))
    # Oracle: index a CPU tensor of element numbers the same way, add w at the numbers it picks.
    where = torch.arange(int(np.prod(shape)), dtype=torch.int64).reshape(shape)[key]
    want = np.zeros(int(np.prod(shape)))
    np.add.at(want, to_np(where).ravel(), w.ravel())
    np.testing.assert_allclose(to_np(x.grad), want.reshape(shape), atol=1e-12)


def test_gradgradcheck_getitem(device):
    x = leaf(rnd((3, 4)), device)
    assert gradgradcheck(lambda t: t[[1, 1, 0], 1:3], (x,))


# ------------------------------------------------------------------------------------------
# __setitem__


def test_setitem_slice_on_non_leaf_is_copy_slices(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    w = leaf([5.0, 6.0], device)
    c = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, device=device)
    y = x * 1
    y[1:3] = w * 2
    assert y.grad_fn.name() == "CopySlices"
    np.testing.assert_array_equal(to_np(y), [1.0, 10.0, 12.0, 4.0])
    y.backward(c)
    np.testing.assert_array_equal(to_np(x.grad), [1.0, 0.0, 0.0, 4.0])
    np.testing.assert_array_equal(to_np(w.grad), [4.0, 6.0])


def test_setitem_mask(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    w = leaf([7.0, 8.0], device)
    c = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, device=device)
    y = x * 1
    y[bmask([False, True, False, True], device)] = w
    assert y.grad_fn.name() == "IndexPutBackward0"
    y.backward(c)
    np.testing.assert_array_equal(to_np(x.grad), [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(to_np(w.grad), [2.0, 4.0])


def test_setitem_index_tensor(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    w = leaf([7.0, 8.0], device)
    c = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, device=device)
    y = x * 1
    y[long([3, 0], device)] = w * 3
    np.testing.assert_array_equal(to_np(y), [24.0, 2.0, 3.0, 21.0])
    y.backward(c)
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 2.0, 3.0, 0.0])
    np.testing.assert_array_equal(to_np(w.grad), [12.0, 3.0])


def test_setitem_through_a_view_of_a_view(device):
    x = leaf(rnd((3, 4)), device)
    w = leaf([1.0, 2.0], device)
    base = x * 1
    row = base[1]
    row[[0, 3]] = w
    assert base.grad_fn.name() == "CopySlices"
    c = rnd((3, 4), 3)
    base.backward(torch.tensor(c, device=device))
    want = c.copy()
    want[1, [0, 3]] = 0
    np.testing.assert_allclose(to_np(x.grad), want)
    np.testing.assert_allclose(to_np(w.grad), c[1, [0, 3]])


def test_setitem_broadcast_value_and_number(device):
    x = leaf(rnd((3, 4)), device)
    v = leaf([[5.0, 6.0, 7.0, 8.0]], device)  # shape (1, 4) written into a row: leading 1 dropped
    y = x * 2
    y[0] = v
    y[:, 1] = 0.5
    y[bmask([False, False, True], device)] = v  # broadcast over the selected rows
    backward_ones(y)
    want = np.full((3, 4), 2.0)
    want[0] = 0
    want[:, 1] = 0
    want[2] = 0
    np.testing.assert_array_equal(to_np(x.grad), want)
    # v reaches row 0 (column 1 was overwritten after) and row 2 (all columns).
    np.testing.assert_array_equal(to_np(v.grad), [[2.0, 1.0, 2.0, 2.0]])


def test_setitem_gradcheck(device):
    def f(x, v):
        y = x * 1
        y[[0, 2], 1:3] = v
        return y

    assert gradcheck(f, (leaf(rnd((3, 4)), device), leaf(rnd((2, 2), 1), device)))

    def g(x, v):
        y = x[:, 1:] * 1
        y[bmask([True, False, True], device)] = v
        return y

    assert gradcheck(g, (fortran_leaf(rnd((3, 4)), device), leaf(rnd((3,), 2), device)))


def test_setitem_on_leaf_is_refused_and_no_grad_allows(device):
    x = leaf([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[[0]] = 1.0
    with torch.no_grad():
        x[0] = 5.0
        x[[1]] = 6.0
    np.testing.assert_array_equal(to_np(x), [5.0, 6.0])
    assert x.grad_fn is None


def test_setitem_into_plain_tensor_makes_it_require_grad(device):
    w = leaf([3.0], device)
    y = torch.zeros(3, dtype=torch.float64, device=device)
    y[1:2] = w
    assert y.requires_grad
    y.backward(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, device=device))
    np.testing.assert_array_equal(to_np(w.grad), [2.0])


# ------------------------------------------------------------------------------------------
# gather / scatter family


def test_gather_gradcheck_duplicates_and_noncontiguous(device):
    idx = long([[2, 0, 2], [1, 1, 1]], device)
    assert gradcheck(lambda t: torch.gather(t, 1, idx), (leaf(rnd((3, 4)), device),))
    assert gradcheck(lambda t: t.gather(0, idx), (fortran_leaf(rnd((3, 4)), device),))
    assert gradcheck(lambda t: t[:, ::2].gather(1, long([[0], [1], [1]], device)),
                     (leaf(rnd((3, 4)), device),))
    x = leaf(rnd((3, 4)), device)
    y = x.gather(1, idx)
    assert y.grad_fn.name() == "GatherBackward0"


def test_gather_by_hand(device):
    x = leaf([[1.0, 2.0], [3.0, 4.0]], device)
    backward_ones(torch.gather(x, 1, long([[0, 0], [1, 0]], device)))
    assert x.grad.device.type == device
    np.testing.assert_array_equal(to_np(x.grad), [[2.0, 0.0], [1.0, 1.0]])


def test_index_select_gradcheck(device):
    x = leaf(rnd((3, 4)), device)
    assert gradcheck(lambda t: torch.index_select(t, 0, long([2, 2, 0], device)), (x,))
    assert gradcheck(lambda t: t.index_select(1, long([3, 0, 3], device)),
                     (fortran_leaf(rnd((3, 4)), device),))
    assert gradcheck(lambda t: t.index_select(0, long(1, device)), (x,))
    assert x.index_select(0, long([1], device)).grad_fn.name() == "IndexSelectBackward0"


@pytest.mark.parametrize("op", ["gather", "index_select", "masked_fill", "take", "masked_select"])
def test_gradgradcheck(op, device):
    x = leaf(rnd((3, 4)), device)
    f = {
        "gather": lambda t: t.gather(1, long([[2, 0, 2], [1, 1, 1]], device)),
        "index_select": lambda t: t.index_select(0, long([2, 2, 0], device)),
        "masked_fill": lambda t: t.masked_fill(bmask([True, False, False, True], device), 3.0),
        "take": lambda t: t.take(long([[0, 11], [11, 5]], device)),
        "masked_select": lambda t: t.masked_select(bmask([True, False, False, True], device)),
    }[op]
    assert gradgradcheck(f, (x,))


def test_scatter_gradcheck(device):
    idx = long([[2, 0, 1, 0]], device)  # unique rows per column: scatter without reduction is exact
    x, src = leaf(rnd((3, 4)), device), leaf(rnd((2, 5), 1), device)
    assert gradcheck(lambda t, s: torch.scatter(t, 0, idx, s), (x, src))
    assert gradcheck(lambda t: t.scatter(0, idx, 2.5), (x,))
    assert gradcheck(lambda t: t.scatter(0, idx, value=2.5), (fortran_leaf(rnd((3, 4)), device),))
    assert x.scatter(0, idx, src).grad_fn.name() == "ScatterBackward0"
    assert x.scatter(0, idx, 1.0).grad_fn.name() == "ScatterBackward1"
    # src only contributes where the index reads it; the rest of src gets zero.
    (g,) = grads(x.scatter(0, idx, src), [src])
    want = np.zeros((2, 5))
    want[0, :4] = 1
    np.testing.assert_array_equal(to_np(g), want)


def test_scatter_add_gradcheck_duplicates(device):
    idx = long([[2, 2, 2, 0], [0, 2, 1, 1]], device)
    x, src = leaf(rnd((3, 4)), device), leaf(rnd((3, 4), 1), device)
    assert gradcheck(lambda t, s: torch.scatter_add(t, 0, idx, s), (x, src))
    assert gradcheck(lambda t, s: t.scatter(0, idx, s, reduce="add"), (x, src))
    assert x.scatter_add(0, idx, src).grad_fn.name() == "ScatterAddBackward0"


def test_scatter_multiply_reductions(device):
    idx = long([[2, 2, 2, 0], [0, 2, 1, 1]], device)
    x, src = leaf(rnd((3, 4)), device), leaf(rnd((2, 4), 1) + 2, device)
    assert gradcheck(lambda t, s: t.scatter(0, idx, s, reduce="multiply"), (x, src))
    assert gradcheck(lambda t: t.scatter(0, idx, 1.5, reduce="multiply"), (x,))
    assert gradcheck(lambda t: t.scatter(0, idx, 1.5, reduce="add"), (x,))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradcheck(reduce, include_self, device):
    idx = long([[0, 1], [0, 1], [2, 1], [0, 0]], device)
    x = leaf(rnd((3, 2)), device)
    # Distinct values: no ties for amax/amin, no zeros for prod.
    src = leaf(np.arange(1.0, 9.0).reshape(4, 2) * 0.37 + 0.1, device)
    y = x.scatter_reduce(0, idx, src, reduce, include_self=include_self)
    assert y.grad_fn.name() == "ScatterReduceBackward0"
    assert gradcheck(
        lambda t, s: torch.scatter_reduce(t, 0, idx, s, reduce, include_self=include_self),
        (x, src))


def test_scatter_reduce_amax_ties_split_evenly(device):
    x = leaf([1.0, 5.0], device)
    src = leaf([1.0, 1.0, 2.0], device)
    y = x.scatter_reduce(0, long([0, 0, 1], device), src, "amax")
    backward_ones(y)
    np.testing.assert_allclose(to_np(x.grad), [1 / 3, 1.0])
    np.testing.assert_allclose(to_np(src.grad), [1 / 3, 1 / 3, 0.0])


def test_scatter_reduce_prod_with_zeros(device):
    # One zero in src at a position: its gradient is the product of the others.
    x = leaf([2.0, 3.0], device)
    src = leaf([0.0, 5.0, 7.0], device)
    y = x.scatter_reduce(0, long([0, 0, 1], device), src, "prod")
    backward_ones(y)
    np.testing.assert_allclose(to_np(src.grad), [10.0, 0.0, 3.0])
    np.testing.assert_allclose(to_np(x.grad), [0.0, 7.0])
    # Two zeros at one position: every gradient there is zero; double backward refuses.
    x = leaf([2.0], device)
    src = leaf([0.0, 0.0], device)
    y = x.scatter_reduce(0, long([0, 0], device), src, "prod")
    (gx, gs) = torch.autograd.grad(y, [x, src], torch.ones_like(y), create_graph=True)
    np.testing.assert_array_equal(to_np(gs), [0.0, 0.0])
    np.testing.assert_array_equal(to_np(gx), [0.0])
    with pytest.raises(RuntimeError, match="Double backward is unsupported"):
        backward_ones(gs)
    assert gradcheck(lambda t, s: t.scatter_reduce(0, long([0, 1, 1], device), s, "prod"),
                     (leaf([0.0, 1.5], device), leaf([0.0, 2.0, 3.0], device)))


def test_scatter_reduce_mean_by_hand(device):
    x = leaf([1.0, 1.0], device)
    src = leaf([1.0, 1.0, 1.0], device)
    backward_ones(x.scatter_reduce(0, long([0, 0, 1], device), src, "mean", include_self=False))
    np.testing.assert_allclose(to_np(src.grad), [0.5, 0.5, 1.0])
    np.testing.assert_allclose(to_np(x.grad), [0.0, 0.0])


def test_index_add_copy_fill_gradcheck(device):
    x = leaf(rnd((3, 4)), device)
    s = leaf(rnd((3, 2), 1), device)
    assert gradcheck(lambda t, u: t.index_add(1, long([3, 3], device), u, alpha=2.5), (x, s))
    assert gradcheck(lambda t, u: torch.index_add(t, 1, long([0, 2], device), u),
                     (fortran_leaf(rnd((3, 4)), device), s))
    s2 = leaf(rnd((2, 4), 2), device)
    assert gradcheck(lambda t, u: t.index_copy(0, long([2, 0], device), u), (x, s2))
    assert gradcheck(lambda t: t.index_fill(1, long([-1, 1], device), 3.0), (x,))
    v = leaf(0.25, device)
    assert gradcheck(lambda t, w: t.index_fill(1, long([1, -3], device), w), (x, v))
    assert x.index_add(1, long([0, 1], device), s).grad_fn.name() == "IndexAddBackward0"
    assert x.index_copy(0, long([2, 0], device), s2).grad_fn.name() == "IndexCopyBackward0"
    assert x.index_fill(0, long([1], device), 1.0).grad_fn.name() == "IndexFillBackward0"
    assert x.index_fill(0, long([1], device), v).grad_fn.name() == "IndexFillBackward1"


def test_index_fill_value_gradient_by_hand(device):
    # Index [1, -2] names the same column twice: the value's gradient counts it once.
    x = leaf(np.ones((2, 3)), device)
    v = leaf(2.0, device)
    backward_ones(x.index_fill(1, long([1, -2], device), v))
    np.testing.assert_array_equal(to_np(v.grad), 2.0)
    np.testing.assert_array_equal(to_np(x.grad), [[1, 0, 1], [1, 0, 1]])


def test_index_put_gradcheck(device):
    x = leaf(rnd((3, 4)), device)
    v = leaf(rnd((4,), 1), device)
    rows = long([1, 1, 0], device)
    assert gradcheck(lambda t, u: t.index_put((rows,), u, accumulate=True), (x, v))
    assert gradcheck(lambda t, u: torch.index_put(t, (None, long([2, 0], device)), u),
                     (x, leaf(rnd((3, 2), 2), device)))
    assert gradcheck(lambda t, u: t.index_put((bmask([True, False, True], device),), u), (x, v))
    assert x.index_put((rows,), v, accumulate=True).grad_fn.name() == "IndexPutBackward0"


def test_take_take_along_dim_put_gradcheck(device):
    x = leaf(rnd((3, 4)), device)
    assert gradcheck(lambda t: torch.take(t, long([[-1, 0], [5, 5]], device)), (x,))
    assert gradcheck(lambda t: t.take(long([3, 3], device)), (fortran_leaf(rnd((3, 4)), device),))
    assert gradcheck(lambda t: torch.take_along_dim(t, long([[3, 3, 0]], device)), (x,))
    assert gradcheck(lambda t: t.take_along_dim(long([[3, 0]], device), dim=1), (x,))
    assert gradcheck(lambda t: t.take_along_dim(long([[1], [1], [0]], device), 0), (x,))
    assert x.take(long([0], device)).grad_fn.name() == "TakeBackward0"
    assert x.take_along_dim(long([[0]], device), 1).grad_fn.name() == "GatherBackward0"
    s = leaf(rnd((3,), 1), device)
    assert gradcheck(lambda t, u: torch.put(t, long([7, -1, 7], device), u, accumulate=True),
                     (x, s))
    assert gradcheck(lambda t, u: t.put(long([7, -1], device), u),
                     (fortran_leaf(rnd((3, 4)), device), leaf(rnd((1, 2), 2), device)))
    assert x.put(long([0], device), s[:1]).grad_fn.name() == "PutBackward0"


def test_put_forward(device):
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    src = torch.tensor([10.0, 20.0, 30.0], device=device)
    u = t.put(long([0, -1, 0], device), src, accumulate=True)
    assert u.device.type == device
    np.testing.assert_array_equal(to_np(u), [[41.0, 2.0], [3.0, 24.0]])
    np.testing.assert_array_equal(to_np(t), [[1.0, 2.0], [3.0, 4.0]])
    f = fortran(np.arange(6.0).reshape(2, 3), device)
    assert f.put_(long([1], device), torch.tensor([-1.0], dtype=torch.float64, device=device)) is f
    np.testing.assert_array_equal(to_np(f), [[0.0, -1.0, 2.0], [3.0, 4.0, 5.0]])
    with pytest.raises(IndexError, match="out of range"):
        t.put_(long([4], device), torch.tensor([1.0], device=device))
        synchronize(device)
    with pytest.raises(RuntimeError, match="same number of elements"):
        t.put_(long([0, 1], device), torch.tensor([1.0], device=device))


def test_bincount_weights_gradient(device):
    w = leaf([0.5, 1.0, 2.0, 4.0], device)
    x = long([0, 3, 3, 1], device)
    out = torch.bincount(x, weights=w, minlength=5)
    c = torch.tensor([1.0, 10.0, 100.0, 1000.0, 0.0], dtype=out.dtype, device=device)
    out.backward(c)
    np.testing.assert_array_equal(to_np(w.grad), [1.0, 1000.0, 1000.0, 10.0])


# ------------------------------------------------------------------------------------------
# masked ops


def test_masked_fill_gradcheck(device):
    x = leaf(rnd((2, 3)), device)
    m = bmask([True, False, True], device)
    assert gradcheck(lambda t: t.masked_fill(m, 2.0), (x,))
    assert gradcheck(lambda t: torch.masked_fill(t[:, ::2], bmask([[True], [False]], device), -1.0),
                     (x,))
    v = leaf(0.5, device)
    assert gradcheck(lambda t, w: t.masked_fill(m, w), (x, v))
    assert x.masked_fill(m, 1.0).grad_fn.name() == "MaskedFillBackward0"
    assert x.masked_fill(m, v).grad_fn.name() == "MaskedFillBackward1"


def test_masked_fill_value_tensor_by_hand(device):
    x = leaf(np.ones((2, 3)), device)
    v = leaf(3.0, device)
    y = x.masked_fill(bmask([[True, False, True], [False, False, True]], device), v)
    y.backward(torch.tensor(np.arange(6.0).reshape(2, 3), device=device))
    np.testing.assert_array_equal(to_np(v.grad), 0.0 + 2.0 + 5.0)
    np.testing.assert_array_equal(to_np(x.grad), [[0.0, 1.0, 0.0], [3.0, 4.0, 0.0]])
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.masked_fill(bmask([True, False, True], device), leaf([1.0], device))


def test_masked_fill_mask_broadcasts_past_self(device):
    x = leaf(rnd((3,)), device)
    m = bmask([[True, False, False], [False, False, True]], device)
    y = x.masked_fill(m, 0.0)
    assert tuple(y.shape) == (2, 3)
    backward_ones(y)
    np.testing.assert_array_equal(to_np(x.grad), [1.0, 2.0, 1.0])


def test_masked_select_scatter_gradcheck(device):
    x = leaf(rnd((2, 3)), device)
    m = bmask([[True, False, True], [False, True, True]], device)
    assert gradcheck(lambda t: torch.masked_select(t, m), (x,))
    assert gradcheck(lambda t: t.masked_select(bmask([True, False, True], device)),
                     (fortran_leaf(rnd((2, 3)), device),))
    assert gradcheck(lambda t: t.masked_select(m), (leaf(rnd((3,)), device),))  # self broadcast
    s = leaf(rnd((2, 4), 1), device)
    assert gradcheck(lambda t, u: t.masked_scatter(m, u), (x, s))
    assert gradcheck(lambda t, u: torch.masked_scatter(t, bmask([False, True, True], device), u),
                     (x, s))
    assert x.masked_select(m).grad_fn.name() == "MaskedSelectBackward0"
    assert x.masked_scatter(m, s).grad_fn.name() == "MaskedScatterBackward0"


def test_masked_scatter_source_gradient_by_hand(device):
    x = leaf(np.zeros((2, 2)), device)
    s = leaf([1.0, 2.0, 3.0, 4.0, 5.0], device)
    y = x.masked_scatter(bmask([[False, True], [True, True]], device), s)
    y.backward(torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, device=device))
    # The three True positions read s[0], s[1], s[2] in row-major order.
    np.testing.assert_array_equal(to_np(s.grad), [2.0, 3.0, 4.0, 0.0, 0.0])
    np.testing.assert_array_equal(to_np(x.grad), [[1.0, 0.0], [0.0, 0.0]])


# ------------------------------------------------------------------------------------------
# in-place forms


INPLACE = {
    "index_add_": lambda y, s: y.index_add_(1, long([3, 3], y.device), s[:, :2], alpha=-2),
    "index_copy_": lambda y, s: y.index_copy_(1, long([2, 0], y.device), s[:, :2]),
    "index_fill_": lambda y, s: y.index_fill_(1, long([2], y.device), s[0, 0]),
    "index_put_": lambda y, s: y.index_put_((long([1, 1], y.device),), s[0], accumulate=True),
    "scatter_": lambda y, s: y.scatter_(1, long([[0, 3], [1, 2], [2, 1]], y.device), s),
    "scatter_value_": lambda y, s: y.scatter_(1, long([[0, 3]], y.device), 4.0),
    "scatter_add_": lambda y, s: y.scatter_add_(0, long([[2, 2, 0, 1]], y.device), s),
    "scatter_reduce_": lambda y, s: y.scatter_reduce_(0, long([[2, 2, 0, 1]], y.device), s, "amax"),
    "masked_fill_":
        lambda y, s: y.masked_fill_(bmask([True, False, False, True], y.device), s[1, 1]),
    "masked_scatter_":
        lambda y, s: y.masked_scatter_(bmask([True, False, False, True], y.device), s),
    "put_": lambda y, s: y.put_(long([5, 0], y.device), s[0, :2]),
    "setitem": lambda y, s: y.__setitem__((slice(None), [1, 3]), s[:, :2]),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_forms_gradcheck(name, device):
    op = INPLACE[name]

    def f(x, s):
        y = x * 1
        r = op(y, s)
        assert r is None or r is y
        return y

    x = leaf(rnd((3, 4)), device)
    s = leaf(rnd((3, 4), 1) + 0.01 * np.arange(12).reshape(3, 4), device)
    assert gradcheck(f, (x, s))
    y = x * 1
    op(y, s)
    assert y.grad_fn is not None and y.requires_grad


def test_inplace_on_view_of_non_leaf(device):
    x = leaf(rnd((3, 4)), device)
    s = leaf(rnd((4,), 1), device)
    base = x * 1
    base[1].index_add_(0, long([0, 0, 2, 3], device), s)
    assert base.grad_fn.name() == "CopySlices"
    backward_ones(base)
    np.testing.assert_array_equal(to_np(x.grad), np.ones((3, 4)))
    np.testing.assert_array_equal(to_np(s.grad), np.ones(4))


def test_inplace_on_leaf_is_refused(device):
    x = leaf(rnd((2, 3)), device)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.masked_fill_(bmask([True, False, True], device), 0.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.index_fill_(0, long([0], device), 0.0)


# ------------------------------------------------------------------------------------------
# out=, integer results, forward unchanged


@pytest.mark.parametrize("call", [
    lambda x, o: torch.index_select(x, 0, long([0], x.device), out=o),
    lambda x, o: torch.gather(x, 0, long([[0, 1, 0]], x.device), out=o),
    lambda x, o: torch.masked_select(x, bmask([True, False, True], x.device), out=o),
    lambda x, o: torch.take(x, long([0], x.device), out=o),
    lambda x, o: torch.take_along_dim(x, long([[0]], x.device), 1, out=o),
    lambda x, o: torch.scatter_add(x, 0, long([[0]], x.device), x, out=o),
    lambda x, o: torch.scatter(x, 0, long([[0]], x.device), 1.0, out=o),
    lambda x, o: torch.scatter_reduce(x, 0, long([[0]], x.device), x, "sum", out=o),
    lambda x, o: x.index_add(0, long([0], x.device), x[:1], out=o),
])
def test_out_with_requires_grad_raises(call, device):
    x = leaf(rnd((2, 3)), device)
    o = torch.empty(0, dtype=torch.float64, device=device)
    with pytest.raises(RuntimeError, match=r"out=\.\.\. arguments don't support automatic"):
        call(x, o)
    with torch.no_grad():
        call(x, o)
    assert o.numel() > 0 and not o.requires_grad


def test_integer_results_have_no_grad_fn(device):
    x = leaf([[0.0, 1.5], [2.0, 0.0]], device)
    assert x.nonzero().grad_fn is None and not x.nonzero().requires_grad
    assert torch.argwhere(x).grad_fn is None
    nz = x.nonzero(as_tuple=True)
    assert all(t.grad_fn is None for t in nz)
    i = torch.tensor([[1, 2], [3, 4]], device=device)
    assert i[[0, 1]].grad_fn is None
    assert i.gather(1, long([[0]], device)).grad_fn is None


def test_no_grad_mode_records_nothing(device):
    x = leaf(rnd((3, 4)), device)
    with torch.no_grad():
        for y in (x[[0, 1]], x[1:], x.gather(1, long([[0]], device)),
                  x.masked_fill(bmask([True] * 4, device), 0.0), x.take(long([0], device)),
                  x.scatter(0, long([[0]], device), 1.0)):
            assert y.grad_fn is None and not y.requires_grad


def test_ellipsis_gives_own_handle(device):
    x = torch.zeros(3, device=device)
    y = x[...]
    y.requires_grad_()
    assert not x.requires_grad
    assert y.data_ptr() == x.data_ptr()
