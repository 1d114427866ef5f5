"""torch.amp.GradScaler: a scaled step equals the plain step (NumPy oracle), a step with an inf
or NaN gradient is skipped and backs the scale off, clean steps grow it, and misuse raises
torch's errors."""

import pickle
import warnings

import numpy as np
import pytest

import ferrotorch as torch

X = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
W0 = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
LR = 0.1


def model(device):
    w = torch.tensor(W0, device=device, requires_grad=True)
    return w, torch.optim.SGD([w], lr=LR)


def loss_of(w, device):
    """sum((X @ w^T)^2): its gradient is 2 * (X @ w^T)^T @ X."""
    return ((torch.tensor(X, device=device) @ w.t()) ** 2).sum()


def np_grad(w):
    return 2 * (X @ w.T).T @ X


def test_scaled_step_equals_the_plain_step(device):
    w, opt = model(device)
    scaler = torch.amp.GradScaler(device, init_scale=1024.0)
    scaled = scaler.scale(loss_of(w, device))
    np.testing.assert_allclose(scaled.item(), 1024.0 * ((X @ W0.T) ** 2).sum(), rtol=1e-6)
    scaled.backward()
    np.testing.assert_allclose(w.grad.cpu().numpy(), 1024.0 * np_grad(W0), rtol=1e-5)
    assert scaler.step(opt) is None  # SGD.step returns None
    scaler.update()
    np.testing.assert_allclose(w.detach().cpu().numpy(), W0 - LR * np_grad(W0), rtol=1e-5)
    assert scaler.get_scale() == 1024.0  # one clean step of the default 2000 does not grow it


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_non_finite_gradient_skips_the_step_and_backs_off(device, bad):
    w, opt = model(device)
    scaler = torch.amp.GradScaler(device, init_scale=8.0, growth_interval=1)
    loss = scaler.scale(loss_of(w, device) * bad)
    loss.backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(w.detach().cpu().numpy(), W0)
    assert scaler.get_scale() == 4.0
    assert scaler.state_dict()["_growth_tracker"] == 0


def test_clean_steps_grow_the_scale(device):
    w, opt = model(device)
    scaler = torch.amp.GradScaler(device, init_scale=2.0, growth_factor=3.0, growth_interval=2)
    scales = []
    for _ in range(4):
        opt.zero_grad()
        scaler.scale(loss_of(w, device)).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    assert scales == [2.0, 6.0, 6.0, 18.0]


def test_unscale_before_clipping_then_step(device):
    w, opt = model(device)
    scaler = torch.amp.GradScaler(device, init_scale=64.0)
    scaler.scale(loss_of(w, device)).backward()
    scaler.unscale_(opt)
    np.testing.assert_allclose(w.grad.cpu().numpy(), np_grad(W0), rtol=1e-5)
    torch.nn.utils.clip_grad_norm_([w], max_norm=1.0)
    g = np_grad(W0)
    g = g * min(1.0, 1.0 / np.linalg.norm(g))  # clipped to norm 1
    scaler.step(opt)  # does not unscale a second time
    scaler.update()
    np.testing.assert_allclose(w.detach().cpu().numpy(), W0 - LR * g, rtol=1e-4)


def test_misuse_raises_torchs_errors(device):
    w, opt = model(device)
    scaler = torch.amp.GradScaler(device)
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        scaler.update()
    scaler.scale(loss_of(w, device)).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: 0.0)
    h = torch.tensor([[1.0]], device=device, dtype=torch.float16, requires_grad=True)
    h.grad = torch.ones_like(h)
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.step(torch.optim.SGD([h], lr=0.1))
    with pytest.raises(AssertionError, match="growth factor"):
        torch.amp.GradScaler(device, growth_factor=1.0)


def test_scale_of_lists_tuples_and_iterables(device):
    scaler = torch.amp.GradScaler(device, init_scale=2.0)
    a, b = torch.ones(2, device=device), torch.full((1,), 3.0, device=device)
    out = scaler.scale([a, (b, a)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert out[0].tolist() == [2.0, 2.0] and out[1][0].tolist() == [6.0]
    assert [t.tolist() for t in scaler.scale(iter([b]))] == [[6.0]]
    with pytest.raises(ValueError):
        scaler.scale(3.0)


def test_disabled_scaler_is_a_pass_through(device):
    w, opt = model(device)
    scaler = torch.amp.GradScaler(device, enabled=False)
    loss = loss_of(w, device)
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and not scaler.is_enabled()
    loss.backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(w.detach().cpu().numpy(), W0 - LR * np_grad(W0), rtol=1e-5)
    assert scaler.state_dict() == {}


def test_state_dict_round_trip_and_pickle(device):
    scaler = torch.amp.GradScaler(device, init_scale=32.0, growth_interval=7)
    state = scaler.state_dict()
    assert state == {"scale": 32.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 7,
                     "_growth_tracker": 0}
    other = torch.amp.GradScaler(device)
    other.load_state_dict(state)
    assert other.state_dict() == state
    assert pickle.loads(pickle.dumps(other)).state_dict() == state
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        other.load_state_dict({})


def test_old_cuda_spelling_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = torch.cuda.amp.GradScaler(init_scale=4.0, enabled=False)
    assert any(issubclass(w.category, FutureWarning) for w in caught)
    assert not scaler.is_enabled()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_scaler_without_cuda_disables_itself():
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = torch.amp.GradScaler("cuda")
    assert not scaler.is_enabled()


def test_float16_autocast_training_with_a_scaler(device):
    """The documented recipe: autocast forward, scaled backward, scaler.step/update. The loss
    falls as in float32 training and the scale stays finite."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    scaler = torch.amp.GradScaler(device, init_scale=2.0**16)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((64, 8)).astype(np.float32), device=device)
    y = x.sum(1, keepdim=True)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        with torch.autocast(device_type=device, dtype=torch.float16):
            loss = torch.nn.functional.mse_loss(net(x).float(), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0], losses[::10]
    assert np.isfinite(scaler.get_scale()) and scaler.get_scale() >= 1.0
    assert all(p.dtype == torch.float32 for p in net.parameters())
