"""Finding CUDA's libraries before the core opens them, as torch does.

The core opens NVRTC and cuBLAS by their file names (``libnvrtc.so.13`` ...). NVIDIA also
ships them as pip wheels (``nvidia-cuda-nvrtc``, ``nvidia-cublas`` ...) that put them under
``site-packages/nvidia/.../lib``, a folder the dynamic loader does not search. Loading them here
by absolute path, with ``RTLD_GLOBAL``, makes the core's later open by name find the library
already in the process. Libraries under ``CUDA_HOME`` are preloaded the same way; anything else
is left to the loader's own search (``LD_LIBRARY_PATH``, the system's cache).

cuDNN (``nvidia-cudnn-cu13``: ``nvidia/cudnn/lib/libcudnn.so.9``) is a dispatcher that opens
its sub-libraries (``libcudnn_cnn.so.9``, ``libcudnn_engines_*.so.9`` ...) by name at run time;
the wheel's libraries carry no run path, so every one of them is preloaded too, which also keeps
a system cuDNN of another version from being mixed in. That is a large set, so it is loaded on
first need (:func:`preload_cudnn`, called by ``backends.cudnn`` and the first CUDA convolution),
not at import.
"""

import ctypes
import glob
import os
import site
import sys

# Sonames of the CUDA 13 line, in dependency order (cuBLAS needs cuBLASLt).
LIBRARIES = ("libnvrtc-builtins.so.13.0", "libnvrtc.so.13", "libcublasLt.so.13", "libcublas.so.13")

_loaded = {}


def _search_dirs():
    dirs = []
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if home:
        dirs += [os.path.join(home, "lib64"), os.path.join(home, "lib")]
    roots = list(sys.path)
    try:
        roots += site.getsitepackages() + [site.getusersitepackages()]
    except AttributeError:  # some embedded interpreters lack these
        pass
    for root in dict.fromkeys(roots):
        nvidia = os.path.join(root, "nvidia")
        if os.path.isdir(nvidia):
            dirs += sorted(glob.glob(os.path.join(nvidia, "*", "lib")))
            dirs += sorted(glob.glob(os.path.join(nvidia, "*", "*", "lib")))
    return dirs


def preload():
    """Loads every CUDA library found in the places above; returns ``{soname: path}``."""
    if _loaded:
        return dict(_loaded)
    dirs = _search_dirs()
    for name in LIBRARIES:
        for d in dirs:
            path = os.path.join(d, name)
            if os.path.exists(path):
                try:
                    ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                except OSError:
                    continue
                _loaded[name] = path
                break
    return dict(_loaded)


_cudnn_loaded = {}

# The dispatcher's soname; its sub-libraries are every other libcudnn_*.so.9 beside it.
CUDNN = "libcudnn.so.9"


def preload_cudnn():
    """Loads cuDNN and its sub-libraries from the first place above that has them; returns
    ``{file name: path}`` (empty when cuDNN is left to the loader's search, or absent)."""
    if _cudnn_loaded:
        return dict(_cudnn_loaded)
    preload()  # cuDNN's engines use cuBLASLt and NVRTC: those first
    # The core opens cuDNN by the unversioned name first. Where the system's loader finds one
    # under that name (a system cuDNN, its sub-libraries beside it), that one is used, unless
    # torch is in the process: torch loads its own cuDNN's sub-libraries by soname, and a
    # system cuDNN of another version loaded first would break torch's. Then the wheel's set is
    # preloaded (torch's), and if the core still finds the system's dispatcher under the
    # unversioned name, the version check fails and convolutions take the im2col path.
    if "torch" not in sys.modules:
        try:
            ctypes.CDLL("libcudnn.so", mode=ctypes.RTLD_GLOBAL)
            return {}
        except OSError:
            pass
    for d in _search_dirs():
        if not os.path.exists(os.path.join(d, CUDNN)):
            continue
        pending = [CUDNN] + sorted(
            os.path.basename(p) for p in glob.glob(os.path.join(d, "libcudnn_*.so.9"))
        )
        # Sub-libraries need one another (the engines need libcudnn_graph ...); loading in
        # passes until none more loads settles the order without hard-coding it.
        while pending:
            rest = []
            for name in pending:
                try:
                    ctypes.CDLL(os.path.join(d, name), mode=ctypes.RTLD_GLOBAL)
                except OSError:
                    rest.append(name)
                    continue
                _cudnn_loaded[name] = os.path.join(d, name)
            if len(rest) == len(pending):
                break
            pending = rest
        break
    return dict(_cudnn_loaded)


def searched():
    """Where :func:`preload` looks, for error messages."""
    return _search_dirs()
