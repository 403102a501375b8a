"""`tinyvision detect export` and `tinyvision classify export` through main(argv): the file
runs in ONNX Runtime, one-line errors, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from _cli_helpers import assert_one_line_error, assert_usage_error, run_cli
from test_export import classifier_record, detector_record, session, tiny_detector
from tinyvision.nn.classifier import FastNet
from tinyvision.nn.detector import decode
from tinyvision.train.checkpoint import save_checkpoint

pytest.importorskip("onnxruntime")


@pytest.fixture
def checkpoints(tmp_path: Path) -> tuple[Path, Path]:
    detector = save_checkpoint(tmp_path / "det.pt", "detector", detector_record(tiny_detector()))
    torch.manual_seed(0)
    kwargs = {"in_channels": 3, "num_classes": 3, "widths": [8], "stem_width": 4}
    record = classifier_record(FastNet(**kwargs), "fast", kwargs, [3, 8, 8])
    return detector, save_checkpoint(tmp_path / "cls.pt", "classifier", record)


def test_detect_export_writes_a_file_ort_runs(checkpoints, capsys) -> None:
    detector, _ = checkpoints
    code, out, err = run_cli(capsys, "detect", "export", "--checkpoint", str(detector))
    assert code == 0, err
    path = detector.with_suffix(".onnx")
    assert f"exported {detector} to {path} (onnx)" in out
    x = np.random.default_rng(0).random((2, 3, 64, 64), dtype=np.float32)  # the training size
    (got,) = session(path).run(None, {"images": x})
    model = tiny_detector()
    with torch.no_grad():
        want = decode(model(torch.from_numpy(x)), model.anchor_tensor(), model.strides)
    np.testing.assert_allclose(got, want.numpy(), atol=1e-4, rtol=0)
    nms = detector.parent / "nms.onnx"
    code, _, err = run_cli(
        capsys, "detect", "export", "--checkpoint", str(detector), "--nms", "--img-size", "32",
        "--max-det", "9", "--conf", "0.3", "--out", str(nms),
    )  # fmt: skip
    assert code == 0, err
    rows, counts = session(nms).run(None, {"images": x[:, :, :32, :32].copy()})
    assert rows.shape == (2, 9, 6) and counts.shape == (2,)


def test_classify_export_torchscript(checkpoints, capsys) -> None:
    _, classifier = checkpoints
    code, _, err = run_cli(
        capsys, "classify", "export", "--checkpoint", str(classifier), "--format", "torchscript"
    )
    assert code == 0, err
    assert classifier.with_suffix(".torchscript").stat().st_size > 0


def test_export_errors_are_one_line(checkpoints, capsys) -> None:
    detector, classifier = checkpoints
    code, _, err = run_cli(capsys, "detect", "export", "--checkpoint", str(classifier))
    assert_one_line_error(code, err, r"is a classifier checkpoint, not a detector checkpoint")
    code, _, err = run_cli(capsys, "classify", "export", "--checkpoint", str(detector))
    assert_one_line_error(code, err, r"is a detector checkpoint, not a classifier checkpoint")
    code, _, err = run_cli(
        capsys, "detect", "export", "--checkpoint", str(detector), "--out", str(detector)
    )
    assert_one_line_error(code, err, r"--out: writing .*det\.pt would replace the input")
    code, _, err = run_cli(
        capsys, "classify", "export", "--checkpoint", str(classifier), "--img-size", "1"
    )  # FastNet takes a 1-pixel image; its normalisation too: this one works
    assert code == 0, err
    code, _, err = run_cli(
        capsys, "detect", "export", "--checkpoint", str(detector.parent / "none.pt")
    )
    assert_one_line_error(code, err, r"checkpoint .*none\.pt not found")
    if not torch.cuda.is_available():
        code, _, err = run_cli(
            capsys, "detect", "export", "--checkpoint", str(detector), "--half", "--out",
            str(detector.parent / "half.onnx"),
        )  # fmt: skip
        assert_one_line_error(code, err, r"half \(float16\) export needs a CUDA GPU")
    names = sorted(p.name for p in detector.parent.iterdir())
    assert names == ["cls.onnx", "cls.pt", "det.pt"]  # nothing half-written


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["detect", "export", "--checkpoint", "x.pt", "--format", "tflite"], "invalid choice"),
        (["detect", "export", "--checkpoint", "x.pt", "--opset", "16"], r"--opset: .* 17\.\.20"),
        (["classify", "export", "--checkpoint", "x.pt", "--opset", "99"], r"--opset: "),
        (["detect", "export", "--checkpoint", "x.pt", "--img-size", "48"], "multiple of 32"),
        (["detect", "export", "--checkpoint", "x.pt", "--max-det", "0"], r"--max-det: "),
        (["detect", "export", "--checkpoint", "x.pt", "--conf", "nan"], r"--conf: "),
        (["classify", "export", "--checkpoint", "x.pt", "--nms"], "unrecognized arguments"),
        (["classify", "export"], "--checkpoint"),
    ],
)
def test_export_usage_errors(capsys, argv: list[str], pattern: str) -> None:
    assert_usage_error(capsys, argv, pattern)


def test_cli_bounds_follow_the_library() -> None:
    from tinyvision._cli import _export
    from tinyvision.train import export

    assert _export.FORMATS == export.FORMATS
    assert (_export.MIN_OPSET, _export.MAX_OPSET) == (export.MIN_OPSET, export.MAX_OPSET)
    assert _export.MAX_DET_MAX == export.MAX_DET_MAX
