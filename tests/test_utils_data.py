"""ferrotorch.utils.data in one process: datasets, samplers, collation, DataLoader's rules."""

import collections
import math
import warnings

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, n, length=None):
        self.n, self.length = n, length

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n if self.length is None else self.length


def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def flat(batches):
    return [x for b in batches for x in b.tolist()]


# ---- datasets ----

def test_tensor_dataset():
    x, y = torch.arange(6).reshape(3, 2), torch.tensor([10, 11, 12])
    ds = TensorDataset(x, y)
    assert len(ds) == 3
    a, b = ds[1]
    assert a.tolist() == [2, 3] and b.item() == 11
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, torch.arange(4))


def test_concat_subset_stack_chain():
    cat = ConcatDataset([Squares(3), Squares(2)])
    assert len(cat) == 5 and cat.cumulative_sizes == [3, 5]
    assert [cat[i] for i in range(5)] == [0, 1, 4, 0, 1]
    assert cat[-1] == 1 and cat[-3] == 4
    with pytest.raises(ValueError, match="absolute value of index"):
        cat[-6]
    assert len(Squares(2) + Squares(4)) == 6
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Stream(2)])

    sub = Subset(Squares(10), [9, 0, 3])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [81, 0, 9]
    assert sub.__getitems__([2, 0]) == [9, 81]

    st = StackDataset(Squares(3), TensorDataset(torch.tensor([5, 6, 7])))
    assert st[2][0] == 4 and st[2][1][0].item() == 7 and len(st) == 3
    d = StackDataset(a=Squares(3), b=Squares(3))
    assert d[2] == {"a": 4, "b": 4}
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Squares(2), Squares(3))

    chain = Stream(2) + Stream(3)
    assert isinstance(chain, ChainDataset)
    assert list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5


def test_random_split_lengths_and_fractions():
    parts = random_split(range(10), [3, 7], generator=gen(0))
    assert [len(p) for p in parts] == [3, 7]
    seen = [p[i] for p in parts for i in range(len(p))]
    assert sorted(seen) == list(range(10))  # disjoint and complete

    # floor(10 * f) = 3 each, the remainder 1 goes to the first split (torch's round-robin).
    parts = random_split(range(10), [0.33, 0.33, 0.34], generator=gen(0))
    assert [len(p) for p in parts] == [4, 3, 3]
    parts = random_split(range(11), [0.25, 0.25, 0.25, 0.25], generator=gen(0))
    assert [len(p) for p in parts] == [3, 3, 3, 2]

    a = [p.indices for p in random_split(range(20), [5, 15], generator=gen(7))]
    b = [p.indices for p in random_split(range(20), [5, 15], generator=gen(7))]
    assert a == b and a[0] != list(range(5))
    torch.manual_seed(3)
    c = [p.indices for p in random_split(range(20), [5, 15])]
    torch.manual_seed(3)
    assert c == [p.indices for p in random_split(range(20), [5, 15])]

    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0])


# ---- samplers ----

def test_sequential_and_random_sampler():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    s = RandomSampler(range(10), generator=gen(1))
    first, second = list(s), list(s)
    assert sorted(first) == list(range(10)) and sorted(second) == list(range(10))
    assert first != second  # the generator advances between epochs
    assert list(RandomSampler(range(10), generator=gen(1))) == first

    # Without a generator: seeded from the global RNG.
    torch.manual_seed(5)
    a = list(RandomSampler(range(10)))
    torch.manual_seed(5)
    assert list(RandomSampler(range(10))) == a

    more = list(RandomSampler(range(4), num_samples=10, generator=gen(2)))
    assert len(more) == 10 and sorted(more[:8]) == [0, 0, 1, 1, 2, 2, 3, 3]
    rep = list(RandomSampler(range(3), replacement=True, num_samples=100, generator=gen(3)))
    assert len(rep) == 100 and set(rep) == {0, 1, 2}
    assert len(RandomSampler(range(7))) == 7
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(0))
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)


def test_subset_and_weighted_sampler():
    s = SubsetRandomSampler([10, 20, 30, 40], generator=gen(4))
    assert sorted(s) == [10, 20, 30, 40] and len(s) == 4

    w = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=4000, generator=gen(5))
    draws = list(w)
    assert len(draws) == 4000 and set(draws) == {1, 3}  # zero weights never picked
    assert abs(draws.count(3) / 4000 - 0.75) < 0.05
    no_rep = list(WeightedRandomSampler([1.0, 2.0, 3.0, 0.5], 4, replacement=False, generator=gen(6)))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)


def test_batch_sampler():
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, 1)


# ---- collation ----

Point = collections.namedtuple("Point", ["x", "y"])


def test_default_collate_structures():
    batch = [
        {"img": torch.full((2,), float(i)), "label": i, "name": f"s{i}", "w": 0.5 * i,
         "pt": Point(i, np.float32(i)), "pair": (i, [i, -i])}
        for i in range(3)
    ]
    out = default_collate(batch)
    assert out["img"].tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    assert out["label"].tolist() == [0, 1, 2] and out["label"].dtype == torch.int64
    assert out["w"].dtype == torch.float64 and out["w"].tolist() == [0.0, 0.5, 1.0]
    assert out["name"] == ["s0", "s1", "s2"]
    assert isinstance(out["pt"], Point) and out["pt"].y.dtype == torch.float32
    assert out["pt"].x.tolist() == [0, 1, 2]
    # Tuples collate into lists; inner lists stay lists.
    assert isinstance(out["pair"], list) and out["pair"][0].tolist() == [0, 1, 2]
    assert out["pair"][1][1].tolist() == [0, -1, -2]

    arr = default_collate([np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)])
    assert arr.dtype == torch.int32 and arr.tolist() == [[1, 2], [3, 4]]
    assert default_collate([np.int32(1), np.int32(2)]).dtype == torch.int32
    assert default_collate([True, False]).dtype == torch.bool


def test_default_collate_shares_nothing():
    samples = [torch.zeros(3), torch.ones(3)]
    batch = default_collate(samples)
    samples[0].add_(5)
    assert batch[0].tolist() == [0.0, 0.0, 0.0]
    a = np.zeros(2)
    batch = default_collate([a, a])
    a[0] = 9
    assert batch.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([torch.zeros(2), torch.zeros(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert():
    t = default_convert(np.array([1.5, 2.5]))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    out = default_convert({"a": np.int64(3), "b": ("x", np.zeros(1, dtype=np.float32)), "s": "str"})
    assert out["a"].item() == 3 and isinstance(out["b"], list) and out["b"][0] == "x"
    assert out["b"][1].dtype == torch.float32 and out["s"] == "str"
    strs = np.array(["a", "b"])
    assert default_convert(strs) is strs
    assert default_convert(Point(np.int64(1), 2)).x.item() == 1


# ---- DataLoader in the main process ----

def test_loader_batches_and_drop_last():
    ds = TensorDataset(torch.arange(10))
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(ds, batch_size=4)) == 3 and len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=4, drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]

    # batch_size=None: samples one by one, default_convert instead of collation.
    items = list(DataLoader(Squares(3), batch_size=None))
    assert items == [0, 1, 4]
    arr = list(DataLoader([np.int64(7)], batch_size=None))
    assert isinstance(arr[0], torch.Tensor) and arr[0].item() == 7

    bs = list(DataLoader(Squares(5), batch_sampler=[[4, 0], [2]]))
    assert [b.tolist() for b in bs] == [[16, 0], [4]]
    assert list(DataLoader(Squares(4), batch_size=2, collate_fn=lambda b: sum(b))) == [1, 13]


def test_loader_shuffle_reproducible_and_differs_across_epochs():
    ds = Squares(12)
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=gen(11))
    e1, e2 = flat(loader), flat(loader)
    assert sorted(e1) == sorted(ds[i] for i in range(12)) and e1 != e2
    again = DataLoader(ds, batch_size=5, shuffle=True, generator=gen(11))
    assert flat(again) == e1 and flat(again) == e2
    assert flat(DataLoader(ds, batch_size=5)) == [i * i for i in range(12)]


def test_loader_len_rules():
    assert len(DataLoader(Squares(10), batch_size=3)) == 4
    assert len(DataLoader(Squares(10), batch_size=None)) == 10
    assert len(DataLoader(Squares(10), sampler=RandomSampler(Squares(10), num_samples=4), batch_size=3)) == 2
    assert len(DataLoader(Stream(10), batch_size=3)) == 4
    assert len(DataLoader(Stream(10), batch_size=3, drop_last=True)) == 3
    assert len(DataLoader(Stream(10), batch_size=None)) == 10

    loader = DataLoader(Stream(7, length=3), batch_size=None)
    assert len(loader) == 3
    with pytest.warns(UserWarning, match="Length of IterableDataset .* was reported to be 3"):
        assert list(loader) == list(range(7))


def test_loader_iterable_dataset():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert get_worker_info() is None


def test_loader_argument_errors():
    ds = Squares(4)
    cases = [
        (dict(num_workers=-1), "num_workers option should be non-negative"),
        (dict(timeout=-1), "timeout option should be non-negative"),
        (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
        (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
        (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
        (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
        (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
        (dict(multiprocessing_context="fork"), "multiprocessing_context can only be used with multi-process loading"),
        (dict(num_workers=1, multiprocessing_context="nope"), "multiprocessing_context option should specify a valid start method"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(ValueError, match=msg):
            DataLoader(ds, **kwargs)
    with pytest.raises(TypeError, match="multiprocessing_context option should be a valid context object"):
        DataLoader(ds, num_workers=1, multiprocessing_context=3)
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Stream(3), sampler=[0])
    loader = DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3
    loader.num_workers = 0  # other attributes stay settable, as in torch


def test_pin_memory_without_cuda_warns_and_returns_data():
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        out = list(DataLoader(Squares(3), batch_size=3, pin_memory=True))
    assert out[0].tolist() == [0, 1, 4]


def test_sampler_drives_order():
    got = flat(DataLoader(Squares(6), sampler=[5, 1, 3], batch_size=2))
    assert got == [25, 1, 9]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isclose(sum(flat(DataLoader(Squares(4), batch_size=4))), 14)
