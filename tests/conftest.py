"""Shared fixtures: every op test runs on every device; CUDA cases skip without a GPU."""

import numpy as np
import pytest

import ferrotorch as torch

DEVICES = ["cpu"]


def _cuda_available():
    cuda = getattr(torch, "cuda", None)
    return bool(cuda and cuda.is_available())


@pytest.fixture(params=DEVICES + ["cuda"])
def device(request):
    if request.param == "cuda" and not _cuda_available():
        pytest.skip("no CUDA device")
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(0)
