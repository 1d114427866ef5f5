"""Storage sharing, dtype inference and promotion: the ground every op stands on."""

import numpy as np
import pytest

import ferrotorch as torch
from helpers import assert_close_np


def test_tensor_infers_dtype_from_python_values(device):
    def T(values):
        return torch.tensor(values, device=device)

    assert T([1, 2]).dtype == torch.int64 and T([1, 2]).device.type == device
    assert T([1, 2.0]).dtype == torch.float32
    assert T([True, False]).dtype == torch.bool
    assert T(3.5).shape == torch.Size([])
    assert T([[1, 2], [3, 4]]).shape == (2, 2)
    assert T([]).shape == (0,) and T([]).dtype == torch.float32


def test_ragged_nested_lists_raise_value_error(device):
    with pytest.raises(ValueError, match="expected sequence of length 2 at dim 1"):
        torch.tensor([[1, 2], [3]], device=device)


# CPU only: memory shared with NumPy.


def test_from_numpy_and_numpy_share_memory():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = torch.from_numpy(x)
    x[0, 0] = 100.0
    assert t.tolist()[0][0] == 100.0
    n = t.numpy()
    n[1, 2] = -1.0
    assert x[1, 2] == -1.0
    assert t.data_ptr() == x.ctypes.data


def test_from_numpy_keeps_array_alive_and_strides():
    t = torch.from_numpy(np.arange(12, dtype=np.int64).reshape(3, 4)[:, ::2])
    assert t.stride() == (4, 2)
    assert t.tolist() == [[0, 2], [4, 6], [8, 10]]


def test_from_numpy_rejects_negative_strides():
    with pytest.raises(ValueError, match="negative"):
        torch.from_numpy(np.arange(4.0)[::-1])


@pytest.mark.parametrize(
    "a,b,expected",
    [
        (torch.int32, torch.int64, torch.int64),
        (torch.uint8, torch.int8, torch.int16),
        (torch.float16, torch.bfloat16, torch.float32),
        (torch.bool, torch.uint8, torch.uint8),
        (torch.int64, torch.float16, torch.float16),
    ],
)
def test_promote_types(a, b, expected):
    assert torch.promote_types(a, b) == expected


def test_scalar_promotion_follows_torch(device):
    i = torch.tensor([1, 2], dtype=torch.int32, device=device)
    assert (i + 1).dtype == torch.int32 and (i + 1).device.type == device
    assert (i + 1.5).dtype == torch.float32
    assert (torch.tensor([1.0], dtype=torch.float16, device=device) + 2.5).dtype == torch.float16
    assert (i + torch.tensor(1, dtype=torch.int64, device=device)).dtype == torch.int32
    # A 0-d CPU tensor combines with a tensor on any device, as a Python number does.
    mixed = i + torch.tensor(1, dtype=torch.int64)
    assert mixed.dtype == torch.int32 and mixed.device.type == device and mixed.tolist() == [2, 3]
    if device != "cpu":
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            i + torch.tensor([1, 1], dtype=torch.int32)
    assert (i / 2).dtype == torch.float32


def test_set_default_dtype_changes_float_factories(device):
    try:
        torch.set_default_dtype(torch.float64)
        assert torch.tensor([1.5], device=device).dtype == torch.float64
        assert torch.zeros(2, device=device).dtype == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)


def test_finfo_iinfo():
    assert torch.finfo(torch.float32).eps == np.finfo(np.float32).eps
    assert torch.finfo(torch.bfloat16).eps == 2.0**-7
    assert torch.iinfo(torch.int8).min == -128
    assert torch.iinfo(torch.uint8).max == 255


def test_add_broadcasts_like_numpy(rng, device):
    a = rng.random((3, 1, 4)).astype(np.float32)
    b = rng.random((5, 1)).astype(np.float32)
    out = torch.tensor(a, device=device) + torch.tensor(b, device=device)
    assert out.device.type == device
    assert_close_np(out, a + b)


def test_broadcast_mismatch_names_op_and_shapes(device):
    with pytest.raises(RuntimeError, match=r"add.*\[3\].*\[4\]"):
        torch.ones(3, device=device) + torch.ones(4, device=device)


def test_item_of_many_elements_raises(device):
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        torch.ones(2, device=device).item()


def test_out_argument_writes_into_tensor(device):
    out = torch.zeros(2, device=device)
    r = torch.add(torch.ones(2, device=device), 1, out=out)
    assert r is out and out.tolist() == [2.0, 2.0] and out.device.type == device
    int_out = torch.zeros(2, dtype=torch.int64, device=device)
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.add(torch.ones(2, device=device), 1, out=int_out)


def test_numpy_scalars_keep_their_kind(device):
    def T(values):
        return torch.tensor(values, device=device)

    assert T([np.int64(1), np.int32(2)]).dtype == torch.int64
    assert T([np.float32(1.5)]).dtype == torch.float32
    assert T(np.bool_(True)).dtype == torch.bool
    assert (torch.ones(2, dtype=torch.int32, device=device) + np.int64(2)).dtype == torch.int32


def test_device_objects_follow_torch():
    # No GPU needed: device objects are names until a tensor is placed on them.
    bare, first = torch.device("cuda"), torch.device("cuda:0")
    assert bare.type == "cuda" and bare.index is None and first.index == 0
    assert repr(bare) == "device(type='cuda')" and str(bare) == "cuda"
    assert repr(first) == "device(type='cuda', index=0)" and str(first) == "cuda:0"
    assert bare != first and bare == torch.device("cuda") and hash(bare) == hash(torch.device("cuda"))
    assert torch.device("cuda", 1) == torch.device("cuda:1") == torch.device(1)
    cpu = torch.device("cpu")
    assert cpu.index is None and repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu"
    assert torch.device(first) == first
    with pytest.raises(RuntimeError, match="Invalid device string"):
        torch.device("cuda:x")
