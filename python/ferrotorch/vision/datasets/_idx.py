"""Reader for the IDX format of the MNIST family (LeCun's "SN3 Pascal Vincent" files).

Layout: two zero bytes, a type byte, a byte giving the number of dims, then each dim as a
big-endian uint32, then the values in row-major order, big-endian for multi-byte types.
"""

import gzip
import os

import numpy as np

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_bytes(path):
    path = os.fspath(path)
    if path.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError) as e:  # BadGzipFile is an OSError; a cut-off stream is EOFError
            raise RuntimeError(f"{path} is not a valid gzip file: {e}") from e
    with open(path, "rb") as f:
        return f.read()


def read_idx(path, ndim=None):
    """Parses an IDX file (``.gz`` read directly) into a native-endian NumPy array.

    Raises ``RuntimeError`` naming the file when the header is wrong, the dims are not ``ndim``,
    or the payload is shorter or longer than the dims say.
    """
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise RuntimeError(f"{path} is truncated: {len(raw)} bytes, too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise RuntimeError(f"{path} is not an IDX file: bad magic number 0x{raw[:4].hex()}")
    nd = raw[3]
    if ndim is not None and nd != ndim:
        raise RuntimeError(f"{path}: expected an IDX file of {ndim} dims, got {nd}")
    header = 4 + 4 * nd
    if len(raw) < header:
        raise RuntimeError(f"{path} is truncated: {len(raw)} bytes, the header alone needs {header}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=nd, offset=4))
    dtype = _TYPES[raw[2]]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "corrupt (trailing bytes)"
        raise RuntimeError(f"{path} is {what}: {len(raw)} bytes, shape {list(shape)} needs {expected}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    # Native byte order and a writable copy: from_numpy wants both, and the bytes object is freed.
    return data.astype(dtype.newbyteorder("="), copy=True)
