"""Linear, activation, dropout, embedding and normalisation modules: torch's parameter names and
shapes, default initialisation, reprs, train/eval behaviour, and forward equal to the functional
form."""

import math

import numpy as np
import pytest
from helpers import assert_close_np, to_np

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F


def shapes(module):
    return {k: list(v.shape) for k, v in module.state_dict().items()}


def test_linear_parameters_init_and_forward(device):
    torch.manual_seed(0)
    m = nn.Linear(50, 7, device=device)
    assert shapes(m) == {"weight": [7, 50], "bias": [7]}
    bound = 1 / math.sqrt(50)
    w = to_np(m.weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(to_np(m.bias)).max() <= bound
    assert m.weight.device.type == device and isinstance(m.weight, nn.Parameter)
    x = torch.randn(3, 50, device=device)
    assert_close_np(m(x), to_np(x) @ w.T + to_np(m.bias))
    assert repr(m) == "Linear(in_features=50, out_features=7, bias=True)"
    no_bias = nn.Linear(2, 3, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict()) == ["weight"]
    assert repr(nn.Identity(3, k=1)) == "Identity()"


def test_bilinear_and_lazy_linear(device):
    b = nn.Bilinear(3, 4, 5, device=device)
    assert shapes(b) == {"weight": [5, 3, 4], "bias": [5]}
    assert repr(b) == "Bilinear(in1_features=3, in2_features=4, out_features=5, bias=True)"
    lazy = nn.LazyLinear(6)
    out = lazy(torch.randn(2, 9))
    assert type(lazy) is nn.Linear and lazy.in_features == 9 and list(out.shape) == [2, 6]
    assert shapes(lazy) == {"weight": [6, 9], "bias": [6]}


ACTIVATION_MODULES = [
    (nn.ReLU(), F.relu, "ReLU()"),
    (nn.ReLU(inplace=True), F.relu, "ReLU(inplace=True)"),
    (nn.ReLU6(), F.relu6, "ReLU6()"),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2), "LeakyReLU(negative_slope=0.2)"),
    (nn.ELU(), F.elu, "ELU(alpha=1.0)"),
    (nn.CELU(0.5), lambda x: F.celu(x, 0.5), "CELU(alpha=0.5)"),
    (nn.SELU(), F.selu, "SELU()"),
    (nn.GELU(), F.gelu, "GELU(approximate='none')"),
    (nn.GELU("tanh"), lambda x: F.gelu(x, approximate="tanh"), "GELU(approximate='tanh')"),
    (nn.SiLU(), F.silu, "SiLU()"),
    (nn.Mish(), F.mish, "Mish()"),
    (nn.Sigmoid(), torch.sigmoid, "Sigmoid()"),
    (nn.Tanh(), torch.tanh, "Tanh()"),
    (nn.Hardtanh(), F.hardtanh, "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (nn.Hardsigmoid(), F.hardsigmoid, "Hardsigmoid()"),
    (nn.Hardswish(), F.hardswish, "Hardswish()"),
    (nn.Softplus(), F.softplus, "Softplus(beta=1.0, threshold=20.0)"),
    (nn.Softsign(), F.softsign, "Softsign()"),
    (nn.Tanhshrink(), F.tanhshrink, "Tanhshrink()"),
    (nn.Threshold(0.1, 20), lambda x: F.threshold(x, 0.1, 20), "Threshold(threshold=0.1, value=20)"),
    (nn.GLU(), F.glu, "GLU(dim=-1)"),
    (nn.Softmax(dim=1), lambda x: F.softmax(x, 1), "Softmax(dim=1)"),
    (nn.LogSoftmax(dim=1), lambda x: F.log_softmax(x, 1), "LogSoftmax(dim=1)"),
    (nn.Softmin(dim=0), lambda x: F.softmin(x, 0), "Softmin(dim=0)"),
    (nn.LogSigmoid(), F.logsigmoid, "LogSigmoid()"),
    (nn.Hardshrink(), F.hardshrink, "Hardshrink(0.5)"),
    (nn.Softshrink(), F.softshrink, "Softshrink(0.5)"),
]


@pytest.mark.parametrize("module,fn,text", ACTIVATION_MODULES, ids=[a[2] for a in ACTIVATION_MODULES])
def test_activation_modules(module, fn, text, device):
    x = torch.randn(4, 6, device=device)
    expected = fn(x.clone())
    assert_close_np(module(x.clone()), to_np(expected))
    assert repr(module) == text
    assert module.state_dict() == {}


def test_prelu_module(device):
    m = nn.PReLU(3, device=device)
    assert shapes(m) == {"weight": [3]} and to_np(m.weight).tolist() == [0.25] * 3
    x = torch.randn(2, 3, 4, device=device)
    assert_close_np(m(x), np.where(to_np(x) >= 0, to_np(x), 0.25 * to_np(x)))
    assert repr(m) == "PReLU(num_parameters=3)"


def test_dropout_modules_follow_train_and_eval(device):
    m = nn.Dropout(0.5)
    x = torch.ones(1000, device=device)
    assert (to_np(m(x)) == 0).any()
    m.eval()
    assert m(x) is x
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"
    assert repr(nn.Dropout2d()) == "Dropout2d(p=0.5, inplace=False)"
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(-0.1)


def test_embedding_module(device):
    torch.manual_seed(0)
    m = nn.Embedding(10, 3, padding_idx=1, device=device)
    assert shapes(m) == {"weight": [10, 3]}
    assert to_np(m.weight)[1].tolist() == [0.0, 0.0, 0.0]
    idx = torch.tensor([[1, 2], [4, 1]], device=device)
    assert_close_np(m(idx), to_np(m.weight)[[[1, 2], [4, 1]]])
    assert repr(m) == "Embedding(10, 3, padding_idx=1)"
    pre = nn.Embedding.from_pretrained(torch.eye(3, device=device))
    assert not pre.weight.requires_grad and pre.num_embeddings == 3
    bag = nn.EmbeddingBag(5, 2, mode="sum")
    assert repr(bag) == "EmbeddingBag(5, 2, mode='sum')" and shapes(bag) == {"weight": [5, 2]}
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


def test_layer_group_rms_norm_modules(device):
    ln = nn.LayerNorm(4, device=device)
    assert shapes(ln) == {"weight": [4], "bias": [4]}
    assert to_np(ln.weight).tolist() == [1.0] * 4 and to_np(ln.bias).tolist() == [0.0] * 4
    assert repr(ln) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
    x = torch.randn(3, 4, device=device)
    a = to_np(x)
    assert_close_np(ln(x), (a - a.mean(1, keepdims=True)) / np.sqrt(a.var(1, keepdims=True) + 1e-5))
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert nn.LayerNorm(4, elementwise_affine=False).state_dict() == {}
    gn = nn.GroupNorm(2, 4)
    assert shapes(gn) == {"weight": [4], "bias": [4]} and repr(gn) == "GroupNorm(2, 4, eps=1e-05, affine=True)"
    rms = nn.RMSNorm([2, 3])
    assert shapes(rms) == {"weight": [2, 3]} and repr(rms) == "RMSNorm((2, 3), eps=None, elementwise_affine=True)"
    assert repr(nn.LocalResponseNorm(2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"


def test_batch_norm_module_running_stats_and_modes(device):
    m = nn.BatchNorm1d(3, device=device)
    assert shapes(m) == {"weight": [3], "bias": [3], "running_mean": [3], "running_var": [3], "num_batches_tracked": []}
    assert repr(m) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    x = torch.randn(8, 3, device=device)
    a = to_np(x)
    out = m(x)
    assert_close_np(out, (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5))
    assert_close_np(m.running_mean, 0.1 * a.mean(0))
    assert_close_np(m.running_var, 0.9 + 0.1 * a.var(0, ddof=1))
    assert int(m.num_batches_tracked) == 1
    m.eval()
    rm, rv = to_np(m.running_mean), to_np(m.running_var)
    assert_close_np(m(x), (a - rm) / np.sqrt(rv + 1e-5))
    assert int(m.num_batches_tracked) == 1
    cma = nn.BatchNorm2d(2, momentum=None, device=device)
    batches = [torch.randn(4, 2, 3, 3, device=device) for _ in range(3)]
    for b in batches:
        cma(b)
    means = np.stack([to_np(b).mean((0, 2, 3)) for b in batches])
    assert_close_np(cma.running_mean, means.mean(0))
    no_stats = nn.BatchNorm2d(2, track_running_stats=False, affine=False)
    assert no_stats.state_dict() == {}
    no_stats.eval()
    y = no_stats(batches[0].cpu())
    assert abs(float(y.mean())) < 1e-5
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(2)(torch.randn(2, 2))
    inst = nn.InstanceNorm2d(2)
    assert inst.state_dict() == {} and list(inst(torch.randn(2, 3, 3)).shape) == [2, 3, 3]


def test_module_to_device_moves_parameters_in_place(device):
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    weight = m[0].weight
    m.to(device)
    assert m[0].weight is weight and weight.device.type == device
    assert m[1].running_mean.device.type == device
    m.double()
    assert weight.dtype == torch.float64
