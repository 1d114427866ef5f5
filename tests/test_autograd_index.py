"""Autograd of the indexing family: __getitem__/__setitem__, gather/scatter, index_*, masked_*,
take/take_along_dim/put, against finite differences (gradcheck in float64) and hand-derived
values; grad_fn names, in-place forms, out= refusal, integer results."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from ferrotorch.autograd import gradcheck


def rnd(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def leaf(arr):
    return torch.tensor(np.asarray(arr, dtype=np.float64), requires_grad=True)


def fortran_leaf(arr):
    """A column-major (non-contiguous) leaf."""
    t = torch.from_numpy(np.asfortranarray(np.asarray(arr, dtype=np.float64)))
    assert not t.is_contiguous() or t.dim() < 2
    return t.requires_grad_()


def long(v):
    return torch.tensor(v, dtype=torch.int64)


def bmask(v):
    return torch.tensor(v, dtype=torch.bool)


def gradgradcheck(f, inputs):
    """Second derivatives: gradcheck of (inputs, grad_output) -> d<f(inputs), grad_output>/dinputs
    built with create_graph=True. Grad mode is forced on inside, since gradcheck perturbs
    inputs under no_grad."""
    inputs = tuple(inputs)
    go = leaf(rnd(tuple(f(*inputs).shape), 5))

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
def test_getitem_grad_fn_names(key, name):
    x = leaf(rnd((3, 4)))
    assert x[key].grad_fn.name() == name


def test_basic_indexing_is_a_view():
    x = leaf(rnd((3, 4)))
    y = x * 1
    v = y[1:, ::2]
    assert v.data_ptr() == y.data_ptr() + 4 * 8
    (g,) = grads(v, [x])
    want = np.zeros((3, 4))
    want[1:, ::2] = 1
    np.testing.assert_array_equal(g.numpy(), want)


@pytest.mark.parametrize("key", [
    0, -1, slice(1, 3), slice(None, None, 2), (Ellipsis, 1), (None, slice(1, None), 2),
    ([2, 0, 2],), ([[0, 1], [1, 1]],), (slice(None), [3, 3, 0]), ([0, 2], [1, 3]),
    ([0, 2], Ellipsis, [1, 0]), (1, [2, 2]), (slice(0, 2), None, [0, 0, 1]),
    (bmask([True, False, True]),), (bmask([[True, False, True, False]] * 3),),
    (slice(None), bmask([False, True, True, False])), (True,), (False,),
])
def test_getitem_gradcheck(key):
    x = leaf(rnd((3, 4)))
    assert gradcheck(lambda t: t[key], (x,))


def test_getitem_gradcheck_noncontiguous_3d():
    x = fortran_leaf(rnd((3, 4, 2), 1))
    assert gradcheck(lambda t: t[[2, 2, 0], :, 1], (x,))
    assert gradcheck(lambda t: t[::2][1, [3, 0, 3]], (x,))
    assert gradcheck(lambda t: t[..., bmask([True, False])], (x,))


def test_getitem_duplicates_accumulate_by_hand():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    y = x[[0, 2, 0, 0]]
    w = torch.tensor([1.0, 10.0, 100.0, 1000.0], dtype=torch.float64)
    y.backward(w)
    np.testing.assert_array_equal(x.grad.numpy(), [1101.0, 0.0, 10.0, 0.0])


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_hypothesis_getitem_gradients(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    x = leaf(rnd(shape, data.draw(st.integers(0, 1000))))
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
    out.backward(torch.tensor(w))
    # Oracle: index a tensor of element numbers the same way, add w at the numbers it picks.
    where = torch.arange(int(np.prod(shape)), dtype=torch.int64).reshape(shape)[key]
    want = np.zeros(int(np.prod(shape)))
    np.add.at(want, np.asarray(where.numpy()).ravel(), w.ravel())
    np.testing.assert_allclose(x.grad.numpy(), want.reshape(shape), atol=1e-12)


def test_gradgradcheck_getitem():
    x = leaf(rnd((3, 4)))
    assert gradgradcheck(lambda t: t[[1, 1, 0], 1:3], (x,))


# ------------------------------------------------------------------------------------------
# __setitem__


def test_setitem_slice_on_non_leaf_is_copy_slices():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    w = leaf([5.0, 6.0])
    c = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    y = x * 1
    y[1:3] = w * 2
    assert y.grad_fn.name() == "CopySlices"
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 10.0, 12.0, 4.0])
    y.backward(c)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 0.0, 4.0])
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 6.0])


def test_setitem_mask():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    w = leaf([7.0, 8.0])
    c = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    y = x * 1
    y[bmask([False, True, False, True])] = w
    assert y.grad_fn.name() == "IndexPutBackward0"
    y.backward(c)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])


def test_setitem_index_tensor():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    w = leaf([7.0, 8.0])
    c = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    y = x * 1
    y[long([3, 0])] = w * 3
    np.testing.assert_array_equal(y.detach().numpy(), [24.0, 2.0, 3.0, 21.0])
    y.backward(c)
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 3.0, 0.0])
    np.testing.assert_array_equal(w.grad.numpy(), [12.0, 3.0])


def test_setitem_through_a_view_of_a_view():
    x = leaf(rnd((3, 4)))
    w = leaf([1.0, 2.0])
    base = x * 1
    row = base[1]
    row[[0, 3]] = w
    assert base.grad_fn.name() == "CopySlices"
    c = rnd((3, 4), 3)
    base.backward(torch.tensor(c))
    want = c.copy()
    want[1, [0, 3]] = 0
    np.testing.assert_allclose(x.grad.numpy(), want)
    np.testing.assert_allclose(w.grad.numpy(), c[1, [0, 3]])


def test_setitem_broadcast_value_and_number():
    x = leaf(rnd((3, 4)))
    v = leaf([[5.0, 6.0, 7.0, 8.0]])  # shape (1, 4) written into a row: leading 1 dropped
    y = x * 2
    y[0] = v
    y[:, 1] = 0.5
    y[bmask([False, False, True])] = v  # broadcast over the selected rows
    backward_ones(y)
    want = np.full((3, 4), 2.0)
    want[0] = 0
    want[:, 1] = 0
    want[2] = 0
    np.testing.assert_array_equal(x.grad.numpy(), want)
    # v reaches row 0 (column 1 was overwritten after) and row 2 (all columns).
    np.testing.assert_array_equal(v.grad.numpy(), [[2.0, 1.0, 2.0, 2.0]])


def test_setitem_gradcheck():
    def f(x, v):
        y = x * 1
        y[[0, 2], 1:3] = v
        return y

    assert gradcheck(f, (leaf(rnd((3, 4))), leaf(rnd((2, 2), 1))))

    def g(x, v):
        y = x[:, 1:] * 1
        y[bmask([True, False, True])] = v
        return y

    assert gradcheck(g, (fortran_leaf(rnd((3, 4))), leaf(rnd((3,), 2))))


def test_setitem_on_leaf_is_refused_and_no_grad_allows():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[[0]] = 1.0
    with torch.no_grad():
        x[0] = 5.0
        x[[1]] = 6.0
    np.testing.assert_array_equal(x.detach().numpy(), [5.0, 6.0])
    assert x.grad_fn is None


def test_setitem_into_plain_tensor_makes_it_require_grad():
    w = leaf([3.0])
    y = torch.zeros(3, dtype=torch.float64)
    y[1:2] = w
    assert y.requires_grad
    y.backward(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    np.testing.assert_array_equal(w.grad.numpy(), [2.0])


# ------------------------------------------------------------------------------------------
# gather / scatter family


def test_gather_gradcheck_duplicates_and_noncontiguous():
    idx = long([[2, 0, 2], [1, 1, 1]])
    assert gradcheck(lambda t: torch.gather(t, 1, idx), (leaf(rnd((3, 4))),))
    assert gradcheck(lambda t: t.gather(0, idx), (fortran_leaf(rnd((3, 4))),))
    assert gradcheck(lambda t: t[:, ::2].gather(1, long([[0], [1], [1]])), (leaf(rnd((3, 4))),))
    x = leaf(rnd((3, 4)))
    y = x.gather(1, idx)
    assert y.grad_fn.name() == "GatherBackward0"


def test_gather_by_hand():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    backward_ones(torch.gather(x, 1, long([[0, 0], [1, 0]])))
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0], [1.0, 1.0]])


def test_index_select_gradcheck():
    x = leaf(rnd((3, 4)))
    assert gradcheck(lambda t: torch.index_select(t, 0, long([2, 2, 0])), (x,))
    assert gradcheck(lambda t: t.index_select(1, long([3, 0, 3])), (fortran_leaf(rnd((3, 4))),))
    assert gradcheck(lambda t: t.index_select(0, long(1)), (x,))
    assert x.index_select(0, long([1])).grad_fn.name() == "IndexSelectBackward0"


@pytest.mark.parametrize("op", ["gather", "index_select", "masked_fill", "take", "masked_select"])
def test_gradgradcheck(op):
    x = leaf(rnd((3, 4)))
    f = {
        "gather": lambda t: t.gather(1, long([[2, 0, 2], [1, 1, 1]])),
        "index_select": lambda t: t.index_select(0, long([2, 2, 0])),
        "masked_fill": lambda t: t.masked_fill(bmask([True, False, False, True]), 3.0),
        "take": lambda t: t.take(long([[0, 11], [11, 5]])),
        "masked_select": lambda t: t.masked_select(bmask([True, False, False, True])),
    }[op]
    assert gradgradcheck(f, (x,))


def test_scatter_gradcheck():
    idx = long([[2, 0, 1, 0]])  # unique rows per column: scatter without reduction is exact
    x, src = leaf(rnd((3, 4))), leaf(rnd((2, 5), 1))
    assert gradcheck(lambda t, s: torch.scatter(t, 0, idx, s), (x, src))
    assert gradcheck(lambda t: t.scatter(0, idx, 2.5), (x,))
    assert gradcheck(lambda t: t.scatter(0, idx, value=2.5), (fortran_leaf(rnd((3, 4))),))
    assert x.scatter(0, idx, src).grad_fn.name() == "ScatterBackward0"
    assert x.scatter(0, idx, 1.0).grad_fn.name() == "ScatterBackward1"
    # src only contributes where the index reads it; the rest of src gets zero.
    (g,) = grads(x.scatter(0, idx, src), [src])
    want = np.zeros((2, 5))
    want[0, :4] = 1
    np.testing.assert_array_equal(g.numpy(), want)


def test_scatter_add_gradcheck_duplicates():
    idx = long([[2, 2, 2, 0], [0, 2, 1, 1]])
    x, src = leaf(rnd((3, 4))), leaf(rnd((3, 4), 1))
    assert gradcheck(lambda t, s: torch.scatter_add(t, 0, idx, s), (x, src))
    assert gradcheck(lambda t, s: t.scatter(0, idx, s, reduce="add"), (x, src))
    assert x.scatter_add(0, idx, src).grad_fn.name() == "ScatterAddBackward0"


def test_scatter_multiply_reductions():
    idx = long([[2, 2, 2, 0], [0, 2, 1, 1]])
    x, src = leaf(rnd((3, 4))), leaf(rnd((2, 4), 1) + 2)
    assert gradcheck(lambda t, s: t.scatter(0, idx, s, reduce="multiply"), (x, src))
    assert gradcheck(lambda t: t.scatter(0, idx, 1.5, reduce="multiply"), (x,))
    assert gradcheck(lambda t: t.scatter(0, idx, 1.5, reduce="add"), (x,))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradcheck(reduce, include_self):
    idx = long([[0, 1], [0, 1], [2, 1], [0, 0]])
    x = leaf(rnd((3, 2)))
    # Distinct values: no ties for amax/amin, no zeros for prod.
    src = leaf(np.arange(1.0, 9.0).reshape(4, 2) * 0.37 + 0.1)
    y = x.scatter_reduce(0, idx, src, reduce, include_self=include_self)
    assert y.grad_fn.name() == "ScatterReduceBackward0"
    assert gradcheck(
        lambda t, s: torch.scatter_reduce(t, 0, idx, s, reduce, include_self=include_self),
        (x, src))


def test_scatter_reduce_amax_ties_split_evenly():
    x = leaf([1.0, 5.0])
    src = leaf([1.0, 1.0, 2.0])
    y = x.scatter_reduce(0, long([0, 0, 1]), src, "amax")
    backward_ones(y)
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 1.0])
    np.testing.assert_allclose(src.grad.numpy(), [1 / 3, 1 / 3, 0.0])


def test_scatter_reduce_prod_with_zeros():
    # One zero in src at a position: its gradient is the product of the others.
    x = leaf([2.0, 3.0])
    src = leaf([0.0, 5.0, 7.0])
    y = x.scatter_reduce(0, long([0, 0, 1]), src, "prod")
    backward_ones(y)
    np.testing.assert_allclose(src.grad.numpy(), [10.0, 0.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 7.0])
    # Two zeros at one position: every gradient there is zero; double backward refuses.
    x = leaf([2.0])
    src = leaf([0.0, 0.0])
    y = x.scatter_reduce(0, long([0, 0]), src, "prod")
    (gx, gs) = torch.autograd.grad(y, [x, src], torch.ones_like(y), create_graph=True)
    np.testing.assert_array_equal(gs.detach().numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(gx.detach().numpy(), [0.0])
    with pytest.raises(RuntimeError, match="Double backward is unsupported"):
        backward_ones(gs)
    assert gradcheck(lambda t, s: t.scatter_reduce(0, long([0, 1, 1]), s, "prod"),
                     (leaf([0.0, 1.5]), leaf([0.0, 2.0, 3.0])))


def test_scatter_reduce_mean_by_hand():
    x = leaf([1.0, 1.0])
    src = leaf([1.0, 1.0, 1.0])
    backward_ones(x.scatter_reduce(0, long([0, 0, 1]), src, "mean", include_self=False))
    np.testing.assert_allclose(src.grad.numpy(), [0.5, 0.5, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0])


def test_index_add_copy_fill_gradcheck():
    x = leaf(rnd((3, 4)))
    s = leaf(rnd((3, 2), 1))
    assert gradcheck(lambda t, u: t.index_add(1, long([3, 3]), u, alpha=2.5), (x, s))
    assert gradcheck(lambda t, u: torch.index_add(t, 1, long([0, 2]), u), (fortran_leaf(rnd((3, 4))), s))
    s2 = leaf(rnd((2, 4), 2))
    assert gradcheck(lambda t, u: t.index_copy(0, long([2, 0]), u), (x, s2))
    assert gradcheck(lambda t: t.index_fill(1, long([-1, 1]), 3.0), (x,))
    v = leaf(0.25)
    assert gradcheck(lambda t, w: t.index_fill(1, long([1, -3]), w), (x, v))
    assert x.index_add(1, long([0, 1]), s).grad_fn.name() == "IndexAddBackward0"
    assert x.index_copy(0, long([2, 0]), s2).grad_fn.name() == "IndexCopyBackward0"
    assert x.index_fill(0, long([1]), 1.0).grad_fn.name() == "IndexFillBackward0"
    assert x.index_fill(0, long([1]), v).grad_fn.name() == "IndexFillBackward1"


def test_index_fill_value_gradient_by_hand():
    # Index [1, -2] names the same column twice: the value's gradient counts it once.
    x = leaf(np.ones((2, 3)))
    v = leaf(2.0)
    backward_ones(x.index_fill(1, long([1, -2]), v))
    np.testing.assert_array_equal(v.grad.numpy(), 2.0)
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 1], [1, 0, 1]])


def test_index_put_gradcheck():
    x = leaf(rnd((3, 4)))
    v = leaf(rnd((4,), 1))
    rows = long([1, 1, 0])
    assert gradcheck(lambda t, u: t.index_put((rows,), u, accumulate=True), (x, v))
    assert gradcheck(lambda t, u: torch.index_put(t, (None, long([2, 0])), u), (x, leaf(rnd((3, 2), 2))))
    assert gradcheck(lambda t, u: t.index_put((bmask([True, False, True]),), u), (x, v))
    assert x.index_put((rows,), v, accumulate=True).grad_fn.name() == "IndexPutBackward0"


def test_take_take_along_dim_put_gradcheck():
    x = leaf(rnd((3, 4)))
    assert gradcheck(lambda t: torch.take(t, long([[-1, 0], [5, 5]])), (x,))
    assert gradcheck(lambda t: t.take(long([3, 3])), (fortran_leaf(rnd((3, 4))),))
    assert gradcheck(lambda t: torch.take_along_dim(t, long([[3, 3, 0]])), (x,))
    assert gradcheck(lambda t: t.take_along_dim(long([[3, 0]]), dim=1), (x,))
    assert gradcheck(lambda t: t.take_along_dim(long([[1], [1], [0]]), 0), (x,))
    assert x.take(long([0])).grad_fn.name() == "TakeBackward0"
    assert x.take_along_dim(long([[0]]), 1).grad_fn.name() == "GatherBackward0"
    s = leaf(rnd((3,), 1))
    assert gradcheck(lambda t, u: torch.put(t, long([7, -1, 7]), u, accumulate=True), (x, s))
    assert gradcheck(lambda t, u: t.put(long([7, -1]), u), (fortran_leaf(rnd((3, 4))), leaf(rnd((1, 2), 2))))
    assert x.put(long([0]), s[:1]).grad_fn.name() == "PutBackward0"


def test_put_forward():
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    u = t.put(long([0, -1, 0]), torch.tensor([10.0, 20.0, 30.0]), accumulate=True)
    np.testing.assert_array_equal(u.numpy(), [[41.0, 2.0], [3.0, 24.0]])
    np.testing.assert_array_equal(t.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    f = torch.from_numpy(np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    assert f.put_(long([1]), torch.tensor([-1.0], dtype=torch.float64)) is f
    np.testing.assert_array_equal(f.numpy(), [[0.0, -1.0, 2.0], [3.0, 4.0, 5.0]])
    with pytest.raises(IndexError, match="out of range"):
        t.put_(long([4]), torch.tensor([1.0]))
    with pytest.raises(RuntimeError, match="same number of elements"):
        t.put_(long([0, 1]), torch.tensor([1.0]))


def test_bincount_weights_gradient():
    w = leaf([0.5, 1.0, 2.0, 4.0])
    x = long([0, 3, 3, 1])
    out = torch.bincount(x, weights=w, minlength=5)
    c = torch.tensor([1.0, 10.0, 100.0, 1000.0, 0.0], dtype=out.dtype)
    out.backward(c)
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1000.0, 1000.0, 10.0])


# ------------------------------------------------------------------------------------------
# masked ops


def test_masked_fill_gradcheck():
    x = leaf(rnd((2, 3)))
    m = bmask([True, False, True])
    assert gradcheck(lambda t: t.masked_fill(m, 2.0), (x,))
    assert gradcheck(lambda t: torch.masked_fill(t[:, ::2], bmask([[True], [False]]), -1.0), (x,))
    v = leaf(0.5)
    assert gradcheck(lambda t, w: t.masked_fill(m, w), (x, v))
    assert x.masked_fill(m, 1.0).grad_fn.name() == "MaskedFillBackward0"
    assert x.masked_fill(m, v).grad_fn.name() == "MaskedFillBackward1"


def test_masked_fill_value_tensor_by_hand():
    x = leaf(np.ones((2, 3)))
    v = leaf(3.0)
    y = x.masked_fill(bmask([[True, False, True], [False, False, True]]), v)
    y.backward(torch.tensor(np.arange(6.0).reshape(2, 3)))
    np.testing.assert_array_equal(v.grad.numpy(), 0.0 + 2.0 + 5.0)
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], [3.0, 4.0, 0.0]])
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.masked_fill(bmask([True, False, True]), leaf([1.0]))


def test_masked_fill_mask_broadcasts_past_self():
    x = leaf(rnd((3,)))
    m = bmask([[True, False, False], [False, False, True]])
    y = x.masked_fill(m, 0.0)
    assert tuple(y.shape) == (2, 3)
    backward_ones(y)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 1.0])


def test_masked_select_scatter_gradcheck():
    x = leaf(rnd((2, 3)))
    m = bmask([[True, False, True], [False, True, True]])
    assert gradcheck(lambda t: torch.masked_select(t, m), (x,))
    assert gradcheck(lambda t: t.masked_select(bmask([True, False, True])), (fortran_leaf(rnd((2, 3))),))
    assert gradcheck(lambda t: t.masked_select(m), (leaf(rnd((3,))),))  # self broadcast
    s = leaf(rnd((2, 4), 1))
    assert gradcheck(lambda t, u: t.masked_scatter(m, u), (x, s))
    assert gradcheck(lambda t, u: torch.masked_scatter(t, bmask([False, True, True]), u), (x, s))
    assert x.masked_select(m).grad_fn.name() == "MaskedSelectBackward0"
    assert x.masked_scatter(m, s).grad_fn.name() == "MaskedScatterBackward0"


def test_masked_scatter_source_gradient_by_hand():
    x = leaf(np.zeros((2, 2)))
    s = leaf([1.0, 2.0, 3.0, 4.0, 5.0])
    y = x.masked_scatter(bmask([[False, True], [True, True]]), s)
    y.backward(torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64))
    # The three True positions read s[0], s[1], s[2] in row-major order.
    np.testing.assert_array_equal(s.grad.numpy(), [2.0, 3.0, 4.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0], [0.0, 0.0]])


# ------------------------------------------------------------------------------------------
# in-place forms


INPLACE = {
    "index_add_": lambda y, s: y.index_add_(1, long([3, 3]), s[:, :2], alpha=-2),
    "index_copy_": lambda y, s: y.index_copy_(1, long([2, 0]), s[:, :2]),
    "index_fill_": lambda y, s: y.index_fill_(1, long([2]), s[0, 0]),
    "index_put_": lambda y, s: y.index_put_((long([1, 1]),), s[0], accumulate=True),
    "scatter_": lambda y, s: y.scatter_(1, long([[0, 3], [1, 2], [2, 1]]), s),
    "scatter_value_": lambda y, s: y.scatter_(1, long([[0, 3]]), 4.0),
    "scatter_add_": lambda y, s: y.scatter_add_(0, long([[2, 2, 0, 1]]), s),
    "scatter_reduce_": lambda y, s: y.scatter_reduce_(0, long([[2, 2, 0, 1]]), s, "amax"),
    "masked_fill_": lambda y, s: y.masked_fill_(bmask([True, False, False, True]), s[1, 1]),
    "masked_scatter_": lambda y, s: y.masked_scatter_(bmask([True, False, False, True]), s),
    "put_": lambda y, s: y.put_(long([5, 0]), s[0, :2]),
    "setitem": lambda y, s: y.__setitem__((slice(None), [1, 3]), s[:, :2]),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_forms_gradcheck(name):
    op = INPLACE[name]

    def f(x, s):
        y = x * 1
        r = op(y, s)
        assert r is None or r is y
        return y

    x, s = leaf(rnd((3, 4))), leaf(rnd((3, 4), 1) + 0.01 * np.arange(12).reshape(3, 4))
    assert gradcheck(f, (x, s))
    y = x * 1
    op(y, s)
    assert y.grad_fn is not None and y.requires_grad


def test_inplace_on_view_of_non_leaf():
    x = leaf(rnd((3, 4)))
    s = leaf(rnd((4,), 1))
    base = x * 1
    base[1].index_add_(0, long([0, 0, 2, 3]), s)
    assert base.grad_fn.name() == "CopySlices"
    backward_ones(base)
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(s.grad.numpy(), np.ones(4))


def test_inplace_on_leaf_is_refused():
    x = leaf(rnd((2, 3)))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.masked_fill_(bmask([True, False, True]), 0.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.index_fill_(0, long([0]), 0.0)


# ------------------------------------------------------------------------------------------
# out=, integer results, forward unchanged


@pytest.mark.parametrize("call", [
    lambda x, o: torch.index_select(x, 0, long([0]), out=o),
    lambda x, o: torch.gather(x, 0, long([[0, 1, 0]]), out=o),
    lambda x, o: torch.masked_select(x, bmask([True, False, True]), out=o),
    lambda x, o: torch.take(x, long([0]), out=o),
    lambda x, o: torch.take_along_dim(x, long([[0]]), 1, out=o),
    lambda x, o: torch.scatter_add(x, 0, long([[0]]), x, out=o),
    lambda x, o: torch.scatter(x, 0, long([[0]]), 1.0, out=o),
    lambda x, o: torch.scatter_reduce(x, 0, long([[0]]), x, "sum", out=o),
    lambda x, o: x.index_add(0, long([0]), x[:1], out=o),
])
def test_out_with_requires_grad_raises(call):
    x = leaf(rnd((2, 3)))
    o = torch.empty(0, dtype=torch.float64)
    with pytest.raises(RuntimeError, match=r"out=\.\.\. arguments don't support automatic"):
        call(x, o)
    with torch.no_grad():
        call(x, o)
    assert o.numel() > 0 and not o.requires_grad


def test_integer_results_have_no_grad_fn():
    x = leaf([[0.0, 1.5], [2.0, 0.0]])
    assert x.nonzero().grad_fn is None and not x.nonzero().requires_grad
    assert torch.argwhere(x).grad_fn is None
    nz = x.nonzero(as_tuple=True)
    assert all(t.grad_fn is None for t in nz)
    i = torch.tensor([[1, 2], [3, 4]])
    assert i[[0, 1]].grad_fn is None
    assert i.gather(1, long([[0]])).grad_fn is None


def test_no_grad_mode_records_nothing():
    x = leaf(rnd((3, 4)))
    with torch.no_grad():
        for y in (x[[0, 1]], x[1:], x.gather(1, long([[0]])), x.masked_fill(bmask([True] * 4), 0.0),
                  x.take(long([0])), x.scatter(0, long([[0]]), 1.0)):
            assert y.grad_fn is None and not y.requires_grad


def test_ellipsis_gives_own_handle():
    x = torch.zeros(3)
    y = x[...]
    y.requires_grad_()
    assert not x.requires_grad
    assert y.data_ptr() == x.data_ptr()
