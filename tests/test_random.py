"""Random numbers: Philox known answers, the stream layout, seeding, reproducibility,
thread independence and distribution statistics (fixed seeds, so nothing is flaky)."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import _C
from helpers import FLOAT_DTYPES, to_np


def arr(t):
    """NumPy float64/int64 copy through Python values (works for every dtype and device)."""
    return np.array(t.tolist())


# ---------------------------------------------------------------- Philox and the stream layout

# Random numbers for a GPU tensor are drawn on the host from the same stream, so the stream
# layout below holds on every device.

# Random123 kat_vectors, philox4x32_10: (counter, key, output).
KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
        [0xA4093822, 0x299F31D0],
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    ),
]


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_philox4x32_10_known_answer_vectors(ctr, key, expected):
    assert list(_C._philox4x32_10(ctr, key)) == expected


def block(seed, b):
    """Block `b` of the stream of `seed`: counter (b lo, b hi, 0, 0), key (seed lo, seed hi)."""
    return _C._philox4x32_10([b & 0xFFFFFFFF, b >> 32, 0, 0], [seed & 0xFFFFFFFF, seed >> 32])


def test_stream_layout_raw_words(device):
    # A range of exactly 2^32 uses one word per element and returns the word itself.
    torch.manual_seed(0)
    words = torch.randint(0, 2**32, (10,), device=device).tolist()
    assert words[:4] == KAT[0][2]
    assert words[4:8] == list(block(0, 1))
    assert words[8:] == list(block(0, 2))[:2]
    # 10 one-word elements took ceil(10 / 4) = 3 blocks; the next call starts at block 3.
    assert torch.default_generator.get_offset() == 3
    assert torch.randint(0, 2**32, (1,), device=device).tolist() == [block(0, 3)[0]]


def _u64_words(seed):
    """The 64-bit lanes of blocks 0 and 1 of the stream of `seed`."""
    words = list(block(seed, 0)) + list(block(seed, 1))
    return [w0 | (w1 << 32) for w0, w1 in zip(words[::2], words[1::2])]


def test_stream_layout_uniform_float32_and_float64(device):
    seed = 0x299F31D0A4093822
    torch.manual_seed(seed)
    got = torch.rand(6, device=device).tolist()
    words = list(block(seed, 0)) + list(block(seed, 1))
    assert got == [(w >> 8) * 2.0**-24 for w in words[:6]]
    torch.manual_seed(seed)
    got = torch.rand(3, dtype=torch.float64, device=device).tolist()
    assert got == [(u >> 11) * 2.0**-53 for u in _u64_words(seed)[:3]]
    assert torch.default_generator.get_offset() == 2


# CPU only: a torch.Generator object is a CPU generator.
def test_stream_layout_of_an_explicit_generator():
    seed = 0x299F31D0A4093822
    g = torch.Generator().manual_seed(seed)
    got = torch.rand(3, dtype=torch.float64, generator=g).tolist()
    assert got == [(u >> 11) * 2.0**-53 for u in _u64_words(seed)[:3]]
    assert g.get_offset() == 2


def test_stream_layout_normal_box_muller(device):
    torch.manual_seed(7)
    z = torch.randn(4, dtype=torch.float64, device=device).tolist()
    w = block(7, 0)
    u1 = ((w[0] | (w[1] << 32)) >> 11) * 2.0**-53
    u2 = ((w[2] | (w[3] << 32)) >> 11) * 2.0**-53
    r = math.sqrt(-2 * math.log(1 - u1))
    assert z[0] == pytest.approx(r * math.cos(2 * math.pi * u2), rel=1e-14)
    assert z[1] == pytest.approx(r * math.sin(2 * math.pi * u2), rel=1e-14)


def test_a_draw_is_a_prefix_of_a_larger_draw(device):
    torch.manual_seed(5)
    big = to_np(torch.randn(100_003, device=device))
    torch.manual_seed(5)
    small = to_np(torch.randn(1001, device=device))
    np.testing.assert_array_equal(small, big[:1001])


_SCRIPT = """
import hashlib, numpy as np, ferrotorch as torch
torch.manual_seed(123)
parts = [torch.rand(300_001).numpy(), torch.randn(200_001, dtype=torch.float64).numpy(),
         torch.randint(-5, 1000, (150_000,)).numpy(), torch.empty(100_000).exponential_().numpy(),
         torch.empty(100_000).bernoulli_(0.3).numpy()]
print(hashlib.sha256(b"".join(p.tobytes() for p in parts)).hexdigest())
"""


# CPU only: the thread count is that of the host's thread pool.
def test_values_do_not_depend_on_thread_count():
    digests = []
    for threads in ("1", "4"):
        # The child imports ferrotorch from wherever this process did (same environment).
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        res = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        digests.append(res.stdout.strip())
    assert digests[0] == digests[1]


# ---------------------------------------------------------------- seeding and generators


def test_manual_seed_reproduces_and_resets(device):
    g = torch.manual_seed(42)
    assert g is torch.default_generator or isinstance(g, torch.Generator)
    a = torch.rand(10, device=device).tolist()
    b = torch.rand(10, device=device).tolist()
    assert a != b
    torch.manual_seed(42)
    assert torch.rand(10, device=device).tolist() == a
    assert torch.rand(10, device=device).tolist() == b
    assert torch.initial_seed() == 42


def test_different_seeds_differ(device):
    torch.manual_seed(1)
    a = torch.rand(8, device=device).tolist()
    torch.manual_seed(2)
    assert torch.rand(8, device=device).tolist() != a


# Generator objects and the saved state are those of the CPU generator: these stay on CPU.


def test_generator_is_independent_of_default():
    torch.manual_seed(3)
    expected = torch.rand(5).tolist()
    torch.manual_seed(3)
    g = torch.Generator()
    g.manual_seed(3)
    from_g = torch.rand(5, generator=g).tolist()
    assert torch.rand(5).tolist() == expected  # g's draw did not advance the default generator
    assert from_g == expected  # same seed, same stream
    assert g.initial_seed() == 3 and g.device == torch.device("cpu")
    assert torch.Generator(device="cpu").initial_seed() == 67280421310721


def test_get_set_state_round_trip():
    torch.manual_seed(9)
    torch.rand(3)
    state = torch.get_rng_state()
    assert state.dtype == torch.uint8 and state.shape == (16,)
    a = torch.randn(7).tolist()
    torch.rand(100)
    torch.set_rng_state(state)
    assert torch.randn(7).tolist() == a
    g = torch.Generator().manual_seed(11)
    torch.rand(2, generator=g)
    s = g.get_state()
    x = torch.rand(4, generator=g).tolist()
    g2 = torch.Generator().set_state(s)
    assert torch.rand(4, generator=g2).tolist() == x
    assert g.set_state(s) is g and torch.rand(4, generator=g).tolist() == x


def test_state_errors():
    with pytest.raises(TypeError, match="ByteTensor"):
        torch.set_rng_state(torch.zeros(16))
    with pytest.raises(RuntimeError, match="16 bytes"):
        torch.set_rng_state(torch.zeros(3, dtype=torch.uint8))
    with pytest.raises(TypeError, match="generator"):
        torch.rand(3, generator=5)


def test_seed_and_negative_seed():
    s = torch.seed()
    assert isinstance(s, int) and torch.initial_seed() == s
    torch.manual_seed(-1)
    assert torch.initial_seed() == 2**64 - 1
    with pytest.raises(RuntimeError, match="Overflow"):
        torch.manual_seed(2**64)


# ---------------------------------------------------------------- uniform


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rand_shape_dtype_bounds(dtype, device):
    torch.manual_seed(0)
    t = torch.rand(40_000, dtype=dtype, device=device)
    assert t.dtype == dtype and t.shape == (40_000,) and t.device.type == device
    v = arr(t)
    assert v.min() >= 0.0 and v.max() < 1.0
    assert abs(v.mean() - 0.5) < 5 * math.sqrt(1 / 12 / v.size)
    assert torch.rand(2, 3, device=device).shape == (2, 3)
    assert torch.rand((2, 3), device=device).shape == (2, 3)
    assert torch.rand(size=(4,), device=device).shape == (4,)
    assert torch.rand(0, device=device).shape == (0,) and torch.rand((), device=device).shape == ()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_uniform_never_reaches_upper_bound_after_rounding(dtype, device):
    # In [1, 2) bfloat16 has 7 fraction bits, so from + u * (to - from) often rounds to 2.0.
    torch.manual_seed(0)
    v = arr(torch.empty(200_000, dtype=dtype, device=device).uniform_(1.0, 2.0))
    assert v.min() >= 1.0 and v.max() < 2.0
    v = arr(torch.empty(100_000, dtype=dtype, device=device).uniform_(-3.0, -1.0))
    assert v.min() >= -3.0 and v.max() < -1.0


def test_uniform_uses_full_float32_mantissa(device):
    torch.manual_seed(1)
    v = to_np(torch.rand(100_000, device=device))
    # 24 random bits: many values are not multiples of 2^-16, and small values exist.
    assert np.mean((v * 2**16) % 1 != 0) > 0.9
    assert v.min() < 1e-4


def test_uniform_chi_square_histogram(device):
    torch.manual_seed(2024)
    v = to_np(torch.rand(200_000, device=device))
    counts, _ = np.histogram(v, bins=20, range=(0, 1))
    expected = v.size / 20
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 45.3  # chi-square, 19 degrees of freedom, p = 0.001


def test_uniform_variance_and_in_place_range(device):
    torch.manual_seed(4)
    v = to_np(torch.empty(100_000, dtype=torch.float64, device=device).uniform_(-2, 3))
    assert v.min() >= -2 and v.max() < 3
    assert abs(v.mean() - 0.5) < 5 * math.sqrt(25 / 12 / v.size)
    assert abs(v.var() - 25 / 12) < 0.05
    t = torch.zeros(3, device=device)
    assert t.uniform_() is t
    with pytest.raises(RuntimeError, match="expects to return a \\[from, to\\) range"):
        torch.zeros(3, device=device).uniform_(2, 1)
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        torch.zeros(3, dtype=torch.int64, device=device).uniform_()
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        torch.rand(3, dtype=torch.int64, device=device)


def test_in_place_on_non_contiguous_view_writes_only_the_view(device):
    base = torch.zeros(4, 6, device=device)
    view = base[:, ::2]
    assert not view.is_contiguous()
    torch.manual_seed(8)
    view.uniform_()
    torch.manual_seed(8)
    expected = to_np(torch.rand(4, 3, device=device))
    got = to_np(base)
    np.testing.assert_array_equal(got[:, ::2], expected)
    assert (got[:, 1::2] == 0).all()


# CPU only: the view's memory is a NumPy array's.
def test_in_place_on_a_numpy_view_reaches_the_array():
    base = np.zeros((4, 6), dtype=np.float32)
    view = torch.from_numpy(base[:, ::2])
    torch.manual_seed(8)
    view.uniform_()
    torch.manual_seed(8)
    expected = torch.rand(4, 3).numpy()
    np.testing.assert_array_equal(base[:, ::2], expected)
    assert (base[:, 1::2] == 0).all()


# ---------------------------------------------------------------- normal


def _normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_randn_statistics_and_ks(dtype, device):
    torch.manual_seed(11)
    v = arr(torch.randn(100_001, dtype=dtype, device=device))
    n = v.size
    assert abs(v.mean()) < 5 / math.sqrt(n)
    assert abs(v.var() - 1) < 5 * math.sqrt(2 / n)
    x = np.sort(v[:20_000])
    cdf = _normal_cdf(x)
    i = np.arange(1, x.size + 1)
    d = max((i / x.size - cdf).max(), (cdf - (i - 1) / x.size).max())
    assert d < 1.95 / math.sqrt(x.size)  # Kolmogorov-Smirnov, p = 0.001


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_randn_half_types(dtype, device):
    torch.manual_seed(12)
    v = arr(torch.randn(50_000, dtype=dtype, device=device))
    assert abs(v.mean()) < 0.03 and abs(v.std() - 1) < 0.03
    assert np.isfinite(v).all()


def test_normal_in_place_and_function_forms(device):
    torch.manual_seed(13)
    v = to_np(torch.empty(100_000, dtype=torch.float64, device=device).normal_(3.0, 0.5))
    assert abs(v.mean() - 3) < 5 * 0.5 / math.sqrt(v.size) and abs(v.std() - 0.5) < 0.01
    t = torch.normal(2.0, 3.0, size=(1000, 10), device=device)
    assert t.shape == (1000, 10) and t.dtype == torch.float32 and t.device.type == device
    assert abs(to_np(t).mean() - 2) < 0.15
    assert torch.normal(2.0, 0.0, size=(3,), device=device).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        torch.empty(3, device=device).normal_(0, -1)
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        torch.randn(2, dtype=torch.int64, device=device)


def test_normal_with_tensors_broadcasts(device):
    mean = torch.tensor([[0.0], [10.0], [100.0]], device=device)
    std = torch.tensor([0.0, 1.0], device=device)
    t = torch.normal(mean, std)
    assert t.shape == (3, 2) and t.device.type == device
    v = to_np(t)
    np.testing.assert_array_equal(v[:, 0], [0.0, 10.0, 100.0])
    assert (np.abs(v[:, 1] - [0.0, 10.0, 100.0]) < 6).all()
    m = torch.normal(torch.full((20_000,), 5.0, dtype=torch.float64, device=device), 2.0)
    assert m.dtype == torch.float64 and m.device.type == device and abs(to_np(m).mean() - 5) < 0.1
    s = torch.normal(1.0, torch.full((4,), 0.0, device=device))
    assert s.tolist() == [1.0] * 4 and s.device.type == device
    assert torch.normal(mean=torch.zeros(2, device=device)).shape == (2,)
    with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
        torch.normal(torch.zeros(2, device=device), torch.tensor([1.0, -1.0], device=device))
    with pytest.raises(RuntimeError, match="must match the size|broadcast|size"):
        torch.normal(torch.zeros(2, device=device), torch.ones(3, device=device))


# ---------------------------------------------------------------- integers


def test_randint_overloads_bounds_and_frequencies(device):
    torch.manual_seed(21)
    t = torch.randint(10, (50_000,), device=device)
    assert t.dtype == torch.int64 and t.device.type == device
    v = to_np(t)
    assert v.min() == 0 and v.max() == 9
    counts = np.bincount(v, minlength=10)
    chi2 = ((counts - 5000) ** 2 / 5000).sum()
    assert chi2 < 27.9  # 9 degrees of freedom, p = 0.001
    v = to_np(torch.randint(-3, 4, (2, 1000), device=device))
    assert v.shape == (2, 1000) and v.min() == -3 and v.max() == 3
    assert to_np(torch.randint(low=2, high=5, size=(100,), device=device)).min() >= 2
    assert torch.randint(3, 5, size=(2,), device=device).shape == (2,)
    assert torch.randint(5, (3,), dtype=torch.int16, device=device).dtype == torch.int16
    assert torch.randint(5, (3,), dtype=torch.float32, device=device).dtype == torch.float32


def test_randint_wide_range(device):
    torch.manual_seed(22)
    lo, hi = -(2**40), 2**41
    v = to_np(torch.randint(lo, hi, (10_000,), device=device))
    assert v.min() >= lo and v.max() < hi
    assert v.min() < lo + (hi - lo) // 10 and v.max() > hi - (hi - lo) // 10


def test_randint_errors(device):
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
        torch.randint(5, 5, (3,), device=device)
    with pytest.raises(RuntimeError, match="out of bounds"):
        torch.randint(0, 300, (3,), dtype=torch.uint8, device=device)
    with pytest.raises(TypeError):
        torch.randint(5, device=device)


def test_random_in_place_variants(device):
    torch.manual_seed(23)
    v = to_np(torch.empty(20_000, dtype=torch.uint8, device=device).random_())
    assert v.min() == 0 and v.max() == 255
    v = to_np(torch.empty(10_000, dtype=torch.int64, device=device).random_(7))
    assert v.min() == 0 and v.max() == 6
    v = to_np(torch.empty(10_000, dtype=torch.int32, device=device).random_(-4, 4))
    assert v.min() == -4 and v.max() == 3
    v = arr(torch.empty(10_000, device=device).random_())
    assert v.min() >= 0 and v.max() <= 2**24 and (v == np.round(v)).all()
    v = arr(torch.empty(1000, dtype=torch.bool, device=device).random_())
    assert set(v.tolist()) == {False, True}
    v = to_np(torch.empty(1000, dtype=torch.int8, device=device).random_(5, None))
    assert v.min() >= 5 and v.max() <= 127


@pytest.mark.parametrize("n", [0, 1, 2, 17, 1000])
def test_randperm_is_a_permutation(n, device):
    torch.manual_seed(31)
    p = torch.randperm(n, device=device)
    assert p.dtype == torch.int64 and p.shape == (n,) and p.device.type == device
    np.testing.assert_array_equal(np.sort(to_np(p)), np.arange(n))


def test_randperm_uniformity_dtype_and_errors(device):
    torch.manual_seed(32)
    firsts = np.array([torch.randperm(5, device=device).tolist()[0] for _ in range(5000)])
    counts = np.bincount(firsts, minlength=5)
    assert (((counts - 1000) ** 2) / 1000).sum() < 18.5  # 4 degrees of freedom, p = 0.001
    assert torch.randperm(10, dtype=torch.int32, device=device).dtype == torch.int32
    torch.manual_seed(33)
    perms = {tuple(torch.randperm(6, device=device).tolist()) for _ in range(20)}
    assert len(perms) > 15  # successive calls advance the stream
    with pytest.raises(RuntimeError, match="n must be non-negative"):
        torch.randperm(-1, device=device)
    with pytest.raises(RuntimeError, match="n is too large"):
        torch.randperm(300, dtype=torch.uint8, device=device)


# ---------------------------------------------------------------- bernoulli, multinomial


def test_bernoulli_frequencies(device):
    torch.manual_seed(41)
    p = torch.tensor([0.0, 0.2, 0.5, 0.9, 1.0], dtype=torch.float64, device=device)
    draws = np.stack([to_np(torch.bernoulli(p)) for _ in range(4000)])
    freq = draws.mean(0)
    assert freq[0] == 0 and freq[4] == 1
    for f, q in zip(freq[1:4], [0.2, 0.5, 0.9]):
        assert abs(f - q) < 5 * math.sqrt(q * (1 - q) / 4000)
    assert torch.bernoulli(p).dtype == torch.float64 and torch.bernoulli(p).device.type == device
    t = torch.full((100_000,), 0.3, device=device).bernoulli()
    assert abs(to_np(t).mean() - 0.3) < 0.01


def test_bernoulli_in_place_and_errors(device):
    torch.manual_seed(42)
    t = torch.zeros(100_000, dtype=torch.int64, device=device)
    assert t.bernoulli_(0.25) is t
    v = to_np(t)
    assert set(np.unique(v)) <= {0, 1} and abs(v.mean() - 0.25) < 0.01
    p = torch.tensor([[0.1], [0.8]], device=device)
    t = torch.zeros(2, 50_000, device=device).bernoulli_(p)
    m = to_np(t).mean(1)
    assert abs(m[0] - 0.1) < 0.01 and abs(m[1] - 0.8) < 0.01
    with pytest.raises(RuntimeError, match="bernoulli_ expects p to be in \\[0, 1\\]"):
        torch.zeros(3, device=device).bernoulli_(1.5)
    with pytest.raises(RuntimeError, match="p_in >= 0 && p_in <= 1"):
        torch.bernoulli(torch.tensor([0.5, 2.0], device=device))


def test_multinomial_with_replacement_matches_weights(device):
    torch.manual_seed(51)
    w = torch.tensor([1.0, 0.0, 3.0, 6.0], device=device)
    s = torch.multinomial(w, 50_000, replacement=True)
    assert s.dtype == torch.int64 and s.shape == (50_000,) and s.device.type == device
    counts = np.bincount(to_np(s), minlength=4)
    assert counts[1] == 0
    expected = np.array([0.1, 0.0, 0.3, 0.6]) * 50_000
    nz = expected > 0
    chi2 = ((counts[nz] - expected[nz]) ** 2 / expected[nz]).sum()
    assert chi2 < 13.8  # 2 degrees of freedom, p = 0.001


def test_multinomial_without_replacement(device):
    torch.manual_seed(52)
    w = torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.0], [5.0, 0.0, 1.0, 1.0, 1.0]], device=device)
    for _ in range(50):
        s = w.multinomial(4)
        assert s.shape == (2, 4)
        for row, weights in zip(s.tolist(), w.tolist()):
            assert len(set(row)) == 4
            assert all(weights[i] > 0 for i in row)
    # First pick frequencies follow the weights.
    two = torch.tensor([1.0, 3.0], device=device)
    firsts = np.array([torch.multinomial(two, 1).tolist()[0] for _ in range(4000)])
    assert abs(firsts.mean() - 0.75) < 5 * math.sqrt(0.75 * 0.25 / 4000)
    assert sorted(torch.multinomial(torch.ones(6, device=device), 6).tolist()) == list(range(6))


def test_multinomial_errors(device):
    def on(values):
        return torch.tensor(values, device=device)

    with pytest.raises(RuntimeError, match="probability tensor contains either `inf`, `nan` or element < 0"):
        torch.multinomial(on([1.0, -1.0]), 1)
    with pytest.raises(RuntimeError, match="probability tensor contains"):
        torch.multinomial(on([1.0, float("nan")]), 1)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        torch.multinomial(torch.zeros(3, device=device), 1)
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size\\(-1\\) samples without replacement"):
        torch.multinomial(torch.ones(3, device=device), 4)
    with pytest.raises(RuntimeError, match="not enough non-negative category"):
        torch.multinomial(on([1.0, 0.0, 0.0]), 2)
    with pytest.raises(RuntimeError, match="prob_dist must be 1 or 2 dim"):
        torch.multinomial(torch.ones(2, 2, 2, device=device), 1)
    with pytest.raises(RuntimeError, match="cannot sample n_sample <= 0 samples"):
        torch.multinomial(torch.ones(2, device=device), 0)
    with pytest.raises(RuntimeError, match="only supports floating-point dtypes"):
        torch.multinomial(on([1, 2]), 1)


# ---------------------------------------------------------------- other distributions and _like


def test_exponential_geometric_cauchy_log_normal(device):
    def empty(n, dtype=torch.float32):
        return torch.empty(n, dtype=dtype, device=device)

    torch.manual_seed(61)
    v = to_np(empty(100_000, torch.float64).exponential_(2.0))
    assert v.min() >= 0 and abs(v.mean() - 0.5) < 5 * 0.5 / math.sqrt(v.size)
    assert abs(to_np(empty(100_000).exponential_()).mean() - 1) < 0.02
    with pytest.raises(RuntimeError, match="exponential_ expects lambda > 0.0"):
        empty(2).exponential_(0)
    g = to_np(empty(100_000, torch.int64).geometric_(0.25))
    assert g.min() >= 1 and abs(g.mean() - 4) < 0.1
    with pytest.raises(RuntimeError, match="geometric_ expects p to be in \\(0, 1\\)"):
        empty(2).geometric_(1.5)
    c = to_np(empty(100_001, torch.float64).cauchy_(3.0, 2.0))
    assert abs(np.median(c) - 3) < 0.05
    assert abs(np.mean(np.abs(c - 3) < 2) - 0.5) < 0.01  # half the mass within one scale
    ln = to_np(empty(100_000, torch.float64).log_normal_(0.5, 0.25))
    assert ln.min() > 0 and abs(np.log(ln).mean() - 0.5) < 0.01 and abs(np.log(ln).std() - 0.25) < 0.01


def test_like_factories(device):
    x = torch.zeros(3, 4, dtype=torch.float64, device=device)
    r = torch.rand_like(x)
    assert r.shape == (3, 4) and r.dtype == torch.float64 and r.device.type == device
    assert torch.randn_like(x, dtype=torch.float32).dtype == torch.float32
    i = torch.randint_like(x, 5)
    assert i.dtype == torch.float64 and i.device.type == device
    assert arr(i).max() <= 4 and arr(i).min() >= 0
    i = torch.randint_like(torch.zeros(1000, dtype=torch.int32, device=device), 3, 6)
    assert i.dtype == torch.int32 and arr(i).min() == 3 and arr(i).max() == 5


# CPU only: a torch.Generator object is a CPU generator.
def test_like_factories_with_a_generator():
    x = torch.zeros(3, 4, dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    a = torch.rand_like(x, generator=g).tolist()
    assert torch.rand_like(x, generator=torch.Generator().manual_seed(1)).tolist() == a


def test_out_keyword(device):
    out = torch.empty(3, dtype=torch.float64, device=device)
    r = torch.rand(3, out=out)
    assert r is out and out.dtype == torch.float64 and out.device.type == device


# CPU only: a torch.Generator object is a CPU generator.
def test_generator_keyword_everywhere():
    g = torch.Generator().manual_seed(5)
    first = [torch.randn(3, generator=g).tolist(), torch.randint(9, (3,), generator=g).tolist(),
             torch.randperm(5, generator=g).tolist(), torch.normal(0.0, 1.0, (2,), generator=g).tolist(),
             torch.multinomial(torch.ones(4), 2, generator=g).tolist(),
             torch.bernoulli(torch.full((4,), 0.5), generator=g).tolist(),
             torch.empty(3).uniform_(generator=g).tolist(), torch.empty(3).normal_(generator=g).tolist(),
             torch.empty(3, dtype=torch.int64).random_(generator=g).tolist(),
             torch.empty(3).exponential_(generator=g).tolist()]
    g.manual_seed(5)
    second = [torch.randn(3, generator=g).tolist(), torch.randint(9, (3,), generator=g).tolist(),
              torch.randperm(5, generator=g).tolist(), torch.normal(0.0, 1.0, (2,), generator=g).tolist(),
              torch.multinomial(torch.ones(4), 2, generator=g).tolist(),
              torch.bernoulli(torch.full((4,), 0.5), generator=g).tolist(),
              torch.empty(3).uniform_(generator=g).tolist(), torch.empty(3).normal_(generator=g).tolist(),
              torch.empty(3, dtype=torch.int64).random_(generator=g).tolist(),
              torch.empty(3).exponential_(generator=g).tolist()]
    assert first == second
