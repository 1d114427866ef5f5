"""ferrotorch.utils.data with worker processes: order, seeding, errors, shutdown, sharding.

Datasets are small and num_workers is 2 so the file stays fast on two cores. Every test checks
that no worker process is left behind.
"""

import gc
import multiprocessing
import os
import pickle
import random
import signal
import time
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info


@pytest.fixture(autouse=True)
def no_leftover_workers():
    yield
    gc.collect()  # iterators shut their workers down when collected
    assert multiprocessing.active_children() == []


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return i * i

    def __len__(self):
        return self.n


class RandomDraws(Dataset):
    """Each sample: which worker made it and that worker's random numbers."""

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "worker": info.id,
            "pid": os.getpid(),
            "seed": info.seed,
            "torch": torch.rand(1).item(),
            "py": random.random(),
            "np": float(np.random.rand()),
        }

    def __len__(self):
        return 4


class DatasetError(Exception):
    pass


class Failing(Dataset):
    def __init__(self, bad, exc=DatasetError):
        self.bad, self.exc = bad, exc

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc(f"bad index {i}")
        return i

    def __len__(self):
        return 6


class Killing(Dataset):
    def __getitem__(self, i):
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return i

    def __len__(self):
        return 6


class Slow(Dataset):
    def __getitem__(self, i):
        if i == 1:
            time.sleep(1.0)
        return i

    def __len__(self):
        return 4


class Sharded(IterableDataset):
    """Splits range(start, end) between workers, as torch's documentation shows."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per_worker = -(-(self.end - self.start) // info.num_workers)
        lo = self.start + info.id * per_worker
        return iter(range(lo, min(lo + per_worker, self.end)))


class Unsharded(IterableDataset):
    def __iter__(self):
        return iter(range(3))


class Big(Dataset):
    def __getitem__(self, i):
        return torch.full((100, 100), float(i))

    def __len__(self):
        return 8


def record_worker(worker_id):
    info = get_worker_info()
    info.dataset.init_by = worker_id


class InitCheck(Dataset):
    init_by = None

    def __getitem__(self, i):
        return (self.init_by, get_worker_info().num_workers)

    def __len__(self):
        return 4


def flat(batches):
    return [x for b in batches for x in b.tolist()]


def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def test_tensor_crosses_processes_through_forking_pickler():
    from ferrotorch.nn import Parameter
    from ferrotorch.utils.data._utils.reduction import init_reductions

    init_reductions()
    for t in [torch.arange(6).reshape(2, 3).t(), torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
              torch.tensor(True), torch.ones(2, requires_grad=True)]:
        back = pickle.loads(ForkingPickler.dumps(t))
        assert type(back) is torch.Tensor and back.dtype == t.dtype and back.shape == t.shape
        assert back.tolist() == t.tolist() and back.requires_grad == t.requires_grad
    p = pickle.loads(ForkingPickler.dumps(Parameter(torch.ones(2))))
    assert isinstance(p, Parameter) and p.requires_grad and p.tolist() == [1.0, 1.0]


def test_workers_keep_sampler_order():
    ds = TensorDataset(torch.arange(20), torch.arange(20) * 10)
    batches = list(DataLoader(ds, batch_size=3, num_workers=2))
    assert [b[0].tolist() for b in batches] == [list(range(i, min(i + 3, 20))) for i in range(0, 20, 3)]
    assert flat(b[1] for b in batches) == [i * 10 for i in range(20)]
    assert flat(DataLoader(Squares(9), batch_size=2, num_workers=2, prefetch_factor=1)) == [i * i for i in range(9)]
    assert list(DataLoader(Squares(4), batch_size=None, num_workers=2)) == [0, 1, 4, 9]
    unordered = flat(DataLoader(Squares(9), batch_size=2, num_workers=2, in_order=False))
    assert sorted(unordered) == [i * i for i in range(9)]


def test_shuffle_with_workers_reproducible():
    ds = Squares(10)
    a = DataLoader(ds, batch_size=3, shuffle=True, num_workers=2, generator=gen(3))
    b = DataLoader(ds, batch_size=3, shuffle=True, num_workers=2, generator=gen(3))
    ea1, ea2 = flat(a), flat(a)
    assert ea1 == flat(b) and ea2 == flat(b) and ea1 != ea2
    assert sorted(ea1) == [i * i for i in range(10)]


def test_worker_seeding():
    def run(seed):
        out = list(DataLoader(RandomDraws(), batch_size=None, num_workers=2, generator=gen(seed)))
        return {d["worker"]: d for d in out[:2]}

    first = run(0)
    w0, w1 = first[0], first[1]
    assert w1["seed"] == w0["seed"] + 1 and w0["pid"] != w1["pid"]
    for key in ("torch", "py", "np"):
        assert w0[key] != w1[key]  # workers draw different numbers
    again = run(0)
    for w in (0, 1):
        for key in ("seed", "torch", "py", "np"):
            assert again[w][key] == first[w][key]  # same generator seed, same numbers
    assert run(1)[0]["seed"] != w0["seed"]
    # torch.manual_seed(base_seed + worker_id) is what the worker did:
    torch.manual_seed(w0["seed"])
    assert torch.rand(1).item() == w0["torch"]
    random.seed(w1["seed"])
    assert random.random() == w1["py"]


def test_worker_info_and_init_fn():
    out = list(DataLoader(InitCheck(), batch_size=None, num_workers=2, worker_init_fn=record_worker))
    assert [o[1] for o in out] == [2, 2, 2, 2]
    assert [o[0] for o in out] == [0, 1, 0, 1]  # round-robin; each copy initialised by its worker
    assert InitCheck.init_by is None  # the main process's dataset is untouched


def test_worker_exception_keeps_type_and_traceback():
    it = iter(DataLoader(Failing(3), batch_size=None, num_workers=2))
    assert [next(it), next(it), next(it)] == [0, 1, 2]
    with pytest.raises(DatasetError) as info:
        next(it)
    msg = str(info.value)
    assert "Caught DatasetError in DataLoader worker process 1" in msg
    assert "bad index 3" in msg and "Traceback" in msg and "__getitem__" in msg
    assert next(it) == 4  # the loader goes on after a sample's error, as torch's does
    del it, info

    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        list(DataLoader(Failing(0, KeyError), batch_size=2, num_workers=2))


def test_killed_worker_raises():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly.*Killed"):
        list(DataLoader(Killing(), batch_size=None, num_workers=2))
    assert time.monotonic() - start < 10


def test_timeout():
    it = iter(DataLoader(Slow(), batch_size=None, num_workers=2, timeout=0.2))
    assert next(it) == 0
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        next(it)
    del it


def test_iterable_dataset_sharding():
    loader = DataLoader(Sharded(0, 11), batch_size=2, num_workers=2)
    got = flat(loader)
    assert sorted(got) == list(range(11))
    # Batches alternate between workers: worker 0 has 0..5, worker 1 has 6..10.
    assert got[:4] == [0, 1, 6, 7]
    # Without sharding, every worker yields the whole stream.
    assert sorted(DataLoader(Unsharded(), batch_size=None, num_workers=2)) == [0, 0, 1, 1, 2, 2]


def test_persistent_workers_reuse_processes():
    loader = DataLoader(RandomDraws(), batch_size=None, num_workers=2, persistent_workers=True,
                        generator=gen(0))
    e1 = list(loader)
    e2 = list(loader)
    assert {d["pid"] for d in e1} == {d["pid"] for d in e2} and len({d["pid"] for d in e1}) == 2
    # The workers were seeded once: the second epoch continues their streams.
    assert [d["torch"] for d in e1] != [d["torch"] for d in e2]
    # An epoch abandoned halfway leaves no stale batch behind for the next one.
    sq = DataLoader(Squares(8), batch_size=2, num_workers=2, persistent_workers=True)
    it = iter(sq)
    next(it)
    assert flat(sq) == [i * i for i in range(8)]
    sharded = DataLoader(Sharded(0, 6), batch_size=None, num_workers=2, persistent_workers=True)
    assert sorted(sharded) == list(range(6)) and sorted(sharded) == list(range(6))
    del loader, sq, it, sharded


def test_iterator_deleted_midway_shuts_workers_down():
    it = iter(DataLoader(Squares(100), batch_size=2, num_workers=2))
    next(it)
    workers = list(it._workers)
    assert all(w.is_alive() for w in workers)
    del it
    gc.collect()
    assert not any(w.is_alive() for w in workers)


def test_large_batches_collate_in_forked_workers():
    # 4 x 100 x 100 elements: a stack this size runs on the Rust thread pool, which a forked
    # worker cannot use; the worker-side collation must not touch it (timeout: fail, not hang).
    torch.ones(300, 300).sum()  # make sure the parent's thread pool is running
    batches = list(DataLoader(Big(), batch_size=4, num_workers=2, timeout=30))
    assert [b.shape for b in batches] == [torch.Size([4, 100, 100])] * 2
    assert batches[1][:, 0, 0].tolist() == [4.0, 5.0, 6.0, 7.0]


def test_forkserver_context():
    ds = TensorDataset(torch.arange(6) * 2)
    loader = DataLoader(ds, batch_size=2, num_workers=2, multiprocessing_context="forkserver")
    assert [b[0].tolist() for b in loader] == [[0, 2], [4, 6], [8, 10]]
