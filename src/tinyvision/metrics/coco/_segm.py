"""COCO ``segmentation`` and ``keypoints`` fields as checked arrays for the evaluator.

:func:`to_rles` turns each annotation's segmentation (polygons, uncompressed RLE or
compressed RLE) into run-length counts as pycocotools' ``COCO.annToRLE`` does (polygons
rasterised at the image's size and merged, RLEs at their own size), with the kernels of
:mod:`tinyvision.metrics._rle`. :func:`to_keypoints` reads ``[x1, y1, v1, ...]`` lists.
Malformed entries raise ``ValueError``/``TypeError`` naming the source, the row (and the
annotation id where known) and the field.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tinyvision._validate import describe
from tinyvision.metrics import _rle

RowName = Callable[[int], str]

_U32_MAX = 2**32 - 1


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


_PLAIN_NUMBERS = frozenset((int, float))


def _polygon(poly: Any, name: str) -> np.ndarray:
    plain = type(poly) is list and all(type(v) in _PLAIN_NUMBERS for v in poly)
    if not plain and (not isinstance(poly, (list, tuple)) or not all(_is_number(v) for v in poly)):
        raise TypeError(
            f"{name} must be a list of polygons (lists of numbers), got {describe(poly)}"
        )
    if len(poly) < 6 or len(poly) % 2:
        raise ValueError(
            f"{name} must be a polygon of at least 3 points (x1, y1, x2, y2, ...: an even "
            f"count of at least 6 numbers), got {len(poly)} numbers"
        )
    xy = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(xy).all():
        raise ValueError(f"{name} must hold finite numbers, got {poly!r}")
    return xy


def _size(rle: Mapping[str, Any], name: str) -> tuple[int, int]:
    size = rle.get("size")
    ok = (
        isinstance(size, (list, tuple))
        and len(size) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in size)
        and all(v >= 0 for v in size)
    )
    if not ok:
        raise ValueError(f"{name}['size'] must be [height, width], got {size!r}")
    return int(size[0]), int(size[1])


def _uncompressed(counts: list[Any], name: str) -> np.ndarray:
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in counts):
        raise TypeError(f"{name}['counts'] must be a list of integers or an RLE string")
    array = np.asarray(counts, dtype=np.int64) if counts else np.zeros(0, np.int64)
    if array.size and (array.min() < 0 or array.max() > _U32_MAX):
        raise ValueError(f"{name}['counts'] must hold run lengths in [0, 2**32 - 1]")
    return array.astype(np.uint32)


def _name(row_name: RowName, i: int) -> str:
    return f"{row_name(i)}['segmentation']"


def _wrong_size(name: str, h: int, w: int, height: int, width: int) -> None:
    raise ValueError(
        f"{name}['size'] is {[int(h), int(w)]}, but the image is "
        f"{[int(height), int(width)]} (height, width)"
    )


def to_rles(
    segs: Sequence[Any],
    heights: np.ndarray,
    widths: np.ndarray,
    row_name: RowName,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(counts uint32[C], offsets int64[n + 1], h int64[n], w int64[n])`` of ``n``
    segmentations; ``heights``/``widths`` (int64[n]) are each row's image size (0:
    unknown), used for polygons and checked against an RLE's ``size``."""
    n = len(segs)
    parts: list[np.ndarray | None] = [None] * n
    h = np.zeros(n, dtype=np.int64)
    w = np.zeros(n, dtype=np.int64)
    poly_rows: list[int] = []
    poly_xy: list[np.ndarray] = []
    poly_count: list[int] = []
    strings: list[bytes] = []
    string_rows: list[int] = []
    for i, seg in enumerate(segs):
        if type(seg) is dict and type(seg.get("counts")) is str:  # the common RLE result
            size = seg.get("size")
            if type(size) is list and len(size) == 2 and type(size[0]) is type(size[1]) is int:
                h[i], w[i] = size
            else:
                h[i], w[i] = _size(seg, _name(row_name, i))
            if heights[i] > 0 and (h[i] != heights[i] or w[i] != widths[i]):
                _wrong_size(_name(row_name, i), h[i], w[i], heights[i], widths[i])
            strings.append(seg["counts"].encode("ascii", "replace"))
            string_rows.append(i)
        elif isinstance(seg, list):
            name = _name(row_name, i)
            if not seg:
                raise ValueError(f"{name} is an empty list (no polygon)")
            if heights[i] <= 0 or widths[i] <= 0:
                raise ValueError(f"{name}: polygons need the image's 'height' and 'width'")
            poly_xy.extend(_polygon(p, name) for p in seg)
            poly_rows.append(i)
            poly_count.append(len(seg))
            h[i], w[i] = heights[i], widths[i]
        elif isinstance(seg, Mapping) and "counts" in seg:
            name = _name(row_name, i)
            h[i], w[i] = _size(seg, name)
            if heights[i] > 0 and (h[i] != heights[i] or w[i] != widths[i]):
                _wrong_size(name, h[i], w[i], heights[i], widths[i])
            counts = seg["counts"]
            if isinstance(counts, list):
                parts[i] = _uncompressed(counts, name)
            elif isinstance(counts, (str, bytes)):
                strings.append(
                    counts.encode("ascii", "replace") if isinstance(counts, str) else counts
                )
                string_rows.append(i)
            else:
                raise TypeError(
                    f"{name}['counts'] must be a list of integers or an RLE string, "
                    f"got {describe(counts)}"
                )
        elif seg is None:
            raise ValueError(f"{row_name(i)} has no 'segmentation'")
        else:
            raise TypeError(
                f"{_name(row_name, i)} must be a list of polygons or an RLE object with "
                f"'counts' and 'size', got {describe(seg)}"
            )
    if strings:
        starts = np.zeros(len(strings) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in strings], out=starts[1:])
        buf = np.frombuffer(b"".join(strings), dtype=np.uint8)
        counts, offsets, bad = _rle.strings_to_counts(buf, starts)
        if bad >= 0:
            raise ValueError(
                f"{row_name(string_rows[bad])}['segmentation']['counts'] is not a valid "
                f"compressed RLE string"
            )
        if len(string_rows) == n:  # only compressed RLEs (results): already in order
            return _checked(counts, offsets, h, w, row_name)
        for j, i in enumerate(string_rows):
            parts[i] = counts[offsets[j] : offsets[j + 1]]
    if poly_xy:
        starts = np.zeros(len(poly_xy) + 1, dtype=np.int64)
        np.cumsum([p.shape[0] for p in poly_xy], out=starts[1:])
        owner = np.repeat(np.asarray(poly_rows, dtype=np.int64), poly_count)
        counts, offsets = _rle.from_polygons(np.concatenate(poly_xy), starts, h[owner], w[owner])
        first = 0
        for i, k in zip(poly_rows, poly_count):
            if k == 1:
                parts[i] = counts[offsets[first] : offsets[first + 1]]
            else:
                sub = offsets[first : first + k + 1]
                parts[i] = _rle.merge(counts, sub, False)
            first += k
    lengths = np.array([p.shape[0] for p in parts], dtype=np.int64)  # type: ignore[union-attr]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    counts = np.concatenate(parts) if n else np.zeros(0, np.uint32)  # type: ignore[arg-type]
    return _checked(np.ascontiguousarray(counts, dtype=np.uint32), offsets, h, w, row_name)


def _checked(
    counts: np.ndarray, offsets: np.ndarray, h: np.ndarray, w: np.ndarray, row_name: RowName
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The RLEs, once their counts are known to sum to h * w."""
    sums = _rle.sums(counts, offsets)
    wrong = np.flatnonzero(sums != h * w)
    if wrong.size:
        i = int(wrong[0])
        raise ValueError(
            f"{row_name(i)}['segmentation']: the RLE counts sum to {int(sums[i])}, not "
            f"height * width = {int(h[i] * w[i])}"
        )
    return counts, offsets, h, w


def check_sizes(
    h: np.ndarray, w: np.ndarray, heights: np.ndarray, widths: np.ndarray, row_name: RowName
) -> None:
    """Refuse RLEs whose size is not their image's (where the image's is known)."""
    wrong = np.flatnonzero((heights > 0) & ((h != heights) | (w != widths)))
    if wrong.size:
        i = int(wrong[0])
        _wrong_size(_name(row_name, i), h[i], w[i], heights[i], widths[i])


def to_keypoints(values: Sequence[Any], k: int, row_name: RowName) -> np.ndarray:
    """``float64[n, 3k]`` from ``n`` lists ``[x1, y1, v1, ..., xk, yk, vk]``."""
    n = len(values)
    try:
        array = np.asarray(values, dtype=np.float64) if n else np.zeros((0, 3 * k))
    except (TypeError, ValueError):
        array = None
    if array is None or array.shape != (n, 3 * k) or not np.isfinite(array).all():
        for i, v in enumerate(values):
            name = f"{row_name(i)}['keypoints']"
            if v is None:
                raise ValueError(f"{row_name(i)} has no 'keypoints'")
            if not isinstance(v, (list, tuple, np.ndarray)) or not all(_is_number(x) for x in v):
                raise TypeError(f"{name} must be a list of numbers, got {describe(v)}")
            if len(v) != 3 * k:
                raise ValueError(
                    f"{name} must have 3 * {k} = {3 * k} numbers (x, y, v per keypoint, "
                    f"one per kpt_oks_sigmas), got {len(v)}"
                )
            if not all(np.isfinite(x) for x in v):
                raise ValueError(f"{name} must hold finite numbers, got {v!r}")
        raise ValueError("keypoints must be an [N, 3k] table")  # pragma: no cover
    return array


def num_keypoints(values: Sequence[Any], row_name: RowName) -> np.ndarray:
    """``int64[n]`` of the ground truths' ``num_keypoints``."""
    out = np.zeros(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        if v is None:
            raise ValueError(f"{row_name(i)} has no 'num_keypoints' (needed by keypoints)")
        if not _is_number(v) or v != int(v):
            raise TypeError(f"{row_name(i)}['num_keypoints'] must be an integer, got {v!r}")
        out[i] = int(v)
    return out


def mask_boxes(
    segs: Sequence[Any], where: str
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Boxes (float64[n, 4]) and areas (float64[n]) of results' RLE segmentations, as
    pycocotools' ``loadRes`` sets them when the results have no ``bbox``
    (``maskUtils.toBbox`` and ``maskUtils.area`` of compressed RLEs), and the decoded
    RLEs (see :attr:`Detections.rles`)."""
    compressed = all(type(seg) is dict and type(seg.get("counts")) is str for seg in segs)
    for i, seg in enumerate(() if compressed else segs):
        if not (isinstance(seg, Mapping) and isinstance(seg.get("counts"), (str, bytes))):
            raise ValueError(
                f"{where}[{i}]['segmentation'] must be an RLE with compressed 'counts' "
                f"when the results have no 'bbox' (as pycocotools' loadRes), got {describe(seg)}"
            )
    zero = np.zeros(len(segs), dtype=np.int64)
    counts, offsets, h, w = to_rles(segs, zero, zero, lambda i: f"{where}[{i}]")
    box = _rle.to_bbox(counts, offsets, h, w)
    return box, _rle.area(counts, offsets).astype(np.float64), (counts, offsets, h, w)


def keypoint_boxes(values: Sequence[Any], where: str) -> tuple[np.ndarray, np.ndarray]:
    """Boxes and areas of results' keypoints as pycocotools' ``loadRes`` sets them: the
    extent of all the keypoints' x and y (visible or not)."""
    return keypoint_extent(keypoint_table(values, where))


def keypoint_table(values: Sequence[Any], where: str) -> np.ndarray:
    """Results' keypoint lists (all of one length ``3k``, finite) as ``float64[n, 3k]``."""
    try:
        array = np.array(values) if values else np.zeros((0, 3))
    except ValueError:  # ragged
        array = None
    if (
        array is None
        or array.ndim != 2
        or array.dtype.kind not in "iuf"
        or array.shape[1] < 3
        or array.shape[1] % 3
        or not np.isfinite(array).all()
    ):
        for i, v in enumerate(values):
            name = f"{where}[{i}]['keypoints']"
            if not isinstance(v, (list, tuple)) or not all(_is_number(x) for x in v):
                raise TypeError(f"{name} must be a list of numbers, got {describe(v)}")
            if len(v) < 3 or len(v) % 3:
                raise ValueError(f"{name} must be x, y, v triples, got {len(v)} numbers")
            if not all(np.isfinite(x) for x in v):
                raise ValueError(f"{name} must hold finite numbers, got {v!r}")
        raise ValueError(f"{where}: every result's 'keypoints' must have the same length")
    return np.ascontiguousarray(array, dtype=np.float64)


def keypoint_extent(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (float64[n, 4] x, y, w, h) and areas (float64[n]) of the extent of each row
    of ``float64[n, 3k]`` keypoints (x and y of every keypoint, visible or not)."""
    x, y = table[:, 0::3], table[:, 1::3]
    x0, y0 = x.min(axis=1), y.min(axis=1)
    with np.errstate(over="ignore"):  # an infinite size is refused with the results
        boxes = np.stack([x0, y0, x.max(axis=1) - x0, y.max(axis=1) - y0], axis=1)
        area = boxes[:, 2] * boxes[:, 3]
    return boxes.reshape(-1, 4), area
