#!/usr/bin/env bash
# Every GPU check of tinyvision in one run, for a lent CUDA machine (see BENCHMARKS.md).
# Run from the repository root: `bash scripts/gpu_checks.sh`. Logs go to $OUT (or gpu_logs/).
# The correctness checks (ops, metrics, clustering) run side by side first (mostly CPU-bound
# numba compilation on a 16-core host); then each timed run (classifier, detector) runs alone.
set -u
out=${OUT:-gpu_logs}
mkdir -p "$out"
export PYTHONPATH=src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt"
${PYTHON:-python3} -c "import torch, numpy, numba; print('torch', torch.__version__, 'numpy', numpy.__version__, 'numba', numba.__version__)" | tee -a "$out/device.txt"

check() {  # name seconds command...
  local name=$1 limit=$2
  shift 2
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  echo "$name rc=$?" >>"$out/$name.log"
}

check ops 240 ${PYTHON:-python3} benchmarks/gpu_ops_check.py &
check metrics 240 ${PYTHON:-python3} benchmarks/gpu_metrics_check.py &
check cluster 240 ${PYTHON:-python3} benchmarks/gpu_cluster_check.py &

wait
for name in ops metrics cluster; do
  echo "=== $name: $(grep -c PASS "$out/$name.log") PASS, $(grep -c FAIL "$out/$name.log") FAIL"
  grep -E "FAIL|rc=" "$out/$name.log"
done
check classify 150 ${PYTHON:-python3} benchmarks/gpu_classify.py
cat "$out/classify.log"
if [ -f benchmarks/gpu_detect.py ]; then
  check detect 330 ${PYTHON:-python3} benchmarks/gpu_detect.py
  cat "$out/detect.log"
fi
