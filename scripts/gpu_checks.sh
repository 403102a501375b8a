#!/usr/bin/env bash
# Every GPU check of tinyvision in one run, for a lent CUDA machine (see BENCHMARKS.md).
# Run from the repository root: `bash scripts/gpu_checks.sh`. Logs go to $OUT (or gpu_logs/).
# The correctness checks (ops, metrics, clustering) run side by side first (mostly CPU-bound
# numba compilation on a 16-core host); then each timed run (classifier, detector) runs alone.
# Exit status: 0 only when every check ran and passed (no CUDA device, a check that fails,
# times out or crashes: 1), with a last line naming the failed checks.
set -u -o pipefail
out=${OUT:-gpu_logs}
py=${PYTHON:-python3}
mkdir -p "$out"
rm -f "$out"/*.rc  # a previous run's results
export PYTHONPATH=src PYTHONUNBUFFERED=1
failed=()
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt" \
  || failed+=(nvidia-smi)
$py -c "import torch, numpy, numba; print('torch', torch.__version__, 'numpy', numpy.__version__, 'numba', numba.__version__)" | tee -a "$out/device.txt"
if ! $py -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu_checks: FAIL: torch.cuda.is_available() is False" | tee -a "$out/device.txt"
  failed+=(cuda)
fi

check() {  # name seconds command...: the log ends with "name rc=N"; N is also in $out/name.rc
  local name=$1 limit=$2 rc
  shift 2
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  rc=$?
  echo "$name rc=$rc" >>"$out/$name.log"
  echo "$rc" >"$out/$name.rc"
}

check ops 240 $py benchmarks/gpu_ops_check.py &
check metrics 240 $py benchmarks/gpu_metrics_check.py &
check cluster 240 $py benchmarks/gpu_cluster_check.py &

wait
for name in ops metrics cluster; do
  echo "=== $name: $(grep -c PASS "$out/$name.log") PASS, $(grep -c FAIL "$out/$name.log") FAIL"
  grep -E "FAIL|rc=" "$out/$name.log"
done
check classify 150 $py benchmarks/gpu_classify.py
cat "$out/classify.log"
if [ -f benchmarks/gpu_detect.py ]; then
  check detect 330 $py benchmarks/gpu_detect.py
  cat "$out/detect.log"
fi
for rc_file in "$out"/*.rc; do
  [ -f "$rc_file" ] || continue
  [ "$(cat "$rc_file")" = 0 ] || failed+=("$(basename "$rc_file" .rc)")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "gpu_checks: FAILED: ${failed[*]}"
  exit 1
fi
echo "gpu_checks: all checks passed"
