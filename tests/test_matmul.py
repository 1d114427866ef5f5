"""Matrix products against NumPy: matmul/@, mm, bmm, mv, dot, vdot, inner, outer, the add*
family, einsum, tensordot, multi_dot/chain_matmul; shapes, dtypes, strides and errors, on every
device."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ferrotorch as torch

FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INTS = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]
NP = {
    torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16,
    torch.int64: np.int64, torch.int32: np.int32, torch.int16: np.int16, torch.int8: np.int8,
    torch.uint8: np.uint8,
}
# (rtol, atol) against a float64 reference computed from the same (rounded) inputs.
TOL = {
    torch.float64: (1e-10, 1e-10),
    torch.float32: (1e-5, 1e-4),
    torch.float16: (2e-3, 6e-2),
    torch.bfloat16: (1.6e-2, 0.5),
}
# cuBLAS adds the k products in another order than the CPU kernels do, and fuses multiply-adds.
CUDA_TOL = {**TOL, torch.float32: (2e-5, 1e-4)}


def arr(rng, shape, dtype):
    """Random values representable in `dtype` (bf16 values pre-rounded to bf16)."""
    if dtype in INTS:
        lo = 0 if dtype == torch.uint8 else -20
        return rng.integers(lo, 20, shape).astype(NP[dtype])
    if dtype == torch.bool:
        return rng.random(shape) > 0.5
    a = (rng.random(shape) * 6 - 3).astype(np.float32)
    if dtype == torch.bfloat16:
        # Round to bf16 by truncating the low mantissa bits (exact values for the oracle).
        return (a.view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
    return a.astype(NP[dtype])


def tt(a, dtype, device="cpu"):
    """A tensor of `a` in `dtype` on `device`, with NumPy's strides (the kernels must read
    transposed and sliced operands as they are)."""
    if device == "cpu" and dtype != torch.bfloat16:
        return torch.from_numpy(a)
    dense = torch.tensor(np.ascontiguousarray(a), dtype=dtype, device=device)
    strides = tuple(s // a.itemsize for s in a.strides)
    if a.size == 0 or strides == dense.stride() or any(s <= 0 for s, n in zip(strides, a.shape) if n > 1):
        return dense
    # The same values laid out with NumPy's strides in a buffer of their span.
    span = 1 + sum((n - 1) * s for n, s in zip(a.shape, strides))
    t = torch.zeros(span, dtype=dtype, device=device).as_strided(a.shape, strides)
    t.copy_(dense)
    return t


def to_np(t):
    if t.dtype == torch.bfloat16:
        return np.array(t.tolist(), dtype=np.float64).reshape(tuple(t.shape))
    return np.array(t.cpu().numpy(), copy=True)


def ref(f, *arrays):
    """The NumPy result in float64 (floats) or int64 (ints)."""
    if arrays[0].dtype.kind == "f":
        return f(*[a.astype(np.float64) for a in arrays])
    return f(*[a.astype(np.int64) for a in arrays])


def check(t, expected, dtype):
    got = to_np(t)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if dtype in TOL:
        rtol, atol = (CUDA_TOL if t.device.type == "cuda" else TOL)[dtype]
        np.testing.assert_allclose(got.astype(np.float64), expected, rtol=rtol, atol=atol)
    else:
        # Integer products wrap like the narrow type does.
        np.testing.assert_array_equal(got, expected.astype(NP[dtype]))


def refused(dtype, device):
    """cuBLAS has no integer products: torch's matrix products raise for them on CUDA."""
    return device != "cpu" and dtype in INTS


def check_product(f, expected, dtype, device):
    """Checks the product `f()` against NumPy, or that it raises where torch refuses it."""
    if refused(dtype, device):
        with pytest.raises(RuntimeError, match="not implemented for"):
            f()
        return
    r = f()
    assert r.dtype == dtype and r.device.type == device
    check(r, expected, dtype)


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((4, 1, 2, 3), (5, 3, 6)),
    ((1, 2, 3), (7, 3, 2)),
    ((2, 0, 3), (3, 4)),
    ((2, 3, 0), (0, 4)),
    ((0,), (0,)),
    ((2, 0), (0,)),
    ((1, 1), (1, 1)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_matmul_shapes_match_numpy(sa, sb, dtype, device):
    rng = np.random.default_rng(1)
    a, b = arr(rng, sa, dtype), arr(rng, sb, dtype)
    if refused(dtype, device) and 0 in sa + sb:
        pytest.skip("torch's CUDA products may return empty results before refusing the dtype")
    ta, tb = tt(a, dtype, device), tt(b, dtype, device)
    check_product(lambda: torch.matmul(ta, tb), ref(np.matmul, a, b), dtype, device)
    check_product(lambda: ta @ tb, ref(np.matmul, a, b), dtype, device)
    check_product(lambda: ta.matmul(tb), ref(np.matmul, a, b), dtype, device)


def test_k_zero_gives_zeros(device):
    r = torch.matmul(torch.ones(2, 0, device=device), torch.ones(0, 3, device=device))
    assert r.shape == (2, 3) and r.tolist() == [[0.0] * 3] * 2
    assert r.device.type == device
    r = torch.dot(torch.ones(0, dtype=torch.float64, device=device), torch.ones(0, dtype=torch.float64, device=device))
    assert r.shape == () and r.item() == 0.0


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("sa,sb", [((4, 5), (5, 3)), ((3, 4, 5), (5, 2)), ((5,), (5,)), ((2, 5), (5,)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_all_dtypes(dtype, sa, sb, device):
    rng = np.random.default_rng(2)
    a, b = arr(rng, sa, dtype), arr(rng, sb, dtype)
    check_product(lambda: tt(a, dtype, device) @ tt(b, dtype, device), ref(np.matmul, a, b), dtype, device)


@pytest.mark.parametrize("dtype", FLOATS + [torch.int32, torch.int64])
def test_large_products_use_parallel_paths(dtype, device):
    rng = np.random.default_rng(3)
    # One big product (split across threads) and many small ones (batches in parallel).
    for sa, sb in [((130, 150), (150, 170)), ((300, 7, 9), (300, 9, 8)), ((3, 70, 90), (90, 60))]:
        a, b = arr(rng, sa, dtype), arr(rng, sb, dtype)
        check_product(lambda: tt(a, dtype, device) @ tt(b, dtype, device), ref(np.matmul, a, b), dtype, device)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.float16])
def test_noncontiguous_inputs(dtype, device):
    rng = np.random.default_rng(4)
    base_a = arr(rng, (6, 8), dtype)
    base_b = arr(rng, (10, 12), dtype)
    cases = [
        (base_a.T, base_b[:6, :5]),               # transposed lhs, sliced rhs
        (base_a[::2, 1:7], base_b[1:7, ::3]),     # strided in both dims
        (np.asfortranarray(base_a), base_b[:8, ::2]),  # column-major lhs
        (base_a[:, ::2].T, base_b[:6, 1::3]),     # transposed and strided
    ]
    for a, b in cases:
        b = b[: a.shape[-1]]
        ta, tb = tt(a, dtype, device), tt(b, dtype, device)
        assert ta.stride() == tuple(s // a.itemsize for s in a.strides)
        check_product(lambda: ta @ tb, ref(np.matmul, a, b), dtype, device)
    # Batched with strided batch dim and a vector with stride.
    a3 = arr(rng, (4, 5, 6), dtype)[::2, :, ::2]
    b3 = arr(rng, (3, 9), dtype)[:, ::3].T.copy().T
    check_product(lambda: tt(a3, dtype, device) @ tt(b3, dtype, device), ref(np.matmul, a3, b3), dtype, device)
    v = arr(rng, (9,), dtype)[::3]
    check_product(lambda: tt(a3, dtype, device) @ tt(v, dtype, device), ref(np.matmul, a3, v), dtype, device)


@settings(max_examples=25, deadline=None)
@given(
    batch_a=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    batch_b=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    m=st.integers(0, 5), k=st.integers(0, 5), n=st.integers(0, 5),
    ta=st.booleans(), tb=st.booleans(),
)
def test_matmul_broadcast_property(batch_a, batch_b, m, k, n, ta, tb, device):
    rng = np.random.default_rng(5)
    # Make batch dims broadcast-compatible: a 1 where they differ.
    nb = min(len(batch_a), len(batch_b))
    for i in range(1, nb + 1):
        if batch_a[-i] != batch_b[-i]:
            batch_b[-i] = 1
    a = arr(rng, tuple(batch_a) + ((k, m) if ta else (m, k)), torch.float64)
    b = arr(rng, tuple(batch_b) + ((n, k) if tb else (k, n)), torch.float64)
    a = np.swapaxes(a, -1, -2) if ta else a
    b = np.swapaxes(b, -1, -2) if tb else b
    check(tt(a, torch.float64, device) @ tt(b, torch.float64, device), np.matmul(a, b), torch.float64)


@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_mm_bmm_mv_dot(dtype, device):
    rng = np.random.default_rng(6)
    T = lambda x: tt(x, dtype, device)  # noqa: E731
    a, b = arr(rng, (4, 6), dtype), arr(rng, (6, 3), dtype)
    check_product(lambda: torch.mm(T(a), T(b)), ref(np.matmul, a, b), dtype, device)
    check_product(lambda: T(a).mm(T(b)), ref(np.matmul, a, b), dtype, device)
    x, y = arr(rng, (2, 4, 6), dtype), arr(rng, (2, 6, 5), dtype)
    check_product(lambda: torch.bmm(T(x), T(y)), ref(np.matmul, x, y), dtype, device)
    v = arr(rng, (6,), dtype)
    check_product(lambda: torch.mv(T(a), T(v)), ref(np.matmul, a, v), dtype, device)
    w = arr(rng, (6,), dtype)
    for f in (torch.dot, torch.vdot, torch.inner):
        check_product(lambda: f(T(v), T(w)), ref(np.dot, v, w), dtype, device)
    # outer is an elementwise product: every device has it for every dtype.
    check(torch.outer(T(v), T(w)), ref(np.outer, v, w), dtype)
    check(torch.ger(T(v), T(w)), ref(np.outer, v, w), dtype)


def test_inner_nd_and_outer_promotes(device):
    rng = np.random.default_rng(7)
    a, b = arr(rng, (2, 3, 4), torch.float64), arr(rng, (5, 4), torch.float64)
    ta, tb = tt(a, torch.float64, device), tt(b, torch.float64, device)
    check(torch.inner(ta, tb), np.inner(a, b), torch.float64)
    s = torch.tensor(2.0, dtype=torch.float64, device=device)
    check(torch.inner(s, tb), 2.0 * b, torch.float64)
    o = torch.outer(torch.tensor([1, 2], device=device), torch.tensor([0.5, 1.5], device=device))
    assert o.dtype == torch.float32 and o.tolist() == [[0.5, 1.5], [1.0, 3.0]]
    assert o.device.type == device


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32])
def test_addmm_family(dtype, device):
    rng = np.random.default_rng(8)
    T = lambda x: tt(x, dtype, device)  # noqa: E731
    isint = dtype in INTS
    beta, alpha = (2, 3) if isint else (0.5, -1.5)
    m1, m2 = arr(rng, (3, 4), dtype), arr(rng, (4, 5), dtype)
    for inp in (arr(rng, (3, 5), dtype), arr(rng, (5,), dtype), arr(rng, (3, 1), dtype)):
        want = ref(lambda i, x, y: beta * i + alpha * (x @ y), inp, m1, m2)
        check_product(lambda: torch.addmm(T(inp), T(m1), T(m2), beta=beta, alpha=alpha), want, dtype, device)
    mat, vec, inp = arr(rng, (3, 4), dtype), arr(rng, (4,), dtype), arr(rng, (3,), dtype)
    check_product(lambda: torch.addmv(T(inp), T(mat), T(vec), beta=beta, alpha=alpha),
                  ref(lambda i, x, y: beta * i + alpha * (x @ y), inp, mat, vec), dtype, device)
    b1, b2 = arr(rng, (2, 3, 4), dtype), arr(rng, (2, 4, 5), dtype)
    inp3, inp2 = arr(rng, (2, 3, 5), dtype), arr(rng, (3, 5), dtype)
    check_product(lambda: torch.baddbmm(T(inp3), T(b1), T(b2), beta=beta, alpha=alpha),
                  ref(lambda i, x, y: beta * i + alpha * (x @ y), inp3, b1, b2), dtype, device)
    check_product(lambda: torch.addbmm(T(inp2), T(b1), T(b2), beta=beta, alpha=alpha),
                  ref(lambda i, x, y: beta * i + alpha * (x @ y).sum(0), inp2, b1, b2), dtype, device)
    # addr is an elementwise update in torch: CUDA has it for integers too.
    v1, v2 = arr(rng, (3,), dtype), arr(rng, (5,), dtype)
    check(torch.addr(T(inp2), T(v1), T(v2), beta=beta, alpha=alpha),
          ref(lambda i, x, y: beta * i + alpha * np.outer(x, y), inp2, v1, v2), dtype)


def test_addmm_beta_zero_ignores_nan_and_defaults(device):
    inp = torch.full((2, 2), float("nan"), device=device)
    a = torch.eye(2, device=device)
    assert torch.addmm(inp, a, a, beta=0).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    one = torch.ones(2, 2, device=device)
    assert torch.addmm(one, a, a).tolist() == [[2.0, 1.0], [1.0, 2.0]]
    assert one.addmm(a, a, alpha=2).tolist() == [[3.0, 1.0], [1.0, 3.0]]


def test_inplace_and_out(device):
    a = torch.eye(2, dtype=torch.float64, device=device)
    x = torch.ones(2, 2, dtype=torch.float64, device=device)
    r = x.addmm_(a, a, beta=2)
    assert r is x and x.tolist() == [[3.0, 2.0], [2.0, 3.0]]
    v = torch.ones(2, dtype=torch.float64, device=device)
    v.addmv_(a, v)
    assert v.tolist() == [2.0, 2.0]
    b = torch.zeros(1, 2, 2, dtype=torch.float64, device=device)
    b.baddbmm_(torch.ones(1, 2, 3, dtype=torch.float64, device=device), torch.ones(1, 3, 2, dtype=torch.float64, device=device))
    assert b.tolist() == [[[3.0, 3.0], [3.0, 3.0]]]
    out = torch.zeros(2, 2, dtype=torch.float64, device=device)
    r = torch.matmul(a, x, out=out)
    assert r is out and out.tolist() == [[3.0, 2.0], [2.0, 3.0]]
    assert out.device.type == device
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        torch.ones(2, dtype=torch.float64, device=device).addmm_(a, a)


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,j", [(3,), (4,)]),
    ("ba", [(3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij,jk", [(2, 3, 4), (4, 5)]),
    ("i...->...", [(3, 2, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 6)]),
    ("iij,jk->ik", [(3, 3, 4), (4, 2)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,kj->ikj", [(2, 3), (4, 3)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("i,i,i->", [(4,), (4,), (4,)]),
    ("ij,j->i", [(3, 1), (5,)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum_matches_numpy(eq, shapes, device):
    rng = np.random.default_rng(9)
    arrays = [arr(rng, s, torch.float64) for s in shapes]
    np_eq = eq.replace(" ", "")
    if np_eq == "ij,j->i":
        want = np.einsum("ij,j->i", np.broadcast_to(arrays[0], (3, 5)), arrays[1])
    else:
        want = np.einsum(np_eq, *arrays)
    ops = [tt(a, torch.float64, device) for a in arrays]
    got = torch.einsum(eq, *ops)
    assert got.device.type == device
    check(got, want, torch.float64)
    got_list = torch.einsum(eq, ops)
    check(got_list, want, torch.float64)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int8])
def test_einsum_dtypes_and_strides(dtype, device):
    rng = np.random.default_rng(10)
    a = arr(rng, (4, 6, 3), dtype)
    b = arr(rng, (3, 5), dtype)
    want = ref(lambda x, y: np.einsum("ijk,kl->jil", x, y), a, b)
    # torch contracts through bmm, so integer einsums share the products' refusal on CUDA.
    check_product(lambda: torch.einsum("ijk,kl->jil", tt(a, dtype, device), tt(b, dtype, device)), want, dtype, device)
    if dtype != torch.bfloat16:
        at = np.swapaxes(arr(rng, (6, 4, 3), dtype), 0, 1)[:, ::2]  # permuted and strided lhs
        bt = np.asfortranarray(b)  # column-major rhs
        check_product(lambda: torch.einsum("ijk,kl->jil", tt(at, dtype, device), tt(bt, dtype, device)),
                      ref(lambda x, y: np.einsum("ijk,kl->jil", x, y), at, bt), dtype, device)


def test_einsum_sublist_format_and_large(device):
    rng = np.random.default_rng(11)
    a, b = arr(rng, (3, 4), torch.float64), arr(rng, (4, 5), torch.float64)
    ta, tb = tt(a, torch.float64, device), tt(b, torch.float64, device)
    got = torch.einsum(ta, [0, 1], tb, [1, 2], [0, 2])
    check(got, a @ b, torch.float64)
    c = arr(rng, (4, 3), torch.float64)
    got = torch.einsum(ta, [Ellipsis, 1], tt(c, torch.float64, device), [1, Ellipsis])
    check(got, np.einsum("...j,j...->...", a, c), torch.float64)
    x, y = arr(rng, (2, 4, 64, 32), torch.float32), arr(rng, (2, 4, 48, 32), torch.float32)
    check(torch.einsum("bhqd,bhkd->bhqk", tt(x, torch.float32, device), tt(y, torch.float32, device)),
          np.einsum("bhqd,bhkd->bhqk", x.astype(np.float64), y.astype(np.float64)), torch.float32)


@pytest.mark.parametrize("eq,shapes,msg", [
    ("ij,jk->ik", [(2, 3)], "fewer operands"),
    ("ij->ij", [(2, 3), (3,)], "more operands"),
    ("ijk", [(2, 3)], "does not match the number of dimensions"),
    ("ij...k", [(2, 3)], "is more than the number of dimensions"),
    ("ij->z", [(2, 3)], "output subscript z does not appear"),
    ("ij->ii", [(2, 3)], "appears more than once in the output"),
    ("i1", [(2, 3)], "invalid subscript"),
    ("i.j", [(2, 3)], "not part of any ellipsis"),
    ("ii", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match"),
    ("i,i", [(2,), (3,)], "do not broadcast"),
])
def test_einsum_errors(eq, shapes, msg, device):
    ops = [torch.ones(s, dtype=torch.float64, device=device) for s in shapes]
    with pytest.raises(RuntimeError, match=msg):
        torch.einsum(eq, *ops)


@pytest.mark.parametrize("sa,sb,dims", [
    ((3, 4, 5), (4, 5, 6), 2),
    ((3, 4, 5), (5, 6), 1),
    ((3, 4), (5, 6), 0),
    ((3, 4, 5), (5, 3, 2), ([0, 2], [1, 0])),
    ((3, 4, 5), (4, 2), ([1], [0])),
    ((2, 3), (3, 2), (1, 0)),
])
def test_tensordot(sa, sb, dims, device):
    rng = np.random.default_rng(12)
    a, b = arr(rng, sa, torch.float64), arr(rng, sb, torch.float64)
    got = torch.tensordot(tt(a, torch.float64, device), tt(b, torch.float64, device), dims=dims)
    assert got.device.type == device
    check(got, np.tensordot(a, b, axes=dims), torch.float64)


def test_tensordot_errors(device):
    a = torch.ones(2, 3, dtype=torch.float64, device=device)
    b = torch.ones(4, 3, dtype=torch.float64, device=device)
    with pytest.raises(RuntimeError, match="contracted dimensions need to match, but first has size 2 in dim 0 and second has size 4 in dim 0"):
        torch.tensordot(a, b, dims=([0], [0]))
    with pytest.raises(RuntimeError, match="both dimension lists should have same length"):
        torch.tensordot(a, b, dims=([0, 1], [1]))
    with pytest.raises(RuntimeError, match="tensordot expects dims >= 0"):
        torch.tensordot(a, b, dims=-1)


def test_multi_dot_and_chain_matmul(device):
    rng = np.random.default_rng(13)
    mats = [arr(rng, s, torch.float64) for s in [(10, 30), (30, 5), (5, 60), (60, 2)]]
    ts = [tt(m, torch.float64, device) for m in mats]
    check(torch.linalg.multi_dot(ts), np.linalg.multi_dot(mats), torch.float64)
    check(torch.chain_matmul(*ts), np.linalg.multi_dot(mats), torch.float64)
    v, w = arr(rng, (10,), torch.float64), arr(rng, (2,), torch.float64)
    check(torch.linalg.multi_dot([tt(v, torch.float64, device)] + ts + [tt(w, torch.float64, device)]),
          np.linalg.multi_dot([v] + mats + [w]), torch.float64)
    with pytest.raises(RuntimeError, match="multi_dot\\(\\): expected at least 2 tensors but got 1"):
        torch.linalg.multi_dot(ts[:1])
    with pytest.raises(RuntimeError, match="tensors 0 and 1 with shapes 10x30 and 5x60 cannot be multiplied"):
        torch.linalg.multi_dot([ts[0], ts[2]])


def F32(s, device):
    return torch.ones(s, dtype=torch.float32, device=device)


def F64(s, device):
    return torch.ones(s, dtype=torch.float64, device=device)


def I64(v, device):
    return torch.tensor(v, device=device)


# Argument checks run before any kernel: the same errors on every device.
@pytest.mark.parametrize("f,msg", [
    (lambda d: torch.mm(F32((2, 3), d), F32((4, 5), d)), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    (lambda d: F32((2, 3), d) @ F32((4, 5), d), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    (lambda d: F32((3,), d) @ F32((4, 5), d), r"mat1 and mat2 shapes cannot be multiplied \(1x3 and 4x5\)"),
    (lambda d: torch.mv(F32((3, 4), d), F32((5,), d)), r"size mismatch, got input \(3\), mat \(3x4\), vec \(5\)"),
    (lambda d: F32((3, 4), d) @ F32((5,), d), r"size mismatch, got input \(3\), mat \(3x4\), vec \(5\)"),
    (lambda d: torch.mm(F32((2, 3), d), F64((3, 4), d)), "expected m1 and m2 to have the same dtype, but got: float != double"),
    (lambda d: F32((2, 2, 3), d) @ F64((2, 3, 4), d), "expected m1 and m2 to have the same dtype, but got: float != double"),
    (lambda d: torch.dot(F32((3,), d), F64((3,), d)), "dot : expected both vectors to have same dtype, but found Float and Double"),
    (lambda d: torch.dot(F32((3,), d), F32((4,), d)), "inconsistent tensor size, expected tensor \\[3\\] and src \\[4\\]"),
    (lambda d: torch.dot(F32((3, 1), d), F32((3,), d)), "1D tensors expected, but got 2D and 1D tensors"),
    (lambda d: torch.matmul(torch.tensor(1.0, device=d), F32((3,), d)), "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    (lambda d: torch.bmm(F32((2, 3, 4), d), F32((2, 5, 6), d)), r"Expected size for first two dimensions of batch2 tensor to be: \[2, 4\] but got: \[2, 5\]"),
    (lambda d: torch.bmm(F32((3, 4), d), F32((2, 4, 6), d)), "batch1 must be a 3D tensor"),
    (lambda d: torch.mm(F32((3,), d), F32((3, 4), d)), "self must be a matrix"),
    (lambda d: F32((2, 2, 3), d) @ F32((3, 2, 3), d), "must match the size of tensor b"),
    (lambda d: torch.addmm(F32((3,), d), F32((2, 3), d), F32((3, 5), d)), "must match the existing size"),
    (lambda d: torch.addmm(F64((2, 5), d), F32((2, 3), d), F32((3, 5), d)), "self and mat2 must have the same dtype"),
    (lambda d: torch.outer(F32((2, 2), d), F32((2,), d)), "outer: Expected 1-D argument self, but got 2-D"),
    (lambda d: torch.addmm(I64([[1]], d), I64([[1]], d), I64([[1]], d), beta=0.5),
     "For integral input tensors, argument beta must not be a floating point number"),
])
def test_error_messages(f, msg, device):
    with pytest.raises(RuntimeError, match=msg):
        f(device)


def test_bool_is_not_implemented(device):
    b = torch.tensor([[True, False], [False, True]], device=device)
    # torch names the kernel that refuses the dtype, and that differs by device.
    mm_kernel = "addmm_impl_cpu_" if device == "cpu" else "addmm_cuda"
    with pytest.raises(NotImplementedError, match=f"\"{mm_kernel}\" not implemented for 'Bool'"):
        torch.mm(b, b)
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        b @ b
    with pytest.raises(RuntimeError, match="\"dot\" not implemented for 'Bool'"):
        torch.dot(torch.tensor([True], device=device), torch.tensor([True], device=device))


def test_matmul_operator_type_errors(device):
    a = F32((2, 2), device)
    with pytest.raises(TypeError):
        a @ 2
    with pytest.raises(TypeError):
        2 @ a
    with pytest.raises(TypeError, match="must be Tensor"):
        torch.mm(a, [[1.0, 2.0]])
