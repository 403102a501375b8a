"""Run scikit-learn's own metric tests with tinyvision's functions in place of its own.

scikit-learn ships ``sklearn/metrics/tests/test_classification.py`` and ``test_ranking.py``
in its wheel. This script copies them to a temporary folder, writes a ``conftest.py`` there
that replaces ``sklearn.metrics.<name>`` by ``tinyvision.metrics.<name>`` for every
scikit-learn name that ``tinyvision.metrics`` exports (and ``sklearn.exceptions.
UndefinedMetricWarning`` by ours, unless ``--keep-sklearn-warning``) before the test modules
import them, runs pytest on the tests selected with ``-k`` and prints a pass/fail table per
function::

    PYTHONPATH=src .venv/bin/python scripts/sklearn_dropin.py            # table
    PYTHONPATH=src .venv/bin/python scripts/sklearn_dropin.py --failures # and why each fails
    PYTHONPATH=src .venv/bin/python scripts/sklearn_dropin.py -k f1      # a narrower run

A test counts for every patched function its source (decorators included) names; a test
naming none of them (it tests an unpatched scikit-learn function whose name merely matches a
keyword) is left out of the table. Not part of ``make test``: it takes a minute or two and
needs scikit-learn's test dependencies (pytest, scipy). Exit status: 0 when every counted
test passed or is a known failure (:data:`KNOWN`), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

TEST_FILES = ("test_classification.py", "test_ranking.py")

# -k keywords: test names of the patched functions contain one of these
KEYWORDS = (
    "accuracy",
    "auc",
    "average_precision",
    "brier",
    "classification_report",
    "kappa",
    "confusion_matrix",
    "det_curve",
    "f1",
    "fbeta",
    "fscore",
    "prf",
    "precision",
    "recall",
    "hamming",
    "jaccard",
    "lrap",
    "label_ranking_average_precision",
    "log_loss",
    "matthews",
    "mcc",
    "roc",
    "pr_curve",
    "top_k",
    "zero_one",
    "zero_division",
    "classification_metric",
    "binary_clf_curve",
    "multilabel",
    "multiclass_ranking_metrics",
    "scale_invariance",
    "metric_at_thresholds",
    "likelihood_ratios",
)

# Tests that cannot pass against tinyvision, and why (node id prefix -> reason). None today:
# scipy.sparse input (multilabel indicator matrices) is taken as dense since 2026-12-06.
KNOWN: dict[str, str] = {}

CONFTEST = """
import inspect
import json
import os
import re

import pytest
import sklearn.exceptions
import sklearn.metrics

import tinyvision.metrics as _ours

PATCHED = sorted(set(_ours.__all__) & set(sklearn.metrics.__all__))
for _name in PATCHED:
    setattr(sklearn.metrics, _name, getattr(_ours, _name))
if not os.environ.get("TV_DROPIN_KEEP_SKLEARN_WARNING"):
    sklearn.exceptions.UndefinedMetricWarning = _ours.UndefinedMetricWarning

_RESULTS = {}
_NAMES = {}


@pytest.fixture
def global_random_seed():
    # scikit-learn's own conftest.py (not in its wheel's tests folder) provides this seed
    return int(os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", "42"))


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        try:
            source = inspect.getsource(item.function)
        except (OSError, TypeError):
            source = ""
        source += " " + item.name
        _NAMES[item.nodeid] = [n for n in PATCHED if re.search(rf"\\b{n}\\b", source)]


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        if report.nodeid in _RESULTS and _RESULTS[report.nodeid]["outcome"] != "passed":
            return
        message = ""
        if report.longrepr is not None and report.outcome != "passed":
            crash = getattr(report.longrepr, "reprcrash", None)
            message = crash.message if crash is not None else str(report.longrepr)
        _RESULTS[report.nodeid] = {"outcome": report.outcome, "message": message[:400]}


def pytest_sessionfinish(session, exitstatus):
    out = {k: dict(v, functions=_NAMES.get(k, [])) for k, v in _RESULTS.items()}
    with open(os.environ["TV_DROPIN_RESULTS"], "w") as f:
        json.dump(out, f)
"""


def _tests_dir() -> Path:
    import sklearn

    return Path(sklearn.__file__).parent / "metrics" / "tests"


def _run(folder: Path, keyword: str, results: Path, keep_warning: bool) -> None:
    env = dict(os.environ, TV_DROPIN_RESULTS=str(results))
    if keep_warning:
        env["TV_DROPIN_KEEP_SKLEARN_WARNING"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-header",
        "-rN",
        "-W",
        "ignore::DeprecationWarning",
        "-k",
        keyword,
        *TEST_FILES,
    ]
    subprocess.run(cmd, cwd=folder, env=env, check=False, stdout=subprocess.DEVNULL)


def _known(nodeid: str) -> str | None:
    for prefix, reason in KNOWN.items():
        if nodeid.split("::", 1)[-1].startswith(prefix):
            return reason
    return None


def _table(results: dict, show_failures: bool) -> int:
    per_function: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    unexpected = []
    for nodeid, result in sorted(results.items()):
        outcome = result["outcome"]
        known = _known(nodeid) if outcome == "failed" else None
        if outcome == "failed" and known is None and result["functions"]:
            unexpected.append((nodeid, result["message"]))
        for name in result["functions"]:
            key = "known" if known else outcome
            per_function[name][key] += 1
    print(f"{'function':40s} {'passed':>7s} {'failed':>7s} {'known':>6s} {'skipped':>8s}")
    totals: dict[str, int] = defaultdict(int)
    for name in sorted(per_function):
        row = per_function[name]
        for key in ("passed", "failed", "known", "skipped"):
            totals[key] += row[key]
        print(
            f"{name:40s} {row['passed']:7d} {row['failed']:7d} {row['known']:6d} "
            f"{row['skipped']:8d}"
        )
    counted = [r for r in results.values() if r["functions"]]
    outcomes = defaultdict(int)
    for r in counted:
        outcomes[r["outcome"]] += 1
    print(
        f"\ntests naming a patched function: {len(counted)} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}); "
        f"tests of unpatched functions left out: {len(results) - len(counted)}"
    )
    for nodeid, message in unexpected if show_failures else []:
        print(f"\nFAILED {nodeid}\n    {message.splitlines()[0] if message else ''}")
    for prefix, reason in KNOWN.items():
        print(f"known: {prefix}: {reason}")
    return 1 if unexpected else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default=" or ".join(KEYWORDS), help="pytest -k expression")
    parser.add_argument("--failures", action="store_true", help="print each failure")
    parser.add_argument("--json", type=Path, help="also write the per-test results here")
    parser.add_argument(
        "--keep-sklearn-warning",
        action="store_true",
        help="leave sklearn.exceptions.UndefinedMetricWarning as it is (the tests that expect "
        "it then fail: they need scikit-learn's own class object)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sklearn_dropin_") as tmp:
        folder = Path(tmp)
        for name in TEST_FILES:
            shutil.copy(_tests_dir() / name, folder / name)
        (folder / "conftest.py").write_text(CONFTEST)
        results_path = folder / "results.json"
        _run(folder, args.k, results_path, args.keep_sklearn_warning)
        if not results_path.exists():
            print("pytest did not run (see its output above)", file=sys.stderr)
            return 1
        results = json.loads(results_path.read_text())
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True))
    return _table(results, args.failures)


if __name__ == "__main__":
    sys.exit(main())
