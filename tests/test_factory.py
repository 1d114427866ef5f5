"""Range factories against NumPy: arange, range, linspace, logspace, eye."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ferrotorch as torch
import helpers
from helpers import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, NP_DTYPES, TOL


def to_np(t):
    """NumPy copy; bfloat16 goes through Python floats (``Tensor.float`` belongs to another family)."""
    if t.dtype == torch.bfloat16:
        return np.array(t.tolist(), dtype=np.float32).reshape(tuple(t.shape))
    return helpers.to_np(t)


def assert_close_np(t, expected):
    got, expected = to_np(t), np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if t.dtype in TOL:
        tol = helpers.tolerance(t.dtype, t.device)
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), **tol)
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "args",
    [(5,), (0,), (2, 9), (9, 2, -2), (0, 10, 3), (-3, 4), (5, 5), (5, 5, -1), (10, 0, -3), (-10, -1, 4)],
)
def test_arange_ints_match_numpy_and_are_int64(args, device):
    t = torch.arange(*args, device=device)
    assert t.dtype == torch.int64 and t.device.type == device
    np.testing.assert_array_equal(to_np(t), np.arange(*args))


@pytest.mark.parametrize(
    "args",
    [(0.0, 1.0, 0.3), (1, 2.5), (0, 1, 0.1), (2.0,), (1.0, -1.0, -0.25), (0.5, 0.5), (-1, 1, 0.7), (0, 3, 1.5)],
)
def test_arange_floats_match_numpy(args, device):
    t = torch.arange(*args, device=device)
    assert t.dtype == torch.float32 and t.device.type == device
    assert_close_np(t, np.arange(*args, dtype=np.float64).astype(np.float32))


def test_arange_float_step_that_does_not_divide_evenly(device):
    # ceil((1 - 0) / 0.3) = 4 elements, the last below end.
    t = torch.arange(0, 1, 0.3, dtype=torch.float64, device=device)
    assert t.shape == (4,)
    np.testing.assert_allclose(to_np(t), [0.0, 0.3, 0.6, 0.9])
    assert torch.arange(0, 1, 1 / 3, dtype=torch.float64, device=device).shape == (3,)


@pytest.mark.parametrize("dtype", [d for d in ALL_DTYPES if d != torch.bool])
def test_arange_dtype_argument(dtype, device):
    t = torch.arange(0, 20, 3, dtype=dtype, device=device)
    assert t.dtype == dtype and t.device.type == device
    expected = np.arange(0, 20, 3)
    assert_close_np(t, expected.astype(np.float32 if dtype == torch.bfloat16 else NP_DTYPES[dtype]))


def test_arange_default_dtype_follows_set_default_dtype(device):
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.arange(0.5, 3, device=device).dtype == torch.float64
        assert torch.arange(3, device=device).dtype == torch.int64
    finally:
        torch.set_default_dtype(torch.float32)


def test_arange_int_dtype_truncates_float_arguments(device):
    t = torch.arange(0.5, 5.9, 2.7, dtype=torch.int64, device=device)
    np.testing.assert_array_equal(to_np(t), [0, 2, 4])
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        torch.arange(0, 3, 0.5, dtype=torch.int64, device=device)


def test_arange_accepts_keywords_and_zero_dim_tensors(device):
    assert torch.arange(end=4, device=device).tolist() == [0, 1, 2, 3]
    assert torch.arange(start=1, end=4, device=device).tolist() == [1, 2, 3]
    # Bounds given as 0-d tensors are read as numbers, whichever device they live on.
    bounds = [torch.tensor(v, device=device) for v in (1, 7, 2)]
    assert torch.arange(*bounds, device=device).tolist() == [1, 3, 5]
    assert torch.arange(torch.tensor(2.0, device=device), device=device).dtype == torch.float32


def test_arange_large_int64_is_exact(device):
    start = 2**53 + 1
    t = torch.arange(start, start + 6, 2, device=device)
    assert t.tolist() == [start, start + 2, start + 4]


@pytest.mark.parametrize("args", [(0, 5, -1), (5, 0, 1), (5, 0), (0.0, -1.0, 0.5)])
def test_arange_wrong_step_sign(args, device):
    with pytest.raises(RuntimeError, match="upper bound and larger bound inconsistent with step sign"):
        torch.arange(*args, device=device)


def test_arange_errors(device):
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        torch.arange(0, 5, 0, device=device)
    with pytest.raises(RuntimeError, match="unsupported range"):
        torch.arange(0, float("inf"), device=device)
    with pytest.raises(RuntimeError, match="unsupported range"):
        torch.arange(float("nan"), 2.0, device=device)
    with pytest.raises(TypeError):
        torch.arange(device=device)
    with pytest.raises(TypeError):
        torch.arange("a", device=device)


def test_arange_out(device):
    # out= alone says where the result lives (resized from 0 elements here), as in torch.
    out = torch.empty(0, dtype=torch.float64, device=device)
    r = torch.arange(4, out=out)
    assert r is out and out.dtype == torch.float64 and out.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert out.device.type == device
    out = torch.zeros(3, dtype=torch.int64, device=device)
    torch.arange(1, 4, out=out)
    assert out.tolist() == [1, 2, 3] and out.device.type == device


@settings(max_examples=40, deadline=None)
@given(
    start=st.integers(-50, 50),
    end=st.integers(-50, 50),
    step=st.integers(-7, 7).filter(lambda s: s != 0),
)
def test_arange_hypothesis_ints(start, end, step, device):
    if (step > 0 and end < start) or (step < 0 and end > start):
        with pytest.raises(RuntimeError, match="inconsistent with step sign"):
            torch.arange(start, end, step, device=device)
    else:
        t = torch.arange(start, end, step, device=device)
        np.testing.assert_array_equal(to_np(t), np.arange(start, end, step))


def test_range_is_inclusive_float_and_warns(device):
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        t = torch.range(1, 4, device=device)
    assert t.dtype == torch.float32 and t.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert t.device.type == device
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.range(0, 1, 0.25, dtype=torch.float64, device=device)
        assert t.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
        assert torch.range(3, 0, -1, dtype=torch.int64, device=device).tolist() == [3, 2, 1, 0]
        assert torch.range(0, 1, 0.3, device=device).shape == (4,)
        with pytest.raises(RuntimeError, match="inconsistent with step sign"):
            torch.range(0, 3, -1, device=device)


@pytest.mark.parametrize("steps", [0, 1, 2, 5, 7, 100])
@pytest.mark.parametrize("bounds", [(0.0, 1.0), (-3, 10), (5, -5), (2.5, 2.5)])
def test_linspace_matches_numpy(steps, bounds, device):
    t = torch.linspace(*bounds, steps, device=device)
    assert t.dtype == torch.float32 and t.shape == (steps,) and t.device.type == device
    assert_close_np(t, np.linspace(*bounds, steps).astype(np.float32))
    t64 = torch.linspace(*bounds, steps, dtype=torch.float64, device=device)
    np.testing.assert_allclose(to_np(t64), np.linspace(*bounds, steps), rtol=1e-14, atol=1e-14)
    if steps:
        assert to_np(t64)[0] == bounds[0]
    if steps > 1:
        assert to_np(t64)[-1] == bounds[1]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + INT_DTYPES)
def test_linspace_dtypes(dtype, device):
    lo = 0 if dtype == torch.uint8 else -4
    t = torch.linspace(lo, 10, 6, dtype=dtype, device=device)
    assert t.dtype == dtype
    expected = np.linspace(lo, 10, 6)
    if dtype in INT_DTYPES:
        np.testing.assert_array_equal(to_np(t), np.trunc(expected).astype(NP_DTYPES[dtype]))
    else:
        assert_close_np(t, expected)


def test_linspace_errors_and_out(device):
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        torch.linspace(0, 1, -1, device=device)
    out = torch.empty(2, dtype=torch.float64, device=device)
    r = torch.linspace(0, 1, 3, out=out)
    assert r is out and out.dtype == torch.float64 and out.tolist() == [0.0, 0.5, 1.0]
    assert out.device.type == device
    with pytest.raises(TypeError):
        torch.linspace(0, 1, 2.5, device=device)


@pytest.mark.parametrize("steps", [0, 1, 4, 9])
@pytest.mark.parametrize("base", [10.0, 2.0, 0.5])
def test_logspace_matches_numpy(steps, base, device):
    t = torch.logspace(-2, 3, steps, base=base, dtype=torch.float64, device=device)
    assert t.device.type == device
    np.testing.assert_allclose(to_np(t), np.logspace(-2, 3, steps, base=base), rtol=1e-13)
    t32 = torch.logspace(-2, 3, steps, base, device=device)
    assert t32.dtype == torch.float32
    assert_close_np(t32, np.logspace(-2, 3, steps, base=base).astype(np.float32))


def test_logspace_int_dtype_and_error(device):
    t = torch.logspace(0, 3, 4, 2, dtype=torch.int64, device=device)
    np.testing.assert_array_equal(to_np(t), [1, 2, 4, 8])
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        torch.logspace(0, 1, -2, device=device)


@pytest.mark.parametrize("n,m", [(0, None), (1, None), (3, None), (2, 5), (5, 2), (4, 0)])
@pytest.mark.parametrize("dtype", [None, torch.float64, torch.int32, torch.bool, torch.bfloat16, torch.float16])
def test_eye_matches_numpy(n, m, dtype, device):
    size = (n, m) if m is not None else (n,)
    t = torch.eye(*size, dtype=dtype, device=device)
    assert t.dtype == (dtype or torch.float32) and t.device.type == device
    np_dt = np.float32 if dtype in (None, torch.bfloat16) else NP_DTYPES[dtype]
    assert_close_np(t, np.eye(n, m, dtype=np_dt))


def test_eye_errors_and_out(device):
    with pytest.raises(RuntimeError, match="n must be greater or equal to 0, got -1"):
        torch.eye(-1, device=device)
    with pytest.raises(RuntimeError, match="m must be greater or equal to 0, got -2"):
        torch.eye(2, -2, device=device)
    out = torch.empty(0, dtype=torch.int64, device=device)
    r = torch.eye(2, out=out)
    assert r is out and out.tolist() == [[1, 0], [0, 1]] and out.device.type == device


def test_factories_requires_grad(device):
    t = torch.arange(3.0, requires_grad=True, device=device)
    assert t.requires_grad and t.is_leaf and t.device.type == device
    with pytest.raises(RuntimeError, match="floating point"):
        torch.arange(3, requires_grad=True, device=device)


# CPU only: device names that are unknown, or name a GPU this machine lacks.
def test_factories_unknown_device():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type"):
        torch.eye(2, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            torch.eye(2, device="cuda")
