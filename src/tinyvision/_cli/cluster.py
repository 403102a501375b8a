"""`tinyvision cluster DATA.csv --k 2..10`: k-means for each K, K chosen by silhouette."""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np


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
        type=parse_k_range,
        help="K values: a range A..B (inclusive) or a list 2,3,5 (default 2..10)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--n-init", default="auto", help="k-means runs per K, best kept ('auto' = 1 with k-means++)"
    )
    parser.add_argument(
        "--sample-size",
        type=int,
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


def parse_k_range(text: str) -> list[int]:
    """``"2..10"`` -> [2, ..., 10]; ``"2,4,8"`` -> [2, 4, 8]; ``"5"`` -> [5]."""
    try:
        if ".." in text:
            low, high = (int(part) for part in text.split("..", 1))
            values = list(range(low, high + 1))
        else:
            values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--k must look like 2..10 or 2,3,5, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError(f"--k gives no K values, got {text!r}")
    if min(values) < 2:
        raise argparse.ArgumentTypeError(
            f"--k values must be >= 2 (one cluster has no silhouette), got {text!r}"
        )
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"--k must not repeat a K, got {text!r}")
    return values


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
    from tinyvision._cli._checks import check_out
    from tinyvision.cluster import choose_k
    from tinyvision.report.cluster_plots import choose_k_figure, clusters_figure
    from tinyvision.report.plots import save_png

    check_out(args.out)
    X, names = read_numeric_csv(args.data)
    _check_options(args, X)
    n_init = args.n_init if args.n_init == "auto" else _int_option(args.n_init, "--n-init")
    result = choose_k(
        X, args.k, n_init=n_init, random_state=args.seed, sample_size=args.sample_size
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
            out / "choose_k.png",
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
        paths.append(save_png(fig, out / "clusters.png"))
    for path in paths:
        print(f"wrote {path}")
    return 0


def _check_options(args: argparse.Namespace, X: np.ndarray) -> None:
    """The flags' own names in the messages (the library would say k_range, sample_size...)."""
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
    if args.sample_size is not None and args.sample_size < 2:
        raise ValueError(f"--sample-size must be >= 2, got {args.sample_size}")
    if not 0 <= args.seed < 2**32:
        raise ValueError(f"--seed must be in [0, 2**32), got {args.seed}")


def _int_option(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer or 'auto', got {text!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be >= 1 or 'auto', got {value}")
    return value
