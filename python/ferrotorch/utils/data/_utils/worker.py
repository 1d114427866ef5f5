"""The worker process: seeds its random number generators, then fetches what the main process
asks for until it is told to stop (or its parent dies)."""

import os
import queue
import random
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler

from . import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper

_worker_info = None


class WorkerInfo:
    """What a worker knows about itself: ``id``, ``num_workers``, ``seed`` and its own copy of
    ``dataset``. Read-only."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = [f"{k}={getattr(self, k)}" for k in self.__keys]
        return f"{self.__class__.__name__}({', '.join(items)})"


def get_worker_info():
    r"""Returns information about the current ``DataLoader`` worker process.

    In a worker, returns a ``WorkerInfo`` with:

    * ``id``: the current worker id.
    * ``num_workers``: the total number of workers.
    * ``seed``: the random seed set for the current worker (the loader's base seed plus ``id``).
    * ``dataset``: the copy of the dataset object in this process (a different object than the
      main process's).

    In the main process, returns ``None``. Use it in ``worker_init_fn`` or in an
    ``IterableDataset``'s ``__iter__`` to configure each copy, e.g. to shard the data.
    """
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """Sent by a worker whose ``IterableDataset`` iterator is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at the start of each epoch: rebuild the fetcher."""

    seed: object = None


def _generate_state(base_seed, worker_id):
    """NumPy's seed for a worker: torch's port of NumPy's ``SeedSequence`` hashing of
    ``(worker_id, base_seed)``, so neighbouring workers get unrelated NumPy streams."""
    INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
    INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
    MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
    XSHIFT = 4 * 8 // 2
    MASK32 = 0xFFFFFFFF

    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_a = INIT_A

    def hash(value):
        nonlocal hash_const_a
        value = (value ^ hash_const_a) & MASK32
        hash_const_a = (hash_const_a * MULT_A) & MASK32
        value = (value * hash_const_a) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result = ((MIX_MULT_L * x) & MASK32) - ((MIX_MULT_R * y) & MASK32)
        result &= MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    for i in range(len(pool)):
        pool[i] = hash(entropy[i])
    for i_src in range(len(pool)):
        for i_dst in range(len(pool)):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash(pool[i_src]))

    hash_const_b = INIT_B
    state = []
    for i_dst in range(4):
        data_val = (pool[i_dst] ^ hash_const_b) & MASK32
        hash_const_b = (hash_const_b * MULT_B) & MASK32
        data_val = (data_val * hash_const_b) & MASK32
        state.append((data_val ^ (data_val >> XSHIFT)) & MASK32)
    return state


class ManagerWatchdog:
    """Tells whether the process that started this worker is still alive: if it died, the
    worker is re-parented and ``getppid`` changes."""

    def __init__(self):
        self.manager_pid = os.getppid()
        self.manager_dead = False

    def is_alive(self):
        if not self.manager_dead:
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


def _put(data_queue, item):
    # Pickle here rather than in the queue's feeder thread: a batch that cannot be pickled then
    # becomes an error for the main process instead of a silently dropped batch (and a hang).
    idx = item[0]
    try:
        payload = ForkingPickler.dumps(item)
    except Exception:
        where = "in DataLoader worker process (pickling the batch)"
        payload = ForkingPickler.dumps((idx, ExceptionWrapper(where=where)))
    data_queue.put(bytes(payload))


def _seed_worker(seed, base_seed, worker_id):
    import ferrotorch as torch

    random.seed(seed)
    torch.manual_seed(seed)
    import numpy as np

    np.random.seed(_generate_state(base_seed, worker_id))


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation,
                 collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers,
                 persistent_workers, shared_seed):
    # Ctrl-C is the main process's to handle; it shuts the workers down.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ferrotorch as torch

        from .reduction import init_reductions

        # Under spawn/forkserver this process starts without the parent's registrations.
        init_reductions()

        # torch limits each worker to one intra-op thread; follow it where ferrotorch allows.
        set_num_threads = getattr(torch, "set_num_threads", None)
        if set_num_threads is not None:
            set_num_threads(1)

        seed = base_seed + worker_id
        _seed_worker(seed, base_seed, worker_id)

        global _worker_info
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)

        from .fetch import _IterableDatasetFetcher, _MapDatasetFetcher

        def create_fetcher():
            cls = _IterableDatasetFetcher if dataset_kind == "iterable" else _MapDatasetFetcher
            return cls(dataset, auto_collation, collate_fn, drop_last)

        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher()
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        # After an IterableDataset ends, the worker drains (ignores) indices until told to resume
        # or stop, so the main process need not track what it already sent.
        iteration_end = False
        watchdog = ManagerWatchdog()

        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if done_event.is_set():
                    break  # shutting down, and the None that says so was lost
                continue
            if isinstance(r, _ResumeIteration):
                _put(data_queue, (r, None))
                iteration_end = False
                if init_exception is None:
                    try:
                        fetcher = create_fetcher()
                    except Exception:
                        init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
                continue
            if r is None:
                # Told to stop; done_event must be set by then.
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data = init_exception
                init_exception = None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and dataset_kind == "iterable":
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            _put(data_queue, (idx, data))
            del data, idx, index, r  # drop references before blocking on the next get
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        # Nobody reads results any more: do not block exit on flushing them into the pipe.
        data_queue.cancel_join_thread()
        data_queue.close()
