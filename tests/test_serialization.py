"""ferrotorch.save / ferrotorch.load: round trips, exact resume, atomic writes, zero-copy loads,
hostile files, and interop with the safetensors package."""

import collections
import io
import json
import math
import os
import signal
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from ferrotorch import nn

# Where the ferrotorch under test lives (the source tree or site-packages), for subprocesses.
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(torch.__file__)))


def assert_same_tensor(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
    np.testing.assert_array_equal(a.float().numpy(), b.float().numpy())


def test_nested_structure_round_trips_with_types(tmp_path):
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    obj = {
        "tensor": t,
        "again": t,  # one object saved twice loads as one object
        "ints": {0: torch.tensor([1, 2], dtype=torch.int64), 1: None},
        "list": [1, 2.5, "s", True, None, float("nan"), float("inf"), -float("inf")],
        "tuple": (1, (2, 3)),
        "size": torch.Size([4, 5]),
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "bytes": b"\x00\xffab",
        "dtype": torch.bfloat16,
        "device": torch.device("cpu"),
        "big": 2**70,
        "all_dtypes": [torch.ones(3, dtype=d) for d in (
            torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
            torch.float16, torch.bfloat16, torch.float32, torch.float64)],
        "scalar": torch.tensor(3.5, dtype=torch.float64),
        "empty": torch.zeros(0, 4),
        "strided": torch.arange(12.0).reshape(3, 4).t(),
    }
    path = tmp_path / "ckpt.pt"
    torch.save(obj, path)
    got = torch.load(path)
    assert set(got) == set(obj)
    assert_same_tensor(got["tensor"], t)
    assert got["again"] is got["tensor"]
    assert list(got["ints"]) == [0, 1] and got["ints"][1] is None
    assert_same_tensor(got["ints"][0], obj["ints"][0])
    assert got["list"][:5] == [1, 2.5, "s", True, None]
    assert math.isnan(got["list"][5]) and got["list"][6:] == [math.inf, -math.inf]
    assert got["tuple"] == (1, (2, 3)) and isinstance(got["tuple"][1], tuple)
    assert isinstance(got["size"], torch.Size) and got["size"] == (4, 5)
    assert isinstance(got["ordered"], collections.OrderedDict)
    assert list(got["ordered"].items()) == [("b", 1), ("a", 2)]
    assert got["bytes"] == b"\x00\xffab"
    assert got["dtype"] is torch.bfloat16 and got["device"] == torch.device("cpu")
    assert got["big"] == 2**70
    for a, b in zip(got["all_dtypes"], obj["all_dtypes"]):
        assert_same_tensor(a, b)
    assert_same_tensor(got["scalar"], obj["scalar"])
    assert got["empty"].shape == (0, 4)
    assert_same_tensor(got["strided"], obj["strided"].contiguous())


def test_parameters_and_requires_grad_are_kept(tmp_path):
    p = nn.Parameter(torch.randn(3))
    leaf = torch.randn(2, requires_grad=True)
    torch.save({"p": p, "leaf": leaf, "plain": torch.ones(1)}, tmp_path / "f")
    got = torch.load(tmp_path / "f")
    assert isinstance(got["p"], nn.Parameter) and got["p"].requires_grad
    assert got["leaf"].requires_grad and not isinstance(got["leaf"], nn.Parameter)
    assert not got["plain"].requires_grad
    assert_same_tensor(got["p"].detach(), p.detach())


def test_a_state_dict_is_a_plain_safetensors_file(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    torch.save(model.state_dict(), tmp_path / "m.safetensors")
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(torch.load(tmp_path / "m.safetensors"))
    for (ka, a), (kb, b) in zip(model.state_dict().items(), other.state_dict().items()):
        assert ka == kb
        assert_same_tensor(a, b)
    # The tensors are stored under the state dict's own keys.
    with open(tmp_path / "m.safetensors", "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    assert set(header) - {"__metadata__"} == set(model.state_dict())


def train_steps(model, opt, sched, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()


@pytest.mark.parametrize("optimizer", ["Adam", "SGD", "RMSprop", "AdamW"])
def test_resume_from_checkpoint_is_exact(tmp_path, optimizer):
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
        kwargs = {"momentum": 0.9} if optimizer in ("SGD", "RMSprop") else {}
        opt = getattr(torch.optim, optimizer)(model.parameters(), lr=0.01, **kwargs)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return model, opt, sched

    x = torch.randn(16, 5)
    y = torch.randint(0, 3, (16,))
    model, opt, sched = make()
    train_steps(model, opt, sched, x, y, 3)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                "sched": sched.state_dict(), "epoch": 3}, tmp_path / "c.pt")
    train_steps(model, opt, sched, x, y, 4)

    model2, opt2, sched2 = make()
    ckpt = torch.load(tmp_path / "c.pt")
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    assert ckpt["epoch"] == 3
    train_steps(model2, opt2, sched2, x, y, 4)
    for a, b in zip(model.parameters(), model2.parameters()):
        assert_same_tensor(a.detach(), b.detach())


def test_saved_files_get_normal_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        torch.save({"a": torch.ones(1)}, tmp_path / "new.pt")
        assert (tmp_path / "new.pt").stat().st_mode & 0o777 == 0o644
        (tmp_path / "kept.pt").write_bytes(b"")
        os.chmod(tmp_path / "kept.pt", 0o640)
        torch.save({"a": torch.ones(1)}, tmp_path / "kept.pt")
        assert (tmp_path / "kept.pt").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    torch.save({"w": torch.arange(4)}, buf)
    buf.seek(0)
    assert torch.load(buf)["w"].tolist() == [0, 1, 2, 3]
    with open(tmp_path / "f", "wb") as f:
        torch.save([torch.ones(2)], f)
    with open(tmp_path / "f", "rb") as f:
        assert torch.load(f)[0].tolist() == [1.0, 1.0]
    assert torch.load(tmp_path / "f", mmap=False)[0].tolist() == [1.0, 1.0]


def test_load_maps_the_file_and_writes_never_reach_it(tmp_path):
    path = tmp_path / "big.safetensors"
    torch.save({"w": torch.ones(1 << 16)}, path)
    before = path.read_bytes()
    w = torch.load(path)["w"]
    address = w.data_ptr()
    with open("/proc/self/maps") as maps:
        mapped = [line for line in maps if line.rstrip().endswith(str(path))]
    assert any(int(r.split("-")[0], 16) <= address < int(r.split()[0].split("-")[1], 16)
               for r in mapped), "the tensor does not point into a mapping of the file"
    w.mul_(3)
    assert w[0].item() == 3.0
    assert path.read_bytes() == before
    # Saving over a file that is mapped replaces it; the loaded tensor keeps its values.
    torch.save({"w": torch.zeros(2)}, path)
    assert w[5].item() == 3.0
    assert torch.load(path)["w"].tolist() == [0.0, 0.0]


def test_map_location(tmp_path):
    torch.save({"a": torch.ones(2)}, tmp_path / "f")
    for loc in ("cpu", torch.device("cpu"), {"cpu": "cpu"}):
        assert torch.load(tmp_path / "f", map_location=loc)["a"].device == torch.device("cpu")
    seen = []
    got = torch.load(tmp_path / "f", map_location=lambda t, loc: seen.append(loc) or t * 2)
    assert seen == ["cpu"] and got["a"].tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="map_location"):
        torch.load(tmp_path / "f", map_location=3)


def write_checkpoint(path, structure, tensors):
    meta = {"ferrotorch": json.dumps({"version": 1, "object": structure})}
    torch._C._safetensors_save_file(str(path), list(tensors.items()), meta)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_checkpoint_on_a_cpu_machine_says_to_map_it(tmp_path):
    write_checkpoint(tmp_path / "f", {"@": "tensor", "name": "t", "device": "cuda:0"},
                     {"t": torch.ones(2)})
    with pytest.raises(RuntimeError, match="map_location"):
        torch.load(tmp_path / "f")
    got = torch.load(tmp_path / "f", map_location="cpu")
    assert got.tolist() == [1.0, 1.0]
    got = torch.load(tmp_path / "f", map_location={"cuda:0": "cpu"})
    assert got.device == torch.device("cpu")


def test_unsupported_objects_raise_and_leave_the_old_file(tmp_path):
    path = tmp_path / "c.pt"
    torch.save({"a": torch.ones(1)}, path)
    for bad in ({"s": {1, 2}}, [object()], {"f": lambda: 0}):
        with pytest.raises(TypeError, match="cannot save an object of type"):
            torch.save(bad, path)
    assert torch.load(path)["a"].tolist() == [1.0]
    assert os.listdir(tmp_path) == ["c.pt"]


def test_a_killed_save_never_destroys_the_previous_checkpoint(tmp_path):
    """A process saving 8 MiB checkpoints over the same path in a loop is killed at random
    moments; every time, the file at the path is a complete checkpoint."""
    path = tmp_path / "c.pt"
    torch.save({"step": -1, "w": torch.full((1 << 21,), -1.0)}, path)
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {PYTHON_DIR!r})
        import ferrotorch as torch
        print("ready", flush=True)
        for step in range(10**6):
            torch.save({{"step": step, "w": torch.full((1 << 21,), float(step))}}, {str(path)!r})
    """)
    rng = np.random.default_rng(0)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        try:
            proc.wait(timeout=float(rng.uniform(0.05, 0.6)))
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ckpt = torch.load(path)
        w = ckpt["w"]
        assert w.shape == (1 << 21,)
        assert w.min().item() == w.max().item() == float(ckpt["step"])


def test_pytorch_pickle_files_are_refused_with_advice(tmp_path):
    for head in (b"PK\x03\x04rest-of-zip", b"\x80\x02}q\x00(X\x01\x00\x00\x00a."):
        (tmp_path / "t.pt").write_bytes(head)
        with pytest.raises(RuntimeError, match="never unpickles"):
            torch.load(tmp_path / "t.pt")


@pytest.mark.parametrize("length", [0x80 + 0x200, 0x80 + 0x500])
def test_header_lengths_that_look_like_a_pickle_opcode_still_load(tmp_path, length):
    """A header length whose low bytes read 0x80 0x02..0x05 (a pickle's first two bytes) is
    still a safetensors file."""
    base = raw_file({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})
    header_len = struct.unpack("<Q", base[:8])[0]
    text = base[8:].rstrip(b" ") + b" " * (length - header_len)
    (tmp_path / "f").write_bytes(struct.pack("<Q", length) + text + b"\x07")
    assert (tmp_path / "f").read_bytes()[:2] in (b"\x80\x02", b"\x80\x05")
    assert torch.load(tmp_path / "f")["a"].tolist() == [7]


def raw_file(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


HOSTILE = {
    "empty": b"",
    "short": b"\x01\x02",
    "header length beyond the file": struct.pack("<Q", 1000) + b"{}",
    "huge header length": struct.pack("<Q", 2**63) + b"{}",
    "not json": struct.pack("<Q", 4) + b"{{{{",
    "not utf-8": struct.pack("<Q", 2) + b"\xff\xfe",
    "offsets past the end": raw_file({"a": {"dtype": "F32", "shape": [4],
                                            "data_offsets": [0, 16]}}, b"\0" * 8),
    "overlapping tensors": raw_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                     "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}},
                                    b"\0" * 12),
    "shape disagrees with bytes": raw_file({"a": {"dtype": "F32", "shape": [3],
                                                  "data_offsets": [0, 8]}}, b"\0" * 8),
    "overflowing shape": raw_file({"a": {"dtype": "F64", "shape": [2**62, 2**62],
                                         "data_offsets": [0, 8]}}, b"\0" * 8),
    "unsupported dtype": raw_file({"a": {"dtype": "C64", "shape": [1],
                                         "data_offsets": [0, 8]}}, b"\0" * 8),
    "bool byte 2": raw_file({"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}},
                            b"\x01\x02"),
    "structure not json": raw_file({"__metadata__": {"ferrotorch": "{oops"}}),
    "structure version": raw_file({"__metadata__": {"ferrotorch": '{"version": 99}'}}),
    "missing tensor": raw_file({"__metadata__": {"ferrotorch": json.dumps(
        {"version": 1, "object": {"@": "tensor", "name": "nope"}})}}),
    "unknown tag": raw_file({"__metadata__": {"ferrotorch": json.dumps(
        {"version": 1, "object": {"@": "pickle", "value": "os.system"}})}}),
    "unhashable key": raw_file({"__metadata__": {"ferrotorch": json.dumps(
        {"version": 1, "object": {"@": "dict", "items": [[[1], 2]]}})}}),
    "bad dtype name": raw_file({"__metadata__": {"ferrotorch": json.dumps(
        {"version": 1, "object": {"@": "dtype", "value": "__class__"}})}}),
    "deep nesting": raw_file({"__metadata__": {"ferrotorch": '{"version":1,"object":'
                                               + "[" * 100000 + "]" * 100000 + "}"}}),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_raise_clear_errors(tmp_path, name):
    path = tmp_path / "evil.safetensors"
    path.write_bytes(HOSTILE[name])
    with pytest.raises(RuntimeError, match="load"):
        torch.load(path)
    with pytest.raises(RuntimeError):
        torch.load(io.BytesIO(HOSTILE[name]))


def _valid_checkpoint_bytes():
    buf = io.BytesIO()
    torch.save({"w": torch.arange(12, dtype=torch.float32).reshape(3, 4),
                "b": torch.tensor([True, False]), "n": 3,
                "state": {0: {"step": torch.tensor(2.0)}}}, buf)
    return buf.getvalue()


VALID = _valid_checkpoint_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1,
                max_size=8),
       st.integers(0, len(VALID)))
def test_mutated_checkpoints_load_or_raise(tmp_path, flips, keep):
    """Random byte flips and truncations of a real checkpoint never crash the interpreter: the
    file loads (the flip hit tensor data) or raises a RuntimeError."""
    data = bytearray(VALID)
    for at, value in flips:
        data[at] = value
    data = bytes(data[:keep])
    path = tmp_path / "m.safetensors"
    path.write_bytes(data)
    for source in (path, io.BytesIO(data)):
        try:
            torch.load(source)
        except RuntimeError:
            pass


def test_interop_with_the_safetensors_package(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy")
    theirs = {"f16": np.arange(6, dtype=np.float16).reshape(2, 3), "i32": np.array([1, -2], np.int32),
              "u8": np.array([0, 255], np.uint8), "f64": np.array([[0.5]]), "b": np.array([True])}
    st_numpy.save_file(theirs, tmp_path / "theirs.safetensors", metadata={"format": "np"})
    got = torch.load(tmp_path / "theirs.safetensors")
    assert set(got) == set(theirs)
    for k, v in theirs.items():
        np.testing.assert_array_equal(got[k].numpy(), v)
        assert got[k].numpy().dtype == v.dtype

    ours = {"w": torch.randn(3, 4), "i": torch.arange(5), "h": torch.ones(2, dtype=torch.float16)}
    torch.save(ours, tmp_path / "ours.safetensors")
    back = st_numpy.load_file(tmp_path / "ours.safetensors")
    assert set(back) == set(ours)
    for k, v in ours.items():
        np.testing.assert_array_equal(back[k], v.numpy())


def test_tensors_come_back_on_the_device_they_were_saved_from(tmp_path, device):
    t = torch.arange(6.0, device=device).reshape(2, 3)
    p = nn.Parameter(torch.ones(2, device=device))
    torch.save({"t": t, "p": p}, tmp_path / "f")
    got = torch.load(tmp_path / "f")
    assert got["t"].device == t.device and got["p"].device == p.device
    assert isinstance(got["p"], nn.Parameter)
    assert got["t"].tolist() == t.tolist()
    on_cpu = torch.load(tmp_path / "f", map_location="cpu")
    assert on_cpu["t"].device == torch.device("cpu") and on_cpu["t"].tolist() == t.tolist()
