"""Matrix products (cuBLAS), indexing and shape copies on CUDA, compared with the same ops on the
CPU (which the CPU suites test against NumPy). Out-of-range indices must raise and leave the
device usable. Skipped without a GPU."""

import math

import numpy as np
import pytest

import ferrotorch as torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
ALL = FLOATS + [torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64, torch.bool]
INTS = [torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64]


def host(t):
    t = t.detach().cpu()
    return t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()


def same(gpu, cpu, rtol=0.0, atol=0.0):
    assert gpu.is_cuda, gpu.device
    assert gpu.dtype == cpu.dtype
    assert tuple(gpu.shape) == tuple(cpu.shape)
    if rtol == 0.0 and atol == 0.0:
        np.testing.assert_array_equal(host(gpu), host(cpu))
    else:
        np.testing.assert_allclose(host(gpu).astype(np.float64), host(cpu).astype(np.float64),
                                   rtol=rtol, atol=atol)


def rand(*shape, dtype=torch.float32, seed=0):
    g = np.random.default_rng(seed + 7 * len(shape) + sum(shape))
    return torch.from_numpy(g.uniform(-1.0, 1.0, size=shape)).to(dtype)


def tol(dtype, k):
    """Tolerance of a k-term product of values in [-1, 1] (CPU and cuBLAS sum differently)."""
    scale = math.sqrt(max(k, 1))
    return {
        torch.float64: (1e-10, 1e-10 * scale),
        torch.float32: (1e-4, 1e-5 * scale * 4),
        torch.float16: (2e-2, 1e-2 * scale),
        torch.bfloat16: (3e-2, 3e-2 * scale),
    }[dtype]


def check_ok():
    """The context still works after an error."""
    x = torch.arange(10).cuda()
    assert x.cpu().tolist() == list(range(10))
    assert torch.mm(torch.ones(2, 3).cuda(), torch.ones(3, 2).cuda()).cpu().tolist() == [[3, 3], [3, 3]]
    torch.cuda.synchronize()


# ------------------------------------------------------------------------------ products

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 4, 5), (17, 33, 9), (64, 128, 32)])
def test_mm_matches_cpu(dtype, m, k, n):
    a, b = rand(m, k, dtype=dtype), rand(k, n, dtype=dtype, seed=1)
    same(torch.mm(a.cuda(), b.cuda()), torch.mm(a, b), *tol(dtype, k))


def test_mm_1024():
    a, b = rand(1024, 1024), rand(1024, 1024, seed=3)
    same(torch.mm(a.cuda(), b.cuda()), torch.mm(a, b), *tol(torch.float32, 1024))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
def test_transposed_and_strided_operands(dtype):
    a, b = rand(9, 6, dtype=dtype), rand(7, 9, dtype=dtype, seed=2)
    ag, bg = a.cuda(), b.cuda()
    r = tol(dtype, 9)
    same(torch.mm(ag.t(), bg.t()), torch.mm(a.t(), b.t()), *r)
    same(torch.mm(ag.t(), ag), torch.mm(a.t(), a), *r)
    same(torch.mm(bg, ag), torch.mm(b, a), *r)
    # Neither rows nor columns contiguous: copied before cuBLAS.
    c, d = rand(8, 12, dtype=dtype), rand(12, 10, dtype=dtype)
    same(torch.mm(c.cuda()[:, ::2], d.cuda()[::2, 1::3]), torch.mm(c[:, ::2], d[::2, 1::3]), *r)
    # Row slices with a leading dimension larger than the row.
    same(torch.mm(c.cuda()[1:5, 2:8], d.cuda()[3:9, :4]), torch.mm(c[1:5, 2:8], d[3:9, :4]), *r)


@pytest.mark.parametrize("dtype", FLOATS)
def test_bmm_and_batched_matmul_broadcast(dtype):
    a, b = rand(4, 3, 5, dtype=dtype), rand(4, 5, 2, dtype=dtype, seed=4)
    r = tol(dtype, 5)
    same(torch.bmm(a.cuda(), b.cuda()), torch.bmm(a, b), *r)
    same(torch.bmm(a.cuda().transpose(1, 2).contiguous().transpose(1, 2), b.cuda()), torch.bmm(a, b), *r)
    x, y = rand(2, 1, 3, 4, dtype=dtype), rand(5, 4, 6, dtype=dtype, seed=5)
    same(torch.matmul(x.cuda(), y.cuda()), torch.matmul(x, y), *tol(dtype, 4))
    # 1-D operands promoted to matrices and back.
    v = rand(4, dtype=dtype, seed=6)
    same(torch.matmul(v.cuda(), y.cuda()), torch.matmul(v, y), *tol(dtype, 4))
    same(torch.matmul(x.cuda(), v.cuda()), torch.matmul(x, v), *tol(dtype, 4))
    # Expanded (stride-0) batch operand and a permuted batch.
    w = rand(3, 4, dtype=dtype, seed=7)
    same(torch.matmul(w.cuda().expand(6, 3, 4), y.cuda()[:1].expand(6, 4, 6)),
         torch.matmul(w.expand(6, 3, 4), y[:1].expand(6, 4, 6)), *tol(dtype, 4))
    p = rand(3, 2, 4, 5, dtype=dtype, seed=8)
    q = rand(2, 3, 5, 4, dtype=dtype, seed=9)
    same(torch.matmul(p.cuda().transpose(0, 1), q.cuda()), torch.matmul(p.transpose(0, 1), q),
         *tol(dtype, 5))


@pytest.mark.parametrize("dtype", FLOATS)
def test_vector_products(dtype):
    m, v, u = rand(7, 5, dtype=dtype), rand(5, dtype=dtype, seed=1), rand(7, dtype=dtype, seed=2)
    r = tol(dtype, 7)
    same(torch.mv(m.cuda(), v.cuda()), torch.mv(m, v), *r)
    same(torch.mv(m.cuda().t(), u.cuda()), torch.mv(m.t(), u), *r)
    same(torch.dot(u.cuda(), u.cuda()), torch.dot(u, u), *r)
    same(torch.dot(m.cuda()[:, 1], u.cuda()), torch.dot(m[:, 1], u), *r)
    same(torch.matmul(v.cuda(), v.cuda()), torch.matmul(v, v), *r)
    same(torch.outer(u.cuda(), v.cuda()), torch.outer(u, v), *r)
    same(torch.addr(m.cuda(), u.cuda(), v.cuda(), beta=0.5, alpha=2.0),
         torch.addr(m, u, v, beta=0.5, alpha=2.0), *r)
    same(torch.addmv(u.cuda(), m.cuda(), v.cuda(), beta=2.0, alpha=-1.0),
         torch.addmv(u, m, v, beta=2.0, alpha=-1.0), *r)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("m,k,n", [(6, 4, 5), (1, 8, 1), (130, 70, 33), (256, 128, 384)])
def test_addmm_row_bias(dtype, m, k, n):
    """A bias broadcast along the rows (linear's) is added in cuBLASLt's epilogue; whatever the
    layout of the operands or the bias, values match the CPU's."""
    a, w = rand(m, k, dtype=dtype, seed=m), rand(n, k, dtype=dtype, seed=n)
    bias = rand(n, dtype=dtype, seed=k)
    r = tol(dtype, k)
    ag, wg, bg = a.cuda(), w.cuda(), bias.cuda()
    want = torch.addmm(bias, a, w.t())
    same(torch.addmm(bg, ag, wg.t()), want, *r)  # linear: the weight read transposed
    same(torch.addmm(bg.view(1, n), ag, wg.t()), want, *r)
    same(torch.addmm(bg, ag.t().contiguous().t(), wg.t().contiguous()), want, *r)  # column-major a
    same(torch.addmm(bg, ag, wg.t(), alpha=-2.0), torch.addmm(bias, a, w.t(), alpha=-2.0), *r)
    # A bias view off the 16-byte grid, and a full (m, n) input: the cuBLAS path.
    wide = rand(n + 1, dtype=dtype, seed=3)
    same(torch.addmm(wide.cuda()[1:], ag, wg.t()), torch.addmm(wide[1:], a, w.t()), *r)
    full = rand(m, n, dtype=dtype, seed=4)
    same(torch.addmm(full.cuda(), ag, wg.t()), torch.addmm(full, a, w.t()), *r)
    # Through linear, with gradients.
    x = ag.clone().requires_grad_()
    lin = torch.nn.functional.linear(x, wg, bg)
    same(lin, want, *r)
    lin.sum().backward()
    same(x.grad, torch.ones(m, n, dtype=dtype) @ w, *tol(dtype, n))


@pytest.mark.parametrize("dtype", FLOATS)
def test_fused_add_forms(dtype):
    a, b = rand(6, 4, dtype=dtype), rand(4, 5, dtype=dtype, seed=1)
    bias = rand(5, dtype=dtype, seed=2)
    r = tol(dtype, 4)
    same(torch.addmm(bias.cuda(), a.cuda(), b.cuda()), torch.addmm(bias, a, b), *r)
    same(torch.addmm(bias.cuda(), a.cuda(), b.cuda(), beta=0.5, alpha=3),
         torch.addmm(bias, a, b, beta=0.5, alpha=3), *r)
    # beta = 0 ignores the input, NaN included.
    nan = torch.full((6, 5), float("nan"), dtype=dtype)
    same(torch.addmm(nan.cuda(), a.cuda(), b.cuda(), beta=0), torch.addmm(nan, a, b, beta=0), *r)
    x, y = rand(3, 6, 4, dtype=dtype, seed=3), rand(3, 4, 5, dtype=dtype, seed=4)
    inp = rand(6, 5, dtype=dtype, seed=5)
    same(torch.baddbmm(inp.cuda(), x.cuda(), y.cuda(), beta=2, alpha=0.5),
         torch.baddbmm(inp, x, y, beta=2, alpha=0.5), *r)
    same(torch.addbmm(inp.cuda(), x.cuda(), y.cuda()), torch.addbmm(inp, x, y), *tol(dtype, 12))


def test_empty_products():
    for (m, k, n) in [(0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0)]:
        a, b = torch.ones(m, k), torch.ones(k, n)
        same(torch.mm(a.cuda(), b.cuda()), torch.mm(a, b))
    inp = rand(3, 4)
    same(torch.addmm(inp.cuda(), torch.ones(3, 0).cuda(), torch.ones(0, 4).cuda(), beta=2),
         torch.addmm(inp, torch.ones(3, 0), torch.ones(0, 4), beta=2), 1e-6, 1e-6)
    same(torch.bmm(torch.ones(0, 2, 3).cuda(), torch.ones(0, 3, 2).cuda()),
         torch.bmm(torch.ones(0, 2, 3), torch.ones(0, 3, 2)))
    same(torch.dot(torch.ones(0).cuda(), torch.ones(0).cuda()), torch.dot(torch.ones(0), torch.ones(0)))


@pytest.mark.parametrize("dtype", INTS + [torch.bool])
def test_integer_products_refuse_cuda_as_torch(dtype):
    a = torch.ones(2, 2, dtype=dtype).cuda()
    with pytest.raises(RuntimeError, match="not implemented for"):
        torch.mm(a, a)
    with pytest.raises(RuntimeError, match="not implemented for"):
        torch.matmul(a[None], a[None])
    check_ok()


def test_mixed_devices_and_dtypes_raise():
    with pytest.raises(RuntimeError, match="same device"):
        torch.mm(torch.ones(2, 2).cuda(), torch.ones(2, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.mm(torch.ones(2, 2).cuda(), torch.ones(2, 2, dtype=torch.float64).cuda())


def test_allow_tf32_flag():
    assert torch.backends.cuda.matmul.allow_tf32 is False
    a, b = rand(256, 256), rand(256, 256, seed=1)
    exact = torch.mm(a, b)
    try:
        torch.backends.cuda.matmul.allow_tf32 = True
        assert torch.backends.cuda.matmul.allow_tf32 is True
        same(torch.mm(a.cuda(), b.cuda()), exact, 1e-2, 5e-2)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = False
    same(torch.mm(a.cuda(), b.cuda()), exact, *tol(torch.float32, 256))


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(4, 4)]),
    ("ij->", [(5, 6)]),
    ("i,i->", [(7,), (7,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 5, 8), (2, 3, 6, 8)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
])
def test_einsum(eq, shapes):
    ops = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    same(torch.einsum(eq, *[o.cuda() for o in ops]), torch.einsum(eq, *ops), 1e-4, 1e-4)


def test_tensordot_inner_multi_dot():
    a, b = rand(2, 3, 4), rand(4, 3, 5, seed=1)
    same(torch.tensordot(a.cuda(), b.cuda(), dims=([1, 2], [1, 0])),
         torch.tensordot(a, b, dims=([1, 2], [1, 0])), 1e-5, 1e-5)
    same(torch.inner(a.cuda(), a.cuda()), torch.inner(a, a), 1e-5, 1e-5)
    mats = [rand(2, 30), rand(30, 3, seed=1), rand(3, 40, seed=2)]
    same(torch.linalg.multi_dot([m.cuda() for m in mats]), torch.linalg.multi_dot(mats), 1e-4, 1e-4)
    same(torch.chain_matmul(*[m.cuda() for m in mats]), torch.chain_matmul(*mats), 1e-4, 1e-4)


def test_product_gradients():
    a, b = rand(3, 4), rand(4, 5, seed=1)
    grads = []
    for dev in ["cpu", "cuda"]:
        x = a.to(dev).detach().requires_grad_()
        y = b.to(dev).detach().requires_grad_()
        z = torch.matmul(x, y)
        torch.mm(z, z.t()).sum().backward()
        grads.append((x.grad, y.grad))
    same(grads[1][0], grads[0][0], 1e-4, 1e-4)
    same(grads[1][1], grads[0][1], 1e-4, 1e-4)
    p, q = rand(2, 3, 4), rand(2, 4, 2, seed=2)
    out = []
    for dev in ["cpu", "cuda"]:
        x = p.to(dev).detach().requires_grad_()
        y = q.to(dev).detach().requires_grad_()
        torch.einsum("bij,bjk->bik", x, y).sum().backward()
        out.append((x.grad, y.grad))
    same(out[1][0], out[0][0], 1e-5, 1e-5)
    same(out[1][1], out[0][1], 1e-5, 1e-5)


# ------------------------------------------------------------------------------ indexing

@pytest.mark.parametrize("dtype", ALL)
def test_index_select_every_dtype(dtype):
    t = (torch.arange(60).reshape(3, 4, 5) % 7).to(dtype)
    idx = torch.tensor([2, 0, 2, 1])
    for dim in range(3):
        i = idx[idx < t.shape[dim]]
        same(t.cuda().index_select(dim, i.cuda()), t.index_select(dim, i))
    same(t.cuda().transpose(0, 2).index_select(1, idx[:3].to(torch.int32).cuda()),
         t.transpose(0, 2).index_select(1, idx[:3].to(torch.int32)))
    same(torch.tensor(5).to(dtype).cuda().index_select(0, torch.tensor([0]).cuda()),
         torch.tensor(5).to(dtype).index_select(0, torch.tensor([0])))


def test_index_select_large():
    t = torch.arange(2_000_000, dtype=torch.float32).reshape(1000, 2000)
    idx = torch.tensor(list(range(999, -1, -3)))
    same(t.cuda().index_select(0, idx.cuda()), t.index_select(0, idx))
    same(t.cuda().index_select(1, idx.cuda()), t.index_select(1, idx))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64, torch.bool])
def test_gather_take_take_along_dim(dtype):
    t = (torch.arange(24).reshape(4, 6) % 5).to(dtype)
    idx = torch.tensor([[0, 3, 3], [1, 0, 2]])
    same(torch.gather(t.cuda(), 1, idx.cuda()), torch.gather(t, 1, idx))
    same(torch.gather(t.cuda(), 0, idx.cuda()), torch.gather(t, 0, idx))
    same(torch.gather(t.cuda().t(), 1, idx.cuda()), torch.gather(t.t(), 1, idx))
    same(torch.take(t.cuda(), torch.tensor([[0, -1], [23, 5]]).cuda()),
         torch.take(t, torch.tensor([[0, -1], [23, 5]])))
    ai = torch.tensor([[1], [0], [5], [2]])
    same(torch.take_along_dim(t.cuda(), ai.cuda(), dim=1), torch.take_along_dim(t, ai, dim=1))
    same(torch.take_along_dim(t.cuda(), torch.tensor([3, 7]).cuda()), torch.take_along_dim(t, torch.tensor([3, 7])))


def test_out_of_range_indices_raise_and_the_device_keeps_working():
    # Gathers and scatters report a bad index at the next synchronisation (as torch's device-side
    # asserts do), advanced indexing at once.
    t = torch.arange(12.0).reshape(3, 4).cuda()
    with pytest.raises(IndexError):
        t.index_select(0, torch.tensor([0, 3]).cuda())
        torch.cuda.synchronize()
    check_ok()
    with pytest.raises(RuntimeError):
        torch.gather(t, 1, torch.tensor([[0, 4]]).cuda())
        torch.cuda.synchronize()
    check_ok()
    with pytest.raises(RuntimeError):
        torch.gather(t, 1, torch.tensor([[-1, 0]]).cuda())
        torch.cuda.synchronize()
    check_ok()
    with pytest.raises(IndexError):
        torch.take(t, torch.tensor([12]).cuda())
        torch.cuda.synchronize()
    check_ok()
    with pytest.raises((IndexError, RuntimeError)):
        t[torch.tensor([5]).cuda()]
        torch.cuda.synchronize()
    check_ok()
    with pytest.raises((IndexError, RuntimeError)):
        t.scatter_(0, torch.tensor([[3]]).cuda(), torch.ones(1, 1).cuda())
        torch.cuda.synchronize()
    check_ok()
    with pytest.raises((IndexError, RuntimeError)):
        t.index_add_(0, torch.tensor([7]).cuda(), torch.ones(1, 4).cuda())
        torch.cuda.synchronize()
    check_ok()
    assert t.cpu().tolist() == torch.arange(12.0).reshape(3, 4).tolist()


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bfloat16, torch.bool])
def test_getitem_setitem_with_tensors(dtype):
    t = (torch.arange(60).reshape(3, 4, 5) % 9).to(dtype)
    g = t.cuda()
    i = torch.tensor([2, 0, -1])
    m = torch.tensor([True, False, True, True])
    same(g[i.cuda()], t[i])
    same(g[:, i.cuda()], t[:, i])
    same(g[i.cuda(), :, i.cuda()], t[i, :, i])
    same(g[:, m.cuda()], t[:, m])
    same(g[(t > 3).cuda()], t[t > 3])
    same(g[1, i.cuda()], t[1, i])
    same(g[i], t[i])  # CPU index into a CUDA tensor, as torch allows
    v = g[0]  # basic indexing stays a view on the device
    assert v.is_cuda
    for idx in [i, m]:
        a, b = t.clone(), g.clone()
        a[:, idx] = torch.ones(1, dtype=dtype)
        b[:, idx.cuda()] = torch.ones(1, dtype=dtype).cuda()
        same(b, a)
        a[0, idx] = 0
        b[0, idx.cuda()] = 0
        same(b, a)


def test_index_put_and_index_ops():
    t = torch.zeros(5, 3)
    idx = torch.tensor([0, 2, 0, 4])
    src = rand(4, 3)
    same(t.cuda().index_put_((idx.cuda(),), src.cuda(), accumulate=True),
         t.clone().index_put_((idx,), src, accumulate=True), 1e-6, 1e-6)
    same(t.cuda().index_add(0, idx.cuda(), src.cuda(), alpha=2),
         t.index_add(0, idx, src, alpha=2), 1e-6, 1e-6)
    same(t.cuda().index_copy(0, torch.tensor([4, 1, 0, 2]).cuda(), src.cuda()),
         t.index_copy(0, torch.tensor([4, 1, 0, 2]), src))
    same(t.cuda().index_fill(1, torch.tensor([0, 2]).cuda(), -1.5),
         t.index_fill(1, torch.tensor([0, 2]), -1.5))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32])
def test_scatter_family(dtype):
    t = torch.zeros(3, 5, dtype=dtype)
    idx = torch.tensor([[0, 1, 2, 0, 0], [2, 0, 0, 1, 2]])
    src = (torch.arange(10).reshape(2, 5) + 1).to(dtype)
    same(t.cuda().scatter(0, idx.cuda(), src.cuda()), t.scatter(0, idx, src))
    same(t.cuda().scatter_add(0, idx.cuda(), src.cuda()), t.scatter_add(0, idx, src))
    same(t.cuda().scatter(1, idx.cuda(), 7), t.scatter(1, idx, 7))
    same(t.cuda().scatter_reduce(0, idx.cuda(), src.cuda(), "amax"), t.scatter_reduce(0, idx, src, "amax"))
    g = t.cuda()
    g.scatter_(0, idx.cuda(), src.cuda(), reduce="add")
    same(g, t.clone().scatter_(0, idx, src, reduce="add"))


@pytest.mark.parametrize("dtype", ALL)
def test_masked_fill_every_dtype(dtype):
    t = (torch.arange(24).reshape(2, 3, 4) % 5).to(dtype)
    m = torch.tensor([True, False, False, True])
    same(t.cuda().masked_fill(m.cuda(), 1), t.masked_fill(m, 1))
    g = t.cuda().transpose(0, 2)
    g.masked_fill_(torch.tensor([[True], [False], [True]]).cuda(), 0)
    same(g, t.transpose(0, 2).clone().masked_fill_(torch.tensor([[True], [False], [True]]), 0))
    same(t.cuda().masked_fill(m.cuda(), torch.tensor(1).to(dtype).cuda()),
         t.masked_fill(m, torch.tensor(1).to(dtype)))


def test_masked_fill_large_and_mask_ops():
    t = rand(1200, 1000)
    m = t > 0.2
    same(t.cuda().masked_fill(m.cuda(), float("-inf")), t.masked_fill(m, float("-inf")))
    s = rand(6, 4)
    ms = s > 0
    same(torch.masked_select(s.cuda(), ms.cuda()), torch.masked_select(s, ms))
    same(s.cuda().masked_scatter(ms.cuda(), rand(24, seed=3).cuda()), s.masked_scatter(ms, rand(24, seed=3)))
    same(torch.nonzero(ms.cuda()), torch.nonzero(ms))
    same(torch.argwhere(ms.cuda()), torch.argwhere(ms))


def test_search_and_count():
    seq = torch.tensor([1.0, 3.0, 5.0, 7.0])
    vals = torch.tensor([[0.0, 3.0], [6.0, 9.0]])
    same(torch.searchsorted(seq.cuda(), vals.cuda()), torch.searchsorted(seq, vals))
    same(torch.searchsorted(seq.cuda(), vals.cuda(), right=True, out_int32=True),
         torch.searchsorted(seq, vals, right=True, out_int32=True))
    same(torch.bucketize(vals.cuda(), seq.cuda()), torch.bucketize(vals, seq))
    c = torch.tensor([0, 3, 3, 1, 0])
    same(torch.bincount(c.cuda()), torch.bincount(c))
    w = torch.tensor([0.5, 1.0, 2.0, 0.25, 1.0])
    same(torch.bincount(c.cuda(), w.cuda(), minlength=6), torch.bincount(c, w, minlength=6))
    same(torch.nn.functional.one_hot(c.cuda()), torch.nn.functional.one_hot(c))
    same(torch.nn.functional.one_hot(c.cuda(), 5), torch.nn.functional.one_hot(c, 5))


def test_index_gradients():
    a = rand(5, 4)
    idx = torch.tensor([0, 2, 2, 4])
    res = []
    for dev in ["cpu", "cuda"]:
        x = a.to(dev).detach().requires_grad_()
        i = idx.to(dev)
        gi = torch.tensor([[0, 2], [3, 1]]).to(dev)
        y = (x.index_select(0, i) * 2).sum() + torch.gather(x, 1, gi).sum()
        y = y + x[i, 1].sum() + x.masked_fill(x > 0, 0.0).sum()
        y.backward()
        res.append(x.grad)
    same(res[1], res[0], 1e-6, 1e-6)


# ------------------------------------------------------------------------------ shape copies

@pytest.mark.parametrize("dtype", ALL)
def test_cat_stack_flip_roll_repeat(dtype):
    a = (torch.arange(24).reshape(2, 3, 4) % 6).to(dtype)
    b = (torch.arange(12).reshape(2, 3, 2) % 4).to(dtype)
    same(torch.cat([a.cuda(), b.cuda()], dim=2), torch.cat([a, b], dim=2))
    same(torch.cat([a.cuda(), a.cuda().flip(0)], dim=0), torch.cat([a, a.flip(0)], dim=0))
    same(torch.cat([a.cuda().transpose(0, 1), a.cuda().transpose(0, 1)], 1),
         torch.cat([a.transpose(0, 1), a.transpose(0, 1)], 1))
    same(torch.stack([a.cuda(), a.cuda()], 1), torch.stack([a, a], 1))
    same(torch.flip(a.cuda(), [0, 2]), torch.flip(a, [0, 2]))
    same(torch.flip(a.cuda().transpose(1, 2), [1]), torch.flip(a.transpose(1, 2), [1]))
    same(torch.roll(a.cuda(), 2), torch.roll(a, 2))
    same(torch.roll(a.cuda(), (1, -1), (0, 2)), torch.roll(a, (1, -1), (0, 2)))
    same(a.cuda().repeat(2, 1, 1, 3), a.repeat(2, 1, 1, 3))
    same(torch.tile(b.cuda(), (2,)), torch.tile(b, (2,)))
    same(torch.repeat_interleave(a.cuda(), 2, dim=1), torch.repeat_interleave(a, 2, dim=1))
    r = torch.tensor([1, 0, 3])
    same(torch.repeat_interleave(a.cuda(), r.cuda(), dim=1), torch.repeat_interleave(a, r, dim=1))
    same(torch.repeat_interleave(r.cuda()), torch.repeat_interleave(r))


def test_cat_mixed_dtypes_and_large():
    a, b = torch.ones(2, 3, dtype=torch.int32), rand(2, 3)
    same(torch.cat([a.cuda(), b.cuda()]), torch.cat([a, b]))
    big = rand(1100, 1000)
    same(torch.cat([big.cuda(), big.cuda()[:, :10]], 1), torch.cat([big, big[:, :10]], 1))
    same(torch.flip(big.cuda(), [1]), torch.flip(big, [1]))
    with pytest.raises(RuntimeError, match="same device"):
        torch.cat([a.cuda(), a])


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("k", [-2, 0, 1, 5])
def test_tril_triu(dtype, k):
    t = (torch.arange(2 * 4 * 5).reshape(2, 4, 5) % 7 + 1).to(dtype)
    same(torch.tril(t.cuda(), k), torch.tril(t, k))
    same(torch.triu(t.cuda(), k), torch.triu(t, k))
    same(torch.triu(t.cuda().transpose(1, 2), k), torch.triu(t.transpose(1, 2), k))
    g = t.cuda()
    g.tril_(k)
    same(g, t.clone().tril_(k))


def test_shape_copy_gradients():
    a = rand(3, 4)
    res = []
    for dev in ["cpu", "cuda"]:
        x = a.to(dev).detach().requires_grad_()
        y = torch.cat([x, x.flip(1)], 0) * torch.arange(24.0).reshape(6, 4).to(dev)
        (y.sum() + torch.tril(x).sum() * 3 + x.repeat(2, 1).sum() + x.roll(1, 0)[0].sum()).backward()
        res.append(x.grad)
    same(res[1], res[0], 1e-6, 1e-6)


# ------------------------------------------------------------------------------ random ops

def test_random_ops_that_read_tensors():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0]).cuda()
    b = torch.bernoulli(p)
    assert b.is_cuda and b.cpu().tolist() == [0.0, 1.0, 0.0, 1.0]
    n = torch.normal(torch.zeros(100).cuda(), torch.ones(100).cuda())
    assert n.is_cuda and n.shape == (100,)
    n2 = torch.normal(0.0, torch.full((3,), 2.0).cuda())
    assert n2.is_cuda
    w = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 5.0]]).cuda()
    s = torch.multinomial(w, 4, replacement=True)
    assert s.is_cuda and s.cpu().tolist() == [[1, 1, 1, 1], [2, 2, 2, 2]]
    r = torch.randperm(10, device="cuda")
    assert r.is_cuda and sorted(r.cpu().tolist()) == list(range(10))
    torch.manual_seed(3)
    c = torch.randperm(50)
    torch.manual_seed(3)
    assert torch.randperm(50, device="cuda").cpu().tolist() == c.tolist()
