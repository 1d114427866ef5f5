#!/usr/bin/env bash
# One call on the lent GPU machine (which has torch): install the wheel built here, run the test
# suite there (Python 3.12, the abi3 wheel), then the benchmark against NumPy and torch, pinned to
# 2 cores like the development machine and again on all cores. Results land in $OUT.
#   maturin build --release && mkdir -p .whl && cp target/wheels/*.whl .whl/
#   device run: bash benches/device_compare.sh   (carry .whl)
set -euo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
python3 -m pip install -q --no-index --no-deps --upgrade --target /tmp/site .whl/ferrotorch-*.whl
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
lscpu | grep -E 'Model name|^CPU\(s\)' | tee "$out/cpu.txt"
(cd tests && python3 -m pytest -q -p no:cacheprovider . 2>&1 | tail -15) | tee "$out/tests.txt" || true
RAYON_NUM_THREADS=2 OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 taskset -c 0,1 \
    python3 benches/bench_ops.py --json "$out/bench_2cores.json" | tee "$out/bench_2cores.txt"
python3 benches/bench_ops.py --quick --json "$out/bench_all.json" | tee "$out/bench_all.txt"
