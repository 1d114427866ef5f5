"""The fused multi-tensor optimizer op (_C._fused_step): used by every element-wise optimizer,
equal to the single-tensor reference loop in every floating dtype, with mixed dtypes in one
group, and a clean fallback for buffers it cannot take. (test_optim.py checks the float64
results of every option against NumPy implementations, through this same fused path.)"""

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.optim import _fused

RICH = {
    "SGD": {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": False, "weight_decay": 0.01},
    "Adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True},
    "AdamW": {"lr": 0.01, "weight_decay": 0.1},
    "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1},
    "Adadelta": {"lr": 1.0, "weight_decay": 0.1},
    "Adamax": {"lr": 0.01, "weight_decay": 0.1},
    "NAdam": {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
    "RAdam": {"lr": 0.01, "weight_decay": 0.1},
}

# Tolerance of fused vs loop: the same operations in the same order. For half types the loop
# rounds to the parameter dtype after every op where the fused op keeps float32, so they drift
# apart by a few units in the last place, and by more in the rare elements where a difference
# cancels (RMSprop's centered variance): there, at most 0.1% of the elements may differ more
# (a wrong formula moves nearly all of them).
TOL = {torch.float64: 1e-12, torch.float32: 1e-5, torch.bfloat16: 4e-2, torch.float16: 5e-3}


def assert_close(a, b, dtype, what):
    a, b, tol = a.detach().float().cpu().numpy(), b.detach().float().cpu().numpy(), TOL[dtype]
    if dtype in (torch.bfloat16, torch.float16):
        far = np.abs(a - b) > tol * (1 + np.abs(b))
        assert far.mean() <= 1e-3, f"{what}: {far.sum()} of {far.size} elements differ"
    else:
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


def run(name, dtypes, device, fused, steps=8):
    rng = np.random.default_rng(0)
    shapes = [(5, 3), (70001,), (2, 2, 2), ()]  # one above the parallel threshold
    params = [torch.nn.Parameter(torch.tensor(rng.standard_normal(s), dtype=dtypes[i % len(dtypes)],
                                              device=device))
              for i, s in enumerate(shapes)]
    opt = getattr(torch.optim, name)(params, **RICH[name])
    calls = []
    real_step, real_applies = _fused.step, _fused.applies
    _fused.step = lambda *a: calls.append(a[0]) or real_step(*a)
    if not fused:
        _fused.applies = lambda *a, **k: False
    try:
        for t in range(steps):
            for p in params:
                p.grad = torch.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype,
                                      device=device)
            opt.step()
    finally:
        _fused.step, _fused.applies = real_step, real_applies
    return params, opt, calls


@pytest.mark.parametrize("name", list(RICH))
@pytest.mark.parametrize("dtypes", [[torch.float32], [torch.float64, torch.bfloat16, torch.float16]],
                         ids=["f32", "mixed"])
def test_fused_step_equals_the_single_tensor_loop(name, dtypes, device):
    fused, opt, calls = run(name, dtypes, device, fused=True)
    loop, loop_opt, _ = run(name, dtypes, device, fused=False)
    assert calls, "the fused op was not used"
    for a, b in zip(fused, loop):
        assert_close(a, b, a.dtype, f"{name} parameter")
    for (pa, sa), (pb, sb) in zip(opt.state.items(), loop_opt.state.items()):
        for key in sa:
            if isinstance(sa[key], torch.Tensor):
                assert_close(sa[key], sb[key], sa[key].dtype, f"{name} state {key}")


def test_non_contiguous_parameters_fall_back_to_the_loop(device):
    base = torch.randn(4, 6, device=device)
    p = torch.nn.Parameter(base.t())  # a transposed view
    q = torch.nn.Parameter(base.t().contiguous().clone())
    for x in (p, q):
        x.grad = torch.ones(6, 4, device=device)
    assert not _fused.applies([p], [p.grad], [])
    torch.optim.Adam([p], lr=0.1).step()
    torch.optim.Adam([q], lr=0.1).step()
    np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().cpu().numpy(), rtol=1e-5,
                               atol=1e-5)


def test_bad_arguments_raise_errors_naming_the_op():
    p, g = torch.zeros(3), torch.zeros(4)
    with pytest.raises(RuntimeError, match="_fused_step: gradient 0 of shape"):
        torch._C._fused_step("sgd", [p], [g], [], [[0.1]])
    with pytest.raises(RuntimeError, match="_fused_step: gradient 0 is torch.float64"):
        torch._C._fused_step("sgd", [p], [torch.zeros(3, dtype=torch.float64)], [], [[0.1]])
    with pytest.raises(RuntimeError, match="parameters must be floating point"):
        torch._C._fused_step("sgd", [torch.zeros(3, dtype=torch.int64)],
                             [torch.zeros(3, dtype=torch.int64)], [], [[0.1]])
    with pytest.raises(ValueError, match="unknown update rule"):
        torch._C._fused_step("lion", [p], [p], [], [[0.1]])
    with pytest.raises(ValueError, match="at most 12 constants"):
        torch._C._fused_step("sgd", [p], [p], [], [[0.0] * 13])


def test_a_step_invalidates_tensors_saved_for_backward():
    p = torch.nn.Parameter(torch.ones(3))
    loss = (p * p).sum()  # saves p for backward
    p.grad = torch.ones(3)
    torch.optim.SGD([p], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
