"""Any of the three formats: recognise a path (:func:`detect_format`), read it
(:func:`load_dataset`, :func:`load_predictions`), write or convert a whole set
(:func:`write_dataset`, :func:`convert`) and list the files a conversion reads
(:func:`input_files`)."""

from __future__ import annotations

from pathlib import Path

from tinyvision._errors import UserError
from tinyvision._fileio import (
    staged_folder,
)
from tinyvision._validate import check_instance
from tinyvision.data.formats._common import PathLike, check_split_name, stem_index
from tinyvision.data.formats.coco import read_coco, read_coco_results, write_coco
from tinyvision.data.formats.voc import read_voc, read_voc_predictions, write_voc_folder
from tinyvision.data.formats.yolo import (
    label_path,
    read_yolo,
    read_yolo_predictions,
    write_yolo_folder,
)
from tinyvision.structures import DetectionDataset, Detections

__all__ = [
    "convert",
    "detect_format",
    "input_files",
    "load_dataset",
    "load_predictions",
    "write_dataset",
]


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
    stems = stem_index(dataset)
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
            write_yolo_folder(dataset, stage, final, split, image_dir, segments)
        else:
            write_voc_folder(dataset, stage, split, image_dir)
    return final / "data.yaml" if to == "yolo" else final


def input_files(dataset: DetectionDataset, image_dir: PathLike | None = None) -> list[Path]:
    """The files a conversion of ``dataset`` reads besides its source: each image
    (under ``image_dir``, default ``dataset.image_root``; none when neither is known) and
    each YOLO label file beside one (``.../labels/...``) that exists."""
    root = image_dir if image_dir is not None else dataset.image_root
    if not root or not dataset.image_files:
        return []
    images = [Path(root) / f for f in dataset.image_files if f]
    labels = [label_path(p) for p in images]
    return images + [p for p in labels if p.is_file()]
