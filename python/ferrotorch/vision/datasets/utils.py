"""Download and checksum helpers, as ``torchvision.datasets.utils``.

Every file lands through a temporary file in the destination directory and ``os.replace``, so
an interrupted download or a failed checksum never leaves a partial file under the final name
(a later run would otherwise trust it because it exists).
"""

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request

_USER_AGENT = "ferrotorch"
_CHUNK = 1024 * 1024


def calculate_md5(fpath, chunk_size=_CHUNK):
    """MD5 hex digest of the file at ``fpath``."""
    # usedforsecurity=False: MD5 is an integrity check against the published values, and
    # FIPS-mode Pythons refuse plain hashlib.md5().
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5, **kwargs):
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """True if ``fpath`` exists and, when ``md5`` is given, matches it."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def _atomic_writer(directory, final_name):
    """A named temporary file next to ``final_name`` (same filesystem, so the rename is atomic)."""
    return tempfile.NamedTemporaryFile(dir=directory, prefix=f".{final_name}.", suffix=".part", delete=False)


def _discard(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def download_url(url, root, filename=None, md5=None, timeout=30.0):
    """Downloads ``url`` into ``root/filename``, verifying ``md5`` before the file appears.

    Raises:
        urllib.error.URLError / OSError: the server could not be reached or answered an error.
        RuntimeError: the downloaded bytes do not match ``md5``.
    """
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return fpath

    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    tmp = _atomic_writer(root, filename)
    try:
        with tmp, urllib.request.urlopen(request, timeout=timeout) as response:
            shutil.copyfileobj(response, tmp, _CHUNK)
        if md5 is not None:
            got = calculate_md5(tmp.name)
            if got != md5:
                raise RuntimeError(
                    f"File downloaded from {url} is corrupted: MD5 {got} does not match the expected {md5}."
                )
        os.replace(tmp.name, fpath)
    finally:
        _discard(tmp.name)
    return fpath


def _decompress_gzip(from_path, to_path):
    directory, name = os.path.split(to_path)
    tmp = _atomic_writer(directory or ".", name)
    try:
        with tmp, gzip.open(from_path, "rb") as src:
            shutil.copyfileobj(src, tmp, _CHUNK)
        os.replace(tmp.name, to_path)
    except (OSError, EOFError) as e:
        raise RuntimeError(f"Could not decompress {from_path}: {e}") from e
    finally:
        _discard(tmp.name)
    return to_path


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False):
    """Downloads ``url`` (checked against ``md5``) and unpacks it; only ``.gz`` archives are
    supported, which is all the MNIST family needs."""
    download_root = os.path.expanduser(os.fspath(download_root))
    extract_root = download_root if extract_root is None else os.fspath(extract_root)
    filename = filename or os.path.basename(url)
    archive = download_url(url, download_root, filename, md5)
    if not filename.endswith(".gz"):
        raise RuntimeError(f"Unsupported archive type of {filename}: only .gz is supported")
    out = _decompress_gzip(archive, os.path.join(extract_root, filename[: -len(".gz")]))
    if remove_finished:
        os.remove(archive)
    return out


__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "download_and_extract_archive"]
