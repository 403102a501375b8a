"""``Classifier``: a trained image classifier, loaded from its checkpoint, run on any source.

A classifier checkpoint records the images it was trained on: their shape ``[C, H, W]``
(8x8 gray digits, 32x32 RGB CIFAR-10, or those upscaled by an integer factor), the class
names and the per-channel normalisation. :meth:`Classifier.predict` brings any image to
that form the way training saw it: converted to gray when ``C = 1``, resized (area filter
when shrinking, bilinear when enlarging, the aspect ratio not kept) to the data set's own
size, then upscaled by the recorded factor (nearest neighbour, as training did),
scaled to [0, 1] and normalised.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tinyvision._validate import check_int, describe
from tinyvision.models._common import (
    check_bool,
    device_of,
    export_to,
    load_record,
    run_batches,
    train_config,
)
from tinyvision.models.results import Probs, Results
from tinyvision.models.sources import Frame

__all__ = ["Classifier"]

KIND = "classifier"
DATA_SETS = ("digits", "cifar10")


class Classifier:
    """A trained classifier with what its inputs must look like.

    Attributes:
        model: the network (eval mode): ``[B, C, H, W]`` normalised floats -> logits ``[B, K]``.
        names: class index -> name.
        image_shape: ``(C, H, W)`` of the images the model takes.
        upscale: the integer factor the training images were upscaled by (1: none).
        mean, std: per-channel normalisation of images in [0, 1].
        record: the checkpoint record it was loaded from.
    """

    def __init__(self, model: torch.nn.Module, record: dict[str, Any]) -> None:
        from tinyvision.train.classify import TrainConfig

        self.model = model.eval()
        self.record = record
        self.names = {i: str(n) for i, n in enumerate(record["classes"])}
        self.image_shape = tuple(int(v) for v in record["image_shape"])
        self.upscale = int(record.get("upscale", 1))
        self.mean = [float(v) for v in record["mean"]]
        self.std = [float(v) for v in record["std"]]
        self.config = TrainConfig.from_dict(record["config"])
        self.path: Path | None = None  # the checkpoint file, when loaded from one

    def __repr__(self) -> str:
        return f"Classifier({len(self.names)} classes, image_shape={self.image_shape})"

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, device: Any = None) -> Classifier:
        """The classifier of a checkpoint ``tinyvision classify train`` wrote.

        Raises:
            TypeError: ``path`` is not a path.
            ValueError: a detector checkpoint (or another kind).
            UserError: a missing, damaged or foreign file, or an incomplete record.
        """
        from tinyvision.train.classify import check_classifier_record, model_from_checkpoint

        record = load_record(path, KIND)
        check_classifier_record(record, os.fspath(path))
        classifier = cls(model_from_checkpoint(record, os.fspath(path)), record)
        classifier.path = Path(path)
        if device is not None:
            classifier.model.to(device_of(classifier.model, device))
        return classifier

    # ------------------------------------------------------------------------- predict
    def predict(
        self,
        source: Any,
        *,
        device: Any = None,
        batch_size: int = 64,
        stream: bool = False,
        stride: int = 1,
    ) -> list[Results] | Iterator[Results]:
        """Class probabilities of every image of ``source``.

        Each image is brought to the training images' form (see the module docstring:
        channels converted, resized to :attr:`image_shape`, normalised).

        Args:
            source: as :meth:`tinyvision.models.Detector.predict` takes it (files, folders,
                globs, videos, numpy BGR, PIL, torch RGB ``[C, H, W]``, lists of them).
            device: where to run (the model moves there); default the model's device.
            batch_size: images per forward pass.
            stream: return a generator instead of a list.
            stride: of a video, take every ``stride``-th frame.

        Returns:
            one :class:`Results` per image, with ``probs.data`` ``[K]``, ``probs.top1``,
            ``probs.top5``, ``probs.top1conf``.
        """
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        check_int(stride, "stride", minimum=1)
        stream = check_bool(stream, "stream")
        self.model.to(device_of(self.model, device))
        return run_batches(
            source,
            stride=stride,
            batch_size=batch_size,
            stream=stream,
            predict=self._predict_frames,
        )

    __call__ = predict

    def preprocess(self, image: np.ndarray) -> torch.Tensor:
        """RGB ``uint8[H, W, 3]`` -> ``Tensor[C, H', W']`` float in [0, 1], the shape of
        :attr:`image_shape` (not yet normalised)."""
        import cv2

        c, h, w = self.image_shape
        native_h, native_w = h // self.upscale, w // self.upscale
        if c == 1:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]
        if image.shape[:2] != (native_h, native_w):
            shrink = image.shape[0] * image.shape[1] > native_h * native_w
            interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            image = cv2.resize(image, (native_w, native_h), interpolation=interpolation)
            image = image.reshape(native_h, native_w, -1)
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
        if self.upscale > 1:
            x = x.repeat_interleave(self.upscale, dim=1).repeat_interleave(self.upscale, dim=2)
        if c == 3 and x.shape[0] == 1:
            x = x.expand(3, -1, -1)
        return x.float() / 255.0

    @torch.no_grad()
    def _predict_frames(self, frames: list[Frame]) -> list[Results]:
        from tinyvision.train.classify import predict_proba

        device = next(self.model.parameters()).device
        x = torch.stack([self.preprocess(f.image) for f in frames]).to(device)
        probs = predict_proba(
            self.model,
            x,
            self.mean,
            self.std,
            batch_size=len(frames),
            tta_flip=self.config.tta_flip,
        ).cpu()
        return [
            Results(f.image, path=f.path, names=self.names, probs=Probs(p), frame=f.frame)
            for f, p in zip(frames, probs)
        ]

    # ------------------------------------------------------------------------- val, train
    def _data(self, data: Any, data_dir: str, download: bool) -> tuple[Any, Any]:
        """``(train, test)`` of a named data set (default the checkpoint's), upscaled as
        the model was trained, checked against the model's classes and image shape."""
        from tinyvision.data.dataset import ImageDataset

        data = self.record.get("data") if data is None else data
        if isinstance(data, ImageDataset):
            sets = (data.upscale(self.upscale),) * 2
        elif data == "digits":
            from tinyvision.data.digits import load_digits

            sets = load_digits()
        elif data == "cifar10":
            from tinyvision.data.cifar import load_cifar10

            sets = load_cifar10(data_dir, download=download)
        else:
            raise ValueError(
                f"data must be one of {', '.join(map(repr, DATA_SETS))} or an ImageDataset, "
                f"got {describe(data) if not isinstance(data, str) else repr(data)}"
            )
        if not isinstance(data, ImageDataset):
            sets = tuple(s.upscale(self.upscale) for s in sets)
        test = sets[1]
        if tuple(test.image_shape) != self.image_shape or len(test.classes) != len(self.names):
            raise ValueError(
                f"data has images of shape {list(test.image_shape)} in {len(test.classes)} "
                f"classes; the classifier takes {list(self.image_shape)} in {len(self.names)}"
            )
        return sets[0], sets[1]

    def val(
        self,
        data: Any = None,
        *,
        device: Any = None,
        data_dir: str = "data",
        download: bool = False,
    ) -> Any:
        """Evaluate on a data set's test split (``"digits"``, ``"cifar10"`` or an
        :class:`~tinyvision.data.dataset.ImageDataset` at the data set's own size: the
        recorded upscale is applied; default the checkpoint's), as ``tinyvision classify
        eval`` does.

        Returns:
            the :class:`~tinyvision.train.evaluate.ClassifierEvaluation` (``accuracy``,
            confusion matrix, per-class precision/recall/F1, ROC and PR curves).
        """
        from tinyvision.train.classify import predict_proba
        from tinyvision.train.evaluate import evaluate_scores

        _, test = self._data(data, data_dir, download)
        self.model.to(device_of(self.model, device))
        images = test.float_images(next(self.model.parameters()).device)
        probs = predict_proba(
            self.model,
            images,
            self.mean,
            self.std,
            batch_size=self.config.eval_batch_size,
            tta_flip=self.config.tta_flip,
        )
        return evaluate_scores(test.labels.numpy(), probs.double().cpu().numpy(), test.classes)

    def train(
        self,
        data: Any = None,
        *,
        out: str | os.PathLike[str] | None = None,
        device: Any = None,
        data_dir: str = "data",
        download: bool = False,
        **settings: Any,
    ) -> Any:
        """Train this classifier further (from its weights) on a data set's train split.

        Args:
            data: ``"digits"``, ``"cifar10"`` or an ImageDataset (default the checkpoint's).
            out: where ``last.pt`` is written (None: no checkpoint).
            settings: fields of :class:`~tinyvision.train.classify.TrainConfig`
                (``epochs=``, ``lr=``, ``batch_size=``, ...) replacing the checkpoint's.

        Returns:
            the :class:`~tinyvision.train.classify.TrainResult`; this classifier then holds
            the trained model and its normalisation.

        Raises:
            TypeError: a keyword that is not a config field.
        """
        from tinyvision.train.classify import train_classifier
        from tinyvision.train.distributed import DistContext

        config = train_config(type(self.config), self.record.get("config"), settings)
        train, _ = self._data(data, data_dir, download)
        keys = ("model_name", "model_kwargs", "recipe", "classes", "upscale", "seed")
        meta = {k: self.record[k] for k in keys if k in self.record}
        meta["image_shape"] = list(self.image_shape)
        name = self.record.get("data") if data is None else data
        if isinstance(name, str):  # an ImageDataset has no name to rebuild it by
            meta["data"] = name
        result = train_classifier(
            self.model,
            train,
            config,
            ctx=DistContext(device=device_of(self.model, device)),
            out_dir=out,
            meta=meta,
        )
        self.model = result.model.eval()
        self.mean, self.std, self.config = list(result.mean), list(result.std), config
        self.record = {**self.record, "config": _asdict(config), "mean": self.mean, "std": self.std}
        return result

    # ------------------------------------------------------------------------- export
    def export(self, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Path:
        """Write the model as ONNX (default) or TorchScript and return the file's path.

        ``path`` defaults to the checkpoint's name with ``.onnx`` / ``.torchscript`` beside
        it (required for a model not loaded from a file). Keywords are those of
        :func:`tinyvision.train.export.export` (``format``, ``img_size``, ``dynamic``,
        ``half``, ``opset``); the weights exported are the current ones.
        """
        return export_to(self, path, **kwargs)

    def _export_meta(self) -> dict[str, Any]:
        return {
            "names": list(self.names.values()),
            "image_shape": list(self.image_shape),
            "mean": list(self.mean),
            "std": list(self.std),
        }


def _asdict(config: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(config)
