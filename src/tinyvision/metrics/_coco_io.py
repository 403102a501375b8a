"""Turn what users pass to the detection evaluator into checked columnar tables.

Accepted for the ground truth: a :class:`DetectionDataset`, a path to a COCO json file, the
parsed COCO dict, or a mapping of columns. For the detections: :class:`Detections`, a path
to a COCO results json file, the parsed results list, or a mapping of columns. Problems
come out as one ``ValueError``/``TypeError`` that names the file (or argument), the entry
and what is wrong, never as a bare ``KeyError``.

JSON is parsed with orjson (a runtime dependency, several times faster on the 40 MB results
file of a COCO-sized evaluation); where it cannot be imported, with the standard library,
which is made as strict as orjson about ``NaN`` and ``Infinity`` (not JSON, RFC 8259).
A results file of the common shape (flat objects with boxes or keypoints) is read without
either, by the compiled scanner of :mod:`tinyvision.metrics._coco_scan` straight into
columns (the same numbers); any other file goes to the parser as above.
"""

from __future__ import annotations

import gc
import json
import math
import numbers
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tinyvision._validate import describe
from tinyvision.structures import DetectionDataset, Detections, xyxy_to_xywh

try:  # a runtime dependency, but some machines lack it: the stdlib is the fallback
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised where orjson is missing
    _orjson = None

_MISSING = object()


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; an empty, malformed or too deeply nested file gives one
    ``ValueError`` naming the file (and the position, where the parser gives one)."""
    file = Path(path)
    data = file.read_bytes()
    if not data.strip():
        raise ValueError(f"{file}: the file is empty (expected JSON)")
    # Millions of small dicts and lists: the cyclic garbage collector would scan the
    # growing heap again and again while they are made (3-4x the parse time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _orjson.loads(data) if _orjson is not None else _stdlib_loads(data)
    except json.JSONDecodeError as exc:  # orjson's error is a subclass
        raise ValueError(
            f"{file}: malformed JSON at line {exc.lineno}, column {exc.colno} "
            f"(character {exc.pos}): {exc.msg}"
        ) from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{file}: not UTF-8 text (byte {exc.start}): not a JSON file") from None
    except RecursionError:  # the standard library's parser recurses per level
        raise ValueError(f"{file}: malformed JSON: arrays and objects nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"{file}: malformed JSON: {str(exc).splitlines()[0]}") from None
    finally:
        if collecting:
            gc.enable()


class _NonFiniteConstant(Exception):
    """The standard library met ``NaN``, ``Infinity``, ``-Infinity`` or ``1e999``."""


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteConstant(name)


# A JSON string (skipped), one of the three literals the stdlib would accept, or a number.
_STRING_OR_CONSTANT = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"|(-?Infinity|NaN)|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)'
)


def _parse_float(text: str) -> float:
    """A JSON number with a fraction or exponent; one beyond float64 (``1e999``) is
    refused, as orjson refuses it, rather than read as infinity."""
    value = float(text)
    if math.isinf(value):
        raise _NonFiniteConstant(text)
    return value


def _stdlib_loads(data: bytes) -> Any:
    """``json.loads`` refusing ``NaN``/``Infinity`` and numbers beyond float64 as orjson
    does, with the position."""
    try:
        return json.loads(data, parse_constant=_refuse_constant, parse_float=_parse_float)
    except _NonFiniteConstant as exc:
        text = data.decode(json.detect_encoding(data), "surrogatepass")
        # The parser reads left to right: the first offending token outside a string is it.
        hit = next((m for m in _STRING_OR_CONSTANT.finditer(text) if _refused(m)), None)
        position = hit.start(hit.lastindex or 0) if hit is not None else 0
        raise json.JSONDecodeError(
            f"{exc.args[0]} is not a JSON value (numbers must be finite)"
            if exc.args[0] in ("NaN", "Infinity", "-Infinity")
            else "number is infinity when parsed as double",
            text,
            position,
        ) from None


def _refused(match: re.Match[str]) -> bool:
    """Whether a token of :data:`_STRING_OR_CONSTANT` is one the parser refuses."""
    if match.group(1) is not None:
        return True
    number = match.group(2)  # integers go to parse_int: only a fraction or exponent counts
    return number is not None and any(c in number for c in ".eE") and math.isinf(float(number))


def _column(records: Sequence[Any], key: str, where: str, default: Any = _MISSING) -> list[Any]:
    """``[r[key] for r in records]`` with a clear error for a non-dict or a missing key."""
    try:
        if default is _MISSING:
            return [r[key] for r in records]
        return [r.get(key, default) for r in records]
    except (KeyError, TypeError, AttributeError):
        for i, r in enumerate(records):
            if not isinstance(r, Mapping):
                raise TypeError(f"{where}[{i}] must be an object, got {describe(r)}") from None
            if key not in r:
                raise ValueError(f"{where}[{i}] has no {key!r}") from None
        raise


_INT64_LOW, _INT64_HIGH = -(2**63), 2**63 - 1
_INT64_RANGE = "-2**63..2**63-1 (64 bits)"
_FLOAT64_MAX = float(np.finfo(np.float64).max)


def _numbers(
    values: list[Any],
    key: str,
    where: str,
    *,
    integer: bool,
    flag: bool = False,
    stored_as_int: bool = False,
) -> np.ndarray:
    """A numeric array (``int64[N]`` if ``integer``, else numbers as parsed) from a list of
    JSON numbers, every field of every reader going through here.

    Strings and nulls are refused, and so are booleans unless ``flag`` (``iscrowd: true``
    is fine, ``score: true`` is not). A value that does not fit the type it is stored as
    (int64 for ids and, with ``stored_as_int``, image sizes; float64 for the rest), such
    as an id of ``2**70`` or a width of ``1e300``, is a ``ValueError`` naming the entry,
    never a wrapped number or an ``OverflowError``.
    """
    if not values:
        return np.zeros(0, np.int64 if integer else np.float64)
    try:
        array = np.asarray(values)
    except (OverflowError, ValueError, TypeError):
        array = np.zeros(0, dtype=object)  # forces the per-value check below
    ok = "iu" if integer else "iuf"
    mixed_bools = not flag and array.dtype.kind in ok and bool in set(map(type, values))
    if (
        array.dtype.kind not in ok + ("b" if flag else "")
        or array.shape != (len(values),)
        or mixed_bools
    ):
        for i, v in enumerate(values):
            _check_number(v, f"{where}[{i}][{key!r}]", integer, flag, stored_as_int)
        array = np.asarray(
            [int(v) if integer else v for v in values], dtype=np.int64 if integer else np.float64
        )
    bad = _outside_int64(array) if integer or stored_as_int else None
    if bad is not None:
        _check_number(values[bad], f"{where}[{bad}][{key!r}]", integer, flag, True)
    return array.astype(np.int64) if integer else array


def _check_number(value: Any, name: str, integer: bool, flag: bool, as_int: bool) -> None:
    """Raise the error for one JSON value that is not a number fitting its field."""
    kind = "an integer" if integer else "a number"
    if (isinstance(value, bool) and not flag) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {kind}, got {describe(value)}")
    if isinstance(value, bool):
        return
    integral = isinstance(value, numbers.Integral)
    if integer and not integral and not (math.isfinite(value) and float(value).is_integer()):
        raise TypeError(f"{name} must be {kind}, got {_show(value)}")
    if integer or as_int:
        if not (_INT64_LOW <= value <= _INT64_HIGH) or (not integral and value == 2.0**63):
            raise ValueError(f"{name} must fit in {_INT64_RANGE}, got {_show(value)}")
    elif integral and abs(value) > _FLOAT64_MAX:
        raise ValueError(f"{name} does not fit in a 64-bit float, got {_show(value)}")


def _outside_int64(array: np.ndarray) -> int | None:
    """The first row of a numeric array whose value int64 cannot hold, or None."""
    if array.dtype.kind == "u":
        bad = array > _INT64_HIGH
    elif array.dtype.kind == "f":
        bad = ~((array >= -(2.0**63)) & (array < 2.0**63))  # also NaN and infinities
    else:
        return None
    return int(np.flatnonzero(bad)[0]) if bad.any() else None


def _show(value: Any) -> str:
    """A number for a message: as written, or its size when it has hundreds of digits."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        digits = len(str(abs(int(value)))) if abs(int(value)) < 10**4000 else None
        if digits is None or digits > 40:
            return f"an integer of {'over 4000' if digits is None else digits} digits"
        return str(int(value))
    return repr(float(value)) if isinstance(value, numbers.Real) else repr(value)


def _boxes(values: list[Any], where: str) -> np.ndarray:
    """``float64[N, 4]`` from a list of ``[x, y, w, h]`` lists."""
    if not values:
        return np.zeros((0, 4), dtype=np.float64)
    try:
        array = np.asarray(values)
    except (OverflowError, ValueError, TypeError):
        array = None
    if array is None or array.ndim != 2 or array.shape[1] != 4 or array.dtype.kind not in "iuf":
        for i, box in enumerate(values):
            good = (
                isinstance(box, (list, tuple))
                and len(box) == 4
                and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in box)
            )
            if not good:
                raise ValueError(f"{where}[{i}]['bbox'] must be [x, y, w, h], got {_box(box)}")
            for v in box:
                _check_number(v, f"{where}[{i}]['bbox']", False, False, False)
        array = np.asarray(values, dtype=np.float64)
    return np.asarray(array, dtype=np.float64)


def _box(box: Any) -> str:
    """A bbox value for a message, cut short when long."""
    text = repr(box) if not isinstance(box, (list, tuple)) or len(box) <= 8 else None
    return text if text is not None and len(text) <= 200 else f"{describe(box)}"


def _with_source(source: str, exc: Exception) -> Exception:
    return type(exc)(f"{source}: {exc}")


def dataset_from_coco(obj: Any, source: str = "ground truth") -> DetectionDataset:
    """A :class:`DetectionDataset` from a parsed COCO ground-truth dict.

    Needs ``images`` (each with ``id``) and ``annotations`` (``id``, ``image_id``,
    ``category_id``, ``bbox``); ``area`` defaults to ``w * h``, ``iscrowd`` and ``ignore`` to
    0; without ``categories`` the categories are the distinct ids of the annotations.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(
            f"{source}: a COCO ground truth must be an object with 'images', 'annotations' "
            f"and 'categories', got {describe(obj)}"
        )
    images = obj.get("images")
    if not isinstance(images, list):
        raise ValueError(f"{source}: no 'images' list (is this a COCO ground-truth file?)")
    anns = obj.get("annotations", [])
    if not isinstance(anns, list):
        raise ValueError(f"{source}: 'annotations' must be a list, got {describe(anns)}")
    cats = obj.get("categories")
    if cats is not None and not isinstance(cats, list):
        raise ValueError(f"{source}: 'categories' must be a list, got {describe(cats)}")
    w = f"{source}: annotations"
    image_id = _numbers(_column(anns, "image_id", w), "image_id", w, integer=True)
    category_id = _numbers(_column(anns, "category_id", w), "category_id", w, integer=True)
    bbox = _boxes(_column(anns, "bbox", w), w)
    area_values = _column(anns, "area", w, None)
    area = None
    if any(a is not None for a in area_values):
        if any(a is None for a in area_values):
            filled = bbox[:, 2] * bbox[:, 3]
            area_values = [filled[i] if a is None else a for i, a in enumerate(area_values)]
        area = _numbers(area_values, "area", w, integer=False)
    iscrowd = _numbers(_column(anns, "iscrowd", w, 0), "iscrowd", w, integer=False, flag=True)
    ignore = _numbers(_column(anns, "ignore", w, 0), "ignore", w, integer=False, flag=True)
    ann_ids = _column(anns, "id", w, None)
    if any(a is None for a in ann_ids):
        if not all(a is None for a in ann_ids):
            raise ValueError(f"{w}[{ann_ids.index(None)}] has no 'id'")
        ann_ids = None
    else:
        ann_ids = _numbers(ann_ids, "id", w, integer=True)
    wi = f"{source}: images"
    image_ids = _numbers(_column(images, "id", wi), "id", wi, integer=True)
    files = [str(f) for f in _column(images, "file_name", wi, "")]
    as_size = {"integer": False, "stored_as_int": True}
    sizes = np.stack(
        [
            _numbers(_column(images, "width", wi, 0), "width", wi, **as_size),
            _numbers(_column(images, "height", wi, 0), "height", wi, **as_size),
        ],
        axis=1,
    ).reshape(-1, 2)
    if cats is None:
        cat_ids, names = None, None
    else:
        wc = f"{source}: categories"
        cat_ids = _numbers(_column(cats, "id", wc), "id", wc, integer=True)
        names = [str(n) for n in _column(cats, "name", wc, "")]
        names = [n if n else str(c) for n, c in zip(names, cat_ids.tolist())]
    try:
        return DetectionDataset.from_columns(
            image_id=image_id,
            category_id=category_id,
            bbox=bbox,
            image_ids=image_ids,
            category_ids=cat_ids,
            category_names=names,
            area=area,
            iscrowd=iscrowd,
            ignore=ignore,
            annotation_id=ann_ids,
            image_files=files if any(files) else None,
            image_sizes=sizes,
            source=source,
            **_optional_objects(anns, w, ("segmentation", "keypoints", "num_keypoints")),
        )
    except (ValueError, TypeError) as exc:
        raise _with_source(source, exc) from None


def _optional_objects(records: list[Any], where: str, keys: Sequence[str]) -> dict[str, Any]:
    """The columns of ``keys`` that some record has, as read (checked when used)."""
    out = {}
    for key in keys:
        column = _column(records, key, where, None)
        if any(v is not None for v in column):
            out[key] = column
    return out


def _read_again_if_missing(
    columns: dict[str, Any], records: list[Any], key: str, where: str
) -> list[Any]:
    """The column ``key`` that :func:`_optional_objects` already read, when every record
    has it; else the strict read, whose error names the first record without it."""
    column = columns.get(key)
    if column is None or any(v is None for v in column):
        return _column(records, key, where)
    return column


def detections_from_coco(obj: Any, source: str = "detections") -> Detections:
    """:class:`Detections` from a parsed COCO results list (dicts with ``image_id``,
    ``category_id``, ``bbox`` and ``score``)."""
    if isinstance(obj, Mapping) and "annotations" in obj:
        obj = obj["annotations"]  # a ground-truth-shaped file holding results
    if not isinstance(obj, list):
        raise TypeError(
            f"{source}: COCO results must be a list of objects with 'image_id', "
            f"'category_id', 'bbox' and 'score', got {describe(obj)}"
        )
    w = f"{source}: results"
    image_id = _numbers(_column(obj, "image_id", w), "image_id", w, integer=True)
    category_id = _numbers(_column(obj, "category_id", w), "category_id", w, integer=True)
    # pycocotools' loadRes picks the kind of results by the first one: boxes (area
    # w * h), else segmentations (area and box of the mask), else keypoints (area and box
    # of the keypoints' extent). Fields the first result lacks are not read (bbox speed).
    first = obj[0] if obj and isinstance(obj[0], Mapping) else {}
    fields = [key for key in ("segmentation", "keypoints") if key in first]
    extra = _optional_objects(obj, w, fields)
    if not obj or first.get("bbox", []) != [] or not ({"segmentation", "keypoints"} & set(first)):
        bbox = _boxes(_column(obj, "bbox", w), w)
    elif "segmentation" in first:
        from tinyvision.metrics.coco._segm import mask_boxes

        segs = _read_again_if_missing(extra, obj, "segmentation", w)
        bbox, extra["area"], extra["rles"] = mask_boxes(segs, w)
    else:
        from tinyvision.metrics.coco._segm import keypoint_extent, keypoint_table

        # One table, read once, for the boxes and the evaluation.
        keypoints = keypoint_table(_read_again_if_missing(extra, obj, "keypoints", w), w)
        bbox, extra["area"] = keypoint_extent(keypoints)
        extra["keypoints"] = keypoints
    score = _numbers(_column(obj, "score", w), "score", w, integer=False)
    try:
        return Detections.from_columns(
            image_id=image_id,
            category_id=category_id,
            bbox=bbox,
            score=score,
            source=source,
            **extra,
        )
    except (ValueError, TypeError) as exc:
        raise _with_source(source, exc) from None


def _boxes_from_columns(columns: Mapping[str, Any], name: str) -> Any:
    if "bbox" in columns:
        return columns["bbox"]
    if "boxes" in columns:
        boxes = np.asarray(
            columns["boxes"].detach().cpu().numpy()
            if hasattr(columns["boxes"], "detach")
            else columns["boxes"]
        )
        if boxes.size == 0:
            return np.zeros((0, 4))
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"{name}['boxes'] must have shape [N, 4], got {boxes.shape}")
        return xyxy_to_xywh(boxes)
    raise ValueError(f"{name} needs 'bbox' ([N, 4] x, y, w, h) or 'boxes' ([N, 4] x1, y1, x2, y2)")


def _plain(value: Any) -> Any:
    """Tensors to numpy; everything else unchanged."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def as_dataset(gt: Any, name: str = "gt") -> DetectionDataset:
    """Normalise any accepted ground-truth input (see the module docstring)."""
    if isinstance(gt, DetectionDataset):
        return gt
    if isinstance(gt, (str, os.PathLike)):
        return dataset_from_coco(read_json(gt), source=str(gt))
    if isinstance(gt, Mapping) and "images" in gt:
        return dataset_from_coco(gt, source=name)
    if isinstance(gt, Mapping):
        cols = {k: _plain(v) for k, v in gt.items()}
        for key in ("image_id", "category_id"):
            if key not in cols:
                raise ValueError(f"{name} columns need {key!r}; got keys {sorted(cols)}")
        known = {
            "image_ids", "category_ids", "category_names", "area", "iscrowd", "ignore",
            "annotation_id", "image_files", "image_sizes", "segmentation", "keypoints",
            "num_keypoints",
        }  # fmt: skip
        extra = {k: cols[k] for k in known if k in cols}
        return DetectionDataset.from_columns(
            image_id=cols["image_id"],
            category_id=cols["category_id"],
            bbox=_boxes_from_columns(cols, name),
            **extra,
        )
    raise TypeError(
        f"{name} must be a DetectionDataset, a path to a COCO json file, a COCO dict or a "
        f"mapping of columns, got {describe(gt)}"
    )


def scanned_detections(path: str | os.PathLike[str]) -> Detections | None:
    """Box or keypoint results read by the compiled scanner, or ``None`` for the general
    reader (any other shape, a file that cannot be read, or a problem whose message it
    words)."""
    from tinyvision.metrics._coco_scan import scan_results

    try:
        columns = scan_results(path)
        return None if columns is None else Detections.from_columns(**columns, source=str(path))
    except (OSError, ValueError, TypeError):
        return None


def as_detections(dt: Any, name: str = "dt") -> Detections:
    """Normalise any accepted detections input (see the module docstring)."""
    if isinstance(dt, Detections):
        return dt
    if isinstance(dt, (str, os.PathLike)):
        fast = scanned_detections(dt)
        return fast if fast is not None else detections_from_coco(read_json(dt), str(dt))
    if isinstance(dt, list):
        return detections_from_coco(dt, source=name)
    if isinstance(dt, Mapping):
        cols = {k: _plain(v) for k, v in dt.items()}
        for key in ("image_id", "category_id", "score"):
            if key not in cols:
                raise ValueError(f"{name} columns need {key!r}; got keys {sorted(cols)}")
        extra = {k: cols[k] for k in ("area", "segmentation", "keypoints") if k in cols}
        return Detections.from_columns(
            image_id=cols["image_id"],
            category_id=cols["category_id"],
            bbox=_boxes_from_columns(cols, name),
            score=cols["score"],
            **extra,
        )
    raise TypeError(
        f"{name} must be Detections, a path to a COCO results json file, a list of result "
        f"dicts or a mapping of columns, got {describe(dt)}"
    )
