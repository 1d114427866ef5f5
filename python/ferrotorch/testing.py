"""``torch.testing``: comparing tensors in tests.

``assert_close`` follows torch's design: the inputs are paired up (recursing into sequences and
mappings), each pair is compared by the first of None/bool/number/tensor-like comparers that
accepts it, and the first failure is raised with torch's message wording.
"""

import cmath
import collections.abc

import numpy as np

from . import _C

__all__ = ["assert_close"]

_DTYPE_PRECISIONS = {
    _C.float16: (0.001, 1e-5),
    _C.bfloat16: (0.016, 1e-5),
    _C.float32: (1.3e-6, 1e-5),
    _C.float64: (1e-7, 1e-7),
}

# Python number types and the dtype torch assigns them when picking tolerances.
_NUMBER_DTYPES = {bool: _C.bool, int: _C.int64, float: _C.float64}


class _ErrorMeta(Exception):
    """A failure found while pairing or comparing; becomes the user-facing exception."""

    def __init__(self, type, msg, *, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


class _Unsupported(Exception):
    """Raised by a comparer that does not handle the given inputs."""


def _default_tolerances(*dtypes):
    rtols, atols = zip(*[_DTYPE_PRECISIONS.get(d, (0.0, 0.0)) for d in dtypes])
    return max(rtols), max(atols)


def _get_tolerances(*dtypes, rtol, atol, id):
    if (rtol is None) ^ (atol is None):
        raise _ErrorMeta(
            ValueError,
            f"Both 'rtol' and 'atol' must be either specified or omitted, "
            f"but got no {'rtol' if rtol is None else 'atol'}.",
            id=id,
        )
    if rtol is not None:
        return rtol, atol
    return _default_tolerances(*dtypes)


def _make_mismatch_msg(*, identifier, extra, abs_diff, abs_diff_idx, atol, rel_diff, rel_diff_idx, rtol):
    equality = rtol == 0 and atol == 0

    def diff_msg(kind, diff, idx, tol):
        if idx is None:
            msg = f"{kind.title()} difference: {diff}"
        else:
            msg = f"Greatest {kind} difference: {diff} at index {idx}"
        if not equality:
            msg += f" (up to {tol} allowed)"
        return msg + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_msg("absolute", abs_diff, abs_diff_idx, atol)
    msg += diff_msg("relative", rel_diff, rel_diff_idx, rtol)
    return msg.strip()


def _scalar_mismatch_msg(actual, expected, *, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _make_mismatch_msg(
        identifier="Scalars",
        extra=f"Expected {expected} but got {actual}.",
        abs_diff=abs_diff,
        abs_diff_idx=None,
        atol=atol,
        rel_diff=rel_diff,
        rel_diff_idx=None,
        rtol=rtol,
    )


def _round_to(values, dtype):
    """``values`` (a float32 array) rounded to bfloat16, as a float32 array."""
    if dtype == _C.bfloat16:
        return _C.from_numpy(np.ascontiguousarray(values, dtype=np.float32)).to(dtype).float().numpy()
    return values


def _tensor_mismatch_msg(actual, expected, matches, *, rtol, atol):
    a = np.asarray(actual.numpy(force=True)).reshape(-1)
    e = np.asarray(expected.numpy(force=True)).reshape(-1)
    m = np.asarray(matches.numpy(force=True)).reshape(-1)
    n = m.size
    mismatches = n - int(m.sum())
    extra = f"Mismatched elements: {mismatches} / {n} ({mismatches / n:.1%})"
    dtype = actual.dtype
    with np.errstate(all="ignore"):
        if not dtype.is_floating_point:
            # Integers are compared in int64; the relative difference is a true division,
            # which torch computes in the default float dtype.
            a, e = a.astype(np.int64), e.astype(np.int64)
            abs_diff = np.abs(a - e)
            abs_diff[m] = 0
            div_dtype = _C._get_default_dtype()
            np_div = {_C.float64: np.float64, _C.float16: np.float16}.get(div_dtype, np.float32)
            rel_diff = _round_to(abs_diff.astype(np_div) / np.abs(e).astype(np_div), div_dtype)
        else:
            abs_diff = _round_to(np.abs(a - e), dtype)
            abs_diff[m] = 0
            rel_diff = _round_to(abs_diff / np.abs(e), dtype)
        rel_diff[m] = 0
    shape = tuple(matches.shape)

    def unravel(flat):
        return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()

    abs_idx, rel_idx = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))
    return _make_mismatch_msg(
        identifier="Tensor-likes",
        extra=extra,
        abs_diff=abs_diff[abs_idx].item(),
        abs_diff_idx=unravel(abs_idx),
        atol=atol,
        rel_diff=rel_diff[rel_idx].item(),
        rel_diff_idx=unravel(rel_idx),
        rtol=rtol,
    )


def _compare_none(actual, expected, id, **_):
    if not (actual is None or expected is None):
        raise _Unsupported
    if not (actual is None and expected is None):
        raise _ErrorMeta(AssertionError, f"None mismatch: {actual} is not {expected}", id=id)


def _compare_bool(actual, expected, id, **_):
    kinds = (bool, np.bool_)
    if not (isinstance(actual, kinds) and isinstance(expected, kinds)):
        raise _Unsupported
    actual, expected = bool(actual), bool(expected)
    if actual is not expected:
        raise _ErrorMeta(AssertionError, f"Booleans mismatch: {actual} is not {expected}", id=id)


def _to_number(x):
    return x.item() if isinstance(x, np.number) else x


def _compare_number(actual, expected, id, *, rtol, atol, equal_nan, check_dtype, **_):
    kinds = (int, float, complex, np.number)
    if not (isinstance(actual, kinds) and isinstance(expected, kinds)):
        raise _Unsupported
    actual, expected = _to_number(actual), _to_number(expected)
    dtypes = [_NUMBER_DTYPES.get(type(x), _C.float64) for x in (actual, expected)]
    rtol, atol = _get_tolerances(*dtypes, rtol=rtol, atol=atol, id=id)
    if check_dtype and type(actual) is not type(expected):
        raise _ErrorMeta(
            AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.", id=id
        )
    if actual == expected:
        return
    if equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
        return
    abs_diff = abs(actual - expected)
    tolerance = atol + rtol * abs(expected)
    if cmath.isfinite(abs_diff) and abs_diff <= tolerance:
        return
    raise _ErrorMeta(AssertionError, _scalar_mismatch_msg(actual, expected, rtol=rtol, atol=atol), id=id)


def _to_tensor(x):
    if isinstance(x, _C.Tensor):
        return x
    try:
        return _C.as_tensor(x)
    except Exception:
        raise _Unsupported from None


def _compare_tensor_like(actual, expected, id, *, rtol, atol, equal_nan, check_device, check_dtype, **_):
    if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        raise _Unsupported
    actual, expected = _to_tensor(actual), _to_tensor(expected)
    rtol, atol = _get_tolerances(actual.dtype, expected.dtype, rtol=rtol, atol=atol, id=id)

    def mismatch(name, a, e):
        raise _ErrorMeta(AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.", id=id)

    if actual.shape != expected.shape:
        mismatch("shape", actual.shape, expected.shape)
    if check_device and actual.device != expected.device:
        mismatch("device", actual.device, expected.device)
    if check_dtype and actual.dtype != expected.dtype:
        mismatch("dtype", actual.dtype, expected.dtype)
    if actual.device != expected.device:
        actual, expected = actual.cpu(), expected.cpu()
    if actual.dtype != expected.dtype:
        dtype = _C._promote_types(actual.dtype, expected.dtype)
        actual, expected = actual.to(dtype), expected.to(dtype)
    matches = actual.isclose(expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if bool(matches.all()):
        return
    if actual.dim() == 0:
        msg = _scalar_mismatch_msg(actual.item(), expected.item(), rtol=rtol, atol=atol)
    else:
        msg = _tensor_mismatch_msg(actual, expected, matches, rtol=rtol, atol=atol)
    raise _ErrorMeta(AssertionError, msg, id=id)


_COMPARERS = (_compare_none, _compare_bool, _compare_number, _compare_tensor_like)


def _compare(actual, expected, id, options):
    """Compares one pair, recursing into sequences and mappings; raises ``_ErrorMeta``."""
    seq = collections.abc.Sequence
    if isinstance(actual, seq) and not isinstance(actual, str) and isinstance(expected, seq) and not isinstance(
        expected, str
    ):
        if len(actual) != len(expected):
            raise _ErrorMeta(
                AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", id=id
            )
        for i in range(len(actual)):
            _compare(actual[i], expected[i], (*id, i), options)
        return
    mapping = collections.abc.Mapping
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _ErrorMeta(
                AssertionError,
                f"The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}",
                id=id,
            )
        keys = actual_keys
        try:
            keys = sorted(keys)
        except Exception:
            pass
        for key in keys:
            _compare(actual[key], expected[key], (*id, key), options)
        return
    for comparer in _COMPARERS:
        try:
            comparer(actual, expected, id, **options)
            return
        except _Unsupported:
            continue
    raise _ErrorMeta(
        TypeError,
        f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.",
        id=id,
    )


def assert_close(
    actual,
    expected,
    *,
    allow_subclasses=True,
    rtol=None,
    atol=None,
    equal_nan=False,
    check_device=True,
    check_dtype=True,
    check_layout=True,
    check_stride=False,
    msg=None,
):
    r"""Asserts that ``actual`` and ``expected`` are close.

    Tensors (or tensor-likes of the same type, e.g. NumPy arrays) must have the same shape,
    device and dtype (unless ``check_device``/``check_dtype`` is False) and satisfy
    ``|actual - expected| <= atol + rtol * |expected|`` elementwise. Python numbers are
    compared the same way; sequences and mappings are compared item by item.

    Args:
        actual (Any): Actual input.
        expected (Any): Expected input.
        rtol (Optional[float]): Relative tolerance. If specified ``atol`` must also be
            specified. If omitted, default values based on the ``dtype`` are selected:
            float16 1e-3, bfloat16 1.6e-2, float32 1.3e-6, float64 1e-7, integers 0.
        atol (Optional[float]): Absolute tolerance (float16, bfloat16, float32: 1e-5;
            float64: 1e-7; integers 0).
        equal_nan (bool): If ``True``, two ``NaN`` values will be considered equal.
        check_device (bool): If ``True`` (default), asserts that inputs are on the same device.
        check_dtype (bool): If ``True`` (default), asserts that inputs have the same
            ``dtype``; otherwise both are promoted to a common dtype first.
        msg (Optional[Union[str, Callable[[str], str]]]): Error message to use in case a
            failure occurs; a callable receives the generated message and returns the new one.

    Raises:
        AssertionError: if the inputs are not close (``"Tensor-likes are not close!"`` with the
            number of mismatched elements and the greatest absolute and relative differences).
        TypeError: if the inputs cannot be compared.
        ValueError: if only one of ``rtol`` and ``atol`` is given.
    """
    __tracebackhide__ = True
    del allow_subclasses, check_layout, check_stride
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype)
    try:
        _compare(actual, expected, (), options)
    except _ErrorMeta as meta:
        raise meta.to_error(msg) from None
