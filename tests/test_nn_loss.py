"""Loss functions and modules: forward values against NumPy references, gradients by gradcheck,
torch's argument errors and warnings, and the modules' options, buffers and printing."""

import itertools
import math
import re
import warnings

import numpy as np
import pytest
from helpers import assert_close_np, to_np

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck
from ferrotorch.nn.modules import loss as L

REDUCTIONS = ["none", "mean", "sum"]
f64 = torch.float64


def T(a, device, dtype=f64, grad=False):
    t = torch.tensor(np.asarray(a), dtype=dtype, device=device)
    return t.requires_grad_() if grad else t


def I(a, device):  # noqa: E743
    return torch.tensor(np.asarray(a, dtype=np.int64), device=device)


def red(a, reduction):
    a = np.asarray(a, dtype=np.float64)
    return {"none": a, "mean": a.mean(), "sum": a.sum()}[reduction]


def logsumexp_np(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(a - m).sum(axis))


def log_softmax_np(a, axis):
    return a - np.expand_dims(logsumexp_np(a, axis), axis)


def log_sigmoid_np(a):
    return -np.logaddexp(0, -a)


def raises(exc, msg):
    return pytest.raises(exc, match=re.escape(msg))


rng = np.random.default_rng(0)


# ---------------------------------------------------------------------------------------------
# Regression losses.
# ---------------------------------------------------------------------------------------------


def smooth_l1_np(d, beta):
    z = np.abs(d)
    return z if beta == 0 else np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)


def huber_np(d, delta):
    z = np.abs(d)
    return np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))


ELEMENTWISE = [
    ("mse", lambda x, y, r: F.mse_loss(x, y, reduction=r), lambda d: d * d),
    ("l1", lambda x, y, r: F.l1_loss(x, y, reduction=r), np.abs),
    ("smooth_l1", lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r), lambda d: smooth_l1_np(d, 1.0)),
    ("smooth_l1_beta", lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.4), lambda d: smooth_l1_np(d, 0.4)),
    ("smooth_l1_beta0", lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.0), np.abs),
    ("huber", lambda x, y, r: F.huber_loss(x, y, reduction=r), lambda d: huber_np(d, 1.0)),
    ("huber_delta", lambda x, y, r: F.huber_loss(x, y, reduction=r, delta=0.3), lambda d: huber_np(d, 0.3)),
]


@pytest.mark.parametrize("name,fn,ref", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_values(device, name, fn, ref, reduction):
    a, b = rng.normal(size=(3, 4)) * 2, rng.normal(size=(3, 4))
    out = fn(T(a, device), T(b, device), reduction)
    assert out.device.type == device
    assert_close_np(out, red(ref(a - b), reduction))


@pytest.mark.parametrize("name,fn,ref", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_elementwise_gradcheck(device, name, fn, ref):
    # Away from the kinks (|d| = beta / delta, d = 0), where finite differences straddle branches.
    a = np.array([[0.05, -0.6, 1.7], [-2.2, 0.15, 0.9]])
    b = np.zeros((2, 3))
    x, y = T(a, device, grad=True), T(b, device, grad=True)
    assert gradcheck(lambda x, y: fn(x, y, "mean"), (x, y))
    assert gradcheck(lambda x, y: fn(x, y, "none"), (x, y))


def test_elementwise_float32(device):
    a, b = rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=(5, 6)).astype(np.float32)
    out = F.mse_loss(T(a, device, torch.float32), T(b, device, torch.float32))
    assert out.dtype == torch.float32
    assert_close_np(out, np.float32(((a - b) ** 2).mean()))


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss])
def test_elementwise_broadcast_warns(device, fn):
    x, y = T(rng.normal(size=(3, 1)), device), T(rng.normal(size=3), device)
    msg = ("Using a target size (torch.Size([3])) that is different to the input size (torch.Size([3, 1])). "
           "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.")
    with pytest.warns(UserWarning, match=re.escape(msg)):
        out = fn(x, y, reduction="none")
    assert tuple(out.shape) == (3, 3)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="must match the size"):
        fn(T(np.zeros((3, 2)), device), T(np.zeros(4), device))


def test_elementwise_weight(device):
    a, b, w = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.uniform(0.5, 2, (2, 3))
    x, y, wt = T(a, device), T(b, device), T(w, device)
    assert_close_np(F.mse_loss(x, y, weight=wt), ((a - b) ** 2 * w).sum() / w.sum())
    assert_close_np(F.l1_loss(x, y, weight=wt, reduction="sum"), (np.abs(a - b) * w).sum())
    # huber's weighted mean divides by the element count, not the weights (as torch).
    assert_close_np(F.huber_loss(x, y, weight=wt), (huber_np(a - b, 1.0) * w).mean())
    assert_close_np(F.l1_loss(x, y, weight=wt, reduction="none"), np.abs(a - b) * w)
    with raises(ValueError, "Weights and input must have the same size."):
        F.mse_loss(x, y, weight=T(np.ones(3), device))


def test_elementwise_argument_errors(device):
    x = T(np.zeros((2, 2)), device)
    with raises(RuntimeError, "smooth_l1_loss does not support negative values for beta."):
        F.smooth_l1_loss(x, x, beta=-1.0)
    for delta in (0.0, -1.0):
        with raises(RuntimeError, "huber_loss does not support non-positive values for delta."):
            F.huber_loss(x, x, delta=delta)


ALL_REDUCING = [
    lambda x, r: F.mse_loss(x, x, reduction=r),
    lambda x, r: F.l1_loss(x, x, reduction=r),
    lambda x, r: F.cross_entropy(x, torch.zeros(2, dtype=torch.int64, device=x.device), reduction=r),
    lambda x, r: F.binary_cross_entropy_with_logits(x, x, reduction=r),
    lambda x, r: F.kl_div(x, x, reduction=r),
    lambda x, r: F.soft_margin_loss(x, x, reduction=r),
    lambda x, r: F.ctc_loss(F.log_softmax(x.reshape(1, 2, 2), 2), torch.ones(2, 1, dtype=torch.int64, device=x.device),
                            [1, 1], [1, 1], reduction=r),
]


@pytest.mark.parametrize("fn", ALL_REDUCING)
def test_invalid_reduction(device, fn):
    with raises(ValueError, "foo is not a valid value for reduction"):
        fn(T(np.full((2, 2), 0.5), device), "foo")


def test_legacy_reduction_arguments(device):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    x, y = T(a, device), T(b, device)
    cases = [(dict(size_average=False), "sum"), (dict(reduce=False), "none"), (dict(size_average=True), "mean"),
             (dict(size_average=False, reduce=False), "none")]
    for kwargs, reduction in cases:
        msg = f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead."
        with pytest.warns(UserWarning, match=re.escape(msg)):
            out = F.mse_loss(x, y, reduction="mean", **kwargs)
        assert_close_np(out, red((a - b) ** 2, reduction))
    with pytest.warns(UserWarning, match="elementwise_mean"):
        assert_close_np(F.l1_loss(x, y, reduction="elementwise_mean"), np.abs(a - b).mean())


# ---------------------------------------------------------------------------------------------
# nll_loss and cross_entropy.
# ---------------------------------------------------------------------------------------------


def nll_np(logp, target, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """torch's nll_loss (and cross entropy's label smoothing on top of it), one target at a time."""
    logp, target = np.asarray(logp, np.float64), np.asarray(target)
    out_shape = target.shape
    if logp.ndim == 1:
        logp, target = logp[None], target.reshape(1)
    n_classes = logp.shape[1]
    lp = np.moveaxis(logp, 1, -1)
    w_all = np.ones(n_classes) if weight is None else np.asarray(weight, np.float64)
    losses, ws = np.zeros(target.shape), np.zeros(target.shape)
    for idx in np.ndindex(target.shape):
        t = int(target[idx])
        if t == ignore_index:
            continue
        ws[idx] = w_all[t]
        nll = -w_all[t] * lp[idx + (t,)]
        smooth = -(w_all * lp[idx]).sum()
        losses[idx] = (1 - smoothing) * nll + smoothing / n_classes * smooth
    losses = losses.reshape(out_shape)
    if reduction == "mean":
        return losses.sum() / ws.sum()
    return red(losses, reduction)


NLL_SHAPES = [((4, 5), (4,)), ((5,), ()), ((3, 4, 2), (3, 2)), ((2, 3, 2, 2), (2, 2, 2)), ((2, 3, 1, 2, 2), (2, 1, 2, 2))]


@pytest.mark.parametrize("shape,tshape", NLL_SHAPES, ids=[str(s) for s, _ in NLL_SHAPES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_values(device, shape, tshape, reduction, weighted):
    c = shape[1] if len(shape) > 1 else shape[0]
    logp = log_softmax_np(rng.normal(size=shape), 1 if len(shape) > 1 else 0)
    target = rng.integers(0, c, tshape)
    w = rng.uniform(0.5, 2.0, c) if weighted else None
    out = F.nll_loss(T(logp, device), I(target, device), weight=None if w is None else T(w, device), reduction=reduction)
    assert tuple(out.shape) == (tshape if reduction == "none" else ())
    assert_close_np(out, nll_np(logp, target, w, reduction=reduction))


def test_nll_loss_ignore_index(device):
    logp = log_softmax_np(rng.normal(size=(5, 3)), 1)
    target = np.array([0, 2, -100, 1, 2])
    w = np.array([0.3, 1.0, 2.0])
    for reduction in REDUCTIONS:
        out = F.nll_loss(T(logp, device), I(target, device), weight=T(w, device), reduction=reduction)
        assert_close_np(out, nll_np(logp, target, w, reduction=reduction))
    # A class index can be the ignored one; -inf at an ignored position does not leak a nan.
    logp[2, 0] = -np.inf
    out = F.nll_loss(T(logp, device), I([0, 2, 1, 1, 2], device), ignore_index=1, reduction="none")
    assert_close_np(out, [-logp[0, 0], -logp[1, 2], 0, 0, -logp[4, 2]])


def test_nll_loss_degenerate(device):
    x = T(np.zeros((3, 4)), device)
    assert math.isnan(F.nll_loss(x, I([-100] * 3, device)).item())
    empty = T(np.zeros((0, 4)), device)
    assert math.isnan(F.nll_loss(empty, I(np.zeros(0), device)).item())
    assert F.nll_loss(empty, I(np.zeros(0), device), reduction="sum").item() == 0.0


def test_nll_loss_gradcheck(device):
    x = T(rng.normal(size=(3, 4, 2)), device, grad=True)
    target, w = I([[0, 3], [-100, 1], [2, 2]], device), T([0.5, 1.0, 2.0, 1.5], device)
    assert gradcheck(lambda x: F.nll_loss(x, target, weight=w), (x,))
    assert gradcheck(lambda x: F.nll_loss(x, target, reduction="none"), (x,))


@pytest.mark.parametrize("fn", [F.nll_loss, F.cross_entropy])
def test_class_index_out_of_range(device, fn):
    # On CUDA the error surfaces at the next synchronisation, here the loss's item().
    x = T(rng.normal(size=(3, 4)), device)
    with raises(IndexError, "Target 5 is out of bounds."):
        fn(x, I([0, 5, 1], device)).item()
    with raises(IndexError, "Target -1 is out of bounds."):
        fn(x, I([0, -1, 1], device)).item()
    with raises(IndexError, "Target 4 is out of bounds."):
        fn(T(rng.normal(size=(2, 4, 3)), device), I([[0, 1, 2], [3, 4, 0]], device)).item()


def test_nll_loss_shape_errors(device):
    x, t = T(np.zeros((3, 4)), device), I([0, 1, 2], device)
    with raises(ValueError, "Expected input batch_size (3) to match target batch_size (2)."):
        F.nll_loss(x, I([0, 1], device))
    with raises(ValueError, "Expected input batch_size (3) to match target batch_size (2)."):
        F.cross_entropy(x, I([0, 1], device))
    with raises(ValueError, "Expected 1 or more dimensions (got 0)"):
        F.nll_loss(T(1.0, device), I(0, device))
    with raises(RuntimeError, "0D or 1D target tensor expected, multi-target not supported"):
        F.nll_loss(x, I(np.zeros((3, 2)), device))
    with raises(RuntimeError, "Expected target size [2, 5], got [2, 6]"):
        F.nll_loss(T(np.zeros((2, 4, 5)), device), I(np.zeros((2, 6)), device))
    with raises(RuntimeError, "size mismatch (got input: [2, 4, 5, 3] , target: [2, 5, 2]"):
        F.nll_loss(T(np.zeros((2, 4, 5, 3)), device), I(np.zeros((2, 5, 2)), device))
    with raises(RuntimeError, "only batches of spatial targets supported (3D tensors) but got targets of dimension: 2"):
        F.nll_loss(T(np.zeros((2, 4, 5, 3)), device), I(np.zeros((2, 5)), device))
    with raises(RuntimeError, "weight tensor should be defined either for all 4 classes or no classes but got weight "
                              "tensor of shape: [3]"):
        F.nll_loss(x, t, weight=T(np.ones(3), device))
    with raises(RuntimeError, "weight tensor should be defined either for all or no classes"):
        F.nll_loss(T(np.zeros((2, 4, 5)), device), I(np.zeros((2, 5)), device), weight=T(np.ones(3), device))
    with raises(RuntimeError, "expected scalar type Long but found Float"):
        F.nll_loss(x, t.float())
    with raises(RuntimeError, "expected scalar type Long but found Int"):
        F.nll_loss(x, t.int())
    assert_close_np(F.nll_loss(x - 1, t.to(torch.uint8)), 1.0)  # torch accepts byte targets too


@pytest.mark.parametrize("shape,tshape", NLL_SHAPES[:4], ids=[str(s) for s, _ in NLL_SHAPES[:4]])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_class_indices(device, shape, tshape, reduction):
    c = shape[1] if len(shape) > 1 else shape[0]
    logits = rng.normal(size=shape) * 2
    target = rng.integers(0, c, tshape)
    w = rng.uniform(0.5, 2.0, c)
    logp = log_softmax_np(logits, 1 if len(shape) > 1 else 0)
    x, t = T(logits, device), I(target, device)
    assert_close_np(F.cross_entropy(x, t, reduction=reduction), nll_np(logp, target, reduction=reduction))
    out = F.cross_entropy(x, t, weight=T(w, device), reduction=reduction, label_smoothing=0.2)
    assert_close_np(out, nll_np(logp, target, w, reduction=reduction, smoothing=0.2))


def test_cross_entropy_ignore_and_smoothing(device):
    logits = rng.normal(size=(6, 4))
    target = np.array([1, -100, 3, 0, -100, 2])
    w = np.array([1.0, 0.5, 2.0, 0.25])
    logp = log_softmax_np(logits, 1)
    for reduction in REDUCTIONS:
        for weight in (None, w):
            out = F.cross_entropy(T(logits, device), I(target, device), reduction=reduction, label_smoothing=0.3,
                                  weight=None if weight is None else T(weight, device))
            assert_close_np(out, nll_np(logp, target, weight, reduction=reduction, smoothing=0.3))
    assert math.isnan(F.cross_entropy(T(logits, device), I([-100] * 6, device), label_smoothing=0.1).item())


def prob_ce_np(logits, target, weight=None, reduction="mean", smoothing=0.0):
    n_classes = logits.shape[1] if logits.ndim > 1 else logits.shape[0]
    axis = 1 if logits.ndim > 1 else 0
    target = target * (1 - smoothing) + smoothing / n_classes
    terms = log_softmax_np(logits, axis) * target
    if weight is not None:
        shape = [1] * logits.ndim
        shape[axis] = n_classes
        terms = terms * weight.reshape(shape)
    per = -terms.sum(axis)
    if reduction == "mean":
        return per.sum() / (logits.size // n_classes)
    return red(per, reduction)


@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 3, 2, 2)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities(device, shape, reduction):
    axis = 1 if len(shape) > 1 else 0
    logits = rng.normal(size=shape)
    probs = np.exp(log_softmax_np(rng.normal(size=shape), axis))
    w = rng.uniform(0.5, 2, shape[axis])
    x, p = T(logits, device), T(probs, device)
    assert_close_np(F.cross_entropy(x, p, reduction=reduction), prob_ce_np(logits, probs, reduction=reduction))
    out = F.cross_entropy(x, p, weight=T(w, device), reduction=reduction, label_smoothing=0.1)
    assert_close_np(out, prob_ce_np(logits, probs, w, reduction, 0.1))


def test_cross_entropy_float32_matches_log_softmax_nll(device):
    logits = rng.normal(size=(8, 10)).astype(np.float32)
    target = rng.integers(0, 10, 8)
    x, t = T(logits, device, torch.float32), I(target, device)
    out = F.cross_entropy(x, t)
    assert out.dtype == torch.float32
    assert_close_np(out, np.float32(nll_np(log_softmax_np(logits.astype(np.float64), 1), target)))


def test_cross_entropy_gradcheck(device):
    x = T(rng.normal(size=(3, 4)), device, grad=True)
    t, w = I([1, -100, 3], device), T([1.0, 0.5, 2.0, 1.5], device)
    assert gradcheck(lambda x: F.cross_entropy(x, t, weight=w, label_smoothing=0.15), (x,))
    assert gradcheck(lambda x: F.cross_entropy(x, t, reduction="none"), (x,))
    p = T(np.exp(log_softmax_np(rng.normal(size=(3, 4)), 1)), device, grad=True)
    assert gradcheck(lambda x, p: F.cross_entropy(x, p, weight=w, label_smoothing=0.1), (x, p))
    x3 = T(rng.normal(size=(2, 3, 2)), device, grad=True)
    assert gradcheck(lambda x: F.cross_entropy(x, I([[0, 2], [1, 1]], device)), (x3,))


# (N, C) logits with class indices, no weight or smoothing: one fused op (row log-sum-exp and
# target term forward, softmax - one_hot backward).
@pytest.mark.parametrize("classes", [5, 3000])  # CUDA: a warp per row, a block per row
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_fused_cross_entropy_values_and_gradients(device, classes, reduction):
    logits = rng.normal(size=(37, classes)) * 3
    target = rng.integers(0, classes, 37)
    target[[2, 11]] = -100
    x = T(logits, device, grad=True)
    out = F.cross_entropy(x, I(target, device), reduction=reduction)
    assert out.grad_fn.name() == "NllLossBackward0"
    logp = log_softmax_np(logits, 1)
    assert_close_np(out, nll_np(logp, target, reduction=reduction))
    g = rng.normal(size=37) if reduction == "none" else np.float64(1.7)
    out.backward(T(g, device))
    keep = target != -100
    onehot = np.eye(classes)[np.where(keep, target, 0)]
    share = g / keep.sum() if reduction == "mean" else g
    assert_close_np(x.grad, (np.exp(logp) - onehot) * (share * keep)[:, None])


def test_fused_cross_entropy_float32_ignore_all_and_double_backward(device):
    logits = rng.normal(size=(6, 4)).astype(np.float32)
    x = T(logits, device, torch.float32)
    out = F.cross_entropy(x, I([3, 0, 1, 1, 2, 0], device), reduction="sum")
    assert out.dtype == torch.float32
    assert_close_np(out, np.float32(nll_np(log_softmax_np(logits.astype(np.float64), 1), [3, 0, 1, 1, 2, 0],
                                           reduction="sum")))
    assert math.isnan(F.cross_entropy(x, I([-100] * 6, device)).item())
    x64 = T(rng.normal(size=(4, 5)), device, grad=True)
    t = I([4, -100, 0, 2], device)
    for reduction in REDUCTIONS:
        assert gradcheck(lambda x: F.cross_entropy(x, t, reduction=reduction), (x64,))
        assert torch.autograd.gradgradcheck(lambda x: F.cross_entropy(x, t, reduction=reduction), (x64,))


def test_fused_cross_entropy_of_bfloat16_logits_under_autocast(device):
    logits = rng.normal(size=(16, 300)).astype(np.float32) * 4
    target = rng.integers(0, 300, 16)
    x = T(logits, device, torch.bfloat16, grad=True)
    with torch.autocast(device, dtype=torch.bfloat16):
        out = F.cross_entropy(x, I(target, device))
    assert out.dtype == torch.float32
    rounded = to_np(x.detach().float()).astype(np.float64)  # what autocast widens to float32
    logp = log_softmax_np(rounded, 1)
    assert_close_np(out, nll_np(logp, target))
    out.backward()
    assert x.grad.dtype == torch.bfloat16
    want = (np.exp(logp) - np.eye(300)[target]) / 16
    np.testing.assert_allclose(to_np(x.grad.float()), want, rtol=1e-2, atol=1e-2 * np.abs(want).max())


def test_cross_entropy_errors(device):
    x = T(np.zeros((3, 4)), device)
    with raises(RuntimeError, "Expected floating point type for target with class probabilities, got Long"):
        F.cross_entropy(x, I(np.zeros((3, 4)), device))
    with raises(RuntimeError, "ignore_index is not supported for floating point target"):
        F.cross_entropy(x, x, ignore_index=1)
    with raises(RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, I([0, 1, 2], device), label_smoothing=1.5)
    with raises(RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, x, label_smoothing=1.5)
    with raises(RuntimeError, "cross_entropy: weight tensor should be defined either for all 4 classes or no classes "
                              "but got weight tensor of shape: [3]"):
        F.cross_entropy(x, x, weight=T(np.ones(3), device))
    with raises(RuntimeError, "expected scalar type Long but found Float"):
        F.cross_entropy(x, T([0.0, 1.0, 2.0], device, torch.float32))
    assert math.isnan(F.cross_entropy(T(np.zeros((0, 4)), device), T(np.zeros((0, 4)), device)).item())


# ---------------------------------------------------------------------------------------------
# Binary cross entropy and the other probabilistic losses.
# ---------------------------------------------------------------------------------------------


def bce_np(x, y, w=None):
    with np.errstate(divide="ignore"):
        out = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return out if w is None else out * w


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(device, reduction):
    x = np.concatenate([rng.uniform(0.01, 0.99, 6), [0.0, 1.0, 0.0, 1.0]]).reshape(5, 2)
    y = np.concatenate([rng.uniform(0, 1, 6), [1.0, 0.0, 0.0, 1.0]]).reshape(5, 2)
    w = rng.uniform(0.5, 2, 2)
    out = F.binary_cross_entropy(T(x, device), T(y, device), reduction=reduction)
    assert_close_np(out, red(bce_np(x, y), reduction))  # log(0) clamps at -100: loss 100, not inf
    out = F.binary_cross_entropy(T(x, device), T(y, device), weight=T(w, device), reduction=reduction)
    assert_close_np(out, red(bce_np(x, y, w), reduction))


def test_binary_cross_entropy_gradients(device):
    x = T(rng.uniform(0.1, 0.9, (2, 3)), device, grad=True)
    y, w = T(rng.uniform(0, 1, (2, 3)), device), T(rng.uniform(0.5, 2, 3), device)
    assert gradcheck(lambda x: F.binary_cross_entropy(x, y, weight=w), (x,))
    # At the clamped ends the gradient is finite (no 0 * inf): that of the log term still in range.
    edge = T([0.0, 1.0, 0.5], device, grad=True)
    F.binary_cross_entropy(edge, T([0.0, 1.0, 1.0], device), reduction="sum").backward()
    assert_close_np(edge.grad, [1.0, -1.0, -2.0])


def test_binary_cross_entropy_errors(device):
    with raises(ValueError, "Using a target size (torch.Size([3])) that is different to the input size "
                            "(torch.Size([3, 2])) is deprecated. Please ensure they have the same size."):
        F.binary_cross_entropy(T(np.full((3, 2), 0.5), device), T(np.ones(3), device))
    with raises(RuntimeError, "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1"):
        F.binary_cross_entropy(T(np.full((3, 2), 0.5), device), T(np.ones((3, 2)), device), weight=T(np.ones(3), device))


def test_binary_cross_entropy_input_range():
    # Checked where reading the input back is free; torch's CUDA kernel asserts on the device.
    for bad in (1.5, -0.1, float("nan")):
        with raises(RuntimeError, "all elements of input should be between 0 and 1"):
            F.binary_cross_entropy(torch.tensor([bad]), torch.tensor([1.0]))


def bce_logits_np(x, y, w=None, pw=None):
    lw = 1 if pw is None else (pw - 1) * y + 1
    out = (1 - y) * x - lw * log_sigmoid_np(x)
    return out if w is None else out * w


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(device, reduction):
    x = np.concatenate([rng.normal(size=6) * 3, [-200.0, 200.0]]).reshape(4, 2)
    y = rng.uniform(0, 1, (4, 2))
    w, pw = rng.uniform(0.5, 2, (4, 1)), rng.uniform(0.5, 3, 2)
    out = F.binary_cross_entropy_with_logits(T(x, device), T(y, device), reduction=reduction)
    assert np.isfinite(to_np(out)).all()
    assert_close_np(out, red(bce_logits_np(x, y), reduction))
    out = F.binary_cross_entropy_with_logits(T(x, device), T(y, device), weight=T(w, device),
                                             pos_weight=T(pw, device), reduction=reduction)
    assert_close_np(out, red(bce_logits_np(x, y, w, pw), reduction))


def test_binary_cross_entropy_with_logits_gradcheck(device):
    x, y = T(rng.normal(size=(2, 3)), device, grad=True), T(rng.uniform(0, 1, (2, 3)), device, grad=True)
    pw, w = T(rng.uniform(0.5, 2, 3), device, grad=True), T(rng.uniform(0.5, 2, 3), device)
    assert gradcheck(lambda x, y, pw: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw), (x, y, pw))
    with raises(ValueError, "Target size (torch.Size([3])) must be the same as input size (torch.Size([3, 2]))"):
        F.binary_cross_entropy_with_logits(T(np.zeros((3, 2)), device), T(np.zeros(3), device))


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(device, reduction, log_target):
    logq = log_softmax_np(rng.normal(size=(3, 4)), 1)
    p = np.exp(log_softmax_np(rng.normal(size=(3, 4)), 1))
    if not log_target:
        p[0, 0] = 0.0  # 0 * log(0) counts as 0
    tgt = np.log(p) if log_target else p
    ref = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - logq), 0.0)
    expected = ref.sum() / 3 if reduction == "batchmean" else red(ref, reduction)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = F.kl_div(T(logq, device), T(tgt, device), reduction=reduction, log_target=log_target)
    assert any("'batchmean' divides only by the batch size" in str(w.message) for w in caught) == (reduction == "mean")
    assert_close_np(out, expected)


def test_kl_div_gradcheck(device):
    x = T(log_softmax_np(rng.normal(size=(2, 3)), 1), device, grad=True)
    y = T(rng.uniform(0.1, 1, (2, 3)), device, grad=True)
    assert gradcheck(lambda x, y: F.kl_div(x, y, reduction="batchmean"), (x, y))
    assert gradcheck(lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True), (x, y))
    assert_close_np(F.kl_div(T(-1.0, device), T(0.5, device), reduction="batchmean"), 0.5 * (math.log(0.5) + 1))


@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll_loss(device, log_input, full, reduction):
    x = rng.uniform(-1, 1, (3, 4)) if log_input else rng.uniform(0.1, 3, (3, 4))
    y = rng.integers(0, 6, (3, 4)).astype(np.float64)
    ref = np.exp(x) - y * x if log_input else x - y * np.log(x + 1e-8)
    if full:
        ys = np.where(y > 1, y, 1)
        ref = ref + np.where(y > 1, ys * np.log(ys) - ys + 0.5 * np.log(2 * np.pi * ys), 0)
    out = F.poisson_nll_loss(T(x, device), T(y, device), log_input=log_input, full=full, reduction=reduction)
    assert_close_np(out, red(ref, reduction))


def test_poisson_nll_loss_gradcheck_and_errors(device):
    x = T(rng.uniform(0.2, 2, (2, 3)), device, grad=True)
    y = T(rng.uniform(0, 4, (2, 3)), device, grad=True)
    assert gradcheck(lambda x, y: F.poisson_nll_loss(x, y, full=True), (x, y))
    assert gradcheck(lambda x, y: F.poisson_nll_loss(x, y, log_input=False, full=True), (x, y))
    assert_close_np(F.poisson_nll_loss(T([0.5, 1.0, 2.0], device), T([0.0, 1.0, 3.0], device), full=True,
                                       reduction="none"), [1.6487212707, 1.7182818285, 3.1531376838], f64)
    with raises(ValueError, "foo is not valid"):
        F.poisson_nll_loss(x, y, reduction="foo")


def gaussian_np(x, y, var, full=False, eps=1e-6):
    var = np.maximum(var, eps)
    out = 0.5 * (np.log(var) + (x - y) ** 2 / var)
    return out + 0.5 * np.log(2 * np.pi) if full else out


@pytest.mark.parametrize("var_shape", [(3, 4), (3,), (3, 1), (1, 4)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_loss(device, var_shape, reduction):
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    var = rng.uniform(0.2, 2, var_shape)
    var.flat[0] = 1e-9  # clamped to eps
    bvar = var[:, None] if len(var_shape) == 1 else var
    out = F.gaussian_nll_loss(T(x, device), T(y, device), T(var, device), reduction=reduction)
    assert_close_np(out, red(gaussian_np(x, y, bvar), reduction))
    out = F.gaussian_nll_loss(T(x, device), T(y, device), T(var, device), full=True, eps=0.1, reduction=reduction)
    assert_close_np(out, red(gaussian_np(x, y, bvar, True, 0.1), reduction))


def test_gaussian_nll_loss_float_var_gradients_and_errors(device):
    x, y = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    assert_close_np(F.gaussian_nll_loss(T(x, device), T(y, device), 2.0), gaussian_np(x, y, 2.0).mean())
    xi, yi = T(x, device, grad=True), T(y, device, grad=True)
    v = T(rng.uniform(0.5, 2, (2, 1)), device, grad=True)
    assert gradcheck(lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=True), (xi, yi, v))
    # The clamp is invisible to autograd, as torch's in-place clamp under no_grad: the gradient of a
    # clamped variance is the one at eps.
    vc = T([1e-8, 2.0], device, grad=True)
    F.gaussian_nll_loss(T([0.0, 0.0], device), T([1.0, 1.0], device), vc, reduction="sum").backward()
    assert_close_np(vc.grad, [0.5 / 1e-6 - 0.5 / 1e-12, 0.125], f64)
    with raises(ValueError, "var is of incorrect size"):
        F.gaussian_nll_loss(xi, yi, T(np.ones(3), device))
    with raises(ValueError, "var has negative entry/entries"):
        F.gaussian_nll_loss(xi, yi, T(-np.ones((2, 3)), device))
    with raises(ValueError, "var has negative entry/entries"):
        F.gaussian_nll_loss(xi, yi, -1.0)
    with raises(ValueError, "foo is not valid"):
        F.gaussian_nll_loss(xi, yi, v, reduction="foo")


# ---------------------------------------------------------------------------------------------
# Margin and embedding losses.
# ---------------------------------------------------------------------------------------------


def cosine_np(a, b, y, margin):
    cos = (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))
    return np.where(y == 1, 1 - cos, 0) + np.where(y == -1, np.maximum(cos - margin, 0), 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(device, reduction):
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    y = np.array([1.0, -1.0, 1.0, -1.0, 0.0])
    out = F.cosine_embedding_loss(T(a, device), T(b, device), T(y, device), margin=-0.2, reduction=reduction)
    assert_close_np(out, red(cosine_np(a, b, y, -0.2), reduction))
    single = F.cosine_embedding_loss(T(a[0], device), T(b[0], device), T(-1.0, device), reduction=reduction)
    assert_close_np(single, cosine_np(a[0], b[0], np.array(-1.0), 0.0))


def test_cosine_embedding_loss_gradcheck_and_errors(device):
    a, b = T(rng.normal(size=(3, 4)), device, grad=True), T(rng.normal(size=(3, 4)), device, grad=True)
    y = T([1.0, -1.0, -1.0], device)
    assert gradcheck(lambda a, b: F.cosine_embedding_loss(a, b, y, margin=-0.9), (a, b))
    with raises(RuntimeError, "0D or 1D target tensor expected, multi-target not supported"):
        F.cosine_embedding_loss(a, b, T(np.ones((3, 1)), device))
    with raises(RuntimeError, "1D target tensor expects 2D input tensors, but found inputs with sizes [4] and [4]."):
        F.cosine_embedding_loss(a[0], b[0], y)
    with raises(RuntimeError, "0D target tensor expects 1D input tensors, but found inputs with sizes [3, 4] and [3, 4]."):
        F.cosine_embedding_loss(a, b, T(1.0, device))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_and_hinge_embedding(device, reduction):
    a, b = rng.normal(size=6), rng.normal(size=6)
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    out = F.margin_ranking_loss(T(a, device), T(b, device), T(y, device), margin=0.3, reduction=reduction)
    assert_close_np(out, red(np.maximum(-y * (a - b) + 0.3, 0), reduction))
    h = np.array([0.5, 2.0, 0.3, -0.4, 1.5, 0.2])
    yh = np.array([0.0, 1.0, -1.0, 1.0, -1.0, -1.0])
    ref = np.where(yh != 1, np.maximum(1.2 - h, 0), 0) + np.where(yh != -1, h, 0)
    out = F.hinge_embedding_loss(T(h, device), T(yh, device), margin=1.2, reduction=reduction)
    assert_close_np(out, red(ref, reduction))


def test_margin_ranking_and_hinge_gradcheck(device):
    a, b = T([0.3, -1.2, 0.8], device, grad=True), T([1.1, 0.4, -0.5], device, grad=True)
    y = T([1.0, -1.0, -1.0], device)
    assert gradcheck(lambda a, b: F.margin_ranking_loss(a, b, y, margin=0.1), (a, b))
    assert gradcheck(lambda a: F.hinge_embedding_loss(a, y, margin=0.5, reduction="sum"), (a,))
    with raises(RuntimeError, "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                              "input1: torch.Size([3]), input2: torch.Size([3]), target: torch.Size([3, 1]) "):
        F.margin_ranking_loss(a, b, T(np.ones((3, 1)), device))


def multi_margin_np(x, y, p=1, margin=1.0, w=None):
    x = np.atleast_2d(x)
    out = []
    for row, t in zip(x, np.atleast_1d(y)):
        total = 0.0
        for i in range(len(row)):
            if i != t:
                z = max(margin - row[t] + row[i], 0.0) ** p
                total += z * (1.0 if w is None else w[t])
        out.append(total / len(row))
    return np.array(out)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss(device, p, reduction):
    x, y, w = rng.normal(size=(5, 4)), rng.integers(0, 4, 5), rng.uniform(0.5, 2, 4)
    out = F.multi_margin_loss(T(x, device), I(y, device), p=p, margin=0.7, weight=T(w, device), reduction=reduction)
    assert_close_np(out, red(multi_margin_np(x, y, p, 0.7, w), reduction))
    single = F.multi_margin_loss(T(x[0], device), I(y[0], device), p=p, reduction=reduction)
    assert tuple(single.shape) == ()
    assert_close_np(single, multi_margin_np(x[0], y[0], p)[0])
    one = F.multi_margin_loss(T(x[0], device), I(y[:1], device), p=p, reduction="none")
    assert tuple(one.shape) == (1,)


def test_multi_margin_loss_gradcheck_and_errors(device):
    x = T([[0.1, 0.9, -0.5, 0.3], [1.2, -0.2, 0.45, 0.0]], device, grad=True)
    y, w = I([1, 0], device), T([0.5, 1.0, 2.0, 1.5], device)
    assert gradcheck(lambda x: F.multi_margin_loss(x, y, p=2, weight=w), (x,))
    assert gradcheck(lambda x: F.multi_margin_loss(x, y, margin=0.5, reduction="none"), (x,))
    with raises(ValueError, "only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, y, p=3)
    with raises(ValueError, "weight must be one-dimensional"):
        F.multi_margin_loss(x, y, weight=T(np.ones((2, 2)), device))
    with raises(RuntimeError, "inconsistent weight size, expected 4 but got [3]"):
        F.multi_margin_loss(x, y, weight=T(np.ones(3), device))
    with raises(RuntimeError, "inconsistent target size, expected 2 but got [3]"):
        F.multi_margin_loss(x, I([0, 1, 2], device))
    with raises(RuntimeError, "Expected non-empty vector or matrix with optional 0-dim batch size, but got: [2, 3, 4]"):
        F.multi_margin_loss(T(np.zeros((2, 3, 4)), device), y)
    for bad in ([0, 4], [-1, 0]):
        with raises(RuntimeError, "target out of range"):
            F.multi_margin_loss(x, I(bad, device))
    with raises(RuntimeError, "expected scalar type Long but found Float"):
        F.multi_margin_loss(x, y.float())


def multilabel_margin_np(x, y):
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    out = []
    for row, tgt in zip(x, y):
        targets = []
        for t in tgt:
            if t == -1:
                break
            targets.append(int(t))
        total = sum(max(0.0, 1 - (row[j] - row[i])) for j in targets for i in range(len(row)) if i not in targets)
        out.append(total / len(row))
    return np.array(out)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(device, reduction):
    x = rng.normal(size=(4, 5))
    # Entries after the first -1 are ignored, even valid ones; a repeated target counts twice.
    y = np.array([[3, 0, -1, 1, 2], [4, 4, 1, 0, 2], [-1, 2, 2, 2, 2], [1, -1, -1, -1, -1]])
    out = F.multilabel_margin_loss(T(x, device), I(y, device), reduction=reduction)
    assert_close_np(out, red(multilabel_margin_np(x, y), reduction))
    single = F.multilabel_margin_loss(T([0.1, 0.2, 0.4, 0.8], device), I([3, 0, -1, 1], device), reduction="none")
    assert tuple(single.shape) == ()
    assert_close_np(single, 0.85)


def test_multilabel_margin_loss_gradcheck_and_errors(device):
    x = T([[0.1, 0.9, -0.5, 0.35], [1.2, -0.2, 0.45, 0.0]], device, grad=True)
    y = I([[1, 3, -1, 0], [2, -1, 0, 0]], device)
    assert gradcheck(lambda x: F.multilabel_margin_loss(x, y), (x,))
    with raises(RuntimeError, "inconsistent target size: [2, 3] for input of size: [2, 4]"):
        F.multilabel_margin_loss(x, I(np.zeros((2, 3)), device))
    for bad in ([[4, -1, 0, 0]] * 2, [[-2, -1, 0, 0]] * 2):
        with raises(RuntimeError, "argument #2 'target' is out of range"):
            F.multilabel_margin_loss(x, I(bad, device))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_and_multilabel_soft_margin(device, reduction):
    x = rng.normal(size=(3, 4)) * 2
    y = np.sign(rng.normal(size=(3, 4)))
    out = F.soft_margin_loss(T(x, device), T(y, device), reduction=reduction)
    assert_close_np(out, red(np.logaddexp(0, -y * x), reduction))
    y01, w = (y > 0).astype(np.float64), rng.uniform(0.5, 2, 4)
    per = -(y01 * log_sigmoid_np(x) + (1 - y01) * log_sigmoid_np(-x)) * w
    out = F.multilabel_soft_margin_loss(T(x, device), T(y01, device), weight=T(w, device), reduction=reduction)
    assert_close_np(out, red(per.mean(1), reduction))


def test_soft_margin_gradcheck_and_stability(device):
    x, y = T(rng.normal(size=(2, 3)), device, grad=True), T(np.sign(rng.normal(size=(2, 3))), device)
    assert gradcheck(lambda x: F.soft_margin_loss(x, y), (x,))
    assert gradcheck(lambda x: F.multilabel_soft_margin_loss(x, (y > 0).double()), (x,))
    # exp(1000) overflows; the loss does not.
    assert_close_np(F.soft_margin_loss(T([-1000.0], device), T([1.0], device), reduction="none"), [1000.0])
    with raises(ValueError, "foo is not valid"):
        F.multilabel_soft_margin_loss(x, y, reduction="foo")


def triplet_np(a, p, n, margin=1.0, norm=2.0, eps=1e-6, swap=False):
    def dist(u, v):
        return (np.abs(u - v + eps) ** norm).sum(-1) ** (1 / norm)

    d_neg = dist(a, n)
    if swap:
        d_neg = np.minimum(d_neg, dist(p, n))
    return np.maximum(margin + dist(a, p) - d_neg, 0)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_loss(device, swap, reduction):
    a, p, n = (rng.normal(size=(6, 3)) for _ in range(3))
    out = F.triplet_margin_loss(T(a, device), T(p, device), T(n, device), margin=1.5, p=3.0, swap=swap,
                                reduction=reduction)
    assert_close_np(out, red(triplet_np(a, p, n, 1.5, 3.0, swap=swap), reduction))
    assert_close_np(F.triplet_margin_loss(T(a[0], device), T(p[0], device), T(n[0], device)), triplet_np(a[0], p[0], n[0]))


def test_triplet_margin_with_distance_loss(device):
    a, p, n = (rng.normal(size=(5, 3)) for _ in range(3))
    ta, tp, tn = (T(v, device) for v in (a, p, n))
    out = F.triplet_margin_with_distance_loss(ta, tp, tn, swap=True, reduction="none")
    assert_close_np(out, triplet_np(a, p, n, swap=True))

    def cos_dist(u, v):
        return 1 - F.cosine_similarity(u, v)

    def cos_np(u, v):
        return 1 - (u * v).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))

    out = F.triplet_margin_with_distance_loss(ta, tp, tn, distance_function=cos_dist, margin=0.5, reduction="sum")
    assert_close_np(out, np.maximum(0.5 + cos_np(a, p) - cos_np(a, n), 0).sum())


def test_triplet_gradcheck_and_errors(device):
    a, p, n = (T(rng.normal(size=(3, 4)), device, grad=True) for _ in range(3))
    assert gradcheck(lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, swap=True), (a, p, n))
    assert gradcheck(lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=2.0), (a, p, n))
    for margin in (0.0, -1.0):
        with raises(ValueError, f"margin must be greater than 0, got {margin}"):
            F.triplet_margin_loss(a, p, n, margin=margin)
        with raises(ValueError, f"margin must be greater than 0, got {margin}"):
            F.triplet_margin_with_distance_loss(a, p, n, margin=margin)
    msg = ("The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: "
           "anchor 2D, positive 2D, and negative 1D inputs")
    with raises(RuntimeError, msg):
        F.triplet_margin_loss(a, p, n[0])
    with raises(RuntimeError, msg):
        F.triplet_margin_with_distance_loss(a, p, n[0])
    with raises(ValueError, "foo is not a valid value for reduction"):
        F.triplet_margin_with_distance_loss(a, p, n, reduction="foo")


# ---------------------------------------------------------------------------------------------
# CTC.
# ---------------------------------------------------------------------------------------------


def ctc_brute(lp, target, blank=0):
    """-log of the summed probability of every path that collapses to ``target`` (tiny sizes)."""
    steps, n_labels = lp.shape
    total = -np.inf
    for path in itertools.product(range(n_labels), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(target):
            total = np.logaddexp(total, sum(lp[t, c] for t, c in enumerate(path)))
    return -total


def ctc_np(lp, target, blank=0):
    """The textbook alpha recursion in log space."""
    ext = [blank]
    for c in target:
        ext += [c, blank]
    alpha = np.full(len(ext), -np.inf)
    if len(lp) == 0:
        return 0.0 if not target else np.inf
    alpha[0] = lp[0, blank]
    if len(ext) > 1:
        alpha[1] = lp[0, ext[1]]
    for t in range(1, len(lp)):
        new = np.full(len(ext), -np.inf)
        for s in range(len(ext)):
            terms = [alpha[s]] + ([alpha[s - 1]] if s >= 1 else [])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + lp[t, ext[s]]
        alpha = new
    tail = alpha[-1] if len(ext) == 1 else np.logaddexp(alpha[-1], alpha[-2])
    return -tail


def test_ctc_reference_agrees_with_brute_force():
    lp = log_softmax_np(rng.normal(size=(5, 3)), 1)
    for target in ([], [1], [1, 1], [2, 1], [1, 2, 1]):
        assert np.isclose(ctc_np(lp, target), ctc_brute(lp, target))


def ctc_case(steps=7, batch=3, n_labels=5, blank=0):
    lp = log_softmax_np(rng.normal(size=(steps, batch, n_labels)), 2)
    in_lens = [steps, steps - 2, 4][:batch]
    tg_lens = [3, 2, 0][:batch]
    labels = [c for c in range(n_labels) if c != blank]
    targets = [list(rng.choice(labels, n)) for n in tg_lens]
    targets[0][1] = targets[0][0]  # a repeated label needs a blank between
    padded = np.full((batch, max(tg_lens) + 1), -7)  # padding may hold anything
    for i, tg in enumerate(targets):
        padded[i, :len(tg)] = tg
    expected = np.array([ctc_np(lp[:n, i], targets[i], blank) for i, n in enumerate(in_lens)])
    return lp, targets, padded, in_lens, tg_lens, expected


@pytest.mark.parametrize("blank", [0, 3])
def test_ctc_loss_values(device, blank):
    lp, targets, padded, in_lens, tg_lens, expected = ctc_case(blank=blank)
    x = T(lp, device)
    out = F.ctc_loss(x, I(padded, device), I(in_lens, device), I(tg_lens, device), blank=blank, reduction="none")
    assert out.device.type == device
    assert_close_np(out, expected)
    concat = I([c for tg in targets for c in tg], device)
    assert_close_np(F.ctc_loss(x, concat, tuple(in_lens), list(tg_lens), blank=blank, reduction="none"), expected)
    assert_close_np(F.ctc_loss(x, I(padded, device), in_lens, tg_lens, blank=blank, reduction="sum"), expected.sum())
    mean = (expected / np.maximum(tg_lens, 1)).mean()
    assert_close_np(F.ctc_loss(x, I(padded, device), in_lens, tg_lens, blank=blank), mean)


def test_ctc_loss_unbatched_and_float32(device):
    lp, targets, padded, in_lens, tg_lens, expected = ctc_case()
    single = F.ctc_loss(T(lp[:, 0], device), I(targets[0], device), I(in_lens[0], device), I(tg_lens[0], device),
                        reduction="none")
    assert tuple(single.shape) == ()
    assert_close_np(single, expected[0])
    out = F.ctc_loss(T(lp, device, torch.float32), I(padded, device).int(), in_lens, tg_lens, reduction="none")
    assert out.dtype == torch.float32
    np.testing.assert_allclose(to_np(out), expected, rtol=1e-5)


def test_ctc_loss_impossible_alignments(device):
    lp = T(log_softmax_np(rng.normal(size=(4, 2, 3)), 2), device, grad=True)
    targets = I([[1, 1, 2], [2, 1, 2]], device)
    # Sample 0 needs 4 frames (1, blank, 1, 2) and has 3; sample 1 needs 3 and has 4.
    out = F.ctc_loss(lp, targets, [3, 4], [3, 3], reduction="none")
    assert math.isinf(out[0].item()) and out[0].item() > 0
    assert_close_np(out[1:], [ctc_np(to_np(lp)[:, 1], [2, 1, 2])])
    zeroed = F.ctc_loss(lp, targets, [3, 4], [3, 3], reduction="sum", zero_infinity=True)
    assert_close_np(zeroed, ctc_np(to_np(lp)[:, 1], [2, 1, 2]))
    zeroed.backward()
    grad = to_np(lp.grad)
    assert np.all(grad[:, 0] == 0) and np.isfinite(grad).all() and np.abs(grad[:, 1]).sum() > 0
    # An empty input explains only an empty target.
    empty = F.ctc_loss(lp, targets, [0, 0], [0, 1], reduction="none")
    assert to_np(empty)[0] == 0.0 and math.isinf(to_np(empty)[1])
    # -inf log-probabilities make paths impossible without producing nans.
    blocked = torch.full((3, 1, 3), -math.inf, dtype=f64, device=device)
    assert math.isinf(F.ctc_loss(blocked, I([[1]], device), [3], [1], reduction="sum").item())


def test_ctc_loss_gradcheck(device):
    lp = T(rng.normal(size=(4, 2, 3)), device, grad=True)
    targets = I([[1, 2], [2, 2]], device)
    assert gradcheck(lambda x: F.ctc_loss(x, targets, [4, 3], [2, 1]), (lp,))
    assert gradcheck(lambda x: F.ctc_loss(F.log_softmax(x, 2), targets, [4, 4], [2, 2], reduction="none"), (lp,))


def test_ctc_loss_errors(device):
    lp = T(log_softmax_np(rng.normal(size=(6, 2, 4)), 2), device)
    tg, il, tl = I([[1, 2, 0], [3, 3, 3]], device), I([6, 5], device), I([2, 3], device)
    ctx = "(while checking arguments for ctc_loss_allocate_outputs)"
    with raises(RuntimeError, "blank must be in label range"):
        F.ctc_loss(lp, tg, il, tl, blank=4)
    with raises(RuntimeError, "input_lengths must be of size batch_size"):
        F.ctc_loss(lp, tg, I([6], device), tl)
    with raises(RuntimeError, "target_lengths must be of size batch_size"):
        F.ctc_loss(lp, tg, il, I([2], device))
    with raises(RuntimeError, f"Expected input_lengths to have value at most 6, but got value 7 {ctx}"):
        F.ctc_loss(lp, tg, I([7, 5], device), tl)
    with raises(RuntimeError, f"Expected input_lengths to have value at least 0, but got value -1 {ctx}"):
        F.ctc_loss(lp, tg, I([-1, 5], device), tl)
    with raises(RuntimeError, f"Expected target_lengths to have value at least 0, but got value -1 {ctx}"):
        F.ctc_loss(lp, tg, il, I([-1, 3], device))
    with raises(RuntimeError, f"Expected tensor to have size at least 4 at dimension 1, but got size 3 for "
                              f"argument #2 'targets' {ctx}"):
        F.ctc_loss(lp, tg, il, I([2, 4], device))
    with raises(RuntimeError, f"Expected tensor to have size 2 at dimension 0, but got size 1 for argument #2 "
                              f"'targets' {ctx}"):
        F.ctc_loss(lp, tg[:1], il, tl)
    with raises(RuntimeError, f"Expected tensor to have size 5 at dimension 0, but got size 4 for argument #2 "
                              f"'targets' {ctx}"):
        F.ctc_loss(lp, I([1, 2, 3, 3], device), il, tl)
    with raises(RuntimeError, f"Expected 3-dimensional tensor, but got 4-dimensional tensor for argument #1 "
                              f"'log_probs' {ctx}"):
        F.ctc_loss(lp.unsqueeze(0), tg, il, tl)
    with raises(RuntimeError, "Expected 1 to 2 dimensions, but got 3-dimensional tensor for argument #2 'targets'"):
        F.ctc_loss(lp, tg.unsqueeze(2), il, tl)
    with raises(RuntimeError, "input_lengths must be integral"):
        F.ctc_loss(lp, tg, il.double(), tl)
    with pytest.raises(NotImplementedError, match="not implemented for 'Half'"):
        F.ctc_loss(lp.half(), tg, il, tl)


# ---------------------------------------------------------------------------------------------
# Modules.
# ---------------------------------------------------------------------------------------------


def _ce_inputs(device):
    return T(rng.normal(size=(4, 3)), device), I([0, 2, 1, -100], device)


MODULE_CASES = [
    ("L1Loss", {}, lambda d: (T(rng.normal(size=(2, 3)), d), T(rng.normal(size=(2, 3)), d)), F.l1_loss),
    ("MSELoss", {}, lambda d: (T(rng.normal(size=(2, 3)), d), T(rng.normal(size=(2, 3)), d)), F.mse_loss),
    ("SmoothL1Loss", {"beta": 0.5}, lambda d: (T(rng.normal(size=4), d), T(rng.normal(size=4), d)),
     lambda x, y, **k: F.smooth_l1_loss(x, y, beta=0.5, **k)),
    ("HuberLoss", {"delta": 0.5}, lambda d: (T(rng.normal(size=4), d), T(rng.normal(size=4), d)),
     lambda x, y, **k: F.huber_loss(x, y, delta=0.5, **k)),
    ("NLLLoss", {"ignore_index": 1}, lambda d: (T(rng.normal(size=(4, 3)), d), I([0, 2, 1, 1], d)),
     lambda x, y, **k: F.nll_loss(x, y, ignore_index=1, **k)),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}, _ce_inputs,
     lambda x, y, **k: F.cross_entropy(x, y, label_smoothing=0.1, **k)),
    ("BCELoss", {}, lambda d: (T(rng.uniform(0.1, 0.9, 4), d), T(rng.uniform(0, 1, 4), d)), F.binary_cross_entropy),
    ("BCEWithLogitsLoss", {}, lambda d: (T(rng.normal(size=4), d), T(rng.uniform(0, 1, 4), d)),
     F.binary_cross_entropy_with_logits),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True},
     lambda d: (T(rng.normal(size=(2, 3)), d), T(rng.normal(size=(2, 3)), d)),
     lambda x, y, **k: F.kl_div(x, y, reduction="batchmean", log_target=True)),
    ("PoissonNLLLoss", {"log_input": False, "full": True},
     lambda d: (T(rng.uniform(0.5, 2, 4), d), T([0.0, 1.0, 2.0, 5.0], d)),
     lambda x, y, **k: F.poisson_nll_loss(x, y, log_input=False, full=True, **k)),
    ("HingeEmbeddingLoss", {"margin": 0.5}, lambda d: (T(rng.normal(size=4), d), T([1.0, -1.0, -1.0, 1.0], d)),
     lambda x, y, **k: F.hinge_embedding_loss(x, y, margin=0.5, **k)),
    ("MultiLabelMarginLoss", {}, lambda d: (T(rng.normal(size=(2, 3)), d), I([[2, -1, 0], [0, 1, -1]], d)),
     F.multilabel_margin_loss),
    ("SoftMarginLoss", {}, lambda d: (T(rng.normal(size=4), d), T([1.0, -1.0, -1.0, 1.0], d)), F.soft_margin_loss),
    ("MultiLabelSoftMarginLoss", {}, lambda d: (T(rng.normal(size=(2, 3)), d), T([[1.0, 0, 1], [0, 0, 1]], d)),
     F.multilabel_soft_margin_loss),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, lambda d: (T(rng.normal(size=(3, 4)), d), I([0, 3, 1], d)),
     lambda x, y, **k: F.multi_margin_loss(x, y, p=2, margin=0.5, **k)),
]


@pytest.mark.parametrize("name,kwargs,make,fn", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_two_argument_modules(device, name, kwargs, make, fn):
    module = getattr(L, name)(**kwargs)
    assert repr(module) == f"{name}()"
    assert list(module.state_dict().keys()) == []
    x, y = make(device)
    reduction = kwargs.get("reduction", "mean")
    assert module.reduction == reduction
    assert_close_np(module(x, y), to_np(fn(x, y, reduction=reduction)) if "reduction" not in kwargs else to_np(fn(x, y)))
    if "reduction" not in kwargs:
        module.reduction = "none"
        assert_close_np(module(x, y), to_np(fn(x, y, reduction="none")))


def test_three_argument_modules(device):
    a, b, c = (T(rng.normal(size=(3, 4)), device) for _ in range(3))
    y = T([1.0, -1.0, 1.0], device)
    var = T(rng.uniform(0.5, 2, (3, 1)), device)
    pairs = [
        (L.CosineEmbeddingLoss(margin=0.2), (a, b, y), F.cosine_embedding_loss(a, b, y, margin=0.2)),
        (L.MarginRankingLoss(margin=0.1), (a[:, 0], b[:, 0], y), F.margin_ranking_loss(a[:, 0], b[:, 0], y, margin=0.1)),
        (L.TripletMarginLoss(margin=2.0, p=1.0, swap=True), (a, b, c),
         F.triplet_margin_loss(a, b, c, margin=2.0, p=1.0, swap=True)),
        (L.TripletMarginWithDistanceLoss(margin=0.5), (a, b, c), F.triplet_margin_with_distance_loss(a, b, c, margin=0.5)),
        (L.GaussianNLLLoss(full=True, reduction="sum"), (a, b, var), F.gaussian_nll_loss(a, b, var, full=True,
                                                                                        reduction="sum")),
    ]
    for module, args, expected in pairs:
        assert_close_np(module(*args), to_np(expected))
    assert repr(L.GaussianNLLLoss()) == "GaussianNLLLoss()"
    with pytest.raises(TypeError):
        L.GaussianNLLLoss(True)  # keyword-only, as torch


def test_ctc_module(device):
    lp, targets, padded, in_lens, tg_lens, expected = ctc_case()
    module = L.CTCLoss(reduction="sum", zero_infinity=True)
    assert repr(module) == "CTCLoss()" and module.blank == 0 and module.zero_infinity
    assert_close_np(module(T(lp, device), I(padded, device), I(in_lens, device), I(tg_lens, device)), expected.sum())


def test_weighted_module_buffers(device):
    w = T([0.5, 1.0, 2.0], device)
    x, t = T(rng.normal(size=(4, 3)), device), I([0, 2, 1, 1], device)
    for cls in (L.CrossEntropyLoss, L.NLLLoss, L.MultiMarginLoss, L.MultiLabelSoftMarginLoss, L.BCELoss):
        module = cls(weight=w)
        assert isinstance(module, L._WeightedLoss)
        assert list(module.state_dict().keys()) == ["weight"]
        assert module.weight is not None and list(dict(module.named_buffers()).keys()) == ["weight"]
        assert list(cls().state_dict().keys()) == []
        assert cls().weight is None
    assert_close_np(L.CrossEntropyLoss(weight=w)(x, t), to_np(F.cross_entropy(x, t, weight=w)))
    assert_close_np(L.NLLLoss(weight=w)(x, t), to_np(F.nll_loss(x, t, weight=w)))
    assert_close_np(L.MultiMarginLoss(weight=w)(x, t), to_np(F.multi_margin_loss(x, t, weight=w)))
    bce = L.BCEWithLogitsLoss(weight=w, pos_weight=w * 2)
    assert list(bce.state_dict().keys()) == ["weight", "pos_weight"]
    assert list(L.BCEWithLogitsLoss().state_dict().keys()) == []
    y = T(rng.uniform(0, 1, (4, 3)), device)
    assert_close_np(bce(x, y), to_np(F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=w * 2)))


def test_module_legacy_arguments_and_options():
    with pytest.warns(UserWarning, match=re.escape("please use reduction='sum' instead.")):
        assert L.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match=re.escape("please use reduction='none' instead.")):
        assert L.CrossEntropyLoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match=re.escape("please use reduction='mean' instead.")):
        assert L.NLLLoss(None, True).reduction == "mean"
    assert L.CrossEntropyLoss().ignore_index == -100 and L.CrossEntropyLoss().label_smoothing == 0.0
    assert L.SmoothL1Loss().beta == 1.0 and L.HuberLoss().delta == 1.0 and L.HingeEmbeddingLoss().margin == 1.0
    assert (L.PoissonNLLLoss().log_input, L.PoissonNLLLoss().full, L.PoissonNLLLoss().eps) == (True, False, 1e-8)
    assert (L.TripletMarginLoss().margin, L.TripletMarginLoss().p, L.TripletMarginLoss().eps) == (1.0, 2.0, 1e-6)
    assert (L.MultiMarginLoss().p, L.MultiMarginLoss().margin) == (1, 1.0)
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        assert repr(L.NLLLoss2d()) == "NLLLoss2d()"
    with raises(ValueError, "only p == 1 and p == 2 supported"):
        L.MultiMarginLoss(p=3)
    with raises(ValueError, "MultiMarginLoss: expected weight to be None or 1D tensor, got 2D instead"):
        L.MultiMarginLoss(weight=torch.ones(2, 2))
    with raises(ValueError, "TripletMarginWithDistanceLoss: expected margin to be greater than 0, got 0.0 instead"):
        L.TripletMarginWithDistanceLoss(margin=0.0)
    with raises(ValueError, "TripletMarginLoss: expected margin to be greater than 0, got -1.0 instead"):
        L.TripletMarginLoss(margin=-1.0)


def test_triplet_with_distance_module_repr():
    assert repr(L.TripletMarginWithDistanceLoss()) == (
        "TripletMarginWithDistanceLoss(\n  (distance_function): PairwiseDistance()\n)"
    )
    assert repr(L.TripletMarginWithDistanceLoss(distance_function=lambda a, b: (a - b).abs().sum(-1))) == (
        "TripletMarginWithDistanceLoss()"
    )


def test_loss_module_backward(device):
    x = T(rng.normal(size=(4, 3)), device, grad=True)
    loss = L.CrossEntropyLoss()(x, I([0, 2, 1, 1], device))
    loss.backward()
    p = np.exp(log_softmax_np(to_np(x), 1))
    p[np.arange(4), [0, 2, 1, 1]] -= 1
    assert_close_np(x.grad, p / 4)
