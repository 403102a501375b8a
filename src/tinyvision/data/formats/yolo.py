"""YOLO txt folders: ground truth (:func:`read_yolo` / :func:`write_yolo`) and YOLOv5
``--save-txt --save-conf`` predictions (:func:`read_yolo_predictions` /
:func:`write_yolo_predictions`).

``data.yaml`` (``path``, ``train``/``val``/``test``, ``names``); labels at
``.../labels/...`` beside ``.../images/...``, one ``class cx cy w h`` line per object,
normalised to [0, 1] (a polygon line ``class x1 y1 x2 y2 ...`` is a box by its bounds and
a ``segmentation`` polygon for ``iou_type="segm"``). Category ids are the class indices
0..nc-1; image sizes come from the image headers (:func:`tinyvision.data.images.image_size`,
EXIF orientation applied).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tinyvision._errors import UserError
from tinyvision._fileio import (
    atomic_write_text,
)
from tinyvision._validate import check_instance
from tinyvision.data._safe_io import (
    check_data_yaml_fields,
    load_data_yaml,
    parse_yolo_line,
    yolo_label_rows,
)
from tinyvision.data._safe_io import read_text as _read_text
from tinyvision.data.formats._common import (
    PathLike,
    build_dataset,
    check_split_name,
    copy_images,
    detections_from_rows,
    number_text,
    output_stems,
    stem_index,
)
from tinyvision.data.images import IMAGE_SUFFIXES, image_size
from tinyvision.structures import DetectionDataset, Detections

__all__ = [
    "BadLabelsWarning",
    "read_yolo",
    "read_yolo_predictions",
    "write_yolo",
    "write_yolo_predictions",
]

# label_path, yolo_box and write_yolo_folder are module-level helpers for the other
# readers (auto.py, ``cluster anchors``), not re-exported by the package.


class BadLabelsWarning(UserWarning):
    """What ``read_yolo`` left out or corrected: bad label lines, unreadable label files
    and images (with ``skip_bad=True``), boxes clipped to their image, empty boxes."""


_EDGE_SLACK = 1e-6  # normalised; the rounding of label text written with 6 decimals


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


def label_path(image: Path) -> Path:
    """YOLOv5's rule: the last ``/images/`` of the path becomes ``/labels/``, suffix .txt."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def yolo_box(
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
    relative to the image as displayed (EXIF orientation applied, see
    :func:`tinyvision.data.images.image_size`).

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
        label = label_path(image)
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
            box, clipped = yolo_box(cx, cy, w, h, width, height)
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
    return build_dataset(files, sizes, objects, names, np.arange(len(names), dtype=np.int64), base)


def _yolo_polygon(line: str, width: int, height: int) -> list[list[float]] | None:
    """A YOLO segmentation line's polygon in pixels, as a COCO ``segmentation`` (None for
    a box line). The line was checked by ``parse_yolo_line``."""
    numbers = [float(v) for v in line.split()[1:]]
    if len(numbers) < 6:
        return None
    xy = np.array(numbers).reshape(-1, 2) * (width, height)
    return [xy.reshape(-1).tolist()]


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
    by_stem = stem_index(dataset)
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
    return detections_from_rows(rows)


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
    return write_yolo_folder(dataset, Path(root), Path(root), split, image_dir, segments)


def write_yolo_folder(
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
    stems = output_stems(dataset)
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
                lines.append(f"{cls} " + " ".join(number_text(v) for v in xy.tolist()))
                continue
            as_boxes += segments
            x, y, w, h = dataset.bbox[r].tolist()
            lines.append(
                f"{cls} {number_text((x + w / 2) / width)} {number_text((y + h / 2) / height)} "
                f"{number_text(w / width)} {number_text(h / height)}"
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
        copy_images(dataset.image_files, image_dir, out / "images" / split, stems)
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


def write_yolo_predictions(
    detections: Detections, dataset: DetectionDataset, folder: PathLike
) -> Path:
    """Write detections as YOLOv5 prediction files (``<stem>.txt``: class cx cy w h conf)."""
    check_instance(detections, Detections, "detections")
    check_instance(dataset, DetectionDataset, "dataset")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    index = dataset.category_index()
    stems = dict(zip(dataset.image_ids.tolist(), output_stems(dataset)))
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
            f"{index[cat]} {number_text((x + w / 2) / width)} {number_text((y + h / 2) / height)} "
            f"{number_text(w / width)} {number_text(h / height)} {number_text(score)}"
        )
    for image_id, text in lines.items():
        atomic_write_text(out / f"{stems[image_id]}.txt", "".join(f"{x}\n" for x in text))
    return out
