"""The fused LSTM and GRU steps (`_thnn_fused_lstm_cell`, `_thnn_fused_gru_cell`) on every
device: values and gradients against NumPy for every float dtype, gradcheck and gradgradcheck
in float64, the recorded node names, a state gradient arriving through one output only, and
the layers (LSTM, GRU, LSTMCell, GRUCell) running through them."""

import numpy as np
import pytest
from helpers import FLOAT_DTYPES, to_np, tolerance

import ferrotorch as torch
import ferrotorch.nn as nn
from ferrotorch import _C
from ferrotorch.autograd import gradcheck, gradgradcheck

f64 = torch.float64


def T(a, device, dtype=f64, grad=False):
    t = torch.tensor(np.asarray(a), dtype=dtype, device=device)
    return t.requires_grad_() if grad else t


def rounded(a, dtype):
    return to_np(torch.tensor(np.asarray(a, np.float32), dtype=dtype)).astype(np.float64)


def assert_close(t, expected, scale=1.0):
    tol = tolerance(t.dtype, t.device)
    np.testing.assert_allclose(to_np(t).astype(np.float64), np.asarray(expected, np.float64),
                               rtol=tol["rtol"] * scale, atol=tol["atol"] * scale)


def sig(v):
    return 1 / (1 + np.exp(-v))


def lstm_np(gates, cx, dh, dc):
    i, f, g, o = np.split(gates, 4, axis=1)
    i, f, g, o = sig(i), sig(f), np.tanh(g), sig(o)
    cy = f * cx + i * g
    hy = o * np.tanh(cy)
    tc = np.tanh(cy)
    dct = dc + dh * o * (1 - tc**2)
    dgates = np.concatenate([dct * g * i * (1 - i), dct * cx * f * (1 - f), dct * i * (1 - g**2),
                             dh * tc * o * (1 - o)], axis=1)
    return hy, cy, dgates, dct * f


def gru_np(gi, gh, hx, d):
    ar, az, an = np.split(gi, 3, axis=1)
    cr, cz, cn = np.split(gh, 3, axis=1)
    r, z = sig(ar + cr), sig(az + cz)
    n = np.tanh(an + r * cn)
    hy = n + z * (hx - n)
    dn = d * (1 - z) * (1 - n**2)
    dz = d * (hx - n) * z * (1 - z)
    dr = dn * cn * r * (1 - r)
    return hy, np.concatenate([dr, dz, dn], 1), np.concatenate([dr, dz, dn * r], 1), d * z


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("b,h", [(3, 5), (1, 1), (70, 600)])
def test_lstm_cell_values_and_gradients(device, dtype, b, h):
    rng = np.random.default_rng(0)
    gates = rounded(rng.normal(0, 2, (b, 4 * h)), dtype)
    cx = rounded(rng.normal(size=(b, h)), dtype)
    dh, dc = rounded(rng.normal(size=(b, h)), dtype), rounded(rng.normal(size=(b, h)), dtype)
    gt, ct = T(gates, device, dtype, grad=True), T(cx, device, dtype, grad=True)
    hy, cy = _C._thnn_fused_lstm_cell(gt, ct)
    assert hy.grad_fn.name() == "ThnnFusedLstmCellBackward0"
    e_hy, e_cy, e_dg, e_dcx = lstm_np(gates, cx, dh, dc)
    scale = 4.0 if dtype in (torch.float16, torch.bfloat16) else 2.0
    assert_close(hy, e_hy, scale)
    assert_close(cy, e_cy, scale)
    torch.autograd.backward([hy, cy], [T(dh, device, dtype), T(dc, device, dtype)])
    assert_close(gt.grad, e_dg, 2 * scale)
    assert_close(ct.grad, e_dcx, 2 * scale)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("b,h", [(3, 5), (1, 1), (70, 600)])
def test_gru_cell_values_and_gradients(device, dtype, b, h):
    rng = np.random.default_rng(1)
    gi, gh = rounded(rng.normal(0, 2, (b, 3 * h)), dtype), rounded(rng.normal(0, 2, (b, 3 * h)), dtype)
    hx, d = rounded(rng.normal(size=(b, h)), dtype), rounded(rng.normal(size=(b, h)), dtype)
    it, ht, xt = (T(a, device, dtype, grad=True) for a in (gi, gh, hx))
    hy = _C._thnn_fused_gru_cell(it, ht, xt)
    assert hy.grad_fn.name() == "ThnnFusedGruCellBackward0"
    e_hy, e_dgi, e_dgh, e_dhx = gru_np(gi, gh, hx, d)
    scale = 4.0 if dtype in (torch.float16, torch.bfloat16) else 2.0
    assert_close(hy, e_hy, scale)
    hy.backward(T(d, device, dtype))
    assert_close(it.grad, e_dgi, 2 * scale)
    assert_close(ht.grad, e_dgh, 2 * scale)
    assert_close(xt.grad, e_dhx, 2 * scale)


def test_lstm_gradient_through_one_output(device):
    rng = np.random.default_rng(2)
    gates, cx = rng.normal(size=(2, 12)), rng.normal(size=(2, 3))
    for k in range(2):
        gt, ct = T(gates, device, grad=True), T(cx, device, grad=True)
        out = _C._thnn_fused_lstm_cell(gt, ct)[k]
        d = rng.normal(size=(2, 3))
        out.backward(T(d, device))
        zero = np.zeros_like(d)
        _, _, e_dg, e_dcx = lstm_np(gates, cx, d if k == 0 else zero, d if k == 1 else zero)
        assert_close(gt.grad, e_dg)
        assert_close(ct.grad, e_dcx)


def test_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(3)
    gates, cx = T(rng.normal(size=(2, 8)), device, grad=True), T(rng.normal(size=(2, 2)), device, grad=True)
    assert gradcheck(lambda g, c: _C._thnn_fused_lstm_cell(g, c), (gates, cx))
    assert gradgradcheck(lambda g, c: _C._thnn_fused_lstm_cell(g, c), (gates, cx))
    gi, gh = T(rng.normal(size=(2, 6)), device, grad=True), T(rng.normal(size=(2, 6)), device, grad=True)
    hx = T(rng.normal(size=(2, 2)), device, grad=True)
    assert gradcheck(lambda a, b, c: _C._thnn_fused_gru_cell(a, b, c), (gi, gh, hx))
    assert gradgradcheck(lambda a, b, c: _C._thnn_fused_gru_cell(a, b, c), (gi, gh, hx))


def test_layers_run_through_the_fused_steps(device):
    # The layers' values against NumPy are in test_nn_rnn.py; here, that the cells are fused.
    torch.manual_seed(0)
    x = torch.randn(5, 3, 4, device=device)
    h1 = nn.GRUCell(4, 6, device=device)(x[0])
    assert h1.grad_fn.name() == "ThnnFusedGruCellBackward0"
    h1, c1 = nn.LSTMCell(4, 6, device=device)(x[0])
    assert h1.grad_fn.name() == "ThnnFusedLstmCellBackward0"


def test_bad_input(device):
    with pytest.raises(RuntimeError, match="_thnn_fused_lstm_cell: expected gates of shape \\[2, 12\\]"):
        _C._thnn_fused_lstm_cell(torch.zeros(2, 10, device=device), torch.zeros(2, 3, device=device))
    with pytest.raises(RuntimeError, match="expected every tensor to be Float, but found Double"):
        _C._thnn_fused_gru_cell(torch.zeros(2, 6, device=device), torch.zeros(2, 6, device=device),
                                torch.zeros(2, 2, dtype=f64, device=device))
