"""What ``predict`` returns: one :class:`Results` per image, with :class:`Boxes` (a
detector's) or :class:`Probs` (a classifier's), as Ultralytics names them.

Boxes are in the pixels of the original image, ``(x1, y1, x2, y2)`` continuous
coordinates (no "+1 pixel"). The original image is kept as given; :meth:`Results.plot`
draws on a copy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["Boxes", "Probs", "Results"]


class Boxes:
    """Detected boxes of one image (CPU tensors, whatever device the model ran on).

    Args:
        xyxy (Tensor[N, 4]): ``(x1, y1, x2, y2)`` in the original image's pixels.
        conf (Tensor[N]): confidences (objectness x class probability), decreasing.
        cls (Tensor[N] int64): class indices.
        orig_shape: ``(height, width)`` of the original image, for the normalised boxes.
    """

    def __init__(self, xyxy: Tensor, conf: Tensor, cls: Tensor, orig_shape: tuple[int, int]):
        self.xyxy = xyxy.float()
        self.conf = conf.float()
        self.cls = cls.long()
        self.orig_shape = (int(orig_shape[0]), int(orig_shape[1]))

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: Any) -> Boxes:
        """The boxes at ``index`` (an int, a slice, a mask or an index tensor)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return Boxes(self.xyxy[index], self.conf[index], self.cls[index], self.orig_shape)

    def __repr__(self) -> str:
        return f"Boxes({len(self)} boxes, orig_shape={self.orig_shape})"

    @property
    def data(self) -> Tensor:
        """Tensor[N, 6]: ``(x1, y1, x2, y2, conf, cls)``."""
        return torch.cat((self.xyxy, self.conf[:, None], self.cls[:, None].float()), dim=1)

    @property
    def xywh(self) -> Tensor:
        """Tensor[N, 4]: ``(cx, cy, w, h)`` in pixels (centre, width, height)."""
        x1, y1, x2, y2 = self.xyxy.unbind(dim=1)
        return torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=1)

    @property
    def xyxyn(self) -> Tensor:
        """Tensor[N, 4]: :attr:`xyxy` divided by the image's ``(w, h, w, h)``."""
        return self.xyxy / self._scale()

    @property
    def xywhn(self) -> Tensor:
        """Tensor[N, 4]: :attr:`xywh` divided by the image's ``(w, h, w, h)``."""
        return self.xywh / self._scale()

    def _scale(self) -> Tensor:
        h, w = self.orig_shape
        return torch.tensor([w, h, w, h], dtype=self.xyxy.dtype, device=self.xyxy.device)

    def cpu(self) -> Boxes:
        return Boxes(self.xyxy.cpu(), self.conf.cpu(), self.cls.cpu(), self.orig_shape)


class Probs:
    """Class probabilities of one image.

    Args:
        data (Tensor[K]): a probability per class (summing to 1).
    """

    def __init__(self, data: Tensor) -> None:
        self.data = data.float()
        self._order = torch.argsort(self.data, descending=True, stable=True)

    def __repr__(self) -> str:
        return f"Probs(top1={self.top1}, top1conf={float(self.top1conf):.4f})"

    @property
    def top1(self) -> int:
        """The most probable class index."""
        return int(self._order[0])

    @property
    def top5(self) -> list[int]:
        """The five most probable class indices, best first (all K when K < 5)."""
        return [int(k) for k in self._order[:5]]

    @property
    def top1conf(self) -> Tensor:
        """Tensor[]: the probability of :attr:`top1`."""
        return self.data[self._order[0]]

    @property
    def top5conf(self) -> Tensor:
        """Tensor[min(5, K)]: the probabilities of :attr:`top5`."""
        return self.data[self._order[:5]]

    def cpu(self) -> Probs:
        return Probs(self.data.cpu())


class Results:
    """The prediction for one image: :attr:`boxes` for a detector, :attr:`probs` for a
    classifier (the other is None).

    Attributes:
        orig_shape: ``(height, width)`` of the image as given.
        path: the file it came from (None for an in-memory image).
        frame: its frame number when it came from a video, else None.
        names: class index -> class name.
    """

    def __init__(
        self,
        image: np.ndarray,
        *,
        path: str | None,
        names: dict[int, str],
        boxes: Boxes | None = None,
        probs: Probs | None = None,
        frame: int | None = None,
    ) -> None:
        self._rgb = image  # uint8[H, W, 3] RGB, never written to
        self.orig_shape = (int(image.shape[0]), int(image.shape[1]))
        self.path = path
        self.frame = frame
        self.names = dict(names)
        self.boxes = boxes
        self.probs = probs

    def __len__(self) -> int:
        return len(self.boxes) if self.boxes is not None else 1

    def __repr__(self) -> str:
        what = repr(self.boxes) if self.boxes is not None else repr(self.probs)
        return f"Results(path={self.path!r}, orig_shape={self.orig_shape}, {what})"

    @property
    def orig_img(self) -> np.ndarray:
        """uint8[H, W, 3]: the image in BGR order (as OpenCV uses it), a copy."""
        return np.ascontiguousarray(self._rgb[..., ::-1])

    def plot(self, *, labels: bool = True, conf: bool = True) -> np.ndarray:
        """A drawn copy of the image, BGR ``uint8[H, W, 3]``: one coloured rectangle per box
        (with ``name score`` when ``labels``/``conf``), or the top-5 classes in a corner."""
        if self.boxes is not None:
            from tinyvision.report.drawing import draw_boxes

            boxes = self.boxes.cpu()
            drawn = draw_boxes(
                self._rgb,
                boxes.xyxy.double(),
                boxes.cls,
                [self.names[k] for k in range(len(self.names))],
                boxes.conf.double() if conf else None,
                labels=labels,
            )
            return np.ascontiguousarray(drawn[..., ::-1])
        canvas = self.orig_img
        if self.probs is not None:
            _draw_top5(canvas, self.probs, self.names)
        return canvas

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`plot` to ``path`` (its suffix picks the format: .png, .jpg, ...),
        atomically; return the path."""
        import cv2

        from tinyvision._fileio import atomic_write_bytes

        path = Path(path)
        if not path.suffix or not cv2.haveImageWriter(f"x{path.suffix}"):
            raise ValueError(f"path {path}: OpenCV cannot write images of this suffix")
        ok, encoded = cv2.imencode(path.suffix, self.plot())
        if not ok:
            raise OSError(f"could not encode {path}")
        atomic_write_bytes(path, encoded.tobytes())
        return path

    def summary(self) -> list[dict[str, Any]]:
        """The prediction as plain values: per box ``{name, class, confidence, box: {x1,
        y1, x2, y2}}``, or per top-5 class ``{name, class, confidence}``."""
        if self.boxes is not None:
            rows = []
            boxes = self.boxes.cpu()
            for xyxy, score, cls in zip(
                boxes.xyxy.tolist(), boxes.conf.tolist(), boxes.cls.tolist()
            ):
                box = dict(zip(("x1", "y1", "x2", "y2"), (round(v, 3) for v in xyxy)))
                rows.append(
                    {
                        "name": self.names[cls],
                        "class": cls,
                        "confidence": round(score, 5),
                        "box": box,
                    }
                )
            return rows
        assert self.probs is not None
        probs = self.probs.cpu()
        return [
            {"name": self.names[k], "class": k, "confidence": round(float(c), 5)}
            for k, c in zip(probs.top5, probs.top5conf.tolist())
        ]

    def to_json(self) -> str:
        """:meth:`summary` as a JSON string."""
        return json.dumps(self.summary())

    def to_coco(self, image_id: int | str) -> list[dict[str, Any]]:
        """The boxes as COCO result records ``{image_id, category_id, bbox: [x, y, w, h],
        score}`` (``category_id`` is the class index; bbox rounded to 3 decimals, score to
        5, as YOLOv5 writes them).

        Raises:
            TypeError: ``image_id`` is not an int or str.
            ValueError: a classifier's results (no boxes).
        """
        if not isinstance(image_id, (int, str)) or isinstance(image_id, bool):
            raise TypeError(f"image_id must be an int or a str, got {type(image_id).__name__}")
        if self.boxes is None:
            raise ValueError("to_coco needs boxes: these are a classifier's results")
        boxes = self.boxes.cpu()
        return [
            {
                "image_id": image_id,
                "category_id": int(cls),
                "bbox": [round(v, 3) for v in (x1, y1, x2 - x1, y2 - y1)],
                "score": round(score, 5),
            }
            for (x1, y1, x2, y2), score, cls in zip(
                boxes.xyxy.double().tolist(), boxes.conf.double().tolist(), boxes.cls.tolist()
            )
        ]


# ----------------------------------------------------------------------------- drawing
def _draw_top5(canvas: np.ndarray, probs: Probs, names: dict[int, str]) -> None:
    """Write the top-5 classes and probabilities in the top-left corner of ``canvas``."""
    import cv2

    probs = probs.cpu()
    scale = max(canvas.shape[:2]) / 640
    for row, (k, p) in enumerate(zip(probs.top5, probs.top5conf.tolist())):
        origin = (2, round((row + 1) * 22 * scale) + 2)
        text = f"{names.get(k, str(k))} {p:.2f}"
        cv2.putText(
            canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (255, 255, 255), 1,
            cv2.LINE_AA,
        )  # fmt: skip
