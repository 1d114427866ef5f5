"""Memory: training loops do not grow the process (graphs and saved tensors are freed after
backward), and custom Functions leave no reference cycle through the Rust-owned graph (which
Python's cycle collector cannot see)."""

import gc
import os
import weakref

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.autograd import Function


PAGE = os.sysconf("SC_PAGE_SIZE")
ITERATIONS = 10_000
WARMUP = 500
# Growth allowed after warm-up. A leak of one 16x8 float64 tensor (1 KiB) or of one graph node
# per iteration would add 10 MB or more over the loop; allocator noise stays well under this.
BOUND = 3 * 1024 * 1024

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                                reason="needs /proc/self/statm")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def run_and_measure(step):
    for _ in range(WARMUP):
        step()
    gc.collect()
    before = rss()
    for _ in range(ITERATIONS - WARMUP):
        step()
    gc.collect()
    return rss() - before


def test_mlp_training_loop_does_not_grow():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((16, 8)), dtype=torch.float64)
    y = torch.tensor(rng.standard_normal((16, 1)), dtype=torch.float64)
    w1 = torch.tensor(rng.standard_normal((8, 16)) * 0.3, dtype=torch.float64, requires_grad=True)
    b1 = torch.zeros(16, dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor(rng.standard_normal((16, 1)) * 0.3, dtype=torch.float64, requires_grad=True)
    params = (w1, b1, w2)
    losses = []

    def step():
        h = torch.tanh(x.matmul(w1) + b1)
        loss = ((h.matmul(w2) - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 1e-3 * p.grad
                p.grad = None
        losses.append(loss.item())

    growth = run_and_measure(step)
    assert losses[-1] < losses[0]  # it trained
    assert growth < BOUND, f"RSS grew by {growth / 1e6:.1f} MB over {ITERATIONS} steps"


def test_elementwise_training_loop_does_not_grow():
    # Only elementwise ops, and gradient seeds instead of a reduction.
    x = torch.linspace(-1, 1, 16, dtype=torch.float64)
    target = x * 0.5 + 0.25
    w = torch.tensor([0.1], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    seed = torch.ones(16, dtype=torch.float64)
    last = []

    def step():
        r = x * w + b - target
        (r * r).backward(seed)
        with torch.no_grad():
            w.sub_(w.grad * 0.01)
            b.sub_(b.grad * 0.01)
            w.grad.zero_()
            b.grad.zero_()
        last[:] = [w.item(), b.item()]

    growth = run_and_measure(step)
    assert abs(last[0] - 0.5) < 1e-6 and abs(last[1] - 0.25) < 1e-6
    assert growth < BOUND, f"RSS grew by {growth / 1e6:.1f} MB over {ITERATIONS} steps"


class SavesOutput(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class SavesInputAndOutput(Function):
    @staticmethod
    def forward(ctx, x, w):
        y = x * w
        ctx.save_for_backward(x, w, y)
        return y, (y * 0).long()

    @staticmethod
    def backward(ctx, g, _):
        x, w, y = ctx.saved_tensors
        return g * w, g * x


class Dirty(Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_function_saving_its_output_loop_does_not_grow():
    x = torch.linspace(0, 1, 64, dtype=torch.float64)
    w = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    seed = torch.ones(64, dtype=torch.float64)

    def step():
        y = SavesOutput.apply(x * w)
        y.backward(seed)
        with torch.no_grad():
            w.grad = None

    growth = run_and_measure(step)
    assert growth < BOUND, f"RSS grew by {growth / 1e6:.1f} MB over {ITERATIONS} steps"


def test_function_graph_without_backward_does_not_grow():
    # Graphs built and dropped without backward: the saved output must not keep them alive.
    x = torch.linspace(0, 1, 64, dtype=torch.float64, requires_grad=True)

    def step():
        SavesOutput.apply(x)

    growth = run_and_measure(step)
    assert growth < BOUND, f"RSS grew by {growth / 1e6:.1f} MB over {ITERATIONS} steps"


def _ctx_ref(fn, make_args, backward=False):
    """Runs fn on fresh arguments, captures its ctx by weak reference, drops everything (the
    arguments too: an input modified in place carries the node), returns the weakref."""
    refs = []

    class Spy(fn):
        @staticmethod
        def forward(ctx, *a):
            refs.append(weakref.ref(ctx))
            return fn.forward(ctx, *a)

    out = Spy.apply(*make_args())
    if backward:
        first = out[0] if isinstance(out, tuple) else out
        first.backward(torch.ones(tuple(first.shape), dtype=first.dtype))
    del out
    gc.collect()
    return refs[0]


@pytest.mark.parametrize("backward", [False, True])
def test_no_cycle_through_a_function_node(backward):
    x = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
    assert _ctx_ref(SavesOutput, lambda: (x,), backward)() is None
    assert _ctx_ref(SavesInputAndOutput, lambda: (x, w), backward)() is None
    assert _ctx_ref(Dirty, lambda: (x * 1,), backward)() is None


def test_ctx_lives_as_long_as_the_graph():
    x = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    refs = []

    class Spy(SavesOutput):
        @staticmethod
        def forward(ctx, a):
            refs.append(weakref.ref(ctx))
            return SavesOutput.forward(ctx, a)

    y = Spy.apply(x)
    z = y * 2  # z's graph holds Spy's node
    del y
    gc.collect()
    assert refs[0]() is not None
    z.backward()
    assert np.isclose(x.grad.item(), 2 * np.exp(0.5))
    del z
    gc.collect()
    assert refs[0]() is None
