"""Export to ONNX (run with ONNX Runtime) and TorchScript: outputs equal PyTorch's, the
exported detector's mAP equals the PyTorch model's, bad input, nothing half-written."""

from __future__ import annotations

import dataclasses
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision._errors import UserError
from tinyvision.data.augment import letterbox
from tinyvision.nn.classifier import FastNet, ToyNet
from tinyvision.nn.detector import DetectorConfig, TinyDetector, decode, postprocess
from tinyvision.train.checkpoint import save_checkpoint
from tinyvision.train.classify import TrainConfig, predict_logits
from tinyvision.train.export import (
    DetectorGraph,
    export,
    export_classifier,
    export_detector,
    nms_select,
)

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

ANCHORS = ((8, 8, 12, 12, 18, 18), (24, 24, 32, 32, 44, 44))


def tiny_detector(seed: int = 0, spread: bool = True) -> TinyDetector:
    """An untrained 2-level detector of width 4; ``spread`` widens the head's weights so
    that scores differ from box to box (no near-ties to order differently)."""
    torch.manual_seed(seed)
    model = TinyDetector(DetectorConfig(4, width=4, num_heads=2, anchors=ANCHORS), image_size=64)
    if spread:
        with torch.no_grad():
            for conv in model.detect.m:
                conv.weight.mul_(8)
                conv.bias.normal_(0.0, 1.0)  # not the prior's rare objectness
    return model.eval()


def session(path: Path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_torchscript(path: Path, x: torch.Tensor):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = torch.jit.load(str(path))
    with torch.no_grad():
        out = module(x)
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def same_rows(a: np.ndarray, b: np.ndarray, count: int, atol: float = 1e-4) -> None:
    """The first ``count`` rows of ``a`` and ``b`` hold the same detections in any order
    (ties of equal scores may come out in either order); the rest are zeros."""
    assert not a[count:].any() and not b[count:].any()
    for row in a[:count]:
        diff = np.abs(b[:count] - row).max(axis=1)
        assert diff.min() <= atol, (row, b[diff.argmin()])


def detector_record(model: TinyDetector, img_size: int = 64) -> dict:
    return {
        "kind": "detector",
        "model": model.state_dict(),
        "detector": model.config.to_dict(),
        "names": ["circle", "square", "triangle", "star"],
        "img_size": img_size,
    }


def classifier_record(model: torch.nn.Module, name: str, kwargs: dict, shape: list) -> dict:
    return {
        "kind": "classifier",
        "model": model.state_dict(),
        "config": dataclasses.asdict(TrainConfig()),
        "mean": [0.2, 0.4, 0.6][: shape[0]],
        "std": [0.5, 0.25, 2.0][: shape[0]],
        "model_name": name,
        "model_kwargs": kwargs,
        "image_shape": shape,
        "classes": [f"c{i}" for i in range(kwargs["num_classes"])],
    }


# ----------------------------------------------------------------------------- detector
def test_detector_onnx_raw_outputs_equal_pytorch_at_any_batch(tmp_path: Path) -> None:
    model = tiny_detector()
    path = export(model, tmp_path / "d.onnx", img_size=64)
    sess = session(path)
    assert [i.name for i in sess.get_inputs()] == ["images"]
    assert [o.name for o in sess.get_outputs()] == ["predictions"]
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == 17
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["task"] == "detect" and meta["img_size"] == "64"
    for batch in (1, 3):
        x = torch.rand(batch, 3, 64, 64, generator=torch.Generator().manual_seed(batch))
        (got,) = sess.run(None, {"images": x.numpy()})
        with torch.no_grad():
            want = decode(model(x), model.anchor_tensor(), model.strides).numpy()
        assert got.shape == want.shape == (batch, 3 * (8 * 8 + 4 * 4), 9)
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_detector_static_batch_and_other_opsets(tmp_path: Path) -> None:
    model = tiny_detector()
    static = session(export(model, tmp_path / "s.onnx", img_size=32, dynamic=False))
    assert static.get_inputs()[0].shape == [1, 3, 32, 32]
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        static.run(None, {"images": np.zeros((2, 3, 32, 32), np.float32)})
    path = export(model, tmp_path / "o20.onnx", img_size=32, opset=20)
    assert onnx.load(str(path)).opset_import[0].version == 20
    x = torch.rand(2, 3, 32, 32)
    (got,) = session(path).run(None, {"images": x.numpy()})
    with torch.no_grad():
        want = decode(model(x), model.anchor_tensor(), model.strides).numpy()
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_detector_nms_graph_gives_postprocess_boxes(tmp_path: Path, fmt: str) -> None:
    model = tiny_detector()
    conf, iou, max_det = 0.3, 0.45, 20
    path = export(
        model, tmp_path / f"n.{fmt}", format=fmt, img_size=64, nms=True, conf=conf, iou=iou,
        max_det=max_det,
    )  # fmt: skip
    x = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    if fmt == "onnx":
        sess = session(path)
        assert [o.name for o in sess.get_outputs()] == ["detections", "num_detections"]
        rows, counts = sess.run(None, {"images": x.numpy()})
    else:
        rows, counts = run_torchscript(path, x)
    assert rows.shape == (3, max_det, 6) and rows.dtype == np.float32
    assert counts.shape == (3,) and counts.dtype == np.int64
    with torch.no_grad():
        decoded = decode(model(x), model.anchor_tensor(), model.strides)
    expected = postprocess(decoded, conf, iou, max_det, multi_label=True)
    assert counts.min() > 0 and counts.max() <= max_det
    for i, (boxes, scores, labels) in enumerate(expected):
        assert counts[i] == len(scores)
        want = torch.cat((boxes, scores[:, None], labels[:, None].float()), dim=1).numpy()
        same_rows(rows[i], np.pad(want, ((0, max_det - len(want)), (0, 0))), int(counts[i]))
        assert np.all(np.diff(rows[i, : counts[i], 4]) <= 0)  # by decreasing score


def test_detector_nms_pads_and_counts_zero_detections(tmp_path: Path) -> None:
    model = tiny_detector()
    path = export(model, tmp_path / "n.onnx", img_size=32, nms=True, conf=1.0, max_det=500)
    rows, counts = session(path).run(None, {"images": np.full((2, 3, 32, 32), 0.5, "f")})
    # 4 classes x 48 boxes = 192 candidates < max_det: padded to 500 rows
    assert rows.shape == (2, 500, 6) and not rows.any() and counts.tolist() == [0, 0]


def test_torchscript_detector_raw_equals_pytorch(tmp_path: Path) -> None:
    model = tiny_detector()
    path = export(model, tmp_path / "d.torchscript", format="torchscript", img_size=64)
    for batch in (1, 4):
        x = torch.rand(batch, 3, 64, 64)
        (got,) = run_torchscript(path, x)
        with torch.no_grad():
            want = decode(model(x), model.anchor_tensor(), model.strides).numpy()
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_nms_select_matches_the_library_nms() -> None:
    from tinyvision.ops import batched_nms

    g = torch.Generator().manual_seed(0)
    cxcy, wh = torch.rand(2, 60, 2, generator=g) * 50, torch.rand(2, 60, 2, generator=g) * 20 + 2
    boxes = torch.cat((cxcy, wh), dim=-1)
    scores = torch.rand(2, 3, 60, generator=g)
    selected = nms_select(boxes, scores, 1000, 0.5, 0.2)
    for b in range(2):
        mine = selected[selected[:, 0] == b]
        k, n = (scores[b] > 0.2).nonzero(as_tuple=True)
        cx, cy, w, h = boxes[b, n].unbind(1)
        xyxy = torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=1)
        kept = batched_nms(xyxy, scores[b, k, n], k, 0.5)
        assert sorted(zip(k[kept].tolist(), n[kept].tolist())) == sorted(
            zip(mine[:, 1].tolist(), mine[:, 2].tolist())
        )
    capped = nms_select(boxes, scores, 2, 0.5, 0.2)
    for b in range(2):
        per_class = torch.bincount(capped[capped[:, 0] == b, 1], minlength=3)
        assert per_class.max() == 2
    assert nms_select(boxes, scores, 5, 0.5, 1.0).shape == (0, 3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """A detector trained for a few epochs on 64-pixel shapes, and the validation images."""
    from tinyvision.data.formats import read_yolo
    from tinyvision.data.loader import AugmentConfig, load_images
    from tinyvision.data.shapes import ShapesConfig, make_shapes
    from tinyvision.train.detect import DetectTrainConfig, train_detector

    root = tmp_path_factory.mktemp("shapes")
    config = ShapesConfig(
        train=64, val=16, image_size=64, min_objects=1, max_objects=3, min_size=20, max_size=40
    )
    path = make_shapes(root / "shapes", config)
    train = load_images(read_yolo(path, "train"), 64)
    val = load_images(read_yolo(path, "val"), 64)
    settings = DetectTrainConfig(
        epochs=6, batch_size=8, img_size=64, lr=0.01, close_mosaic=0, ema_tau=5,
        augment=AugmentConfig(mosaic=0.0, scale=0.2), workers=1,
    )  # fmt: skip
    torch.manual_seed(0)
    model = TinyDetector(DetectorConfig(4, width=8, num_heads=2, anchors=ANCHORS), image_size=64)
    return train_detector(model, train.images, train.labels, settings).model.eval(), val


def _ort_detections(sess, images, nms: bool):
    """Per image ``(boxes xyxy, scores, classes)`` in its pixels, from an exported graph
    (mapped back through the letterbox as ``predict_images`` does)."""
    boxed = [letterbox(image, 64) for image in images]
    x = np.stack([b[0] for b in boxed]).transpose(0, 3, 1, 2).astype(np.float32) / 255
    outputs = sess.run(None, {"images": x})
    if nms:
        rows, counts = outputs
        found = [(r[:c, :4], r[:c, 4], r[:c, 5].astype(np.int64)) for r, c in zip(rows, counts)]
    else:
        found = [
            (b.numpy(), s.numpy(), k.numpy())
            for b, s, k in postprocess(torch.from_numpy(outputs[0]), 0.001, 0.6, 300)
        ]
    results = []
    for image, (_, ratio, (px, py)), (boxes, scores, classes) in zip(images, boxed, found):
        b = boxes.astype(np.float64)
        b[:, [0, 2]] = ((b[:, [0, 2]] - px) / ratio).clip(0, image.shape[1])
        b[:, [1, 3]] = ((b[:, [1, 3]] - py) / ratio).clip(0, image.shape[0])
        results.append((b, scores.astype(np.float64), classes))
    return results


@pytest.mark.parametrize("nms", [False, True])
def test_exported_detector_map_equals_pytorch(trained, tmp_path: Path, nms: bool) -> None:
    from tinyvision.metrics import evaluate_detections
    from tinyvision.train.detect import detections_table, evaluate_detector

    model, val = trained
    want, expected = evaluate_detector(model, val.dataset, val.images, val.scales, 64)
    assert want.map50_95 > 0  # a model that finds something: the comparison means something
    path = export(
        detector_record(model), tmp_path / "d.onnx", nms=nms, conf=0.001, iou=0.6, max_det=300
    )
    predictions = _ort_detections(session(path), val.images, nms)
    table = detections_table(
        predictions, val.dataset.image_ids, val.dataset.category_ids, val.scales
    )
    got = evaluate_detections(val.dataset, table)
    # the same detections, but for a score that another CPU's rounding puts across 0.001
    assert len(expected) > 100 and abs(len(table) - len(expected)) <= 2
    if len(table) == len(expected):
        np.testing.assert_allclose(np.sort(table.score), np.sort(expected.score), atol=1e-4, rtol=0)
    assert abs(got.map50_95 - want.map50_95) <= 1e-3, (got.map50_95, want.map50_95)
    assert abs(got.map50 - want.map50) <= 1e-3


# ----------------------------------------------------------------------------- classifier
@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_classifier_checkpoint_bakes_in_normalisation(tmp_path: Path, fmt: str) -> None:
    torch.manual_seed(0)
    kwargs = {"in_channels": 3, "num_classes": 5, "widths": [8, 16], "stem_width": 4}
    model = FastNet(**kwargs).eval()
    record = classifier_record(model, "fast", kwargs, [3, 12, 12])
    ckpt = save_checkpoint(tmp_path / "c.pt", "classifier", record)
    path = export(ckpt, tmp_path / f"c.{fmt}", format=fmt)
    x = torch.rand(6, 3, 12, 12)
    want = predict_logits(model, x, record["mean"], record["std"]).numpy()
    if fmt == "onnx":
        sess = session(path)
        assert sess.get_inputs()[0].shape == ["batch", 3, 12, 12]
        (got,) = sess.run(None, {"images": x.numpy()})
        names = {p.key: p.value for p in onnx.load(str(path)).metadata_props}["names"]
        assert names == '["c0", "c1", "c2", "c3", "c4"]'
    else:
        (got,) = run_torchscript(path, x)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_bare_classifier_is_exported_as_is(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = ToyNet(in_channels=1, num_classes=3, image_size=16).eval()
    path = export_classifier(model, tmp_path / "t.onnx", img_size=16)
    x = torch.rand(2, 1, 16, 16)
    (got,) = session(path).run(None, {"images": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="img_size 20 does not fit this classifier"):
        export_classifier(model, tmp_path / "t2.onnx", img_size=20)
    with pytest.raises(ValueError, match="img_size must be given"):
        export(model, tmp_path / "t3.onnx")
    assert not (tmp_path / "t2.onnx").exists() and not (tmp_path / "t3.onnx").exists()


# ----------------------------------------------------------------------------- bad input
def test_wrong_kind_format_opset_and_options(tmp_path: Path) -> None:
    model = tiny_detector()
    out = tmp_path / "x.onnx"
    kwargs = {"in_channels": 3, "num_classes": 2, "widths": [4], "stem_width": 4}
    classifier = classifier_record(FastNet(**kwargs), "fast", kwargs, [3, 8, 8])
    cases = [
        (lambda: export_detector(classifier, out), ValueError, "must be a detector checkpoint"),
        (lambda: export_classifier(detector_record(model), out), ValueError, "classifier chec"),
        (lambda: export({"kind": "kmeans"}, out), ValueError, "got a 'kmeans' checkpoint kind"),
        (lambda: export({"model": {}}, out), ValueError, "got no checkpoint kind"),
        (lambda: export(42, out), TypeError, "model_or_checkpoint must be a model"),
        (lambda: export_detector(FastNet(**kwargs), out), TypeError, "must be a TinyDetector"),
        (lambda: export_classifier(model, out), TypeError, "must be a classifier"),
        (lambda: export(model, out, format="tflite"), ValueError, "format must be one of"),
        (lambda: export(model, out, format=None), TypeError, "format must be a str"),
        (lambda: export(model, out, opset=16), ValueError, "opset must be >= 17"),
        (lambda: export(model, out, opset=21), ValueError, "opset must be <= 20"),
        (lambda: export(model, out, opset=17.0), TypeError, "opset must be an integer"),
        (lambda: export(model, out, opset=True), TypeError, "opset must be an integer"),
        (lambda: export(model, out, img_size=40), ValueError, "img_size must be a multiple of 16"),
        (lambda: export(model, out, img_size=0), ValueError, "img_size must be >= 16"),
        (lambda: export(model, out, conf=float("nan")), ValueError, "conf"),
        (lambda: export(model, out, iou=1.5), ValueError, "iou"),
        (lambda: export(model, out, max_det=0), ValueError, "max_det must be >= 1"),
        (lambda: export(model, out, nms="yes"), TypeError, "nms must be a bool"),
        (lambda: export(model, out, dynamic=1), TypeError, "dynamic must be a bool"),
        (lambda: export(model, 3.5), TypeError, "path must be a str or os.PathLike"),
        (lambda: export(model, tmp_path), ValueError, "path must name a file"),
        (lambda: export(classifier, out, nms=True), ValueError, "nms applies to detectors only"),
    ]
    for call, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            call()
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_checkpoint_file_problems(tmp_path: Path) -> None:
    ckpt = save_checkpoint(tmp_path / "d.pt", "detector", detector_record(tiny_detector()))
    with pytest.raises(ValueError, match="path must not be the checkpoint"):
        export(ckpt, tmp_path / "d.pt")
    with pytest.raises(UserError, match="not found"):
        export(tmp_path / "missing.pt", tmp_path / "m.onnx")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="not a tinyvision checkpoint"):
        export(tmp_path / "junk.pt", tmp_path / "j.onnx")
    other = save_checkpoint(tmp_path / "o.pt", "kmeans", {"centers": torch.zeros(2, 2)})
    with pytest.raises(ValueError, match=r"got a 'kmeans' checkpoint kind \(.*o\.pt\)"):
        export(other, tmp_path / "o.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.pt", "junk.pt", "o.pt"]


def test_a_failed_export_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "d.onnx"
    out.write_bytes(b"old")

    def broken(model) -> None:
        raise onnx.checker.ValidationError("broken graph")

    monkeypatch.setattr(onnx.checker, "check_model", broken)
    with pytest.raises(onnx.checker.ValidationError):
        export(tiny_detector(), out, img_size=32)
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["d.onnx"]


def test_missing_onnx_and_half_without_cuda(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(UserError, match=r"pip install 'tinyvision\[export\]'"):
        export(tiny_detector(), tmp_path / "d.onnx", img_size=32)
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="half .* needs a CUDA GPU"):
            export(tiny_detector(), tmp_path / "h.torchscript", format="torchscript", half=True)
    assert list(tmp_path.iterdir()) == []


def test_export_leaves_the_model_alone(tmp_path: Path) -> None:
    model = tiny_detector().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export(model, tmp_path / "d.torchscript", format="torchscript", img_size=32, nms=True)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    graph = DetectorGraph(tiny_detector(), nms=True, conf=0.3, max_det=7)
    with torch.no_grad():
        rows, counts = graph(torch.rand(2, 3, 32, 32))
    assert rows.shape == (2, 7, 6) and counts.shape == (2,)


def test_the_docs_snippet_runs(tmp_path: Path, monkeypatch) -> None:
    import re

    import cv2

    text = (Path(__file__).resolve().parents[1] / "docs" / "export.md").read_text()
    snippet = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "ort." in b)
    monkeypatch.chdir(tmp_path)
    model = tiny_detector()
    export(model, "runs/detect/shapes/last.onnx", img_size=64, nms=True, conf=0.3)
    image = np.random.default_rng(0).integers(0, 256, (40, 90, 3), dtype=np.uint8)
    cv2.imwrite("image.png", image)
    namespace: dict = {}
    exec(compile(snippet, "docs/export.md", "exec"), namespace)
    boxes, scores = namespace["boxes"], namespace["scores"]
    # what predict_images finds: it letterboxes and maps back with tinyvision's code
    from tinyvision.train.detect import predict_images

    rgb = image[:, :, ::-1].copy()  # imwrite took the array as BGR
    want = predict_images(model, [rgb], 64, conf_threshold=0.3, iou_threshold=0.45)[0]
    assert len(boxes) == len(want[0]) > 0
    ours = np.concatenate((boxes, scores[:, None]), axis=1)
    same_rows(ours, np.concatenate((want[0], want[1][:, None]), axis=1), len(ours), atol=1e-3)
