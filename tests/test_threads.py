"""The CPU kernels' thread pool: torch.set_num_threads / get_num_threads, and parallel kernels
in a forked child (a DataLoader worker), whose copy of the parent's pool has no threads."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.utils.data import DataLoader, Dataset

# Where this process imports ferrotorch from: child processes import the same build.
_IMPORT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(torch.__file__)))
BIG = (400, 400)  # 160k elements: above the size where kernels split work over threads


def test_set_and_get_num_threads():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert torch.get_num_threads() == 1
        x = torch.arange(160000.0).reshape(BIG)
        assert x.sum().item() == pytest.approx(160000 * 159999 / 2)
        torch.set_num_threads(2)
        assert torch.get_num_threads() == 2
        np.testing.assert_allclose((x * 1e-5).exp().log().numpy(), x.numpy() * 1e-5, rtol=1e-4, atol=1e-6)
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="positive"):
        torch.set_num_threads(0)


def test_a_forked_child_runs_parallel_kernels():
    """Parent warms its pool; the child of a raw fork runs large ops (each would wait forever
    on the parent's threads if it used that pool)."""
    script = textwrap.dedent("""
        import os, sys
        sys.path.insert(0, %r)
        import ferrotorch as torch
        x = torch.ones(400, 400)
        assert (x + x).sum().item() == 320000.0 and (x @ x)[0, 0].item() == 400.0
        pid = os.fork()
        if pid == 0:
            y = torch.ones(400, 400)
            ok = (y * 3).sum().item() == 480000.0 and y.softmax(1).sum().item() > 399
            ok = ok and (y @ y).sum().item() == 400.0 ** 3
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    """ % _IMPORT_ROOT)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        assert proc.wait(timeout=60) == 0
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        pytest.fail("the forked child hung in a parallel kernel")


@pytest.mark.parametrize("env,want", [({"OMP_NUM_THREADS": "3"}, 3), ({"RAYON_NUM_THREADS": "2"}, 2),
                                       ({"OMP_NUM_THREADS": "1", "RAYON_NUM_THREADS": "2"}, 1)])
def test_thread_count_comes_from_omp_num_threads_as_in_torch(env, want):
    script = "import sys; sys.path.insert(0, %r); import ferrotorch as t; x = t.ones(400, 400); " \
        "assert (x + x).sum().item() == 320000.0; print(t.get_num_threads())" % _IMPORT_ROOT
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "RAYON_NUM_THREADS")}
    res = subprocess.run([sys.executable, "-c", script], env={**base, **env}, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert int(res.stdout) == want


class BigItems(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        x = torch.full(BIG, float(i))
        return (x.exp().log() * 2).sum(), torch.get_num_threads()


def test_dataloader_workers_run_large_ops_on_one_thread():
    torch.ones(*BIG).sum()  # the parent's pool is running when the workers fork
    batches = list(DataLoader(BigItems(), batch_size=2, num_workers=2, timeout=60))
    sums = torch.cat([b[0] for b in batches])
    np.testing.assert_allclose(sums.numpy(), [2.0 * i * 160000 for i in range(4)], rtol=1e-5)
    assert torch.cat([b[1] for b in batches]).tolist() == [1, 1, 1, 1]


def test_results_do_not_depend_on_the_thread_count():
    """Reductions fold a fixed tree whatever the thread count; elementwise ops are exact."""
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal(3_000_017).astype(np.float32))
    rows = torch.from_numpy(rng.standard_normal((64, 70_001)).astype(np.float32))

    def results():
        return [x.sum(), x.mean(), x.norm(), x.max(), x.argmax(), rows.sum(1), rows.sum(0),
                x.cumsum(0), x * 2 + 1, x.exp(), torch.softmax(rows, 1)]

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = [r.numpy() for r in results()]
        torch.set_num_threads(2)
        two = [r.numpy() for r in results()]
    finally:
        torch.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    # And the sum is right (float64 oracle, pairwise-sized error).
    assert float(one[0]) == pytest.approx(float(x.numpy().astype(np.float64).sum()), rel=1e-5, abs=1e-2)


@pytest.mark.parametrize("threads", ["3", "4", "6"])
def test_matmul_split_over_a_grid_of_threads_matches_numpy(threads):
    """Products big enough to split: a grid of blocks over 4 or 6 threads, slabs over 3."""
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        import numpy as np, ferrotorch as torch
        rng = np.random.default_rng(0)
        for m, k, n in [(256, 256, 256), (301, 129, 517), (96, 300, 1000), (1000, 64, 40)]:
            a = rng.standard_normal((m, k)).astype(np.float32)
            b = rng.standard_normal((n, k)).astype(np.float32)
            got = (torch.from_numpy(a) @ torch.from_numpy(b).t()).numpy()
            want = a.astype(np.float64) @ b.T.astype(np.float64)
            assert np.allclose(got, want, rtol=1e-4, atol=1e-3), (m, k, n)
        assert torch.get_num_threads() == %s
    """ % (_IMPORT_ROOT, threads))
    env = {**os.environ, "OMP_NUM_THREADS": threads}
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
