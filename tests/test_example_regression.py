"""examples/regression.py: both fits reach the least-squares cubic of sin on [-pi, pi]."""

import importlib.util
import pathlib

import numpy as np


def load_example():
    path = pathlib.Path(__file__).parent.parent / "examples" / "regression.py"
    spec = importlib.util.spec_from_file_location("regression_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_fits_approach_the_least_squares_cubic(device):
    example = load_example()
    x = np.linspace(-np.pi, np.pi, 2000)
    basis = np.stack([np.ones_like(x), x, x**2, x**3], 1)
    best, *_ = np.linalg.lstsq(basis, np.sin(x), rcond=None)
    best_loss = float(((basis @ best - np.sin(x)) ** 2).sum())
    loss, coefs = example.fit_with_nn(device, 2000)
    assert loss < best_loss * 1.05
    np.testing.assert_allclose(coefs, best, atol=0.01)
    # Plain gradient descent at the tutorial's rate converges more slowly along x^2's direction.
    loss, coefs = example.fit_with_autograd(device, 2000)
    assert loss < best_loss * 1.5
    np.testing.assert_allclose(coefs[1::2], best[1::2], atol=0.05)
