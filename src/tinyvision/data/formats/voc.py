"""Pascal VOC: ``Annotations/*.xml`` ground truth (:func:`read_voc` / :func:`write_voc`)
and the devkit's per-class result files (:func:`read_voc_predictions` /
:func:`write_voc_predictions`).

Boxes are 1-based inclusive pixel indices, so ``xmin..xmax`` becomes ``x = xmin - 1``,
``w = xmax - xmin + 1``; ``difficult`` objects are ``ignore``\\ d. Category ids are 0..K-1
over the class names sorted (VOC's own class list is alphabetical). Result lines are
``<image> <score> <xmin> <ymin> <xmax> <ymax>`` in ``<anything>_<class>.txt``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tinyvision._errors import UserError
from tinyvision._fileio import (
    atomic_write_text,
)
from tinyvision._validate import check_instance
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
from tinyvision.structures import DetectionDataset, Detections

__all__ = [
    "read_voc",
    "read_voc_predictions",
    "write_voc",
    "write_voc_predictions",
]


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
    return build_dataset(files, sizes, objects, names, category_ids, base / "JPEGImages")


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
    return write_voc_folder(dataset, Path(root), split, image_dir)


def write_voc_folder(
    dataset: DetectionDataset, out: Path, split: str, image_dir: PathLike | None
) -> Path:
    """:func:`write_voc` into ``out`` (the set's folder or a staging folder), unchecked."""
    stems = output_stems(dataset)
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
                ET.SubElement(box, key).text = number_text(value)
        ET.indent(node)
        atomic_write_text(
            out / "Annotations" / f"{stems[i]}.xml", ET.tostring(node, encoding="unicode") + "\n"
        )
    if image_dir is not None:
        copy_images(files, image_dir, out / "JPEGImages", stems)
    atomic_write_text(out / "ImageSets" / "Main" / f"{split}.txt", "".join(f"{s}\n" for s in stems))
    return out


def read_voc_predictions(source: PathLike, dataset: DetectionDataset) -> Detections:
    """Read VOC devkit result files from a folder: one ``<prefix>_<class>.txt`` per class
    (e.g. ``comp4_det_test_car.txt``) with ``<image> <score> <xmin> <ymin> <xmax> <ymax>``."""
    folder = Path(source)
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else [folder]
    if not files or not files[0].is_file():
        raise FileNotFoundError(f"{folder}: no VOC result files (*.txt)")
    by_stem = stem_index(dataset)
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
    return detections_from_rows(rows)


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
    stems = dict(zip(dataset.image_ids.tolist(), output_stems(dataset)))
    for cid, name in zip(dataset.category_ids.tolist(), dataset.category_names):
        rows = np.flatnonzero(detections.category_id == cid)
        lines = []
        for r in rows:
            x, y, w, h = detections.bbox[r].tolist()
            lines.append(
                f"{stems[int(detections.image_id[r])]} {number_text(detections.score[r])} "
                f"{number_text(x + 1)} {number_text(y + 1)} "
                f"{number_text(x + w)} {number_text(y + h)}\n"
            )
        atomic_write_text(out / f"{prefix}_{name}.txt", "".join(lines))
    return out
