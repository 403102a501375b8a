"""Classification metrics: tinyvision against scikit-learn, one thread, one process.

    python benchmarks/classification.py            # full run (n up to 1e7), ~6 minutes
    python benchmarks/classification.py --quick    # n = 1e6 only, one repetition
    python benchmarks/classification.py --quick --sizes 1e6,1e7 --only ranking

Each case times tinyvision and scikit-learn alternately on the same arrays (each round:
the best of as many runs as fit in 0.3 s, at least one), in CPU time of this process
(``time.process_time``; every thread pool is pinned to one thread), keeps the best of
``--repeat`` rounds, checks that the results agree, and prints the speed-up (scikit-learn time /
tinyvision time) next to the target. ``roc_auc_ci`` is compared with tinyvision's own
``roc_auc_score`` (target: at most 2x its time).
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import sklearn.metrics as skm  # noqa: E402
import torch  # noqa: E402

import tinyvision.metrics as tvm  # noqa: E402

torch.set_num_threads(1)


def _time(function: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.process_time()
    result = function()
    return time.process_time() - start, result


def _best(function: Callable[[], Any], budget: float = 0.3) -> tuple[float, Any]:
    """Best time of one run, or of as many as fit in ``budget`` seconds (at most 20)."""
    best, result = _time(function)
    for _ in range(min(19, int(budget / max(best, 1e-6)))):
        best = min(best, _time(function)[0])
    return best, result


def compare(
    name: str,
    ours: Callable[[], Any],
    theirs: Callable[[], Any],
    *,
    repeat: int,
    target: str,
    same: Callable[[Any, Any], bool],
) -> float:
    """Alternate the two, best of ``repeat`` rounds each; print and return theirs / ours."""
    ours()  # compile / warm caches outside the timing
    best_ours = best_theirs = float("inf")
    result_ours = result_theirs = None
    for _ in range(repeat):
        t, result_ours = _best(ours)
        best_ours = min(best_ours, t)
        t, result_theirs = _best(theirs)
        best_theirs = min(best_theirs, t)
    agree = same(result_ours, result_theirs)
    ratio = best_theirs / best_ours
    print(
        f"{name:<52} {best_ours * 1e3:9.1f} {best_theirs * 1e3:10.1f} {ratio:7.1f}x"
        f"  {target:<6} {'agree' if agree else 'DIFFER'}",
        flush=True,
    )
    if not agree:
        raise SystemExit(f"{name}: results differ from the reference")
    return ratio


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return all(_equal(x, y) for x, y in zip(a, b))
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


def _ranking(sizes: list[int], repeat: int, big_repeat: int) -> None:
    for n in sizes:
        for rounded in (False, True):
            y, scores = _binary(n, rounded)
            kind = "rounded to 2 decimals" if rounded else "continuous"
            compare(
                f"roc_auc_score n={n:.0e} {kind}",
                partial(tvm.roc_auc_score, y, scores),
                partial(skm.roc_auc_score, y, scores),
                repeat=repeat if n < 10**7 else big_repeat,
                target=">=10x",
                same=lambda a, b: a == b,
            )
    for n in sizes:
        for rounded in (False, True):
            y, scores = _binary(n, rounded, seed=1)
            kind = "rounded" if rounded else "continuous"
            for name in ("roc_curve", "precision_recall_curve", "average_precision_score"):
                compare(
                    f"{name} n={n:.0e} {kind}",
                    partial(getattr(tvm, name), y, scores),
                    partial(getattr(skm, name), y, scores),
                    repeat=repeat if n < 10**7 else big_repeat,
                    target=">=8x",
                    same=_equal,
                )


def _labelling(sizes: list[int], big_repeat: int) -> None:
    n_labels = sizes[-1]
    y_true, y_pred = _labels(n_labels, 10)
    for name in ("confusion_matrix", "precision_recall_fscore_support", "accuracy_score"):
        compare(
            f"{name} 10 classes n={n_labels:.0e}",
            partial(getattr(tvm, name), y_true, y_pred),
            partial(getattr(skm, name), y_true, y_pred),
            repeat=big_repeat,
            target=">=15x",
            same=_equal,
        )
    names = np.array(
        ["cat", "dog", "bird", "fish", "horse", "ship", "truck", "plane", "frog", "deer"]
    )
    s_true, s_pred = names[y_true[: 10**6]], names[y_pred[: 10**6]]
    for name in ("confusion_matrix", "precision_recall_fscore_support", "accuracy_score"):
        compare(
            f"{name} 10 string classes n=1e6",
            partial(getattr(tvm, name), s_true, s_pred),
            partial(getattr(skm, name), s_true, s_pred),
            repeat=1,
            target=">=1x",
            same=_equal,
        )


def _confidence(sizes: list[int], repeat: int) -> None:
    print(f"\n{'roc_auc_ci against our roc_auc_score':<52} {'ci ms':>9} {'auc ms':>10} {'cost':>8}")
    for n in sizes:
        y, scores = _binary(n, False, seed=2)
        tvm.roc_auc_ci(y, scores)
        best_ci = best_auc = float("inf")
        for _ in range(repeat):
            best_ci = min(best_ci, _best(partial(tvm.roc_auc_ci, y, scores))[0])
            best_auc = min(best_auc, _best(partial(tvm.roc_auc_score, y, scores))[0])
        print(
            f"{f'roc_auc_ci n={n:.0e} continuous':<52} {best_ci * 1e3:9.1f} "
            f"{best_auc * 1e3:10.1f} {best_ci / best_auc:7.2f}x  <=2x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1e6 only, one repetition")
    parser.add_argument("--repeat", type=int, default=None, help="best of this many runs")
    parser.add_argument(
        "--sizes", type=_sizes, default=None, help="comma-separated n (default 1e6,1e7)"
    )
    parser.add_argument(
        "--only",
        choices=("ranking", "labels", "ci"),
        default=None,
        help="run one group of cases: ranking metrics, label metrics or roc_auc_ci",
    )
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 3)
    big_repeat = args.repeat or (1 if args.quick else 2)  # scikit-learn needs ~5-10 s at 1e7
    sizes = args.sizes or ([10**6] if args.quick else [10**6, 10**7])

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"tinyvision vs scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
        f"{platform.machine()}, 1 thread, CPU time, load average {load:.2f}"
    )
    print(f"{'case':<52} {'ours ms':>9} {'sklearn ms':>10} {'speed-up':>8}  target")
    if args.only in (None, "ranking"):
        _ranking(sizes, repeat, big_repeat)
    if args.only in (None, "labels"):
        _labelling(sizes, big_repeat)
    if args.only in (None, "ci"):
        _confidence(sizes, repeat)


if __name__ == "__main__":
    main()
