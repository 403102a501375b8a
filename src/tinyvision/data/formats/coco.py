"""COCO json: ground truth (:func:`read_coco` / :func:`write_coco`) and results
(:func:`read_coco_results` / :func:`write_coco_results`).

The json parsing itself (pycocotools' rules, limits, error messages) is
:mod:`tinyvision.metrics._coco_io`'s; this module adds file stems as image ids for results
written by YOLOv5 and the writers.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from tinyvision._fileio import (
    atomic_write_json,
)
from tinyvision._validate import check_instance
from tinyvision.data.formats._common import PathLike, stem_index
from tinyvision.metrics._coco_io import (
    dataset_from_coco,
    detections_from_coco,
    read_json,
    scanned_detections,
)
from tinyvision.structures import DetectionDataset, Detections

__all__ = [
    "read_coco",
    "read_coco_results",
    "to_coco",
    "write_coco",
    "write_coco_results",
]


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
    by_stem = stem_index(dataset)
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
