"""examples/fashion_mnist.py end to end on a small generated Fashion-MNIST: the progress bar, the
accuracy line, the curves PNG and the checkpoint, then ``--resume`` continuing from the checkpoint.
"""

import gzip
import pathlib
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import ferrotorch

pytest.importorskip("tqdm")
pytest.importorskip("matplotlib")

EXAMPLE = pathlib.Path(__file__).parent.parent / "examples" / "fashion_mnist.py"


N_TRAIN, N_TEST = 240, 120


def idx_bytes(arr):
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def make_split(n, rng):
    """Images whose class k is a bright 7x7 square at one of ten places, on noise: learnable."""
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for image, k in zip(images, labels):
        r, c = 2 + 12 * (k // 5), 1 + 5 * (k % 5)
        image[r:r + 7, c:c + 7] = 255
    return images, labels


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        images, labels = make_split(n, rng)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            with gzip.open(raw / f"{prefix}-{kind}-ubyte.gz", "wb") as f:
                f.write(idx_bytes(arr))
    return root


def run(root, out, *args, device="cpu"):
    cmd = [sys.executable, str(EXAMPLE), "--root", str(root), "--out", str(out),
           "--device", device, "--batch-size", "32", "--lr", "3e-3", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def accuracy(result):
    match = re.search(r"^test accuracy: ([\d.]+)% \((\d+)/(\d+)\)$", result.stdout, re.M)
    assert match, result.stdout
    return float(match.group(1)), int(match.group(2)), int(match.group(3))


def test_trains_and_writes_curves_and_checkpoint(root, tmp_path, device):
    out = tmp_path / "out"
    result = run(root, out, "--epochs", "2", device=device)
    acc, correct, total = accuracy(result)
    assert total == N_TEST and acc == pytest.approx(100 * correct / total, abs=0.005)
    assert acc > 50, result.stdout  # chance is 10%; the squares are easy to tell apart
    # One summary line per epoch; tqdm's bar (on stderr) shows loss, accuracy and samples/s.
    assert re.findall(r"^epoch (\d)/2: train loss", result.stdout, re.M) == ["1", "2"]
    assert "loss=" in result.stderr and "acc=" in result.stderr and "samples_s=" in result.stderr
    assert re.search(r"^total wall time: [\d.]+ s$", result.stdout, re.M), result.stdout
    png = (out / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert (out / "checkpoint.pt").stat().st_size > 0
    assert not (out / "checkpoint.pt.tmp").exists()


def test_limit_uses_the_first_images(root, tmp_path):
    result = run(root, tmp_path / "out", "--epochs", "1", "--limit", "50")
    assert "50 training and 50 test images" in result.stdout
    assert accuracy(result)[2] == 50


def test_resume_continues_from_the_checkpoint(root, tmp_path, device):
    straight = run(root, tmp_path / "straight", "--epochs", "3", device=device)

    out = tmp_path / "resumed"
    first = run(root, out, "--epochs", "1", device=device)
    checkpoint = ferrotorch.load(out / "checkpoint.pt", map_location="cpu")
    assert checkpoint["epoch"] == 1 and len(checkpoint["history"]["test_acc"]) == 1
    assert set(checkpoint) >= {"model", "optimizer", "scheduler", "epoch", "history"}
    assert accuracy(first)[0] > 0

    resumed = run(root, out, "--epochs", "3", "--resume", device=device)
    assert "resumed from" in resumed.stdout and "after epoch 1" in resumed.stdout
    assert re.findall(r"^epoch (\d)/3: train loss", resumed.stdout, re.M) == ["2", "3"]
    checkpoint = ferrotorch.load(out / "checkpoint.pt", map_location="cpu")
    assert checkpoint["epoch"] == 3 and len(checkpoint["history"]["train_loss"]) == 3

    # Same seeds, same batches, same state: the resumed run ends where the straight one does.
    reference = ferrotorch.load(tmp_path / "straight" / "checkpoint.pt", map_location="cpu")
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        np.testing.assert_allclose(checkpoint["history"][key], reference["history"][key], rtol=1e-4)
    assert accuracy(resumed) == pytest.approx(accuracy(straight), abs=1.0)

    # Resuming a finished run trains nothing and reports the checkpoint's accuracy.
    again = run(root, out, "--epochs", "3", "--resume", device=device)
    assert "train loss" not in again.stdout
    assert accuracy(again) == accuracy(resumed)
