"""Autograd of views and shape ops: gradcheck on contiguous and strided inputs, gradgradcheck,
grad_fn names, in-place writes through views (the base's history is rebased), out= refusal,
in-place view ops, and hand-computed gradients of the copies."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from ferrotorch.autograd import gradcheck
from helpers import to_np


def gradgradcheck(fn, xs):
    """gradcheck of the map (inputs, grad_outputs) -> input gradients built with
    create_graph=True. (Written here with grad mode forced on inside: the library's
    gradgradcheck evaluates its finite differences under no_grad, where the first-order
    gradients cannot be built.)"""
    rng = np.random.default_rng(0)
    outs = _as_tuple(fn(*xs))
    gos = [torch.tensor(rng.standard_normal(tuple(o.shape)), dtype=torch.float64,
                        device=o.device, requires_grad=True) for o in outs]
    n = len(xs)

    def first(*args):
        with torch.enable_grad():
            grads = torch.autograd.grad(_as_tuple(fn(*args[:n])), list(args[:n]),
                                        list(args[n:]), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first, list(xs) + gos)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def backward_sum(y):
    """`y.sum().backward()` through ops of this family and the binary ones only."""
    y.backward(torch.ones_like(y))


def leaf(device, shape, seed=0, layout="contiguous"):
    """A float64 leaf that requires grad: contiguous, transposed (Fortran order) or sliced."""
    rng = np.random.default_rng(seed)
    if layout == "contiguous":
        t = torch.tensor(rng.standard_normal(shape), dtype=torch.float64, device=device)
    elif layout == "transposed":
        # Fortran order: a row-major copy of the transpose, permuted back.
        a = rng.standard_normal(shape)
        t = torch.tensor(np.ascontiguousarray(a.T), dtype=torch.float64, device=device)
        t = t.permute(*reversed(range(a.ndim))).detach()
    elif layout == "sliced":
        big = rng.standard_normal(tuple(shape[:-1]) + (2 * shape[-1],))
        t = torch.tensor(big, dtype=torch.float64, device=device)[..., ::2].detach()
    else:
        raise ValueError(layout)
    assert t.is_contiguous() == (layout == "contiguous") or len(shape) < 2 or min(shape) <= 1
    return t.requires_grad_()


LAYOUTS = ["contiguous", "transposed", "sliced"]


def check(device, fn, *shapes, layout="contiguous", twice=False):
    xs = [leaf(device, s, seed=i, layout=layout) for i, s in enumerate(shapes)]
    assert gradcheck(fn, xs)
    if twice:
        assert gradgradcheck(fn, xs)


def outputs_of(fn):
    """Wraps a multi-output op so that gradcheck sees a tuple of tensors."""
    return lambda *xs: tuple(fn(*xs))


# (name, fn, input shape, grad_fn name of the output)
VIEWS = [
    ("view", lambda x: x.reshape(-1).view(4, 6), (4, 6), "ViewBackward0"),
    ("view_as", lambda x: x.contiguous().view_as(torch.zeros(6, 4, device=x.device)), (4, 6),
     "ViewBackward0"),
    ("reshape", lambda x: x.reshape(2, 12), (4, 6), None),
    ("reshape_as", lambda x: x.reshape_as(torch.zeros(24, device=x.device)), (4, 6), None),
    ("permute", lambda x: x.permute(2, 0, 1), (2, 3, 4), "PermuteBackward0"),
    ("transpose", lambda x: x.transpose(0, 2), (2, 3, 4), "TransposeBackward0"),
    ("swapaxes", lambda x: x.swapaxes(-1, 0), (2, 3, 4), "TransposeBackward0"),
    ("swapdims", lambda x: torch.swapdims(x, 1, 0), (2, 3, 4), "TransposeBackward0"),
    ("t", lambda x: x.t(), (3, 4), "TBackward0"),
    ("T", lambda x: x.T, (3, 4), "PermuteBackward0"),
    ("mT", lambda x: x.mT, (2, 3, 4), "TransposeBackward0"),
    ("mH", lambda x: x.mH, (2, 3, 4), "TransposeBackward0"),
    ("H", lambda x: x.H, (3, 4), "TransposeBackward0"),
    ("expand", lambda x: x.narrow(1, 0, 1).expand(2, 4, 3), (4, 3), "ExpandBackward0"),
    ("expand_as", lambda x: x.expand_as(torch.zeros(2, 4, 3, device=x.device)), (4, 3),
     "ExpandBackward0"),
    ("broadcast_to", lambda x: torch.broadcast_to(x, (3, 4, 3)), (4, 3), "ExpandBackward0"),
    ("squeeze", lambda x: x.unsqueeze(0).squeeze(), (3, 4), "SqueezeBackward0"),
    ("squeeze dim", lambda x: x.unsqueeze(1).squeeze(1), (3, 4), "SqueezeBackward1"),
    ("squeeze dims", lambda x: x.unsqueeze(1).squeeze((1, 0)), (3, 4), "SqueezeBackward2"),
    ("unsqueeze", lambda x: x.unsqueeze(-1), (3, 4), "UnsqueezeBackward0"),
    ("flatten", lambda x: x.flatten(), (2, 3, 4), None),
    ("unflatten", lambda x: x.unflatten(1, (2, 2)), (3, 4), "ViewBackward0"),
    ("narrow", lambda x: x.narrow(1, 1, 2), (3, 4), "SliceBackward0"),
    ("select", lambda x: x.select(0, -1), (3, 4), "SelectBackward0"),
    ("unfold", lambda x: x.unfold(1, 2, 1), (3, 5), "UnfoldBackward0"),
    ("unfold gaps", lambda x: x.unfold(0, 2, 3), (7, 2), "UnfoldBackward0"),
    ("movedim", lambda x: x.movedim(0, -1), (2, 3, 4), "PermuteBackward0"),
    ("moveaxis", lambda x: torch.moveaxis(x, (0, 1), (1, 2)), (2, 3, 4), "PermuteBackward0"),
    ("diagonal", lambda x: x.diagonal(), (3, 4), "DiagonalBackward0"),
    ("diagonal offset", lambda x: torch.diagonal(x, -1, 2, 0), (3, 2, 4), "DiagonalBackward0"),
    ("as_strided", lambda x: x.as_strided((2, 2), (1, 2), 1), (3, 4), "AsStridedBackward0"),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name,fn,shape,grad_fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_gradcheck(name, fn, shape, grad_fn, layout, device):
    if name == "as_strided" and layout != "contiguous":
        pytest.skip("as_strided reads the storage: covered separately")
    check(device, fn, shape, layout=layout)


@pytest.mark.parametrize("name,fn,shape,grad_fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_grad_fn_and_storage(name, fn, shape, grad_fn, device):
    x = leaf(device, shape)
    y = fn(x)
    assert y.requires_grad and y.device.type == device
    if grad_fn is not None:
        assert y.grad_fn.name() == grad_fn


def test_reshape_names_follow_view_or_copy(device):
    x = leaf(device, (3, 4))
    assert x.reshape(12).grad_fn.name() == "ViewBackward0"
    assert x.t().reshape(12).grad_fn.name() == "UnsafeViewBackward0"
    assert x.t().flatten().grad_fn.name() == "UnsafeViewBackward0"
    assert x.flatten(1, 1).grad_fn is None  # one dim: the tensor itself, as torch
    assert x.T.T.grad_fn.name() == "PermuteBackward0"
    z = torch.tensor(2.0, device=device, requires_grad=True)
    assert z.T.grad_fn.name() == "AliasBackward0"
    assert z.H is z


@pytest.mark.parametrize("layout", LAYOUTS)
def test_as_strided_of_strided_inputs(layout, device):
    # as_strided addresses the storage: its gradient reaches the input's elements that live
    # at the addressed places, whatever the input's own strides.
    def fn(x):
        return x.as_strided((2, 3), (2, 1), x.storage_offset() + 1)
    check(device, fn, (4, 3), layout=layout)


def test_as_strided_overlapping_output_and_input(device):
    # Windows that share elements add their gradients.
    x = leaf(device, (6,))
    y = x.as_strided((4, 3), (1, 1))
    y.backward(torch.ones(4, 3, dtype=torch.float64, device=device))
    assert np.array_equal(to_np(x.grad), [1, 2, 3, 3, 2, 1])
    check(device, lambda x: x.as_strided((3, 3), (1, 1)), (6,), twice=True)
    # An expanded input: storage slots seen several times share their gradient.
    check(device, lambda x: x.expand(3, 4).as_strided((3,), (1,), 0), (3, 1))


MULTI = [
    ("split", lambda x: x.split(2, 1), (3, 5), "SplitBackward0"),
    ("split sizes", lambda x: torch.split(x, [1, 3, 1], 1), (3, 5), "SplitWithSizesBackward0"),
    ("split_with_sizes", lambda x: x.split_with_sizes([2, 1]), (3, 5), "SplitWithSizesBackward0"),
    ("chunk", lambda x: x.chunk(3, -1), (3, 5), "SplitBackward0"),
    ("unbind", lambda x: x.unbind(1), (3, 5), "UnbindBackward0"),
    ("tensor_split", lambda x: x.tensor_split(3, 1), (3, 5), "SliceBackward0"),
    ("tensor_split indices", lambda x: torch.tensor_split(x, [1, 4, 2], 1), (3, 5),
     "SliceBackward0"),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name,fn,shape,grad_fn", MULTI, ids=[m[0] for m in MULTI])
def test_multi_output_views(name, fn, shape, grad_fn, layout, device):
    check(device, outputs_of(fn), shape, layout=layout)
    x = leaf(device, shape)
    parts = fn(x)
    assert parts[0].grad_fn.name() == grad_fn
    # Only the last piece used: the others get zero gradient.
    backward_sum(parts[-1] * 2)
    expect = np.zeros(shape)
    mask = np.zeros(shape)
    # Which elements the last piece holds: the op applied to element numbers on the CPU.
    last = fn(torch.from_numpy(np.arange(np.prod(shape), dtype=np.float64).reshape(shape)))[-1]
    mask.flat[last.numpy().astype(np.int64).ravel()] = 1
    expect[mask == 1] = 2
    assert np.array_equal(to_np(x.grad), expect)


def test_multi_output_views_share_one_node(device):
    x = leaf(device, (4, 2))
    a, b = x.split(2)
    assert a.output_nr == 0 and b.output_nr == 1
    p, q = x.tensor_split(2)
    assert p.output_nr == 0 and q.output_nr == 0  # torch slices each piece on its own


COPIES = [
    ("cat", lambda x, y: torch.cat([x, y.t()], 0), [(2, 3), (3, 4)], "CatBackward0"),
    ("concat", lambda x, y: torch.concat([x.t(), y], 1), [(2, 3), (3, 4)], "CatBackward0"),
    ("concatenate", lambda x, y: torch.concatenate((x, y.narrow(0, 0, 2)), axis=1), [(2, 3), (3, 4)],
     "CatBackward0"),
    ("stack", lambda x, y: torch.stack([x, y.narrow(1, 0, 2)], 1), [(3, 2), (3, 4)], "StackBackward0"),
    ("hstack", lambda x, y: torch.hstack([x.t(), y]), [(2, 3), (3, 4)], "CatBackward0"),
    ("vstack", lambda x, y: torch.vstack([x.select(0, 0), y.narrow(1, 0, 3)]), [(2, 3), (3, 4)], "CatBackward0"),
    ("dstack", lambda x, y: torch.dstack([x, y.narrow(0, 0, 2).narrow(1, 0, 3)]), [(2, 3), (3, 4)], "CatBackward0"),
    ("column_stack", lambda x, y: torch.column_stack([x.select(0, 1), y]), [(2, 3), (3, 4)],
     "CatBackward0"),
    ("flip", lambda x: x.flip(0, 1), [(3, 4)], "FlipBackward0"),
    ("fliplr", lambda x: torch.fliplr(x), [(3, 4)], "FlipBackward0"),
    ("flipud", lambda x: x.flipud(), [(3, 4)], "FlipBackward0"),
    ("roll", lambda x: x.roll((1, -2), (0, 1)), [(3, 4)], "RollBackward0"),
    ("roll flat", lambda x: torch.roll(x, 5), [(3, 4)], "RollBackward0"),
    ("repeat", lambda x: x.repeat(2, 1, 2), [(3, 2)], "RepeatBackward0"),
    ("tile", lambda x: torch.tile(x, (2,)), [(3, 2)], "RepeatBackward0"),
    ("repeat_interleave", lambda x: x.repeat_interleave(2, dim=0), [(3, 2)], "ViewBackward0"),
    ("repeat_interleave flat", lambda x: torch.repeat_interleave(x, 3), [(3, 2)],
     "ViewBackward0"),
    ("repeat_interleave tensor",
     lambda x: x.repeat_interleave(torch.tensor([2, 0, 1], device=x.device), dim=0), [(3, 2)],
     "IndexSelectBackward0"),
    ("repeat_interleave tensor flat",
     lambda x: x.repeat_interleave(torch.tensor([1, 2, 0, 3, 1, 1], device=x.device)), [(3, 2)],
     "IndexSelectBackward0"),
    ("tril", lambda x: x.tril(), [(3, 4)], "TrilBackward0"),
    ("triu", lambda x: torch.triu(x, -1), [(3, 4)], "TriuBackward0"),
    ("rot90", lambda x: x.rot90(), [(3, 4)], "TransposeBackward1"),
    ("rot90 k=2", lambda x: torch.rot90(x, 2, (1, 0)), [(3, 4)], "FlipBackward0"),
    ("rot90 k=3", lambda x: torch.rot90(x, -1, [0, 2]), [(2, 3, 2)], "TransposeBackward1"),
    ("rot90 k=0", lambda x: torch.rot90(x, 4), [(3, 4)], "CloneBackward0"),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name,fn,shapes,grad_fn", COPIES, ids=[c[0] for c in COPIES])
def test_copies_gradcheck(name, fn, shapes, grad_fn, layout, device):
    check(device, fn, *shapes, layout=layout)
    xs = [leaf(device, s, seed=i) for i, s in enumerate(shapes)]
    assert fn(*xs).grad_fn.name() == grad_fn


def test_copies_forward_values_unchanged(device):
    a = np.arange(12.0).reshape(3, 4)
    x = torch.tensor(a, dtype=torch.float64, device=device, requires_grad=True)
    assert x.rot90().device.type == device
    assert np.array_equal(to_np(x.rot90()), np.rot90(a))
    assert np.array_equal(to_np(torch.rot90(x, -1, (0, 1))), np.rot90(a, -1))
    assert np.array_equal(to_np(torch.rot90(x, 2)), np.rot90(a, 2))
    assert np.array_equal(to_np(x.repeat_interleave(2, 1)), np.repeat(a, 2, 1))
    r = torch.tensor([1, 0, 2], device=device)
    assert np.array_equal(to_np(x.repeat_interleave(r, 0)), np.repeat(a, [1, 0, 2], 0))
    assert np.array_equal(to_np(torch.cat([x, x], 1)), np.concatenate([a, a], 1))
    with pytest.raises(RuntimeError, match="expected total rotation dims == 2"):
        x.rot90(1, (0,))
    with pytest.raises(RuntimeError, match="expected rotation dims to be different"):
        x.rot90(1, (0, -2))
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        x.repeat_interleave(-1)
    with pytest.raises(RuntimeError, match="output_size"):
        x.repeat_interleave(2, 0, output_size=5)


def test_repeat_interleave_output_size_and_integer_results(device):
    x = leaf(device, (3,))
    y = x.repeat_interleave(torch.tensor([1, 2, 3], device=device), output_size=6)
    y.backward(torch.arange(6.0, dtype=torch.float64, device=device))
    assert np.array_equal(to_np(x.grad), [0, 1 + 2, 3 + 4 + 5])
    idx = torch.repeat_interleave(torch.tensor([2, 1], device=device))
    assert idx.grad_fn is None and idx.tolist() == [0, 0, 1]


TWICE = [
    ("permute", lambda x: x.permute(1, 0, 2), [(2, 3, 2)]),
    ("expand", lambda x: x.expand(3, 2, 2), [(2, 1)]),
    ("select of t", lambda x: x.t().select(0, 1), [(3, 4)]),
    ("diagonal", lambda x: x.diagonal(1), [(3, 4)]),
    ("unfold overlap", lambda x: x.unfold(0, 3, 1), [(5,)]),
    ("as_strided", lambda x: x.as_strided((2, 2), (2, 1), 1), [(3, 3)]),
    ("cat", lambda x, y: torch.cat([x, y], 1), [(2, 2), (2, 3)]),
    ("stack", lambda x, y: torch.stack([x, y], -1), [(2, 2), (2, 2)]),
    ("repeat", lambda x: x.repeat(2, 3), [(2, 2)]),
    ("repeat_interleave tensor",
     lambda x: x.repeat_interleave(torch.tensor([2, 1], device=x.device), 0),
     [(2, 2)]),
    ("roll", lambda x: x.roll(1, 1), [(2, 3)]),
    ("tril", lambda x: x.tril(1), [(3, 3)]),
    ("flip", lambda x: x.flip(-1), [(2, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", TWICE, ids=[t[0] for t in TWICE])
def test_gradgradcheck(name, fn, shapes, device):
    layout = "transposed" if len(shapes[0]) == 2 else "contiguous"
    check(device, fn, *shapes, layout=layout, twice=True)


def test_gradgradcheck_multi_output(device):
    check(device, outputs_of(lambda x: x.split(1, 1)), (2, 3), twice=True)
    check(device, outputs_of(lambda x: x.unbind(0)), (2, 3), twice=True)


def test_second_derivative_through_shape_ops(device):
    # f(x) = sum(c * cat([x, x.flip(0)])**3): f'' = 6 c x on both paths.
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, device=device, requires_grad=True)
    c = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=torch.float64, device=device)
    y = c * torch.cat([x, x.flip(0)]) ** 3
    (g,) = torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True)
    (h,) = torch.autograd.grad(g, x, torch.ones_like(g))
    cx = np.array([1, 2, 3]) + np.array([6, 5, 4])
    assert np.allclose(to_np(h), 6 * cx * to_np(x))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_permute_and_reshape_any_shape(device, shape, r):
    perm = list(range(len(shape)))
    r.shuffle(perm)
    check(device, lambda x: x.permute(*perm).reshape(-1), tuple(shape))
    check(device, lambda x: x.permute(*perm).unsqueeze(r.randrange(len(shape) + 1)).squeeze(),
          tuple(shape), layout="transposed")


@settings(max_examples=12, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(0, 1), st.integers(0, 2))
def test_cat_and_split_any_sizes(device, a, b, dim, k):
    shapes = [(a, b), (a, b + k)] if dim == 1 else [(a, b), (a + k, b)]
    check(device, lambda x, y: torch.cat([x, y, x], dim), *shapes)
    check(device, outputs_of(lambda x: torch.split(x, max(1, k), dim)), shapes[1])


def test_zero_dim_and_empty(device):
    z = torch.tensor(3.0, dtype=torch.float64, device=device, requires_grad=True)
    for fn, name in [(lambda t: t.reshape(1), "ViewBackward0"),
                     (lambda t: t.unsqueeze(0), "UnsqueezeBackward0"),
                     (lambda t: t.expand(4), "ExpandBackward0"),
                     (lambda t: t.flatten(), "ViewBackward0")]:
        y = fn(z)
        assert y.grad_fn.name() == name
        z.grad = None
        backward_sum(y)
        assert z.grad.item() == y.numel()
    e = leaf(device, (0, 3))
    y = torch.cat([e, leaf(device, (2, 3))], 0)
    backward_sum(y)
    assert e.grad.shape == (0, 3)
    # cat skips legacy empty (0,) inputs yet hands them an empty gradient.
    legacy = torch.zeros(0, dtype=torch.float64, device=device, requires_grad=True)
    w = leaf(device, (2, 2))
    backward_sum(torch.cat([legacy, w], 1))
    assert legacy.grad.shape == (0,)
    assert np.array_equal(to_np(w.grad), np.ones((2, 2)))


def test_integer_results_have_no_grad_fn(device):
    i = torch.tensor([[1, 2], [3, 4]], device=device)
    for y in (i.t(), i.reshape(4), torch.cat([i, i]), i.repeat(2, 1), i.flip(0), i.tril()):
        assert y.grad_fn is None and not y.requires_grad
    # A float64 leaf reinterpreted as int64: torch marks view(dtype) non-differentiable.
    x = leaf(device, (2,))
    y = x.view(torch.int64)
    assert y.grad_fn is None and not y.requires_grad


@pytest.mark.parametrize("op", ["cat", "stack", "hstack", "vstack", "dstack", "column_stack",
                                "concat"])
def test_out_refused_with_grad(op, device):
    x = leaf(device, (2, 2))
    fn = getattr(torch, op)
    out = torch.empty(0, dtype=torch.float64, device=device)
    with pytest.raises(RuntimeError, match=r"cat\(\)|stack\(\)") as e:
        fn([x, x], out=out)
    assert "don't support automatic differentiation" in str(e.value)
    with torch.no_grad():
        fn([x, x], out=out)
    assert out.numel() == 8
    fn([x.detach(), x.detach()], out=out)
    # out itself requiring grad is refused too.
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        torch.cat([x.detach()], out=torch.zeros(2, 2, dtype=torch.float64, device=device,
                                                requires_grad=True))


@pytest.mark.parametrize("op", ["tril", "triu"])
def test_tril_triu_out_and_inplace(op, device):
    x = leaf(device, (3, 3))
    with pytest.raises(RuntimeError, match=f"{op}\\(\\): functions with out="):
        getattr(torch, op)(x, out=torch.empty(3, 3, dtype=torch.float64, device=device))
    y = x * 2
    getattr(y, op + "_")(0)
    assert y.grad_fn.name() == ("TrilBackward0" if op == "tril" else "TriuBackward0")
    backward_sum(y)
    mask = np.tril(np.ones((3, 3))) if op == "tril" else np.triu(np.ones((3, 3)))
    assert np.array_equal(to_np(x.grad), 2 * mask)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(x, op + "_")()


# In-place writes through views of `y = x * 1`: the base's history becomes CopySlices and
# gradients follow. Expected values come from where the view's elements sit in `y`.
INPLACE_VIEWS = [
    ("t().select", lambda y: y.t().select(0, 0)),
    ("t().select 2", lambda y: y.t().select(0, 2)),
    ("T narrow", lambda y: y.T.narrow(0, 1, 2)),
    ("mT", lambda y: y.mT),
    ("transpose", lambda y: y.transpose(0, 1)),
    ("permute select", lambda y: y.permute(1, 0).select(1, 1)),
    ("diagonal", lambda y: y.diagonal(1)),
    ("view", lambda y: y.view(2, 6).select(0, 1)),
    ("reshape", lambda y: y.reshape(12).narrow(0, 3, 5)),
    ("flatten", lambda y: y.flatten()),
    ("unflatten", lambda y: y.unflatten(1, (2, 2)).select(2, 0)),
    ("squeeze", lambda y: y.unsqueeze(0).squeeze(0)),
    ("unsqueeze", lambda y: y.select(1, 3).unsqueeze(1)),
    ("movedim", lambda y: y.movedim(1, 0).narrow(0, 0, 2)),
    ("as_strided", lambda y: y.as_strided((2, 2), (4, 2), 1)),
    ("unfold", lambda y: y.unfold(1, 2, 2)),
]


@pytest.mark.parametrize("name,view", INPLACE_VIEWS, ids=[v[0] for v in INPLACE_VIEWS])
@pytest.mark.parametrize("op", ["mul_", "add_"])
def test_inplace_through_views(name, view, op, device):
    rng = np.random.default_rng(1)
    xa = rng.standard_normal((3, 4))
    ca = rng.standard_normal((3, 4))
    x = torch.tensor(xa, dtype=torch.float64, device=device, requires_grad=True)
    y = x * 1
    v = view(y)
    w = torch.tensor(rng.standard_normal(tuple(v.shape)), dtype=torch.float64, device=device,
                     requires_grad=True)
    getattr(v, op)(w)
    assert y.grad_fn.name() == "CopySlices"
    backward_sum(y * torch.tensor(ca, dtype=torch.float64, device=device))
    # Which element of y each element of the view is (the view of element numbers, on the CPU).
    pos = view(torch.arange(12, dtype=torch.float64).reshape(3, 4)).numpy().astype(np.int64)
    wa = to_np(w)
    gx = ca.copy().ravel()
    ya = xa.copy().ravel()
    if op == "mul_":
        gx[pos.ravel()] *= wa.ravel()
        ya[pos.ravel()] *= wa.ravel()
        gw = ca.ravel()[pos] * xa.ravel()[pos]
    else:
        ya[pos.ravel()] += wa.ravel()
        gw = ca.ravel()[pos]
    assert np.allclose(to_np(y).ravel(), ya)
    assert np.allclose(to_np(x.grad).ravel(), gx)
    assert np.allclose(to_np(w.grad), gw)


def test_inplace_through_a_view_updates_other_views(device):
    x = leaf(device, (3, 3))
    y = x * 1
    row = y.select(0, 0)
    col = y.t().select(0, 0)  # column 0
    col.mul_(3)
    # row was taken before the write: it now reads through the new history.
    assert row.grad_fn.name() == "AsStridedBackward0"
    backward_sum(row)
    assert np.array_equal(to_np(x.grad), [[3, 1, 1], [0, 0, 0], [0, 0, 0]])


def test_two_inplace_writes_through_different_views(device):
    x = leaf(device, (2, 3))
    w = leaf(device, (1,), seed=5)
    y = x * 1
    y.t().narrow(0, 1, 2).mul_(w)       # columns 1, 2 times w
    y.diagonal().add_(w)                # (0, 0) and (1, 1) plus w
    backward_sum(y)
    wv = w.item()
    xa = to_np(x)
    assert np.allclose(to_np(x.grad), [[1, wv, wv], [1, wv, wv]])
    assert np.isclose(w.grad.item(), xa[:, 1:].sum() + 2)


def test_inplace_on_multi_output_view_still_right(device):
    # torch refuses this; here the gradient stays right (see the report).
    x = leaf(device, (4,))
    y = x * 1
    a, b = y.split(2)
    b.mul_(3)
    backward_sum(y)
    assert np.array_equal(to_np(x.grad), [1, 1, 3, 3])


def test_inplace_view_ops(device):
    x = leaf(device, (2, 3))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.t_()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.unsqueeze_(0)
    cases = [
        (lambda y: y.t_(), "TBackward1", (3, 2)),
        (lambda y: y.transpose_(0, 1), "TransposeBackward1", (3, 2)),
        (lambda y: y.swapaxes_(0, 1), "TransposeBackward1", (3, 2)),
        (lambda y: y.swapdims_(1, 0), "TransposeBackward1", (3, 2)),
        (lambda y: y.unsqueeze_(1), "UnsqueezeBackward1", (2, 1, 3)),
        (lambda y: y.unsqueeze_(0).squeeze_(), "SqueezeBackward3", (2, 3)),
        (lambda y: y.unsqueeze_(0).squeeze_(0), "SqueezeBackward4", (2, 3)),
        (lambda y: y.unsqueeze_(0).squeeze_((0,)), "SqueezeBackward5", (2, 3)),
        (lambda y: y.as_strided_((3,), (2,)), "AsStridedBackward1", (3,)),
    ]
    for fn, name, shape in cases:
        x.grad = None
        y = x * 2
        r = fn(y)
        assert r is y and y.grad_fn.name() == name and tuple(y.shape) == shape
        weights = torch.arange(y.numel(), dtype=torch.float64, device=device).reshape(shape)
        backward_sum(y * weights)
        expect = 2 * torch.arange(y.numel(), dtype=torch.float64).reshape(shape)
        back = {
            (3, 2): lambda e: e.t(), (2, 1, 3): lambda e: e.squeeze(1),
            (2, 3): lambda e: e,
        }
        if shape == (3,):
            want = np.zeros(6)
            want[[0, 2, 4]] = [0, 2, 4]
            assert np.array_equal(to_np(x.grad).ravel(), want)
        else:
            assert np.array_equal(to_np(x.grad), back[shape](expect).numpy())


def test_contiguous_records_a_clone(device):
    x = leaf(device, (3, 2), layout="transposed")
    assert x.contiguous().grad_fn.name() == "CloneBackward0"
    y = leaf(device, (3, 2))
    assert y.contiguous() is y
    check(device, lambda t: t.contiguous(), (3, 2), layout="transposed")


def test_meshgrid_broadcast_tensors_atleast(device):
    check(device, lambda a, b: torch.meshgrid(a, b, indexing="ij"), (3,), (2,))
    check(device, lambda a, b: torch.meshgrid(a, b, indexing="xy"), (3,), (2,))
    check(device, lambda a, b: torch.broadcast_tensors(a, b), (3, 1), (2,))
    a, b = leaf(device, (3, 1)), leaf(device, (3, 2))
    ea, eb = torch.broadcast_tensors(a, b)
    assert ea.grad_fn.name() == "ExpandBackward0" and eb.grad_fn is None
    check(device, lambda a: torch.atleast_3d(a), (2,))
    g = torch.meshgrid(leaf(device, (3,)), leaf(device, (2,)), indexing="ij")
    assert g[0].grad_fn.name() == "ExpandBackward0"


EXPANDED = [
    ("reshape copy", lambda x: x.expand(2, 3, 2).reshape(-1)),
    ("permute", lambda x: x.expand(2, 3, 2).permute(2, 0, 1)),
    ("select", lambda x: x.expand(4, 3, 2).select(0, 1)),
    ("diagonal", lambda x: x.expand(3, 3, 2).diagonal(0, 0, 1)),
    ("unfold", lambda x: x.expand(3, 3, 2).unfold(0, 2, 1)),
    ("flip", lambda x: x.expand(2, 3, 2).flip(0, 2)),
    ("roll", lambda x: x.expand(2, 3, 2).roll(1, 0)),
    ("repeat", lambda x: x.expand(2, 3, 2).repeat(1, 2, 1)),
    ("cat", lambda x: torch.cat([x.expand(2, 3, 2), x], 0)),
    ("stack", lambda x: torch.stack([x.squeeze(0).expand(2, 3, 2), x.expand(2, 3, 2)])),
    ("tril", lambda x: x.expand(2, 3, 2).tril()),
    ("repeat_interleave", lambda x: x.expand(2, 3, 2).repeat_interleave(2, 0)),
    ("split", lambda x: x.expand(4, 3, 2).split(3)[1]),
]


@pytest.mark.parametrize("name,fn", EXPANDED, ids=[e[0] for e in EXPANDED])
def test_expanded_inputs(name, fn, device):
    # Every element of x is read several times: its gradient sums them.
    check(device, fn, (1, 3, 2), layout="transposed")
