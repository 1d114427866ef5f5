"""MNIST / FashionMNIST: IDX parsing, items, errors, and the download path against a local server."""

import contextlib
import functools
import gzip
import hashlib
import http.server
import os
import struct
import threading

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.vision import datasets, transforms

try:
    import PIL.Image  # noqa: F401
    HAVE_PIL = True
except ImportError:
    HAVE_PIL = False

NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def idx_bytes(arr):
    code = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C}[arr.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def make_split(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def payloads():
    (tri, trl), (tei, tel) = make_split(7, 0), make_split(3, 1)
    arrays = dict(zip(NAMES, [tri, trl, tei, tel]))
    return arrays, {k: idx_bytes(v) for k, v in arrays.items()}


def write_raw(folder, files, gz):
    os.makedirs(folder, exist_ok=True)
    for name, data in files.items():
        if gz:
            with gzip.open(os.path.join(folder, name + ".gz"), "wb") as f:
                f.write(data)
        else:
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_parse_and_items(tmp_path, gz, cls, monkeypatch):
    monkeypatch.setattr(cls, "system_dirs", [])
    arrays, files = payloads()
    write_raw(tmp_path / cls.__name__ / "raw", files, gz)
    train = cls(tmp_path)
    test = cls(str(tmp_path), train=False)
    assert len(train) == 7 and len(test) == 3
    assert train.data.dtype == torch.uint8 and tuple(train.data.shape) == (7, 28, 28)
    assert train.targets.dtype == torch.int64
    np.testing.assert_array_equal(train.data.numpy(), arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(test.targets.numpy(), arrays["t10k-labels-idx1-ubyte"])
    img, target = test[2]
    assert isinstance(target, int) and target == int(arrays["t10k-labels-idx1-ubyte"][2])
    expected = arrays["t10k-images-idx3-ubyte"][2]
    if HAVE_PIL:
        assert img.mode == "L"
        np.testing.assert_array_equal(np.asarray(img), expected)
    else:
        assert img.dtype == torch.uint8 and tuple(img.shape) == (28, 28)
        np.testing.assert_array_equal(img.numpy(), expected)
    assert cls.classes and train.class_to_idx[cls.classes[3]] == 3
    assert f"Dataset {cls.__name__}" in repr(train) and "Split: Test" in repr(test)


def test_transforms_applied(tmp_path):
    arrays, files = payloads()
    write_raw(tmp_path / "MNIST" / "raw", files, gz=True)
    ds = datasets.MNIST(tmp_path, transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))]),
                        target_transform=lambda t: t + 100)
    img, target = ds[4]
    assert target == int(arrays["train-labels-idx1-ubyte"][4]) + 100
    assert img.dtype == torch.float32 and tuple(img.shape) == (1, 28, 28)
    ref = (arrays["train-images-idx3-ubyte"][4].astype(np.float32) / 255 - 0.5) / 0.25
    np.testing.assert_allclose(img.numpy()[0], ref, rtol=1e-6, atol=1e-6)
    loader = torch.utils.data.DataLoader(ds, batch_size=4)
    x, y = next(iter(loader))
    assert tuple(x.shape) == (4, 1, 28, 28) and tuple(y.shape) == (4,)


def test_unpacked_preferred_over_gz(tmp_path):
    arrays, files = payloads()
    raw = tmp_path / "MNIST" / "raw"
    write_raw(raw, files, gz=True)
    labels = np.full(7, 9, dtype=np.uint8)
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    assert datasets.MNIST(tmp_path).targets.numpy().tolist() == [9] * 7


def test_system_dir_for_fashion(tmp_path, monkeypatch):
    _, files = payloads()
    system = tmp_path / "share" / "fashion-mnist"
    write_raw(system, files, gz=True)
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", [str(system)])
    assert len(datasets.FashionMNIST(tmp_path / "empty", train=False)) == 3
    assert datasets.FashionMNIST.system_dirs != datasets.MNIST.system_dirs


DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isdir(DEBIAN_DIR), reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_package_files(tmp_path, monkeypatch):
    """The real files of Debian's package: found without a download (none is attempted)."""
    assert DEBIAN_DIR in datasets.FashionMNIST.system_dirs
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    train = datasets.FashionMNIST(tmp_path, train=True, download=True)
    test = datasets.FashionMNIST(tmp_path, train=False)
    assert tuple(train.data.shape) == (60000, 28, 28) and tuple(test.data.shape) == (10000, 28, 28)
    assert train.targets[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert test.targets[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert not (tmp_path / "FashionMNIST").exists()


def test_missing_without_download(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True to download it"):
        datasets.MNIST(tmp_path)


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-5], "truncated"),
    (lambda b: b[:10], "truncated"),
    (lambda b: b[:2], "truncated"),
    (lambda b: b + b"xx", "trailing"),
    (lambda b: b"\x01\x02" + b[2:], "magic"),
    (lambda b: b[:3] + b"\x02" + b[4:], "dims"),
])
@pytest.mark.parametrize("gz", [False, True])
def test_corrupt_files_raise(tmp_path, damage, message, gz):
    _, files = payloads()
    files["train-images-idx3-ubyte"] = damage(files["train-images-idx3-ubyte"])
    write_raw(tmp_path / "MNIST" / "raw", files, gz)
    with pytest.raises(RuntimeError, match=message):
        datasets.MNIST(tmp_path)


def test_truncated_gzip_stream_raises(tmp_path):
    _, files = payloads()
    raw = tmp_path / "MNIST" / "raw"
    write_raw(raw, files, gz=True)
    path = raw / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(RuntimeError, match="gzip"):
        datasets.MNIST(tmp_path)


def test_count_mismatch_raises(tmp_path):
    _, files = payloads()
    files["train-labels-idx1-ubyte"] = idx_bytes(np.zeros(5, dtype=np.uint8))
    write_raw(tmp_path / "MNIST" / "raw", files, gz=False)
    with pytest.raises(RuntimeError, match="7 images but 5 labels"):
        datasets.MNIST(tmp_path)


# ---- download against a local HTTP server ---------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def served(tmp_path):
    """A directory of generated .gz files being served, and the matching resources list."""
    arrays, files = payloads()
    site = tmp_path / "site"
    write_raw(site, files, gz=True)
    resources = [(n + ".gz", hashlib.md5((site / (n + ".gz")).read_bytes()).hexdigest()) for n in NAMES]
    with serve(site) as url:
        yield url, resources, arrays


def no_leftovers(raw):
    return not [p for p in os.listdir(raw) if p.endswith(".part")]


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_download(tmp_path, served, monkeypatch, cls):
    url, resources, arrays = served
    monkeypatch.setattr(cls, "mirrors", [url])
    monkeypatch.setattr(cls, "resources", resources)
    monkeypatch.setattr(cls, "system_dirs", [])
    ds = cls(tmp_path / "root", train=False, download=True)
    raw = tmp_path / "root" / cls.__name__ / "raw"
    assert sorted(os.listdir(raw)) == sorted(NAMES + [n + ".gz" for n in NAMES])
    np.testing.assert_array_equal(ds.data.numpy(), arrays["t10k-images-idx3-ubyte"])
    # Already present: a second download=True must not need the network.
    monkeypatch.setattr(cls, "mirrors", ["http://127.0.0.1:9/"])
    assert len(cls(tmp_path / "root", download=True)) == 7


def test_first_mirror_fails_second_succeeds(tmp_path, served, monkeypatch):
    url, resources, arrays = served
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url + "missing/", url])
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    ds = datasets.MNIST(tmp_path, download=True)
    np.testing.assert_array_equal(ds.targets.numpy(), arrays["train-labels-idx1-ubyte"])
    assert no_leftovers(tmp_path / "MNIST" / "raw")


def test_checksum_mismatch_raises(tmp_path, served, monkeypatch):
    url, resources, _ = served
    bad = [(resources[0][0], "0" * 32)] + resources[1:]
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url])
    monkeypatch.setattr(datasets.MNIST, "resources", bad)
    with pytest.raises(RuntimeError, match=r"Error downloading train-images-idx3-ubyte.gz(.|\n)*MD5"):
        datasets.MNIST(tmp_path, download=True)
    raw = tmp_path / "MNIST" / "raw"
    # Nothing lands under the final name when the checksum fails.
    assert not (raw / "train-images-idx3-ubyte.gz").exists() and not (raw / "train-images-idx3-ubyte").exists()
    assert no_leftovers(raw)


def test_all_mirrors_fail(tmp_path, served, monkeypatch):
    url, resources, _ = served
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url + "a/", url + "b/"])
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    with pytest.raises(RuntimeError, match=r"Tried .*a/, got:(.|\n)*Tried .*b/, got:(.|\n)*404"):
        datasets.MNIST(tmp_path, download=True)


def test_torchvision_checksums():
    # The published MD5s of the real files, as torchvision lists them.
    assert dict(datasets.MNIST.resources)["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert dict(datasets.FashionMNIST.resources)["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    assert datasets.FashionMNIST.mirrors != datasets.MNIST.mirrors
    assert datasets.FashionMNIST.classes[9] == "Ankle boot"
