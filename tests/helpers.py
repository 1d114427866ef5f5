"""Helpers for comparing ferrotorch results with NumPy oracles."""

import numpy as np

import ferrotorch as torch

# dtypes with a NumPy twin (bfloat16 has none; tests compare it through float32).
NP_DTYPES = {
    torch.float32: np.float32,
    torch.float64: np.float64,
    torch.float16: np.float16,
    torch.int64: np.int64,
    torch.int32: np.int32,
    torch.int16: np.int16,
    torch.int8: np.int8,
    torch.uint8: np.uint8,
    torch.bool: np.bool_,
}
ALL_DTYPES = list(NP_DTYPES) + [torch.bfloat16]
FLOAT_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INT_DTYPES = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]

TOL = {
    torch.float16: dict(rtol=1e-3, atol=1e-3),
    torch.bfloat16: dict(rtol=1e-2, atol=1e-2),
    torch.float32: dict(rtol=1.3e-6, atol=1e-5),
    torch.float64: dict(rtol=1e-7, atol=1e-7),
}
# CUDA's libm differs from NumPy's by a few ulp, and the GPU contracts a * b + c into one rounding.
CUDA_TOL = {
    torch.float16: dict(rtol=2e-3, atol=2e-3),
    torch.bfloat16: dict(rtol=1.6e-2, atol=1.6e-2),
    torch.float32: dict(rtol=2e-5, atol=1e-5),
    torch.float64: dict(rtol=1e-7, atol=1e-7),
}


def synchronize(device):
    """Waits for `device` (a string): where an op's bad indices are reported on CUDA, as torch's
    device-side asserts are, so a test of the error synchronises inside its `raises` block."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def tolerance(dtype, device="cpu"):
    """rtol/atol for comparing a result of `dtype` computed on `device` with a NumPy oracle."""
    return (CUDA_TOL if str(device).startswith("cuda") else TOL)[dtype]


def to_np(t):
    """A NumPy copy of a tensor (bfloat16 through float32)."""
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()
    return np.array(t.numpy(), copy=True)


def random_array(rng, shape, dtype):
    """Random values that every dtype represents: small ints, floats in [-3, 3)."""
    if dtype == torch.bool:
        return rng.random(shape) > 0.5
    if dtype == torch.uint8:
        return rng.integers(0, 20, shape).astype(np.uint8)
    if dtype in INT_DTYPES:
        return rng.integers(-20, 20, shape).astype(NP_DTYPES[dtype])
    np_dt = np.float32 if dtype == torch.bfloat16 else NP_DTYPES[dtype]
    return (rng.random(shape) * 6 - 3).astype(np_dt)


def make(rng, shape, dtype, device="cpu", noncontiguous=False):
    """A tensor of random values and its NumPy twin; optionally a non-contiguous view."""
    arr = random_array(rng, shape, dtype)
    if noncontiguous and len(shape) >= 1:
        # Build the transpose of a reversed-shape tensor so strides are not row-major.
        base = torch.tensor(np.ascontiguousarray(arr.T), dtype=dtype, device=device)
        t = base.permute(*reversed(range(len(shape))))
    else:
        t = torch.tensor(arr, dtype=dtype, device=device)
    return t, arr


def assert_close_np(t, expected, dtype=None):
    """Asserts a tensor equals a NumPy array within the dtype's tolerance; shapes must match."""
    got = to_np(t)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    dtype = dtype or t.dtype
    if dtype in TOL:
        tol = tolerance(dtype, t.device)
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), equal_nan=True, **tol)
    else:
        np.testing.assert_array_equal(got, expected)
