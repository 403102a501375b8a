"""``Detector``: a trained tiny detector, loaded from its checkpoint, run on any source.

``Detector.load("runs/detect/shapes/last.pt").predict("photos/")`` letterboxes each image,
runs the model (its EMA weights), decodes, filters by confidence, NMS-es per class and
keeps the top ``max_det``, and returns one :class:`~tinyvision.models.results.Results`
per image with the boxes in that image's pixels.

Rectangular inference (``rect=True``, the default) letterboxes each image to its own
shape: the longer side resized to ``img_size``, the shorter one padded only up to the next
multiple of the model's largest stride, as YOLOv5's ``detect.py`` does. Fewer padded pixels
are less work; the boxes agree with the square path's (``rect=False``, the image padded
to ``img_size x img_size``, what validation uses) to within about a pixel. Images of one
shape in a row (a video's frames) run as one batch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tinyvision._validate import check_float, check_int, describe
from tinyvision.models._common import (
    check_bool,
    device_of,
    export_to,
    load_record,
    run_batches,
    train_config,
)
from tinyvision.models.results import Boxes, Results
from tinyvision.models.sources import Frame

__all__ = ["Detector", "letterbox_rect"]

KIND = "detector"


def letterbox_rect(
    image: np.ndarray, size: int, multiple: int, fill: int = 114
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Resize ``uint8[H, W, C]`` so that its longer side is ``size`` and pad each side to the
    next multiple of ``multiple``, the image centred (``size`` a multiple of ``multiple``).

    Returns:
        ``(padded uint8[h', w', C], ratio, (pad_x, pad_y))``: a point ``p`` of the original
        image is at ``p * ratio + pad`` in the padded one.
    """
    from tinyvision.data.augment import resize_longest

    resized, ratio = resize_longest(image, size)
    h, w = resized.shape[:2]
    out_h, out_w = math.ceil(h / multiple) * multiple, math.ceil(w / multiple) * multiple
    pad_x, pad_y = (out_w - w) // 2, (out_h - h) // 2
    out = np.full((out_h, out_w, image.shape[2]), fill, dtype=np.uint8)
    out[pad_y : pad_y + h, pad_x : pad_x + w] = resized
    return out, ratio, (pad_x, pad_y)


class Detector:
    """A trained :class:`~tinyvision.nn.detector.TinyDetector` with its class names and
    training size.

    Attributes:
        model: the network (eval mode).
        names: class index -> name.
        img_size: the default input size (the training size), pixels.
        record: the checkpoint record it was loaded from (None when built in memory).
    """

    def __init__(
        self,
        model: Any,
        names: Sequence[str],
        img_size: int,
        *,
        record: dict[str, Any] | None = None,
    ) -> None:
        from tinyvision.nn.detector import TinyDetector

        if not isinstance(model, TinyDetector):
            raise TypeError(f"model must be a TinyDetector, got {describe(model)}")
        if isinstance(names, str) or len(names) != model.num_classes:
            raise ValueError(
                f"names must list the model's {model.num_classes} class names, got {names!r}"
            )
        self.model = model.eval()
        self.names = {i: str(n) for i, n in enumerate(names)}
        self.img_size = self._check_size(img_size, "img_size")
        self.record = record
        self.path: Path | None = None  # the checkpoint file, when loaded from one

    def __repr__(self) -> str:
        return f"Detector({len(self.names)} classes, img_size={self.img_size})"

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this (the largest stride)."""
        return max(self.model.strides)

    def _check_size(self, value: Any, name: str) -> int:
        size = check_int(value, name, minimum=self.multiple)
        if size % self.multiple:
            raise ValueError(
                f"{name} must be a multiple of {self.multiple} (the model's largest stride), "
                f"got {size}"
            )
        return size

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, device: Any = None) -> Detector:
        """The detector of a checkpoint ``tinyvision detect train`` wrote (EMA weights).

        Raises:
            TypeError: ``path`` is not a path.
            ValueError: a classifier checkpoint (or another kind).
            UserError: a missing, damaged or foreign file, or one that does not hold a
                detector.
        """
        from tinyvision.train.detect import detector_from_checkpoint

        record = load_record(path, KIND)
        model = detector_from_checkpoint(record, os.fspath(path))
        names = record.get("names") or [str(k) for k in range(model.num_classes)]
        detector = cls(model, list(names), int(record.get("img_size", 640)), record=record)
        detector.path = Path(path)
        if device is not None:
            detector.model.to(device_of(detector.model, device))
        return detector

    # ------------------------------------------------------------------------- predict
    def predict(
        self,
        source: Any,
        *,
        conf: float = 0.25,
        iou: float = 0.45,
        classes: int | Sequence[int] | None = None,
        agnostic: bool = False,
        max_det: int = 300,
        img_size: int | None = None,
        device: Any = None,
        batch_size: int = 16,
        rect: bool = True,
        stream: bool = False,
        stride: int = 1,
    ) -> list[Results] | Iterator[Results]:
        """Detect objects in every image of ``source``.

        Args:
            source: an image file, a folder (its images, recursively, sorted), a glob, a
                video file, a numpy image (BGR ``uint8[H, W, 3]`` as OpenCV gives it), a PIL
                image, a torch RGB ``[C, H, W]`` tensor (``uint8`` or floats in [0, 1]), or
                a list of these.
            conf: confidence threshold in [0, 1] (objectness x class probability).
            iou: NMS IoU threshold in [0, 1] (a box with a larger IoU is suppressed).
            classes: keep only these class indices (None: all).
            agnostic: NMS across classes (a box suppresses boxes of any class).
            max_det: boxes kept per image, best first.
            img_size: the longer side the images are resized to, a multiple of the largest
                stride (default: the training size).
            device: where to run (``"cpu"``, ``"cuda:0"``, ...; the model moves there);
                default the model's device.
            batch_size: images per forward pass.
            rect: letterbox each image to its own shape (see the module docstring);
                False pads every image to ``img_size x img_size``.
            stream: return a generator (one image decoded at a time) instead of a list.
            stride: of a video, take every ``stride``-th frame.

        Returns:
            one :class:`Results` per image, in source order; ``boxes.xyxy`` ``[D, 4]``
            pixels of the original image, ``boxes.conf`` ``[D]`` decreasing,
            ``boxes.cls`` ``[D]`` class indices.

        Raises:
            ValueError, TypeError: a bad argument or source (named); see
                :func:`~tinyvision.models.sources.resolve_source`.
        """
        settings = {
            "conf": check_float(conf, "conf", minimum=0.0, maximum=1.0),
            "iou": check_float(iou, "iou", minimum=0.0, maximum=1.0),
            "classes": self._check_classes(classes),
            "agnostic": check_bool(agnostic, "agnostic"),
            "max_det": check_int(max_det, "max_det", minimum=1),
        }
        size = self.img_size if img_size is None else self._check_size(img_size, "img_size")
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        check_int(stride, "stride", minimum=1)
        rect = check_bool(rect, "rect")
        stream = check_bool(stream, "stream")
        self.model.to(device_of(self.model, device))

        def predict(frames: list[Frame]) -> list[Results]:
            return self._predict_frames(frames, size, rect, settings)

        return run_batches(
            source, stride=stride, batch_size=batch_size, stream=stream, predict=predict
        )

    __call__ = predict

    def _check_classes(self, classes: Any) -> list[int] | None:
        if classes is None:
            return None
        values = [classes] if not isinstance(classes, (list, tuple, range)) else list(classes)
        k = len(self.names)
        return [check_int(c, "classes", minimum=0, maximum=k - 1) for c in values]

    @torch.no_grad()
    def _predict_frames(
        self, frames: list[Frame], size: int, rect: bool, settings: dict[str, Any]
    ) -> list[Results]:
        """Letterbox, run and post-process ``frames``; consecutive frames of one
        letterboxed shape share a forward pass."""
        from tinyvision.data.augment import letterbox

        boxed = [
            letterbox_rect(f.image, size, self.multiple) if rect else letterbox(f.image, size)
            for f in frames
        ]
        results: list[Results] = []
        start = 0
        while start < len(frames):
            end = start + 1
            while end < len(frames) and boxed[end][0].shape == boxed[start][0].shape:
                end += 1
            results += self._run_group(frames[start:end], boxed[start:end], settings)
            start = end
        return results

    def _run_group(
        self,
        frames: list[Frame],
        boxed: list[tuple[np.ndarray, float, tuple[int, int]]],
        settings: dict[str, Any],
    ) -> list[Results]:
        from tinyvision.nn.detector import decode, postprocess

        model = self.model
        device = next(model.parameters()).device
        stacked = np.stack([b[0] for b in boxed])  # (B, h, w, 3)
        x = torch.from_numpy(stacked).to(device).permute(0, 3, 1, 2).float().div_(255.0)
        decoded = decode(model(x), model.anchor_tensor(), model.strides)
        found = postprocess(
            decoded,
            settings["conf"],
            settings["iou"],
            settings["max_det"],
            classes=settings["classes"],
            agnostic=settings["agnostic"],
        )
        results = []
        for frame, (_, ratio, (pad_x, pad_y)), (boxes, scores, labels) in zip(frames, boxed, found):
            h, w = frame.image.shape[:2]
            b = boxes.double()
            b[:, [0, 2]] = ((b[:, [0, 2]] - pad_x) / ratio).clamp(0, w)
            b[:, [1, 3]] = ((b[:, [1, 3]] - pad_y) / ratio).clamp(0, h)
            found_boxes = Boxes(b.float().cpu(), scores.cpu(), labels.cpu(), (h, w))
            results.append(
                Results(
                    frame.image, path=frame.path, names=self.names, boxes=found_boxes,
                    frame=frame.frame,
                )
            )  # fmt: skip
        return results

    # ------------------------------------------------------------------------- val, train
    def _data_yaml(self, data: Any) -> Path:
        """``data`` (a data.yaml or its folder), or the data set the checkpoint was trained on."""
        if data is not None:
            if not isinstance(data, (str, os.PathLike)):
                raise TypeError(f"data must be a path to a data.yaml, got {describe(data)}")
            return Path(data)
        record = self.record or {}
        if record.get("data") == "shapes":
            return Path(str(record.get("data_dir") or "data")) / "shapes" / "data.yaml"
        if isinstance(record.get("data"), str):
            return Path(record["data"])
        raise ValueError("data must be given: this detector does not name its training data")

    def _read_split(self, data: Any, split: str, size: int) -> Any:
        """The images of a YOLO data set's split, decoded and resized to ``size``."""
        from tinyvision.data.formats import read_yolo
        from tinyvision.data.loader import load_images

        path = self._data_yaml(data)
        if not path.exists():
            raise ValueError(f"data {path}: no such file or folder")
        dataset = read_yolo(path, split)
        if len(dataset.category_names) != len(self.names):
            raise ValueError(
                f"data {path} has {len(dataset.category_names)} classes, the detector "
                f"{len(self.names)}"
            )
        if dataset.num_images == 0:
            raise ValueError(f"data {path}: the {split} split has no images")
        return load_images(dataset, size)

    def val(
        self,
        data: str | os.PathLike[str] | None = None,
        *,
        split: str = "val",
        img_size: int | None = None,
        conf: float = 0.001,
        iou: float = 0.6,
        max_det: int = 300,
        batch_size: int = 32,
        device: Any = None,
    ) -> Any:
        """Evaluate on a YOLO data set's ``split`` with the COCO-exact evaluator, as
        ``tinyvision detect train`` does at its end (square letterbox at ``img_size``).

        Args:
            data: a ``data.yaml`` (or its folder); default the data set of the checkpoint.

        Returns:
            the :class:`~tinyvision.metrics.DetectionEvaluation` (``map50``,
            ``map50_95``, ``stats``, per class, ``summary()``).
        """
        from tinyvision.train.detect import evaluate_detector

        size = self.img_size if img_size is None else self._check_size(img_size, "img_size")
        self.model.to(device_of(self.model, device))
        loaded = self._read_split(data, split, size)
        evaluation, _ = evaluate_detector(
            self.model,
            loaded.dataset,
            loaded.images,
            loaded.scales,
            size,
            conf_threshold=check_float(conf, "conf", minimum=0.0, maximum=1.0),
            iou_threshold=check_float(iou, "iou", minimum=0.0, maximum=1.0),
            max_det=check_int(max_det, "max_det", minimum=1),
            batch_size=check_int(batch_size, "batch_size", minimum=1),
        )
        return evaluation

    def train(
        self,
        data: str | os.PathLike[str] | None = None,
        *,
        out: str | os.PathLike[str] | None = None,
        device: Any = None,
        **settings: Any,
    ) -> Any:
        """Train this detector further (from its weights) on a YOLO data set's train split.

        Args:
            data: a ``data.yaml`` (or its folder); default the data set of the checkpoint.
            out: where ``last.pt`` is written (None: no checkpoint).
            device: where to train (default the model's device).
            settings: fields of :class:`~tinyvision.train.detect.DetectTrainConfig`
                (``epochs=``, ``lr=``, ``batch_size=``, ...) replacing the checkpoint's.

        Returns:
            the :class:`~tinyvision.train.detect.DetectTrainResult`; this detector then
            holds the trained (EMA) model.

        Raises:
            TypeError: a keyword that is not a config field.
        """
        from tinyvision.train.detect import DetectTrainConfig, train_detector
        from tinyvision.train.distributed import DistContext

        record = self.record or {}
        config = train_config(DetectTrainConfig, record.get("config"), settings)
        target = device_of(self.model, device)
        loaded = self._read_split(data, "train", config.img_size)
        meta = {
            "data": os.fspath(self._data_yaml(data)),
            "names": list(self.names.values()),
            "img_size": config.img_size,
            "seed": config.seed,
        }
        result = train_detector(
            self.model.train(),
            loaded.images,
            loaded.labels,
            config,
            ctx=DistContext(device=target),
            out_dir=out,
            meta=meta,
        )
        self.model = result.model.eval()
        self.img_size = config.img_size
        return result

    # ------------------------------------------------------------------------- export
    def export(self, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Path:
        """Write the model as ONNX (default) or TorchScript and return the file's path.

        ``path`` defaults to the checkpoint's name with ``.onnx`` / ``.torchscript`` beside
        it (required for a model not loaded from a file). Keywords are those of
        :func:`tinyvision.train.export.export` (``format``, ``img_size``, ``dynamic``,
        ``half``, ``opset``, ``nms``, ``conf``, ``iou``, ``max_det``); the weights
        exported are the current ones.
        """
        return export_to(self, path, **kwargs)

    def _export_meta(self) -> dict[str, Any]:
        return {"names": list(self.names.values()), "img_size": self.img_size}
