"""`tinyvision classify train|eval --data DIR`: a folder of one's own images."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from _classify_helpers import one_thread  # noqa: F401
from _cli_helpers import assert_one_line_error, assert_usage_error, run_cli
from tinyvision.train import load_checkpoint


def write_folder(root: Path, *, val: bool = True, per_class: int = 6) -> Path:
    """Two classes told apart by colour (red and blue squares on noise), 20x24 PNGs."""
    rng = np.random.default_rng(0)
    splits = {"train": per_class, "val": 2} if val else {"": per_class}
    for split, n in splits.items():
        for name, colour in (("red", (0, 0, 255)), ("blue", (255, 0, 0))):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                image = rng.integers(0, 80, (20, 24, 3), dtype=np.uint8)
                image[4:16, 6:18] = colour
                assert cv2.imwrite(str(folder / f"{i}.png"), image)
    return root


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One epoch of the folder recipe on a generated folder: (data folder, run folder)."""
    import torch

    torch.set_num_threads(1)
    data = write_folder(tmp_path_factory.mktemp("data"))
    out = tmp_path_factory.mktemp("run")
    from tinyvision.cli import main

    argv = ["classify", "train", "--data", str(data), "--epochs", "1", "--img-size", "16"]
    assert main([*argv, "--out", str(out)]) == 0
    return data, out


def test_train_on_a_folder(folder_run: tuple[Path, Path]) -> None:
    data, out = folder_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"] == str(data) and metrics["model"] == "fast"
    assert set(metrics["per_class"]) == {"blue", "red"}
    assert sum(row["support"] for row in metrics["per_class"].values()) == 4  # val/: 2 + 2
    record = load_checkpoint(out / "last.pt", kind="classifier")
    assert record["classes"] == ["blue", "red"]  # sorted folder names
    assert record["image_shape"] == [3, 16, 16]
    assert record["data_options"] == {"img_size": 16, "val_split": None, "skip_bad_images": False}
    assert list((data / ".tinyvision-cache").glob("*.npy"))  # decoded once, kept


def test_eval_a_folder_run(
    folder_run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = folder_run
    expected = json.loads((out / "metrics.json").read_text())
    code, stdout, _ = run_cli(
        capsys, "classify", "eval", "--checkpoint", str(out / "last.pt"), "--out", str(tmp_path)
    )
    assert code == 0, stdout
    got = json.loads((tmp_path / "metrics.json").read_text())
    assert got["accuracy"] == expected["accuracy"] and got["data"] == str(data)
    code, _, err = run_cli(
        capsys,
        *("classify", "eval", "--checkpoint", str(out / "last.pt"), "--out", str(tmp_path / "b")),
        *("--img-size", "8"),
    )
    assert_one_line_error(code, err, r"expects images of shape \[3, 16, 16\]")


def test_folder_without_val_is_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_folder(tmp_path / "data", val=False, per_class=5)
    code, _, err = run_cli(
        capsys,
        *("classify", "train", "--data", str(data), "--epochs", "1", "--img-size", "8"),
        *("--val-split", "0.4", "--out", str(tmp_path / "run")),
    )
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    # round(0.4 * 5) = 2 per class held out.
    assert [row["support"] for row in metrics["per_class"].values()] == [2, 2]


def test_bad_image_is_one_line_or_a_counted_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_folder(tmp_path / "data")
    (data / "train" / "red" / "notes.txt").write_text("not an image")
    argv = ["classify", "train", "--data", str(data), "--epochs", "1", "--img-size", "8"]
    code, _, err = run_cli(capsys, *argv, "--out", str(tmp_path / "a"))
    assert_one_line_error(code, err, r"notes\.txt: not an image file; .*--skip-bad-images")
    assert not (tmp_path / "a").exists()
    code, _, err = run_cli(capsys, *argv, "--skip-bad-images", "--out", str(tmp_path / "b"))
    assert code == 0, err
    warning = [line for line in err.splitlines() if line.startswith("tinyvision: warning:")]
    assert len(warning) == 1 and "skipped 1 bad file(s)" in warning[0]


def test_one_class_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_folder(tmp_path / "data")
    for split in ("train", "val"):
        for path in (data / split / "blue").iterdir():
            path.unlink()
        (data / split / "blue").rmdir()
    code, _, err = run_cli(capsys, "classify", "train", "--data", str(data), "--epochs", "1")
    assert_one_line_error(code, err, r"one class only \('red'\)")


def test_data_must_be_a_known_set_or_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing")
    assert_usage_error(
        capsys,
        ["classify", "train", "--data", missing],
        r"argument --data: must be digits, cifar10 or an existing folder",
    )
    assert_usage_error(
        capsys, ["classify", "train", "--img-size", "2"], r"argument --img-size: must be"
    )
    assert_usage_error(
        capsys, ["classify", "train", "--val-split", "1"], r"argument --val-split: must be"
    )


def test_folder_flags_with_a_built_in_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "classify", "train", "--img-size", "32", "--out", str(tmp_path / "x")
    )
    assert_one_line_error(code, err, r"--img-size only apply to --data DIR, not digits")


def test_val_split_with_a_val_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_folder(tmp_path / "data")
    code, _, err = run_cli(
        capsys, "classify", "train", "--data", str(data), "--val-split", "0.3", "--epochs", "1"
    )
    assert_one_line_error(code, err, r"has a val/ folder: val_split \(--val-split\) only")


def test_out_inside_the_image_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_folder(tmp_path / "data")
    code, _, err = run_cli(
        capsys,
        *("classify", "train", "--data", str(data), "--epochs", "1", "--img-size", "8"),
        *("--out", str(data / "train" / "runs")),
    )
    assert_one_line_error(code, err, r"is inside the image folder --data .*choose another --out")
    assert not (data / "train" / "runs").exists()
