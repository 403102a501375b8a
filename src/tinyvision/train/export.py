"""Export trained models to ONNX (run with ONNX Runtime) and TorchScript.

:func:`export` takes a model, a checkpoint record or a checkpoint file and writes one file,
atomically (complete or absent). The graphs:

- **classifier**: input ``images`` float32 ``[B, C, H, W]`` scaled to [0, 1] (pixel value
  divided by the data set's brightest value: 255 for CIFAR-10, 16 for the 8x8 digits);
  the checkpoint's per-channel ``mean``/``std`` normalisation is part of the graph; output
  ``logits`` ``[B, K]`` (apply a softmax for probabilities). A bare ``nn.Module`` has no
  normalisation to bake in: it is exported as it is.
- **detector**: input ``images`` float32 ``[B, 3, S, S]``, letterboxed RGB in [0, 1] (as
  :func:`tinyvision.data.augment.letterbox` makes them); output ``predictions``
  ``[B, N, 5 + K]``: ``(cx, cy, w, h)`` in input pixels, objectness, K class probabilities
  (what :func:`tinyvision.nn.detector.decode` returns). With ``nms=True`` the graph goes on
  to the final boxes: ``detections`` ``[B, max_det, 6]`` rows ``(x1, y1, x2, y2, score,
  class)`` by decreasing score, zero rows past ``num_detections`` ``[B]`` (int64). The
  selection is :func:`~tinyvision.nn.detector.postprocess`'s with ``multi_label=True``: a
  candidate per class whose objectness x probability exceeds ``conf``, class-aware NMS
  (IoU > ``iou`` suppresses), the ``max_det`` best (no ``max_candidates`` cap).

The batch axis is dynamic (``dynamic=True``); the image size is fixed at export.

Why these choices: ONNX export uses PyTorch's TorchScript-based exporter
(``torch.onnx.export(..., dynamo=False)``): with torch 2.13 it writes opset 17 directly,
in about a second, with a dynamic batch axis, and its ``symbolic`` hook maps our NMS to the
standard ONNX ``NonMaxSuppression`` operator (per batch and class, ``center_point_box=1``)
without torchvision. The torch.export-based exporter (the default of torch >= 2.9) starts
at opset 18 and its conversion down to 17 wrote a ``Split`` node ONNX Runtime refuses.
In PyTorch (and so in the TorchScript file) the same selection runs as a scripted pure-torch
greedy NMS; the numba kernels of :mod:`tinyvision.ops` stay the CPU fast path elsewhere.

``half=True`` exports float16 weights and inputs (outputs stay float32 for the detector);
float16 convolutions are a GPU feature, so it needs a CUDA device (the model is traced on
it): elsewhere it is a :class:`~tinyvision._errors.UserError`.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from tinyvision._errors import UserError
from tinyvision._fileio import atomic_write_bytes
from tinyvision._validate import check_choice, check_float, check_int, describe
from tinyvision.nn.detector import TinyDetector, decode

__all__ = [
    "FORMATS",
    "INSTALL_HINT",
    "MAX_DET_MAX",
    "MAX_OPSET",
    "MIN_OPSET",
    "ClassifierGraph",
    "DetectorGraph",
    "export",
    "export_classifier",
    "export_detector",
    "export_model",
    "nms_select",
    "scripted_nms_select",
    "top_detections",
]

FORMATS = ("onnx", "torchscript")
MIN_OPSET, MAX_OPSET = 17, 20  # the opsets we test; NonMaxSuppression exists since 10
MAX_DET_MAX = 100_000
INSTALL_HINT = "pip install 'tinyvision[export]'"
METADATA_FILE = "tinyvision.json"  # TorchScript: the extra file with the graph's description


# ----------------------------------------------------------------------------- NMS
def nms_select(
    boxes: Tensor, scores: Tensor, max_per_class: int, iou_threshold: float, conf_threshold: float
) -> Tensor:
    """ONNX ``NonMaxSuppression`` (``center_point_box=1``) in pure torch (it scripts: the
    TorchScript export calls :func:`scripted_nms_select`).

    Args:
        boxes (Tensor[B, N, 4]): ``(cx, cy, w, h)``.
        scores (Tensor[B, K, N]): per class.
        max_per_class: boxes kept per image and class at most.
        iou_threshold: IoU > this suppresses a lower-scoring box of the same class.
        conf_threshold: only scores > this are candidates.

    Returns:
        Tensor[M, 3] int64: ``(batch, class, box)`` indices of the kept boxes, by image,
        then decreasing score.
    """
    selected: list[Tensor] = []
    for b in range(boxes.shape[0]):
        where = (scores[b] > conf_threshold).nonzero()  # (m, 2): class, box
        cls, idx = where[:, 0], where[:, 1]
        score = scores[b][cls, idx]
        cx, cy, w, h = boxes[b][idx].unbind(1)
        xyxy = torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=1)
        if xyxy.shape[0] > 0:  # classes apart: shift each class by more than the span
            span = xyxy.max() - xyxy.min() + 1
            xyxy = xyxy + (cls.to(xyxy.dtype) * span).unsqueeze(1)
        area = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
        order = score.argsort(descending=True)
        keep: list[Tensor] = []
        while order.numel() > 0:
            i = order[0]
            keep.append(i)
            rest = order[1:]
            lt = torch.maximum(xyxy[i, :2], xyxy[rest, :2])
            rb = torch.minimum(xyxy[i, 2:], xyxy[rest, 2:])
            inter = (rb - lt).clamp(min=0).prod(dim=1)
            iou = inter / (area[i] + area[rest] - inter)
            order = rest[iou <= iou_threshold]
        kept = torch.stack(keep) if keep else torch.zeros(0, dtype=torch.long)
        kept_cls = cls[kept]
        # at most max_per_class per class: rank within the class, in score order
        same = kept_cls.unsqueeze(0) == kept_cls.unsqueeze(1)
        rank = torch.tril(same.to(torch.long)).sum(dim=1) - 1
        kept = kept[rank < max_per_class]
        batch = torch.full_like(kept, b)
        selected.append(torch.stack((batch, cls[kept], idx[kept]), dim=1))
    if not selected:
        return torch.zeros(0, 3, dtype=torch.long)
    return torch.cat(selected)


@functools.cache
def scripted_nms_select() -> Any:
    """:func:`nms_select` compiled by ``torch.jit.script`` (once per process)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        return torch.jit.script(nms_select)


class _OnnxNms(torch.autograd.Function):
    """:func:`nms_select` in PyTorch; the ONNX ``NonMaxSuppression`` operator when exported."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, boxes: Tensor, scores: Tensor, max_per_class: int, iou: float, conf: float
    ) -> Tensor:
        # the exporter traces this only for its output: keep the Python loop out of the
        # trace (unrolled, it took a minute to optimise away); the node is `symbolic`'s
        state = torch._C._get_tracing_state()
        torch._C._set_tracing_state(None)
        try:
            return nms_select(boxes, scores, max_per_class, iou, conf)
        finally:
            torch._C._set_tracing_state(state)

    @staticmethod
    def symbolic(
        g: Any, boxes: Any, scores: Any, max_per_class: int, iou: float, conf: float
    ) -> Any:
        def const(value: Tensor) -> Any:
            return g.op("Constant", value_t=value)

        return g.op(
            "NonMaxSuppression",
            boxes,
            scores,
            const(torch.tensor([max_per_class], dtype=torch.int64)),
            const(torch.tensor([iou], dtype=torch.float32)),
            const(torch.tensor([conf], dtype=torch.float32)),
            center_point_box_i=1,
        )


# ----------------------------------------------------------------------------- graphs
class DetectorGraph(nn.Module):
    """The exported detector: letterboxed images -> decoded predictions, or with ``nms``
    the final ``(detections [B, max_det, 6], num_detections [B])`` (see the module doc)."""

    def __init__(
        self,
        model: TinyDetector,
        *,
        nms: bool = False,
        conf: float = 0.25,
        iou: float = 0.45,
        max_det: int = 300,
        onnx: bool = False,
    ) -> None:
        super().__init__()
        self.model = model
        self.nms, self.conf, self.iou, self.max_det, self.onnx = nms, conf, iou, max_det, onnx

    def forward(self, images: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        decoded = decode(self.model(images), self.model.anchor_tensor(), self.model.strides)
        if not self.nms:
            return decoded  # (B, N, 5 + K)
        boxes = decoded[..., :4].contiguous()  # (B, N, 4) cx, cy, w, h
        scores = (decoded[..., 5:] * decoded[..., 4:5]).transpose(1, 2).contiguous()  # (B, K, N)
        if self.onnx:
            selected = _OnnxNms.apply(boxes, scores, self.max_det, self.iou, self.conf)
        else:
            selected = scripted_nms_select()(boxes, scores, self.max_det, self.iou, self.conf)
        return top_detections(boxes, scores, selected, self.max_det)


def top_detections(
    boxes: Tensor, scores: Tensor, selected: Tensor, max_det: int
) -> tuple[Tensor, Tensor]:
    """The ``max_det`` best selected boxes per image, padded with zero rows.

    Args:
        boxes (Tensor[B, N, 4]): ``(cx, cy, w, h)``.
        scores (Tensor[B, K, N]): per class, all > 0 where selected.
        selected (Tensor[M, 3]): ``(batch, class, box)`` indices of the kept boxes.

    Returns:
        ``(Tensor[B, max_det, 6] (x1, y1, x2, y2, score, class), Tensor[B] int64 counts)``.
    """
    n = boxes.shape[1]
    k = min(max_det, scores.shape[1] * n)
    b, c, i = selected[:, 0], selected[:, 1], selected[:, 2]
    kept = torch.zeros_like(scores).flatten(1)  # (B, K * N): the kept scores, 0 elsewhere
    chosen = scores.reshape(-1).gather(0, (b * scores.shape[1] + c) * n + i)  # no aten::index
    kept = kept.index_put((b, c * n + i), chosen)
    top, index = kept.topk(k, dim=1)  # (B, k)
    box = boxes.gather(1, (index % n).unsqueeze(-1).expand(-1, -1, 4))
    cx, cy, w, h = box.unbind(-1)
    cls = torch.div(index, n, rounding_mode="floor").to(top.dtype)
    rows = torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, top, cls), dim=-1)
    valid = top > 0
    rows = rows * valid.unsqueeze(-1).to(rows.dtype)
    if k < max_det:
        rows = nn.functional.pad(rows, (0, 0, 0, max_det - k))
    return rows, valid.sum(dim=1)


class ClassifierGraph(nn.Module):
    """The exported classifier: images in [0, 1] -> normalised -> logits ``[B, K]``."""

    def __init__(self, model: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.model = model
        c = len(mean)
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, c, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, c, 1, 1))

    def forward(self, images: Tensor) -> Tensor:
        return self.model((images - self.mean) / self.std)


# ----------------------------------------------------------------------------- API
def export(
    model_or_checkpoint: Any,
    path: str | os.PathLike[str],
    *,
    format: str = "onnx",
    img_size: int | None = None,
    dynamic: bool = True,
    nms: bool = False,
    half: bool = False,
    opset: int = 17,
    conf: float = 0.25,
    iou: float = 0.45,
    max_det: int = 300,
) -> Path:
    """Export a detector or a classifier to ``path`` (ONNX or TorchScript); return the path.

    Args:
        model_or_checkpoint: a :class:`~tinyvision.nn.detector.TinyDetector`, a classifier
            ``nn.Module`` (exported as is: no normalisation baked in), a checkpoint record
            (dict) or a checkpoint file of ``kind`` ``"detector"`` or ``"classifier"``.
        path: the file to write (atomically: complete or absent).
        format: ``"onnx"`` or ``"torchscript"``.
        img_size: the input side; default the checkpoint's training size (a bare
            detector: 640; a bare classifier: required). A detector's must be a multiple
            of its largest stride.
        dynamic: ONNX: a dynamic batch axis (else the batch is fixed at 1). TorchScript
            files take any batch size.
        nms: detectors only: end the graph in the final boxes (see the module doc).
        half: float16 weights and inputs; needs a CUDA device.
        opset: the ONNX opset, ``MIN_OPSET..MAX_OPSET``.
        conf, iou, max_det: the ``nms`` selection: score threshold, NMS IoU, boxes kept.

    Raises:
        TypeError, ValueError: an argument of the wrong type or value (naming it), a
            checkpoint of another kind, ``nms`` for a classifier.
        UserError: a missing or damaged checkpoint file, ``half`` without CUDA, or
            ``onnx`` not installed.
    """
    kind, model, meta, source = _resolve(model_or_checkpoint, None)
    options = dict(format=format, img_size=img_size, dynamic=dynamic, half=half, opset=opset)
    if kind == "classifier":
        if nms is not False:
            raise ValueError(f"nms applies to detectors only, got nms={nms!r} for a classifier")
        return _export_classifier(model, meta, source, path, **options)
    selection = dict(nms=nms, conf=conf, iou=iou, max_det=max_det)
    return _export_detector(model, meta, source, path, **options, **selection)


def export_detector(model_or_checkpoint: Any, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """:func:`export` for a detector only: another model or checkpoint kind is an error."""
    _, model, meta, source = _resolve(model_or_checkpoint, "detector")
    return _export_detector(model, meta, source, path, **kwargs)


def export_classifier(
    model_or_checkpoint: Any, path: str | os.PathLike[str], **kwargs: Any
) -> Path:
    """:func:`export` for a classifier only (no ``nms``, ``conf``, ``iou``, ``max_det``)."""
    _, model, meta, source = _resolve(model_or_checkpoint, "classifier")
    return _export_classifier(model, meta, source, path, **kwargs)


def export_model(
    model: nn.Module, meta: dict[str, Any], path: str | os.PathLike[str], **kwargs: Any
) -> Path:
    """:func:`export` of an in-memory model with the metadata a checkpoint would give (what
    :class:`~tinyvision.Detector` and :class:`~tinyvision.Classifier` hold, weights as they
    are now): a detector's ``{"names", "img_size"}``, a classifier's ``{"names",
    "image_shape", "mean", "std"}`` (its normalisation baked into the graph)."""
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict, got {describe(meta)}")
    if isinstance(model, TinyDetector):
        return _export_detector(model.eval(), meta, None, path, **kwargs)
    if isinstance(model, nn.Module):
        return _export_classifier(model.eval(), meta, None, path, **kwargs)
    raise TypeError(
        f"model must be a TinyDetector or a classifier nn.Module, got {describe(model)}"
    )


def _resolve(obj: Any, want: str | None) -> tuple[str, nn.Module, dict[str, Any], Path | None]:
    """``(kind, model in eval mode, metadata, checkpoint file or None)`` of ``obj``."""
    name = "model_or_checkpoint"
    source: Path | None = None
    if isinstance(obj, (str, os.PathLike)):
        from tinyvision.train.checkpoint import load_checkpoint

        source = Path(obj)
        obj = load_checkpoint(source)
    if isinstance(obj, dict):
        return _from_record(obj, want, source)
    if isinstance(obj, TinyDetector):
        kind = "detector"
    elif isinstance(obj, nn.Module) and want != "detector":
        kind = "classifier"
    else:
        expected = {"detector": "a TinyDetector", "classifier": "a classifier nn.Module"}
        raise TypeError(
            f"{name} must be {expected.get(want, 'a model')}, a checkpoint record or a "
            f"checkpoint path, got {describe(obj)}"
        )
    if want is not None and kind != want:
        raise TypeError(f"{name} must be a classifier, not a TinyDetector")
    return kind, obj, {}, None


def _from_record(
    record: dict[str, Any], want: str | None, source: Path | None
) -> tuple[str, nn.Module, dict[str, Any], Path | None]:
    where = f" ({source})" if source is not None else ""
    kind = record.get("kind")
    kinds = (want,) if want else ("detector", "classifier")
    if kind not in kinds:
        raise ValueError(
            f"model_or_checkpoint must be a {' or '.join(kinds)} checkpoint, got "
            f"{'a ' + repr(kind) if kind else 'no'} checkpoint kind{where}"
        )
    label = str(source) if source is not None else "checkpoint record"
    if kind == "detector":
        from tinyvision.train.detect import detector_from_checkpoint

        model = detector_from_checkpoint(record, label)
        meta = {"names": record.get("names"), "img_size": record.get("img_size")}
        return kind, model, meta, source
    from tinyvision.train.classify import check_classifier_record, model_from_checkpoint

    check_classifier_record(record, label)
    model = model_from_checkpoint(record, label)
    meta = {
        "names": list(record["classes"]),
        "image_shape": list(record["image_shape"]),
        "mean": list(record["mean"]),
        "std": list(record["std"]),
    }
    return kind, model, meta, source


def _check_common(
    path: Any, source: Path | None, format: Any, dynamic: Any, half: Any, opset: Any
) -> Path:
    """Check the options every export has; return ``path`` as a Path."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {describe(path)}")
    if not isinstance(format, str):
        raise TypeError(f"format must be a str, got {describe(format)}")
    check_choice(format, "format", FORMATS)
    for flag, value in (("dynamic", dynamic), ("half", half)):
        if not isinstance(value, bool):
            raise TypeError(f"{flag} must be a bool, got {describe(value)}")
    check_int(opset, "opset", minimum=MIN_OPSET, maximum=MAX_OPSET)
    out = Path(path)
    if source is not None and os.path.realpath(out) == os.path.realpath(source):
        raise ValueError(f"path must not be the checkpoint being exported, got {out}")
    if out.is_dir():
        raise ValueError(f"path must name a file, got the folder {out}")
    if half and not torch.cuda.is_available():
        raise UserError(
            "half (float16) export needs a CUDA GPU, and none is available: export in "
            "float32 (ONNX Runtime on the CPU runs float32)"
        )
    return out


def _export_detector(
    model: TinyDetector,
    meta: dict[str, Any],
    source: Path | None,
    path: str | os.PathLike[str],
    *,
    format: str = "onnx",
    img_size: int | None = None,
    dynamic: bool = True,
    nms: bool = False,
    half: bool = False,
    opset: int = 17,
    conf: float = 0.25,
    iou: float = 0.45,
    max_det: int = 300,
) -> Path:
    out = _check_common(path, source, format, dynamic, half, opset)
    if not isinstance(nms, bool):
        raise TypeError(f"nms must be a bool, got {describe(nms)}")
    conf = check_float(conf, "conf", minimum=0.0, maximum=1.0)
    iou = check_float(iou, "iou", minimum=0.0, maximum=1.0)
    max_det = check_int(max_det, "max_det", minimum=1, maximum=MAX_DET_MAX)
    stride = max(model.strides)
    if img_size is None:
        img_size = meta.get("img_size") if isinstance(meta.get("img_size"), int) else 640
    img_size = check_int(img_size, "img_size", minimum=stride)
    if img_size % stride:
        raise ValueError(
            f"img_size must be a multiple of {stride} (the model's largest stride), got {img_size}"
        )
    graph = DetectorGraph(
        model, nms=nms, conf=conf, iou=iou, max_det=max_det, onnx=format == "onnx"
    )
    sample = torch.rand(1, model.config.in_channels, img_size, img_size)
    outputs = ["detections", "num_detections"] if nms else ["predictions"]
    info = {
        "task": "detect",
        "input": f"images float [B, {model.config.in_channels}, {img_size}, {img_size}] "
        "letterboxed RGB in [0, 1]",
        "outputs": outputs,
        "img_size": img_size,
        "stride": stride,
        "num_classes": model.num_classes,
        "names": meta.get("names"),
    }
    if nms:
        info.update(conf=conf, iou=iou, max_det=max_det)
    return _write(graph, sample, out, format, outputs, dynamic, half, opset, info)


def _export_classifier(
    model: nn.Module,
    meta: dict[str, Any],
    source: Path | None,
    path: str | os.PathLike[str],
    *,
    format: str = "onnx",
    img_size: int | None = None,
    dynamic: bool = True,
    half: bool = False,
    opset: int = 17,
) -> Path:
    out = _check_common(path, source, format, dynamic, half, opset)
    shape = meta.get("image_shape")
    if img_size is not None:
        img_size = check_int(img_size, "img_size", minimum=1)
    if shape is None:
        if img_size is None:
            raise ValueError("img_size must be given to export a bare classifier, got None")
        channels = _in_channels(model)
        hw = (img_size, img_size)
    else:
        channels = shape[0]
        hw = (shape[1], shape[2]) if img_size is None else (img_size, img_size)
    graph: nn.Module = model
    if "mean" in meta:
        graph = ClassifierGraph(model, meta["mean"], meta["std"])
    sample = torch.rand(1, channels, *hw)
    try:
        with torch.no_grad():
            graph.eval()(sample)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(
            f"img_size {img_size} does not fit this classifier (it failed on a "
            f"[1, {channels}, {hw[0]}, {hw[1]}] input: {first})"
        ) from exc
    info = {
        "task": "classify",
        "input": f"images float [B, {channels}, {hw[0]}, {hw[1]}] in [0, 1]"
        + ("; normalised inside" if "mean" in meta else "; not normalised inside"),
        "outputs": ["logits"],
        "names": meta.get("names"),
    }
    return _write(graph, sample, out, format, ["logits"], dynamic, half, opset, info)


def _in_channels(model: nn.Module) -> int:
    """The input channels of a classifier: those of its first convolution (else 3)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return int(module.in_channels)
    return 3


def _write(
    graph: nn.Module,
    sample: Tensor,
    out: Path,
    format: str,
    outputs: list[str],
    dynamic: bool,
    half: bool,
    opset: int,
    info: dict[str, Any],
) -> Path:
    """Trace ``graph`` on ``sample`` and write it to ``out`` atomically."""
    import copy

    graph = copy.deepcopy(graph).eval()  # the caller's model keeps its device and dtype
    if half:
        graph, sample = graph.half().cuda(), sample.half().cuda()
    else:
        graph = graph.float().cpu()
    info = {**info, "format": format, "dtype": "float16" if half else "float32"}
    with torch.no_grad(), warnings.catch_warnings():
        # the shape checks of forward() are constants of the traced graph (the batch axis
        # is never checked), as the tests show at several batch sizes
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        if format == "onnx":
            data = _onnx_bytes(graph, sample, outputs, dynamic, opset, info)
        else:
            data = _torchscript_bytes(graph, sample, info)
    atomic_write_bytes(out, data)
    return out


def _require_onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise UserError(f"ONNX export needs the onnx package: {INSTALL_HINT}") from exc
    return onnx


def _onnx_bytes(
    graph: nn.Module,
    sample: Tensor,
    outputs: list[str],
    dynamic: bool,
    opset: int,
    info: dict[str, Any],
) -> bytes:
    onnx = _require_onnx()
    buffer = io.BytesIO()
    axes = {name: {0: "batch"} for name in ("images", *outputs)} if dynamic else None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
        warnings.filterwarnings("ignore", message=r".*legacy TorchScript-based ONNX export")
        warnings.filterwarnings("ignore", message=r"The feature will be removed")
        # torch >= 2.5 takes `dynamo` (True by default from 2.9); 2.4 has only this exporter
        legacy = (
            {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
        )
        torch.onnx.export(
            graph,
            (sample,),
            buffer,
            **legacy,
            opset_version=opset,
            input_names=["images"],
            output_names=outputs,
            dynamic_axes=axes,
            do_constant_folding=True,
        )
    model = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(model)
    for key, value in info.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    return model.SerializeToString()


def _torchscript_bytes(graph: nn.Module, sample: Tensor, info: dict[str, Any]) -> bytes:
    traced = torch.jit.trace(graph, sample, check_trace=False)
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer, _extra_files={METADATA_FILE: json.dumps(info)})
    return buffer.getvalue()
