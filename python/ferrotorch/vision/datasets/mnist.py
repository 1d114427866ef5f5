"""MNIST and Fashion-MNIST, as ``torchvision.datasets.MNIST`` / ``FashionMNIST``."""

import os

import numpy as np

from ... import from_numpy
from ...utils.data import Dataset
from ._idx import read_idx
from .utils import download_and_extract_archive

try:  # PIL is optional: without it items are uint8 tensors rather than PIL images.
    from PIL import Image as _Image
except ImportError:  # pragma: no cover - depends on the environment
    _Image = None


class MNIST(Dataset):
    """The MNIST handwritten-digit dataset.

    Args:
        root (str or pathlib.Path): directory holding ``MNIST/raw/`` (``train-images-idx3-ubyte``
            and friends, unpacked or ``.gz``).
        train (bool, optional): the 60k training split if True, else the 10k test split.
        transform (callable, optional): applied to each image.
        target_transform (callable, optional): applied to each target.
        download (bool, optional): download the files into ``root`` when they are missing.

    Items are ``(image, target)``: the image is a PIL image of mode ``"L"`` when PIL is installed
    (as torchvision), otherwise a ``(28, 28)`` uint8 tensor; the target is an ``int``.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]
    # Read-only directories searched after raw_folder (system packages of the dataset).
    system_dirs = []

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if isinstance(root, (str, bytes, os.PathLike)):
            root = os.path.expanduser(os.fspath(root))
        self.root = root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform

        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self._images, self._labels = self._load_data()
        self.data = from_numpy(self._images)
        self.targets = from_numpy(self._labels)

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _find(self, name):
        """Path of ``name`` (unpacked preferred, else ``.gz``) in raw_folder or a system dir."""
        for directory in [self.raw_folder, *self.system_dirs]:
            for candidate in (name, name + ".gz"):
                path = os.path.join(directory, candidate)
                if os.path.isfile(path):
                    return path
        return None

    def _check_exists(self):
        return all(self._find(os.path.splitext(f)[0]) for f, _ in self.resources)

    def _load_data(self):
        prefix = "train" if self.train else "t10k"
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte"), ndim=3).astype(np.uint8, copy=False)
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte"), ndim=1).astype(np.int64)
        if len(images) != len(labels):
            raise RuntimeError(
                f"{self.__class__.__name__}: {len(images)} images but {len(labels)} labels in the {prefix} split"
            )
        return images, labels

    def download(self):
        """Downloads every resource not present yet, trying each mirror in turn."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            if self._find(os.path.splitext(filename)[0]):
                continue
            errors = []
            for mirror in self.mirrors:
                url = f"{mirror}{filename}"
                try:
                    download_and_extract_archive(url, download_root=self.raw_folder, filename=filename, md5=md5)
                except (OSError, RuntimeError) as e:  # URLError is an OSError; a bad checksum a RuntimeError
                    errors.append((mirror, e))
                    continue
                break
            else:
                tried = "".join(f"Tried {m}, got:\n{e}\n" for m, e in errors)
                raise RuntimeError(f"Error downloading {filename}:\n{tried}")

    def __getitem__(self, index):
        img, target = self._images[index], int(self._labels[index])
        # A 2-D uint8 array becomes mode "L" (the mode= argument is deprecated in recent Pillow).
        img = _Image.fromarray(img) if _Image is not None else from_numpy(img.copy())
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self._labels)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"

    def __repr__(self):
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}", self.extra_repr()]
        if self.transform is not None:
            lines.append(f"Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"Target transform: {self.target_transform!r}")
        return "\n".join([f"Dataset {self.__class__.__name__}"] + ["    " + line for line in lines])


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and splits as :class:`MNIST`, clothing classes.

    Besides ``root/FashionMNIST/raw``, the files are found in ``/usr/share/datasets/fashion-mnist``
    where Debian's ``dataset-fashion-mnist`` package installs them (the four ``.gz`` files, named
    as here). Their images and labels are upstream's, but the MD5s of the ``.gz`` files differ
    from ``resources`` (the gzip headers were rewritten: no file name, the packaging date), so
    checksums are only checked on download.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    system_dirs = ["/usr/share/datasets/fashion-mnist"]
