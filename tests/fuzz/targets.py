"""Fuzz targets: one per file reader, each taking the bytes of one file.

A target writes the bytes to a file of the right name inside a small, otherwise valid
data set (built once per process in a temporary folder) and calls the public reader on
it. :func:`run` calls a target and decides whether what happened is acceptable:

* the reader returns (the bytes were a valid file), or
* it raises one of the library's clear errors: :class:`~tinyvision._errors.UserError`,
  ``ValueError`` or ``TypeError`` (``FileNotFoundError``/``NotADirectoryError`` for a path
  named inside a file that is not there), whose message is ONE line that names the file
  (or the folder) the fuzzed bytes were written to. ``UnicodeError`` (a ``ValueError``)
  is not clear: it names no file.

Anything else (``OverflowError``, ``RecursionError``, ``KeyError``, ``IndexError``,
``UnicodeDecodeError``, ``struct.error``, a message that does not name the file, or spans
lines) makes :func:`run` raise :class:`UnclearError`, which the fuzzer records as a crash.
Time and memory are bounded by the driver (``tests/fuzz/run.py``), not here.

Used by ``scripts/fuzz.sh`` (through ``tests/fuzz/run.py``) and by
``tests/test_fuzz_corpus.py``, which replays the seeds and every saved crasher.
"""

from __future__ import annotations

import json
import pickle
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TARGETS", "UnclearError", "run", "seeds"]

CLEAR_ERRORS: tuple[type[BaseException], ...] = ()  # filled in by _setup (lazy imports)


class UnclearError(AssertionError):
    """A reader failed in a way the user cannot act on (see the module docstring)."""


_ROOT: Path | None = None


def _root() -> Path:
    """This process's scratch folder (removed at exit)."""
    global _ROOT
    if _ROOT is None:
        import atexit

        _ROOT = Path(tempfile.mkdtemp(prefix="tinyvision-fuzz-"))
        atexit.register(shutil.rmtree, _ROOT, True)
    return _ROOT


def _folder(name: str) -> Path:
    folder = _root() / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _png(path: Path, width: int, height: int) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((height, width, 3), np.uint8))


# ----------------------------------------------------------------------------- fixtures
_DATASET = None


def _dataset() -> Any:  # a DetectionDataset, imported lazily
    """Two images (``1.png`` 16x8, ``2.png`` 8x8), classes ``a`` (0) and ``b`` (1)."""
    global _DATASET
    if _DATASET is None:
        from tinyvision.metrics import DetectionDataset

        _DATASET = DetectionDataset.from_columns(
            image_id=[1, 2], category_id=[0, 1], bbox=[[0, 0, 4, 4], [1, 1, 2, 2]],
            image_ids=[1, 2], category_ids=[0, 1], category_names=["a", "b"],
            image_files=["1.png", "2.png"], image_sizes=[[16, 8], [8, 8]],
        )  # fmt: skip
    return _DATASET


def _yolo_set() -> Path:
    """A YOLO set: ``data.yaml``, ``images/val/{1,2}.png``, ``labels/val/``."""
    root = _root() / "yolo"
    if not root.is_dir():
        _png(root / "images" / "val" / "1.png", 16, 8)
        _png(root / "images" / "val" / "2.png", 8, 8)
        (root / "labels" / "val").mkdir(parents=True)
        (root / "data.yaml").write_text("path: .\nval: images/val\nnames: [a, b]\n")
    return root


# ----------------------------------------------------------------------------- targets
def coco_gt(data: bytes) -> Path:
    from tinyvision.data.formats import read_coco

    path = _folder("coco") / "gt.json"
    path.write_bytes(data)
    read_coco(path)
    return path


def coco_results(data: bytes) -> Path:
    from tinyvision.data.formats import read_coco_results

    path = _folder("coco") / "dt.json"
    path.write_bytes(data)
    read_coco_results(path, _dataset())  # string image ids are mapped by file stem
    return path


def yolo_labels(data: bytes) -> Path:
    """One label file, read by ``read_yolo`` (strict and ``skip_bad``) and by ``anchors``."""
    from tinyvision._cli.anchors import read_yolo_sizes
    from tinyvision.data.formats import BadLabelsWarning, read_yolo

    root = _yolo_set()
    (root / "labels" / "val" / "1.txt").write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BadLabelsWarning)
        try:
            read_yolo(root / "data.yaml", "val")
        finally:
            read_yolo(root / "data.yaml", "val", skip_bad=True)  # never raises for a label
            read_yolo_sizes(root / "labels")
    return root / "labels" / "val" / "1.txt"


def data_yaml(data: bytes) -> Path:
    from tinyvision.data.formats import BadLabelsWarning, read_yolo

    root = _yolo_set()
    path = root / "fuzzed.yaml"  # beside data.yaml: relative paths resolve the same
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BadLabelsWarning)
        read_yolo(path, "val")
    return path


def voc_xml(data: bytes) -> Path:
    from tinyvision.data.formats import read_voc

    root = _folder("voc")
    (root / "Annotations").mkdir(exist_ok=True)
    path = root / "Annotations" / "1.xml"
    path.write_bytes(data)
    read_voc(root, split=None)
    return root


def yolo_predictions(data: bytes) -> Path:
    from tinyvision.data.formats import read_yolo_predictions

    folder = _folder("yolo_predictions")
    (folder / "1.txt").write_bytes(data)
    read_yolo_predictions(folder, _dataset())
    return folder


def voc_predictions(data: bytes) -> Path:
    from tinyvision.data.formats import read_voc_predictions

    folder = _folder("voc_predictions")
    path = folder / "comp4_det_val_a.txt"
    path.write_bytes(data)
    read_voc_predictions(path, _dataset())
    return path


def predictions_csv(data: bytes) -> Path:
    from tinyvision.train.evaluate import read_predictions_csv

    path = _folder("csv") / "predictions.csv"
    path.write_bytes(data)
    read_predictions_csv(path)
    return path


_CIFAR_NAMES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")


def cifar_batch(data: bytes) -> Path:
    """The bytes as ``data_batch_1`` of an extracted CIFAR-10 folder of 2-image batches."""
    from tinyvision.data.cifar import load_cifar10

    folder = _root() / "cifar"
    if not folder.is_dir():
        folder.mkdir()
        for name in _CIFAR_NAMES:
            (folder / name).write_bytes(_cifar_file(name))
    (folder / "data_batch_1").write_bytes(data)
    load_cifar10(folder, md5=None)
    return folder


def _cifar_file(name: str) -> bytes:
    if name == "batches.meta":
        return pickle.dumps({b"label_names": [f"c{i}".encode() for i in range(10)]}, protocol=2)
    batch = {b"data": np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072), b"labels": [3, 7]}
    return pickle.dumps(batch, protocol=2)


TARGETS: dict[str, Callable[[bytes], Path]] = {
    "coco_gt": coco_gt,
    "coco_results": coco_results,
    "yolo_labels": yolo_labels,
    "data_yaml": data_yaml,
    "voc_xml": voc_xml,
    "yolo_predictions": yolo_predictions,
    "voc_predictions": voc_predictions,
    "predictions_csv": predictions_csv,
    "cifar_batch": cifar_batch,
}


# ----------------------------------------------------------------------------- seeds
def seeds(name: str) -> list[bytes]:
    """Valid files for a target (the fuzzer's starting corpus); each reads without error."""
    from tinyvision.data.formats import to_coco

    gt = to_coco(_dataset())
    results = [
        {"image_id": 1, "category_id": 0, "bbox": [0.5, 1, 4, 4.25], "score": 0.9},
        {"image_id": "2", "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.25},
    ]
    voc = (
        "<annotation><filename>1.png</filename><size><width>16</width><height>8</height>"
        "<depth>3</depth></size><object><name>a</name><difficult>0</difficult><bndbox>"
        "<xmin>1</xmin><ymin>1</ymin><xmax>4</xmax><ymax>4</ymax></bndbox></object>"
        "<object><name>b</name><difficult>1</difficult><bndbox><xmin>2.5</xmin><ymin>2</ymin>"
        "<xmax>3</xmax><ymax>8</ymax></bndbox></object></annotation>\n"
    )
    table = {
        "coco_gt": [json.dumps(gt), json.dumps({**gt, "categories": None})],
        "coco_results": [json.dumps(results), json.dumps({"annotations": results[:1]})],
        "yolo_labels": [
            "0 0.5 0.5 0.25 0.5\n1 0.1 0.2 0.1 0.1\n",
            "\ufeff1 0.1 0.1 0.3 0.1 0.3 0.4\n\n0 1 1 0.5 0.5\n",
        ],
        "data_yaml": [
            "path: .\nval: images/val\nnames: [a, b]\n",
            "val: [images/val]\nnc: 2\nnames:\n  0: a\n  1: b\ntrain: images/val\n",
        ],
        "voc_xml": [voc],
        "yolo_predictions": ["0 0.5 0.5 0.25 0.5 0.9\n1 0.1 0.2 0.1 0.1 0.05\n"],
        "voc_predictions": ["1 0.9 1 1 4 4\n2 0.5 1.5 2 3 3.5\n"],
        "predictions_csv": [
            "label,cat,dog\ncat,0.9,0.1\ndog,0.2,0.8\n",
            "\ufefftarget,a,b,c\n0,1,0,0\n\n2,0.1,0.2,0.7\n",
        ],
    }
    if name == "cifar_batch":
        return [_cifar_file("data_batch_1")]
    return [text.encode("utf-8") for text in table[name]]


# ----------------------------------------------------------------------------- checking
def _setup() -> None:
    global CLEAR_ERRORS
    if not CLEAR_ERRORS:
        from tinyvision._errors import UserError

        CLEAR_ERRORS = (UserError, ValueError, TypeError, FileNotFoundError, NotADirectoryError)


def run(name: str, data: bytes) -> BaseException | None:
    """Run target ``name`` on ``data``; return the clear error it raised (None if it read
    the file), or raise :class:`UnclearError` from anything else."""
    _setup()
    target = TARGETS[name]
    try:
        target(data)
    except CLEAR_ERRORS as exc:
        if not isinstance(exc, UnicodeError):
            message = str(exc)
            if message and "\n" not in message and str(_root()) in message:
                return exc
        raise UnclearError(
            f"{name}: {type(exc).__name__} that is not one clear line naming the file: "
            f"{str(exc)[:300]!r}"
        ) from exc
    except Exception as exc:
        raise UnclearError(f"{name}: {type(exc).__name__}: {str(exc)[:300]}") from exc
    return None
