"""torch.autocast: which ops cast to the region's dtype, which run in float32, what is left alone,
and that gradients reach float32 parameters with values close to the float32 computation."""

import threading
import warnings

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F


def _t(rng, *shape, device="cpu", dtype=torch.float32, requires_grad=False):
    arr = rng.standard_normal(shape).astype(np.float32)
    return torch.tensor(arr, device=device, dtype=dtype, requires_grad=requires_grad)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("fast", ["bfloat16", "float16"])
def test_lower_precision_ops_cast_and_float32_ops_widen(device, rng, fast):
    fast = getattr(torch, fast)
    x, w, b = _t(rng, 4, 8, device=device), _t(rng, 3, 8, device=device), _t(rng, 3, device=device)
    img, k = _t(rng, 2, 3, 6, 6, device=device), _t(rng, 4, 3, 3, 3, device=device)
    q = _t(rng, 2, 2, 5, 4, device=device)
    with torch.autocast(device_type=device, dtype=fast):
        assert torch.is_autocast_enabled(device)
        assert torch.get_autocast_dtype(device) == fast
        assert F.linear(x, w, b).dtype == fast
        assert F.linear(x.unsqueeze(0), w).dtype == fast
        # With a bias: the batched (flattened) and the strided input both stay in `fast`.
        assert F.linear(x.unsqueeze(0), w, b).dtype == fast
        assert F.linear(x.t().unsqueeze(0).transpose(1, 2), w, b).dtype == fast
        assert (x @ w.t()).dtype == fast
        assert torch.mm(x, w.t()).dtype == fast
        assert torch.bmm(x.unsqueeze(0), w.t().unsqueeze(0)).dtype == fast
        assert torch.addmm(b, x, w.t()).dtype == fast
        assert F.conv2d(img, k, padding=1).dtype == fast
        assert F.scaled_dot_product_attention(q, q, q, is_causal=True).dtype == fast
        low = x.to(fast)
        assert F.softmax(low, -1).dtype == torch.float32
        assert F.log_softmax(low, -1).dtype == torch.float32
        assert F.layer_norm(low, (8,)).dtype == torch.float32
        target = torch.tensor([0, 1, 2, 1], device=device)
        assert F.cross_entropy(F.linear(x, w), target).dtype == torch.float32
        # Ops on neither list keep their inputs' dtypes.
        assert (low + low).dtype == fast
        assert (x + x).dtype == torch.float32
    assert not torch.is_autocast_enabled(device)
    assert F.linear(x, w, b).dtype == torch.float32


def test_float64_and_other_devices_are_left_alone(rng):
    x = _t(rng, 4, 4, dtype=torch.float64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert (x @ x).dtype == torch.float64
    y = _t(rng, 4, 4)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        assert torch.is_autocast_enabled("cuda") and not torch.is_autocast_enabled("cpu")
        assert (y @ y).dtype == torch.float32  # a CPU tensor under a CUDA region


def test_values_match_the_float32_computation(device, rng):
    x, w = _t(rng, 16, 32, device=device), _t(rng, 8, 32, device=device)
    with torch.autocast(device, dtype=torch.bfloat16):
        got = F.linear(x, w)
    want = x.cpu().numpy() @ w.cpu().numpy().T
    # bfloat16 inputs carry 8 bits of mantissa; the products accumulate in float32.
    np.testing.assert_allclose(got.float().cpu().numpy(), want, rtol=3e-2, atol=3e-2 * np.abs(want).max())


def test_gradients_reach_float32_parameters(device, rng):
    lin = torch.nn.Linear(32, 10).to(device)
    x = _t(rng, 16, 32, device=device)
    target = torch.tensor(rng.integers(0, 10, 16), device=device)
    with torch.autocast(device, dtype=torch.bfloat16):
        logits = lin(x)
        loss = F.cross_entropy(logits, target)
    assert logits.dtype == torch.bfloat16 and loss.dtype == torch.float32
    loss.backward()
    assert lin.weight.grad.dtype == torch.float32 and lin.bias.grad.dtype == torch.float32
    # The float32 reference, by hand: d loss / d logits = (softmax - onehot) / N.
    W, bias, X = (t.detach().cpu().numpy() for t in (lin.weight, lin.bias, x))
    z = X @ W.T + bias
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(16), target.cpu().numpy()] -= 1
    gz = p / 16
    np.testing.assert_allclose(lin.weight.grad.cpu().numpy(), gz.T @ X, atol=2e-2)
    np.testing.assert_allclose(lin.bias.grad.cpu().numpy(), gz.sum(0), atol=1e-2)


def test_backward_called_inside_the_region_runs_in_the_recorded_dtypes(rng):
    w = _t(rng, 8, 8, requires_grad=True)
    x = _t(rng, 4, 8)
    with torch.autocast("cpu"):
        loss = (x @ w).float().pow(2).sum()
        loss.backward()
    assert w.grad.dtype == torch.float32
    # Outside autocast the same expression in float32; bfloat16 rounding bounds the difference.
    w2 = w.detach().clone().requires_grad_()
    (x @ w2).pow(2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=5e-2, atol=5e-2)


def test_nesting_disabling_and_the_decorator(rng):
    x = _t(rng, 4, 4)
    with torch.autocast("cpu"):
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16  # the CPU default
        with torch.autocast("cpu", enabled=False):
            assert (x @ x).dtype == torch.float32
            assert not torch.is_autocast_enabled("cpu")
        with torch.autocast("cpu", dtype=torch.float16):
            assert (x @ x).dtype == torch.float16
        assert (x @ x).dtype == torch.bfloat16

    @torch.autocast("cpu", dtype=torch.bfloat16)
    def product(a):
        return a @ a

    assert product(x).dtype == torch.bfloat16
    assert (x @ x).dtype == torch.float32
    assert torch.get_autocast_dtype("cuda") == torch.float16  # the CUDA default


def test_an_exception_leaves_the_region(rng):
    with pytest.raises(ValueError):
        with torch.autocast("cpu"):
            raise ValueError("inside")
    assert not torch.is_autocast_enabled("cpu")


def test_regions_are_per_thread(rng):
    x = _t(rng, 4, 4)
    seen = []
    with torch.autocast("cpu"):
        worker = threading.Thread(target=lambda: seen.append((x @ x).dtype))
        worker.start()
        worker.join()
    assert seen == [torch.float32]


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="device_type"):
        torch.autocast("tpu")
    with pytest.warns(UserWarning, match="not supported"):
        region = torch.autocast("cpu", dtype=torch.float64)
    with region:
        assert not torch.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match="enabled"):
        torch.autocast("cpu", enabled=1)


def test_the_old_cuda_spelling_warns_and_works(rng):
    with pytest.warns(FutureWarning, match="deprecated"):
        region = torch.cuda.amp.autocast(dtype=torch.bfloat16)
    with region:
        assert torch.get_autocast_dtype("cuda") == torch.bfloat16
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.amp.autocast("cuda")  # the current spelling does not warn
