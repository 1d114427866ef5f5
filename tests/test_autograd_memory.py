"""Memory: training loops do not grow the process (graphs and saved tensors are freed after
backward) nor, on CUDA, the memory held by tensors on the device; and custom Functions leave no
reference cycle through the Rust-owned graph (which Python's cycle collector cannot see)."""

import gc
import os
import weakref

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.autograd import Function


PAGE = os.sysconf("SC_PAGE_SIZE")
# Each CUDA op costs a few microseconds of launch, so the GPU runs fewer steps. There a leaked
# device tensor shows exactly in torch.cuda.memory_allocated(), however few the steps; host-side
# leaks (graph nodes, ctx objects) are the same code on both devices and the CPU run's 10,000
# steps catch them.
ITERATIONS = {"cpu": 10_000, "cuda": 2_000}
WARMUP = 500
# RSS growth allowed after warm-up. A leak of one 16x8 float64 tensor (1 KiB) or of one graph
# node per iteration would add 10 MB or more over 10,000 steps; allocator noise stays well under
# this.
BOUND = 3 * 1024 * 1024

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                                reason="needs /proc/self/statm")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def device_memory(device):
    """Bytes held by live tensors on `device` (host memory is measured through RSS instead)."""
    return torch.cuda.memory_allocated() if device == "cuda" else 0


def assert_does_not_grow(step, device):
    """Runs `step` ITERATIONS[device] times; after warm-up neither the process's RSS nor the
    device's allocated memory may grow."""
    n = ITERATIONS[device]
    for _ in range(WARMUP):
        step()
    gc.collect()
    before, on_device = rss(), device_memory(device)
    for _ in range(n - WARMUP):
        step()
    gc.collect()
    growth = rss() - before
    assert growth < BOUND, f"RSS grew by {growth / 1e6:.1f} MB over {n} steps"
    device_growth = device_memory(device) - on_device
    assert device_growth == 0, f"{device} memory grew by {device_growth} bytes over {n} steps"


def test_mlp_training_loop_does_not_grow(device):
    rng = np.random.default_rng(0)

    def param(arr):
        return torch.tensor(arr, dtype=torch.float64, device=device, requires_grad=True)

    x = torch.tensor(rng.standard_normal((16, 8)), dtype=torch.float64, device=device)
    y = torch.tensor(rng.standard_normal((16, 1)), dtype=torch.float64, device=device)
    w1 = param(rng.standard_normal((8, 16)) * 0.3)
    b1 = param(np.zeros(16))
    w2 = param(rng.standard_normal((16, 1)) * 0.3)
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

    assert_does_not_grow(step, device)
    assert losses[-1] < losses[0]  # it trained
    assert w1.device.type == device


def test_elementwise_training_loop_does_not_grow(device):
    # Only elementwise ops, and gradient seeds instead of a reduction.
    x = torch.linspace(-1, 1, 16, dtype=torch.float64, device=device)
    target = x * 0.5 + 0.25
    w = torch.tensor([0.1], dtype=torch.float64, device=device, requires_grad=True)
    b = torch.tensor([0.0], dtype=torch.float64, device=device, requires_grad=True)
    seed = torch.ones(16, dtype=torch.float64, device=device)
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

    assert_does_not_grow(step, device)
    assert abs(last[0] - 0.5) < 1e-6 and abs(last[1] - 0.25) < 1e-6


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


def test_function_saving_its_output_loop_does_not_grow(device):
    x = torch.linspace(0, 1, 64, dtype=torch.float64, device=device)
    w = torch.tensor([0.3], dtype=torch.float64, device=device, requires_grad=True)
    seed = torch.ones(64, dtype=torch.float64, device=device)

    def step():
        y = SavesOutput.apply(x * w)
        y.backward(seed)
        with torch.no_grad():
            w.grad = None

    assert_does_not_grow(step, device)


def test_function_graph_without_backward_does_not_grow(device):
    # Graphs built and dropped without backward: the saved output must not keep them alive.
    x = torch.linspace(0, 1, 64, dtype=torch.float64, device=device, requires_grad=True)

    def step():
        SavesOutput.apply(x)

    assert_does_not_grow(step, device)


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
        first.backward(torch.ones(tuple(first.shape), dtype=first.dtype, device=first.device))
    del out
    gc.collect()
    return refs[0]


@pytest.mark.parametrize("backward", [False, True])
def test_no_cycle_through_a_function_node(backward, device):
    x = torch.tensor([0.5, 1.5], dtype=torch.float64, device=device, requires_grad=True)
    w = torch.tensor([2.0, 3.0], dtype=torch.float64, device=device, requires_grad=True)
    assert _ctx_ref(SavesOutput, lambda: (x,), backward)() is None
    assert _ctx_ref(SavesInputAndOutput, lambda: (x, w), backward)() is None
    assert _ctx_ref(Dirty, lambda: (x * 1,), backward)() is None


def test_ctx_lives_as_long_as_the_graph(device):
    x = torch.tensor([0.5], dtype=torch.float64, device=device, requires_grad=True)
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
