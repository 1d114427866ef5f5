r"""``DataLoader``: combines a dataset and a sampler, and iterates over the dataset in batches,
in the main process or in worker processes."""

import collections.abc
import itertools
import math
import multiprocessing
import os
import pickle
import queue
import time
import warnings

import ferrotorch as torch

from . import _utils
from ._utils.collate import default_collate, default_convert
from ._utils.fetch import _IterableDatasetFetcher, _MapDatasetFetcher
from ._utils.worker import _IterableDatasetStopIteration, _ResumeIteration, get_worker_info  # noqa: F401
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


class _DatasetKind:
    Map = "map"
    Iterable = "iterable"

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        cls = _MapDatasetFetcher if kind == _DatasetKind.Map else _IterableDatasetFetcher
        return cls(dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """The sampler of an ``IterableDataset``: ``None`` forever (the dataset decides the end)."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    r"""Data loader: combines a dataset and a sampler, and provides an iterable over the dataset.

    Supports map-style and iterable-style datasets, single- or multi-process loading, custom
    loading order and optional automatic batching (collation).

    Args:
        dataset (Dataset): dataset from which to load the data.
        batch_size (int, optional): how many samples per batch to load; ``None`` disables
            automatic batching. Default: ``1``.
        shuffle (bool, optional): ``True`` to reshuffle the data at every epoch. Default: ``False``.
        sampler (Sampler or Iterable, optional): the strategy to draw samples from the dataset.
            If specified, ``shuffle`` must not be specified.
        batch_sampler (Sampler or Iterable, optional): like ``sampler``, but returns a batch of
            indices at a time. Mutually exclusive with ``batch_size``, ``shuffle``, ``sampler``
            and ``drop_last``.
        num_workers (int, optional): how many subprocesses to use for data loading; ``0`` loads
            in the main process. Default: ``0``.
        collate_fn (Callable, optional): merges a list of samples to form a batch.
            Default: :func:`default_collate` (:func:`default_convert` when batching is disabled).
        pin_memory (bool, optional): copy tensors into pinned memory before returning them
            (only where CUDA is available; otherwise a warning and a no-op, as in torch).
        drop_last (bool, optional): drop the last incomplete batch. Default: ``False``.
        timeout (numeric, optional): if positive, the timeout in seconds for collecting a batch
            from workers; raises ``RuntimeError`` when exceeded. Default: ``0`` (wait forever).
        worker_init_fn (Callable, optional): called in each worker with its id, after seeding
            and before loading data.
        multiprocessing_context (str or multiprocessing.context.BaseContext, optional): the start
            method of the workers; ``None`` uses the platform's default.
        generator (Generator, optional): used by ``RandomSampler`` and to draw the workers'
            ``base_seed``.
        prefetch_factor (int, optional): batches loaded in advance by each worker.
            Default: ``None`` (``2`` when ``num_workers > 0``).
        persistent_workers (bool, optional): keep the workers alive between epochs. Default: ``False``.
        pin_memory_device (str, optional): accepted for compatibility; unused.
        in_order (bool, optional): ``False`` returns batches as workers finish them instead of
            in sampler order. Default: ``True``.

    Each worker seeds ``random``, ``torch`` (with ``base_seed + worker_id``) and NumPy's global
    generator, where ``base_seed`` is drawn from ``generator`` (or the global RNG) once per
    iterator. :func:`get_worker_info` tells a worker its id, seed and dataset copy.

    .. warning::
        ferrotorch's Rust thread pool does not survive ``fork``: in a worker forked from a
        process that ran any tensor op, an op large enough to run in parallel (about 32K
        elements or more) blocks forever. Collation in workers avoids it (samples are stacked
        with NumPy), but a dataset that runs large ops in ``__getitem__`` should use
        ``multiprocessing_context="forkserver"`` or ``"spawn"`` (its dataset, ``collate_fn``
        and ``worker_init_fn`` must then be picklable).
    """

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers

        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context):
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                if isinstance(multiprocessing_context, str):
                    valid_start_methods = multiprocessing.get_all_start_methods()
                    if multiprocessing_context not in valid_start_methods:
                        raise ValueError(
                            "multiprocessing_context option should specify a valid start method in "
                            f"{valid_start_methods!r}, but got multiprocessing_context={multiprocessing_context!r}"
                        )
                    multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
                if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                    raise TypeError(
                        "multiprocessing_context option should be a valid context object or a string "
                        f"specifying the start method, but got multiprocessing_context={multiprocessing_context}"
                    )
            else:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                    f"but got num_workers={self.num_workers}"
                )
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val):
        if self.__initialized and attr in (
            "batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"
        ):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        # Persistent workers live in the iterator, so the iterator itself is reused (reset).
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._dataset_kind == _DatasetKind.Iterable:
            # The dataset's own length, in batches; each worker holds a full copy, so unless the
            # dataset shards itself, workers yield more than this and a warning says so.
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        """Warns when more workers are asked for than CPUs this process may run on."""
        if not self.num_workers:
            return
        try:
            suggest = len(os.sched_getaffinity(0))
            cpuset_checked = True
        except AttributeError:
            suggest = os.cpu_count()
            cpuset_checked = False
        if suggest is not None and self.num_workers <= suggest:
            return
        if suggest is not None:
            suggested = (
                f"Our suggested max number of worker in current system is {suggest}"
                f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, "
                "which is smaller than what this DataLoader is going to create."
            )
        else:
            suggested = "DataLoader is not able to compute a suggested max number of worker in current system."
        warnings.warn(
            f"This DataLoader will create {self.num_workers} worker processes in total. {suggested} "
            "Please be aware that excessive worker creation might get DataLoader running slow or even "
            "freeze, lower the worker number to avoid potential slowness/freeze if necessary.",
            stacklevel=2,
        )


def _pin_memory(data):
    """``.pin_memory()`` on every tensor of a (nested) batch."""
    if isinstance(data, torch.Tensor):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            return type(data)({k: _pin_memory(v) for k, v in data.items()})
        except TypeError:
            return {k: _pin_memory(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_pin_memory(s) for s in data))
    if isinstance(data, tuple):
        return tuple(_pin_memory(s) for s in data)
    if isinstance(data, collections.abc.Sequence):
        return [_pin_memory(s) for s in data]
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    return data


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._shared_seed = None
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        self._pin_memory = loader.pin_memory
        if self._pin_memory and not torch.cuda.is_available():
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, "
                "then device pinned memory won't be used.",
                stacklevel=3,
            )
            self._pin_memory = False
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        # One draw per iterator, from the loader's generator: reproducible worker seeds.
        self._base_seed = int(torch.empty((), dtype=torch.int64).random_(generator=loader.generator).item())
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (
            self._dataset_kind == _DatasetKind.Iterable
            and self._IterableDataset_len_called is not None
            and self._num_yielded > self._IterableDataset_len_called
        ):
            warn_msg = (
                f"Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}"
                f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. "
            )
            if self._num_workers > 0:
                warn_msg += (
                    "For multiprocessing data-loading, this could be caused by not properly configuring the "
                    "IterableDataset replica at each worker. Please see "
                    "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples."
                )
            warnings.warn(warn_msg, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        assert self._timeout == 0
        assert self._num_workers == 0
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn, self._drop_last
        )

    def _next_data(self):
        index = self._next_index()  # may raise StopIteration
        data = self._dataset_fetcher.fetch(index)  # may raise StopIteration
        if self._pin_memory:
            data = _pin_memory(data)
        return data



# Queues of iterators whose workers are running. An iterator in a reference cycle (one caught
# in an exception's traceback, say) is collected together with its queues, and the garbage
# collector runs the queues' own finalizers (weakref callbacks, which stop their feeder threads)
# before the iterator's ``__del__``: the ``None`` that tells a worker to stop would never be sent.
# Holding the queues here keeps them out of that garbage until the workers are shut down.
_live_queues = {}


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    r"""Iterates with worker processes.

    Each worker has its own index queue; all share one result queue. Indices go out round-robin,
    at most ``prefetch_factor * num_workers`` ahead; ``_task_info[idx]`` is ``(worker_id,)`` while
    batch ``idx`` is pending and ``(worker_id, data)`` once it arrived early, so batches come out
    in sampler order. Results travel as pickled bytes (see ``_utils.worker._put``).
    """

    def __init__(self, loader):
        super().__init__(loader)
        assert self._num_workers > 0
        assert self._prefetch_factor > 0
        self._in_order = loader.in_order
        _utils.reduction.init_reductions()
        ctx = loader.multiprocessing_context or multiprocessing.get_context()

        self._worker_init_fn = loader.worker_init_fn
        self._shutdown = False
        self._workers = []
        self._index_queues = []
        self._workers_status = []
        self._worker_result_queue = ctx.Queue()
        self._workers_done_event = ctx.Event()
        try:
            for i in range(self._num_workers):
                index_queue = ctx.Queue()
                # Indices left unread at shutdown must not block this process's exit.
                index_queue.cancel_join_thread()
                w = ctx.Process(
                    target=_utils.worker._worker_loop,
                    args=(self._dataset_kind, self._dataset, index_queue, self._worker_result_queue,
                          self._workers_done_event, self._auto_collation, self._collate_fn,
                          self._drop_last, self._base_seed, self._worker_init_fn, i,
                          self._num_workers, self._persistent_workers, self._shared_seed),
                )
                # Daemonic: multiprocessing terminates workers left alive at interpreter exit.
                w.daemon = True
                w.start()
                self._index_queues.append(index_queue)
                self._workers.append(w)
                self._workers_status.append(True)
        except BaseException:
            self._shutdown_workers()
            raise
        self._data_queue = self._worker_result_queue
        _live_queues[id(self)] = (self._index_queues, self._worker_result_queue)
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True for _ in range(self._num_workers)]
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # Persistent workers: each acknowledges the new epoch after every result it still
            # had in flight, so discarding until all acks arrive drops the old epoch's leftovers.
            for q in self._index_queues:
                q.put(_ResumeIteration(self._shared_seed))
            resume_iteration_cnt = self._num_workers
            while resume_iteration_cnt > 0:
                return_idx, return_data = self._get_data()
                if isinstance(return_idx, _ResumeIteration):
                    assert return_data is None
                    resume_iteration_cnt -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _check_workers_alive(self):
        failed = [
            w for worker_id, w in enumerate(self._workers)
            if self._workers_status[worker_id] and not w.is_alive()
        ]
        if not failed:
            return
        pids_str = ", ".join(str(w.pid) for w in failed)
        details = []
        for w in failed:
            code = w.exitcode
            if code is not None and code < 0:
                import signal

                details.append(f"pid {w.pid} is killed by signal: {signal.strsignal(-code)}")
            else:
                details.append(f"pid {w.pid} exited with code {code}")
        self._shutdown_workers()
        raise RuntimeError(f"DataLoader worker (pid(s) {pids_str}) exited unexpectedly ({'; '.join(details)})")

    def _get_data(self):
        # Wait in short slices, checking between them that the workers are alive: a worker that
        # died (killed, out of memory) never answers, and waiting on the queue alone would hang.
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _utils.WORKER_LIVENESS_INTERVAL
            if deadline is not None:
                wait = min(wait, max(deadline - time.monotonic(), 0))
            try:
                return pickle.loads(self._data_queue.get(timeout=wait))
            except queue.Empty:
                self._check_workers_alive()
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None

    def _next_data(self):
        while True:
            # Skip batches already returned (out of order) and those of workers whose
            # IterableDataset has ended (they will never come).
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:
                data = self._task_info.pop(self._rcvd_idx)[1]
                self._rcvd_idx += 1
                return self._process_data(data)

            assert not self._shutdown and self._tasks_outstanding > 0
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if self._dataset_kind == _DatasetKind.Iterable and isinstance(data, _IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx == self._rcvd_idx:
                del self._task_info[idx]
                self._rcvd_idx += 1
                return self._process_data(data)
            if not self._in_order:
                del self._task_info[idx]
                return self._process_data(data)
            self._task_info[idx] += (data,)

    def _try_put_index(self):
        assert self._tasks_outstanding < self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_queue_idx = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_queue_idx]:
                break
        else:
            return  # no active worker left
        self._index_queues[worker_queue_idx].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_queue_idx,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data):
        self._try_put_index()
        if isinstance(data, _utils.ExceptionWrapper):
            data.reraise()
        if self._pin_memory:
            data = _pin_memory(data)
        return data

    def _mark_worker_as_unavailable(self, worker_id, shutdown=False):
        # The worker exits on None; it is not sent more indices.
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self):
        # Also runs from __del__ of a half-built iterator and at interpreter exit.
        if getattr(self, "_shutdown", True):
            return
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for worker_id in range(len(self._workers)):
                if self._persistent_workers or self._workers_status[worker_id]:
                    self._mark_worker_as_unavailable(worker_id, shutdown=True)
            for w in self._workers:
                w.join(timeout=_utils.MP_STATUS_CHECK_INTERVAL)
            for q in self._index_queues:
                q.cancel_join_thread()
                q.close()
            self._worker_result_queue.cancel_join_thread()
            self._worker_result_queue.close()
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=1.0)  # reap, so no zombie is left
            _live_queues.pop(id(self), None)

    def __del__(self):
        self._shutdown_workers()
