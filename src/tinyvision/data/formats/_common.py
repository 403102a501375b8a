"""What the format modules share: image ids from file stems, building a data set from
per-image object lists, label-file stems, number text, image copying, split names."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tinyvision._errors import UserError
from tinyvision._fileio import (
    atomic_copy,
)
from tinyvision._validate import check_instance
from tinyvision.data.images import is_image_file
from tinyvision.structures import DetectionDataset, Detections

PathLike = str | os.PathLike[str]


def image_ids_from_stems(stems: Sequence[str]) -> np.ndarray:
    """Integer stems as ids when all are integers and distinct, else 1..N."""
    if stems and all(s.isascii() and s.isdigit() and len(s) < 19 for s in stems):
        ids = np.array([int(s) for s in stems], dtype=np.int64)
        if np.unique(ids).size == len(stems):
            return ids
    return np.arange(1, len(stems) + 1, dtype=np.int64)


def stem_index(dataset: DetectionDataset) -> dict[str, int]:
    """``{file stem: image id}`` (also ``{str(id): id}``) for mapping predictions to images."""
    index = {str(i): int(i) for i in dataset.image_ids.tolist()}
    for name, image_id in zip(dataset.image_files, dataset.image_ids.tolist()):
        if name:
            index[Path(name).stem] = int(image_id)
            index[Path(name).as_posix()] = int(image_id)
    return index


def build_dataset(
    stems_files: list[str],
    sizes: list[tuple[int, int]],
    boxes: list[list[tuple[int, float, float, float, float, bool]]],
    names: Sequence[str],
    category_ids: np.ndarray,
    image_root: Path | str = "",
) -> DetectionDataset:
    """A data set from per-image lists of ``(category id, x, y, w, h, ignore)``, each
    optionally followed by a COCO ``segmentation`` (polygons in pixels) or None."""
    image_ids = image_ids_from_stems([Path(f).stem for f in stems_files])
    rows = [(image_ids[i], *obj) for i, objs in enumerate(boxes) for obj in objs]
    if rows:
        image_id = np.array([r[0] for r in rows], dtype=np.int64)
        category_id = np.array([r[1] for r in rows], dtype=np.int64)
        bbox = np.array([r[2:6] for r in rows], dtype=np.float64)
        ignore = np.array([r[6] for r in rows], dtype=bool)
    else:
        image_id = category_id = np.zeros(0, dtype=np.int64)
        bbox, ignore = np.zeros((0, 4)), np.zeros(0, dtype=bool)
    segs = [r[7] if len(r) > 7 else None for r in rows]
    segmented: dict[str, Any] = {}
    if any(seg is not None for seg in segs):
        # polygons (YOLO segmentation labels): the area is the polygon's, as in COCO
        segmented["segmentation"] = segs
        segmented["area"] = [
            b[2] * b[3] if seg is None else polygon_area(seg[0]) for b, seg in zip(bbox, segs)
        ]
    return DetectionDataset.from_columns(
        image_id=image_id,
        category_id=category_id,
        bbox=bbox,
        image_ids=image_ids,
        category_ids=category_ids,
        category_names=list(names),
        ignore=ignore,
        image_files=stems_files,
        image_sizes=np.array(sizes, dtype=np.int64).reshape(-1, 2),
        image_root=image_root,
        **segmented,
    )


def polygon_area(polygon: list[float]) -> float:
    """The shoelace area of a polygon ``[x1, y1, x2, y2, ...]``."""
    x, y = np.asarray(polygon[0::2]), np.asarray(polygon[1::2])
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def number_text(value: float) -> str:
    """The shortest text that reads back as the same float64 (``12`` for whole numbers)."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def output_stems(dataset: DetectionDataset) -> list[str]:
    """One file stem per image (``I``): the image file's stem, else the zero-padded id;
    ``UserError`` when two images would share one."""
    if dataset.image_files:
        stems = [
            Path(f).stem if f else str(i)
            for f, i in zip(dataset.image_files, dataset.image_ids.tolist())
        ]
    else:
        stems = [f"{i:012d}" for i in dataset.image_ids.tolist()]
    if len(set(stems)) != len(stems):
        raise UserError("image file stems are not unique: cannot name one label file per image")
    return stems


def check_split_name(split: Any, name: str = "split") -> str:
    """Return ``split`` if it is a plain name: a folder and file name part (``val``,
    ``train2017``), not empty, ``.`` or ``..``, with no path separator; else raise
    ``ValueError`` (``TypeError`` for a non-string) naming ``name``."""
    check_instance(split, str, name)
    separators = {"/", "\\", os.sep, os.altsep or "/", "\0"}
    if split in ("", ".", "..") or any(c in split for c in separators):
        raise ValueError(
            f"{name} must be a plain name (no path separators, not '.' or '..'), got {split!r}"
        )
    return split


def copy_images(files: Sequence[str], image_dir: PathLike, folder: Path, stems: list[str]) -> None:
    """Copy each image ``image_dir/files[i]`` to ``folder/<stems[i]><suffix>``.

    Only image files are copied: a name that is a folder, a device or not an image (a
    COCO ``file_name`` such as ``/etc/hostname``) is skipped, and one ``UserWarning``
    counts and names them. A missing file is an error (``FileNotFoundError``).
    """
    skipped = []
    for file, stem in zip(files, stems):
        src = Path(image_dir) / file
        if not is_image_file(src):
            if not src.exists():
                raise FileNotFoundError(f"{src}: no such image file")
            skipped.append(str(src))
            continue
        atomic_copy(src, folder / f"{stem}{Path(file).suffix}")
    if skipped:
        import warnings

        named = ", ".join(repr(s) for s in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.warn(
            f"did not copy {len(skipped)} of {len(stems)} image file(s) that are not image "
            f"files: {named}{more} (their annotations were written)",
            UserWarning,
            stacklevel=3,
        )


def detections_from_rows(
    rows: list[tuple[int, int, float, float, float, float, float]],
) -> Detections:
    """Detections from ``(image id, category id, x, y, w, h, score)`` rows."""
    if not rows:
        return Detections.from_columns(image_id=[], category_id=[], bbox=np.zeros((0, 4)), score=[])
    table = np.array(rows, dtype=np.float64)
    return Detections.from_columns(
        image_id=table[:, 0].astype(np.int64),
        category_id=table[:, 1].astype(np.int64),
        bbox=table[:, 2:6],
        score=table[:, 6],
    )
