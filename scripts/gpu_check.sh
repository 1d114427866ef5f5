#!/usr/bin/env bash
# The whole GPU check in one call on a GPU machine (Python with torch and numpy, no registry):
# install the ferrotorch build carried along, run every test with CUDA cases enabled, the
# parity run against the torch installed there, and the GPU benchmarks; a summary table last.
#
#   scripts/gpu_check.sh            everything
#   scripts/gpu_check.sh tests      tests only (CUDA tests first, then the whole suite)
#   scripts/gpu_check.sh suite      the performance suite (benches/suite.py --device cuda) first,
#                                   then the tests
#
# The build comes from .whl/ferrotorch-*.whl (a release wheel: `maturin build --release`, copied
# there) or, for a quick correctness run, .gpu/_C.abi3.so (a stripped `make dev` build).
# Logs go to $OUT (the device tool brings that folder back) or /tmp/gpu_check.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=${OUT:-/tmp/gpu_check}
mkdir -p "$LOG"
what=${1:-all}

if ls .whl/ferrotorch-*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-deps --no-index --target /tmp/ferrotorch-site .whl/ferrotorch-*.whl || exit 1
    export PYTHONPATH=/tmp/ferrotorch-site
elif [ -f .gpu/_C.abi3.so ]; then
    cp .gpu/_C.abi3.so python/ferrotorch/_C.abi3.so
    export PYTHONPATH=$PWD/python
else
    echo "no build found: put a wheel in .whl/ or a stripped _C.abi3.so in .gpu/" >&2
    exit 1
fi
export PYTHONUNBUFFERED=1 FERROTORCH_KERNEL_CACHE=/tmp/ferrotorch-kernels

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 - <<'PY'
import torch, ferrotorch
from ferrotorch.cuda import _libs
print("torch", torch.__version__, "| ferrotorch cuda available:", ferrotorch.cuda.is_available(),
      "| devices:", ferrotorch.cuda.device_count())
print("preloaded:", _libs.preload())
PY

status=0
summary=()
run() {  # run NAME CMD...: runs, logs, records pass/fail for the table
    local name=$1; shift
    local start=$SECONDS
    "$@" 2>&1 | tee "$LOG/$name.log" | tail -n 25
    local rc=${PIPESTATUS[0]}
    summary+=("$(printf '%-28s %-5s %4ds' "$name" "$([ "$rc" = 0 ] && echo ok || echo FAIL)" $((SECONDS - start)))")
    [ "$rc" = 0 ] || status=1
}

if [ "$what" = suite ]; then
    run suite python3 benches/suite.py --device cuda --json "$LOG/suite_cuda.json"
fi
cd tests
run cuda-tests python3 -m pytest -q -p no:cacheprovider -rs --durations=5 $(ls test_cuda_*.py)
run all-tests python3 -m pytest -q -p no:cacheprovider --maxfail=300 .
cd ..
if [ "$what" = all ]; then
    [ -f tests/parity_cuda.py ] && run parity python3 tests/parity_cuda.py
    [ -f tests/parity_nn.py ] && run parity-nn python3 tests/parity_nn.py
    [ -f tests/parity_optim.py ] && run parity-optim python3 tests/parity_optim.py
    run suite python3 benches/suite.py --device cuda --json "$LOG/suite_cuda.json"
    [ -f benches/bench_nn.py ] && run bench-nn python3 benches/bench_nn.py --device cuda --json "$LOG/bench_nn.json"
fi

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
[ -f "$LOG/suite.log" ] && grep -A40 "^workload" "$LOG/suite.log"
[ -f "$LOG/bench-nn.log" ] && grep -A10 "^workload" "$LOG/bench-nn.log"
exit $status
