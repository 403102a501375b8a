"""`tinyvision detect train` and `detect predict` through main(argv): files, resume,
predictions read back by `detect eval`, and one-line errors for bad data sets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from _cli_helpers import assert_one_line_error, assert_usage_error, run_cli
from tinyvision.cli import main
from tinyvision.data.formats import read_coco_results, read_yolo
from tinyvision.train.checkpoint import load_checkpoint, save_checkpoint

SRC = str(Path(__file__).resolve().parents[1] / "src")
TINY = ["--train-images", "24", "--val-images", "8", "--img-size", "64", "--epochs", "2",
        "--batch-size", "8", "--width", "4", "--threads", "1", "--workers", "1"]  # fmt: skip


def plant_temps(folder: Path) -> None:
    """The temporary files a run killed while writing its files would leave."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("last.pt", "metrics.json", "report.html", "pr_curves.png"):
        (folder / f".{name}.k1ll3d_0.tmp").write_bytes(b"half")


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.tmp"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A finished 2-epoch run on a tiny shapes set: (output folder, data folder)."""
    root = tmp_path_factory.mktemp("detect")
    plant_temps(root / "run")  # left by a killed earlier run: a fresh run removes them
    threads = torch.get_num_threads()
    try:
        code = main(["detect", "train", "--data-dir", str(root / "data"),
                     "--out", str(root / "run"), "--tensorboard", *TINY])  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    return root / "run", root / "data" / "shapes"


def test_train_writes_checkpoint_metrics_and_report(trained) -> None:
    out, data = trained
    names = {p.name for p in out.iterdir()}
    assert temps(out) == []
    assert {"last.pt", "metrics.json", "report.html", "pr_curves.png", "f1_confidence.png",
            "confusion_matrix.png"} <= names  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 <= metrics["map50"] <= 1 and 0 <= metrics["map50_95"] <= metrics["map50"]
    assert metrics["map50"] == metrics["stats"]["AP50"]
    training = metrics["training"]
    assert training["epochs"] == 2 and training["img_size"] == 64
    assert training["data_loading"]["steps"] == 6  # 24 images, batch 8, 2 epochs
    assert 0 < training["data_loading"]["build_share_of_step"] < 10
    assert len(training["epoch_losses"]) == 2
    record = load_checkpoint(out / "last.pt", kind="detector")
    assert record["names"] == ["circle", "square", "triangle", "star"]
    assert record["epoch"] == 2 and record["img_size"] == 64 and record["detector"]["width"] == 4
    html = (out / "report.html").read_text()
    assert "mAP@0.5" in html and html.count("data:image/png;base64,") >= 3
    assert (data / "data.yaml").is_file() and len(list((data / "images" / "val").iterdir())) == 8


def test_train_writes_the_run_pictures_and_the_tensorboard_log(trained) -> None:
    pytest.importorskip("tensorboard")
    from test_train_engine import rows_as_scalars, tensorboard_scalars
    from tinyvision.report.run_plots import RUN_IMAGES
    from tinyvision.train.engine import read_results_csv

    out, _ = trained
    assert (out / "labels.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "train_batch0.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert cv2.imread(str(out / "train_batch0.jpg")).shape == (192, 192, 3)  # 8 of 64 px: 3 x 3
    html = (out / "report.html").read_text()
    assert "<h2>Training</h2>" in html and html.count("data:image/jpeg;base64,") == 1
    assert all(caption in html for _, caption in RUN_IMAGES)  # results, labels, batch
    rows = read_results_csv(out / "results.csv")
    assert len(rows) == 2 and tensorboard_scalars(out / "tensorboard") == rows_as_scalars(rows)


def test_tensorboard_missing_is_one_line_before_anything_is_read(
    trained, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard -> ImportError
    hint = r"--tensorboard needs the tensorboard package: pip install 'tinyvision\[tensorboard\]'"
    where = ["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run")]
    code, _, err = run_cli(capsys, "detect", "train", *where, *TINY, "--tensorboard")
    assert_one_line_error(code, err, hint)
    code, _, err = run_cli(
        capsys, "classify", "train", "--out", str(tmp_path / "c"), "--tensorboard"
    )
    assert_one_line_error(code, err, hint)
    # a run started with --tensorboard logs on when resumed: it needs the package too
    code, _, err = run_cli(
        capsys, "detect", "train", "--resume", str(trained[0] / "last.pt"), *where
    )
    assert_one_line_error(code, err, hint)
    assert list(tmp_path.iterdir()) == []


def test_resume_of_a_finished_run_evaluates_again(
    trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the run copied to the default --out of a shapes run, resumed from another folder
    # without --out or --data-dir: both come from the defaults and the checkpoint
    monkeypatch.chdir(tmp_path)
    out = Path("runs/detect/shapes")
    shutil.copytree(trained[0], out)
    plant_temps(out)
    before = json.loads((out / "metrics.json").read_text())
    code, printed, err = run_cli(capsys, "detect", "train", "--resume", "--threads", "1")
    assert code == 0, err
    assert temps(out) == []
    assert "the run is already complete (all 2 epochs trained); evaluating it again" in printed
    after = json.loads((out / "metrics.json").read_text())
    assert after["map50_95"] == before["map50_95"]  # nothing left to train: same weights
    assert after["training"].pop("checkpoint") == str(out / "best.pt")  # the copy's
    assert after["training"].pop("last_checkpoint") == str(out / "last.pt")
    before["training"].pop("checkpoint")
    before["training"].pop("last_checkpoint")
    assert after["training"] == before["training"]  # the history, not a run of 0 steps
    assert not Path("data").exists()  # the shapes set was not generated again here
    for option in ("--epochs", "--train-images"):
        code, _, err = run_cli(capsys, "detect", "train", "--resume", option, "5")
        assert_one_line_error(code, err, f"drop {option}")
    code, _, err = run_cli(capsys, "detect", "train", "--resume", "--data", "other.yaml")
    assert_one_line_error(code, err, r"no checkpoint at runs/detect/other/last\.pt")


@pytest.mark.parametrize(
    ("option", "pattern"),
    [
        (["--epochs", "0"], r"--epochs: must be an integer in 1\.\.100000, got 0"),
        (["--img-size", "48"], r"--img-size: must be a multiple of 32 in 32\.\.4096, got 48"),
        (["--img-size", "0"], r"--img-size: must be a multiple of 32 in 32\.\.4096, got 0"),
        (["--img-size", "3200000"], r"--img-size: must be a multiple of 32 .*, got 3200000"),
        (["--batch-size", "0"], r"--batch-size: must be an integer in 1\.\.65536, got 0"),
        (["--workers", "-1"], r"--workers: must be an integer in 0\.\.64, got -1"),
        (["--seed", "-2"], r"--seed: must be an integer in 0\.\.4294967295, got -2"),
        (["--seed", "99999999999999999999"], r"--seed: .*, got 99999999999999999999"),
        (["--threads", "9" * 30], r"--threads: must be an integer in 1\.\.512, got 9{10}\.\.\."),
        (["--train-images", "-1"], r"--train-images: must be an integer in 1\.\.1000000, got -1"),
        (["--val-images", "0"], r"--val-images: must be an integer in 1\.\.1000000, got 0"),
        (["--width", "0"], r"--width: must be an integer in 1\.\.256, got 0"),
        (["--width", "100000000"], r"--width: must be an integer in 1\.\.256, got 100000000"),
        (["--lr", "nan"], r"--lr: must be a number in \(0, 10\], got nan"),
        (["--lr", "1e308"], r"--lr: must be a number in \(0, 10\], got 1e\+308"),
        (["--lr", "0"], r"--lr: must be a number in \(0, 10\], got 0"),
        (["--conf", "2"], r"--conf: must be a number in \[0, 1\], got 2"),
        (["--patience", "0"], r"--patience: must be an integer in 1\.\.100000, got 0"),
        (["--patience", "-1"], r"--patience: must be an integer in 1\.\.100000, got -1"),
        (["--val-every", "0"], r"--val-every: must be an integer in 1\.\.100000, got 0"),
        (["--freeze", "1001"], r"--freeze: must be an integer in 0\.\.1000, got 1001"),
    ],
)
def test_train_options_are_checked_before_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str], pattern: str
) -> None:
    # the data set does not exist: the option's error comes while parsing, named by its flag
    argv = ["detect", "train", "--data", str(tmp_path / "none.yaml"), "--out", str(tmp_path)]
    assert_usage_error(capsys, [*argv, *option], pattern)


def test_engine_flags_are_checked_before_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the data set does not exist: reading it would be another error
    base = ["detect", "train", "--data", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "o")]
    code, _, err = run_cli(capsys, *base, "--epochs", "3", "--val-every", "4")
    assert_one_line_error(code, err, r"--val-every must be <= the epochs \(3\), got 4")
    code, _, err = run_cli(capsys, *base, "--val-every", "17")  # the default 16 epochs
    assert_one_line_error(code, err, r"--val-every must be <= the epochs \(16\), got 17")
    code, _, err = run_cli(capsys, *base, "--weights", str(tmp_path / "missing.pt"))
    assert_one_line_error(code, err, r"--weights: checkpoint .*missing\.pt not found")
    save_checkpoint(tmp_path / "cls.pt", "classifier", {"model": {}})
    code, _, err = run_cli(capsys, *base, "--weights", str(tmp_path / "cls.pt"))
    assert_one_line_error(code, err, r"--weights: .*cls\.pt is a classifier checkpoint, not a det")
    (tmp_path / "bad.pt").write_bytes(b"PK\x03\x04 truncated")
    code, _, err = run_cli(capsys, *base, "--weights", str(tmp_path / "bad.pt"))
    assert_one_line_error(code, err, r"--weights: .*bad\.pt is not a readable checkpoint")
    assert not (tmp_path / "o").exists()


def test_run_artefacts_and_fine_tuning(
    trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = trained
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("epoch,train/box_loss,train/obj_loss,")
    best = load_checkpoint(out / "best.pt", kind="detector")
    training = json.loads((out / "metrics.json").read_text())["training"]
    assert training["evaluated"] == f"best.pt (epoch {best['epoch']})"
    assert training["checkpoint"] == str(out / "best.pt")
    # fine-tuning from best.pt (frozen stem and first stage) in a new folder
    code, printed, err = run_cli(
        capsys, "detect", "train", "--data-dir", str(tmp_path / "data"), "--out",
        str(tmp_path / "tuned"), *TINY[:-8], "--epochs", "1", "--batch-size", "8", "--width",
        "4", "--threads", "1", "--workers", "0", "--freeze", "2", "--weights",
        str(out / "best.pt"),
    )  # fmt: skip
    assert code == 0, err
    assert f"weight tensors from {out / 'best.pt'}" in printed
    assert "re-made" not in printed  # the same 4 classes: every layer transferred
    code, _, err = run_cli(
        capsys, "detect", "train", "--resume", "--out", str(out), "--freeze", "1"
    )
    assert_one_line_error(code, err, "drop --freeze")


def test_unusable_out_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yolo_set(tmp_path / "set", {"1": GOOD})
    (tmp_path / "taken").write_text("a file")
    code, printed, err = run_cli(capsys, "detect", "train", "--data", str(data), "--out",
                                 str(tmp_path / "taken"), *TINY[6:])  # fmt: skip
    assert_one_line_error(code, err, r"--out .*taken is a file, not a folder")
    assert "data:" not in printed  # stopped before reading the data


def test_shapes_at_32_pixels_keep_the_generators_smallest_objects() -> None:
    from tinyvision._cli._detect_train import job_from_args
    from tinyvision.cli import build_parser

    args = build_parser().parse_args(["detect", "train", "--img-size", "32"])
    shapes = job_from_args(args).shapes
    # 12-52 px at 128 scale to 3-13 px at 32; the generator draws objects of 4 px or more
    assert shapes["min_size"] == 4.0 and shapes["max_size"] == 13.0
    assert shapes["train"] == 1000 and shapes["val"] == 200


def test_a_data_set_without_objects_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yolo_set(tmp_path / "set", {"1": "", "2": ""})  # label files, but empty
    code, _, err = run_cli(capsys, "detect", "train", "--data", str(data), "--out",
                           str(tmp_path / "run"), *TINY[6:])  # fmt: skip
    assert_one_line_error(code, err, r"no objects in the labels of the 2 training images")
    assert not (tmp_path / "run" / "last.pt").exists()


def test_predict_never_writes_over_its_inputs_and_keeps_stems_apart(
    trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, data = trained
    source = cv2.imread(str(data / "images" / "val" / "000001.png"))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        cv2.imwrite(str(tmp_path / folder / "x.png"), source)
    cv2.imwrite(str(tmp_path / "b" / "x.bmp"), source)  # its drawing is a PNG: x.png again
    kept = (tmp_path / "a" / "x.png").read_bytes()
    checkpoint = ["--checkpoint", str(out / "last.pt"), "--threads", "1", "--conf", "0.001"]
    code, _, err = run_cli(capsys, "detect", "predict", str(tmp_path / "a"), str(tmp_path / "b"),
                           "--out", str(tmp_path / "a"), *checkpoint)  # fmt: skip
    pattern = r"--out: writing .*a/x\.png would replace the input image .*a/x\.png"
    assert_one_line_error(code, err, pattern)
    assert (tmp_path / "a" / "x.png").read_bytes() == kept
    assert not (tmp_path / "a" / "predictions.json").exists()
    pred = tmp_path / "pred"
    code, _, err = run_cli(capsys, "detect", "predict", str(tmp_path / "a"),
                           str(tmp_path / "b"), "--out", str(pred), *checkpoint)  # fmt: skip
    assert code == 0, err
    assert "2 image(s) share a file stem" in err and "b/x.png -> x_3" in err
    assert sorted(p.name for p in pred.glob("*.png")) == ["x.png", "x_2.png", "x_3.png"]
    records = json.loads((pred / "predictions.json").read_text())
    assert {r["image_id"] for r in records} == {"x", "x_2", "x_3"}


def test_predict_replaces_only_its_own_earlier_drawings_of_the_same_image(
    trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, data = trained
    image = data / "images" / "val" / "000001.png"
    other = tmp_path / "other" / "000001.png"  # another picture with the same stem
    other.parent.mkdir()
    shutil.copy(data / "images" / "val" / "000002.png", other)
    pred = tmp_path / "pred"
    args = ["--checkpoint", str(out / "last.pt"), "--threads", "1", "--out", str(pred)]
    assert run_cli(capsys, "detect", "predict", str(image), *args)[0] == 0
    first = (pred / "000001.png").read_bytes()
    code, _, err = run_cli(capsys, "detect", "predict", str(image), *args)  # the same again
    assert code == 0, err
    predictions = (pred / "predictions.json").read_bytes()
    code, _, err = run_cli(capsys, "detect", "predict", str(other), *args)
    pattern = r"--out .*pred already holds 000001\.png, which is not an earlier drawing of .*other/"
    assert_one_line_error(code, err, pattern)
    assert (pred / "000001.png").read_bytes() == first
    assert (pred / "predictions.json").read_bytes() == predictions  # refused before writing
    mine = tmp_path / "mine"  # a folder of the user's own pictures
    mine.mkdir()
    (mine / "000001.png").write_bytes(b"my picture")
    code, _, err = run_cli(capsys, "detect", "predict", str(image), *args[:-1], str(mine))
    assert_one_line_error(code, err, r"already holds 000001\.png, which is not an earlier drawing")
    assert (mine / "000001.png").read_bytes() == b"my picture"
    assert sorted(p.name for p in mine.iterdir()) == ["000001.png"]
    code, _, err = run_cli(
        capsys, "detect", "predict", str(image), *args[:-1], str(mine), "--no-draw"
    )
    assert code == 0, err  # no drawings: nothing to replace


def test_files_that_are_not_checkpoints_are_one_line_errors(
    trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, data = trained
    image = str(data / "images" / "val" / "000001.png")
    for path in (data / "data.yaml", tmp_path / "x.pt"):
        if path.suffix == ".pt":
            torch.save({"path": Path("x")}, path)  # a pickled object: not weights-only
        code, _, err = run_cli(capsys, "detect", "predict", "--checkpoint", str(path), image)
        assert_one_line_error(code, err, r"is not a tinyvision checkpoint \(")
        assert "weights_only" not in err
        code, _, err = run_cli(capsys, "detect", "train", "--resume", str(path))
        assert_one_line_error(code, err, r"is not a tinyvision checkpoint \(")


def test_predict_writes_coco_json_and_drawings_that_eval_reads(
    trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, data = trained
    pred = tmp_path / "pred"
    code, printed, err = run_cli(capsys, "detect", "predict", "--checkpoint", str(out / "last.pt"),
                                 str(data / "images" / "val"), "--out", str(pred), "--conf",
                                 "0.001", "--threads", "1")  # fmt: skip
    assert code == 0, err
    assert printed.count("object(s)") == 8
    records = json.loads((pred / "predictions.json").read_text())
    assert records and {"image_id", "category_id", "bbox", "score"} <= set(records[0])
    assert {r["image_id"] for r in records} <= set(range(1, 9))  # stems 000001.. as integers
    assert len(list(pred.glob("*.png"))) == 8
    drawn = cv2.imread(str(pred / "000001.png"))
    assert drawn.shape == (64, 64, 3)
    dataset = read_yolo(data / "data.yaml", "val")
    detections = read_coco_results(pred / "predictions.json", dataset)
    assert len(detections) == len(records)
    code, printed, err = run_cli(capsys, "detect", "eval", "--gt", str(data / "data.yaml"),
                                 "--dt", str(pred / "predictions.json"))  # fmt: skip
    assert code == 0, err
    assert "Average Precision" in printed


def test_predict_bad_input(trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, data = trained
    image = str(data / "images" / "val" / "000001.png")
    code, _, err = run_cli(capsys, "detect", "predict", "--checkpoint", str(out / "last.pt"),
                           str(tmp_path / "missing.png"))  # fmt: skip
    assert_one_line_error(code, err, "missing.png: no such file")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    code, _, err = run_cli(capsys, "detect", "predict", "--checkpoint", str(out / "last.pt"),
                           str(tmp_path / "broken.png"), "--out", str(tmp_path / "o"))  # fmt: skip
    assert_one_line_error(code, err, "broken.png: not a readable image")
    folder = tmp_path / "folder"  # in a folder, an image that does not decode is skipped
    folder.mkdir()
    shutil.copy(image, folder / "good.png")
    (folder / "bad.png").write_bytes(b"not an image")
    code, _, err = run_cli(capsys, "detect", "predict", "--checkpoint", str(out / "last.pt"),
                           str(folder), "--out", str(tmp_path / "f"), "--conf", "0.001",
                           "--threads", "1")  # fmt: skip
    assert code == 0, err
    (warning,) = err.strip().splitlines()
    assert warning.startswith("tinyvision: warning: source: skipped ")
    assert "bad.png: not a readable image" in warning
    assert sorted(p.name for p in (tmp_path / "f").glob("*.png")) == ["good.png"]
    records = json.loads((tmp_path / "f" / "predictions.json").read_text())
    assert {r["image_id"] for r in records} <= {"good"}
    shutil.copy(folder / "bad.png", folder / "good.png")  # nothing left that decodes
    code, _, err = run_cli(capsys, "detect", "predict", "--checkpoint", str(out / "last.pt"),
                           str(folder), "--out", str(tmp_path / "g"))  # fmt: skip
    assert code == 2 and err.strip().splitlines()[-1] == (
        "tinyvision: error: none of the 2 image file(s) decodes"
    )
    assert not (tmp_path / "g").exists()
    save_checkpoint(tmp_path / "cls.pt", "classifier", {"model": {}})
    code, _, err = run_cli(capsys, "detect", "predict", "--checkpoint", str(tmp_path / "cls.pt"),
                           image)  # fmt: skip
    assert_one_line_error(code, err, "classifier checkpoint, not a detector")
    argv = ["detect", "predict", "--checkpoint", str(out / "last.pt"), image]
    assert_usage_error(capsys, [*argv, "--conf", "2"], r"--conf: must be a number in \[0, 1\]")
    # 0 was taken as "not given" (the training size): now refused like any size off the grid
    assert_usage_error(capsys, [*argv, "--img-size", "0"], r"--img-size: must be a multiple of 32")
    assert_usage_error(capsys, [*argv, "--max-det", "0"], r"--max-det: must be an integer in 1\.\.")


# ----------------------------------------------------------------------------- bad data
def yolo_set(root: Path, labels: dict[str, str], *, yaml: str | None = None) -> Path:
    """A YOLO data set with one 32x32 image per label file, in train and val."""
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for stem, text in labels.items():
            image = np.zeros((32, 32, 3), np.uint8)
            cv2.imwrite(str(root / "images" / split / f"{stem}.png"), image)
            (root / "labels" / split / f"{stem}.txt").write_text(text)
    text = yaml or "path: .\ntrain: images/train\nval: images/val\nnames: [a, b]\n"
    (root / "data.yaml").write_text(text)
    return root / "data.yaml"


GOOD = "0 0.5 0.5 0.4 0.4\n"


@pytest.mark.parametrize(
    ("label", "pattern"),
    [
        ("0 0.5 0.5 0.4\n", r"2\.txt:1: a label line is 'class cx cy w h'"),
        ("0 0.5 0.5 0.4 0.4 0.1\n", r"2\.txt:1: a label line is 'class cx cy w h'"),
        (GOOD + "5 0.5 0.5 0.4 0.4\n", r"2\.txt:2: class must be an index in 0\.\.1, got '5'"),
        ("1 0.5 1.2 0.4 0.4\n", r"2\.txt:1: coordinates must be normalised to \[0, 1\]"),
        ("0 0.5 0.5 nan 0.4\n", r"2\.txt:1: box must be finite"),
    ],
)
def test_bad_label_lines_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str, pattern: str
) -> None:
    data = yolo_set(tmp_path / "set", {"1": GOOD, "2": label})
    code, _, err = run_cli(capsys, "detect", "train", "--data", str(data), "--out",
                           str(tmp_path / "run"), *TINY[6:])  # fmt: skip
    assert_one_line_error(code, err, pattern)
    assert not (tmp_path / "run" / "last.pt").exists()


def test_missing_folder_and_unreadable_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yaml = "path: .\ntrain: images/nowhere\nval: images/val\nnames: [a]\n"
    data = yolo_set(tmp_path / "missing", {"1": GOOD}, yaml=yaml)
    code, _, err = run_cli(capsys, "detect", "train", "--data", str(data), *TINY[6:])
    assert_one_line_error(code, err, r"train images .*images/nowhere not found")
    data = yolo_set(tmp_path / "broken", {"1": GOOD, "2": GOOD})
    (tmp_path / "broken" / "images" / "train" / "2.png").write_bytes(b"garbage")
    code, _, err = run_cli(capsys, "detect", "train", "--data", str(data), *TINY[6:])
    assert_one_line_error(code, err, r"2\.png: not a readable image")


def test_skip_bad_labels_warns_with_counts_and_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = {str(i): GOOD for i in range(1, 9)}
    labels["3"] = GOOD + "7 0.5 0.5 0.1 0.1\n0 2 0.5 0.1 0.1\n"  # 2 bad lines, 1 good
    labels["4"] = "0 0.5 0.5\n"
    data = yolo_set(tmp_path / "set", labels)
    (tmp_path / "set" / "images" / "train" / "5.png").write_bytes(b"garbage")
    code, printed, err = run_cli(capsys, "detect", "train", "--data", str(data), "--out",
                                 str(tmp_path / "run"), "--skip-bad-labels", *TINY[6:])  # fmt: skip
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("tinyvision: warning:")]
    train_warning = next(w for w in warnings if "(train)" in w)
    assert "skipped 3 bad label line(s) in 2 file(s) and 1 unreadable image(s)" in train_warning
    assert "7 training images" in printed
    assert (tmp_path / "run" / "metrics.json").is_file()


@pytest.mark.slow
def test_two_gloo_processes_under_torchrun(tmp_path: Path) -> None:
    # the command under torchrun; that two processes train like one is checked in
    # test_train_distributed.py::test_detector_two_gloo_processes_train_like_one
    env = dict(os.environ, PYTHONPATH=SRC, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
               "2", "-m", "tinyvision", "detect", "train", "--device", "cpu", "--data-dir",
               str(tmp_path / "data"), "--out", str(tmp_path / "run"), *TINY]  # fmt: skip
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("anchors: ") == 1 and proc.stdout.count("mAP@0.5 ") == 1
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["training"]["data_loading"]["steps"] == 6  # each rank: 4 of every 8
    assert load_checkpoint(tmp_path / "run" / "last.pt", kind="detector")["epoch"] == 2
