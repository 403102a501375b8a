"""`tinyvision anchors LABELS_DIR --n 9 --img-size 640`: anchor boxes for a YOLO data set."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from tinyvision._cli import _flags

N_MAX = 1000  # anchors
THR_MAX = 100.0  # side ratio
GENERATIONS_MAX = 100_000  # rounds of the genetic refinement


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "anchors",
        help="compute anchor boxes from YOLO label files",
        description=(
            "Read YOLO label files (one box per line: class cx cy w h, normalised), fit "
            "anchors by k-means on whitened box sizes plus YOLOv5's genetic refinement, and "
            "print them with the best possible recall (BPR). Image sizes are read from the "
            "matching images (labels/ -> images/) when found, else images are taken as square."
        ),
    )
    parser.add_argument(
        "labels", type=Path, help="folder of YOLO .txt label files (searched recursively)"
    )
    parser.add_argument(
        "--n", type=_flags.int_in(1, N_MAX), default=9, help="number of anchors (default 9)"
    )
    parser.add_argument(
        "--img-size",
        type=_flags.int_in(1, _flags.IMG_SIZE_MAX),
        default=640,
        help=f"training image size, 1..{_flags.IMG_SIZE_MAX} (default 640)",
    )
    parser.add_argument(
        "--thr",
        type=_flags.float_in(1.0, THR_MAX, low_open=True),
        default=4.0,
        help="anchor fit threshold on the side ratio, > 1 (default 4.0)",
    )
    parser.add_argument(
        "--generations",
        type=_flags.int_in(0, GENERATIONS_MAX),
        default=1000,
        help="genetic refinement rounds (default 1000)",
    )
    parser.add_argument(
        "--seed", type=_flags.seed, default=0, help=f"random seed, 0..{_flags.SEED_MAX} (0)"
    )
    parser.set_defaults(func=run)


def read_yolo_sizes(folder: Path) -> tuple[np.ndarray, int, int]:
    """Box sizes of all label files under ``folder`` as fractions of each image's longer side.

    Returns ``(wh [N, 2], files, files_with_image_size)``. The files are read as
    ``detect train`` reads them (one shared reader: UTF-8 with or without a byte-order mark,
    ``class cx cy w h`` or a polygon line normalised to [0, 1], a box past the edge clipped
    to the image); boxes of zero width or height are left out, and one
    :class:`~tinyvision.data.formats.BadLabelsWarning` counts them. Errors (``UserError``)
    name file and line. Image sizes come from the matching images'
    headers (:func:`~tinyvision.data.images.image_size`).
    """
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: expected a folder of YOLO .txt label files")
    files = sorted(p for p in folder.rglob("*.txt") if p.name != "classes.txt")
    if not files:
        raise ValueError(f"{folder}: no .txt label files found")
    sizes: list[np.ndarray] = []
    with_size = 0
    left_out: list[str] = []
    for path in files:
        boxes = _read_label_file(path, left_out)
        scale = _image_scale(path)
        if scale is not None:
            with_size += 1
            boxes = boxes * scale
        sizes.append(boxes)
    if left_out:
        from tinyvision.data.formats import BadLabelsWarning

        warnings.warn(
            f"{folder}: left out {len(left_out)} box(es) of zero width or height "
            f"(first: {left_out[0]})",
            BadLabelsWarning,
            stacklevel=2,
        )
    return np.concatenate(sizes), len(files), with_size


def _read_label_file(path: Path, left_out: list[str]) -> np.ndarray:
    """``float64[N, 2]`` normalised ``(w, h)`` of a label file's boxes, clipped to the image
    as :func:`~tinyvision.data.formats.read_yolo` clips them; empty boxes go to ``left_out``."""
    from tinyvision.data._safe_io import read_text, yolo_label_rows
    from tinyvision.data.formats.yolo import yolo_box

    rows = []
    for line_no, _, cx, cy, w, h in yolo_label_rows(read_text(path), path, None):
        (_, _, w, h), _ = yolo_box(cx, cy, w, h, 1, 1)
        if w > 0 and h > 0:
            rows.append((w, h))
        else:
            left_out.append(f"{path}:{line_no}")
    return np.asarray(rows, dtype=np.float64).reshape(-1, 2)


def _image_scale(label_path: Path) -> np.ndarray | None:
    """``(W, H) / max(W, H)`` of the image matching a label file (YOLOv5's rule: the last
    ``labels`` folder becomes ``images``), or None if none is found or it cannot be read."""
    from tinyvision._errors import UserError
    from tinyvision.data.images import IMAGE_SUFFIXES, image_size

    parts = list(label_path.parts)
    if "labels" not in parts:
        return None
    at = len(parts) - 1 - parts[::-1].index("labels")
    parts[at] = "images"
    stem = Path(*parts).with_suffix("")
    for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
        image = stem.with_suffix(suffix)
        if image.is_file():
            try:
                width, height = image_size(image)
            except (UserError, OSError):  # unreadable: taken as square
                return None
            if min(width, height) <= 0:
                return None
            return np.array([width, height], dtype=np.float64) / max(width, height)
    return None


def run(args: argparse.Namespace) -> int:
    from tinyvision._cli._checks import warnings_as_lines
    from tinyvision.cluster import anchor_fitness, anchor_kmeans, best_possible_recall
    from tinyvision.data.formats import BadLabelsWarning

    with warnings_as_lines(BadLabelsWarning):
        wh, n_files, with_size = read_yolo_sizes(args.labels)
    if wh.shape[0] == 0:
        raise ValueError(f"{args.labels}: the label files hold no boxes")
    if args.n > wh.shape[0]:
        raise ValueError(
            f"--n (number of anchors) must be <= the number of boxes ({wh.shape[0]}), got {args.n}"
        )
    print(
        f"{wh.shape[0]} boxes in {n_files} label files; image sizes read for {with_size} "
        f"(others taken as square)"
    )
    with warnings_as_lines():
        anchors = anchor_kmeans(
            wh,
            args.n,
            args.img_size,
            thr=args.thr,
            generations=args.generations,
            random_state=args.seed,
        )
    pixels = wh * args.img_size
    bpr = best_possible_recall(pixels, anchors, thr=args.thr)
    fitness = anchor_fitness(pixels, anchors, thr=args.thr)
    per_target = _anchors_per_target(pixels, anchors, args.thr)
    print(f"anchors (w,h in pixels at img-size {args.img_size}, smallest area first):")
    print("  " + ",  ".join(f"{w:.0f},{h:.0f}" for w, h in anchors))
    print(f"best possible recall (thr={args.thr:g}): {bpr:.4f}")
    print(f"anchors above threshold per target: {per_target:.2f}")
    print(f"fitness: {fitness:.4f}")
    return 0


def _anchors_per_target(wh: np.ndarray, anchors: np.ndarray, thr: float) -> float:
    """Mean number of anchors each label fits (YOLOv5's 'anchors/target')."""
    r = wh[:, None, :] / anchors[None, :, :]
    x = np.minimum(r, 1.0 / r).min(axis=2)
    return float((x > 1.0 / thr).sum(axis=1).mean())
