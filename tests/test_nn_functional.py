"""nn.functional activations, softmax family, linear maps, embeddings, dropout, distances and
normalisations: forward values against NumPy references, gradients by gradcheck."""

import math

import numpy as np
import pytest
from helpers import assert_close_np, synchronize, to_np

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(0)
X = rng.uniform(-3, 3, (3, 5))


def erf(a):
    return np.vectorize(math.erf)(a)


def softplus_np(a, beta=1.0, threshold=20.0):
    return np.where(a * beta > threshold, a, np.log1p(np.exp(a * beta)) / beta)


ACTIVATIONS = [
    ("relu", lambda x: F.relu(x), lambda a: np.maximum(a, 0)),
    ("relu6", lambda x: F.relu6(x), lambda a: np.clip(a, 0, 6)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda a: np.where(a >= 0, a, 0.2 * a)),
    ("elu", lambda x: F.elu(x, 1.5), lambda a: np.where(a > 0, a, 1.5 * np.expm1(a))),
    ("selu", lambda x: F.selu(x), lambda a: 1.0507009873554805 * np.where(a > 0, a, 1.6732632423543772 * np.expm1(a))),
    ("celu", lambda x: F.celu(x, 2.0), lambda a: np.maximum(a, 0) + np.minimum(0, 2.0 * np.expm1(a / 2.0))),
    ("gelu", lambda x: F.gelu(x), lambda a: 0.5 * a * (1 + erf(a / math.sqrt(2)))),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))),
    ("silu", lambda x: F.silu(x), lambda a: a / (1 + np.exp(-a))),
    ("mish", lambda x: F.mish(x), lambda a: a * np.tanh(np.log1p(np.exp(a)))),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 2.0), lambda a: np.clip(a, -0.5, 2.0)),
    ("hardsigmoid", lambda x: F.hardsigmoid(x), lambda a: np.clip(a + 3, 0, 6) / 6),
    ("hardswish", lambda x: F.hardswish(x), lambda a: a * np.clip(a + 3, 0, 6) / 6),
    ("softplus", lambda x: F.softplus(x, 2.0, 3.0), lambda a: softplus_np(a, 2.0, 3.0)),
    ("softsign", lambda x: F.softsign(x), lambda a: a / (1 + np.abs(a))),
    ("tanhshrink", lambda x: F.tanhshrink(x), lambda a: a - np.tanh(a)),
    ("threshold", lambda x: F.threshold(x, 0.5, -2.0), lambda a: np.where(a > 0.5, a, -2.0)),
    ("hardshrink", lambda x: F.hardshrink(x, 1.0), lambda a: np.where(np.abs(a) > 1.0, a, 0)),
    ("softshrink", lambda x: F.softshrink(x, 1.0), lambda a: np.where(a > 1, a - 1, np.where(a < -1, a + 1, 0))),
    ("logsigmoid", lambda x: F.logsigmoid(x), lambda a: -np.log1p(np.exp(-a))),
    ("sigmoid", lambda x: F.sigmoid(x), lambda a: 1 / (1 + np.exp(-a))),
    ("tanh", lambda x: F.tanh(x), np.tanh),
    ("glu", lambda x: F.glu(x, 0), None),
]


def softmax_np(a, dim):
    e = np.exp(a - a.max(dim, keepdims=True))
    return e / e.sum(dim, keepdims=True)


@pytest.mark.parametrize("name,fn,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_values_and_gradients(name, fn, ref, device):
    x = torch.tensor(X, dtype=torch.float64, device=device)
    if name == "glu":
        x = torch.tensor(rng.uniform(-3, 3, (4, 3)), dtype=torch.float64, device=device)
        a = to_np(x)
        expected = a[:2] / (1 + np.exp(-a[2:]))
    else:
        expected = ref(X)
    out = fn(x)
    assert out.device.type == device
    assert_close_np(out, expected)
    # Away from kinks, so finite differences are meaningful.
    xs = x.detach().clone()
    xs = torch.where((xs.abs() - 1.0).abs() < 0.05, xs + 0.1, xs)
    xs = torch.where((xs - 0.5).abs() < 0.05, xs + 0.1, xs)
    xs = torch.where(xs.abs() < 0.05, xs + 0.1, xs).requires_grad_()
    assert gradcheck(fn, (xs,))


def test_inplace_forms_write_into_their_input(device):
    x = torch.tensor([-1.0, 2.0], device=device)
    assert F.relu(x, inplace=True) is x and to_np(x).tolist() == [0.0, 2.0]
    y = torch.tensor([-1.0, 2.0], device=device)
    F.leaky_relu_(y, 0.5)
    assert to_np(y).tolist() == [-0.5, 2.0]
    z = torch.tensor([-3.0, 0.5, 3.0], device=device)
    F.hardtanh_(z)
    assert to_np(z).tolist() == [-1.0, 0.5, 1.0]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family(dim, device):
    x = torch.tensor(X, dtype=torch.float64, device=device, requires_grad=True)
    assert_close_np(F.softmax(x, dim), softmax_np(X, dim))
    assert_close_np(F.log_softmax(x, dim), np.log(softmax_np(X, dim)))
    assert_close_np(F.softmin(x, dim), softmax_np(-X, dim))
    for fn in (F.softmax, F.log_softmax, F.softmin):
        assert gradcheck(lambda t, fn=fn: fn(t, dim), (x,))


def test_softmax_is_stable_and_takes_dtype(device):
    x = torch.tensor([[1000.0, 1001.0], [-1000.0, -1000.0]], device=device)
    assert_close_np(F.softmax(x, 1), [[1 / (1 + math.e), math.e / (1 + math.e)], [0.5, 0.5]])
    assert_close_np(F.log_softmax(x, 1), [[-math.log1p(math.e), -math.log1p(1 / math.e)], [-math.log(2)] * 2])
    assert F.softmax(x, 1, dtype=torch.float64).dtype == torch.float64


def test_linear_and_bilinear(device):
    x = rng.normal(size=(4, 3))
    w = rng.normal(size=(2, 3))
    b = rng.normal(size=2)
    xt, wt, bt = (torch.tensor(a, dtype=torch.float64, device=device, requires_grad=True) for a in (x, w, b))
    assert_close_np(F.linear(xt, wt, bt), x @ w.T + b)
    assert_close_np(F.linear(xt, wt), x @ w.T)
    x3 = rng.normal(size=(2, 4, 3))
    assert_close_np(F.linear(torch.tensor(x3, device=device), wt.detach(), bt.detach()), x3 @ w.T + b)
    assert gradcheck(F.linear, (xt, wt, bt))
    # Batched input, contiguous (one flattened GEMM) and strided (a batched product).
    x3t = torch.tensor(x3, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(F.linear, (x3t, wt, bt))
    assert gradcheck(lambda x, w, b: F.linear(x.transpose(0, 1), w, b), (x3t, wt, bt))
    x2 = rng.normal(size=(4, 5))
    wb = rng.normal(size=(2, 3, 5))
    x2t, wbt = (torch.tensor(a, dtype=torch.float64, device=device, requires_grad=True) for a in (x2, wb))
    assert_close_np(F.bilinear(xt, x2t, wbt, bt), np.einsum("bi,oij,bj->bo", x, wb, x2) + b)
    assert gradcheck(F.bilinear, (xt, x2t, wbt, bt))
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        F.linear(xt, torch.ones(2, 4, dtype=torch.float64, device=device))


def test_embedding_lookup_padding_and_max_norm(device):
    w = rng.normal(size=(6, 3))
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    wt = torch.tensor(w, dtype=torch.float64, device=device, requires_grad=True)
    it = torch.tensor(idx, device=device)
    out = F.embedding(it, wt, padding_idx=2)
    assert_close_np(out, w[idx])
    out.sum().backward()
    counts = np.zeros(6)
    np.add.at(counts, idx.reshape(-1), 1)
    counts[2] = 0  # padding_idx gets no gradient
    assert_close_np(wt.grad, np.repeat(counts[:, None], 3, 1))
    w2 = torch.tensor([[3.0, 4.0], [0.3, 0.4]], device=device)
    F.embedding(torch.tensor([0, 1], device=device), w2, max_norm=1.0)
    assert_close_np(w2, [[0.6, 0.8], [0.3, 0.4]], torch.float16)  # renormalised in place (eps 1e-7)
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        F.embedding(torch.tensor([0.0], device=device), w2)


def test_embedding_backward_scale_grad_by_freq_and_double_backward(device):
    w = rng.normal(size=(5, 2))
    idx = np.array([[4, 1, 1], [1, 0, 4]])
    g = rng.normal(size=(2, 3, 2))
    wt = torch.tensor(w, dtype=torch.float64, device=device, requires_grad=True)
    it = torch.tensor(idx, device=device)
    out = F.embedding(it, wt, padding_idx=0, scale_grad_by_freq=True)
    assert out.grad_fn.name() == "EmbeddingBackward0"
    out.backward(torch.tensor(g, device=device))
    # Each occurrence's gradient row, divided by how often its index occurs; none for index 0.
    counts = np.bincount(idx.reshape(-1), minlength=5)
    expected = np.zeros_like(w)
    for i, row in zip(idx.reshape(-1), g.reshape(-1, 2)):
        if i != 0:
            expected[i] += row / counts[i]
    assert_close_np(wt.grad, expected)
    # The backward is a recorded scatter-add: its gradient exists too.
    assert gradgradcheck(lambda t: F.embedding(it, t, padding_idx=0, scale_grad_by_freq=True), (wt,))
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(torch.tensor([5], device=device), wt)
        synchronize(device)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode, device):
    w = rng.normal(size=(7, 2))
    flat = np.array([1, 2, 4, 5, 4, 3, 2, 6])
    offsets = np.array([0, 3, 3, 5])
    bags = [flat[0:3], flat[3:3], flat[3:5], flat[5:]]
    reduce = {"sum": lambda r: r.sum(0), "mean": lambda r: r.mean(0), "max": lambda r: r.max(0)}[mode]
    expected = np.stack([reduce(w[b]) if len(b) else np.zeros(2) for b in bags])
    wt = torch.tensor(w, dtype=torch.float64, device=device, requires_grad=True)
    out = F.embedding_bag(torch.tensor(flat, device=device), wt, torch.tensor(offsets, device=device), mode=mode)
    assert_close_np(out, expected)
    two_d = F.embedding_bag(torch.tensor([[1, 2], [4, 5]], device=device), wt, mode=mode)
    assert_close_np(two_d, np.stack([reduce(w[[1, 2]]), reduce(w[[4, 5]])]))
    assert gradcheck(lambda t: F.embedding_bag(torch.tensor(flat, device=device), t,
                                               torch.tensor(offsets, device=device), mode=mode), (wt,))


def test_dropout_scales_kept_elements_and_is_identity_in_eval(device):
    torch.manual_seed(0)
    x = torch.ones(20000, device=device)
    y = F.dropout(x, 0.3)
    kept = to_np(y) != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(to_np(y)[kept], 1 / 0.7, rtol=1e-6)
    assert F.dropout(x, 0.3, training=False) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)
    maps = F.dropout2d(torch.ones(8, 16, 3, 3, device=device), 0.5)
    per_channel = to_np(maps).reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    a = F.alpha_dropout(torch.randn(50000, device=device), 0.2, training=True)
    assert abs(float(a.mean())) < 0.03 and abs(float(a.std()) - 1) < 0.03


def test_normalize_cosine_and_pairwise(device):
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    at, bt = (torch.tensor(v, dtype=torch.float64, device=device, requires_grad=True) for v in (a, b))
    assert_close_np(F.normalize(at, dim=1), a / np.linalg.norm(a, axis=1, keepdims=True))
    assert_close_np(F.normalize(at, p=1, dim=0), a / np.abs(a).sum(0, keepdims=True))
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert_close_np(F.cosine_similarity(at, bt), cos)
    assert_close_np(F.pairwise_distance(at, bt), np.linalg.norm(a - b + 1e-6, axis=1))
    assert gradcheck(lambda x, y: F.cosine_similarity(x, y), (at, bt))
    assert gradcheck(F.normalize, (at,))
    pd = F.pdist(at)
    assert_close_np(pd, [np.linalg.norm(a[i] - a[j]) for i in range(4) for j in range(i + 1, 4)])


def test_pixel_and_channel_shuffle(device):
    x = np.arange(2 * 8 * 2 * 3).reshape(2, 8, 2, 3).astype(np.float64)
    t = torch.tensor(x, device=device)
    up = F.pixel_shuffle(t, 2)
    ref = x.reshape(2, 2, 2, 2, 2, 3).transpose(0, 1, 4, 2, 5, 3).reshape(2, 2, 4, 6)
    assert_close_np(up, ref)
    assert_close_np(F.pixel_unshuffle(up, 2), x)
    cs = F.channel_shuffle(t, 2)
    assert_close_np(cs, x.reshape(2, 2, 4, 2, 3).transpose(0, 2, 1, 3, 4).reshape(2, 8, 2, 3))


def _norm_np(a, axes, eps):
    mean = a.mean(axes, keepdims=True)
    var = a.var(axes, keepdims=True)
    return (a - mean) / np.sqrt(var + eps)


def test_layer_norm_group_norm_rms_norm(device):
    a = rng.normal(size=(2, 4, 3))
    w, b = rng.normal(size=3), rng.normal(size=3)
    at, wt, bt = (torch.tensor(v, dtype=torch.float64, device=device, requires_grad=True) for v in (a, w, b))
    assert_close_np(F.layer_norm(at, (3,), wt, bt), _norm_np(a, (2,), 1e-5) * w + b)
    assert_close_np(F.layer_norm(at, (4, 3)), _norm_np(a, (1, 2), 1e-5))
    assert gradcheck(lambda x, y, z: F.layer_norm(x, (3,), y, z), (at, wt, bt))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input with shape \[\*, 5\]"):
        F.layer_norm(at, (5,))
    g = rng.normal(size=(2, 4, 5))
    gt = torch.tensor(g, dtype=torch.float64, device=device, requires_grad=True)
    gw = torch.tensor(rng.normal(size=4), dtype=torch.float64, device=device)
    expected = _norm_np(g.reshape(2, 2, 10), (2,), 1e-5).reshape(2, 4, 5) * to_np(gw)[None, :, None]
    assert_close_np(F.group_norm(gt, 2, gw), expected)
    assert gradcheck(lambda x: F.group_norm(x, 2, gw), (gt,))
    rms = a / np.sqrt((a * a).mean(-1, keepdims=True) + 1e-6) * w
    assert_close_np(F.rms_norm(at, (3,), wt, 1e-6), rms)
    assert gradcheck(lambda x, y: F.rms_norm(x, (3,), y, 1e-6), (at, wt))


@pytest.mark.parametrize("n", [96, 4096])  # CUDA: a warp per row, a block per row
def test_layer_norm_float32_rows_far_from_zero(device, n):
    """Rows whose mean is large against their spread: the statistics must not cancel."""
    a = (1e4 + rng.normal(size=(6, n))).astype(np.float32)
    a[1] = 3.0  # a constant row: variance 0
    x = torch.tensor(a, device=device)
    got = to_np(F.layer_norm(x, (n,)))
    a64 = a.astype(np.float64)
    want = (a64 - a64.mean(-1, keepdims=True)) / np.sqrt(a64.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=2e-3)


def test_batch_norm_training_updates_running_stats(device):
    a = rng.normal(size=(5, 3, 2))
    at = torch.tensor(a, dtype=torch.float64, device=device, requires_grad=True)
    rm = torch.zeros(3, dtype=torch.float64, device=device)
    rv = torch.ones(3, dtype=torch.float64, device=device)
    out = F.batch_norm(at, rm, rv, training=True, momentum=0.1)
    assert_close_np(out, _norm_np(a, (0, 2), 1e-5))
    assert_close_np(rm, 0.1 * a.mean((0, 2)))
    assert_close_np(rv, 0.9 + 0.1 * a.var((0, 2), ddof=1))
    evald = F.batch_norm(at, rm, rv, training=False)
    assert_close_np(evald, (a - to_np(rm)[None, :, None]) / np.sqrt(to_np(rv)[None, :, None] + 1e-5))
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (at,))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(torch.ones(1, 3, device=device), None, None, training=True)


def test_instance_norm_and_local_response_norm(device):
    a = rng.normal(size=(2, 3, 4, 4))
    at = torch.tensor(a, dtype=torch.float64, device=device, requires_grad=True)
    assert_close_np(F.instance_norm(at), _norm_np(a, (2, 3), 1e-5))
    lrn = F.local_response_norm(at, 3, alpha=0.1, beta=0.5, k=2.0)
    sq = np.pad(a * a, ((0, 0), (1, 1), (0, 0), (0, 0)))
    div = (sq[:, :-2] + sq[:, 1:-1] + sq[:, 2:]) / 3
    assert_close_np(lrn, a / (2.0 + 0.1 * div) ** 0.5)
    assert gradcheck(lambda x: F.local_response_norm(x, 2), (at,))


def test_prelu(device):
    a = rng.normal(size=(2, 3, 2))
    w = np.array([0.1, 0.2, 0.3])
    at, wt = (torch.tensor(v, dtype=torch.float64, device=device, requires_grad=True) for v in (a, w))
    assert_close_np(F.prelu(at, wt), np.where(a >= 0, a, a * w[None, :, None]))
    assert gradcheck(F.prelu, (at, wt))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        F.prelu(at, torch.ones(2, dtype=torch.float64, device=device))
