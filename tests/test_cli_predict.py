"""`tinyvision classify predict` and the API under `detect predict`, through main(argv):
the top-5 CSV, unreadable images (skipped in a folder, an error when named), refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from _cli_helpers import assert_one_line_error, assert_usage_error, run_cli
from _models_helpers import train_tiny_classifier, train_tiny_detector, with_one_thread
from tinyvision import Classifier


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_one_thread(train_tiny_classifier, tmp_path_factory.mktemp("classifier"))


@pytest.fixture(scope="module")
def detector_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return with_one_thread(train_tiny_detector, tmp_path_factory.mktemp("detector"))


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def digit_pictures(folder: Path, count: int = 6) -> list[Path]:
    """The first test digits as 8x8 gray PNG files (0..16 scaled to 0..255)."""
    from tinyvision.data.digits import load_digits

    _, test = load_digits()
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        picture = (test.images[i, 0].numpy().astype(np.float64) * 255 / 16).round().astype(np.uint8)
        cv2.imwrite(str(folder / f"digit{i}.png"), picture)
        files.append(folder / f"digit{i}.png")
    return files


def test_classify_predict_writes_the_top5_csv(
    classifier_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = digit_pictures(tmp_path / "digits")
    out = tmp_path / "out" / "top5.csv"
    code, printed, err = run_cli(capsys, "classify", "predict", "--checkpoint",
                                 str(classifier_file), str(tmp_path / "digits"), "--out",
                                 str(out), "--threads", "1")  # fmt: skip
    assert code == 0, err
    with open(out, newline="") as file:
        rows = list(csv.reader(file))
    header = ["path"] + [f"{w}_{k}" for k in range(1, 6) for w in ("class", "score")]
    assert rows[0] == header
    assert [r[0] for r in rows[1:]] == [str(f) for f in files]
    expected = Classifier.load(classifier_file).predict(files)
    for row, result in zip(rows[1:], expected):
        probs = result.probs
        assert row[1::2] == [str(k) for k in probs.top5]  # the digits' class names
        scores = [float(v) for v in row[2::2]]
        assert scores == sorted(scores, reverse=True)
        np.testing.assert_allclose(scores, probs.top5conf.numpy(), atol=1e-6)
    assert printed.count(".png: ") == len(files) and f"wrote {out} (6 images)" in printed


def test_classify_predict_bad_input(
    classifier_file: Path, detector_files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = digit_pictures(tmp_path / "digits", 2)
    (tmp_path / "digits" / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "top5.csv"
    args = ["--checkpoint", str(classifier_file), "--out", str(out), "--threads", "1"]
    code, _, err = run_cli(capsys, "classify", "predict", str(tmp_path / "digits"), *args)
    assert code == 0, err  # in a folder: skipped, with one warning line
    assert err.count("\n") == 1
    assert "tinyvision: warning: source: skipped " in err and "broken.png" in err
    assert len(out.read_text().splitlines()) == 3
    out.unlink()
    broken = str(tmp_path / "digits" / "broken.png")
    code, _, err = run_cli(capsys, "classify", "predict", str(files[0]), broken, *args)
    assert_one_line_error(code, err, r"broken\.png: not a readable image")
    assert not out.exists()  # nothing half-written
    code, _, err = run_cli(capsys, "classify", "predict", str(tmp_path / "missing.png"), *args)
    assert_one_line_error(code, err, r"missing\.png: no such file or folder")
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "classify", "predict", str(tmp_path / "empty"), *args)
    assert_one_line_error(code, err, r"empty: no images in this folder")
    kept = files[0].read_bytes()
    code, _, err = run_cli(capsys, "classify", "predict", str(files[0]), *args[:2], "--out",
                           str(files[0]))  # fmt: skip
    assert_one_line_error(code, err, r"--out: writing .*digit0\.png would replace the input")
    assert files[0].read_bytes() == kept
    code, _, err = run_cli(capsys, "classify", "predict", str(files[0]), *args[:2], "--out",
                           str(tmp_path))  # fmt: skip
    assert_one_line_error(code, err, r"--out .* is a folder; give the CSV file")
    code, _, err = run_cli(capsys, "classify", "predict", str(files[0]), "--checkpoint",
                           str(detector_files[0]), "--out", str(out))  # fmt: skip
    assert_one_line_error(code, err, r"is a detector checkpoint, not a classifier checkpoint")
    assert not out.exists()
    (tmp_path / "clip.mp4").write_bytes(b"")
    code, _, err = run_cli(capsys, "classify", "predict", str(tmp_path / "clip.mp4"), *args)
    assert_one_line_error(code, err, r"clip\.mp4: a video; the command reads images")
    argv = ["classify", "predict", str(files[0]), *args]
    assert_usage_error(capsys, [*argv, "--batch-size", "0"], r"--batch-size: must be an integer")


def test_detect_predict_skips_an_unreadable_image_in_a_folder(
    detector_files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint, yaml_path = detector_files
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("000001.png", "000002.png"):
        (folder / name).write_bytes((yaml_path.parent / "images" / "val" / name).read_bytes())
    (folder / "000003.png").write_bytes(b"not an image")
    pred = tmp_path / "pred"
    code, printed, err = run_cli(capsys, "detect", "predict", str(folder), "--checkpoint",
                                 str(checkpoint), "--out", str(pred), "--conf", "0.01",
                                 "--threads", "1")  # fmt: skip
    assert code == 0, err
    assert err.startswith("tinyvision: warning: source: skipped ") and "000003.png" in err
    assert printed.count("object(s)") == 2
    assert sorted(p.name for p in pred.glob("*.png")) == ["000001.png", "000002.png"]
    assert sorted(json.loads((pred / "drawings.json").read_text())) == ["000001.png", "000002.png"]
    records = json.loads((pred / "predictions.json").read_text())
    assert records and {r["image_id"] for r in records} <= {1, 2}
