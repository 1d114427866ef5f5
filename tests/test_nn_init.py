"""``nn.init``: gains, fans, exact bounds of the uniform variants, statistics of large draws
(within a few standard errors), orthogonality, the Dirac convolution identity, sparsity
patterns, determinism under ``manual_seed``, and that nothing is recorded in the graph."""

import math
import re

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.nn import init
from ferrotorch.nn.parameter import Parameter
from helpers import to_np

N = 200_000  # draws for the statistical tests


def empty(*shape, device, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device=device)


def assert_moments(values, mean, std, n_se=5.0):
    """Sample mean and std within ``n_se`` standard errors of ``mean`` and ``std``."""
    v = np.asarray(values, dtype=np.float64).ravel()
    se_mean = std / math.sqrt(v.size)
    se_std = std / math.sqrt(2 * v.size)
    assert abs(v.mean() - mean) < n_se * se_mean, (v.mean(), mean)
    assert abs(v.std() - std) < n_se * se_std, (v.std(), std)


# ------------------------------------------------------------------------------------------
# Gains and fans
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid"])
def test_gain_of_linear_functions_is_one(name):
    assert init.calculate_gain(name) == 1


def test_gains():
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("selu") == 0.75
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01 ** 2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert init.calculate_gain("leaky_relu", 1) == 1.0
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")


def test_fans_of_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(torch.empty(7, 3)) == (3, 7)
    assert init._calculate_fan_in_and_fan_out(torch.empty(16, 3, 5, 5)) == (75, 400)
    assert init._calculate_fan_in_and_fan_out(torch.empty(8, 4, 3)) == (12, 24)
    assert init._calculate_fan_in_and_fan_out(torch.empty(2, 3, 2, 2, 2)) == (24, 16)
    assert init._calculate_correct_fan(torch.empty(16, 3, 5, 5), "fan_in") == 75
    assert init._calculate_correct_fan(torch.empty(16, 3, 5, 5), "FAN_OUT") == 400
    with pytest.raises(ValueError, match=re.escape(
            "Mode fan_avg not supported, please use one of ['fan_in', 'fan_out']")):
        init._calculate_correct_fan(torch.empty(2, 2), "fan_avg")
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor "
                                         "with fewer than 2 dimensions"):
        init.xavier_uniform_(torch.empty(5))


# ------------------------------------------------------------------------------------------
# Constant fills
# ------------------------------------------------------------------------------------------

def test_constant_ones_zeros(device):
    t = empty(3, 4, device=device)
    assert init.constant_(t, 0.25) is t
    np.testing.assert_array_equal(to_np(t), np.full((3, 4), 0.25))
    np.testing.assert_array_equal(to_np(init.ones_(t)), np.ones((3, 4)))
    np.testing.assert_array_equal(to_np(init.zeros_(t)), np.zeros((3, 4)))
    i = torch.empty(3, dtype=torch.int64, device=device)
    np.testing.assert_array_equal(to_np(init.constant_(i, 4)), [4, 4, 4])


def test_eye(device):
    t = empty(3, 5, device=device, dtype=torch.float64)
    assert init.eye_(t) is t
    np.testing.assert_array_equal(to_np(t), np.eye(3, 5))
    np.testing.assert_array_equal(to_np(init.eye_(empty(4, 2, device=device))), np.eye(4, 2))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(empty(2, 2, 2, device=device))


def _conv_same(x, w):
    """NumPy cross-correlation with 'same' zero padding: x (C, *S), w (O, C, *K), odd K."""
    k = w.shape[2:]
    pad = [(0, 0)] + [(kk // 2, kk // 2) for kk in k]
    xp = np.pad(x, pad)
    out = np.zeros((w.shape[0],) + x.shape[1:])
    for offs in np.ndindex(*k):
        window = xp[(slice(None),) + tuple(slice(o, o + s) for o, s in zip(offs, x.shape[1:]))]
        out += np.tensordot(w[(slice(None), slice(None)) + offs], window, axes=(1, 0))
    return out


@pytest.mark.parametrize("shape", [(4, 4, 3), (4, 4, 3, 3), (3, 3, 3, 1, 5), (6, 4, 5, 5),
                                   (2, 5, 3, 3)])
def test_dirac_is_the_convolution_identity(shape, device):
    w = init.dirac_(empty(*shape, device=device))
    wn = to_np(w)
    out_ch, in_ch = shape[:2]
    centre = tuple(s // 2 for s in shape[2:])
    expected = np.zeros(shape)
    for d in range(min(out_ch, in_ch)):
        expected[(d, d) + centre] = 1
    np.testing.assert_array_equal(wn, expected)
    x = np.random.default_rng(0).standard_normal((in_ch,) + tuple(s + 2 for s in shape[2:]))
    y = _conv_same(x, wn)
    n = min(out_ch, in_ch)
    np.testing.assert_allclose(y[:n], x[:n])
    np.testing.assert_array_equal(y[n:], 0)


def test_dirac_groups(device):
    w = to_np(init.dirac_(empty(6, 2, 3, 3, device=device), groups=3))
    expected = np.zeros((6, 2, 3, 3))
    for g in range(3):
        for d in range(2):
            expected[g * 2 + d, d, 1, 1] = 1
    np.testing.assert_array_equal(w, expected)
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(empty(5, 2, 3, device=device), groups=2)
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
        init.dirac_(empty(3, 3, device=device))


# ------------------------------------------------------------------------------------------
# Random fills: bounds and statistics
# ------------------------------------------------------------------------------------------

def test_uniform(device):
    t = init.uniform_(empty(N, device=device), -2.0, 3.0)
    v = to_np(t)
    assert v.min() >= -2.0 and v.max() < 3.0
    assert_moments(v, 0.5, 5.0 / math.sqrt(12))
    v = to_np(init.uniform_(empty(N, device=device)))
    assert v.min() >= 0.0 and v.max() < 1.0


def test_normal(device):
    assert_moments(to_np(init.normal_(empty(N, device=device), 1.5, 0.5)), 1.5, 0.5)
    assert_moments(to_np(init.normal_(empty(N, device=device, dtype=torch.float64))), 0.0, 1.0)


def test_trunc_normal(device):
    mean, std, a, b = 0.5, 2.0, -1.0, 3.0
    v = to_np(init.trunc_normal_(empty(N, device=device), mean, std, a, b))
    assert v.min() >= a and v.max() <= b
    # Moments of the truncated normal.
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    t_mean = mean + std * (pdf(alpha) - pdf(beta)) / z
    t_var = std ** 2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z
                        - ((pdf(alpha) - pdf(beta)) / z) ** 2)
    assert_moments(v, t_mean, math.sqrt(t_var))
    v = to_np(init.trunc_normal_(empty(N, device=device)))  # N(0, 1) cut at +-2
    assert v.min() >= -2 and v.max() <= 2
    with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\]"):
        init.trunc_normal_(empty(10, device=device), mean=10.0, std=1.0, a=-1.0, b=1.0)


def test_xavier_uniform_bound_is_exact(device):
    t = empty(400, 500, device=device)
    init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / (400 + 500))
    v = to_np(t)
    assert np.abs(v).max() <= bound * (1 + 1e-6)
    assert np.abs(v).max() > 0.999 * bound  # the whole range is used
    assert_moments(v, 0.0, bound / math.sqrt(3))


def test_xavier_normal(device):
    t = init.xavier_normal_(empty(64, 32, 10, 10, device=device), gain=init.calculate_gain("relu"))
    fan_in, fan_out = 32 * 100, 64 * 100
    assert_moments(to_np(t), 0.0, math.sqrt(2.0) * math.sqrt(2.0 / (fan_in + fan_out)))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_uniform_bound_is_exact(mode, device):
    t = empty(50, 40, 3, 3, device=device)
    fan = 40 * 9 if mode == "fan_in" else 50 * 9
    # a = sqrt(5) is what Linear and Conv use: the bound is 1 / sqrt(fan_in).
    init.kaiming_uniform_(t, a=math.sqrt(5), mode=mode)
    bound = math.sqrt(2.0 / 6.0) * math.sqrt(3.0 / fan)
    assert abs(bound - 1 / math.sqrt(fan)) < 1e-12
    v = to_np(t)
    assert np.abs(v).max() <= bound * (1 + 1e-6) and np.abs(v).max() > 0.99 * bound
    assert_moments(v, 0.0, bound / math.sqrt(3))


def test_kaiming_normal(device):
    t = init.kaiming_normal_(empty(300, 700, device=device), mode="fan_out", nonlinearity="relu")
    assert_moments(to_np(t), 0.0, math.sqrt(2.0) / math.sqrt(300))
    t = init.kaiming_normal_(empty(300, 700, device=device), a=0.3)
    assert_moments(to_np(t), 0.0, math.sqrt(2.0 / 1.09) / math.sqrt(700))


def test_kaiming_zero_element_warns(device):
    t = empty(0, 3, device=device)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert init.kaiming_uniform_(t) is t
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert init.kaiming_normal_(t) is t


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 8), (4, 3, 2, 2)])
def test_orthogonal(shape, device):
    t = init.orthogonal_(empty(*shape, device=device, dtype=torch.float64), gain=1.0)
    w = to_np(t).reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-10)


def test_orthogonal_gain_float32_and_errors(device):
    w = to_np(init.orthogonal_(empty(5, 7, device=device), gain=3.0))
    np.testing.assert_allclose(w @ w.T, 9.0 * np.eye(5), atol=1e-4)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(empty(3, device=device))
    e = empty(0, 4, device=device)
    assert init.orthogonal_(e) is e


def test_orthogonal_is_haar_distributed():
    # Q's sign convention (positive diagonal of R) makes the first entry symmetric around 0:
    # without it the distribution would be biased.
    torch.manual_seed(0)
    first = [to_np(init.orthogonal_(torch.empty(3, 3)))[0, 0] for _ in range(400)]
    assert abs(np.mean(first)) < 5 * math.sqrt(1 / 3 / 400)


def test_sparse(device):
    rows, cols, sparsity = 20, 500, 0.25
    t = init.sparse_(empty(rows, cols, device=device), sparsity, std=0.5)
    v = to_np(t)
    zeros_per_column = (v == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros_per_column, math.ceil(sparsity * rows))
    assert_moments(v[v != 0], 0.0, 0.5)
    # Every row is zeroed in some columns: the rows are picked at random per column.
    assert ((v == 0).sum(axis=1) > 0).all()
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.sparse_(empty(2, 2, 2, device=device), 0.5)


# ------------------------------------------------------------------------------------------
# Determinism, generators, graph
# ------------------------------------------------------------------------------------------

FILLS = [
    lambda t, **kw: init.uniform_(t, -1, 1, **kw),
    lambda t, **kw: init.normal_(t, 0, 2, **kw),
    lambda t, **kw: init.trunc_normal_(t, **kw),
    lambda t, **kw: init.xavier_uniform_(t, **kw),
    lambda t, **kw: init.xavier_normal_(t, **kw),
    lambda t, **kw: init.kaiming_uniform_(t, **kw),
    lambda t, **kw: init.kaiming_normal_(t, **kw),
    lambda t, **kw: init.orthogonal_(t, **kw),
    lambda t, **kw: init.sparse_(t, 0.3, **kw),
]


@pytest.mark.parametrize("fill", FILLS)
def test_manual_seed_makes_fills_reproducible(fill, device):
    torch.manual_seed(123)
    a = to_np(fill(empty(16, 12, device=device)))
    torch.manual_seed(123)
    b = to_np(fill(empty(16, 12, device=device)))
    c = to_np(fill(empty(16, 12, device=device)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("fill", FILLS)
def test_generator_argument(fill):
    a = to_np(fill(torch.empty(16, 12), generator=torch.Generator().manual_seed(5)))
    torch.manual_seed(0)
    b = to_np(fill(torch.empty(16, 12), generator=torch.Generator().manual_seed(5)))
    np.testing.assert_array_equal(a, b)
    c = to_np(fill(torch.empty(16, 12), generator=torch.Generator().manual_seed(6)))
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("fill", FILLS + [
    lambda t: init.constant_(t, 2.0), init.ones_, init.zeros_, init.eye_,
])
def test_fills_a_parameter_without_recording(fill, device):
    p = Parameter(torch.zeros(6, 4, device=device))
    out = fill(p)
    assert out is p and p.is_leaf and p.grad_fn is None and p.requires_grad


def test_deprecated_aliases_warn():
    t = torch.empty(3, 3)
    with pytest.warns(FutureWarning, match=re.escape(
            "`nn.init.uniform` is now deprecated in favor of `nn.init.uniform_`.")):
        assert init.uniform(t) is t
    with pytest.warns(FutureWarning, match="nn.init.xavier_normal_"):
        init.xavier_normal(t)
    assert init.kaiming_uniform.__name__ == "kaiming_uniform"


def test_half_precision_fills(device):
    for dtype in (torch.float16, torch.bfloat16):
        v = to_np(init.kaiming_uniform_(empty(256, 256, device=device, dtype=dtype)))
        bound = math.sqrt(2.0 / (1 + 0.01 ** 2)) * math.sqrt(3.0 / 256)
        assert np.abs(v).max() <= bound * 1.01
        w = to_np(init.orthogonal_(empty(8, 16, device=device, dtype=dtype)))
        np.testing.assert_allclose(w @ w.T, np.eye(8), atol=3e-2)
