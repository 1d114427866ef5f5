"""Every CUDA kernel source compiles with NVRTC (from NVIDIA's pip wheel), for the A100 (sm_80)
and H100/H200 (sm_90) architectures, on a machine without a GPU. A kernel that does not compile
fails here, before any GPU run."""

import platform

import pytest

from ferrotorch import _C
from ferrotorch.cuda import _libs

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64",
    reason="NVIDIA ships NVRTC wheels for x86-64 Linux only",
)


def test_nvrtc_is_found():
    loaded = _libs.preload()
    major, minor = _C._nvrtc_version()
    assert (major, minor) >= (13, 0), (loaded, _libs.searched())


@pytest.mark.parametrize("arch", [80, 90])
def test_every_kernel_compiles(arch):
    assert _C._cuda_compile_all_kernels(arch) > 0


def test_compile_errors_carry_the_nvrtc_log(tmp_path):
    with pytest.raises(RuntimeError, match="NVRTC could not compile kernel source"):
        _C._cuda_compile_source("broken", "extern \"C\" __global__ void k() { nope; }", 90)
