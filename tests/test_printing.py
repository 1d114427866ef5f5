"""repr/str of tensors against the exact strings torch prints."""

import re

import numpy as np
import pytest

import ferrotorch as torch

NAN, INF = float("nan"), float("inf")


@pytest.fixture(autouse=True)
def default_print_options():
    torch.set_printoptions(profile="default")
    yield
    torch.set_printoptions(profile="default")


def T(data, dtype=None, device="cpu"):
    return torch.tensor(data, dtype=dtype, device=device)


# A CUDA tensor's repr has `device='cuda:0'` as its first suffix, on the last line when it fits
# there (80 columns) and else on a line of its own, as torch lays suffixes out.
CUDA_WRAPPED = {
    "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16],\n"
    "       dtype=torch.int32)": (
        "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16],\n"
        "       device='cuda:0', dtype=torch.int32)"
    ),
}


def with_device(expected, device):
    """torch's repr of the tensor that prints as `expected` on CPU, moved to `device`."""
    if device == "cpu":
        return expected
    if expected in CUDA_WRAPPED:
        return CUDA_WRAPPED[expected]
    suffixes = re.search(r"(, (size|dtype)=.*)?\)\Z", expected, re.S).start()
    return expected[:suffixes] + ", device='cuda:0'" + expected[suffixes:]


CASES = [
    # integers and bools
    (lambda: T([1, 2]), "tensor([1, 2])"),
    (lambda: T([1, 2], torch.int32), "tensor([1, 2], dtype=torch.int32)"),
    (lambda: T([1, 2], torch.uint8), "tensor([1, 2], dtype=torch.uint8)"),
    (lambda: T([-5, 120], torch.int8), "tensor([ -5, 120], dtype=torch.int8)"),
    (lambda: T(5), "tensor(5)"),
    (lambda: T([True, False]), "tensor([ True, False])"),
    (lambda: T([True, True]), "tensor([True, True])"),
    (lambda: T(True), "tensor(True)"),
    # floats: integer-valued, fixed point, scientific
    (lambda: T([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: T([-1.0, 2.0]), "tensor([-1.,  2.])"),
    (lambda: T(2.0), "tensor(2.)"),
    (lambda: T(3.5), "tensor(3.5000)"),
    (lambda: T([1.5, -2.25]), "tensor([ 1.5000, -2.2500])"),
    (lambda: T([0.0, 1.5]), "tensor([0.0000, 1.5000])"),
    (lambda: T([100000.5]), "tensor([100000.5000])"),
    (lambda: T([1e-5, 1e5]), "tensor([1.0000e-05, 1.0000e+05])"),
    (lambda: T([1.0, 1e5]), "tensor([1.0000e+00, 1.0000e+05])"),
    (lambda: T([1e9]), "tensor([1.0000e+09])"),
    (lambda: T([0.0001, 0.001]), "tensor([1.0000e-04, 1.0000e-03])"),
    (lambda: T([-1e-5, 2.0]), "tensor([-1.0000e-05,  2.0000e+00])"),
    (lambda: T([0.0, 0.0, 0.0]), "tensor([0., 0., 0.])"),
    # dtype suffixes of floats
    (lambda: T([1.0, 2.0], torch.float64), "tensor([1., 2.], dtype=torch.float64)"),
    (lambda: T([1.5, 2.5], torch.float16), "tensor([1.5000, 2.5000], dtype=torch.float16)"),
    (lambda: T([0.1], torch.float16), "tensor([0.1000], dtype=torch.float16)"),
    (lambda: T([0.1], torch.bfloat16), "tensor([0.1001], dtype=torch.bfloat16)"),
    (lambda: T(1.0, torch.bfloat16), "tensor(1., dtype=torch.bfloat16)"),
    # nan / inf
    (lambda: T([1.0, NAN, INF]), "tensor([1., nan, inf])"),
    (lambda: T([1.5, NAN, -INF]), "tensor([1.5000,    nan,   -inf])"),
    (lambda: T([NAN]), "tensor([nan])"),
    (lambda: T([INF, -INF]), "tensor([inf, -inf])"),
    (lambda: T([1e-5, NAN]), "tensor([1.0000e-05,        nan])"),
    # empty
    (lambda: T([]), "tensor([])"),
    (lambda: torch.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: torch.ones(2, 0), "tensor([], size=(2, 0))"),
    (lambda: torch.zeros(0, dtype=torch.int64), "tensor([], dtype=torch.int64)"),
    (lambda: torch.zeros(0, 2, dtype=torch.int32), "tensor([], size=(0, 2), dtype=torch.int32)"),
    (lambda: torch.zeros(0, dtype=torch.bool), "tensor([], dtype=torch.bool)"),
    # nesting and alignment
    (lambda: T([[1, 2], [3, 4]]), "tensor([[1, 2],\n        [3, 4]])"),
    (lambda: T([[1, -20], [300, 4]]), "tensor([[  1, -20],\n        [300,   4]])"),
    (
        lambda: T([[1.5, 2.0], [-3.0, 4.25]]),
        "tensor([[ 1.5000,  2.0000],\n        [-3.0000,  4.2500]])",
    ),
    (lambda: torch.zeros(2, 3), "tensor([[0., 0., 0.],\n        [0., 0., 0.]])"),
    (
        lambda: T([[True, False], [False, True]]),
        "tensor([[ True, False],\n        [False,  True]])",
    ),
    (
        lambda: T([[[0, 1], [2, 3]], [[4, 5], [6, 7]]]),
        "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])",
    ),
    (
        lambda: torch.from_numpy(np.arange(16).reshape(2, 1, 2, 4)),
        "tensor([[[[ 0,  1,  2,  3],\n          [ 4,  5,  6,  7]]],\n\n\n"
        "        [[[ 8,  9, 10, 11],\n          [12, 13, 14, 15]]]])",
    ),
    (lambda: T([[1.0]], torch.float64), "tensor([[1.]], dtype=torch.float64)"),
    # line wrapping at 80 columns
    (
        lambda: torch.from_numpy(np.arange(30)),
        "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
        "        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])",
    ),
    (
        lambda: torch.from_numpy(np.arange(17, dtype=np.int32)),
        "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16],\n"
        "       dtype=torch.int32)",
    ),
    # summarisation above 1000 elements
    (
        lambda: torch.from_numpy(np.arange(2000)),
        "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])",
    ),
    (
        lambda: torch.from_numpy(np.arange(2000, dtype=np.float32)),
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
        "        1.9990e+03])",
    ),
    (
        lambda: torch.from_numpy(np.arange(10000).reshape(100, 100)),
        "tensor([[   0,    1,    2,  ...,   97,   98,   99],\n"
        "        [ 100,  101,  102,  ...,  197,  198,  199],\n"
        "        [ 200,  201,  202,  ...,  297,  298,  299],\n"
        "        ...,\n"
        "        [9700, 9701, 9702,  ..., 9797, 9798, 9799],\n"
        "        [9800, 9801, 9802,  ..., 9897, 9898, 9899],\n"
        "        [9900, 9901, 9902,  ..., 9997, 9998, 9999]])",
    ),
    (
        lambda: torch.ones(1001),
        "tensor([1., 1., 1.,  ..., 1., 1., 1.])",
    ),
]


@pytest.mark.parametrize("make,expected", CASES, ids=[c[1][:40] for c in CASES])
def test_repr_matches_torch(make, expected, device):
    t = make().to(device)
    assert repr(t) == with_device(expected, device)
    assert str(t) == with_device(expected, device)


def test_non_contiguous_prints_logical_order(device):
    t = torch.tensor([[0, 3], [1, 4], [2, 5]], device=device).t()
    assert not t.is_contiguous()
    assert repr(t) == with_device("tensor([[0, 1, 2],\n        [3, 4, 5]])", device)
    s = torch.arange(10, device=device)[::3]
    assert repr(s) == with_device("tensor([0, 3, 6, 9])", device)


# CPU only: NumPy arrays viewed in place (Fortran order, strided slices).
def test_non_contiguous_numpy_views_print_logical_order():
    t = torch.from_numpy(np.asfortranarray(np.arange(6).reshape(2, 3)))
    assert not t.is_contiguous()
    assert repr(t) == "tensor([[0, 1, 2],\n        [3, 4, 5]])"
    s = torch.from_numpy(np.arange(10)[::3])
    assert repr(s) == "tensor([0, 3, 6, 9])"


def test_summarised_3d(device):
    t = torch.from_numpy(np.arange(8 * 2 * 70).reshape(8, 2, 70)).to(device)
    lines = repr(t).split("\n")
    assert lines[0] == "tensor([[[   0,    1,    2,  ...,   67,   68,   69],"
    assert lines[1] == "         [  70,   71,   72,  ...,  137,  138,  139]],"
    assert lines[2] == ""
    assert lines[9] == "        ...,"
    assert lines[-1] == with_device("         [1050, 1051, 1052,  ..., 1117, 1118, 1119]]])", device)


def test_default_dtype_changes_suffix(device):
    try:
        torch.set_default_dtype(torch.float64)
        assert repr(T([1.5], device=device)) == with_device("tensor([1.5000])", device)
        t = T([1.5], torch.float32, device)
        assert repr(t) == with_device("tensor([1.5000], dtype=torch.float32)", device)
        e = torch.zeros(0, dtype=torch.float32, device=device)
        assert repr(e) == with_device("tensor([], dtype=torch.float32)", device)
    finally:
        torch.set_default_dtype(torch.float32)


def test_set_printoptions_precision_and_sci_mode(device):
    torch.set_printoptions(precision=2)
    assert repr(T([1.2345, 2.0], device=device)) == with_device("tensor([1.23, 2.00])", device)
    torch.set_printoptions(precision=6)
    t = T(0.5, torch.float64, device)
    assert repr(t) == with_device("tensor(0.500000, dtype=torch.float64)", device)
    torch.set_printoptions(precision=4, sci_mode=True)
    t = T([1.5, 2.5], device=device)
    assert repr(t) == with_device("tensor([1.5000e+00, 2.5000e+00])", device)
    torch.set_printoptions(sci_mode=False)
    t = T([1e-5, 1e5], device=device)
    assert repr(t) == with_device("tensor([    0.0000, 100000.0000])", device)


def test_set_printoptions_threshold_edgeitems_linewidth(device):
    def arange(n):
        return torch.arange(n, device=device)

    torch.set_printoptions(threshold=5)
    assert repr(arange(10)) == with_device("tensor([0, 1, 2,  ..., 7, 8, 9])", device)
    torch.set_printoptions(threshold=5, edgeitems=1)
    t = arange(20).reshape(4, 5)
    expected = "tensor([[ 0,  ...,  4],\n        ...,\n        [15,  ..., 19]])"
    assert repr(t) == with_device(expected, device)
    torch.set_printoptions(profile="default", linewidth=20)
    if device == "cpu":
        assert repr(arange(6)) == "tensor([0, 1, 2, 3,\n        4, 5])"
    else:
        # The device suffix does not fit in 20 columns after the last row: a line of its own.
        assert repr(arange(6)) == "tensor([0, 1, 2, 3,\n        4, 5],\n       device='cuda:0')"
    torch.set_printoptions(profile="full")
    assert "..." not in repr(arange(1500))
    torch.set_printoptions(profile="short")
    assert repr(T([1.2345], device=device)) == with_device("tensor([1.23])", device)


def test_format_of_tensors(device):
    assert f"{T(2.5, device=device):.2f}" == "2.50"
    assert f"{T(7, device=device)}" == "7"
    assert f"{T([1, 2], device=device)}" == with_device("tensor([1, 2])", device)
    with pytest.raises(TypeError):
        f"{T([1, 2], device=device):.2f}"
