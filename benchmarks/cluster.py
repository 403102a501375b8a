"""Clustering benchmark: tinyvision.cluster against scikit-learn, one thread, one process.

    .venv/bin/python benchmarks/cluster.py            # everything (about 2-3 minutes)
    .venv/bin/python benchmarks/cluster.py --only kmeans --repeat 2

- KMeans(n_init=10) on make_blobs data: 1e6 x 2 with k=8 and 1e5 x 64 with k=16.
- silhouette_score on 2e4 points, 2 and 16 features (5 blobs, their true labels).

Each case alternates scikit-learn and tinyvision ``--repeat`` times and keeps the best time
of each (wall clock; for KMeans also the process's CPU time, steadier on a loaded machine);
numba compilation happens in a warm-up before timing. KMeans exits with status 1 if the
labels or the inertia differ from scikit-learn's. Peak memory of the silhouette
is measured twice: the tracemalloc peak (numpy buffers) in this process, and the growth of
the process's peak RSS (``ru_maxrss``) in a fresh subprocess per library.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from sklearn.cluster import KMeans as SkKMeans  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.metrics import silhouette_score as sk_silhouette_score  # noqa: E402

from tinyvision.cluster import KMeans, silhouette_score  # noqa: E402

KMEANS_CASES = [(1_000_000, 2, 8), (100_000, 64, 16)]
SILHOUETTE_CASES = [(20_000, 2), (20_000, 16)]


def _best_alternating(
    first, second, repeat: int, clock=time.perf_counter
) -> tuple[float, float, object, object]:
    times_a, times_b = [], []
    out_a = out_b = None
    for _ in range(repeat):
        start = clock()
        out_a = first()
        times_a.append(clock() - start)
        start = clock()
        out_b = second()
        times_b.append(clock() - start)
    return min(times_a), min(times_b), out_a, out_b


def bench_kmeans(repeat: int) -> bool:
    """Print the KMeans table; False if any case's labels or inertia differ."""
    KMeans(2, n_init=1, random_state=0).fit(np.random.RandomState(0).rand(500, 2))  # compile
    KMeans(2, n_init=1, random_state=0).fit(np.random.RandomState(0).rand(500, 64))
    print("KMeans(n_init=10, k-means++), make_blobs data, random_state=0")
    print(
        f"{'case':>18} {'sklearn s':>10} {'tinyvision s':>13} {'speed-up':>9}"
        f" {'cpu s sk/tv':>13} {'cpu speed-up':>13}  same labels, inertia"
    )
    agree = True
    for n, d, k in KMEANS_CASES:
        X = make_blobs(n, d, centers=k, random_state=0)[0]
        fits = (
            lambda X=X, k=k: SkKMeans(k, n_init=10, random_state=0).fit(X),
            lambda X=X, k=k: KMeans(k, n_init=10, random_state=0).fit(X),
        )
        t_sk, t_tv, ref, ours = _best_alternating(*fits, repeat)
        c_sk, c_tv, _, _ = _best_alternating(*fits, repeat, clock=time.process_time)
        same = bool(np.array_equal(ref.labels_, ours.labels_))
        same_inertia = bool(ref.inertia_ == ours.inertia_)
        agree = agree and same and same_inertia
        case = f"{n:.0e}x{d} k={k}".replace("e+0", "e")
        wall = f"{t_sk:>10.2f} {t_tv:>13.2f} {t_sk / t_tv:>8.2f}x"
        cpu = f"{c_sk:>6.2f}/{c_tv:<6.2f} {c_sk / c_tv:>12.2f}x"
        print(f"{case:>18} {wall} {cpu}  {same}, {same_inertia}")
    return agree


def _data(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
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


def bench_silhouette(repeat: int) -> None:
    silhouette_score(*_data(300, 2))  # compile
    print("silhouette_score, make_blobs data (5 blobs), true labels")
    print(
        f"{'case':>10} {'sklearn s':>10} {'tinyvision s':>13} {'speed-up':>9} {'|diff|':>9}"
        f" {'tracemalloc MiB sk/tv':>22} {'peak RSS MiB sk/tv':>19}"
    )
    for n, d in SILHOUETTE_CASES:
        X, y = _data(n, d)
        t_sk, t_tv, ref, ours = _best_alternating(
            lambda X=X, y=y: sk_silhouette_score(X, y),
            lambda X=X, y=y: silhouette_score(X, y),
            repeat,
        )
        peaks = []
        for fn in (sk_silhouette_score, silhouette_score):
            tracemalloc.start()
            fn(X, y)
            peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
        rss = [_peak_subprocess(lib, n, d) for lib in ("sklearn", "tinyvision")]
        timing = f"{n:>6}x{d:<3} {t_sk:>10.2f} {t_tv:>13.3f} {t_sk / t_tv:>8.1f}x"
        memory = f"{peaks[0]:>12.1f} / {peaks[1]:<7.2f} {rss[0]:>10.1f} / {rss[1]:<7.1f}"
        print(f"{timing} {abs(ref - ours):>9.1e} {memory}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("kmeans", "silhouette"))
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs per case")
    parser.add_argument("--peak-rss", nargs=3, metavar=("LIB", "N", "D"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_rss:
        library, n, d = args.peak_rss
        _peak_rss_child(library, int(n), int(d))
        return
    print(f"threads: 1 (numba {os.environ['NUMBA_NUM_THREADS']}, torch {torch.get_num_threads()})")
    agree = True
    if args.only in (None, "kmeans"):
        agree = bench_kmeans(args.repeat)
    if args.only in (None, "silhouette"):
        bench_silhouette(args.repeat)
    if not agree:
        print("KMeans results differ from scikit-learn's", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
