"""Detection data set formats: COCO json, YOLO txt folders, Pascal VOC xml.

Every reader returns the same in-memory form, a :class:`DetectionDataset` (ground truth)
or :class:`Detections` (a detector's results): numpy columns with boxes as COCO's
``[x, y, w, h]`` in absolute pixels. Writers take the same objects, so converting is
reading one format and writing another (:func:`convert`).

==========  ===================================  =====================================
format      ground truth                         predictions
==========  ===================================  =====================================
COCO        :func:`read_coco` / :func:`write_coco`  :func:`read_coco_results` /
                                                 :func:`write_coco_results`
YOLO        :func:`read_yolo` / :func:`write_yolo`  :func:`read_yolo_predictions` /
                                                 :func:`write_yolo_predictions`
VOC         :func:`read_voc` / :func:`write_voc`    :func:`read_voc_predictions` /
                                                 :func:`write_voc_predictions`
==========  ===================================  =====================================

:func:`load_dataset` and :func:`load_predictions` recognise the format of a path.

Conventions:

* YOLO: ``data.yaml`` (``path``, ``train``/``val``/``test``, ``names``); labels at
  ``.../labels/...`` beside ``.../images/...``, one ``class cx cy w h`` line per object,
  normalised to [0, 1] (a polygon line ``class x1 y1 x2 y2 ...`` is a box by its bounds
  and a ``segmentation`` polygon for ``iou_type="segm"``);
  predictions as YOLOv5 ``--save-txt --save-conf`` writes them (``class cx cy w h conf``).
  Category ids are the class indices 0..nc-1; image sizes come from the image headers.
* VOC: ``Annotations/*.xml``, ``ImageSets/Main/<split>.txt``, ``JPEGImages/``; boxes
  are 1-based inclusive pixel indices, so ``xmin..xmax`` becomes ``x = xmin - 1``,
  ``w = xmax - xmin + 1``; ``difficult`` objects are ``ignore``\\ d. Category ids are
  0..K-1 over the class names sorted (VOC's own class list is alphabetical).
  Predictions are the devkit's per-class files ``<anything>_<class>.txt`` with lines
  ``<image> <score> <xmin> <ymin> <xmax> <ymax>``.
* Image ids: COCO's own; for YOLO and VOC the file stem when every stem is an integer,
  else 1..N in sorted file order.
* Match shards of a distributed evaluation: :func:`write_matches` / :func:`read_matches`.
"""

from __future__ import annotations

import io
import math
import os
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tinyvision._errors import UserError
from tinyvision._fileio import (
    atomic_copy,
    atomic_open,
    atomic_write_json,
    atomic_write_text,
    staged_folder,
)
from tinyvision._validate import check_instance
from tinyvision.data._safe_io import (
    check_data_yaml_fields,
    load_data_yaml,
    parse_yolo_line,
    yolo_label_rows,
)
from tinyvision.data._safe_io import read_text as _read_text
from tinyvision.metrics._coco_io import (
    dataset_from_coco,
    detections_from_coco,
    read_json,
    scanned_detections,
)
from tinyvision.metrics._tables import DetectionDataset, Detections
from tinyvision.metrics.coco import ImageMatches, merge_matches

__all__ = [
    "IMAGE_SUFFIXES",
    "BadLabelsWarning",
    "DetectionDataset",
    "Detections",
    "check_split_name",
    "convert",
    "detect_format",
    "image_size",
    "input_files",
    "load_dataset",
    "load_predictions",
    "read_coco",
    "read_coco_results",
    "read_matches",
    "read_voc",
    "read_voc_predictions",
    "read_yolo",
    "read_yolo_predictions",
    "write_coco",
    "write_coco_results",
    "write_dataset",
    "write_matches",
    "write_voc",
    "write_voc_predictions",
    "write_yolo",
    "write_yolo_predictions",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
PathLike = str | os.PathLike[str]


# ----------------------------------------------------------------------------- COCO
def read_coco(source: PathLike | dict[str, Any], *, image_root: PathLike = "") -> DetectionDataset:
    r"""Read a COCO ground-truth json file (or its parsed dict); ``image_root`` is the
    folder its ``file_name``\ s are relative to."""
    if isinstance(source, dict):
        dataset = dataset_from_coco(source)
    else:
        dataset = dataset_from_coco(read_json(source), source=str(source))
    return replace(dataset, image_root=str(image_root)) if image_root else dataset


def to_coco(dataset: DetectionDataset) -> dict[str, Any]:
    """The COCO ground-truth dict of a data set (boxes and areas as floats)."""
    files = dataset.image_files or ("",) * dataset.num_images
    images = []
    for i, image_id in enumerate(dataset.image_ids.tolist()):
        entry: dict[str, Any] = {"id": image_id, "file_name": files[i] or f"{image_id}.jpg"}
        width, height = dataset.image_sizes[i].tolist() if dataset.image_sizes.size else (0, 0)
        if width and height:
            entry["width"], entry["height"] = width, height
        images.append(entry)
    annotations = [
        {
            "id": ann_id,
            "image_id": image_id,
            "category_id": cat_id,
            "bbox": box,
            "area": area,
            "iscrowd": int(crowd),
            **({"ignore": 1} if ignore else {}),
        }
        for ann_id, image_id, cat_id, box, area, crowd, ignore in zip(
            dataset.annotation_id.tolist(),
            dataset.image_id.tolist(),
            dataset.category_id.tolist(),
            dataset.bbox.tolist(),
            dataset.area.tolist(),
            dataset.iscrowd.tolist(),
            dataset.ignore.tolist(),
        )
    ]
    for key in ("segmentation", "keypoints", "num_keypoints"):
        values = getattr(dataset, key)
        for ann, value in zip(annotations, values or ()):
            if value is not None:
                ann[key] = value
    categories = [
        {"id": c, "name": n} for c, n in zip(dataset.category_ids.tolist(), dataset.category_names)
    ]
    return {"images": images, "annotations": annotations, "categories": categories}


def write_coco(dataset: DetectionDataset, path: PathLike) -> Path:
    """Write a data set as a COCO ground-truth json file."""
    check_instance(dataset, DetectionDataset, "dataset")
    atomic_write_json(path, to_coco(dataset), indent=None)
    return Path(path)


def read_coco_results(
    source: PathLike | list[dict[str, Any]], dataset: DetectionDataset | None = None
) -> Detections:
    """Read COCO results (a json list of ``image_id``, ``category_id``, ``bbox``,
    ``score``). With ``dataset``, string image ids (YOLOv5 writes file stems) are
    mapped to the data set's images by file stem."""
    name = "detections" if isinstance(source, list) else str(source)
    fast = None if isinstance(source, list) else scanned_detections(source)
    if fast is not None:  # the common shape, read without a dict per result
        return fast
    records = source if isinstance(source, list) else read_json(source)
    if dataset is not None and isinstance(records, list):
        records = _map_string_ids(records, dataset, name)
    return detections_from_coco(records, source=name)


def _map_string_ids(records: list[Any], dataset: DetectionDataset, name: str) -> list[Any]:
    if not any(isinstance(r, dict) and isinstance(r.get("image_id"), str) for r in records):
        return records
    by_stem = _stem_index(dataset)
    mapped = []
    for i, r in enumerate(records):
        image = r.get("image_id") if isinstance(r, dict) else None
        if isinstance(image, str):
            if image not in by_stem:
                raise ValueError(
                    f"{name}: results[{i}] refers to image {image!r}, not in the data set"
                )
            r = {**r, "image_id": by_stem[image]}
        mapped.append(r)
    return mapped


def write_coco_results(detections: Detections, path: PathLike) -> Path:
    """Write detections as a COCO results json file."""
    check_instance(detections, Detections, "detections")
    records = [
        {"image_id": i, "category_id": c, "bbox": b, "score": s}
        for i, c, b, s in zip(
            detections.image_id.tolist(),
            detections.category_id.tolist(),
            detections.bbox.tolist(),
            detections.score.tolist(),
        )
    ]
    atomic_write_json(path, records, indent=None)
    return Path(path)


# ----------------------------------------------------------------------------- images
_OPENCV_QUIET = False


def _opencv() -> Any:
    """``cv2``, its log level lowered to errors once: a decoder's warning about a damaged
    file ("PNG input buffer is incomplete") would only repeat the error we raise. A level
    the user chose through ``OPENCV_LOG_LEVEL`` is left alone."""
    global _OPENCV_QUIET
    import cv2

    if not _OPENCV_QUIET:
        _OPENCV_QUIET = True
        logging = getattr(getattr(cv2, "utils", None), "logging", None)
        chosen = "OPENCV_LOG_LEVEL" in os.environ
        if logging is not None and not chosen and logging.getLogLevel() > logging.LOG_LEVEL_ERROR:
            logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    return cv2


def image_size(path: PathLike) -> tuple[int, int]:
    """``(width, height)`` of an image as displayed: from its header (PNG, JPEG, BMP, GIF)
    or, for other formats, by decoding it with OpenCV.

    The EXIF orientation of a JPEG (APP1) or PNG (``eXIf``) is applied, as YOLOv5 and
    :func:`tinyvision.data.loader.read_image` do: orientations 5-8 (a quarter turn) swap
    width and height. Other formats are taken as stored. YOLO labels are relative to the
    image as displayed.
    """
    file = Path(path)
    with open(file, "rb") as handle:
        header = _image_header(handle)
    if header is not None:
        width, height, orientation = header
        return (height, width) if orientation >= 5 else (width, height)
    data = np.fromfile(file, dtype=np.uint8)
    cv2 = _opencv()
    image = cv2.imdecode(data, _decode_flags(cv2)) if data.size else None
    if image is None:
        raise UserError(f"{file}: not a readable image")
    return int(image.shape[1]), int(image.shape[0])


def _image_header(handle: Any) -> tuple[int, int, int] | None:
    """``(width, height, EXIF orientation 1-8)`` as stored in a PNG, GIF, BMP or JPEG
    header; None for other formats or a header cut short."""
    head = handle.read(32)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        handle.seek(8)
        return int(width), int(height), _png_orientation(handle)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack("<HH", head[6:10])
        return int(width), int(height), 1
    if head[:2] == b"BM" and len(head) >= 26:
        width, height = struct.unpack("<ii", head[18:26])
        return int(width), abs(int(height)), 1
    if head[:2] == b"\xff\xd8":
        handle.seek(2)
        return _jpeg_header(handle)
    return None


def _png_orientation(handle: Any) -> int:
    """The orientation in a PNG's ``eXIf`` chunk (before the image data), else 1."""
    while True:
        chunk = handle.read(8)
        if len(chunk) < 8:
            return 1
        length, kind = struct.unpack(">I", chunk[:4])[0], chunk[4:]
        if kind in (b"IDAT", b"IEND"):
            return 1
        if kind == b"eXIf":
            return _tiff_orientation(handle.read(length))
        handle.seek(length + 4, os.SEEK_CUR)  # data and CRC


def _jpeg_header(handle: Any) -> tuple[int, int, int] | None:
    """Walk JPEG markers to the first start-of-frame, noting an EXIF orientation."""
    orientation = 1
    while True:
        byte = handle.read(1)
        while byte and byte != b"\xff":
            byte = handle.read(1)
        while byte == b"\xff":
            byte = handle.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            return None
        length = struct.unpack(">H", length_bytes)[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            data = handle.read(5)
            if len(data) < 5:
                return None
            height, width = struct.unpack(">HH", data[1:5])
            return int(width), int(height), orientation
        if marker == 0xE1 and length >= 8:
            data = handle.read(length - 2)
            if data[:6] == b"Exif\x00\x00":
                orientation = _tiff_orientation(data[6:])
            continue
        handle.seek(length - 2, os.SEEK_CUR)


def _tiff_orientation(data: bytes) -> int:
    """Tag 0x0112 of the first IFD of EXIF (TIFF) data; 1 when absent or malformed."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        return 1
    ifd = struct.unpack(order + "I", data[4:8])[0]
    if ifd + 2 > len(data):
        return 1
    count = struct.unpack(order + "H", data[ifd : ifd + 2])[0]
    for i in range(count):
        entry = data[ifd + 2 + 12 * i : ifd + 14 + 12 * i]
        if len(entry) < 12:
            return 1
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag == 0x0112 and kind == 3:  # SHORT
            value = struct.unpack(order + "H", entry[8:10])[0]
            return value if 1 <= value <= 8 else 1
    return 1


def _decode_flags(cv2: Any) -> int:
    """Colour, and OpenCV's own EXIF handling off: :func:`_decode_image` orients, the same
    way for every OpenCV version (some apply a PNG's ``eXIf``, some do not)."""
    return int(cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)


def _decode_image(data: np.ndarray, source: str) -> np.ndarray:
    """Decode an encoded image (``uint8[n]``, a file's bytes) as ``uint8[H, W, 3]`` RGB, its
    EXIF orientation applied as :func:`image_size` does. ``source`` names it in errors."""
    cv2 = _opencv()
    image = cv2.imdecode(data, _decode_flags(cv2)) if data.size else None
    if image is None:
        raise UserError(f"{source}: not a readable image")
    header = _image_header(io.BytesIO(data.tobytes()))
    orientation = header[2] if header is not None else 1
    if orientation >= 5:  # a quarter turn: transpose, then as 1-4 (OpenCV's order)
        image = cv2.transpose(image)
        orientation -= 4
    flip = {2: 1, 3: -1, 4: 0}.get(orientation)
    if flip is not None:
        image = cv2.flip(image, flip)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _image_ids(stems: Sequence[str]) -> np.ndarray:
    """Integer stems as ids when all are integers and distinct, else 1..N."""
    if stems and all(s.isascii() and s.isdigit() and len(s) < 19 for s in stems):
        ids = np.array([int(s) for s in stems], dtype=np.int64)
        if np.unique(ids).size == len(stems):
            return ids
    return np.arange(1, len(stems) + 1, dtype=np.int64)


def _stem_index(dataset: DetectionDataset) -> dict[str, int]:
    """``{file stem: image id}`` (also ``{str(id): id}``) for mapping predictions to images."""
    index = {str(i): int(i) for i in dataset.image_ids.tolist()}
    for name, image_id in zip(dataset.image_files, dataset.image_ids.tolist()):
        if name:
            index[Path(name).stem] = int(image_id)
            index[Path(name).as_posix()] = int(image_id)
    return index


def _build(
    stems_files: list[str],
    sizes: list[tuple[int, int]],
    boxes: list[list[tuple[int, float, float, float, float, bool]]],
    names: Sequence[str],
    category_ids: np.ndarray,
    image_root: Path | str = "",
) -> DetectionDataset:
    """A data set from per-image lists of ``(category id, x, y, w, h, ignore)``, each
    optionally followed by a COCO ``segmentation`` (polygons in pixels) or None."""
    image_ids = _image_ids([Path(f).stem for f in stems_files])
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
            b[2] * b[3] if seg is None else _polygon_area(seg[0]) for b, seg in zip(bbox, segs)
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


# ----------------------------------------------------------------------------- YOLO
def _yolo_config(source: PathLike) -> tuple[Path, dict[str, Any]]:
    path = Path(source)
    if path.is_dir():
        candidates = [path / "data.yaml", path / "dataset.yaml"]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise UserError(f"{path}: no data.yaml in this folder (is it a YOLO data set?)")
        path = found[0]
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    config = load_data_yaml(path)
    if not isinstance(config, dict) or "names" not in config:
        raise UserError(f"{path}: a YOLO data.yaml needs 'names' (and train/val paths)")
    check_data_yaml_fields(config, path)
    return path, config


def _yolo_names(config: dict[str, Any], where: Path) -> list[str]:
    """The class names of a data.yaml (a list, or a mapping ``index: name``), checked
    against its ``nc`` when it has one."""
    names = config["names"]
    if isinstance(names, dict):
        try:
            keys = sorted(int(k) for k in names)
        except (TypeError, ValueError):
            raise UserError(f"{where}: 'names' keys must be class indices") from None
        if keys != list(range(len(keys))):
            raise UserError(f"{where}: 'names' must number the classes 0..{len(keys) - 1}")
        result = [str(names[k] if k in names else names[str(k)]) for k in keys]
    elif isinstance(names, list):
        result = [str(n) for n in names]
    else:
        raise UserError(f"{where}: 'names' must be a list or a mapping, got {type(names).__name__}")
    if not result:
        raise UserError(f"{where}: 'names' is empty: list the class names")
    nc = config.get("nc")
    if nc is not None and (isinstance(nc, bool) or nc != len(result)):
        raise UserError(
            f"{where}: 'nc' is {nc!r} but 'names' lists {len(result)} classes "
            "(make them agree, or leave 'nc' out)"
        )
    return result


def _yolo_images(config: dict[str, Any], yaml_path: Path, split: str) -> list[Path]:
    if split not in config or config[split] in (None, ""):
        raise UserError(f"{yaml_path}: no {split!r} entry (splits: {_splits(config)})")
    root = Path(config.get("path") or yaml_path.parent)
    if not root.is_absolute():
        root = (yaml_path.parent / root).resolve()
    entries = config[split] if isinstance(config[split], list) else [config[split]]
    files: list[Path] = []
    for entry in entries:
        p = Path(entry) if Path(entry).is_absolute() else root / entry
        try:
            p.stat()
        except OSError as exc:  # a name too long for the file system, say; not just absent
            if not isinstance(exc, FileNotFoundError):
                shown = str(p) if len(str(p)) <= 200 else f"{str(p)[:197]}..."
                raise UserError(f"{yaml_path}: {split} images {shown}: {exc.strerror}") from None
        if p.is_dir():
            files += [f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES]
        elif p.is_file() and p.suffix == ".txt":
            for line in _read_text(p).splitlines():
                line = line.strip()
                if line:
                    f = Path(line)
                    files.append(f if f.is_absolute() else (root / f).resolve())
        else:
            raise FileNotFoundError(f"{yaml_path}: {split} images {p} not found")
    return sorted(set(files))


def _splits(config: dict[str, Any]) -> str:
    return ", ".join(k for k in ("train", "val", "test") if config.get(k)) or "none"


def _label_path(image: Path) -> Path:
    """YOLOv5's rule: the last ``/images/`` of the path becomes ``/labels/``, suffix .txt."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


class BadLabelsWarning(UserWarning):
    """What ``read_yolo`` left out or corrected: bad label lines, unreadable label files
    and images (with ``skip_bad=True``), boxes clipped to their image, empty boxes."""


_EDGE_SLACK = 1e-6  # normalised; the rounding of label text written with 6 decimals


def _yolo_box(
    cx: float, cy: float, w: float, h: float, width: int, height: int
) -> tuple[tuple[float, float, float, float], bool]:
    """``(x, y, w, h)`` in pixels of a normalised YOLO box, clipped to the image when it
    reaches past an edge (by more than the text's rounding); and whether it was clipped."""
    box = ((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height)
    low, high = -_EDGE_SLACK, 1 + _EDGE_SLACK
    if min(cx - w / 2, cy - h / 2) >= low and max(cx + w / 2, cy + h / 2) <= high:
        return box, False
    x1, y1 = max(box[0], 0.0), max(box[1], 0.0)
    x2, y2 = min(box[0] + box[2], float(width)), min(box[1] + box[3], float(height))
    return (x1, y1, max(x2 - x1, 0.0), max(y2 - y1, 0.0)), True


def read_yolo(source: PathLike, split: str = "val", *, skip_bad: bool = False) -> DetectionDataset:
    """Read one split of a YOLO data set (``data.yaml`` or the folder holding it).

    Image files are relative to the images folder (e.g. ``val/000001.jpg``); category ids
    are the class indices. ``names`` must not be empty and must agree with ``nc`` when
    that is given. An image without a label file has no objects. A label file is UTF-8
    text (a byte-order mark is allowed); a label line must be ``class cx cy w h`` (or a
    polygon) with a class index below the number of names and coordinates in [0, 1],
    relative to the image as displayed (EXIF orientation applied, see :func:`image_size`).

    As YOLOv5's loader does, a box reaching past the image edge (e.g. ``cx + w/2 > 1``)
    is clipped to the image; unlike YOLOv5, a box of zero width or height (it can never
    be matched) is left out. One :class:`BadLabelsWarning` counts either.

    Raises:
        UserError: the first bad label line (naming the file and line), label file that is
            not UTF-8 text, or unreadable image; with ``skip_bad=True`` those lines, and
            the images with such files, are left out instead and one
            :class:`BadLabelsWarning` tells how many.
    """
    yaml_path, config = _yolo_config(source)
    names = _yolo_names(config, yaml_path)
    images = _yolo_images(config, yaml_path, split)
    files, sizes, objects = [], [], []
    base = _common_images_root(images)
    bad: dict[str, list[str]] = {"lines": [], "files": [], "images": []}
    fixed: dict[str, list[str]] = {"clipped": [], "empty": []}
    for image in images:
        label = _label_path(image)
        try:
            width, height = image_size(image)
        except (UserError, OSError) as exc:
            bad["images"].append(_problem(exc, image, "not a readable image", skip_bad))
            continue
        try:
            text = _read_text(label) if label.is_file() else ""
        except (UserError, OSError) as exc:
            bad["files"].append(_problem(exc, label, "cannot read", skip_bad))
            continue
        objs = []
        bad_lines = bad["lines"] if skip_bad else None
        lines = text.splitlines()
        for n, cls, cx, cy, w, h in yolo_label_rows(text, label, len(names), bad_lines=bad_lines):
            box, clipped = _yolo_box(cx, cy, w, h, width, height)
            if clipped:
                fixed["clipped"].append(f"{label}:{n}")
            if box[2] == 0 or box[3] == 0:
                fixed["empty"].append(f"{label}:{n}")
                continue
            objs.append((cls, *box, False, _yolo_polygon(lines[n - 1], width, height)))
        files.append(image.relative_to(base).as_posix())
        sizes.append((width, height))
        objects.append(objs)
    if any(bad.values()):
        _warn_skipped(yaml_path, split, bad)
    if any(fixed.values()):
        _warn_fixed(yaml_path, split, fixed)
    return _build(files, sizes, objects, names, np.arange(len(names), dtype=np.int64), base)


def _yolo_polygon(line: str, width: int, height: int) -> list[list[float]] | None:
    """A YOLO segmentation line's polygon in pixels, as a COCO ``segmentation`` (None for
    a box line). The line was checked by ``parse_yolo_line``."""
    numbers = [float(v) for v in line.split()[1:]]
    if len(numbers) < 6:
        return None
    xy = np.array(numbers).reshape(-1, 2) * (width, height)
    return [xy.reshape(-1).tolist()]


def _polygon_area(polygon: list[float]) -> float:
    """The shoelace area of a polygon ``[x1, y1, x2, y2, ...]``."""
    x, y = np.asarray(polygon[0::2]), np.asarray(polygon[1::2])
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _problem(exc: Exception, path: Path, what: str, skip_bad: bool) -> str:
    """The one-line message of a file that cannot be read; raised unless ``skip_bad``."""
    if isinstance(exc, UserError):
        message = str(exc)
    else:
        message = f"{path}: {what} ({getattr(exc, 'strerror', None) or exc})"
    if not skip_bad:
        raise UserError(message) from None
    return message


def _warn_skipped(yaml_path: Path, split: str, bad: dict[str, list[str]]) -> None:
    import warnings

    label_files = {entry.rsplit(":", 2)[0] for entry in bad["lines"]}
    parts = []
    if bad["lines"]:
        parts.append(f"{len(bad['lines'])} bad label line(s) in {len(label_files)} file(s)")
    if bad["files"]:
        parts.append(f"{len(bad['files'])} unreadable label file(s) with their image(s)")
    if bad["images"]:
        parts.append(f"{len(bad['images'])} unreadable image(s)")
    first = (bad["lines"] or bad["files"] or bad["images"])[0]
    warnings.warn(
        f"{yaml_path} ({split}): skipped {' and '.join(parts)}; first: {first}",
        BadLabelsWarning,
        stacklevel=3,
    )


def _warn_fixed(yaml_path: Path, split: str, fixed: dict[str, list[str]]) -> None:
    import warnings

    parts = []
    if fixed["clipped"]:
        parts.append(
            f"clipped {len(fixed['clipped'])} box(es) reaching past the image edge "
            f"(first: {fixed['clipped'][0]})"
        )
    if fixed["empty"]:
        parts.append(
            f"left out {len(fixed['empty'])} box(es) of zero width or height "
            f"(first: {fixed['empty'][0]})"
        )
    warnings.warn(f"{yaml_path} ({split}): {'; '.join(parts)}", BadLabelsWarning, stacklevel=3)


def _common_images_root(images: list[Path]) -> Path:
    if not images:
        return Path(".")
    return Path(os.path.commonpath([str(p.parent) for p in images]))


def read_yolo_predictions(source: PathLike, dataset: DetectionDataset) -> Detections:
    """Read YOLOv5 ``--save-txt --save-conf`` predictions: a folder of ``<image stem>.txt``
    with ``class cx cy w h conf`` lines (normalised), for the images of ``dataset``."""
    folder = Path(source)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of prediction files")
    by_stem = _stem_index(dataset)
    sizes = {int(i): s for i, s in zip(dataset.image_ids.tolist(), dataset.image_sizes.tolist())}
    n_classes = dataset.category_ids.shape[0]
    cat_ids = dataset.category_ids
    rows: list[tuple[int, int, float, float, float, float, float]] = []
    for file in sorted(folder.glob("*.txt")):
        if file.stem not in by_stem:
            raise UserError(f"{file}: no image {file.stem!r} in the ground truth")
        image_id = by_stem[file.stem]
        width, height = sizes[image_id]
        if not width or not height:
            raise UserError(f"{file}: the size of image {file.stem!r} is unknown")
        for n, line in enumerate(_read_text(file).splitlines(), start=1):
            if not line.strip():
                continue
            cls, cx, cy, w, h, conf = parse_yolo_line(line, f"{file}:{n}", n_classes, True)
            box = ((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height)
            if not all(map(math.isfinite, box)):  # finite normalised, beyond float64 in pixels
                raise UserError(
                    f"{file}:{n}: box too large for a 64-bit float in pixels, got {line[:80]!r}"
                )
            rows.append((image_id, int(cat_ids[cls]), *box, conf))
    return _detections(rows)


def _detections(rows: list[tuple[int, int, float, float, float, float, float]]) -> Detections:
    if not rows:
        return Detections.from_columns(image_id=[], category_id=[], bbox=np.zeros((0, 4)), score=[])
    table = np.array(rows, dtype=np.float64)
    return Detections.from_columns(
        image_id=table[:, 0].astype(np.int64),
        category_id=table[:, 1].astype(np.int64),
        bbox=table[:, 2:6],
        score=table[:, 6],
    )


def write_yolo(
    dataset: DetectionDataset,
    root: PathLike,
    split: str = "val",
    *,
    image_dir: PathLike | None = None,
    segments: bool = False,
) -> Path:
    """Write a data set as a YOLO split: ``labels/<split>/<stem>.txt`` and ``data.yaml``.

    Needs image sizes. With ``image_dir`` the images (``image_files`` relative to it) are
    copied to ``images/<split>/`` (only files that are images: others are named in one
    ``UserWarning``). Without it only the labels are written, and a ``UserWarning`` says so
    when ``images/<split>/`` lacks images of the set: a YOLO split cannot be read back
    (:func:`read_yolo` takes each image's size from its file) until the images are placed
    there, named by the label files' stems. Crowd regions are left out (YOLO has no such
    notion); classes are the categories in ``category_ids`` order. An existing
    ``data.yaml`` keeps its other entries (it is read before anything is written).
    ``split`` is a plain name (see :func:`check_split_name`). With ``segments=True`` an
    object whose COCO ``segmentation`` is one polygon is written as a YOLO segmentation line
    (``class x1 y1 x2 y2 ...``, normalised and clipped to the image); objects with several
    polygons or an RLE mask stay boxes, counted in one ``UserWarning``. Returns the
    data.yaml path.
    """
    check_instance(dataset, DetectionDataset, "dataset")
    check_split_name(split)
    check_instance(segments, bool, "segments")
    return _write_yolo(dataset, Path(root), Path(root), split, image_dir, segments)


def _write_yolo(
    dataset: DetectionDataset,
    out: Path,
    final: Path,
    split: str,
    image_dir: PathLike | None,
    segments: bool = False,
) -> Path:
    """:func:`write_yolo` into ``out``, for a set that will end up in ``final`` (``out``
    itself, or a staging folder moved there afterwards): ``final``'s data.yaml is the one
    merged and its images folder the one looked at."""
    if dataset.image_sizes.size and (dataset.image_sizes <= 0).any():
        bad = int(dataset.image_ids[np.flatnonzero((dataset.image_sizes <= 0).any(axis=1))[0]])
        raise UserError(
            f"YOLO labels need image sizes; image {bad} has none (a COCO 'images' entry "
            "needs 'width' and 'height')"
        )
    config = _existing_yaml(final / "data.yaml")  # before anything is written
    index = dataset.category_index()
    stems = _output_stems(dataset)
    if image_dir is None:
        _warn_missing_images(final / "images" / split, stems)
    rows = dataset.annotations_by_image()
    polygons = dataset.segmentation if segments else None
    as_boxes = 0  # objects with segments=True that have no single polygon
    for i in range(dataset.num_images):
        width, height = dataset.image_sizes[i].tolist()
        lines = []
        for r in rows[i]:
            if dataset.iscrowd[r]:
                continue
            cls = index[int(dataset.category_id[r])]
            polygon = _single_polygon(polygons[r]) if polygons is not None else None
            if polygon is not None:
                xy = np.clip(polygon.reshape(-1, 2) / (width, height), 0.0, 1.0).reshape(-1)
                lines.append(f"{cls} " + " ".join(_number(v) for v in xy.tolist()))
                continue
            as_boxes += segments
            x, y, w, h = dataset.bbox[r].tolist()
            lines.append(
                f"{cls} {_number((x + w / 2) / width)} {_number((y + h / 2) / height)} "
                f"{_number(w / width)} {_number(h / height)}"
            )
        atomic_write_text(
            out / "labels" / split / f"{stems[i]}.txt", "".join(f"{x}\n" for x in lines)
        )
    if as_boxes:
        import warnings

        warnings.warn(
            f"wrote {as_boxes} object(s) as boxes: YOLO segmentation lines hold one polygon, "
            "and these have several polygons, an RLE mask or no segmentation",
            UserWarning,
            stacklevel=3,
        )
    if image_dir is not None:
        _copy_images(dataset.image_files, image_dir, out / "images" / split, stems)
    config.update(
        {
            "path": ".",
            split: f"images/{split}",
            "nc": len(dataset.category_names),
            "names": list(dataset.category_names),
        }
    )
    atomic_write_text(out / "data.yaml", yaml.safe_dump(config, sort_keys=False))
    return out / "data.yaml"


def _single_polygon(segmentation: Any) -> np.ndarray | None:
    """A COCO ``segmentation`` that is exactly one polygon of at least 3 finite points, as
    float64 ``[2 * P]`` pixel coordinates; None for anything else (RLE, several polygons)."""
    if not isinstance(segmentation, list) or len(segmentation) != 1:
        return None
    try:
        polygon = np.asarray(segmentation[0], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if polygon.ndim != 1 or polygon.size < 6 or polygon.size % 2 or not np.isfinite(polygon).all():
        return None
    return polygon


def _existing_yaml(path: Path) -> dict[str, Any]:
    """The mapping in an existing data.yaml (empty when there is none) that a writer
    updates; a file that is not one is an error, found before anything is written."""
    if not path.is_file():
        return {}
    try:
        config = load_data_yaml(path)  # no aliases, errors naming the file and line
    except UserError as exc:
        raise UserError(f"{exc} (fix or remove it: the new split is added to it)") from None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise UserError(f"{path}: not a YOLO data.yaml (a mapping), got a {type(config).__name__}")
    return config


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


_IMAGE_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
)


def _is_image_file(path: Path) -> bool:
    """A regular file (links followed) with an image suffix (:data:`IMAGE_SUFFIXES`) whose
    first bytes are those of one of those formats."""
    if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
        return False
    with open(path, "rb") as handle:
        head = handle.read(12)
    webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return webp or head.startswith(_IMAGE_SIGNATURES)


def _copy_images(files: Sequence[str], image_dir: PathLike, folder: Path, stems: list[str]) -> None:
    """Copy each image ``image_dir/files[i]`` to ``folder/<stems[i]><suffix>``.

    Only image files are copied: a name that is a folder, a device or not an image (a
    COCO ``file_name`` such as ``/etc/hostname``) is skipped, and one ``UserWarning``
    counts and names them. A missing file is an error (``FileNotFoundError``).
    """
    skipped = []
    for file, stem in zip(files, stems):
        src = Path(image_dir) / file
        if not _is_image_file(src):
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


def _warn_missing_images(folder: Path, stems: list[str]) -> None:
    """Warn when labels are written without images that :func:`read_yolo` will need."""
    present = (
        {p.stem for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
        if folder.is_dir()
        else set()
    )
    missing = [s for s in stems if s not in present]
    if missing:
        import warnings

        warnings.warn(
            f"wrote YOLO labels only: no image folder given (image_dir, --images), and "
            f"{len(missing)} of {len(stems)} image(s) are not in {folder} (first: "
            f"{missing[0]!r}); place the images there, named by their label files' stems, "
            "before reading the set back",
            UserWarning,
            stacklevel=3,
        )


def _output_stems(dataset: DetectionDataset) -> list[str]:
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


def write_yolo_predictions(
    detections: Detections, dataset: DetectionDataset, folder: PathLike
) -> Path:
    """Write detections as YOLOv5 prediction files (``<stem>.txt``: class cx cy w h conf)."""
    check_instance(detections, Detections, "detections")
    check_instance(dataset, DetectionDataset, "dataset")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    index = dataset.category_index()
    stems = dict(zip(dataset.image_ids.tolist(), _output_stems(dataset)))
    sizes = {int(i): s for i, s in zip(dataset.image_ids.tolist(), dataset.image_sizes.tolist())}
    lines: dict[int, list[str]] = {}
    for image_id, cat, (x, y, w, h), score in zip(
        detections.image_id.tolist(),
        detections.category_id.tolist(),
        detections.bbox.tolist(),
        detections.score.tolist(),
    ):
        width, height = sizes[image_id]
        if width <= 0 or height <= 0:
            raise UserError(
                f"YOLO predictions need image sizes; image {image_id} has none "
                "(read the ground truth from a data set that records them)"
            )
        lines.setdefault(image_id, []).append(
            f"{index[cat]} {_number((x + w / 2) / width)} {_number((y + h / 2) / height)} "
            f"{_number(w / width)} {_number(h / height)} {_number(score)}"
        )
    for image_id, text in lines.items():
        atomic_write_text(out / f"{stems[image_id]}.txt", "".join(f"{x}\n" for x in text))
    return out


# ----------------------------------------------------------------------------- VOC
def read_voc(
    root: PathLike, split: str | None = "val", *, classes: Sequence[str] | None = None
) -> DetectionDataset:
    """Read a Pascal VOC folder (``Annotations/``, ``ImageSets/Main/<split>.txt``).

    Without the split file (or with ``split=None``) every xml file is read. ``classes``
    fixes the category order (default: the names found, sorted).
    """
    base = Path(root)
    ann_dir = base / "Annotations"
    if not ann_dir.is_dir():
        raise UserError(f"{base}: no Annotations folder (is it a Pascal VOC data set?)")
    listing = base / "ImageSets" / "Main" / f"{split}.txt" if split else None
    if listing is not None and listing.is_file():
        stems = [s.split()[0] for s in _read_text(listing).splitlines() if s.strip()]
        xml_files = [ann_dir / f"{s}.xml" for s in stems]
    else:
        xml_files = sorted(ann_dir.glob("*.xml"))
    parsed = [_parse_voc_xml(f) for f in xml_files]
    found = sorted({obj[0] for _, _, objs in parsed for obj in objs})
    names = list(classes) if classes is not None else found
    lookup = {n: i for i, n in enumerate(names)}
    unknown = [n for n in found if n not in lookup]
    if unknown:
        raise UserError(f"{base}: objects of classes not in 'classes': {', '.join(unknown[:5])}")
    files, sizes, objects = [], [], []
    for xml_file, (filename, size, objs) in zip(xml_files, parsed):
        files.append(filename or f"{xml_file.stem}.jpg")
        sizes.append(size)
        objects.append([(lookup[o[0]], *o[1:]) for o in objs])
    category_ids = np.arange(len(names), dtype=np.int64)
    return _build(files, sizes, objects, names, category_ids, base / "JPEGImages")


def _parse_voc_xml(
    path: Path,
) -> tuple[str, tuple[int, int], list[tuple[str, float, float, float, float, bool]]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such annotation file")
    try:
        tree = ET.parse(path)
    except ET.ParseError as exc:
        line, col = exc.position
        raise UserError(f"{path}: malformed XML at line {line}, column {col + 1}") from None
    node = tree.getroot()
    filename = (node.findtext("filename") or "").strip()
    size = node.find("size")
    width = _voc_size(size, "width", path)
    height = _voc_size(size, "height", path)
    objects = []
    for i, obj in enumerate(node.findall("object")):
        name = (obj.findtext("name") or "").strip()
        box = obj.find("bndbox")
        shown = name if name.isprintable() else repr(name)  # messages stay one line
        if not name or box is None:
            raise UserError(f"{path}: object {i} needs <name> and <bndbox>")
        try:
            x1, y1, x2, y2 = (float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        except (TypeError, ValueError):
            raise UserError(f"{path}: object {i} ({shown}) has a bad <bndbox>") from None
        if not all(np.isfinite([x1, y1, x2, y2])) or x2 < x1 or y2 < y1:
            raise UserError(
                f"{path}: object {i} ({shown}) needs xmin <= xmax and ymin <= ymax, "
                f"got {x1:g}, {y1:g}, {x2:g}, {y2:g}"
            )
        difficult = (obj.findtext("difficult") or "0").strip() not in ("0", "", "false")
        objects.append((name, x1 - 1.0, y1 - 1.0, x2 - x1 + 1.0, y2 - y1 + 1.0, difficult))
    return filename, (width, height), objects


def _voc_size(size: ET.Element | None, field: str, path: Path) -> int:
    """``<size><field>`` of a VOC annotation as an int: 0 when absent or not a number (the
    size is then read from the image), else a whole number in 0..2**63-1, or one
    ``UserError`` naming the file and the field (never an ``OverflowError``)."""
    text = size.findtext(field) if size is not None else None
    try:
        value = float(text) if text is not None else 0.0
    except ValueError:
        return 0
    if not (math.isfinite(value) and 0.0 <= value < 2.0**63):
        shown = text.strip() if len(text) <= 40 else f"{text.strip()[:37]}..."
        raise UserError(
            f"{path}: <size><{field}> must be a whole number in 0..2**63-1, got {shown!r}"
        )
    return int(value)


def write_voc(
    dataset: DetectionDataset,
    root: PathLike,
    split: str = "val",
    *,
    image_dir: PathLike | None = None,
) -> Path:
    """Write a data set as Pascal VOC xml files plus ``ImageSets/Main/<split>.txt``.

    ``ignore`` and crowd objects become ``difficult``. With ``image_dir`` the images are
    copied to ``JPEGImages/`` (only files that are images: others are named in one
    ``UserWarning``). ``split`` is a plain name (see :func:`check_split_name`). Returns
    the root folder.
    """
    check_instance(dataset, DetectionDataset, "dataset")
    check_split_name(split)
    return _write_voc(dataset, Path(root), split, image_dir)


def _write_voc(
    dataset: DetectionDataset, out: Path, split: str, image_dir: PathLike | None
) -> Path:
    stems = _output_stems(dataset)
    names = dict(zip(dataset.category_ids.tolist(), dataset.category_names))
    rows = dataset.annotations_by_image()
    files = dataset.image_files or tuple(f"{s}.jpg" for s in stems)
    for i in range(dataset.num_images):
        width, height = dataset.image_sizes[i].tolist() if dataset.image_sizes.size else (0, 0)
        node = ET.Element("annotation")
        ET.SubElement(node, "folder").text = "JPEGImages"
        ET.SubElement(node, "filename").text = Path(files[i]).name
        size = ET.SubElement(node, "size")
        for key, value in (("width", width), ("height", height), ("depth", 3)):
            ET.SubElement(size, key).text = str(value)
        for r in rows[i]:
            x, y, w, h = dataset.bbox[r].tolist()
            obj = ET.SubElement(node, "object")
            ET.SubElement(obj, "name").text = names[int(dataset.category_id[r])]
            ET.SubElement(obj, "difficult").text = str(int(dataset.ignore[r] or dataset.iscrowd[r]))
            box = ET.SubElement(obj, "bndbox")
            for key, value in (("xmin", x + 1), ("ymin", y + 1), ("xmax", x + w), ("ymax", y + h)):
                ET.SubElement(box, key).text = _number(value)
        ET.indent(node)
        atomic_write_text(
            out / "Annotations" / f"{stems[i]}.xml", ET.tostring(node, encoding="unicode") + "\n"
        )
    if image_dir is not None:
        _copy_images(files, image_dir, out / "JPEGImages", stems)
    atomic_write_text(out / "ImageSets" / "Main" / f"{split}.txt", "".join(f"{s}\n" for s in stems))
    return out


def _number(value: float) -> str:
    """The shortest text that reads back as the same float64 (``12`` for whole numbers)."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def read_voc_predictions(source: PathLike, dataset: DetectionDataset) -> Detections:
    """Read VOC devkit result files from a folder: one ``<prefix>_<class>.txt`` per class
    (e.g. ``comp4_det_test_car.txt``) with ``<image> <score> <xmin> <ymin> <xmax> <ymax>``."""
    folder = Path(source)
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else [folder]
    if not files or not files[0].is_file():
        raise FileNotFoundError(f"{folder}: no VOC result files (*.txt)")
    by_stem = _stem_index(dataset)
    classes = sorted(
        zip(dataset.category_names, dataset.category_ids.tolist()), key=lambda c: -len(c[0])
    )
    rows: list[tuple[int, int, float, float, float, float, float]] = []
    for file in files:
        match = [
            cid for name, cid in classes if file.stem == name or file.stem.endswith(f"_{name}")
        ]
        if not match:
            raise UserError(f"{file}: the name does not end with a class of the data set")
        for n, line in enumerate(_read_text(file).splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise UserError(
                    f"{file}:{n}: expected '<image> <score> <xmin> <ymin> <xmax> <ymax>'"
                )
            if parts[0] not in by_stem:
                raise UserError(f"{file}:{n}: no image {parts[0]!r} in the ground truth")
            try:
                score, x1, y1, x2, y2 = (float(v) for v in parts[1:])
            except ValueError:
                raise UserError(
                    f"{file}:{n}: score and box must be numbers, got {line.strip()!r}"
                ) from None
            if not all(np.isfinite([score, x1, y1, x2, y2])) or x2 < x1 or y2 < y1:
                raise UserError(f"{file}:{n}: bad box or score {line.strip()!r}")
            rows.append(
                (by_stem[parts[0]], match[0], x1 - 1, y1 - 1, x2 - x1 + 1, y2 - y1 + 1, score)
            )
    return _detections(rows)


def write_voc_predictions(
    detections: Detections,
    dataset: DetectionDataset,
    folder: PathLike,
    prefix: str = "comp4_det_val",
) -> Path:
    """Write detections as VOC devkit result files ``<prefix>_<class>.txt``."""
    check_instance(detections, Detections, "detections")
    check_instance(dataset, DetectionDataset, "dataset")
    out = Path(folder)
    stems = dict(zip(dataset.image_ids.tolist(), _output_stems(dataset)))
    for cid, name in zip(dataset.category_ids.tolist(), dataset.category_names):
        rows = np.flatnonzero(detections.category_id == cid)
        lines = []
        for r in rows:
            x, y, w, h = detections.bbox[r].tolist()
            lines.append(
                f"{stems[int(detections.image_id[r])]} {_number(detections.score[r])} "
                f"{_number(x + 1)} {_number(y + 1)} {_number(x + w)} {_number(y + h)}\n"
            )
        atomic_write_text(out / f"{prefix}_{name}.txt", "".join(lines))
    return out


# ----------------------------------------------------------------------------- auto
def detect_format(path: PathLike) -> str:
    """``"coco"``, ``"yolo"`` or ``"voc"`` for a ground-truth path."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if p.is_file():
        if p.suffix.lower() == ".json":
            return "coco"
        if p.suffix.lower() in (".yaml", ".yml"):
            return "yolo"
        raise UserError(f"{p}: not a COCO json or a YOLO data.yaml")
    if (p / "Annotations").is_dir():
        return "voc"
    if (p / "data.yaml").is_file() or (p / "dataset.yaml").is_file():
        return "yolo"
    raise UserError(f"{p}: neither a YOLO data set (data.yaml) nor a VOC one (Annotations/)")


def load_dataset(path: PathLike, split: str = "val") -> DetectionDataset:
    """Read a ground truth in any of the three formats (see :func:`detect_format`)."""
    fmt = detect_format(path)
    if fmt == "coco":
        return read_coco(path)
    if fmt == "yolo":
        return read_yolo(path, split)
    return read_voc(path, split)


def load_predictions(path: PathLike, dataset: DetectionDataset) -> Detections:
    """Read predictions for ``dataset``: a COCO results json, a folder of YOLO prediction
    files (named by image) or of VOC devkit result files (named by class)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if p.is_file() and p.suffix.lower() == ".json":
        return read_coco_results(p, dataset)
    txt = sorted(p.glob("*.txt")) if p.is_dir() else [p]
    stems = _stem_index(dataset)
    if p.is_dir() and (not txt or any(f.stem in stems for f in txt)):
        return read_yolo_predictions(p, dataset)
    return read_voc_predictions(p, dataset)


def convert(
    source: PathLike,
    target: PathLike,
    to: str,
    *,
    split: str = "val",
    image_dir: PathLike | None = None,
) -> Path:
    """Convert a ground truth between COCO, YOLO and VOC (``to``: one of those names).

    ``image_dir`` is where the images of a COCO source live (copied into YOLO/VOC
    folders); for YOLO/VOC sources it defaults to their own image folders. The source is
    read in full before anything is written; see :func:`write_dataset` for the target.
    """
    if to not in ("coco", "yolo", "voc"):
        raise ValueError(f"to must be one of 'coco', 'yolo', 'voc', got {to!r}")
    check_split_name(split)
    dataset = load_dataset(source, split)
    return write_dataset(dataset, target, to, split=split, image_dir=image_dir)


def write_dataset(
    dataset: DetectionDataset,
    target: PathLike,
    to: str,
    *,
    split: str = "val",
    image_dir: PathLike | None = None,
    segments: bool = False,
) -> Path:
    """Write ``dataset`` as a COCO json file or a YOLO or VOC folder, as a whole.

    A YOLO or VOC set is written into a staging folder beside ``target`` and put in place
    only when complete (:func:`tinyvision._fileio.staged_folder`): a failure, or a kill
    before that step, leaves ``target`` as it was. An existing ``target`` keeps its other
    files (other splits; a YOLO ``data.yaml`` gains this split). ``image_dir`` defaults to
    ``dataset.image_root``. ``segments`` (YOLO only) writes single-polygon objects as
    segmentation lines (see :func:`write_yolo`; COCO keeps every ``segmentation`` anyway).
    Returns the json file, the data.yaml or the VOC folder.
    """
    check_instance(dataset, DetectionDataset, "dataset")
    if to not in ("coco", "yolo", "voc"):
        raise ValueError(f"to must be one of 'coco', 'yolo', 'voc', got {to!r}")
    check_instance(segments, bool, "segments")
    if segments and to != "yolo":
        raise ValueError(f"segments=True applies to YOLO output only, got to={to!r}")
    check_split_name(split)
    final = Path(target)
    if image_dir is None and dataset.image_root:
        image_dir = dataset.image_root
    if to == "coco":
        return write_coco(dataset, final)
    if final.exists() and not final.is_dir():
        raise UserError(f"{final} is a file, not a folder (a {to.upper()} set is a folder)")
    with staged_folder(final) as stage:
        if to == "yolo":
            _write_yolo(dataset, stage, final, split, image_dir, segments)
        else:
            _write_voc(dataset, stage, split, image_dir)
    return final / "data.yaml" if to == "yolo" else final


def input_files(dataset: DetectionDataset, image_dir: PathLike | None = None) -> list[Path]:
    """The files a conversion of ``dataset`` reads besides its source: each image
    (under ``image_dir``, default ``dataset.image_root``; none when neither is known) and
    each YOLO label file beside one (``.../labels/...``) that exists."""
    root = image_dir if image_dir is not None else dataset.image_root
    if not root or not dataset.image_files:
        return []
    images = [Path(root) / f for f in dataset.image_files if f]
    labels = [_label_path(p) for p in images]
    return images + [p for p in labels if p.is_file()]


# ----------------------------------------------------------------------------- shards
def write_matches(matches: ImageMatches, path: PathLike) -> Path:
    """Write one process's :class:`ImageMatches` as an ``.npz`` shard."""
    check_instance(matches, ImageMatches, "matches")
    with atomic_open(path, "wb") as handle:
        np.savez(handle, **matches.to_arrays())
    return Path(path)


def read_matches(paths: Iterable[PathLike]) -> ImageMatches:
    """Read shards written by :func:`write_matches` and merge them."""
    shards = []
    for path in paths:
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                shards.append(ImageMatches.from_arrays({k: data[k] for k in data.files}))
        except (OSError, ValueError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise UserError(f"{path}: not a match shard ({exc})") from None
    return merge_matches(shards)
