"""Clustering benchmark: tinyvision.cluster against scikit-learn, one thread, one process.

    python benchmarks/cluster.py                       # everything (about 3 minutes)
    python benchmarks/cluster.py --only kmeans --repeat 2
    python benchmarks/cluster.py --quick               # small sizes, one round: a smoke run

- KMeans(n_init=10) on make_blobs data: 1e6 x 2 with k=8 and 1e5 x 64 with k=16.
- silhouette_score on 2e4 points, 2 and 16 features (5 blobs, their true labels).

Each case follows ``benchmarks/_protocol.py``: both libraries start from the same numpy
arrays (estimator construction, input validation and fitting all timed), alternating
``--repeat`` rounds, each call timed by process CPU time (the headline) and wall time, best
and median; the load average is printed. Both sides are warmed up on a small input first
(numba compilation, lazy imports), outside the timings. The run exits 1 when KMeans' labels or
inertia differ from scikit-learn's, a silhouette differs by more than 1e-12, or scikit-learn
is missing. Peak memory of the silhouette is measured twice and reported as notes: the
tracemalloc peak (numpy buffers) in this process, and the growth of the peak RSS in a fresh
subprocess per library.
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy, torch and numba load

# isort: split
import argparse
import json
import resource
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tinyvision.cluster import KMeans, silhouette_score

KMEANS_CASES = [(1_000_000, 2, 8), (100_000, 64, 16)]
SILHOUETTE_CASES = [(20_000, 2), (20_000, 16)]
# --quick: the same shapes' features and clusters, fewer points
QUICK_KMEANS_CASES = [(20_000, 2, 8), (5_000, 64, 16)]
QUICK_SILHOUETTE_CASES = [(2_000, 2), (2_000, 16)]
SILHOUETTE_ATOL = 1e-12


def _case_name(n: int, d: int) -> str:
    return f"{n:.0e}x{d}".replace("e+0", "e")


def _same_kmeans(ours, ref) -> bool:
    """Labels identical and inertia identical to scikit-learn's (AssertionError naming what
    differs otherwise)."""
    differing = int(np.count_nonzero(np.asarray(ours.labels_) != np.asarray(ref.labels_)))
    if differing or ours.inertia_ != ref.inertia_:
        raise AssertionError(
            f"{differing} labels differ; inertia tinyvision {ours.inertia_!r}, "
            f"scikit-learn {ref.inertia_!r}"
        )
    return True


def _close_silhouette(ours: float, ref: float) -> bool:
    if abs(float(ours) - float(ref)) <= SILHOUETTE_ATOL:
        return True
    raise AssertionError(f"silhouette tinyvision {ours!r}, scikit-learn {ref!r}")


def bench_kmeans(bench: _protocol.Bench, cases: list[tuple[int, int, int]], repeat: int) -> None:
    """One comparison per case: ``KMeans(k, n_init=10, random_state=0).fit(X)`` on both sides."""
    from sklearn.cluster import KMeans as SkKMeans
    from sklearn.datasets import make_blobs

    for d in sorted({d for _, d, _ in cases}):  # compile / import outside the timings
        warm = np.random.RandomState(0).rand(500, d)
        KMeans(2, n_init=1, random_state=0).fit(warm)
        SkKMeans(2, n_init=1, random_state=0).fit(warm)
    bench.note("KMeans(n_init=10, k-means++, random_state=0) on make_blobs data (k blobs)")
    for n, d, k in cases:
        X = make_blobs(n, d, centers=k, random_state=0)[0]
        bench.compare(
            f"KMeans {_case_name(n, d)} k={k}",
            ours=lambda X=X, k=k: KMeans(k, n_init=10, random_state=0).fit(X),
            anchor=lambda X=X, k=k: SkKMeans(k, n_init=10, random_state=0).fit(X),
            repeat=repeat,
            warmup=False,
            check=_same_kmeans,
        )


def _data(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    return make_blobs(n, d, centers=5, random_state=0)


def _peak_subprocess(library: str, n: int, d: int) -> float:
    """MiB the peak RSS grows while one silhouette_score runs, in a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--peak-rss", library, str(n), str(d)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["mib"]


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _peak_rss_child(library: str, n: int, d: int) -> None:
    """Peak RSS growth of one call. Linux keeps ru_maxrss across exec (a child starts with
    its parent's peak), so the peak is reset through /proc/self/clear_refs and read as VmHWM."""
    from sklearn.metrics import silhouette_score as sk_silhouette_score

    X, y = _data(n, d)
    score = sk_silhouette_score if library == "sklearn" else silhouette_score
    score(X[:200], y[:200])  # imports, compilation and first-call allocations
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
        before = _status_kib("VmRSS")
        score(X, y)
        grown = _status_kib("VmHWM") - before
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        score(X, y)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"mib": grown / 1024}))


def _tracemalloc_peak(fn: Callable[..., object], *args: object) -> float:
    """MiB: the tracemalloc peak of one call ``fn(*args)``."""
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def bench_silhouette(bench: _protocol.Bench, cases: list[tuple[int, int]], repeat: int) -> None:
    """One comparison per case, then the memory of one call of each library (notes)."""
    from sklearn.metrics import silhouette_score as sk_silhouette_score

    warm = _data(300, 2)
    silhouette_score(*warm)  # compile outside the timings
    sk_silhouette_score(*warm)
    bench.note("silhouette_score on make_blobs data (5 blobs), their true labels")
    for n, d in cases:
        X, y = _data(n, d)
        name = f"silhouette_score {_case_name(n, d)}"
        row = bench.compare(
            name,
            ours=lambda X=X, y=y: silhouette_score(X, y),
            anchor=lambda X=X, y=y: sk_silhouette_score(X, y),
            repeat=repeat,
            warmup=False,
            check=_close_silhouette,
        )
        if row is not None:
            bench.note(f"{name}: |difference| {abs(row.ours.output - row.anchor.output):.1e}")
        trace = [_tracemalloc_peak(f, X, y) for f in (sk_silhouette_score, silhouette_score)]
        rss = [_peak_subprocess(lib, n, d) for lib in ("sklearn", "tinyvision")]
        bench.note(
            f"{name} peak memory, scikit-learn / tinyvision: tracemalloc {trace[0]:.1f} / "
            f"{trace[1]:.2f} MiB; RSS growth in a fresh process {rss[0]:.1f} / {rss[1]:.1f} MiB"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("kmeans", "silhouette"))
    parser.add_argument(
        "--repeat", type=int, default=None, help="alternating rounds per case (default 2)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, 1 round unless --repeat (smoke run)"
    )
    parser.add_argument("--peak-rss", nargs=3, metavar=("LIB", "N", "D"), help=argparse.SUPPRESS)
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    if args.peak_rss:
        library, n, d = args.peak_rss
        _peak_rss_child(library, int(n), int(d))
        return 0
    if args.repeat is None:
        args.repeat = 1 if args.quick else 2
    bench = _protocol.Bench.from_args(args, anchor_name="scikit-learn")
    try:
        import sklearn
    except ImportError:
        bench.missing("every case", "scikit-learn 1.9.1", 'pip install -e ".[dev]"')
        return bench.finish()
    import numba
    import torch

    bench.note(
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, numba {numba.__version__}; "
        f"torch threads {torch.get_num_threads()}"
    )
    if args.only in (None, "kmeans"):
        bench_kmeans(bench, QUICK_KMEANS_CASES if args.quick else KMEANS_CASES, args.repeat)
    if args.only in (None, "silhouette"):
        cases = QUICK_SILHOUETTE_CASES if args.quick else SILHOUETTE_CASES
        bench_silhouette(bench, cases, args.repeat)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
