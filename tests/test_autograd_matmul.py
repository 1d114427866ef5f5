"""Backward rules of the matrix products and einsum: gradcheck (float64) on random, broadcast
and non-contiguous inputs, gradgradcheck, grad_fn names, in-place forms, out= refusal, and a
few hand-derived values."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ferrotorch as torch
from ferrotorch.autograd import gradcheck, gradgradcheck
from helpers import to_np

F64 = torch.float64


def leaf(device, rng, shape, layout="contiguous"):
    """A float64 leaf requiring grad, laid out as asked: "contiguous", "transposed" (its last
    two dims swapped in memory), or "sliced" (every other element of a wider buffer)."""
    shape = tuple(shape)
    if layout == "transposed" and len(shape) >= 2:
        swapped = shape[:-2] + (shape[-1], shape[-2])
        base = torch.tensor(rng.standard_normal(swapped), dtype=F64, device=device)
        t = base.transpose(-2, -1)
        assert not t.is_contiguous() or min(shape[-2:]) == 1
    elif layout == "sliced" and len(shape) >= 1:
        wide = shape[:-1] + (2 * shape[-1],)
        t = torch.tensor(rng.standard_normal(wide), dtype=F64, device=device)[..., ::2]
    else:
        t = torch.tensor(rng.standard_normal(shape), dtype=F64, device=device)
    t = t.detach()
    t.requires_grad_()
    assert tuple(t.shape) == shape
    return t


def grads_of(y, *xs):
    """Gradients of sum(y * w) for a fixed random w, as NumPy arrays, and w."""
    w = torch.tensor(np.random.default_rng(5).standard_normal(tuple(y.shape)), dtype=y.dtype,
                     device=y.device)
    return [to_np(g) for g in torch.autograd.grad(y, xs, w)] + [to_np(w)]


def backward_sum(y):
    """`y.sum().backward()` (the gradient of a sum is ones)."""
    y.backward(torch.ones_like(y))


LAYOUTS = st.sampled_from(["contiguous", "transposed", "sliced"])


@st.composite
def matmul_shapes(draw):
    """Operand shapes of a valid matmul, 1-D to 4-D, with broadcast batch dims."""
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    da, db = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    nb = max(da, db) - 2
    batch = [draw(st.integers(1, 3)) for _ in range(max(nb, 0))]

    def batch_of(d):
        own = batch[len(batch) - (d - 2):] if d > 2 else []
        return [s if draw(st.booleans()) else 1 for s in own]

    sa = [k] if da == 1 else batch_of(da) + [m, k]
    sb = [k] if db == 1 else batch_of(db) + [k, n]
    return sa, sb


@settings(max_examples=60, deadline=None)
@given(matmul_shapes(), LAYOUTS, LAYOUTS, st.integers(0, 2**31))
def test_matmul_gradcheck(device, shapes, la, lb, seed):
    rng = np.random.default_rng(seed)
    a, b = leaf(device, rng, shapes[0], la), leaf(device, rng, shapes[1], lb)
    assert gradcheck(torch.matmul, (a, b))
    assert gradcheck(lambda x, y: x @ y, (a, b))


@settings(max_examples=15, deadline=None)
@given(matmul_shapes(), st.integers(0, 2**31))
def test_matmul_gradgradcheck(device, shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = leaf(device, rng, shapes[0], "transposed"), leaf(device, rng, shapes[1])
    assert gradgradcheck(torch.matmul, (a, b))


def test_matmul_broadcast_batch_values(device):
    # (2, 1, 3, 4) @ (5, 4, 2): a's gradient sums over b's batch of 5 and b's over a's 2.
    rng = np.random.default_rng(1)
    a, b = leaf(device, rng, (2, 1, 3, 4)), leaf(device, rng, (5, 4, 2))
    y = a @ b
    assert tuple(y.shape) == (2, 5, 3, 2) and y.device.type == device
    ga, gb, w = grads_of(y, a, b)
    an, bn = to_np(a), to_np(b)
    np.testing.assert_allclose(ga, (w @ np.swapaxes(bn, -1, -2)).sum(1, keepdims=True))
    np.testing.assert_allclose(gb, (np.swapaxes(an, -1, -2) @ w).sum(0))


def test_matmul_grad_fn_names(device):
    rng = np.random.default_rng(2)
    v, m, b3 = leaf(device, rng, (3,)), leaf(device, rng, (3, 3)), leaf(device, rng, (2, 3, 3))
    assert (v @ v).grad_fn.name() == "DotBackward0"
    assert (m @ v).grad_fn.name() == "MvBackward0"
    assert (m @ m).grad_fn.name() == "MmBackward0"
    assert (v @ m).grad_fn.name() == "SqueezeBackward4"
    assert (b3 @ m).grad_fn.name() == "UnsafeViewBackward0"
    assert (b3 @ b3).grad_fn.name() == "UnsafeViewBackward0"


def test_rmatmul_and_constant_operand(device):
    rng = np.random.default_rng(3)
    a = leaf(device, rng, (3, 4))
    c = torch.tensor(rng.standard_normal((2, 3)), dtype=F64, device=device)
    y = a.__rmatmul__(c)
    np.testing.assert_allclose(to_np(y), to_np(c) @ to_np(a))
    (ga, w) = grads_of(y, a)
    np.testing.assert_allclose(ga, to_np(c).T @ w)
    assert y.grad_fn.next_functions[0][0] is None


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), LAYOUTS, LAYOUTS,
       st.integers(0, 2**31))
def test_mm_bmm_gradcheck(device, m, k, n, la, lb, seed):
    rng = np.random.default_rng(seed)
    assert gradcheck(torch.mm, (leaf(device, rng, (m, k), la), leaf(device, rng, (k, n), lb)))
    assert gradcheck(torch.bmm,
                     (leaf(device, rng, (2, m, k), la), leaf(device, rng, (2, k, n), lb)))


def test_mm_bmm_gradgradcheck(device):
    rng = np.random.default_rng(4)
    assert gradgradcheck(torch.mm,
                         (leaf(device, rng, (3, 2), "transposed"), leaf(device, rng, (2, 4))))
    assert gradgradcheck(torch.bmm,
                         (leaf(device, rng, (2, 3, 2)), leaf(device, rng, (2, 2, 3), "sliced")))
    assert gradgradcheck(torch.mv, (leaf(device, rng, (3, 2)), leaf(device, rng, (2,))))
    assert gradgradcheck(torch.dot, (leaf(device, rng, (4,)), leaf(device, rng, (4,), "sliced")))


def test_mm_hand_values(device):
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64, device=device, requires_grad=True)
    b = torch.tensor([[5.0, 6.0], [7.0, 8.0]], dtype=F64, device=device, requires_grad=True)
    backward_sum(torch.mm(a, b))
    assert a.grad.device.type == device
    assert a.grad.tolist() == [[11.0, 15.0], [11.0, 15.0]]
    assert b.grad.tolist() == [[4.0, 4.0], [6.0, 6.0]]


@pytest.mark.parametrize("layout", ["contiguous", "sliced"])
def test_vector_products_gradcheck(layout, device):
    rng = np.random.default_rng(5)
    m, v = leaf(device, rng, (3, 4), layout), leaf(device, rng, (4,), layout)
    u = leaf(device, rng, (4,), layout)
    w = leaf(device, rng, (3,), layout)
    assert gradcheck(torch.mv, (m, v))
    assert gradcheck(torch.dot, (v, u))
    assert gradcheck(torch.vdot, (v, u))
    assert gradcheck(torch.outer, (w, v))
    assert gradcheck(torch.ger, (w, v))
    assert gradgradcheck(torch.outer, (w, v))


def test_vector_product_values_and_names(device):
    a = torch.tensor([1.0, 2.0, 3.0], dtype=F64, device=device, requires_grad=True)
    b = torch.tensor([4.0, 5.0, 6.0], dtype=F64, device=device, requires_grad=True)
    y = torch.dot(a, b)
    assert y.grad_fn.name() == "DotBackward0"
    y.backward()
    assert a.grad.tolist() == [4.0, 5.0, 6.0] and b.grad.tolist() == [1.0, 2.0, 3.0]
    assert torch.vdot(a, b).grad_fn.name() == "VdotBackward0"
    assert torch.mv(torch.ones(2, 3, dtype=F64, device=device), a).grad_fn.name() == "MvBackward0"
    assert torch.outer(a, b).grad_fn.name() == "MulBackward0"
    rng = np.random.default_rng(0)
    y = torch.bmm(leaf(device, rng, (1, 1, 3)), leaf(device, rng, (1, 3, 1)))
    assert y.grad_fn.name() == "BmmBackward0"


FUSED = [
    # (op, input shape, a shape, b shape, name)
    (torch.addmm, (3, 4), (3, 2), (2, 4), "AddmmBackward0"),
    (torch.addmm, (4,), (3, 2), (2, 4), "AddmmBackward0"),
    (torch.baddbmm, (2, 3, 4), (2, 3, 2), (2, 2, 4), "BaddbmmBackward0"),
    (torch.baddbmm, (3, 1), (2, 3, 2), (2, 2, 4), "BaddbmmBackward0"),
    (torch.addbmm, (3, 4), (2, 3, 2), (2, 2, 4), "AddbmmBackward0"),
    (torch.addbmm, (1,), (2, 3, 2), (2, 2, 4), "AddbmmBackward0"),
    (torch.addmv, (3,), (3, 2), (2,), "AddmvBackward0"),
    (torch.addmv, (), (3, 2), (2,), "AddmvBackward0"),
    (torch.addr, (3, 4), (3,), (4,), "AddrBackward0"),
    (torch.addr, (1, 4), (3,), (4,), "AddrBackward0"),
]


@pytest.mark.parametrize("op, si, sa, sb, name", FUSED)
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, -2.0), (0, 3)])
def test_fused_products_gradcheck(op, si, sa, sb, name, beta, alpha, device):
    rng = np.random.default_rng(6)
    x, a = leaf(device, rng, si), leaf(device, rng, sa, "transposed")
    b = leaf(device, rng, sb, "sliced")
    assert op(x, a, b, beta=beta, alpha=alpha).grad_fn.name() == name
    assert gradcheck(lambda x, a, b: op(x, a, b, beta=beta, alpha=alpha), (x, a, b))


@pytest.mark.parametrize("op, si, sa, sb, name", FUSED[::2])
def test_fused_products_gradgradcheck(op, si, sa, sb, name, device):
    rng = np.random.default_rng(7)
    args = (leaf(device, rng, si), leaf(device, rng, sa), leaf(device, rng, sb))
    assert gradgradcheck(lambda x, a, b: op(x, a, b, beta=0.5, alpha=2), args)


def test_addmm_beta_zero_ignores_nan_input_and_its_gradient_is_zero(device):
    rng = np.random.default_rng(8)
    x = torch.full((2, 2), float("nan"), dtype=F64, device=device, requires_grad=True)
    a, b = leaf(device, rng, (2, 3)), leaf(device, rng, (3, 2))
    y = torch.addmm(x, a, b, beta=0, alpha=2)
    assert not np.isnan(to_np(y)).any()
    backward_sum(y)
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    np.testing.assert_allclose(to_np(a.grad), 2 * np.ones((2, 2)) @ to_np(b).T)


@pytest.mark.parametrize("op, si, sa, sb, name", FUSED[::2])
def test_fused_inplace_forms(op, si, sa, sb, name, device):
    rng = np.random.default_rng(9)
    x0, a, b = leaf(device, rng, si), leaf(device, rng, sa), leaf(device, rng, sb)
    method = getattr(torch.Tensor, op.__name__ + "_")
    ref = grads_of(op(x0, a, b, beta=0.5, alpha=2), x0, a, b)
    x = x0 * 1.0
    assert method(x, a, b, beta=0.5, alpha=2) is x
    assert x.grad_fn.name() == name
    got = grads_of(x, x0, a, b)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        method(x0, a, b)
    # Without a graph the in-place form just writes.
    with torch.no_grad():
        y = x0.detach().clone()
        method(y, a, b)
        expect = to_np(op(x0, a, b))
    np.testing.assert_allclose(to_np(y), expect)


def test_inplace_on_constant_with_grad_operands(device):
    rng = np.random.default_rng(10)
    c = torch.zeros(3, 4, dtype=F64, device=device)
    a, b = leaf(device, rng, (3, 2)), leaf(device, rng, (2, 4))
    c.addmm_(a, b)
    assert c.requires_grad and c.grad_fn.name() == "AddmmBackward0"
    backward_sum(c)
    np.testing.assert_allclose(to_np(a.grad), np.ones((3, 4)) @ to_np(b).T)


def test_inplace_rejects_shape_change(device):
    rng = np.random.default_rng(11)
    x = leaf(device, rng, (4,)) * 1.0
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.addmm_(leaf(device, rng, (3, 2)), leaf(device, rng, (2, 4)))


@pytest.mark.parametrize("call", [
    lambda a, b, out: torch.mm(a, b, out=out),
    lambda a, b, out: torch.matmul(a, b, out=out),
    lambda a, b, out: torch.addmm(out.detach().clone(), a, b, out=out),
    lambda a, b, out: torch.tensordot(a, b, dims=1, out=out),
    lambda a, b, out: torch.linalg.multi_dot([a, b], out=out),
    lambda a, b, out: torch.chain_matmul(a, b, out=out),
])
def test_out_refuses_grad(call, device):
    rng = np.random.default_rng(12)
    a = leaf(device, rng, (2, 3))
    b = torch.tensor(rng.standard_normal((3, 2)), dtype=F64, device=device)
    out = torch.empty(2, 2, dtype=F64, device=device)
    with pytest.raises(RuntimeError, match=r"out=\.\.\. arguments don't support automatic "
                                           r"differentiation"):
        call(a, b, out)
    with torch.no_grad():
        call(a, b, out)
    np.testing.assert_allclose(to_np(out), to_np(a) @ to_np(b))
    call(a.detach(), b, out)
    assert out.grad_fn is None


def test_no_graph_for_integers():
    # CPU only: CUDA has no integer matrix products (cuBLAS; torch refuses them there too).
    a = torch.tensor([[1, 2], [3, 4]])
    assert torch.mm(a, a).grad_fn is None
    assert torch.einsum("ij,jk", a, a).grad_fn is None


def test_no_graph_without_grad(device):
    x = torch.ones(2, 2, dtype=F64, device=device, requires_grad=True)
    with torch.no_grad():
        assert (x @ x).grad_fn is None
        assert not torch.einsum("ij->", x).requires_grad


def test_saved_operand_modified_in_place_is_detected(device):
    rng = np.random.default_rng(13)
    a = leaf(device, rng, (2, 3))
    b = torch.tensor(rng.standard_normal((3, 2)), dtype=F64, device=device)
    y = torch.mm(a, b)
    b.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        backward_sum(y)
    # An operand is saved only for the other operand's gradient: with b constant, a is not
    # saved, so changing it afterwards is harmless (as in torch).
    h = leaf(device, rng, (2, 3)) * 1.0
    y = torch.mm(h, b)
    h.add_(1.0)
    backward_sum(y)
    c = torch.tensor(rng.standard_normal((2, 3)), dtype=F64, device=device)
    y = torch.mm(c, leaf(device, rng, (3, 2)))
    c.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        backward_sum(y)


def test_matmul_with_expanded_constant(device):
    rng = np.random.default_rng(14)
    a = leaf(device, rng, (4, 2, 3))
    b = torch.tensor(rng.standard_normal((3, 1)), dtype=F64, device=device).expand(3, 5)
    assert b.stride() == (1, 0)
    ga, w = grads_of(a @ b, a)
    np.testing.assert_allclose(ga, w @ to_np(b).T)


# ------------------------------------------------------------------------------- composites

@pytest.mark.parametrize("sa, sb", [((3,), (3,)), ((2, 4), (3, 4)), ((2, 1, 3), (4, 3)),
                                     ((), (2, 3)), ((2, 3), ())])
def test_inner_gradcheck(sa, sb, device):
    rng = np.random.default_rng(15)
    a, b = leaf(device, rng, sa), leaf(device, rng, sb, "sliced")
    assert gradcheck(torch.inner, (a, b))


@pytest.mark.parametrize("sa, sb, dims", [
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3), (3, 4), 1),
    ((2, 3), (4, 5), 0),
    ((2, 3, 4), (4, 5, 2), ([2, 0], [0, 2])),
    ((3, 4, 2), (2, 3), ([0, 2], [1, 0])),
    ((4, 3), (3, 4), ([1, 0], [0, 1])),
])
def test_tensordot_gradcheck(sa, sb, dims, device):
    rng = np.random.default_rng(16)
    a, b = leaf(device, rng, sa, "transposed"), leaf(device, rng, sb)
    y = torch.tensordot(a, b, dims=dims)
    assert y.grad_fn.name() == "ViewBackward0"
    assert gradcheck(lambda a, b: torch.tensordot(a, b, dims=dims), (a, b))
    assert gradgradcheck(lambda a, b: torch.tensordot(a, b, dims=dims), (a, b))


@pytest.mark.parametrize("shapes", [
    [(2, 3), (3, 4)],
    [(3,), (3, 4), (4, 2)],
    [(2, 5), (5, 1), (1, 3), (3,)],
    [(4,), (4, 3), (3,)],
    [(2, 30), (30, 3), (3, 40)],
])
def test_multi_dot_gradcheck(shapes, device):
    rng = np.random.default_rng(17)
    xs = [leaf(device, rng, s) for s in shapes]
    assert gradcheck(lambda *t: torch.linalg.multi_dot(list(t)), tuple(xs))
    y = torch.linalg.multi_dot(xs)
    ref = to_np(xs[0])
    for x in xs[1:]:
        ref = ref @ to_np(x)
    np.testing.assert_allclose(to_np(y), ref, rtol=1e-12, atol=1e-12)


def test_chain_matmul_gradcheck(device):
    rng = np.random.default_rng(18)
    xs = tuple(leaf(device, rng, s) for s in [(2, 3), (3, 4), (4, 2)])
    assert gradcheck(torch.chain_matmul, xs)
    one = leaf(device, rng, (2, 3))
    y = torch.chain_matmul(one)
    assert y.grad_fn.name() == "CloneBackward0"
    backward_sum(y)
    assert one.grad.tolist() == [[1.0] * 3] * 2


# ----------------------------------------------------------------------------------- einsum

EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->ji", [(2, 2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("ij,j->i", [(2, 3), (1,)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("i...->...", [(2, 3, 2)]),
    ("...i,i", [(2, 3), (3,)]),
    ("a...b,b...->a...", [(2, 3, 4), (4, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("iji,jk->k", [(2, 3, 2), (3, 2)]),
    ("ijk,ikj->k", [(2, 3, 3), (2, 3, 3)]),
    ("ij,kl->ijkl", [(2, 1), (1, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (2, 3, 2), (2, 2)]),
    ("Ab,bA->", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("eq, shapes", EINSUM)
def test_einsum_gradcheck(eq, shapes, device):
    rng = np.random.default_rng(19)
    xs = tuple(leaf(device, rng, s, "transposed" if i == 0 else "contiguous")
               for i, s in enumerate(shapes))
    y = torch.einsum(eq, *xs)
    np.testing.assert_allclose(to_np(y),
                               np.einsum(eq, *(to_np(x) for x in xs)),
                               rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *t: torch.einsum(eq, *t), xs)


@pytest.mark.parametrize("eq, shapes", EINSUM[::3])
def test_einsum_gradgradcheck(eq, shapes, device):
    rng = np.random.default_rng(20)
    xs = tuple(leaf(device, rng, s) for s in shapes)
    assert gradgradcheck(lambda *t: torch.einsum(eq, *t), xs)


EQUATIONS = ["ij,jk->ik", "ij,kj->ik", "ji,jk->ki", "ij,j->i", "ij,ij->", "ii,i->i",
             "ij,jk->", "ij,jk->kji", "i,j->ji", "ij,j->ij"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(EQUATIONS), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       LAYOUTS, st.integers(0, 2**31))
def test_einsum_gradcheck_random(device, eq, i, j, k, layout, seed):
    size = {"i": i, "j": j, "k": k}
    if "ii" in eq:
        size["j"] = i  # diagonals need square operands; i and j play one role there
    terms = eq.split("->")[0].split(",")
    rng = np.random.default_rng(seed)
    xs = tuple(leaf(device, rng, [size[c] for c in t], layout) for t in terms)
    assert gradcheck(lambda *t: torch.einsum(eq, *t), xs)


def test_einsum_hand_values(device):
    x = torch.arange(9.0, dtype=F64, device=device).reshape(3, 3).detach().requires_grad_()
    torch.einsum("ii", x).backward()
    assert x.grad.tolist() == [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]
    x.grad = None
    g = torch.tensor([1.0, 2.0, 3.0], dtype=F64, device=device)
    torch.einsum("ii->i", x).backward(g)
    assert x.grad.tolist() == [[1.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0]]
    x.grad = None
    # A label only the operand has (j) is summed: its gradient is broadcast back.
    torch.einsum("ij->i", x).backward(g)
    assert x.grad.tolist() == [[1.0] * 3, [2.0] * 3, [3.0] * 3]


def test_einsum_result_is_not_a_view_of_its_operand(device):
    x = torch.ones(3, 3, dtype=F64, device=device, requires_grad=True)
    y = torch.einsum("ij->ji", x)
    y.mul_(2.0)
    assert to_np(x).tolist() == [[1.0] * 3] * 3
    backward_sum(y)
    assert x.grad.tolist() == [[2.0] * 3] * 3


def test_einsum_list_and_sublist_forms_record(device):
    rng = np.random.default_rng(21)
    a, b = leaf(device, rng, (2, 3)), leaf(device, rng, (3, 4))
    for y in (torch.einsum("ij,jk", [a, b]), torch.einsum(a, [0, 1], b, [1, 2], [0, 2])):
        ga, gb, w = grads_of(y, a, b)
        np.testing.assert_allclose(ga, w @ to_np(b).T)
        np.testing.assert_allclose(gb, to_np(a).T @ w)


def test_einsum_only_some_operands_require_grad(device):
    rng = np.random.default_rng(22)
    a = leaf(device, rng, (2, 3))
    c = torch.tensor(rng.standard_normal((3, 4)), dtype=F64, device=device)
    y = torch.einsum("ij,jk->ik", a, c)
    ga, w = grads_of(y, a)
    np.testing.assert_allclose(ga, w @ to_np(c).T)
