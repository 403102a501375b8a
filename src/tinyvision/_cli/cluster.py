"""`tinyvision cluster DATA.csv --k 2..10`: k-means for each K, K chosen by silhouette."""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

from tinyvision._cli import _flags

N_INIT_MAX = 1000  # k-means runs per K
SAMPLE_SIZE_MAX = 2**31 - 1  # points scored (more than the data set: all of them)
OUTPUTS = ("choose_k.png", "clusters.png")  # written into --out


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cluster",
        help="k-means on a CSV of numbers, choosing K by the silhouette",
        description=(
            "Run k-means (k-means++ init) on the rows of a CSV file for each K, print the "
            "inertia and mean silhouette per K, choose the K with the highest silhouette, and "
            "write an elbow/silhouette plot (and, for 2-D data, the labelled points)."
        ),
    )
    parser.add_argument(
        "data",
        type=Path,
        help="CSV file: one point per row, numeric columns "
        "(a first row with non-numeric cells is taken as a header)",
    )
    parser.add_argument(
        "--k",
        default="2..10",
        type=_flags.k_values,
        help="K values: a range A..B (inclusive) or a list 2,3,5 (default 2..10); each K in "
        f"2..{_flags.K_MAX}, at most {_flags.K_VALUES_MAX} of them",
    )
    parser.add_argument(
        "--seed", type=_flags.seed, default=0, help=f"random seed, 0..{_flags.SEED_MAX} (0)"
    )
    parser.add_argument(
        "--n-init",
        type=_flags.int_or_auto(1, N_INIT_MAX),
        default="auto",
        help="k-means runs per K, best kept ('auto' = 1 with k-means++)",
    )
    parser.add_argument(
        "--sample-size",
        type=_flags.int_in(2, SAMPLE_SIZE_MAX),
        default=None,
        help="score silhouettes on this many random points (default: all)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/cluster"),
        help="folder for the PNG plots (default runs/cluster)",
    )
    parser.set_defaults(func=run)


def read_numeric_csv(path: Path) -> tuple[np.ndarray, list[str]]:
    """Read a CSV of numbers: ``([n, d] float64 array, column names)``.

    A first row with any non-numeric cell is a header. Blank lines are skipped. Any other
    problem raises ``ValueError`` naming the file, line and cell.
    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, expected a CSV file")
    rows: list[list[float]] = []
    header: list[str] | None = None
    width = None
    with open(path, newline="", encoding="utf-8-sig") as handle:
        try:
            for line_no, cells in enumerate(csv.reader(handle), start=1):
                cells = [c.strip() for c in cells]
                if not any(cells):
                    continue
                values = _parse_row(cells)
                if values is None:
                    if header is None and not rows:
                        header = cells
                        width = len(cells)
                        continue
                    bad = next(c for c in cells if _parse_float(c) is None)
                    raise ValueError(f"{path}:{line_no}: expected numbers, got {bad!r}")
                if width is None:
                    width = len(values)
                if len(values) != width:
                    raise ValueError(
                        f"{path}:{line_no}: expected {width} columns, got {len(values)}"
                    )
                if not all(math.isfinite(v) for v in values):
                    raise ValueError(f"{path}:{line_no}: values must be finite, got {cells}")
                rows.append(values)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise ValueError(f"{path}: no data rows")
    names = header if header is not None else [f"x{i}" for i in range(width or 0)]
    return np.asarray(rows, dtype=np.float64), names


def _parse_float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _parse_row(cells: list[str]) -> list[float] | None:
    values = [_parse_float(c) for c in cells]
    if any(v is None for v in values):
        return None
    return [float(v) for v in values if v is not None]


def run(args: argparse.Namespace) -> int:
    from tinyvision._cli._checks import check_out, refuse_overwrite
    from tinyvision.cluster import choose_k
    from tinyvision.report.cluster_plots import choose_k_figure, clusters_figure
    from tinyvision.report.plots import save_png

    check_out(args.out)
    refuse_overwrite([("--out", args.out / name) for name in OUTPUTS], [("DATA", Path(args.data))])
    X, names = read_numeric_csv(args.data)
    _check_options(args, X)
    result = choose_k(
        X, args.k, n_init=args.n_init, random_state=args.seed, sample_size=args.sample_size
    )
    print(f"{X.shape[0]} points, {X.shape[1]} features ({args.data})")
    print(f"{'K':>4}  {'inertia':>14}  {'silhouette':>10}")
    for k, inertia, sil in result.rows():
        mark = "  <- chosen" if k == result.best_k else ""
        print(f"{k:>4}  {inertia:>14.6g}  {sil:>10.4f}{mark}")
    print(f"chosen K = {result.best_k} (highest mean silhouette)")

    out = args.out
    paths = [
        save_png(
            choose_k_figure(result.k_values, result.inertia, result.silhouette, result.best_k),
            out / OUTPUTS[0],
        )
    ]
    if X.shape[1] == 2:
        best = result.best
        fig = clusters_figure(
            X,
            np.asarray(best.labels),
            np.asarray(best.cluster_centers),
            title=f"k-means, K = {result.best_k}",
            xlabel=names[0],
            ylabel=names[1],
        )
        paths.append(save_png(fig, out / OUTPUTS[1]))
    for path in paths:
        print(f"wrote {path}")
    return 0


def _check_options(args: argparse.Namespace, X: np.ndarray) -> None:
    """--k against the data, named by its flag (the library would say k_range); the flags'
    own ranges were checked as they were parsed."""
    n_points = X.shape[0]
    if max(args.k) > n_points - 1:
        raise ValueError(
            f"--k values must be <= {n_points - 1} (the number of points - 1: the silhouette "
            f"needs a cluster with two points), got K = {max(args.k)}"
        )
    distinct = np.unique(X, axis=0).shape[0]
    if max(args.k) > distinct:
        raise ValueError(
            f"--k values must be <= the number of distinct points in X ({distinct}), "
            f"got {max(args.k)}"
        )
