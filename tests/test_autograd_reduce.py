"""Gradients of reductions, scans and sorting: gradcheck and gradgradcheck in float64 away from
ties and kinks, torch's values at ties and zeros by hand, node names, out= refusal, in-place
scans, integer outputs without history."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from ferrotorch.autograd import gradcheck, gradgradcheck
from helpers import to_np


def leaf(device, values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype, device=device, requires_grad=True)


def rand(device, shape, seed=0, low=-2.0, high=2.0):
    """Distinct values (no ties) spread out enough that finite differences never reorder them."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    base = np.linspace(low, high, n) + rng.uniform(-0.3, 0.3, n) * (high - low) / max(n, 1)
    return leaf(device, rng.permutation(base).reshape(shape))


def positive(device, shape, seed=0):
    """Values in [0.5, 1.5): products and logs stay well conditioned."""
    rng = np.random.default_rng(seed)
    return leaf(device, rng.uniform(0.5, 1.5, shape))


def grad_of(y, x):
    (g,) = torch.autograd.grad(y.sum(), x)
    return to_np(g)


def check(fn, x, second=True):
    assert gradcheck(fn, (x,))
    if second:
        assert gradgradcheck(fn, (x,))


# (id, function, input factory taking the device). Each is gradchecked and gradgradchecked.
CASES = [
    ("sum", lambda x: x.sum(), lambda d: rand(d, (3, 4))),
    ("sum_dim", lambda x: x.sum(1), lambda d: rand(d, (3, 4))),
    ("sum_dims_keepdim", lambda x: torch.sum(x, (0, 2), keepdim=True),
     lambda d: rand(d, (2, 3, 2))),
    ("sum_dtype", lambda x: x.sum(0, dtype=torch.float64), lambda d: rand(d, (3, 2))),
    ("nansum", lambda x: x.nansum(1), lambda d: rand(d, (3, 4))),
    ("mean", lambda x: x.mean(), lambda d: rand(d, (3, 4))),
    ("mean_dim", lambda x: torch.mean(x, -1, keepdim=True), lambda d: rand(d, (3, 4))),
    ("nanmean", lambda x: x.nanmean(0), lambda d: rand(d, (3, 4))),
    ("prod", lambda x: x.prod(), lambda d: positive(d, (2, 3))),
    ("prod_dim", lambda x: x.prod(1), lambda d: rand(d, (3, 4))),
    ("prod_dim_keepdim", lambda x: torch.prod(x, 0, keepdim=True), lambda d: rand(d, (3, 4))),
    ("logsumexp", lambda x: x.logsumexp(1), lambda d: rand(d, (3, 4))),
    ("logsumexp_all", lambda x: torch.logsumexp(x, (0, 1)), lambda d: rand(d, (3, 4))),
    ("amax", lambda x: x.amax(1), lambda d: rand(d, (3, 4))),
    ("amin", lambda x: torch.amin(x, (0, 1), keepdim=True), lambda d: rand(d, (3, 4))),
    ("max", lambda x: x.max(), lambda d: rand(d, (3, 4))),
    ("min", lambda x: torch.min(x), lambda d: rand(d, (3, 4))),
    ("max_dim", lambda x: x.max(1).values, lambda d: rand(d, (3, 4))),
    ("min_dim_keepdim", lambda x: torch.min(x, 0, keepdim=True)[0], lambda d: rand(d, (3, 4))),
    ("aminmax", lambda x: torch.aminmax(x, dim=1), lambda d: rand(d, (3, 4))),
    ("aminmax_all", lambda x: x.aminmax(), lambda d: rand(d, (3, 4))),
    ("median", lambda x: x.median(), lambda d: rand(d, (3, 4))),
    ("median_dim", lambda x: x.median(1).values, lambda d: rand(d, (3, 5))),
    ("nanmedian", lambda x: torch.nanmedian(x), lambda d: rand(d, (3, 4))),
    ("nanmedian_dim", lambda x: x.nanmedian(0, keepdim=True).values, lambda d: rand(d, (3, 4))),
    ("mode", lambda x: x.mode(1).values, lambda d: rand(d, (3, 4))),
    ("kthvalue", lambda x: x.kthvalue(2, 1).values, lambda d: rand(d, (3, 4))),
    ("kthvalue_keepdim", lambda x: torch.kthvalue(x, 3, 0, keepdim=True).values,
     lambda d: rand(d, (3, 4))),
    ("var", lambda x: x.var(), lambda d: rand(d, (3, 4))),
    ("var_dim", lambda x: x.var(1), lambda d: rand(d, (3, 4))),
    ("var_correction", lambda x: torch.var(x, 0, correction=0, keepdim=True),
     lambda d: rand(d, (3, 4))),
    ("var_unbiased_false", lambda x: x.var(unbiased=False), lambda d: rand(d, (3, 4))),
    ("std", lambda x: x.std(), lambda d: rand(d, (3, 4))),
    ("std_dims", lambda x: torch.std(x, (0, 1), correction=2), lambda d: rand(d, (3, 4))),
    ("std_dim_keepdim", lambda x: x.std(1, keepdim=True), lambda d: rand(d, (3, 4))),
    ("var_mean", lambda x: torch.var_mean(x, 1), lambda d: rand(d, (3, 4))),
    ("std_mean", lambda x: torch.std_mean(x), lambda d: rand(d, (3, 4))),
    ("std_mean_keepdim", lambda x: x.std_mean(0, keepdim=True), lambda d: rand(d, (3, 4))),
    ("norm", lambda x: x.norm(), lambda d: rand(d, (3, 4))),
    ("norm_dim", lambda x: torch.norm(x, dim=1), lambda d: rand(d, (3, 4))),
    ("norm_1", lambda x: x.norm(1), lambda d: rand(d, (3, 4))),
    ("norm_inf", lambda x: x.norm(float("inf"), dim=0), lambda d: rand(d, (3, 4))),
    ("norm_3", lambda x: x.norm(p=3, dim=1, keepdim=True), lambda d: rand(d, (3, 4))),
    ("vector_norm_neg_inf", lambda x: torch.linalg.vector_norm(x, -math.inf),
     lambda d: rand(d, (3, 4))),
    ("vector_norm_half", lambda x: torch.linalg.vector_norm(x, 0.5, dim=1),
     lambda d: rand(d, (3, 4))),
    ("vector_norm_1_5", lambda x: torch.linalg.vector_norm(x, 1.5), lambda d: rand(d, (3, 4))),
    ("vector_norm_neg_1", lambda x: torch.linalg.vector_norm(x, -1, dim=(0, 1)),
     lambda d: rand(d, (3, 4))),
    ("vector_norm_0", lambda x: torch.linalg.vector_norm(x, 0), lambda d: rand(d, (3, 4))),
    ("cumsum", lambda x: x.cumsum(1), lambda d: rand(d, (3, 4))),
    ("cumsum_dim0_dtype", lambda x: torch.cumsum(x, 0, dtype=torch.float64),
     lambda d: rand(d, (3, 4))),
    ("cumprod", lambda x: x.cumprod(1), lambda d: rand(d, (3, 4))),
    ("cumprod_dim0", lambda x: torch.cumprod(x, 0), lambda d: rand(d, (4, 2))),
    ("cummax", lambda x: x.cummax(1).values, lambda d: rand(d, (3, 4))),
    ("cummin", lambda x: torch.cummin(x, 0)[0], lambda d: rand(d, (3, 4))),
    ("logcumsumexp", lambda x: x.logcumsumexp(1), lambda d: rand(d, (3, 4))),
    ("logcumsumexp_dim0", lambda x: torch.logcumsumexp(x, 0), lambda d: rand(d, (4, 3))),
    ("sort", lambda x: x.sort(1).values, lambda d: rand(d, (3, 4))),
    ("sort_descending", lambda x: torch.sort(x, 0, descending=True)[0], lambda d: rand(d, (3, 4))),
    ("msort", lambda x: torch.msort(x), lambda d: rand(d, (3, 4))),
    ("topk", lambda x: x.topk(2).values, lambda d: rand(d, (3, 4))),
    ("topk_smallest_dim0", lambda x: torch.topk(x, 2, 0, largest=False)[0],
     lambda d: rand(d, (3, 4))),
]


@pytest.mark.parametrize("name,fn,make", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_and_gradgradcheck(name, fn, make, device):
    x = make(device)
    assert x.device.type == device
    check(fn, x)


def _noncontig_transposed(device):
    return rand(device, (4, 3)).detach().t().requires_grad_()


def _noncontig_sliced(device):
    return rand(device, (3, 8)).detach()[:, ::2].requires_grad_()


NONCONTIG = [
    ("sum", lambda x: x.sum(0)),
    ("prod", lambda x: x.prod(1)),
    ("var", lambda x: x.var(0)),
    ("norm", lambda x: x.norm(dim=1)),
    ("amax", lambda x: x.amax(0)),
    ("max_dim", lambda x: x.max(1)[0]),
    ("median_dim", lambda x: x.median(0)[0]),
    ("sort", lambda x: x.sort(0)[0]),
    ("topk", lambda x: x.topk(2, 1)[0]),
    ("cumsum", lambda x: x.cumsum(0)),
    ("cumprod", lambda x: x.cumprod(1)),
    ("cummax", lambda x: x.cummax(0)[0]),
    ("logcumsumexp", lambda x: x.logcumsumexp(1)),
    ("logsumexp", lambda x: x.logsumexp(0)),
]


@pytest.mark.parametrize("make", [_noncontig_transposed, _noncontig_sliced],
                         ids=["transposed", "sliced"])
@pytest.mark.parametrize("name,fn", NONCONTIG, ids=[c[0] for c in NONCONTIG])
def test_non_contiguous_inputs(name, fn, make, device):
    x = make(device)
    assert not x.is_contiguous()
    check(fn, x, second=False)


@pytest.mark.parametrize("name,fn", NONCONTIG, ids=[c[0] for c in NONCONTIG])
def test_expanded_inputs(name, fn, device):
    # A broadcast (stride 0) operand: the gradient sums over the repeated rows.
    x = rand(device, (1, 4))
    check(lambda t: fn(t.expand(3, 4)), x, second=False)


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), seed=st.integers(0, 10_000),
       keepdim=st.booleans(), data=st.data())
def test_hypothesis_reductions_over_dims(shape, seed, keepdim, data, device):
    x = rand(device, tuple(shape), seed)
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    dims = tuple(dims)
    assert gradcheck(lambda t: t.sum(dims, keepdim=keepdim), (x,))
    assert gradcheck(lambda t: t.mean(dims, keepdim=keepdim), (x,))
    assert gradcheck(lambda t: t.logsumexp(dims, keepdim=keepdim), (x,))
    assert gradcheck(lambda t: t.amax(dims, keepdim=keepdim), (x,))
    assert gradcheck(lambda t: t.norm(dim=dims, keepdim=keepdim), (x,))
    if int(np.prod([shape[d] for d in dims])) > 1:
        assert gradcheck(lambda t: t.var(dims, keepdim=keepdim), (x,))
    d = dims[0]
    assert gradcheck(lambda t: t.prod(d, keepdim=keepdim), (x,))
    assert gradcheck(lambda t: t.cumsum(d), (x,))
    assert gradcheck(lambda t: t.cumprod(d), (x,))
    assert gradcheck(lambda t: t.sort(d)[0], (x,))
    assert gradcheck(lambda t: t.max(d, keepdim=keepdim)[0], (x,))
    assert gradcheck(lambda t: t.median(d, keepdim=keepdim)[0], (x,))


# --- zeros, ties, NaN: torch's values by hand ------------------------------------------------

def test_prod_with_zeros_is_smooth(device):
    # prod is a polynomial: gradcheck and gradgradcheck hold at zeros too.
    for values in ([[2.0, 0.0, 3.0], [0.5, 1.5, -2.0]], [[0.0, 0.0, 3.0], [1.0, 0.0, 2.0]]):
        check(lambda t: t.prod(1), leaf(device, values))
        check(lambda t: t.prod(), leaf(device, values))
    x = leaf(device, [2.0, 0.0, 3.0, 4.0])
    assert np.array_equal(grad_of(x.prod(), x), [0.0, 24.0, 0.0, 0.0])
    x = leaf(device, [2.0, 0.0, 3.0, 0.0])
    assert np.array_equal(grad_of(x.prod(), x), [0.0, 0.0, 0.0, 0.0])


def test_cumprod_with_zeros_is_smooth(device):
    for values in ([[2.0, 0.0, 3.0, 0.0, 5.0]], [[1.0, 2.0], [0.0, 3.0], [4.0, 0.0]]):
        check(lambda t: t.cumprod(-1), leaf(device, values))
        check(lambda t: t.cumprod(0), leaf(device, values))
    x = leaf(device, [2.0, 0.0, 3.0, 0.0, 5.0])
    assert np.array_equal(grad_of(x.cumprod(0), x), [1.0, 8.0, 0.0, 0.0, 0.0])


def test_max_min_ties_split_evenly(device):
    x = leaf(device, [1.0, 3.0, 3.0, 2.0])
    assert np.array_equal(grad_of(x.max(), x), [0, 0.5, 0.5, 0])
    assert np.array_equal(grad_of(x.amax(), x), [0, 0.5, 0.5, 0])
    y = leaf(device, [[4.0, 1.0, 1.0], [5.0, 2.0, 1.0]])
    assert np.array_equal(grad_of(y.amin(1), y), [[0, 0.5, 0.5], [0, 0, 1]])
    assert np.array_equal(grad_of(y.min(), y), [[0, 1 / 3, 1 / 3], [0, 0, 1 / 3]])
    # With a dim the whole gradient goes to the index returned.
    v, i = x.max(0)
    assert i.item() == 1
    assert np.array_equal(grad_of(v, x), [0, 1, 0, 0])
    # NaN is the maximum and takes the gradient.
    z = leaf(device, [1.0, float("nan"), 2.0])
    assert np.array_equal(grad_of(z.max(), z), [0, 1, 0])


def test_median_and_sort_ties(device):
    x = leaf(device, [3.0, 1.0, 2.0, 2.0])
    assert np.array_equal(grad_of(x.median(), x), [0, 0, 0.5, 0.5])
    v, i = x.median(0)
    g = grad_of(v, x)
    assert g[i.item()] == 1 and g.sum() == 1
    w = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, device=device)
    s = leaf(device, [3.0, 1.0, 4.0, 1.5])
    vals, idx = s.sort(descending=True)
    assert idx.tolist() == [2, 0, 3, 1]
    assert np.array_equal(grad_of(vals * w, s), [2, 4, 1, 3])
    vals, idx = s.topk(2, largest=False)
    w = torch.tensor([5.0, 7.0], dtype=torch.float64, device=device)
    assert np.array_equal(grad_of(vals * w, s), [0, 5, 0, 7])


def test_cummax_repeated_index_accumulates(device):
    x = leaf(device, [1.0, 3.0, 2.0, 0.5, 4.0])
    v, i = x.cummax(0)
    assert i.tolist() == [0, 1, 1, 1, 4]
    assert np.array_equal(grad_of(v, x), [1, 3, 0, 0, 1])
    v, i = x.cummin(0)
    assert i.tolist() == [0, 0, 0, 3, 3]
    assert np.array_equal(grad_of(v, x), [3, 0, 0, 2, 0])


def test_nan_inputs_get_zero_gradient_in_nan_reductions(device):
    x = leaf(device, [[1.0, float("nan")], [3.0, 4.0]])
    assert np.array_equal(grad_of(x.nansum(), x), [[1, 0], [1, 1]])
    assert np.array_equal(grad_of(x.nanmean(1), x), [[1, 0], [0.5, 0.5]])
    assert x.nanmean(1).grad_fn.name() == "DivBackward0"
    v = x.nanmedian(1).values
    assert np.array_equal(grad_of(v, x), [[1, 0], [1, 0]])


def test_std_and_norm_at_zero(device):
    x = leaf(device, [2.0, 2.0, 2.0])
    assert np.array_equal(grad_of(x.std(), x), [0, 0, 0])
    z = leaf(device, [[0.0, 0.0], [3.0, 4.0]])
    assert np.allclose(grad_of(z.norm(dim=1), z), [[0, 0], [0.6, 0.8]])
    assert np.array_equal(grad_of(z.norm(1), z), [[0, 0], [1, 1]])
    y = leaf(device, [-3.0, 1.0, 3.0])
    assert np.array_equal(grad_of(y.norm(float("inf")), y), [-0.5, 0, 0.5])
    assert np.array_equal(grad_of(torch.linalg.vector_norm(y, 0), y), [0, 0, 0])
    # One element, correction 1: 2 / (n - 1) is infinite, NaN at the mean.
    one = leaf(device, [5.0])
    assert math.isnan(grad_of(one.var(), one)[0])


def test_logcumsumexp_values_and_large_inputs(device):
    x = leaf(device, [1.0, 2.0, 3.0])
    y = x.logcumsumexp(0)
    expect = np.log(np.cumsum(np.exp([1.0, 2.0, 3.0])))
    assert np.allclose(to_np(y), expect)
    # d/dx_k sum_j y_j = sum_{j >= k} softmax(x[:j+1])_k
    e = np.exp([1.0, 2.0, 3.0])
    g = [sum(e[k] / e[: j + 1].sum() for j in range(k, 3)) for k in range(3)]
    assert np.allclose(grad_of(y, x), g)
    big = leaf(device, [1000.0, 1001.0, 999.0])
    gb = grad_of(big.logcumsumexp(0), big)
    assert np.all(np.isfinite(gb))
    # logcumsumexp(x + c) = logcumsumexp(x) + c: the same gradient as at x - 1000.
    small = leaf(device, [0.0, 1.0, -1.0])
    assert np.allclose(gb, grad_of(small.logcumsumexp(0), small))
    check(lambda t: t.logcumsumexp(0), leaf(device, [0.0, 1.0, -1.0, -30.0]))


def test_var_mean_two_outputs(device):
    x = rand(device, (3, 4))
    v, m = torch.var_mean(x, 1)
    assert v.grad_fn is m.grad_fn and v.grad_fn.name() == "VarMeanBackward0"
    # Only the mean used: the mean's gradient alone.
    assert np.allclose(grad_of(m, x), np.full((3, 4), 0.25))
    s, m2 = x.std_mean()
    assert s.grad_fn.name() == "StdMeanBackward0"


# --- node names, integer outputs, out=, in-place ---------------------------------------------

NAMES = [
    (lambda x: x.sum(), "SumBackward0"),
    (lambda x: x.sum(0), "SumBackward1"),
    (lambda x: x.nansum(), "NansumBackward0"),
    (lambda x: x.mean(), "MeanBackward0"),
    (lambda x: x.mean(1), "MeanBackward1"),
    (lambda x: x.prod(), "ProdBackward0"),
    (lambda x: x.prod(1), "ProdBackward1"),
    (lambda x: x.amax(), "AmaxBackward0"),
    (lambda x: x.amin(0), "AminBackward0"),
    (lambda x: x.max(), "MaxBackward1"),
    (lambda x: x.max(0)[0], "MaxBackward0"),
    (lambda x: x.min(), "MinBackward1"),
    (lambda x: x.min(1)[0], "MinBackward0"),
    (lambda x: torch.aminmax(x)[0], "AminmaxBackward0"),
    (lambda x: x.median(), "MedianBackward0"),
    (lambda x: x.median(0)[0], "MedianBackward1"),
    (lambda x: x.nanmedian(), "NanmedianBackward0"),
    (lambda x: x.nanmedian(0)[0], "NanmedianBackward1"),
    (lambda x: x.mode(0)[0], "ModeBackward0"),
    (lambda x: x.kthvalue(1)[0], "KthvalueBackward0"),
    (lambda x: x.var(), "VarBackward0"),
    (lambda x: x.std(1), "StdBackward0"),
    (lambda x: x.var_mean()[0], "VarMeanBackward0"),
    (lambda x: x.std_mean()[1], "StdMeanBackward0"),
    (lambda x: x.norm(), "LinalgVectorNormBackward0"),
    (lambda x: torch.linalg.vector_norm(x, 1), "LinalgVectorNormBackward0"),
    (lambda x: x.logsumexp(0), "LogsumexpBackward0"),
    (lambda x: x.cumsum(0), "CumsumBackward0"),
    (lambda x: x.cumprod(0), "CumprodBackward0"),
    (lambda x: x.cummax(0)[0], "CummaxBackward0"),
    (lambda x: x.cummin(0)[0], "CumminBackward0"),
    (lambda x: x.logcumsumexp(0), "LogcumsumexpBackward0"),
    (lambda x: x.sort()[0], "SortBackward0"),
    (lambda x: x.sort(stable=True)[0], "SortBackward1"),
    (lambda x: x.msort(), "SortBackward0"),
    (lambda x: x.topk(1)[0], "TopkBackward0"),
    (lambda x: torch.max(x, x * 2), "MaximumBackward0"),
    (lambda x: torch.min(x, x * 2), "MinimumBackward0"),
]


@pytest.mark.parametrize("fn,name", NAMES, ids=[n for _, n in NAMES])
def test_grad_fn_names(fn, name, device):
    x = rand(device, (3, 4))
    assert fn(x).grad_fn.name() == name


def test_integer_outputs_have_no_history(device):
    x = rand(device, (3, 4))
    for t in (x.max(0)[1], x.min(1).indices, x.sort()[1], x.argsort(), x.topk(2)[1],
              x.argmax(), x.argmin(1), x.kthvalue(1)[1], x.median(0)[1], x.mode(0)[1],
              x.cummax(1)[1], (x > 0).all(), (x > 0).any(1), x.count_nonzero(),
              torch.unique(x, return_inverse=True)[1]):
        assert t.grad_fn is None and not t.requires_grad


OUT_OPS = [
    ("sum", lambda x, o: torch.sum(x, 0, out=o), (4,)),
    ("mean", lambda x, o: torch.mean(x, 0, out=o), (4,)),
    ("prod", lambda x, o: torch.prod(x, 0, out=o), (4,)),
    ("amax", lambda x, o: torch.amax(x, 0, out=o), (4,)),
    ("var", lambda x, o: torch.var(x, 0, out=o), (4,)),
    ("logsumexp", lambda x, o: torch.logsumexp(x, 0, out=o), (4,)),
    ("cumsum", lambda x, o: torch.cumsum(x, 0, out=o), (3, 4)),
    ("logcumsumexp", lambda x, o: torch.logcumsumexp(x, 0, out=o), (3, 4)),
    ("max", lambda x, o: torch.max(x, out=o), ()),
    ("norm", lambda x, o: torch.norm(x, out=o), ()),
    ("linalg.vector_norm", lambda x, o: torch.linalg.vector_norm(x, out=o), ()),
]


@pytest.mark.parametrize("name,call,shape", OUT_OPS, ids=[c[0] for c in OUT_OPS])
def test_out_with_requires_grad_raises(name, call, shape, device):
    x = rand(device, (3, 4))
    out = torch.empty(shape, dtype=torch.float64, device=device)
    with pytest.raises(RuntimeError, match=r"functions with out=\.\.\. arguments don't support "
                                           r"automatic differentiation"):
        call(x, out)
    # Without a graph to build, out= works.
    with torch.no_grad():
        call(x, out)
    call(x.detach(), out)
    assert out.grad_fn is None


def test_out_tuple_with_requires_grad_raises(device):
    x = rand(device, (3, 4))
    outs = (torch.empty(3, dtype=torch.float64, device=device),
            torch.empty(3, dtype=torch.int64, device=device))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        torch.max(x, 1, out=outs)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        torch.sort(x, 1, out=(torch.empty(3, 4, dtype=torch.float64, device=device),
                              torch.empty(3, 4, dtype=torch.int64, device=device)))
    v, i = torch.max(x.detach(), 1, out=outs)
    assert v is outs[0] and np.array_equal(to_np(i), to_np(x).argmax(1))


def test_inplace_cumsum_and_cumprod(device):
    x = leaf(device, [1.0, 2.0, 3.0])
    h = x * 1
    assert h.cumsum_(0) is h
    assert h.tolist() == [1.0, 3.0, 6.0]
    assert h.grad_fn.name() == "CumsumBackward0"
    assert np.array_equal(grad_of(h, x), [3, 2, 1])
    h = x * 1
    h.cumprod_(0)
    assert h.tolist() == [1.0, 2.0, 6.0]
    assert h.grad_fn.name() == "CumprodBackward0"
    assert np.array_equal(grad_of(h, x), [1 + 2 + 6, 1 + 3, 2])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.cumsum_(0)
    plain = torch.tensor([1, 2, 3], device=device)
    plain.cumsum_(0)
    assert plain.tolist() == [1, 3, 6]


def test_inplace_on_a_view_rebases_the_base(device):
    x = leaf(device, [[1.0, 2.0], [3.0, 4.0]])
    h = x * 1
    h[1].cumsum_(0)
    assert h.tolist() == [[1.0, 2.0], [3.0, 7.0]]
    assert h.grad_fn.name() == "CopySlices"
    assert np.array_equal(grad_of(h, x), [[1, 1], [2, 1]])


def test_unique_refuses_backward(device):
    x = leaf(device, [1.0, 2.0, 1.0])
    u = torch.unique(x)
    assert u.grad_fn.name() == "Unique2Backward0"
    with pytest.raises(RuntimeError, match="the derivative for '_unique2' is not implemented"):
        u.sum().backward()
    u = torch.unique_consecutive(x)
    with pytest.raises(RuntimeError, match="'unique_consecutive' is not implemented"):
        u.sum().backward()


def test_float32_and_dtype_arguments(device):
    x = torch.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = x.sum(dtype=torch.float64)
    assert y.dtype == torch.float64
    y.backward()
    assert x.grad.dtype == torch.float32 and x.grad.tolist() == [1.0, 1.0, 1.0]
    x.grad = None
    torch.prod(x, 0, dtype=torch.float64).backward()
    assert x.grad.dtype == torch.float32 and x.grad.tolist() == [6.0, 3.0, 2.0]
    x.grad = None
    torch.linalg.vector_norm(x, dtype=torch.float64).backward()
    assert np.allclose(to_np(x.grad), np.array([1, 2, 3]) / math.sqrt(14))
    x.grad = None
    x.cumprod(0, dtype=torch.float64).sum().backward()
    assert x.grad.tolist() == [1 + 2 + 6, 1 + 3, 2]


def test_create_graph_through_prod_at_a_zero(device):
    # d2/dx0 dx1 of prod(x) at x1 = 0 is x2 * x3, even though x1 is zero.
    x = leaf(device, [2.0, 0.0, 3.0, 4.0])
    (g,) = torch.autograd.grad(x.prod(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g[0], x)
    assert np.array_equal(to_np(gg), [0, 12, 0, 0])
