#!/usr/bin/env bash
# Fuzz every file reader for MINUTES each (default 1): scripts/fuzz.sh [MINUTES] [TARGET...]
#
# Engine: atheris (coverage-guided) when $FUZZ_PYTHON can import it (`pip install -e
# .[fuzz]`), else tinyvision's own byte-mutation driver (tests/fuzz/run.py --engine
# mutate). The working corpus grows in build/fuzz/<target>/ (seeded with valid files made
# by tests/fuzz/targets.py); every input that crashes, hangs (over 5 s) or uses over
# 2 GiB is kept in tests/fuzz_corpus/<target>/, which tests/test_fuzz_corpus.py replays.
# A run with atheris stops at a failure and is restarted (up to 3 failures per target).
# Exit status 1 when any input was kept. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-1}"
shift || true
PY="${FUZZ_PYTHON:-.venv/bin/python}"
ALL="coco_gt coco_results yolo_labels data_yaml voc_xml yolo_predictions voc_predictions predictions_csv cifar_batch"
TARGETS="${*:-$ALL}"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" OPENCV_LOG_LEVEL=ERROR
ENGINE=mutate
if "$PY" -c "import atheris" 2>/dev/null; then ENGINE=atheris; fi
mkdir -p build/fuzz
echo "fuzzing with $ENGINE for $MINUTES minute(s) per target"
status=0
count() { if [[ -d $1 ]]; then find "$1" -type f | wc -l; else echo 0; fi; }
for target in $TARGETS; do
  crashes="tests/fuzz_corpus/$target"
  corpus="build/fuzz/$target"
  end=$(( $(date +%s) + MINUTES * 60 ))
  tries=0
  while :; do
    left=$(( end - $(date +%s) ))
    (( left > 0 && tries < 3 )) || break
    tries=$(( tries + 1 ))
    before=$(count "$crashes")
    "$PY" tests/fuzz/run.py "$target" --engine "$ENGINE" --seconds "$left" \
      --corpus "$corpus" --crashes "$crashes" > "build/fuzz/$target.log" 2>&1 || true
    after=$(count "$crashes")
    tail -n 3 "build/fuzz/$target.log"
    if (( after > before )); then
      status=1
      echo "$target: $(( after - before )) new input(s) kept in $crashes"
    fi
    [[ $ENGINE == atheris ]] || break   # the mutation driver runs on after a failure
  done
done
exit $status
