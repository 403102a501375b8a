"""Classification metrics: tinyvision against scikit-learn, one thread, one process.

    python benchmarks/classification.py            # full run (n up to 1e7), ~6 minutes
    python benchmarks/classification.py --quick    # n = 1e6 only, one round
    python benchmarks/classification.py --quick --sizes 1e6,1e7 --only ranking

Each case follows ``benchmarks/_protocol.py``: tinyvision and scikit-learn on the same numpy
arrays (all input validation and conversion inside the timed calls), warmed up outside the
timings (tinyvision on the full arrays: numba compilation; scikit-learn on the first 1000
samples: imports), then ``--repeat`` alternating
rounds, each call timed by process CPU time (the headline) and wall time, best and median;
the load average is printed. Every case checks that the results agree (bitwise) and the run
exits 1 when one differs or scikit-learn is missing. The speed-up (scikit-learn time /
tinyvision time) is reported against its target (met or not, never a failure).
``roc_auc_ci`` is timed against tinyvision's own ``roc_auc_score`` (target: at most 2x its
time, i.e. a ratio >= 0.5) and its AUC must equal that score.
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy, torch and numba load

# isort: split
import argparse
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import tinyvision.metrics as tvm

WARM_SAMPLES = 1000


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return a is b
    return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))


def _binary(n: int, rounded: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    scores = rng.random(n) + 0.3 * y
    return y, (np.round(scores, 2) if rounded else scores)


def _labels(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, k, n))
    return y_true, y_pred


def _sizes(text: str) -> list[int]:
    """``"1e6,1e7"`` -> ``[1000000, 10000000]``."""
    try:
        sizes = [int(float(part)) for part in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--sizes must be numbers like 1e6,1e7: {exc}") from exc
    if not sizes or min(sizes) < 2:
        raise argparse.ArgumentTypeError(f"--sizes must be at least 2 each, got {text!r}")
    return sizes


class Cases:
    """The run's Bench and rounds: ``repeat`` below 1e7 samples, ``big_repeat`` from there."""

    def __init__(self, bench: _protocol.Bench, repeat: int, big_repeat: int) -> None:
        self.bench, self.repeat, self.big_repeat = bench, repeat, big_repeat

    def compare(
        self,
        name: str,
        ours: Callable[..., Any],
        theirs: Callable[..., Any],
        arrays: tuple[np.ndarray, ...],
        *,
        target: float,
        check: Callable[[Any, Any], bool] = _equal,
        rounds: int | None = None,
        anchor_name: str | None = None,
    ) -> None:
        """``ours(*arrays)`` against ``theirs(*arrays)``. Warm-up, untimed: ours on the full
        arrays (numba compiles per code path, some taken at large sizes only), scikit-learn
        on the first WARM_SAMPLES (imports; it compiles nothing), a tinyvision anchor
        (``anchor_name`` given) on the full arrays."""
        ours(*arrays)
        theirs(*(arrays if anchor_name else tuple(a[:WARM_SAMPLES] for a in arrays)))
        big = len(arrays[0]) >= 10**7
        self.bench.compare(
            name,
            ours=lambda: ours(*arrays),
            anchor=lambda: theirs(*arrays),
            repeat=rounds or (self.big_repeat if big else self.repeat),
            warmup=False,
            check=check,
            target=target,
            anchor_name=anchor_name,
        )


def _ranking(cases: Cases, sizes: list[int]) -> None:
    import sklearn.metrics as skm

    for n in sizes:
        for rounded in (False, True):
            kind = "rounded to 2 decimals" if rounded else "continuous"
            cases.compare(
                f"roc_auc_score n={n:.0e} {kind}",
                tvm.roc_auc_score,
                skm.roc_auc_score,
                _binary(n, rounded),
                target=10.0,
                check=lambda a, b: a == b,
            )
    for n in sizes:
        for rounded in (False, True):
            arrays = _binary(n, rounded, seed=1)
            kind = "rounded" if rounded else "continuous"
            for name in ("roc_curve", "precision_recall_curve", "average_precision_score"):
                cases.compare(
                    f"{name} n={n:.0e} {kind}",
                    getattr(tvm, name),
                    getattr(skm, name),
                    arrays,
                    target=8.0,
                )


def _labelling(cases: Cases, sizes: list[int]) -> None:
    import sklearn.metrics as skm

    n_labels = sizes[-1]
    y_true, y_pred = _labels(n_labels, 10)
    for name in ("confusion_matrix", "precision_recall_fscore_support", "accuracy_score"):
        cases.compare(
            f"{name} 10 classes n={n_labels:.0e}",
            getattr(tvm, name),
            getattr(skm, name),
            (y_true, y_pred),
            target=15.0,
            rounds=cases.big_repeat,
        )
    names = np.array(
        ["cat", "dog", "bird", "fish", "horse", "ship", "truck", "plane", "frog", "deer"]
    )
    strings = names[y_true[: 10**6]], names[y_pred[: 10**6]]
    for name in ("confusion_matrix", "precision_recall_fscore_support", "accuracy_score"):
        cases.compare(
            f"{name} 10 string classes n={len(strings[0]):.0e}",
            getattr(tvm, name),
            getattr(skm, name),
            strings,
            target=1.0,
            rounds=1,
        )


def _same_auc(ci: Any, auc: float) -> bool:
    if abs(float(ci.auc) - float(auc)) <= 1e-12:
        return True
    raise AssertionError(f"roc_auc_ci's auc {ci.auc!r}, roc_auc_score {auc!r}")


def _confidence(cases: Cases, sizes: list[int]) -> None:
    for n in sizes:
        cases.compare(
            f"roc_auc_ci n={n:.0e} continuous, against our roc_auc_score",
            tvm.roc_auc_ci,
            tvm.roc_auc_score,
            _binary(n, False, seed=2),
            target=0.5,  # the interval costs at most 2x the score
            check=_same_auc,
            rounds=cases.repeat,
            anchor_name="tinyvision roc_auc_score",
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1e6 only, one round")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="alternating rounds per case (default 5, 2 from n=1e7; --quick: 1)",
    )
    parser.add_argument(
        "--sizes", type=_sizes, default=None, help="comma-separated n (default 1e6,1e7)"
    )
    parser.add_argument(
        "--only",
        choices=("ranking", "labels", "ci"),
        default=None,
        help="run one group of cases: ranking metrics, label metrics or roc_auc_ci",
    )
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 5)
    big_repeat = args.repeat or (1 if args.quick else 2)  # scikit-learn needs ~5-10 s at 1e7
    sizes = args.sizes or ([10**6] if args.quick else [10**6, 10**7])

    bench = _protocol.Bench.from_args(args, anchor_name="scikit-learn")
    try:
        import sklearn
    except ImportError:
        bench.missing("every case", "scikit-learn 1.9.1", 'pip install -e ".[dev]"')
        return bench.finish()
    bench.note(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    cases = Cases(bench, repeat, big_repeat)
    if args.only in (None, "ranking"):
        _ranking(cases, sizes)
    if args.only in (None, "labels"):
        _labelling(cases, sizes)
    if args.only in (None, "ci"):
        _confidence(cases, sizes)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
