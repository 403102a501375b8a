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
from itertools import accumulate, chain
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
    hs: list[int] = []
    ws: list[int] = []
    strings: list[bytes] = []
    for i, obj in enumerate(objs):
        # fast path: what pycocotools and json parsers produce
        if type(obj) is dict:
            size = obj.get("size")
            counts = obj.get("counts")
            if (
                type(size) is list
                and len(size) == 2
                and type(size[0]) is int
                and type(size[1]) is int
                and size[0] >= 0
                and size[1] >= 0
            ):
                if type(counts) is bytes:
                    hs.append(size[0])
                    ws.append(size[1])
                    strings.append(counts)
                    continue
                if type(counts) is str and counts.isascii():
                    hs.append(size[0])
                    ws.append(size[1])
                    strings.append(counts.encode("ascii"))
                    continue
        label = _label(name, i, single)
        h, w = _size(obj, label)
        hs.append(h)
        ws.append(w)
        strings.append(_counts_bytes(obj["counts"], label))
    starts = np.zeros(len(strings) + 1, dtype=np.int64)
    if strings:
        starts[1:] = list(accumulate(map(len, strings)))
    buf = np.frombuffer(b"".join(strings), dtype=np.uint8)
    h = np.array(hs, dtype=np.int64)
    w = np.array(ws, dtype=np.int64)
    counts, offsets, bad, wrong = _rle.read_strings(buf, starts, h, w)
    if bad >= 0:
        raise ValueError(
            f"{_label(name, bad, single)}['counts'] is not a valid compressed RLE string "
            f"(characters '0'..'o', counts from 0 to 2**32 - 1), got "
            f"{describe(objs[bad]['counts'])}"
        )
    rles = Rles(counts, offsets, h, w)
    if wrong >= 0:
        check_sums(rles, name, single=single)
    return rles


def _counts_bytes(counts: Any, label: str) -> bytes:
    """Compressed ``counts`` as bytes (``str`` of ASCII characters is accepted)."""
    if isinstance(counts, str):
        try:
            return counts.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(
                f"{label}['counts'] must be a compressed RLE string (characters "
                f"'0'..'o'), got {describe(counts)}"
            ) from None
    if isinstance(counts, bytes):
        return counts
    hint = (
        " (uncompressed RLE: convert it with frPyObjects)"
        if isinstance(counts, (list, np.ndarray))
        else ""
    )
    raise TypeError(
        f"{label}['counts'] must be bytes or str (compressed RLE){hint}, got {describe(counts)}"
    )


def check_sums(rles: Rles, name: str, *, single: bool = False) -> None:
    """Raise ``ValueError`` naming the first RLE whose counts do not cover ``h * w``."""
    if _rle.first_wrong_sum(rles.counts, rles.offsets, rles.h, rles.w) < 0:
        return
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
    hs: list[int] = []
    ws: list[int] = []
    parts: list[np.ndarray] = []
    for i, obj in enumerate(objs):
        label = _label(name, i, single)
        h, w = _size(obj, label)
        hs.append(h)
        ws.append(w)
        counts = _counts_array(obj["counts"], label)
        if counts.size and (counts.min() < 0 or counts.max() > 0xFFFFFFFF):
            raise ValueError(
                f"{label}['counts'] must be counts from 0 to 2**32 - 1, got "
                f"{describe(obj['counts'])}"
            )
        parts.append(counts)
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    if parts:
        offsets[1:] = list(accumulate(map(len, parts)))
    counts = np.concatenate(parts).astype(np.uint32) if parts else np.zeros(0, np.uint32)
    rles = Rles(counts, offsets, np.array(hs, np.int64), np.array(ws, np.int64))
    check_sums(rles, name, single=single)
    return rles


def _counts_array(raw: Any, label: str) -> np.ndarray:
    """Uncompressed ``counts`` (a flat list or array of ints) as ``int64``."""
    if type(raw) is list and all(type(v) is int for v in raw):
        try:
            return np.array(raw, dtype=np.int64)
        except OverflowError:
            raise ValueError(
                f"{label}['counts'] must be counts from 0 to 2**32 - 1, got {describe(raw)}"
            ) from None
    if not isinstance(raw, (Sequence, np.ndarray)) or isinstance(raw, (str, bytes)):
        raise TypeError(
            f"{label}['counts'] must be a list of ints (uncompressed RLE), got {describe(raw)}"
        )
    array = np.asarray(raw)
    if array.ndim == 1 and array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim == 1 and array.dtype.kind in "iu":
        if array.dtype.kind == "u" and array.max() > 0xFFFFFFFF:
            raise ValueError(
                f"{label}['counts'] must be counts from 0 to 2**32 - 1, got {describe(raw)}"
            )
        return array.astype(np.int64)
    raise TypeError(f"{label}['counts'] must be a list of ints, got {describe(raw)}")


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
    if all(type(p) is list and len(p) % 2 == 0 for p in polygons):
        # fast path: flat lists of an even length, the usual annotation
        try:
            flat = np.array(list(chain.from_iterable(polygons)), dtype=np.float64)
        except (TypeError, ValueError):
            flat = None
        if flat is not None and flat.ndim == 1 and np.isfinite(flat).all():
            starts = np.zeros(len(polygons) + 1, dtype=np.int64)
            if polygons:
                starts[1:] = list(accumulate(len(p) // 2 for p in polygons))
            return _rasterise(flat.reshape(-1, 2), starts, h, w)
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
    return _rasterise(xy, starts, h, w)


def _rasterise(xy: np.ndarray, starts: np.ndarray, h: int, w: int) -> Rles:
    n = starts.shape[0] - 1
    sizes_h = np.full(n, h, dtype=np.int64)
    sizes_w = np.full(n, w, dtype=np.int64)
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
