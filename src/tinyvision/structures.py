"""The detection data model: a ground-truth data set and a detector's results, as columns.

Both are frozen dataclasses of numpy columns (one row per annotation or detection), the
in-memory form that every reader in :mod:`tinyvision.data.formats` returns and that
:func:`tinyvision.metrics.evaluate_detections` consumes. This module sits below both
``data`` and ``metrics`` (it imports neither); both re-export its classes. Boxes are
COCO's ``[x, y, w, h]`` in absolute pixels (continuous coordinates, float64), because the
COCO-exact evaluator must see the very numbers that pycocotools sees;
:meth:`DetectionDataset.boxes_xyxy` and :meth:`Detections.boxes_xyxy` give
the ``(x1, y1, x2, y2)`` form used by ``tinyvision.ops``.

The constructors check the columns (shapes, dtypes, finite values, non-negative sizes)
and raise ``ValueError``/``TypeError`` naming the column and the first bad row.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinyvision._validate import check_array, describe

__all__ = [
    "DetectionDataset",
    "Detections",
    "check_known_ids",
    "id_column",
    "xywh_to_xyxy",
    "xyxy_to_xywh",
]


def id_column(value: Any, name: str, n: int | None = None) -> np.ndarray:
    """An int64 id column (``[N]``, or ``[n]`` rows when ``n`` is given).

    Integral floats (``3.0``) are accepted; bools and strings raise ``TypeError``; NaN,
    fractions, values outside int64 and a wrong length raise ``ValueError`` naming ``name``.
    """
    array = np.asarray(value)
    if array.ndim != 1:
        array = array.reshape(-1) if array.size == 0 else array
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {array.shape}")
    if array.size == 0:
        array = np.zeros(0, dtype=np.int64)
    elif array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            row = int(np.flatnonzero(~np.isfinite(array) | (array != np.round(array)))[0])
            raise ValueError(f"{name} must hold integers, got {array[row].item()!r} at row {row}")
        _check_int64_range(array, name)
        array = array.astype(np.int64)
    elif array.dtype.kind == "u":
        _check_int64_range(array, name)
    elif array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got {describe(array)}")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows, got {array.shape[0]}")
    return np.ascontiguousarray(array, dtype=np.int64)


def _check_int64_range(array: np.ndarray, name: str) -> None:
    """Refuse values int64 cannot hold (they would wrap round when cast)."""
    bad = (
        (array >= 2.0**63) | (array < -(2.0**63)) if array.dtype.kind == "f" else array > 2**63 - 1
    )
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} must fit in 64 bits (-2**63..2**63-1), got {array[row].item()!r} at row {row}"
        )


def _reals(value: Any, name: str, n: int, *, nonnegative: bool = False) -> np.ndarray:
    """A finite float64 column of length ``n``."""
    array = check_array(
        value, name, shape=(n,), finite=False, dtype=np.float64, any_empty=True, contiguous=True
    )
    bad = ~np.isfinite(array)
    if nonnegative:
        bad |= array < 0
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        need = "finite and >= 0" if nonnegative else "finite"
        raise ValueError(f"{name} must be {need}, got {array[row].item()!r} at row {row}")
    return array


def _flags(value: Any, name: str, n: int) -> np.ndarray:
    """A bool column of length ``n`` from bools or 0/1 integers."""
    if value is None:
        return np.zeros(n, dtype=bool)
    array = check_array(
        value,
        name,
        shape=(n,),
        kinds="biuf",
        finite=False,
        any_empty=True,
        holding="0/1 or booleans",
    )
    return np.ascontiguousarray(array != 0)


def _boxes(value: Any, name: str) -> np.ndarray:
    """A finite float64 ``[N, 4]`` box column whose widths and heights are >= 0."""
    array = check_array(
        value,
        name,
        shape=(None, 4),
        finite=False,
        dtype=np.float64,
        any_empty=True,
        contiguous=True,
    )
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{name} must be finite, got {array[row].tolist()} at row {row}")
    return array


def _located_boxes(
    image_id: Any, category_id: Any, bbox: Any, row: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked ``image_id``, ``category_id`` (int64[N]) and ``bbox`` (float64[N, 4])."""
    image_id = id_column(image_id, "image_id")
    n = image_id.shape[0]
    category_id = id_column(category_id, "category_id", n)
    box = _boxes(bbox, "bbox")
    if box.shape[0] != n:
        raise ValueError(f"bbox must have {n} rows (one per {row}), got {box.shape[0]}")
    _check_sizes(box, "bbox")
    return image_id, category_id, box


def _check_sizes(xywh: np.ndarray, name: str) -> None:
    negative = (xywh[:, 2] < 0) | (xywh[:, 3] < 0)
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        raise ValueError(
            f"{name} must have width and height >= 0, got {xywh[row].tolist()} at row {row}"
        )


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """``[N, 4]`` (x1, y1, x2, y2) -> (x, y, w, h), float64."""
    boxes = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([boxes[:, 0:2], boxes[:, 2:4] - boxes[:, 0:2]], axis=1)


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """``[N, 4]`` (x, y, w, h) -> (x1, y1, x2, y2), float64."""
    boxes = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([boxes[:, 0:2], boxes[:, 0:2] + boxes[:, 2:4]], axis=1)


@dataclass(frozen=True, eq=False)
class DetectionDataset:
    """Ground truth of a detection data set, as columns.

    Images (``I`` rows) and categories (``K`` rows) are listed apart from the annotations
    (``N`` rows), so images without objects and categories without instances are kept.

    Attributes:
        image_ids (int64[I]): every image of the set, unique.
        category_ids (int64[K]): every category, unique, in the order of the source.
        category_names (tuple[str, ...]): ``K`` names.
        image_id (int64[N]), category_id (int64[N]): the image and category of each object.
        bbox (float64[N, 4]): ``(x, y, w, h)`` in pixels, ``w, h >= 0``.
        area (float64[N]): COCO's ``area`` (segmentation area; ``w * h`` when unknown).
        iscrowd (bool[N]): COCO crowd regions.
        ignore (bool[N]): objects not to be counted (COCO ``ignore``, VOC ``difficult``).
        annotation_id (int64[N]): the annotations' ids (COCO ``id``), unique.
        image_files (tuple[str, ...]): ``I`` file names relative to the image folder
            (``""`` where unknown); empty when no image has one.
        image_sizes (int64[I, 2]): ``(width, height)`` per image, 0 where unknown.
        image_root (str): the folder ``image_files`` are relative to (``""``: unknown).
        segmentation (tuple | None): each annotation's COCO ``segmentation`` as read
            (polygons, RLE or uncompressed RLE; None where absent), converted to masks
            only by a ``segm`` evaluation; None when no annotation has one.
        keypoints (tuple | None), num_keypoints (tuple | None): COCO's ``keypoints``
            (``[x1, y1, v1, ...]``) and ``num_keypoints`` as read, for ``keypoints``
            evaluations; None when no annotation has them.
        source (str): where the table was read from, for error messages.
    """

    image_ids: np.ndarray
    category_ids: np.ndarray
    category_names: tuple[str, ...]
    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray
    area: np.ndarray
    iscrowd: np.ndarray
    ignore: np.ndarray
    annotation_id: np.ndarray
    image_files: tuple[str, ...] = ()
    image_sizes: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    image_root: str = ""
    segmentation: tuple[Any, ...] | None = None
    keypoints: tuple[Any, ...] | None = None
    num_keypoints: tuple[Any, ...] | None = None
    source: str = ""

    @classmethod
    def from_columns(
        cls,
        *,
        image_id: Any,
        category_id: Any,
        bbox: Any,
        image_ids: Any = None,
        category_ids: Any = None,
        category_names: Sequence[str] | None = None,
        area: Any = None,
        iscrowd: Any = None,
        ignore: Any = None,
        annotation_id: Any = None,
        image_files: Sequence[str] | None = None,
        image_sizes: Any = None,
        image_root: str | os.PathLike[str] = "",
        segmentation: Sequence[Any] | None = None,
        keypoints: Sequence[Any] | None = None,
        num_keypoints: Sequence[Any] | None = None,
        source: str = "",
    ) -> DetectionDataset:
        """Build and check a data set from columns (``bbox`` as ``[N, 4]`` x, y, w, h).

        ``image_ids`` defaults to the sorted distinct ``image_id``; ``category_ids`` to the
        sorted distinct ``category_id``; names to ``str(id)``; ``area`` to ``w * h``;
        ``iscrowd``/``ignore`` to False; ``annotation_id`` to ``1..N``.
        """
        image_id, category_id, box = _located_boxes(image_id, category_id, bbox, "annotation")
        n = image_id.shape[0]
        images = np.unique(image_id) if image_ids is None else id_column(image_ids, "image_ids")
        if category_ids is None:
            cats = np.unique(category_id)
        else:
            cats = id_column(category_ids, "category_ids")
        names = tuple(str(c) for c in cats) if category_names is None else tuple(category_names)
        if len(names) != cats.shape[0]:
            raise ValueError(f"category_names must have {cats.shape[0]} entries, got {len(names)}")
        areas = box[:, 2] * box[:, 3] if area is None else _reals(area, "area", n, nonnegative=True)
        ann_ids = (
            np.arange(1, n + 1, dtype=np.int64)
            if annotation_id is None
            else id_column(annotation_id, "annotation_id", n)
        )
        files = () if image_files is None else tuple(str(f) for f in image_files)
        if files and len(files) != images.shape[0]:
            raise ValueError(f"image_files must have {images.shape[0]} entries, got {len(files)}")
        if image_sizes is None:
            sizes = np.zeros((images.shape[0], 2), dtype=np.int64)
        else:
            sizes = np.asarray(image_sizes, dtype=np.int64).reshape(-1, 2)
            if sizes.shape[0] != images.shape[0]:
                raise ValueError(
                    f"image_sizes must have {images.shape[0]} rows, got {sizes.shape[0]}"
                )
        dataset = cls(
            image_ids=images,
            category_ids=cats,
            category_names=names,
            image_id=image_id,
            category_id=category_id,
            bbox=box,
            area=areas,
            iscrowd=_flags(iscrowd, "iscrowd", n),
            ignore=_flags(ignore, "ignore", n),
            annotation_id=ann_ids,
            image_files=files,
            image_sizes=sizes,
            image_root=str(image_root),
            segmentation=_objects(segmentation, "segmentation", n),
            keypoints=_objects(keypoints, "keypoints", n),
            num_keypoints=_objects(num_keypoints, "num_keypoints", n),
            source=str(source),
        )
        dataset.check()
        return dataset

    def check(self) -> None:
        """Raise ``ValueError`` on duplicate ids or annotations pointing nowhere."""
        _check_unique(self.image_ids, "image id")
        _check_unique(self.category_ids, "category id")
        _check_unique(self.annotation_id, "annotation id")
        check_known_ids(
            self.image_id, self.image_ids, rows="annotations", what="image id", where="the images"
        )
        check_known_ids(
            self.category_id,
            self.category_ids,
            rows="annotations",
            what="category id",
            where="the categories",
        )

    def __len__(self) -> int:
        return int(self.image_id.shape[0])

    @property
    def num_images(self) -> int:
        return int(self.image_ids.shape[0])

    def boxes_xyxy(self) -> np.ndarray:
        """``float64[N, 4]`` boxes as ``(x1, y1, x2, y2)``."""
        return xywh_to_xyxy(self.bbox)

    def annotations_by_image(self) -> list[np.ndarray]:
        """For each image (in ``image_ids`` order), the row indices of its annotations."""
        sorter = np.argsort(self.image_ids, kind="stable")
        position = sorter[np.searchsorted(self.image_ids, self.image_id, sorter=sorter)]
        order = np.argsort(position, kind="stable")
        counts = np.bincount(position, minlength=self.num_images)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        return [order[bounds[i] : bounds[i + 1]] for i in range(self.num_images)]

    def image_paths(self) -> list[str]:
        """Each image's path: ``image_root`` joined with its file name (I entries)."""
        if not self.image_files:
            raise ValueError("the data set has no image file names")
        return [os.path.join(self.image_root, f) if f else "" for f in self.image_files]

    def category_index(self) -> dict[int, int]:
        """``{category id: position}``, e.g. the YOLO class index of each category."""
        return {int(c): i for i, c in enumerate(self.category_ids)}


@dataclass(frozen=True, eq=False)
class Detections:
    """A detector's results, as columns (``N`` rows).

    Attributes:
        image_id (int64[N]), category_id (int64[N]): where and what.
        bbox (float64[N, 4]): ``(x, y, w, h)`` in pixels, ``w, h >= 0``.
        score (float64[N]): confidences, finite.
        area (float64[N] | None): the area compared with the area ranges, as pycocotools'
            ``loadRes`` sets it (``w * h`` of the box when None).
        segmentation (tuple | None): each result's ``segmentation`` as read (``segm``).
        keypoints (tuple | float64[N, 3k] | None): each result's ``keypoints`` as read
            (``keypoints``), or all of them as one table when they were read as one.
        source (str): where the results were read from, for error messages.
        rles (tuple | None): ``segmentation`` decoded, ``(counts uint32[C], offsets
            int64[N + 1], h int64[N], w int64[N])``, when the reader already decoded it
            (results without ``bbox``), so that a ``segm`` evaluation does not again.
    """

    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray
    score: np.ndarray
    area: np.ndarray | None = None
    segmentation: tuple[Any, ...] | None = None
    keypoints: tuple[Any, ...] | np.ndarray | None = None
    source: str = ""
    rles: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, repr=False
    )

    @classmethod
    def from_columns(
        cls,
        *,
        image_id: Any,
        category_id: Any,
        bbox: Any,
        score: Any,
        area: Any = None,
        segmentation: Sequence[Any] | None = None,
        keypoints: Sequence[Any] | None = None,
        source: str = "",
        rles: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> Detections:
        """Build and check results from columns (``bbox`` as ``[N, 4]`` x, y, w, h)."""
        image_id, category_id, box = _located_boxes(image_id, category_id, bbox, "detection")
        n = image_id.shape[0]
        return cls(
            image_id,
            category_id,
            box,
            _reals(score, "score", n),
            None if area is None else _reals(area, "area", n, nonnegative=True),
            _objects(segmentation, "segmentation", n),
            _keypoint_rows(keypoints, n),
            str(source),
            rles if rles is None or rles[2].shape[0] == n else None,
        )

    def __len__(self) -> int:
        return int(self.image_id.shape[0])

    def boxes_xyxy(self) -> np.ndarray:
        """``float64[N, 4]`` boxes as ``(x1, y1, x2, y2)``."""
        return xywh_to_xyxy(self.bbox)

    def select(self, rows: np.ndarray) -> Detections:
        """The detections at ``rows`` (an index or boolean array)."""
        index = np.arange(len(self))[rows]
        return Detections(
            self.image_id[rows],
            self.category_id[rows],
            self.bbox[rows],
            self.score[rows],
            None if self.area is None else self.area[rows],
            None if self.segmentation is None else tuple(self.segmentation[i] for i in index),
            _select_objects(self.keypoints, index),
            self.source,
        )


def _objects(value: Sequence[Any] | None, name: str, n: int) -> tuple[Any, ...] | None:
    """An optional per-row column of JSON objects (checked when it is used)."""
    if value is None:
        return None
    out = tuple(value)
    if len(out) != n:
        raise ValueError(f"{name} must have {n} entries (one per row), got {len(out)}")
    return out


def _keypoint_rows(value: Any, n: int) -> tuple[Any, ...] | np.ndarray | None:
    """Results' keypoints: a float64 ``[n, m]`` table kept as one array, else as
    :func:`_objects` (checked when used)."""
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype == np.float64:
        if value.shape[0] != n:
            raise ValueError(f"keypoints must have {n} rows (one per row), got {value.shape[0]}")
        return value
    return _objects(value, "keypoints", n)


def _select_objects(
    value: tuple[Any, ...] | np.ndarray | None, index: np.ndarray
) -> tuple[Any, ...] | np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return value[index]
    return tuple(value[i] for i in index)


def _check_unique(ids: np.ndarray, what: str) -> None:
    if ids.size < 2:
        return
    ordered = np.sort(ids)
    dup = ordered[1:] == ordered[:-1]
    if dup.any():
        raise ValueError(f"duplicate {what} {int(ordered[1:][dup][0])}")


def check_known_ids(
    values: np.ndarray, known: np.ndarray, *, rows: str, what: str, where: str
) -> None:
    """Raise ``ValueError`` naming the ids of ``values`` missing from ``known``."""
    if values.size == 0:
        return
    missing = ~np.isin(values, known)
    if missing.any():
        bad = np.unique(values[missing])
        shown = ", ".join(str(int(v)) for v in bad[:5]) + (", ..." if bad.size > 5 else "")
        raise ValueError(
            f"{rows} refer to {bad.size} {what}(s) missing from {where}: {shown} "
            f"(first at row {int(np.flatnonzero(missing)[0])})"
        )
