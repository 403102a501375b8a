"""COCO segmentation objects (RLE dicts, polygons, boxes) <-> the arrays of :mod:`._rle`.

Shared by the public face :mod:`tinyvision.coco.mask` and the evaluator: every object is
checked here once, and a bad one raises ``TypeError``/``ValueError`` naming it (``name``,
e.g. ``"rleObjs[3]"``), what was expected and what was given.

:class:`Rles` holds many RLEs as flat arrays; :func:`read_rles` parses compressed RLE dicts
(``{"size": [h, w], "counts": b"..."}``, ``counts`` also as ``str``),
:func:`read_uncompressed` uncompressed ones (``counts`` a list of ints), :func:`from_polygons`
and :func:`from_boxes` rasterise, :func:`write_rles` makes compressed dicts again.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyvision._validate import describe
from tinyvision.metrics import _rle


@dataclass(frozen=True)
class Rles:
    """``n`` RLEs: ``counts (uint32[C])``, ``offsets (int64[n + 1])``, ``h, w (int64[n])``."""

    counts: np.ndarray
    offsets: np.ndarray
    h: np.ndarray
    w: np.ndarray

    def __len__(self) -> int:
        return self.offsets.shape[0] - 1

    def one(self, i: int) -> np.ndarray:
        """The counts of RLE ``i``."""
        return self.counts[self.offsets[i] : self.offsets[i + 1]]


def _label(name: str, i: int, single: bool) -> str:
    return name if single else f"{name}[{i}]"


def _size(obj: Any, label: str) -> tuple[int, int]:
    """The ``size`` of an RLE dict as two non-negative ints."""
    if not isinstance(obj, dict):
        raise TypeError(
            f"{label} must be an RLE dict with 'size' and 'counts', got {describe(obj)}"
        )
    for key in ("size", "counts"):
        if key not in obj:
            raise ValueError(f"{label} must have a {key!r} key, got keys {sorted(map(str, obj))}")
    size = obj["size"]
    ok = (
        isinstance(size, (Sequence, np.ndarray))
        and not isinstance(size, (str, bytes))
        and len(size) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in size)
        and all(v >= 0 for v in size)
    )
    if not ok:
        raise ValueError(f"{label}['size'] must be [height, width], got {describe(size)}")
    return int(size[0]), int(size[1])


def read_rles(objs: list, name: str, *, single: bool = False) -> Rles:
    """Parse compressed RLE dicts (``counts`` bytes or str) and check that each is valid:
    well-formed characters, no negative count, counts summing to ``h * w``."""
    n = len(objs)
    h = np.empty(n, dtype=np.int64)
    w = np.empty(n, dtype=np.int64)
    strings = []
    for i, obj in enumerate(objs):
        label = _label(name, i, single)
        h[i], w[i] = _size(obj, label)
        counts = obj["counts"]
        if isinstance(counts, str):
            try:
                counts = counts.encode("ascii")
            except UnicodeEncodeError:
                raise ValueError(
                    f"{label}['counts'] must be a compressed RLE string (characters "
                    f"'0'..'o'), got {describe(obj['counts'])}"
                ) from None
        elif not isinstance(counts, bytes):
            hint = (
                " (uncompressed RLE: convert it with frPyObjects)"
                if isinstance(counts, (list, np.ndarray))
                else ""
            )
            raise TypeError(
                f"{label}['counts'] must be bytes or str (compressed RLE){hint}, "
                f"got {describe(counts)}"
            )
        strings.append(counts)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(s) for s in strings], out=starts[1:])
    buf = np.frombuffer(b"".join(strings), dtype=np.uint8)
    counts, offsets, bad = _rle.strings_to_counts(buf, starts)
    if bad >= 0:
        raise ValueError(
            f"{_label(name, bad, single)}['counts'] is not a valid compressed RLE string "
            f"(characters '0'..'o', counts from 0 to 2**32 - 1), got "
            f"{describe(objs[bad]['counts'])}"
        )
    rles = Rles(counts, offsets, h, w)
    check_sums(rles, name, single=single)
    return rles


def check_sums(rles: Rles, name: str, *, single: bool = False) -> None:
    """Raise ``ValueError`` naming the first RLE whose counts do not cover ``h * w``."""
    sums = _rle.sums(rles.counts, rles.offsets)
    wrong = np.flatnonzero(sums != rles.h * rles.w)
    if wrong.size:
        i = int(wrong[0])
        raise ValueError(
            f"{_label(name, i, single)}['counts'] must sum to height * width = "
            f"{rles.h[i] * rles.w[i]} for size [{rles.h[i]}, {rles.w[i]}], got {sums[i]}"
        )


def read_uncompressed(objs: list, name: str, *, single: bool = False) -> Rles:
    """Parse uncompressed RLE dicts (``counts`` a list of non-negative ints)."""
    n = len(objs)
    h = np.empty(n, dtype=np.int64)
    w = np.empty(n, dtype=np.int64)
    parts = []
    for i, obj in enumerate(objs):
        label = _label(name, i, single)
        h[i], w[i] = _size(obj, label)
        raw = obj["counts"]
        if isinstance(raw, (str, bytes)) or not isinstance(raw, (Sequence, np.ndarray)):
            raise TypeError(
                f"{label}['counts'] must be a list of ints (uncompressed RLE), got {describe(raw)}"
            )
        counts = np.asarray(raw)
        if counts.ndim != 1 or (counts.size and counts.dtype.kind not in "iu"):
            raise TypeError(f"{label}['counts'] must be a list of ints, got {describe(raw)}")
        if counts.size and (counts.min() < 0 or counts.max() > 0xFFFFFFFF):
            raise ValueError(
                f"{label}['counts'] must be counts from 0 to 2**32 - 1, got {describe(raw)}"
            )
        parts.append(counts.astype(np.uint32))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([p.shape[0] for p in parts], out=offsets[1:])
    counts = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)
    rles = Rles(counts, offsets, h, w)
    check_sums(rles, name, single=single)
    return rles


def write_rles(rles: Rles) -> list[dict[str, Any]]:
    """Compressed RLE dicts ``{"size": [h, w], "counts": bytes}``, as pycocotools writes."""
    buf, starts = _rle.counts_to_strings(rles.counts, rles.offsets)
    data = buf.tobytes()
    return [
        {"size": [int(h), int(w)], "counts": data[s:e]}
        for h, w, s, e in zip(rles.h.tolist(), rles.w.tolist(), starts[:-1], starts[1:])
    ]


def from_polygons(polygons: list, h: int, w: int, name: str) -> Rles:
    """Rasterise polygons (flat ``[x0, y0, x1, y1, ...]`` lists; an odd last number is
    ignored, as pycocotools) in an ``h x w`` image, one RLE per polygon."""
    parts = []
    for i, poly in enumerate(polygons):
        try:
            xy = np.asarray(poly, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name}[{i}] must be a polygon (a flat list of numbers), got {describe(poly)}"
            ) from None
        if xy.ndim != 1:
            raise ValueError(
                f"{name}[{i}] must be a polygon (a flat list of numbers), got {describe(poly)}"
            )
        if not np.isfinite(xy).all():
            raise ValueError(f"{name}[{i}] must hold finite coordinates, got {describe(poly)}")
        parts.append(xy[: 2 * (xy.shape[0] // 2)].reshape(-1, 2))
    starts = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([p.shape[0] for p in parts], out=starts[1:])
    xy = np.concatenate(parts) if parts else np.zeros((0, 2))
    sizes_h = np.full(len(parts), h, dtype=np.int64)
    sizes_w = np.full(len(parts), w, dtype=np.int64)
    counts, offsets = _rle.from_polygons(xy, starts, sizes_h, sizes_w)
    return Rles(counts, offsets, sizes_h, sizes_w)


def from_boxes(boxes: np.ndarray, h: int, w: int, name: str) -> Rles:
    """Rasterise boxes ``float64[n, 4]`` (x, y, width, height) as pycocotools' ``frBbox``:
    as the polygon of their corners."""
    if not np.isfinite(boxes).all():
        raise ValueError(f"{name} must hold finite boxes, got {describe(boxes)}")
    n = boxes.shape[0]
    starts = np.arange(0, 4 * n + 1, 4, dtype=np.int64)
    sizes_h = np.full(n, h, dtype=np.int64)
    sizes_w = np.full(n, w, dtype=np.int64)
    xy = _rle.boxes_to_polygons(boxes)
    counts, offsets = _rle.from_polygons(xy, starts, sizes_h, sizes_w)
    return Rles(counts, offsets, sizes_h, sizes_w)
