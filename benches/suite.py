"""The performance suite: ferrotorch against torch, the same workloads in the same run.

Every workload is written once against the torch API; ``lib`` is ``ferrotorch`` or ``torch``, so
one function drives both libraries. The libraries alternate within each repetition (drift in the
machine's speed hits both alike), each figure is the median over repetitions of the mean time
per call, and the table gives speedup = torch's time / ferrotorch's time, so above 1.0 means
ferrotorch is faster, next to the workload's goal. Before each timed block the runner makes
untimed calls for a while: the other library's thread pool (OpenMP, rayon) spin-waits after its
last job and would take a core from this one on a 2-core machine, and a pool that fell asleep
runs its first calls slowly. Time only on an otherwise idle machine: a compile on the same cores
slows torch's OpenMP barriers far more than ferrotorch.

    python benches/suite.py                          # CPU workloads (1-6)
    python benches/suite.py --device cuda            # GPU workloads (7)
    python benches/suite.py --only mlp --json out.json

Without torch installed, ferrotorch's own times are printed and no ratios.
"""

import argparse
import json
import math
import platform
import statistics
import sys
import time

import numpy as np

import ferrotorch

try:  # torch is optional: compared where it is installed.
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

# Untimed calls before each timed block: longer than OpenMP's and rayon's spin-wait.
_WARM_S = 0.03


class Workload:
    """One row of the table.

    ``setup(lib, device)`` builds the inputs and returns a zero-argument callable doing one call's
    work; ``work`` is what one call does in ``unit`` (flops, bytes, tokens, steps) for the
    throughput column. ``goal`` is the least speedup (torch time / ferrotorch time) the workload
    aims at.
    """

    def __init__(self, name, devices, goal, setup, work=None, unit=None):
        self.name, self.devices, self.goal, self.setup = name, devices, goal, setup
        self.work, self.unit = work, unit


def _randn(lib, shape, device, seed=0, dtype="float32", requires_grad=False):
    arr = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
    t = lib.from_numpy(arr).to(device=device, dtype=getattr(lib, dtype))
    return t.requires_grad_() if requires_grad else t


# ---- 1. per-op overhead --------------------------------------------------------------------


def add_one_element(lib, device):
    a, b = _randn(lib, (1,), device, 1), _randn(lib, (1,), device, 2)
    return lambda: a + b


def three_op_fwd_bwd(lib, device):
    # Recording the graph, running backward and accumulating into .grad, which is reset to None
    # each call as zero_grad() does: the cost of the autograd machinery itself.
    x, w, b = (_randn(lib, (16,), device, s, requires_grad=True) for s in (1, 2, 3))

    def step():
        x.grad = w.grad = b.grad = None
        (x * w + b).sum().backward()

    return step


# ---- 2. the seed example --------------------------------------------------------------------


def seed_example(lib, device):
    """PyTorch's beginner example: a 2-4-1 MLP, MSE loss, Adam, 100 steps from a fresh model."""
    nn = lib.nn
    inputs = lib.tensor([[2.0, 3.0], [1.0, 4.0]], device=device)
    targets = lib.tensor([[1.0], [0.0]], device=device)

    def run():
        lib.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)).to(device)
        criterion = nn.MSELoss()
        optimizer = lib.optim.Adam(model.parameters(), lr=0.01)
        for _ in range(100):
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            loss.backward()
            optimizer.step()
        return loss.item()

    return run


# ---- 3. kernels -----------------------------------------------------------------------------


def matmul(n, dtype="float32"):
    def setup(lib, device):
        a, b = _randn(lib, (n, n), device, 1, dtype), _randn(lib, (n, n), device, 2, dtype)
        return lambda: a @ b

    return setup


def elementwise(n, op):
    def setup(lib, device):
        a, b = _randn(lib, (n,), device, 1), _randn(lib, (n,), device, 2)
        return {"add": lambda: a + b, "exp": lambda: a.exp(), "sum": lambda: a.sum()}[op]

    return setup


def rowwise(rows, cols, op, backward):
    def setup(lib, device):
        x = _randn(lib, (rows, cols), device, 1, requires_grad=backward)
        w = lib.ones(cols, device=device, requires_grad=backward)
        b = lib.zeros(cols, device=device, requires_grad=backward)
        F = lib.nn.functional
        fwd = {"softmax": lambda: F.softmax(x, -1),
               "layer_norm": lambda: F.layer_norm(x, (cols,), w, b)}[op]
        if not backward:
            return fwd
        grad = _randn(lib, (rows, cols), device, 2)

        def step():
            x.grad = w.grad = b.grad = None
            fwd().backward(grad)

        return step

    return setup


# ---- 4-6. training steps --------------------------------------------------------------------


def _train_step(lib, model, optimizer, loss_fn, x, y, autocast_dtype=None):
    def step():
        optimizer.zero_grad()
        if autocast_dtype is None:
            loss = loss_fn(model(x), y)
        else:
            with lib.autocast(device_type="cuda", dtype=autocast_dtype):
                loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    return step


def mlp(lib, device):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                          nn.Linear(256, 10)).to(device)
    x = _randn(lib, (128, 784), device, 1)
    y = lib.from_numpy(np.random.default_rng(2).integers(0, 10, 128)).to(device)
    return _train_step(lib, model, lib.optim.Adam(model.parameters(), lr=1e-3),
                       nn.CrossEntropyLoss(), x, y)


def cnn(lib, device):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10)).to(device)
    x = _randn(lib, (64, 1, 28, 28), device, 1)
    y = lib.from_numpy(np.random.default_rng(2).integers(0, 10, 64)).to(device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _train_step(lib, model, opt, nn.CrossEntropyLoss(), x, y)


def transformer_layer(lib, device):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512,
                                       batch_first=True).to(device)
    x = _randn(lib, (16, 64, 128), device, 1)
    y = _randn(lib, (16, 64, 128), device, 2)
    return _train_step(lib, model, lib.optim.AdamW(model.parameters(), lr=1e-3),
                       nn.MSELoss(), x, y)


# ---- 7. GPT-2 small -------------------------------------------------------------------------

GPT2 = {"layers": 12, "d": 768, "heads": 12, "seq": 1024, "batch": 8, "vocab": 50304}


def gpt2_model(lib, layers, d, heads, seq, vocab):
    """GPT-2 (pre-norm blocks, causal attention, tanh GELU, tied embedding), torch API only."""
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).contiguous().view(b, t, d))
            return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(seq, d)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab, bias=False)
            self.head.weight = self.wte.weight

        def forward(self, idx):
            pos = lib.arange(idx.shape[1], device=idx.device)
            x = self.wte(idx) + self.wpe(pos)
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return GPT()


def gpt2_step(lib, device):
    c = GPT2
    lib.manual_seed(0)
    model = gpt2_model(lib, c["layers"], c["d"], c["heads"], c["seq"], c["vocab"]).to(device)
    rng = np.random.default_rng(1)
    idx = lib.from_numpy(rng.integers(0, c["vocab"], (c["batch"], c["seq"]))).to(device)
    tgt = lib.from_numpy(rng.integers(0, c["vocab"], (c["batch"], c["seq"]))).to(device)
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)

    def loss_fn(logits, y):
        return lib.nn.functional.cross_entropy(logits.view(-1, c["vocab"]), y.view(-1))

    return _train_step(lib, model, opt, loss_fn, idx, tgt, autocast_dtype=lib.bfloat16)


def workloads():
    big, n28 = 1 << 24, 1 << 28
    cpu, gpu, both = ("cpu",), ("cuda",), ("cpu", "cuda")
    rows = [
        Workload("add 1 element (per-op overhead)", both, 2.0, add_one_element),
        Workload("(x*w+b).sum() fwd+bwd, 16 elem", cpu, 2.0, three_op_fwd_bwd),
        Workload("seed example, 100 Adam steps", cpu, 2.0, seed_example),
    ]
    rows += [Workload(f"matmul {n} f32", cpu, 0.95, matmul(n), 2 * n**3, "GFLOP/s")
             for n in (256, 1024, 2048)]
    rows += [Workload(f"{op} 16M f32", cpu, 0.95, elementwise(big, op), big * 4 * passes, "GB/s")
             for op, passes in (("add", 3), ("exp", 2), ("sum", 1))]
    rows += [
        Workload("MLP 784-512-256-10 b128 Adam", both, 1.0, mlp, 1, "steps/s"),
        Workload("CNN 2x(conv3x3,relu,pool) b64 SGD", cpu, 1.0, cnn, 1, "steps/s"),
        Workload("TransformerEncoderLayer d128 AdamW", cpu, 1.0, transformer_layer, 1, "steps/s"),
    ]
    rows += [Workload(f"matmul 8192 {dt}", gpu, 0.9, matmul(8192, dt), 2 * 8192**3, "GFLOP/s")
             for dt in ("bfloat16", "float32")]
    rows += [Workload(f"{op} 2^28 f32", gpu, 0.9, elementwise(n28, op), n28 * 4 * passes, "GB/s")
             for op, passes in (("add", 3), ("exp", 2), ("sum", 1))]
    rows += [Workload(f"{op} 32768x4096 {'fwd+bwd' if bwd else 'fwd'}", gpu, 0.9,
                      rowwise(32768, 4096, op, bwd))
             for op in ("softmax", "layer_norm") for bwd in (False, True)]
    tokens = GPT2["batch"] * GPT2["seq"]
    rows.append(Workload("GPT-2 small step, bf16 autocast, AdamW", gpu, 0.9, gpt2_step,
                         tokens, "tokens/s"))
    return rows


def _goal_for(w, device):
    # On the GPU every workload aims at 0.9x torch (the per-op overhead too); on the CPU each
    # has its own goal.
    return 0.9 if device == "cuda" else w.goal


def _calibrate(fn, sync, target_s):
    """Calls per repetition so one repetition takes about `target_s`."""
    fn()
    sync()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        elapsed = time.perf_counter() - t0
        if elapsed >= target_s / 4 or n >= 1 << 20:
            return max(1, round(n * target_s / max(elapsed, 1e-9)))
        n *= 4


def _warm(fn, sync):
    # Synchronised call by call: on a GPU the loop would otherwise queue far more work than
    # _WARM_S while the clock only counts launches.
    end = time.perf_counter() + _WARM_S
    while time.perf_counter() < end:
        fn()
        sync()


def measure(w, device, libs, reps, target_s):
    """Median seconds per call for each library, alternating them within each repetition."""
    fns, syncs = {}, {}
    for name, lib in libs:
        fns[name] = w.setup(lib, device)
        syncs[name] = lib.cuda.synchronize if device == "cuda" else (lambda: None)
    iters = {name: _calibrate(fns[name], syncs[name], target_s) for name in fns}
    samples = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            n, sync = iters[name], syncs[name]
            _warm(fn, sync)
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            sync()
            samples[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(s) for name, s in samples.items()}


def _fmt_time(s):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.2f} {unit}"
    return f"{s / 1e-9:.0f} ns"


def _fmt_rate(work, s, unit):
    if work is None:
        return ""
    rate = work / s
    if unit in ("GFLOP/s", "GB/s"):
        rate /= 1e9
    return f"{rate:,.1f} {unit}"


def run(device, quick=False, only=None):
    libs = [("ferrotorch", ferrotorch)] + ([("torch", torch)] if torch is not None else [])
    reps, target = (3, 0.1) if quick else (7, 0.3)
    head = f"{'workload':42s} {'ferrotorch':>12s} {'torch':>12s} {'ft throughput':>20s} " \
           f"{'speedup':>8s} {'goal':>5s}"
    print(head)
    rows = []
    for w in workloads():
        if device not in w.devices or (only and only.lower() not in w.name.lower()):
            continue
        try:
            secs = measure(w, device, libs, reps, target)
        except Exception as e:  # noqa: BLE001 (report every workload, even after a failure)
            print(f"{w.name:42s} failed: {type(e).__name__}: {e}", flush=True)
            rows.append({"workload": w.name, "error": f"{type(e).__name__}: {e}"})
            continue
        goal = _goal_for(w, device)
        speedup = secs["torch"] / secs["ferrotorch"] if "torch" in secs else None
        row = {"workload": w.name, "seconds": secs, "speedup": speedup, "goal": goal}
        if w.work is not None:
            row["throughput"] = {k: w.work / s for k, s in secs.items()}
            row["unit"] = w.unit
        rows.append(row)
        mark = "" if speedup is None or speedup >= goal else "  <- below goal"
        print(f"{w.name:42s} {_fmt_time(secs['ferrotorch']):>12s} "
              f"{_fmt_time(secs['torch']) if 'torch' in secs else '-':>12s} "
              f"{_fmt_rate(w.work, secs['ferrotorch'], w.unit):>20s} "
              f"{speedup if speedup is not None else math.nan:8.2f} {goal:5.2f}{mark}", flush=True)
        if device == "cuda":
            for _, lib in libs:
                lib.cuda.empty_cache()
    return rows


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe(device):
    parts = [f"python {sys.version.split()[0]}", f"numpy {np.__version__}",
             f"ferrotorch {ferrotorch.__version__}",
             f"torch {torch.__version__}" if torch is not None else "torch not installed",
             f"threads ferrotorch {ferrotorch.get_num_threads()}"]
    if torch is not None:
        parts.append(f"torch {torch.get_num_threads()}")
    if device == "cuda":
        parts.insert(0, ferrotorch.cuda.get_device_name())
    else:
        parts.insert(0, _cpu_name())
    return " | ".join(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--quick", action="store_true", help="fewer, shorter repetitions")
    ap.add_argument("--only", help="run the workloads whose name contains this text")
    ap.add_argument("--json", help="write the results to this JSON file")
    args = ap.parse_args(argv)
    machine = describe(args.device)
    print(machine)
    print("time per call (median of repetitions); speedup = torch time / ferrotorch time\n")
    rows = run(args.device, args.quick, args.only)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": args.device, "machine": machine, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
