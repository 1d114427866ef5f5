"""The CUDA backend itself: devices, moving tensors, strided copies and fills on the GPU, memory
statistics and out-of-memory recovery, events, and random numbers that match the CPU's.
Skipped without a GPU (the GPU machine runs them); `test_cuda_compile.py` covers kernels here."""

import numpy as np
import pytest

import ferrotorch as torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8,
          torch.int16, torch.int32, torch.int64, torch.bool]


def host(t):
    return t.cpu().numpy() if t.dtype != torch.bfloat16 else t.cpu().float().numpy()


def test_device_queries():
    assert torch.cuda.device_count() >= 1
    assert torch.cuda.current_device() == 0
    props = torch.cuda.get_device_properties(0)
    assert props.total_memory > 1 << 30 and props.major >= 7
    assert torch.cuda.get_device_name() == props.name
    assert torch.cuda.get_device_capability() == (props.major, props.minor)
    torch.cuda.synchronize()


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_dtype(dtype):
    src = torch.arange(24).reshape(2, 3, 4).to(dtype)
    g = src.cuda()
    assert g.is_cuda and g.device == torch.device("cuda", 0) and g.dtype == dtype
    assert str(g.device) == "cuda:0"
    back = g.cpu()
    assert not back.is_cuda and back.tolist() == src.tolist()
    assert g.to("cuda") is g and src.to("cpu") is src


@pytest.mark.parametrize("src_dtype", DTYPES)
@pytest.mark.parametrize("dst_dtype", DTYPES)
def test_dtype_conversion_on_the_gpu_matches_the_cpu(src_dtype, dst_dtype):
    values = torch.tensor([-3.7, -1.0, 0.0, 0.5, 1.0, 2.5, 100.25])
    if torch.uint8 in (src_dtype, dst_dtype):
        values = values.abs()  # negative floats to uint8 differ between CPUs and GPUs in torch too
    x = values.to(src_dtype)
    expected = x.to(dst_dtype)
    got = x.cuda().to(dst_dtype).cpu()
    assert got.dtype == dst_dtype
    np.testing.assert_array_equal(host(got), host(expected))


def test_strided_copies_and_views():
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    g = torch.from_numpy(a).cuda()
    np.testing.assert_array_equal(host(g.transpose(0, 2).contiguous()), a.transpose(2, 1, 0))
    np.testing.assert_array_equal(host(g[:, 1:3, ::2]), a[:, 1:3, ::2])
    np.testing.assert_array_equal(host(g.permute(1, 2, 0)), a.transpose(1, 2, 0))
    # Writes through views, broadcast sources, and copies across devices.
    g[:, 0] = torch.tensor([7.0, 8.0, 9.0, 10.0, 11.0], device="cuda")
    a[:, 0] = [7.0, 8.0, 9.0, 10.0, 11.0]
    np.testing.assert_array_equal(host(g), a)
    dst = torch.zeros(3, 4, 5, device="cuda")
    dst.copy_(torch.from_numpy(a))  # host -> device through copy_
    np.testing.assert_array_equal(host(dst), a)
    cpu = torch.empty(3, 4, 5)
    cpu.copy_(g)  # device -> host
    np.testing.assert_array_equal(cpu.numpy(), a)


@pytest.mark.parametrize("row", [33, 256, 300, 1000])  # one partial, one whole, several segments
def test_copies_of_views_with_long_rows(row):
    """Views whose rows are contiguous take the row kernel (a warp per segment of a row)."""
    a = np.random.default_rng(0).standard_normal((3, 5, row)).astype(np.float32)
    g = torch.from_numpy(a).cuda()
    np.testing.assert_array_equal(host(g[:, 1:4].contiguous()), a[:, 1:4])
    np.testing.assert_array_equal(host(g.transpose(0, 1).contiguous()), a.transpose(1, 0, 2))
    np.testing.assert_array_equal(host(g[1].expand(4, 5, row).contiguous()), np.broadcast_to(a[1], (4, 5, row)))
    half = g.transpose(0, 1).to(torch.bfloat16)  # a cast keeps the memory order
    assert half.stride() == g.transpose(0, 1).stride()
    np.testing.assert_array_equal(host(half.float()), host(g.to(torch.bfloat16).float()).transpose(1, 0, 2))
    dst = torch.zeros(3, 7, row, dtype=torch.float64, device="cuda")
    dst[:, 2:7] = g
    np.testing.assert_array_equal(host(dst)[:, 2:], a)


def test_fill_and_factories():
    t = torch.empty(4, 6, device="cuda")
    t.fill_(2.5)
    t[:, ::3].fill_(-1.0)
    expected = np.full((4, 6), 2.5, np.float32)
    expected[:, ::3] = -1
    np.testing.assert_array_equal(host(t), expected)
    assert torch.zeros(3, device="cuda").tolist() == [0.0] * 3
    assert torch.ones(2, dtype=torch.int64, device="cuda").tolist() == [1, 1]
    assert torch.full((2,), True, device="cuda").tolist() == [True, True]
    assert torch.arange(5, device="cuda").tolist() == list(range(5))
    assert torch.eye(3, device="cuda").cpu().tolist() == np.eye(3).tolist()
    assert torch.tensor([[1, 2], [3, 4]], device="cuda").tolist() == [[1, 2], [3, 4]]
    assert torch.full((1,), 3.5, dtype=torch.float16, device="cuda").item() == 3.5
    assert torch.tensor(7, device="cuda").item() == 7


def test_printing_and_numpy():
    g = torch.tensor([1.5, 2.0], device="cuda")
    assert repr(g) == "tensor([1.5000, 2.0000], device='cuda:0')"
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        g.numpy()
    np.testing.assert_array_equal(g.numpy(force=True), [1.5, 2.0])
    assert g.type() == "torch.cuda.FloatTensor"
    assert g.type("torch.DoubleTensor").device.type == "cpu"


def test_mixing_devices_raises():
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        torch.ones(2) + torch.ones(2, device="cuda")


def test_autograd_through_device_moves():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.cuda()
    assert y.grad_fn.name() == "ToCopyBackward0"
    y.cpu().sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0] and not x.grad.is_cuda


def test_memory_statistics():
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    base = torch.cuda.memory_allocated()
    t = torch.empty(1000, device="cuda")  # 4000 bytes -> 4096 (multiples of 512)
    assert torch.cuda.memory_allocated() - base == 4096
    assert torch.cuda.memory_reserved() >= torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    big = torch.empty(1 << 20, device="cuda")
    peak = torch.cuda.max_memory_allocated()
    del big
    assert torch.cuda.memory_allocated() - base == 4096
    assert torch.cuda.max_memory_allocated() == peak >= base + 4096 + (4 << 20)
    del t
    assert torch.cuda.memory_allocated() == base
    torch.cuda.empty_cache()


def test_out_of_memory_is_recoverable():
    total = torch.cuda.get_device_properties(0).total_memory
    with pytest.raises(torch.OutOfMemoryError, match="CUDA out of memory. Tried to allocate"):
        torch.empty(2 * total, dtype=torch.uint8, device="cuda")
    assert issubclass(torch.cuda.OutOfMemoryError, RuntimeError)
    t = torch.ones(1024, device="cuda")
    assert t.cpu().tolist() == [1.0] * 1024


def test_events_time_work():
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    x = torch.empty(1 << 24, device="cuda")
    x.fill_(1.0)
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) >= 0.0


def test_random_numbers_match_the_cpu():
    for draw in (lambda d: torch.rand(1000, device=d), lambda d: torch.randn(7, 9, device=d),
                 lambda d: torch.randint(0, 100, (50,), device=d)):
        torch.manual_seed(1234)
        on_cpu = draw("cpu")
        torch.cuda.manual_seed(1234)
        on_gpu = draw("cuda")
        assert on_gpu.is_cuda
        np.testing.assert_array_equal(host(on_gpu), host(on_cpu))


def test_pinned_memory_and_non_blocking_copies():
    src = torch.arange(1 << 20, dtype=torch.float32)
    pinned = src.pin_memory()
    assert pinned.is_pinned() and not src.is_pinned() and pinned.tolist()[:3] == [0.0, 1.0, 2.0]
    g = pinned.to("cuda", non_blocking=True)
    g2 = pinned.cuda(non_blocking=True)
    torch.cuda.synchronize()
    assert g.cpu().tolist() == src.tolist() and g2.cpu().tolist() == src.tolist()
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        g.pin_memory()
