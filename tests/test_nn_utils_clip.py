"""nn.utils gradient clipping and parameter flattening against NumPy, on every device."""

import numpy as np
import pytest
from helpers import to_np

import ferrotorch as torch
import ferrotorch.nn as nn
from ferrotorch.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)


def params_with_grads(device, grads):
    ps = []
    for g in grads:
        p = nn.Parameter(torch.zeros(g.shape, dtype=torch.float64, device=device))
        p.grad = torch.tensor(g, device=device)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(device, norm_type, max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5), rng.normal(size=(2, 2, 2))]
    ps = params_with_grads(device, grads)
    ps.append(nn.Parameter(torch.ones(2, device=device)))  # no grad: left out
    flat = np.concatenate([g.ravel() for g in grads])
    expected = np.abs(flat).max() if norm_type == float("inf") else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    total = clip_grad_norm_(ps, max_norm, norm_type)
    np.testing.assert_allclose(float(total), expected, rtol=1e-12)
    coef = min(1.0, max_norm / (expected + 1e-6))
    for p, g in zip(ps, grads):
        np.testing.assert_allclose(to_np(p.grad), g * coef, rtol=1e-12)
    assert ps[-1].grad is None


def test_clip_grad_norm_edge_cases(device):
    assert float(clip_grad_norm_([nn.Parameter(torch.ones(2, device=device))], 1.0)) == 0.0
    p = params_with_grads(device, [np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    # A single tensor is accepted, as in torch.
    q = params_with_grads(device, [np.array([3.0, 4.0])])[0]
    assert float(clip_grad_norm_(q, 1.0)) == 5.0
    np.testing.assert_allclose(to_np(q.grad), [3 / (5 + 1e-6), 4 / (5 + 1e-6)])
    assert float(get_total_norm([torch.tensor([3.0, 4.0], device=device)])) == 5.0


def test_clip_grad_value(device):
    g = np.array([-3.0, -0.5, 0.2, 7.0])
    ps = params_with_grads(device, [g])
    clip_grad_value_(ps, 1.0)
    np.testing.assert_array_equal(to_np(ps[0].grad), np.clip(g, -1, 1))
    with pytest.raises(ValueError):
        clip_grad_value_(ps, float("nan"))


def test_parameters_to_vector_and_back(device):
    m = nn.Linear(3, 2, device=device)
    vec = parameters_to_vector(m.parameters())
    np.testing.assert_array_equal(to_np(vec), np.concatenate([to_np(m.weight).ravel(), to_np(m.bias)]))
    new = torch.arange(8, dtype=torch.float32, device=device)
    vector_to_parameters(new, m.parameters())
    np.testing.assert_array_equal(to_np(m.weight), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(to_np(m.bias), [6, 7])
    assert isinstance(m.weight, nn.Parameter)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        vector_to_parameters([1.0], m.parameters())


def test_reached_as_nn_utils():
    # `nn.modules` has a submodule `utils` too; `nn.utils` must stay torch's nn.utils.
    assert nn.utils.clip_grad_norm_ is clip_grad_norm_
    assert nn.utils.rnn.pad_sequence is not None
