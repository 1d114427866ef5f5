"""Views and shape ops against NumPy: values, shapes, strides, storage sharing and errors.

Every op test runs on every device; the tests of memory shared with NumPy stay on the CPU."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from helpers import ALL_DTYPES, NP_DTYPES, random_array


def as_np(t):
    """A NumPy copy of a tensor on any device (bfloat16 through float32)."""
    return np.array(t.numpy(force=True), copy=True)


def mk(rng, shape, dtype=torch.float32, device="cpu"):
    """A tensor and the exact NumPy array of its values (bfloat16 values rounded already)."""
    t = torch.tensor(random_array(rng, shape, dtype), dtype=dtype, device=device)
    return t, as_np(t)


def ramp(*shape, dtype=np.int64, device="cpu"):
    """0, 1, 2, ... as a contiguous tensor on `device`, and as a NumPy array."""
    a = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    return torch.tensor(a, device=device), a


def noncontig(a, device="cpu"):
    """A column-major (non-contiguous) tensor holding `a`, and `a` itself."""
    t = torch.tensor(np.ascontiguousarray(a.T), device=device)
    return t.permute(*reversed(range(a.ndim))), a


def elem_offset(view, base):
    """Storage offset of `view` relative to `base`, from data_ptr arithmetic."""
    return (view.data_ptr() - base.data_ptr()) // base.element_size()


def assert_same(t, expected):
    got = as_np(t)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected)


def np_strides(a):
    return tuple(s // a.itemsize for s in a.strides)


# ----------------------------------------------------------------------------------------------
# Views share storage


SWV = np.lib.stride_tricks.sliding_window_view
VIEW_CASES = {
    "view": (lambda x: x.view(6, 4), lambda a: a.reshape(6, 4)),
    "view_flat": (lambda x: x.view(-1), lambda a: a.reshape(-1)),
    "reshape": (lambda x: x.reshape(4, -1), lambda a: a.reshape(4, -1)),
    "permute": (lambda x: x.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0)),
    "transpose": (lambda x: x.transpose(0, 2), lambda a: a.swapaxes(0, 2)),
    "swapdims": (lambda x: torch.swapdims(x, -1, 0), lambda a: a.swapaxes(-1, 0)),
    "T": (lambda x: x.T, lambda a: a.T),
    "mT": (lambda x: x.mT, lambda a: a.swapaxes(-1, -2)),
    "expand": (lambda x: x.narrow(1, 0, 1).expand(2, 5, 4), lambda a: np.broadcast_to(a[:, :1], (2, 5, 4))),
    "broadcast_to": (lambda x: x.broadcast_to((3, 2, 3, 4)), lambda a: np.broadcast_to(a, (3, 2, 3, 4))),
    "unsqueeze": (lambda x: x.unsqueeze(1), lambda a: a[:, None]),
    "squeeze": (lambda x: x.narrow(1, 1, 1).squeeze(1), lambda a: a[:, 1]),
    "flatten": (lambda x: x.flatten(0, 1), lambda a: a.reshape(6, 4)),
    "unflatten": (lambda x: x.unflatten(2, (2, 2)), lambda a: a.reshape(2, 3, 2, 2)),
    "narrow": (lambda x: x.narrow(2, 1, 2), lambda a: a[:, :, 1:3]),
    "select": (lambda x: x.select(1, 2), lambda a: a[:, 2]),
    "unfold": (lambda x: x.unfold(2, 2, 1), lambda a: SWV(a, 2, axis=2)),
    "chunk": (lambda x: x.chunk(2, 2)[1], lambda a: a[:, :, 2:]),
    "split": (lambda x: x.split([1, 2], 1)[1], lambda a: a[:, 1:]),
    "tensor_split": (lambda x: x.tensor_split([1, 3], 2)[1], lambda a: a[:, :, 1:3]),
    "unbind": (lambda x: x.unbind(2)[3], lambda a: a[:, :, 3]),
    "movedim": (lambda x: x.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1)),
    "diagonal": (lambda x: x.diagonal(1, 1, 2), lambda a: np.diagonal(a, 1, 1, 2)),
    "as_strided": (lambda x: x.as_strided((3, 3), (5, 1), 2), lambda a: np.lib.stride_tricks.as_strided(a.ravel()[2:], (3, 3), (40, 8))),
    "view_of_view": (lambda x: x.transpose(0, 1).select(2, 1).narrow(0, 1, 2), lambda a: a.swapaxes(0, 1)[:, :, 1][1:3]),
}


@pytest.mark.filterwarnings("ignore:The use of `x.T`:UserWarning")
@pytest.mark.parametrize("name", list(VIEW_CASES))
@pytest.mark.parametrize("base", ["contiguous", "strided"])
def test_view_ops_share_storage_with_numpy_strides(name, base, device):
    fn, np_fn = VIEW_CASES[name]
    a = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    x = torch.tensor(a, device=device)
    if base == "strided":
        # A view with a storage offset and gaps, built from view ops alone, so offsets and
        # strides must compose.
        big = np.zeros(49, dtype=np.int64)
        a = big[1:].reshape(2, 3, 8)[:, :, 2:6]
        a[...] = np.arange(24).reshape(2, 3, 4)
        x = torch.tensor(big, device=device).narrow(0, 1, 48).view(2, 3, 8).unfold(2, 4, 1).select(2, 2)
        assert x.stride() == (24, 8, 1) and x.storage_offset() == 3
        if name == "view_flat":
            with pytest.raises(RuntimeError, match="view size is not compatible"):
                fn(x)
            return
        if name in ("reshape", "as_strided"):
            # reshape must copy here; as_strided's offset is absolute (tested separately).
            return
    v = fn(x)
    e = np_fn(a)
    assert v.device.type == device
    assert_same(v, e)
    # Same memory: the same first element address, and the same element strides as NumPy's
    # view of the same buffer (size-1 dims may have any stride).
    if e.size:
        assert v.data_ptr() - x.data_ptr() == e.ctypes.data - a.ctypes.data
        for size, s1, s2 in zip(e.shape, v.stride(), np_strides(e)):
            if size > 1:
                assert s1 == s2, (v.stride(), np_strides(e))
        # A write through the view is visible in the base.
        v[(0,) * v.dim()] = -77
        assert as_np(v)[(0,) * v.dim()] == -77
        assert (as_np(x) == -77).any()


@pytest.mark.filterwarnings("ignore:The use of `x.T`:UserWarning")
@pytest.mark.parametrize("name", list(VIEW_CASES))
def test_views_of_from_numpy_write_into_the_array(name):
    # CPU only: the tensor borrows the NumPy array's memory.
    fn, np_fn = VIEW_CASES[name]
    a = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    v = fn(torch.from_numpy(a))
    e = np_fn(a)
    v.numpy()[(0,) * v.dim()] = -77
    assert e[(0,) * e.ndim] == -77
    assert (a == -77).any()


def test_view_and_reshape_share_storage_and_match_numpy(device):
    x, a = ramp(2, 3, 4, device=device)
    v = x.view(4, -1)
    assert v.shape == torch.Size([4, 6]) and v.stride() == (6, 1)
    assert v.device.type == device
    assert_same(v, a.reshape(4, -1))
    v[0, 0] = 99
    assert as_np(x)[0, 0, 0] == 99 and v.data_ptr() == x.data_ptr()
    assert x.view((24,)).shape == (24,)
    assert x.view(torch.Size([6, 4])).shape == (6, 4)
    a[0, 0, 0] = 99
    assert_same(x.view_as(torch.zeros(3, 8, device=device)), a.reshape(3, 8))
    r = x.reshape(-1)
    r[1] = -5
    assert as_np(x).ravel()[1] == -5
    a.ravel()[1] = -5
    assert_same(x.reshape_as(torch.zeros(8, 3, device=device)), a.reshape(8, 3))
    assert torch.reshape(x, (2, 12)).shape == (2, 12)


@pytest.mark.parametrize("src", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("dst", [d for d in ALL_DTYPES if d != torch.bool], ids=str)
def test_view_dtype_reinterprets_bytes(src, dst, device):
    base = np.arange(1, 33, dtype=np.uint8).reshape(2, 16)
    if src == torch.bool:
        x = torch.tensor(base.astype(np.bool_), device=device)
    else:
        x = torch.tensor(base, device=device).view(src)
    data = base.tobytes() if src != torch.bool else base.astype(np.bool_).tobytes()
    v = x.view(dst)
    assert v.data_ptr() == x.data_ptr() and v.device.type == device
    assert v.shape == (2, 16 // dst.itemsize) and v.stride() == (16 // dst.itemsize, 1)
    assert as_np(v.view(torch.uint8)).tobytes() == data
    if dst in NP_DTYPES:
        expected = np.frombuffer(data, dtype=NP_DTYPES[dst]).reshape(2, -1)
        np.testing.assert_array_equal(as_np(v), expected)


def test_view_dtype_errors_and_strides(device):
    x = torch.tensor(np.arange(12, dtype=np.float32).reshape(3, 4), device=device)
    d = x.view(torch.float64)
    assert d.shape == (3, 2) and d.stride() == (2, 1)
    assert x.view(torch.int16).stride() == (8, 1)
    assert x.view(torch.int32).shape == (3, 4)
    with pytest.raises(RuntimeError, match=r"self.stride\(-1\) must be 1 to view Float as Double \(different element sizes\), but got 4"):
        x.t().view(torch.float64)
    with pytest.raises(RuntimeError, match="self.dim\\(\\) cannot be 0"):
        torch.tensor(1.0, device=device).view(torch.float16)
    with pytest.raises(RuntimeError, match=r"self.storage_offset\(\) must be divisible by 2"):
        x.narrow(1, 1, 2).view(torch.float64)
    with pytest.raises(NotImplementedError):
        x.view(torch.bool)


def test_view_of_noncontiguous_fails_and_reshape_copies(device):
    x, a = ramp(3, 4, device=device)
    t = x.t()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.view(12)
    r = t.reshape(12)
    assert_same(r, a.T.reshape(12))
    r[0] = 1000
    assert x[0, 0].item() == 0  # the reshape of a non-viewable layout is a copy
    # Splitting a dim of a transposed tensor is still a view.
    v = t.view(2, 2, 3)
    assert v.stride() == (2, 1, 4)
    assert_same(v, a.T.reshape(2, 2, 3))


def test_view_shape_errors(device):
    x, _ = ramp(2, 3, device=device)
    with pytest.raises(RuntimeError, match=r"shape '\[4, -1\]' is invalid for input of size 6|invalid for input of size 6"):
        x.view(4, -1)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        x.view(-1, -1)
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        x.reshape(7)


def test_views_of_views_compose_storage_offset(device):
    x, a = ramp(4, 5, 6, device=device)
    v = x.select(0, 1)
    w = v.narrow(1, 2, 3).select(0, 3)
    expected = a[1, 3, 2:5]
    assert_same(w, expected)
    assert w.storage_offset() == 1 * 30 + 3 * 6 + 2
    assert elem_offset(w, x) == w.storage_offset()
    u = w.unsqueeze(0).expand(2, 3)
    assert u.stride() == (0, 1) and u.storage_offset() == w.storage_offset()
    w[0] = -1
    assert as_np(x)[1, 3, 2] == -1


@pytest.mark.parametrize("dims", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (-1, -3, -2)])
def test_permute_matches_numpy_transpose(dims, device):
    x, a = ramp(2, 3, 4, device=device)
    p = x.permute(*dims)
    e = np.transpose(a, dims)
    assert_same(p, e)
    assert p.stride() == np_strides(e)
    assert torch.permute(x, dims).shape == e.shape
    assert x.permute(dims).data_ptr() == x.data_ptr()


def test_permute_errors(device):
    x, _ = ramp(2, 3, device=device)
    with pytest.raises(RuntimeError, match="does not match"):
        x.permute(0)
    with pytest.raises(RuntimeError, match="duplicate dims"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        x.permute(0, 2)


def test_transpose_swap_and_t(device):
    x, a = ramp(2, 3, 4, device=device)
    for f in (x.transpose, x.swapaxes, x.swapdims, lambda a_, b_: torch.transpose(x, a_, b_)):
        tr = f(0, 2)
        assert_same(tr, np.swapaxes(a, 0, 2))
        assert tr.stride() == (1, 4, 12)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-3, 2\], but got 3"):
        x.transpose(0, 3)
    m, am = ramp(3, 4, device=device)
    assert_same(m.t(), am.T)
    assert_same(torch.t(m), am.T)
    v, av = ramp(5, device=device)
    assert_same(v.t(), av)
    s = torch.tensor(3.0, device=device)
    assert s.t().shape == ()
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D"):
        x.t()


def test_T_and_mT_properties(device):
    x, a = ramp(2, 3, 4, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(x.T, a.T)
    assert x.T.stride() == np_strides(a.T)
    assert_same(x.mT, np.swapaxes(a, -1, -2))
    assert_same(x.mH, np.swapaxes(a, -1, -2))
    m, am = ramp(2, 3, device=device)
    assert_same(m.H, am.T)
    x.mT[0, 1, 0] = 77
    assert as_np(x)[0, 0, 1] == 77
    with pytest.raises(RuntimeError, match="tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor"):
        torch.ones(3, device=device).mT


def test_expand_broadcast_to_and_sharing(device):
    x, a = ramp(3, 1, device=device)
    e = x.expand(2, 3, 4)
    assert e.shape == (2, 3, 4) and e.stride() == (0, 1, 0)
    assert_same(e, np.broadcast_to(a, (2, 3, 4)))
    assert x.expand((2, -1, 4)).shape == (2, 3, 4)
    assert x.expand_as(torch.zeros(3, 5, device=device)).shape == (3, 5)
    b = torch.broadcast_to(x, (3, 7))
    assert b.data_ptr() == x.data_ptr() and b.stride() == (1, 0)
    x[2, 0] = 50
    assert as_np(e)[1, 2, 3] == 50
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(4\) must match the existing size \(3\)"):
        x.expand(4, 4)
    with pytest.raises(RuntimeError, match="must be greater or equal to the number of dimensions"):
        x.expand(3)


def test_broadcast_tensors_and_shapes(device):
    x, a = ramp(3, 1, device=device)
    y, b = ramp(4, device=device)
    bx, by = torch.broadcast_tensors(x, y)
    ea, eb = np.broadcast_arrays(a, b)
    assert_same(bx, ea)
    assert_same(by, eb)
    assert bx.data_ptr() == x.data_ptr()
    assert torch.broadcast_shapes((3, 1), (4,), (2, 1, 1)) == torch.Size([2, 3, 4])
    assert isinstance(torch.broadcast_shapes((1,), 5), torch.Size)
    assert torch.broadcast_shapes() == torch.Size([])
    with pytest.raises(RuntimeError, match="Shape mismatch: objects cannot be broadcast to a single shape"):
        torch.broadcast_shapes((3,), (4,))
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\)"):
        torch.broadcast_tensors(torch.ones(3, device=device), torch.ones(4, device=device))


def test_squeeze_unsqueeze(device):
    x, a = ramp(1, 3, 1, 2, device=device)
    assert_same(x.squeeze(), np.squeeze(a))
    assert x.squeeze(0).shape == (3, 1, 2)
    assert x.squeeze(1).shape == (1, 3, 1, 2)  # non-size-1 dims stay
    assert x.squeeze((0, 2)).shape == (3, 2)
    assert x.squeeze(dim=-2).shape == (1, 3, 2)
    assert torch.squeeze(x, (0, -2)).shape == (3, 2)
    assert x.squeeze().data_ptr() == x.data_ptr()
    with pytest.raises(IndexError, match=r"expected to be in range of \[-4, 3\], but got 4"):
        x.squeeze(4)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.squeeze((0, -4))
    y, b = ramp(2, 3, device=device)
    for d in range(-3, 3):
        u = y.unsqueeze(d)
        assert_same(u, np.expand_dims(b, d))
    assert torch.unsqueeze(y, 2).stride() == (3, 1, 1)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-3, 2\], but got 3"):
        y.unsqueeze(3)
    s = torch.tensor(5, device=device)
    assert s.unsqueeze(0).shape == (1,) and s.squeeze().shape == ()
    assert s.squeeze(0).shape == ()


def test_flatten_and_unflatten(device):
    x, a = ramp(2, 3, 4, 5, device=device)
    f = x.flatten()
    assert_same(f, a.ravel())
    assert f.data_ptr() == x.data_ptr()
    assert x.flatten(1).shape == (2, 60)
    assert x.flatten(1, 2).shape == (2, 12, 5) and x.flatten(1, 2).stride() == (60, 5, 1)
    assert torch.flatten(x, start_dim=-2).shape == (2, 3, 20)
    assert x.flatten(2, 2).shape == x.shape
    assert torch.tensor(3.0, device=device).flatten().shape == (1,)
    # Non-contiguous: flatten copies when it must.
    t = x.transpose(0, 3)
    assert_same(t.flatten(), np.transpose(a, (3, 1, 2, 0)).ravel())
    # flattening the untouched leading dims of a transposed tensor is still a view
    t2 = x.transpose(2, 3)
    assert t2.flatten(0, 1).data_ptr() == x.data_ptr()
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        x.flatten(2, 1)
    u = f.unflatten(0, (2, 3, -1))
    assert u.shape == (2, 3, 20) and u.data_ptr() == x.data_ptr()
    assert torch.unflatten(x, -1, (5, 1)).shape == (2, 3, 4, 5, 1)
    with pytest.raises(RuntimeError, match=r"don't multiply up to the size of dim 0 \(120\)"):
        f.unflatten(0, (7, 3))


def test_narrow_select_unfold(device):
    x, a = ramp(4, 6, device=device)
    n = x.narrow(1, 2, 3)
    assert_same(n, a[:, 2:5])
    assert n.storage_offset() == 2 and n.stride() == (6, 1)
    assert_same(torch.narrow(x, 0, -2, 2), a[-2:])
    with pytest.raises(RuntimeError, match=r"start \(4\) \+ length \(3\) exceeds dimension size \(6\)"):
        x.narrow(1, 4, 3)
    s = x.select(1, -1)
    assert_same(s, a[:, -1])
    assert s.storage_offset() == 5
    with pytest.raises(IndexError, match="index 6 is out of bounds for dimension 1 with size 6"):
        x.select(1, 6)
    v, av = ramp(10, device=device)
    u = v.unfold(0, 3, 2)
    assert_same(u, np.lib.stride_tricks.sliding_window_view(av, 3)[::2])
    assert u.stride() == (2, 1) and u.data_ptr() == v.data_ptr()
    u2 = x.unfold(1, 2, 2)
    assert u2.shape == (4, 3, 2)
    assert_same(u2, a.reshape(4, 3, 2))
    assert torch.tensor(1.5, device=device).unfold(0, 1, 1).shape == (1,)
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 10 but size is 11"):
        v.unfold(0, 11, 1)
    with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
        v.unfold(0, 2, 0)


@pytest.mark.parametrize("n,chunks", [(10, 3), (9, 3), (5, 5), (2, 4), (0, 3), (7, 1)])
def test_chunk(n, chunks, device):
    x, a = ramp(n, 2, device=device)
    parts = x.chunk(chunks)
    assert isinstance(parts, tuple)
    if n == 0:
        assert len(parts) == chunks and all(p.shape == (0, 2) for p in parts)
        return
    size = -(-n // chunks)
    expected = [a[i:i + size] for i in range(0, n, size)]
    assert len(parts) == len(expected)
    for p, e in zip(parts, expected):
        assert_same(p, e)
    assert torch.chunk(x, chunks, dim=0)[0].data_ptr() == x.data_ptr()


def test_chunk_errors(device):
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0, got: 0"):
        torch.ones(3, device=device).chunk(0)
    with pytest.raises(RuntimeError, match="at least a 1-dimensional tensor"):
        torch.tensor(1.0, device=device).chunk(2)


def test_split_int_and_sizes(device):
    x, a = ramp(3, 7, device=device)
    parts = x.split(3, dim=1)
    assert [p.shape[1] for p in parts] == [3, 3, 1]
    for p, e in zip(parts, np.split(a, [3, 6], axis=1)):
        assert_same(p, e)
    parts = torch.split(x, [2, 0, 5], 1)
    for p, e in zip(parts, np.split(a, [2, 2], axis=1)):
        assert_same(p, e)
    assert parts[2].storage_offset() == 2
    assert len(x.split(10, 1)) == 1
    assert len(torch.ones(0, device=device).split(0)) == 1
    with pytest.raises(RuntimeError, match=r"split_with_sizes expects split_sizes to sum exactly to 7 .*split_sizes=\[2, 3\]"):
        x.split([2, 3], 1)
    with pytest.raises(RuntimeError, match="split expects split_size be non-negative, but got split_size=-1"):
        x.split(-1)
    with pytest.raises(RuntimeError, match="split_size can only be 0 if dimension size is 0"):
        x.split(0)


@pytest.mark.parametrize("n", [0, 1, 5, 7, 12])
@pytest.mark.parametrize("sections", [1, 2, 3, 5, 8])
def test_tensor_split_sections_matches_array_split(n, sections, device):
    x, a = ramp(2, n, device=device)
    parts = x.tensor_split(sections, dim=1)
    expected = np.array_split(a, sections, axis=1)
    assert len(parts) == len(expected)
    for p, e in zip(parts, expected):
        assert_same(p, e)


@pytest.mark.parametrize("indices", [[2, 5], [0], [3, 3, 9], [-2], [6, 1], [20]])
def test_tensor_split_indices_matches_array_split(indices, device):
    x, a = ramp(8, device=device)
    parts = torch.tensor_split(x, indices)
    expected = np.array_split(a, indices)
    assert len(parts) == len(expected)
    for p, e in zip(parts, expected):
        assert_same(p, e)
    # The split points are host data: torch takes them as a CPU tensor for any device.
    parts = x.tensor_split(torch.tensor(indices))
    assert len(parts) == len(expected)
    for p, e in zip(parts, expected):
        assert_same(p, e)
    assert len(x.tensor_split(torch.tensor(3))) == 3
    assert len(x.tensor_split(sections=4)) == 4
    assert len(x.tensor_split(indices=(1, 2))) == 3


def test_tensor_split_errors(device):
    with pytest.raises(RuntimeError, match="number of sections must be larger than 0, got 0"):
        torch.ones(3, device=device).tensor_split(0)
    with pytest.raises(RuntimeError, match="at least a 1-dimensional tensor"):
        torch.tensor(1.0, device=device).tensor_split(2)


def test_unbind_and_iteration(device):
    x, a = ramp(3, 4, device=device)
    parts = x.unbind(1)
    assert len(parts) == 4
    for i, p in enumerate(parts):
        assert_same(p, a[:, i])
    assert torch.unbind(x)[2].storage_offset() == 8
    assert [r.tolist() for r in x] == a.tolist()
    with pytest.raises(IndexError):
        x.unbind(2)


@pytest.mark.parametrize("src,dst", [(0, 2), (-1, 0), ((0, 1), (2, 0)), ([0, 2], [-1, -3]), ((), ())])
def test_movedim_matches_numpy_moveaxis(src, dst, device):
    x, a = ramp(2, 3, 4, device=device)
    m = x.movedim(src, dst)
    e = np.moveaxis(a, src, dst)
    assert_same(m, e)
    assert m.stride() == np_strides(e)
    assert_same(torch.moveaxis(x, src, dst), e)


def test_movedim_errors(device):
    x, _ = ramp(2, 3, device=device)
    with pytest.raises(RuntimeError, match="repeated dim in `source`"):
        x.movedim((0, 0), (0, 1))
    with pytest.raises(RuntimeError, match="should contain the same number of dims"):
        x.movedim((0, 1), (0,))


@pytest.mark.parametrize("offset", [-4, -2, -1, 0, 1, 3, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (0, 2), (-1, -2)])
def test_diagonal_matches_numpy(offset, dims, device):
    x, a = ramp(3, 4, 5, device=device)
    d = x.diagonal(offset, *dims)
    e = np.diagonal(a, offset, *dims)
    assert_same(d, e)
    if e.size:
        assert d.data_ptr() - x.data_ptr() == e.ctypes.data - a.ctypes.data
        assert d.stride()[-1] == np_strides(e)[-1]
    assert torch.diagonal(x, offset=offset, dim1=dims[0], dim2=dims[1]).shape == e.shape


def test_diagonal_is_a_writable_view(device):
    x, a = ramp(3, 3, device=device)
    d = x.diagonal()
    assert d.stride() == (4,)
    d[:] = -1
    assert np.all(np.diag(as_np(x)) == -1)
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 0, 0"):
        x.diagonal(0, 0, 0)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        torch.ones(3, device=device).diagonal()


def test_as_strided_contiguous_is_contiguous_stride(device):
    x, a = ramp(12, device=device)
    s = x.as_strided((3, 3), (3, 1), 2)
    assert_same(s, np.lib.stride_tricks.as_strided(a[2:], (3, 3), (24, 8)))
    assert s.storage_offset() == 2
    w = torch.as_strided(x, (2, 2), (1, 2))
    assert w.stride() == (1, 2) and not w.is_contiguous()
    c = w.contiguous()
    assert c.is_contiguous() and c.stride() == (2, 1) and c.data_ptr() != x.data_ptr()
    assert c.device.type == device
    assert_same(c, [[0, 2], [1, 3]])
    assert x.contiguous() is x
    with pytest.raises(RuntimeError, match="out of bounds for storage"):
        x.as_strided((4, 4), (4, 1))


def test_inplace_view_ops_rebind_the_same_object(device):
    x, a = ramp(2, 1, 3, device=device)
    ptr = x.data_ptr()
    assert x.squeeze_() is x and x.shape == (2, 3)
    assert x.unsqueeze_(0) is x and x.shape == (1, 2, 3)
    x.squeeze_(0).t_()
    assert x.shape == (3, 2) and x.stride() == (1, 3) and x.data_ptr() == ptr
    assert_same(x, a.reshape(2, 3).T)
    x.transpose_(0, 1).swapaxes_(0, 1).swapdims_(1, 0)
    assert x.stride() == (3, 1)
    x.as_strided_((3,), (2,), 1)
    assert_same(x, a.ravel()[1::2])
    with pytest.raises(RuntimeError, match=r"t_\(\) expects a tensor with <= 2 dimensions"):
        torch.ones(1, 1, 1, device=device).t_()


def test_stride_and_is_contiguous(device):
    x, a = ramp(2, 3, 4, device=device)
    assert x.stride() == (12, 4, 1) and x.stride(-1) == 1
    assert x.is_contiguous()
    assert not x.transpose(0, 1).is_contiguous()
    assert x.narrow(2, 0, 2).stride() == (12, 4, 1)


# ----------------------------------------------------------------------------------------------
# Copying ops: every dtype


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_cat_all_dtypes(rng, dtype, device):
    x, a = mk(rng, (2, 3), dtype, device)
    y, b = mk(rng, (2, 5), dtype, device)
    c = torch.cat([x, y], dim=1)
    assert c.dtype == dtype and c.device.type == device
    assert_same(c, np.concatenate([a, b], axis=1))
    assert_same(torch.cat((x, x, x)), np.concatenate([a, a, a]))
    assert_same(torch.concat([x, y], -1), np.concatenate([a, b], -1))
    assert_same(torch.concatenate([x, y], axis=1), np.concatenate([a, b], axis=1))
    assert c.data_ptr() != x.data_ptr()


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_cat_noncontiguous_and_large(rng, dim, device):
    a = rng.random((40, 30, 50))
    x, _ = noncontig(a, device)
    b = a[:, ::2][:, :, ::-1]
    y = torch.tensor(b.copy(), device=device)
    contiguous = torch.tensor(a, device=device)
    assert_same(torch.cat([x, contiguous], dim), np.concatenate([a, a], dim))
    part = np.take(a, range(7), axis=dim)
    assert_same(torch.cat([x, x.narrow(dim, 0, 7)], dim), np.concatenate([a, part], dim))
    assert_same(torch.cat([y, y], dim), np.concatenate([b, b], dim))


@pytest.mark.parametrize(
    "da,db,expected",
    [
        (torch.int32, torch.int64, torch.int64),
        (torch.uint8, torch.int8, torch.int16),
        (torch.bool, torch.int32, torch.int32),
        (torch.int64, torch.float16, torch.float16),
        (torch.float16, torch.bfloat16, torch.float32),
        (torch.float32, torch.float64, torch.float64),
    ],
)
def test_cat_promotes_like_torch(rng, da, db, expected, device):
    x, a = mk(rng, (2, 2), da, device)
    y, b = mk(rng, (1, 2), db, device)
    c = torch.cat([x, y])
    assert c.dtype == expected and c.device.type == device
    assert_same(c, np.concatenate([a.astype(np.float64), b.astype(np.float64)]).astype(as_np(c).dtype))


def test_cat_skips_legacy_empty_and_handles_empty(device):
    x, a = ramp(2, 3, device=device)
    e = torch.tensor([], device=device)  # float32 (0,)
    c = torch.cat([e, x, e])
    assert c.shape == (2, 3) and c.dtype == torch.float32
    assert_same(c, a.astype(np.float32))
    z = torch.zeros(0, 3, dtype=torch.int64, device=device)
    assert_same(torch.cat([z, x, z]), a)
    assert torch.cat([e, e]).shape == (0,)
    assert torch.cat([torch.zeros(2, 0, device=device), torch.zeros(2, 0, device=device)], 1).shape == (2, 0)


def test_cat_errors(device):
    x, _ = ramp(2, 3, device=device)
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list"):
        torch.cat([x, torch.zeros(2, 4, dtype=torch.int64, device=device)])
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions: got 2 and 3"):
        torch.cat([x, torch.zeros(1, 2, 3, dtype=torch.int64, device=device)])
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 1\) cannot be concatenated"):
        torch.cat([x.flatten(), torch.tensor(1, device=device)])
    with pytest.raises(RuntimeError, match="expected a non-empty list of Tensors"):
        torch.cat([])
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        torch.cat([x, x], dim=2)
    with pytest.raises(TypeError):
        torch.cat(x)


def test_cat_out(device):
    x, a = ramp(2, 2, device=device)
    out = torch.zeros(4, 2, dtype=torch.int64, device=device)
    r = torch.cat([x, x], out=out)
    assert r is out
    assert_same(out, np.concatenate([a, a]))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack_all_dtypes(rng, dtype, dim, device):
    x, a = mk(rng, (3, 4), dtype, device)
    y, b = mk(rng, (3, 4), dtype, device)
    s = torch.stack([x, y], dim)
    assert s.device.type == device
    assert_same(s, np.stack([a, b], dim))


def test_stack_edge_cases_and_errors(device):
    s = torch.stack([torch.tensor(1.0, device=device), torch.tensor(2.0, device=device)])
    assert_same(s, np.array([1.0, 2.0], dtype=np.float32))
    x, a = noncontig(np.arange(6.0).reshape(2, 3), device)
    assert_same(torch.stack([x, x], 1), np.stack([a, a], 1))
    e = torch.zeros(0, device=device)
    assert torch.stack([e, e]).shape == (2, 0)
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[3, 2\] at entry 1"):
        torch.stack([x, x.t()])
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        torch.stack([])
    with pytest.raises(IndexError, match=r"expected to be in range of \[-3, 2\], but got 3"):
        torch.stack([x, x], 3)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 2)])
def test_hstack_vstack_dstack_column_stack(rng, shape, device):
    x, a = mk(rng, shape, torch.float64, device)
    y, b = mk(rng, shape, torch.float64, device)
    assert_same(torch.hstack([x, y]), np.hstack([a, b]))
    assert_same(torch.vstack([x, y]), np.vstack([a, b]))
    assert_same(torch.row_stack((x, y)), np.vstack([a, b]))
    assert_same(torch.dstack([x, y]), np.dstack([a, b]))
    if len(shape) <= 2:
        assert_same(torch.column_stack([x, y]), np.column_stack([a, b]))


def test_atleast(device):
    s = torch.tensor(1.0, device=device)
    assert torch.atleast_1d(s).shape == (1,)
    assert torch.atleast_2d(torch.ones(3, device=device)).shape == (1, 3)
    assert torch.atleast_3d(torch.ones(2, 3, device=device)).shape == (2, 3, 1)
    a, b = torch.atleast_3d(s, torch.ones(4, device=device))
    assert a.shape == (1, 1, 1) and b.shape == (1, 4, 1)
    assert a.device.type == device


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_flip_all_dtypes(rng, dtype, device):
    x, a = mk(rng, (3, 4, 5), dtype, device)
    for dims in [(0,), (1,), (2,), (0, 2), (-1, -2), (0, 1, 2), ()]:
        assert_same(x.flip(dims), np.flip(a, dims) if dims else a)
    assert x.flip(0).device.type == device
    assert_same(torch.flip(x, [0, 1]), np.flip(a, (0, 1)))
    assert_same(x.flip(1, 2), np.flip(a, (1, 2)))
    assert_same(torch.fliplr(x), np.fliplr(a))
    assert_same(torch.flipud(x), np.flipud(a))


def test_flip_noncontiguous_empty_scalar_and_errors(device):
    x, a = noncontig(np.arange(24.0).reshape(4, 6), device)
    assert_same(x.flip(0), np.flip(a, 0))
    assert_same(x.narrow(1, 1, 4).flip(1), np.flip(a[:, 1:5], 1))
    f = x.flip(0)
    assert f.is_contiguous() and f.data_ptr() != x.data_ptr()
    assert torch.zeros(0, 3, device=device).flip(0).shape == (0, 3)
    assert torch.tensor(2.0, device=device).flip(0).item() == 2.0
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.flip(0, -2)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got 2"):
        x.flip(2)
    with pytest.raises(RuntimeError, match="Input must be >= 2-d."):
        torch.ones(3, device=device).fliplr()
    with pytest.raises(RuntimeError, match="Input must be >= 1-d."):
        torch.tensor(1.0, device=device).flipud()


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_roll_all_dtypes(rng, dtype, device):
    x, a = mk(rng, (3, 4, 5), dtype, device)
    assert x.roll(2).device.type == device
    assert_same(x.roll(2), np.roll(a, 2))
    assert_same(x.roll(-7), np.roll(a, -7))
    assert_same(torch.roll(x, 1, 1), np.roll(a, 1, 1))
    assert_same(x.roll((1, -2), (0, 2)), np.roll(a, (1, -2), (0, 2)))
    assert_same(x.roll(shifts=[13, 4], dims=[-1, 0]), np.roll(a, (13, 4), (-1, 0)))


def test_roll_noncontiguous_empty_and_errors(device):
    x, a = noncontig(np.arange(12).reshape(3, 4), device)
    assert_same(x.roll(5), np.roll(a, 5))
    assert_same(x.roll(1, 1), np.roll(a, 1, 1))
    assert torch.zeros(0, 2, device=device).roll(1, 0).shape == (0, 2)
    assert torch.tensor(3, device=device).roll(1).item() == 3
    r = x.roll(0, 0)
    assert r.data_ptr() != x.data_ptr()
    with pytest.raises(RuntimeError, match="shifts and dimensions must align. shifts: 2, dims:1"):
        x.roll((1, 2), 0)
    with pytest.raises(IndexError):
        x.roll(1, 2)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_repeat_and_tile_all_dtypes(rng, dtype, device):
    x, a = mk(rng, (2, 3), dtype, device)
    assert x.repeat(2, 3).device.type == device
    assert_same(x.repeat(2, 3), np.tile(a, (2, 3)))
    assert_same(x.repeat((3, 1, 2)), np.tile(a, (3, 1, 2)))
    assert_same(x.repeat(1, 1), a)
    assert_same(torch.tile(x, (2,)), np.tile(a, 2))
    assert_same(x.tile(2, 2, 2), np.tile(a, (2, 2, 2)))
    assert_same(x.repeat(0, 2), np.tile(a, (0, 2)))


def test_repeat_noncontiguous_scalar_and_errors(device):
    x, a = noncontig(np.arange(6.0).reshape(2, 3), device)
    assert_same(x.repeat(2, 2), np.tile(a, (2, 2)))
    r = x.repeat(1, 1)
    assert r.data_ptr() != x.data_ptr()
    assert_same(torch.tensor(7, device=device).repeat(3), np.array([7, 7, 7]))
    assert_same(torch.tensor(7, device=device).repeat(()), np.array(7))
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        x.repeat(-1, 2)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_repeat_interleave_all_dtypes(rng, dtype, device):
    x, a = mk(rng, (3, 4), dtype, device)
    assert x.repeat_interleave(2).device.type == device
    assert_same(x.repeat_interleave(2), np.repeat(a, 2))
    assert_same(x.repeat_interleave(3, dim=0), np.repeat(a, 3, axis=0))
    assert_same(torch.repeat_interleave(x, 2, dim=-1), np.repeat(a, 2, axis=-1))
    reps = np.array([1, 0, 3])
    assert_same(x.repeat_interleave(torch.tensor(reps, device=device), dim=0), np.repeat(a, reps, axis=0))
    assert_same(x.repeat_interleave(torch.tensor([2], device=device), dim=1), np.repeat(a, 2, axis=1))
    assert_same(x.repeat_interleave(torch.tensor(2, device=device), dim=1, output_size=8), np.repeat(a, 2, axis=1))


def test_repeat_interleave_forms_and_errors(device):
    x, a = noncontig(np.arange(6).reshape(2, 3), device)
    assert_same(x.repeat_interleave(2, dim=1), np.repeat(a, 2, axis=1))
    assert_same(torch.repeat_interleave(torch.tensor([2, 0, 1], device=device)), np.array([0, 0, 2]))
    assert_same(torch.repeat_interleave(torch.tensor(5, device=device), 3), np.array([5, 5, 5]))
    assert torch.zeros(0, 2, device=device).repeat_interleave(3, dim=0).shape == (0, 2)
    with pytest.raises(RuntimeError, match="repeats must have the same size as input along dim"):
        x.repeat_interleave(torch.tensor([1, 2], device=device), dim=1)
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        x.repeat_interleave(-1)
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        x.repeat_interleave(torch.tensor([1, -1, 1], device=device), dim=1)
    with pytest.raises(RuntimeError, match="repeats has to be Long or Int tensor"):
        x.repeat_interleave(torch.tensor([1.0, 2.0, 1.0], device=device), dim=1)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("k", [-5, -1, 0, 1, 2, 7])
def test_tril_triu_all_dtypes(rng, dtype, k, device):
    x, a = mk(rng, (2, 4, 5), dtype, device)
    assert x.tril(k).device.type == device
    assert_same(x.tril(k), np.tril(a, k))
    assert_same(torch.triu(x, diagonal=k), np.triu(a, k))


def test_tril_triu_inplace_noncontiguous_and_errors(device):
    x, a = noncontig(np.arange(1.0, 13.0).reshape(3, 4), device)
    assert_same(x.tril(), np.tril(a))
    assert_same(x.triu(1), np.triu(a, 1))
    y = torch.tensor(a, device=device)
    r = y.tril_(-1)
    assert r is y
    assert_same(y, np.tril(a, -1))
    xt, _ = noncontig(a, device)
    xt.triu_()
    assert_same(xt, np.triu(a))
    assert torch.zeros(0, 3, device=device).tril().shape == (0, 3)
    assert torch.zeros(2, 0, 3, device=device).triu().shape == (2, 0, 3)
    out = torch.zeros(3, 4, dtype=torch.float64, device=device)
    assert torch.tril(x, out=out) is out
    assert_same(out, np.tril(a))
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        torch.ones(3, device=device).tril()
    with pytest.raises(RuntimeError, match="triu: input tensor must have at least 2 dimensions"):
        torch.ones(3, device=device).triu_()


def test_tril_inplace_writes_into_numpy_memory():
    # CPU only: the tensor borrows the NumPy array's memory.
    a = np.arange(1.0, 13.0).reshape(3, 4)
    b = a.copy()
    torch.from_numpy(b).tril_(-1)
    np.testing.assert_array_equal(b, np.tril(a, -1))
    f = np.asfortranarray(a)
    torch.from_numpy(f).triu_()
    np.testing.assert_array_equal(f, np.triu(a))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_numpy(indexing, device):
    x, a = ramp(3, device=device)
    y, b = ramp(4, device=device)
    z, c = ramp(2, device=device)
    got = torch.meshgrid(x, y, z, indexing=indexing)
    exp = np.meshgrid(a, b, c, indexing=indexing)
    for g, e in zip(got, exp):
        assert_same(g, e)
    assert got[0].data_ptr() == x.data_ptr()  # views of the inputs
    got2 = torch.meshgrid([x, y], indexing=indexing)
    for g, e in zip(got2, np.meshgrid(a, b, indexing=indexing)):
        assert_same(g, e)


def test_meshgrid_default_is_ij_with_warning_and_errors(device):
    x, a = ramp(3, device=device)
    y, b = ramp(2, device=device)
    with pytest.warns(UserWarning, match="indexing"):
        gx, gy = torch.meshgrid(x, y)
    assert_same(gx, np.meshgrid(a, b, indexing="ij")[0])
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
        torch.meshgrid(torch.ones(2, 2, device=device), indexing="ij")
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.meshgrid(x, torch.ones(2, device=device), indexing="ij")
    with pytest.raises(RuntimeError, match="indexing must be one of"):
        torch.meshgrid(x, y, indexing="yx")


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_clone_all_dtypes(rng, dtype, device):
    x, a = mk(rng, (3, 4), dtype, device)
    t = x.t()
    c = t.clone()
    # torch.preserve_format keeps the strides of a dense input, as torch does.
    assert c.stride() == t.stride() and c.dtype == dtype and c.data_ptr() != x.data_ptr()
    assert c.device.type == device
    assert_same(c, a.T)
    assert_same(torch.clone(x, memory_format=None), a)


def test_zero_dim_copying_ops(device):
    s = torch.tensor(7, device=device)
    assert_same(s.clone(), np.array(7))
    assert_same(s.tile(2), np.tile(np.array(7), 2))
    assert_same(s.flip(()), np.array(7))
    assert_same(s.repeat_interleave(2), np.array([7, 7]))
    assert_same(torch.hstack([s, s]), np.hstack([np.array(7), np.array(7)]))
    assert_same(torch.vstack([s, s]), np.vstack([np.array(7), np.array(7)]))


def test_clone_is_independent(device):
    x, a = ramp(4, device=device)
    c = x.clone()
    c[0] = 100
    assert x[0].item() == 0


# ----------------------------------------------------------------------------------------------
# Property-based: reshape / permute / cat / flip against NumPy on random shapes


shapes = st.lists(st.integers(0, 4), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(shape=shapes, data=st.data())
def test_property_ops_match_numpy(shape, data, device):
    a = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    x = torch.tensor(a, device=device)
    nd = len(shape)
    perm = data.draw(st.permutations(range(nd)))
    assert_same(x.permute(*perm), np.transpose(a, perm))
    p = x.permute(*perm)
    assert_same(p.reshape(-1), np.transpose(a, perm).reshape(-1))
    d = data.draw(st.integers(-nd, nd - 1))
    assert_same(torch.cat([p, p], d), np.concatenate([np.transpose(a, perm)] * 2, d))
    assert_same(p.flip(d), np.flip(np.transpose(a, perm), d))
    shift = data.draw(st.integers(-6, 6))
    assert_same(p.roll(shift, d), np.roll(np.transpose(a, perm), shift, d))
    assert_same(p.roll(shift), np.roll(np.transpose(a, perm), shift))
    reps = data.draw(st.lists(st.integers(0, 3), min_size=nd, max_size=nd + 1))
    assert_same(p.repeat(*reps), np.tile(np.transpose(a, perm), reps))


def test_absurd_sizes_raise_instead_of_crashing(device):
    x, a = ramp(3, 4, device=device)
    with pytest.raises(RuntimeError):
        x.as_strided((2**40, 2**40), (1, 1))
    with pytest.raises(RuntimeError):
        x.as_strided((2**62, 3), (2**62, 1))
    with pytest.raises(RuntimeError):
        torch.ones(1, 1, device=device).expand(2**40, 2**40)
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(1, 1, 2**63 - 1)
    assert_same(x.tril(2**63 - 1), a)
    assert_same(x.triu(-(2**63)), a)
    assert_same(x.tril(-(2**63)), np.zeros_like(a))


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_cat_contiguous_fast_path_large_uneven(rng, dim, device):
    shapes = [[64, 40, 30], [64, 40, 30], [64, 40, 30]]
    for i, n in enumerate([1, 7, 50]):
        shapes[i][dim] = n
    arrs = [rng.integers(-100, 100, s).astype(np.int16) for s in shapes]
    got = torch.cat([torch.tensor(a, device=device) for a in arrs], dim)
    assert got.device.type == device
    assert_same(got, np.concatenate(arrs, dim))


def test_keyword_forms_of_size_arguments(device):
    x, a = ramp(2, 3, device=device)
    assert torch.reshape(x, shape=(3, 2)).shape == (3, 2)
    assert x.view(size=(6,)).shape == (6,)
    assert torch.permute(x, dims=(1, 0)).shape == (3, 2)
    assert x.expand(size=(4, 2, 3)).shape == (4, 2, 3)
    assert_same(torch.flip(x, dims=[1]), np.flip(a, 1))
    assert_same(torch.tile(x, dims=(2, 1)), np.tile(a, (2, 1)))
    assert_same(x.repeat(repeats=(1, 2)), np.tile(a, (1, 2)))
    with pytest.raises(TypeError, match="multiple values for argument 'shape'"):
        x.reshape(6, shape=(6,))
