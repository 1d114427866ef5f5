"""Shared fixtures: every op test runs on every device; CUDA cases skip without a GPU.

A test that takes an argument named `device` is parametrised over "cpu" and "cuda" (directly, not
through a fixture, so hypothesis tests can take it too).
"""

import numpy as np
import pytest

import ferrotorch as torch


def _cuda_available():
    cuda = getattr(torch, "cuda", None)
    return bool(cuda and cuda.is_available())


CUDA_AVAILABLE = _cuda_available()
DEVICE_PARAMS = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=pytest.mark.skipif(not CUDA_AVAILABLE, reason="no CUDA device")),
]


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames and not _parametrized_directly(metafunc, "device"):
        metafunc.parametrize("device", DEVICE_PARAMS)


def _parametrized_directly(metafunc, name):
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if name in names:
            return True
    return False


@pytest.fixture
def rng():
    return np.random.default_rng(0)
