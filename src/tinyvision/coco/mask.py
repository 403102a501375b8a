"""pycocotools' ``mask`` API: ``from tinyvision.coco import mask`` for
``from pycocotools import mask``.

The same functions, inputs and outputs as pycocotools 2.0.11, bit for bit, on our own
compiled kernels (:mod:`tinyvision.metrics._rle`):

* masks are ``uint8`` arrays in Fortran (column-major) order, ``[h, w]`` for one object or
  ``[h, w, n]`` for several (``bool`` is accepted as well);
* an RLE is a dict ``{"size": [h, w], "counts": b"..."}`` with compressed ``counts``
  (``bytes``, or ``str``); ``frPyObjects`` also reads uncompressed RLE (``counts`` a list
  of ints), polygons (flat ``[x0, y0, x1, y1, ...]`` lists) and boxes ``[x, y, w, h]``;
* a list in gives a list (or an array) out, one object in gives one object out.

========================  ====================================================
``encode(bimask)``        mask(s) -> RLE dict or list of them
``decode(rleObjs)``       RLE(s) -> ``uint8`` Fortran ``[h, w]`` or ``[h, w, n]``
``area(rleObjs)``         ``uint32`` foreground pixels
``toBbox(rleObjs)``       ``float64`` boxes ``[x, y, w, h]`` (``[4]`` or ``[n, 4]``)
``iou(dt, gt, iscrowd)``  ``float64[len(dt), len(gt)]``, RLEs or boxes; crowd gts
                          divide by the detection's area; ``[]`` when one side is empty
``merge(rleObjs, i=0)``   union (intersection when ``intersect`` is true)
``frPyObjects(o, h, w)``  polygons / boxes / uncompressed RLE -> compressed RLE
========================  ====================================================

Where inputs differ from what pycocotools reads correctly, this module raises
``TypeError``/``ValueError`` naming the argument (and the index of the object) where
pycocotools would read past its buffers or return garbage: a string with characters
outside ``'0'..'o'`` or cut short, counts that are negative or do not sum to ``h * w``,
masks of the wrong dtype, order or shape, ``decode``/``merge`` of an empty list. It also
accepts a few inputs pycocotools rejects by accident (a list of boxes, a flat box or
polygon in ``frPyObjects``, integer box arrays, tuples of boxes). Kept from pycocotools:
``iou`` of RLEs of different sizes is -1 where their boxes overlap, ``merge`` of
different sizes is an empty ``[0, 0]`` RLE, ``toBbox`` of a mask with an even number of
runs and no foreground is ``[w, h, 2**32 + 1 - w, 2**32 + 1 - h]``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from tinyvision._validate import describe
from tinyvision.metrics import _rle
from tinyvision.metrics._rle_objects import (
    Rles,
    from_boxes,
    from_polygons,
    read_rles,
    read_uncompressed,
    write_rles,
)

__all__ = ["area", "decode", "encode", "frPyObjects", "iou", "merge", "toBbox"]

RLE = dict[str, Any]


def _many(rleObjs: Any, name: str) -> tuple[Rles, bool]:
    """Parse one RLE dict or a list of them -> ``(rles, single)``."""
    if isinstance(rleObjs, list):
        return read_rles(rleObjs, name), False
    return read_rles([rleObjs], name, single=True), True


def encode(bimask: np.ndarray) -> RLE | list[RLE]:
    """Compressed RLE of ``bimask``: ``uint8[h, w]`` -> one dict, ``uint8[h, w, n]`` ->
    a list of ``n`` dicts. The array must be Fortran-contiguous (``np.asfortranarray``).
    Runs break wherever the value changes, so use 0/1 masks."""
    if not isinstance(bimask, np.ndarray):
        raise TypeError(f"bimask must be a numpy array, got {describe(bimask)}")
    if bimask.ndim not in (2, 3):
        raise ValueError(f"bimask must have shape [h, w] or [h, w, n], got {describe(bimask)}")
    if bimask.dtype not in (np.uint8, np.bool_):
        raise ValueError(f"bimask must have dtype uint8, got {describe(bimask)}")
    if not bimask.flags.f_contiguous:
        raise ValueError(
            "bimask must be Fortran-contiguous (np.asfortranarray(bimask)), got a "
            f"C-ordered or strided array of shape {bimask.shape}"
        )
    h, w = bimask.shape[:2]
    n = bimask.shape[2] if bimask.ndim == 3 else 1
    flat = bimask.reshape(h * w, n, order="F").T.view(np.uint8)
    counts, offsets = _rle.encode(np.ascontiguousarray(flat))
    sizes = (np.full(n, h, dtype=np.int64), np.full(n, w, dtype=np.int64))
    objs = write_rles(Rles(counts, offsets, *sizes))
    return objs if bimask.ndim == 3 else objs[0]


def decode(rleObjs: RLE | list[RLE]) -> np.ndarray:
    """Masks of RLEs of one size: a list -> ``uint8[h, w, n]``, one dict -> ``uint8[h, w]``,
    Fortran-ordered."""
    rles, single = _many(rleObjs, "rleObjs")
    if len(rles) == 0:
        raise ValueError("rleObjs must hold at least one RLE to decode, got an empty list")
    h, w = int(rles.h[0]), int(rles.w[0])
    other = np.flatnonzero((rles.h != h) | (rles.w != w))
    if other.size:
        i = int(other[0])
        raise ValueError(
            f"rleObjs must all have one size to decode together; rleObjs[0] has [{h}, {w}], "
            f"rleObjs[{i}] has [{rles.h[i]}, {rles.w[i]}]"
        )
    flat = _rle.decode(rles.counts, rles.offsets, h * w)  # [n, h * w], column-major rows
    masks = flat.reshape(len(rles), w, h).transpose(2, 1, 0)
    return masks[:, :, 0] if single else masks


def area(rleObjs: RLE | list[RLE]) -> np.uint32 | np.ndarray:
    """Foreground pixels: ``uint32[n]`` for a list, ``np.uint32`` for one dict."""
    rles, single = _many(rleObjs, "rleObjs")
    out = _rle.area(rles.counts, rles.offsets)
    return out[0] if single else out


def toBbox(rleObjs: RLE | list[RLE]) -> np.ndarray:
    """Boxes ``[x, y, w, h]`` (``float64``): ``[n, 4]`` for a list, ``[4]`` for one dict."""
    rles, single = _many(rleObjs, "rleObjs")
    out = _rle.to_bbox(rles.counts, rles.offsets, rles.h, rles.w)
    return out[0] if single else out


def _iou_operand(objs: Any, name: str) -> Rles | np.ndarray | None:
    """``dt``/``gt`` of :func:`iou`: RLEs, boxes ``float64[n, 4]`` or ``None`` (empty)."""
    if isinstance(objs, np.ndarray):
        if objs.ndim != 2 or objs.shape[1] != 4:
            raise ValueError(
                f"{name} as an array holds boxes and must have shape [N, 4], got {describe(objs)}"
            )
        return None if objs.shape[0] == 0 else _as_boxes(objs, name)
    if not isinstance(objs, list):
        raise TypeError(
            f"{name} must be a list of RLE dicts, a list of boxes or an array [N, 4], got "
            f"{describe(objs)}"
        )
    if not objs:
        return None
    if all(isinstance(obj, dict) for obj in objs):
        return read_rles(objs, name)
    if all(isinstance(obj, (list, tuple, np.ndarray)) and len(obj) == 4 for obj in objs):
        return _as_boxes(objs, name)
    raise TypeError(
        f"{name} must be a list of RLE dicts or a list of boxes [x, y, w, h], got {describe(objs)}"
    )


def _as_boxes(objs: Any, name: str) -> np.ndarray:
    try:
        boxes = np.asarray(objs, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numeric boxes, got {describe(objs)}") from None
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must hold boxes of 4 numbers, got {describe(objs)}")
    return np.ascontiguousarray(boxes)


def _crowd_flags(pyiscrowd: Any, n: int) -> np.ndarray:
    try:
        flags = np.asarray(pyiscrowd)
    except (TypeError, ValueError):
        flags = np.asarray(None)
    if flags.ndim != 1 or (flags.size and flags.dtype.kind not in "biuf"):
        raise TypeError(
            f"pyiscrowd must be a list of 0/1 flags, one per gt, got {describe(pyiscrowd)}"
        )
    if flags.shape[0] != n:
        raise ValueError(f"pyiscrowd must have one flag per gt ({n}), got {flags.shape[0]} flags")
    return (flags != 0).astype(np.uint8)


def iou(dt: Any, gt: Any, pyiscrowd: Any) -> np.ndarray | list:
    """IoU ``float64[len(dt), len(gt)]`` (Fortran-ordered) of detections and ground truths,
    both RLE dicts or both boxes ``[x, y, w, h]`` (a list or an ``[N, 4]`` array); a gt
    flagged in ``pyiscrowd`` counts the intersection over the detection's area. ``[]``
    when either side is empty."""
    dts = _iou_operand(dt, "dt")
    gts = _iou_operand(gt, "gt")
    n = 0 if gts is None else len(gts)
    crowd = _crowd_flags(pyiscrowd, n)
    if dts is None or gts is None:
        return []
    if isinstance(dts, Rles) != isinstance(gts, Rles):
        raise TypeError(
            "dt and gt must be of one kind, both RLE dicts or both boxes; got "
            f"{'RLEs' if isinstance(dts, Rles) else 'boxes'} and "
            f"{'RLEs' if isinstance(gts, Rles) else 'boxes'}"
        )
    if not isinstance(dts, Rles):
        return _rle.bbox_iou(dts, gts, crowd).T
    return _rle_iou(dts, gts, crowd).T


def _rle_iou(dts: Rles, gts: Rles, crowd: np.ndarray) -> np.ndarray:
    """``float64[n_gt, n_dt]``; pairs of different sizes are -1 where boxes overlap."""
    dbox = _rle.to_bbox(dts.counts, dts.offsets, dts.h, dts.w)
    gbox = _rle.to_bbox(gts.counts, gts.offsets, gts.h, gts.w)
    same = (dts.h == gts.h[0]).all() and (dts.w == gts.w[0]).all()
    if same and (gts.h == gts.h[0]).all() and (gts.w == gts.w[0]).all():
        return _rle.rle_iou(dts.counts, dts.offsets, dbox, gts.counts, gts.offsets, gbox, crowd)
    out = _rle.bbox_iou(dbox, gbox, crowd)
    for g in range(len(gts)):
        for d in range(len(dts)):
            if out[g, d] <= 0:
                continue
            if dts.h[d] != gts.h[g] or dts.w[d] != gts.w[g]:
                out[g, d] = -1.0
                continue
            pair = _rle.rle_iou(
                dts.one(d), np.array([0, dts.offsets[d + 1] - dts.offsets[d]]), dbox[d : d + 1],
                gts.one(g), np.array([0, gts.offsets[g + 1] - gts.offsets[g]]), gbox[g : g + 1],
                crowd[g : g + 1],
            )  # fmt: skip
            out[g, d] = pair[0, 0]
    return out


def merge(rleObjs: list[RLE], intersect: Any = 0) -> RLE:
    """Union of a list of RLEs of one size (their intersection when ``intersect`` is true),
    as one compressed RLE dict."""
    if not isinstance(rleObjs, list):
        raise TypeError(f"rleObjs must be a list of RLE dicts, got {describe(rleObjs)}")
    if not isinstance(intersect, numbers.Integral):
        raise TypeError(f"intersect must be an int or a bool, got {describe(intersect)}")
    rles = read_rles(rleObjs, "rleObjs")
    if len(rles) == 0:
        raise ValueError("rleObjs must hold at least one RLE to merge, got an empty list")
    h, w = int(rles.h[0]), int(rles.w[0])
    if ((rles.h != h) | (rles.w != w)).any():
        return {"size": [0, 0], "counts": b""}  # pycocotools' answer to mixed sizes
    counts = _rle.merge(rles.counts, rles.offsets, bool(intersect))
    one = Rles(
        counts,
        np.array([0, counts.shape[0]], dtype=np.int64),
        rles.h[:1],
        rles.w[:1],
    )
    return write_rles(one)[0]


def _check_size(value: Any, name: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {describe(value)}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {describe(value)}")
    return int(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def frPyObjects(pyobj: Any, h: int, w: int) -> RLE | list[RLE]:
    """Compressed RLE of polygons, boxes or uncompressed RLE in an ``h x w`` image.

    - a list of polygons (flat ``[x0, y0, ...]`` lists, the first longer than 4) or of
      boxes (the first of length 4) -> a list of RLEs, one per item;
    - an array ``[N, 4]`` of boxes -> a list;
    - a list of uncompressed RLE dicts -> a list (their own ``size`` is used);
    - one polygon, one box or one uncompressed RLE dict -> one RLE.
    """
    h = _check_size(h, "h")
    w = _check_size(w, "w")
    if isinstance(pyobj, np.ndarray):
        if pyobj.ndim != 2 or pyobj.shape[1] != 4:
            raise ValueError(f"pyobj as an array must be boxes [N, 4], got {describe(pyobj)}")
        return write_rles(from_boxes(_as_boxes(pyobj, "pyobj"), h, w, "pyobj"))
    if isinstance(pyobj, dict):
        return write_rles(read_uncompressed([pyobj], "pyobj", single=True))[0]
    if not isinstance(pyobj, list):
        raise TypeError(
            "pyobj must be a list of polygons, boxes or uncompressed RLE dicts, an array of "
            f"boxes, or one of them, got {describe(pyobj)}"
        )
    if not pyobj:
        return []
    first = pyobj[0]
    if isinstance(first, dict):
        return write_rles(read_uncompressed(pyobj, "pyobj"))
    if _is_number(first):
        if len(pyobj) == 4:
            return write_rles(from_boxes(_as_boxes([pyobj], "pyobj"), h, w, "pyobj"))[0]
        if len(pyobj) > 4:
            return write_rles(from_polygons([pyobj], h, w, "pyobj"))[0]
    elif isinstance(first, (list, tuple, np.ndarray)):
        if len(first) == 4:
            return write_rles(from_boxes(_as_boxes(pyobj, "pyobj"), h, w, "pyobj"))
        if len(first) > 4:
            return write_rles(from_polygons(pyobj, h, w, "pyobj"))
    raise TypeError(
        "pyobj must be polygons (flat lists of more than 4 numbers), boxes (4 numbers) or "
        f"uncompressed RLE dicts, got {describe(pyobj)}"
    )
