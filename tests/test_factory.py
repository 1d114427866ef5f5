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
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), **TOL[t.dtype])
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "args",
    [(5,), (0,), (2, 9), (9, 2, -2), (0, 10, 3), (-3, 4), (5, 5), (5, 5, -1), (10, 0, -3), (-10, -1, 4)],
)
def test_arange_ints_match_numpy_and_are_int64(args):
    t = torch.arange(*args)
    assert t.dtype == torch.int64
    np.testing.assert_array_equal(to_np(t), np.arange(*args))


@pytest.mark.parametrize(
    "args",
    [(0.0, 1.0, 0.3), (1, 2.5), (0, 1, 0.1), (2.0,), (1.0, -1.0, -0.25), (0.5, 0.5), (-1, 1, 0.7), (0, 3, 1.5)],
)
def test_arange_floats_match_numpy(args):
    t = torch.arange(*args)
    assert t.dtype == torch.float32
    assert_close_np(t, np.arange(*args, dtype=np.float64).astype(np.float32))


def test_arange_float_step_that_does_not_divide_evenly():
    # ceil((1 - 0) / 0.3) = 4 elements, the last below end.
    t = torch.arange(0, 1, 0.3, dtype=torch.float64)
    assert t.shape == (4,)
    np.testing.assert_allclose(to_np(t), [0.0, 0.3, 0.6, 0.9])
    assert torch.arange(0, 1, 1 / 3, dtype=torch.float64).shape == (3,)


@pytest.mark.parametrize("dtype", [d for d in ALL_DTYPES if d != torch.bool])
def test_arange_dtype_argument(dtype):
    t = torch.arange(0, 20, 3, dtype=dtype)
    assert t.dtype == dtype
    expected = np.arange(0, 20, 3)
    assert_close_np(t, expected.astype(np.float32 if dtype == torch.bfloat16 else NP_DTYPES[dtype]))


def test_arange_default_dtype_follows_set_default_dtype():
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.arange(0.5, 3).dtype == torch.float64
        assert torch.arange(3).dtype == torch.int64
    finally:
        torch.set_default_dtype(torch.float32)


def test_arange_int_dtype_truncates_float_arguments():
    np.testing.assert_array_equal(to_np(torch.arange(0.5, 5.9, 2.7, dtype=torch.int64)), [0, 2, 4])
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        torch.arange(0, 3, 0.5, dtype=torch.int64)


def test_arange_accepts_keywords_and_zero_dim_tensors():
    assert torch.arange(end=4).tolist() == [0, 1, 2, 3]
    assert torch.arange(start=1, end=4).tolist() == [1, 2, 3]
    assert torch.arange(torch.tensor(1), torch.tensor(7), torch.tensor(2)).tolist() == [1, 3, 5]
    assert torch.arange(torch.tensor(2.0)).dtype == torch.float32


def test_arange_large_int64_is_exact():
    start = 2**53 + 1
    t = torch.arange(start, start + 6, 2)
    assert t.tolist() == [start, start + 2, start + 4]


@pytest.mark.parametrize("args", [(0, 5, -1), (5, 0, 1), (5, 0), (0.0, -1.0, 0.5)])
def test_arange_wrong_step_sign(args):
    with pytest.raises(RuntimeError, match="upper bound and larger bound inconsistent with step sign"):
        torch.arange(*args)


def test_arange_errors():
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        torch.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="unsupported range"):
        torch.arange(0, float("inf"))
    with pytest.raises(RuntimeError, match="unsupported range"):
        torch.arange(float("nan"), 2.0)
    with pytest.raises(TypeError):
        torch.arange()
    with pytest.raises(TypeError):
        torch.arange("a")


def test_arange_out():
    out = torch.empty(0, dtype=torch.float64)
    r = torch.arange(4, out=out)
    assert r is out and out.dtype == torch.float64 and out.tolist() == [0.0, 1.0, 2.0, 3.0]
    out = torch.zeros(3, dtype=torch.int64)
    torch.arange(1, 4, out=out)
    assert out.tolist() == [1, 2, 3]


@settings(max_examples=40, deadline=None)
@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-7, 7).filter(lambda s: s != 0))
def test_arange_hypothesis_ints(start, end, step):
    if (step > 0 and end < start) or (step < 0 and end > start):
        with pytest.raises(RuntimeError, match="inconsistent with step sign"):
            torch.arange(start, end, step)
    else:
        np.testing.assert_array_equal(to_np(torch.arange(start, end, step)), np.arange(start, end, step))


def test_range_is_inclusive_float_and_warns():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        t = torch.range(1, 4)
    assert t.dtype == torch.float32 and t.tolist() == [1.0, 2.0, 3.0, 4.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.range(0, 1, 0.25, dtype=torch.float64).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
        assert torch.range(3, 0, -1, dtype=torch.int64).tolist() == [3, 2, 1, 0]
        assert torch.range(0, 1, 0.3).shape == (4,)
        with pytest.raises(RuntimeError, match="inconsistent with step sign"):
            torch.range(0, 3, -1)


@pytest.mark.parametrize("steps", [0, 1, 2, 5, 7, 100])
@pytest.mark.parametrize("bounds", [(0.0, 1.0), (-3, 10), (5, -5), (2.5, 2.5)])
def test_linspace_matches_numpy(steps, bounds):
    t = torch.linspace(*bounds, steps)
    assert t.dtype == torch.float32 and t.shape == (steps,)
    assert_close_np(t, np.linspace(*bounds, steps).astype(np.float32))
    t64 = torch.linspace(*bounds, steps, dtype=torch.float64)
    np.testing.assert_allclose(to_np(t64), np.linspace(*bounds, steps), rtol=1e-14, atol=1e-14)
    if steps:
        assert to_np(t64)[0] == bounds[0]
    if steps > 1:
        assert to_np(t64)[-1] == bounds[1]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + INT_DTYPES)
def test_linspace_dtypes(dtype):
    t = torch.linspace(-4, 10, 6, dtype=dtype) if dtype != torch.uint8 else torch.linspace(0, 10, 6, dtype=dtype)
    assert t.dtype == dtype
    lo = 0 if dtype == torch.uint8 else -4
    expected = np.linspace(lo, 10, 6)
    if dtype in INT_DTYPES:
        np.testing.assert_array_equal(to_np(t), np.trunc(expected).astype(NP_DTYPES[dtype]))
    else:
        assert_close_np(t, expected)


def test_linspace_errors_and_out():
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        torch.linspace(0, 1, -1)
    out = torch.empty(2, dtype=torch.float64)
    r = torch.linspace(0, 1, 3, out=out)
    assert r is out and out.dtype == torch.float64 and out.tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(TypeError):
        torch.linspace(0, 1, 2.5)


@pytest.mark.parametrize("steps", [0, 1, 4, 9])
@pytest.mark.parametrize("base", [10.0, 2.0, 0.5])
def test_logspace_matches_numpy(steps, base):
    t = torch.logspace(-2, 3, steps, base=base, dtype=torch.float64)
    np.testing.assert_allclose(to_np(t), np.logspace(-2, 3, steps, base=base), rtol=1e-13)
    t32 = torch.logspace(-2, 3, steps, base)
    assert t32.dtype == torch.float32
    assert_close_np(t32, np.logspace(-2, 3, steps, base=base).astype(np.float32))


def test_logspace_int_dtype_and_error():
    np.testing.assert_array_equal(to_np(torch.logspace(0, 3, 4, 2, dtype=torch.int64)), [1, 2, 4, 8])
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        torch.logspace(0, 1, -2)


@pytest.mark.parametrize("n,m", [(0, None), (1, None), (3, None), (2, 5), (5, 2), (4, 0)])
@pytest.mark.parametrize("dtype", [None, torch.float64, torch.int32, torch.bool, torch.bfloat16, torch.float16])
def test_eye_matches_numpy(n, m, dtype):
    t = torch.eye(n, m, dtype=dtype) if m is not None else torch.eye(n, dtype=dtype)
    assert t.dtype == (dtype or torch.float32)
    np_dt = np.float32 if dtype in (None, torch.bfloat16) else NP_DTYPES[dtype]
    assert_close_np(t, np.eye(n, m, dtype=np_dt))


def test_eye_errors_and_out():
    with pytest.raises(RuntimeError, match="n must be greater or equal to 0, got -1"):
        torch.eye(-1)
    with pytest.raises(RuntimeError, match="m must be greater or equal to 0, got -2"):
        torch.eye(2, -2)
    out = torch.empty(0, dtype=torch.int64)
    r = torch.eye(2, out=out)
    assert r is out and out.tolist() == [[1, 0], [0, 1]]


def test_factories_requires_grad_and_unknown_device():
    t = torch.arange(3.0, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        torch.arange(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type"):
        torch.eye(2, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            torch.eye(2, device="cuda")
