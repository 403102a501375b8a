"""`detect convert` and `detect eval` never replace their inputs, write only inside their
output, copy only images and leave a target whole or untouched (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from _cli_helpers import assert_one_line_error, run_cli
from tinyvision.data import formats, make_coco_like
from tinyvision.data.formats import _common as formats_common


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (relative) with its bytes (None for a folder)."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def coco_with_images(folder: Path, n_images: int = 3) -> Path:
    """``folder/gt.json`` (sizes known, no crowd) and its PNG images in ``folder/images``."""
    gt, _ = make_coco_like(n_images, 2, seed=3, crowd_fraction=0.0)
    (folder / "images").mkdir(parents=True)
    for im in gt["images"]:
        im["width"], im["height"] = 40, 30
        im["file_name"] = f"{im['id']}.png"
        cv2.imwrite(str(folder / "images" / im["file_name"]), np.zeros((30, 40, 3), np.uint8))
    for a in gt["annotations"]:
        a["bbox"] = [2.0, 3.0, 10.0, 8.0]
        a["area"] = 80.0
    (folder / "gt.json").write_text(json.dumps(gt))
    return folder / "gt.json"


def convert(capsys: pytest.CaptureFixture[str], src: Path, dst: Path, to: str, *more: str):
    return run_cli(capsys, "detect", "convert", "--src", str(src), "--dst", str(dst),
                   "--to", to, *more)  # fmt: skip


@pytest.fixture
def sets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """``gt.json`` + ``images/``, and the same set as ``yolo/`` and ``voc/``."""
    gt = coco_with_images(tmp_path)
    images = ["--images", str(tmp_path / "images")]
    assert convert(capsys, gt, tmp_path / "yolo", "yolo", *images)[0] == 0
    assert convert(capsys, gt, tmp_path / "voc", "voc", *images)[0] == 0
    return tmp_path


@pytest.mark.parametrize(
    ("src", "dst", "to", "pattern"),
    [
        ("gt.json", "gt.json", "coco", r"--dst: writing .*gt\.json would replace the input --src"),
        ("gt.json", "./images/../gt.json", "coco", "would replace the input --src"),
        ("yolo", "yolo", "yolo", r"--dst .*yolo is the input --src .*yolo: the output would"),
        ("yolo/data.yaml", "yolo", "voc", r"--dst .*yolo contains the input --src .*data\.yaml"),
        ("yolo", ".", "voc", r"--dst \S+ contains the input --src .*yolo"),
        ("voc", "voc", "voc", r"--dst .*voc is the input --src .*voc"),
        ("voc", "voc/..", "yolo", r"--dst .*voc/\.\. contains the input --src"),
        ("yolo", "yolo/labels/val/5.txt", "coco", r"would replace the input file .*5\.txt"),
    ],
)
def test_convert_refuses_a_target_that_is_or_holds_its_source(
    sets: Path, capsys: pytest.CaptureFixture[str], src: str, dst: str, to: str, pattern: str
) -> None:
    before = tree(sets)
    code, _, err = convert(capsys, sets / src, sets / dst, to)
    assert_one_line_error(code, err, pattern)
    assert tree(sets) == before


def test_convert_refuses_a_target_holding_the_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt = coco_with_images(tmp_path / "set")
    before = tree(tmp_path)
    for dst, flag in ((tmp_path / "set", "--src"), (tmp_path / "set" / "images", "--images")):
        code, _, err = convert(capsys, gt, dst, "voc", "--images", str(tmp_path / "set" / "images"))
        assert_one_line_error(code, err, f"--dst {dst} (is|contains) the input {flag}")
    # a YOLO source's own images, found through its data.yaml
    code, _, err = convert(
        capsys, gt, tmp_path / "y", "yolo", "--images", str(tmp_path / "set" / "images")
    )
    assert code == 0, err
    before = tree(tmp_path)
    code, _, err = convert(capsys, tmp_path / "y", tmp_path / "y" / "images", "voc")
    assert_one_line_error(code, err, r"contains the input file .*images/val/\d+\.png")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("split", ["../../x", "a/b", "..", ".", ""])
def test_convert_split_is_a_plain_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], split: str
) -> None:
    gt = coco_with_images(tmp_path / "in")
    before = tree(tmp_path)
    code, _, err = convert(capsys, gt, tmp_path / "in" / "out" / "y", "yolo", "--split", split)
    assert_one_line_error(code, err, r"--split must be a plain name .*, got " + repr(split))
    assert tree(tmp_path) == before
    with pytest.raises(ValueError, match="split must be a plain name"):
        formats.write_voc(formats.read_coco(gt), tmp_path / "v", split)
    assert tree(tmp_path) == before


def test_convert_copies_only_images_and_names_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt_path = coco_with_images(tmp_path, n_images=4)
    gt = json.loads(gt_path.read_text())
    (tmp_path / "secret.txt").write_text("password")
    (tmp_path / "images" / "notes.jpg").write_text("not a picture")
    (tmp_path / "images" / "folder.png").mkdir()
    for im, name in zip(gt["images"], [str(tmp_path / "secret.txt"), "notes.jpg", "folder.png"]):
        im["file_name"] = name
    gt_path.write_text(json.dumps(gt))
    code, _, err = convert(
        capsys, gt_path, tmp_path / "voc", "voc", "--images", str(tmp_path / "images")
    )
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinyvision: warning: did not copy 3 of 4")
    assert "secret.txt" in err and "notes.jpg" in err and "folder.png" in err
    copied = sorted(p.name for p in (tmp_path / "voc" / "JPEGImages").iterdir())
    assert copied == [gt["images"][3]["file_name"]]  # the one real image
    assert len(list((tmp_path / "voc" / "Annotations").iterdir())) == 4
    # a missing image is still an error, and nothing is written
    gt["images"][3]["file_name"] = "gone.png"
    gt_path.write_text(json.dumps(gt))
    code, _, err = convert(
        capsys, gt_path, tmp_path / "v2", "voc", "--images", str(tmp_path / "images")
    )
    assert_one_line_error(code, err, r"gone\.png: no such image file")
    assert not (tmp_path / "v2").exists()


def staging_left(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".staging-" in p.name]


def test_a_failed_conversion_leaves_the_target_as_it_was(
    sets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an existing malformed data.yaml: refused before any label is written
    target = sets / "target"
    target.mkdir()
    (target / "data.yaml").write_text("names: [a\n")
    (target / "keep.txt").write_text("mine")
    before = tree(target)
    code, _, err = convert(capsys, sets / "voc", target, "yolo")
    assert_one_line_error(code, err, r"target/data\.yaml: malformed YAML")
    assert tree(target) == before
    assert staging_left(sets) == []
    # a failure after some files were written: no half-written new folder
    (sets / "voc" / "JPEGImages" / "11.png").unlink()
    code, _, err = convert(capsys, sets / "voc", sets / "new", "yolo")
    assert_one_line_error(code, err, r"11\.png: no such image file")
    assert not (sets / "new").exists()
    assert staging_left(sets) == []


def test_a_folder_target_that_is_a_file_is_refused_before_the_work(
    sets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (sets / "afile").write_text("taken")
    code, _, err = convert(capsys, sets / "yolo", sets / "afile", "voc")
    assert_one_line_error(code, err, r"afile is a file, not a folder")
    assert (sets / "afile").read_text() == "taken"
    assert staging_left(sets) == []


def test_an_interrupted_conversion_leaves_nothing_and_its_leftovers_are_removed(
    sets: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    copy = formats_common.atomic_copy  # where copy_images looks it up

    def killed_on_the_second_image(src: Path, dst: Path) -> None:
        calls.append(src)
        if len(calls) == 2:
            raise KeyboardInterrupt
        copy(src, dst)

    monkeypatch.setattr(formats_common, "atomic_copy", killed_on_the_second_image)
    with pytest.raises(KeyboardInterrupt):
        formats.convert(sets / "yolo", sets / "cut", "voc")
    monkeypatch.undo()
    assert not (sets / "cut").exists() and staging_left(sets) == []
    # a staging folder a killed process could not remove is removed by the next run
    (sets / ".cut.staging-k1ll3d00" / "Annotations").mkdir(parents=True)
    (sets / ".cut.staging-mine").mkdir()  # not of our naming (no 8-character tail): kept
    code, _, err = convert(capsys, sets / "yolo", sets / "cut", "voc")
    assert code == 0, err
    assert staging_left(sets) == [".cut.staging-mine"]
    assert len(list((sets / "cut" / "JPEGImages").iterdir())) == 3


def test_converting_into_an_existing_set_adds_the_split_and_keeps_the_rest(
    sets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = sets / "yolo2"
    assert convert(capsys, sets / "yolo", target, "yolo", "--split", "val")[0] == 0
    config = (target / "data.yaml").read_text()
    (target / "data.yaml").write_text(config + "download: none\n")
    (target / "notes.md").write_text("mine")
    code, _, err = convert(capsys, sets / "voc", target, "yolo", "--split", "train")
    assert code == 0, err
    import yaml

    merged = yaml.safe_load((target / "data.yaml").read_text())
    assert merged["val"] == "images/val" and merged["train"] == "images/train"
    assert merged["download"] == "none"
    assert (target / "notes.md").read_text() == "mine"
    assert len(list((target / "labels" / "val").iterdir())) == 3
    assert len(list((target / "images" / "train").iterdir())) == 3
    assert staging_left(sets) == []


# ----------------------------------------------------------------------------- eval
@pytest.fixture
def coco_eval(tmp_path: Path) -> tuple[Path, Path]:
    gt, dt = make_coco_like(4, 2, seed=1)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    return tmp_path / "gt.json", tmp_path / "dt.json"


@pytest.mark.parametrize("which", ["--gt", "--dt"])
@pytest.mark.parametrize("name", ["metrics.json", "report.html", "pr_curves.png"])
def test_eval_never_writes_over_its_inputs(
    coco_eval, tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str, name: str
) -> None:
    gt, dt = coco_eval
    folder = tmp_path / "d"
    folder.mkdir()
    moved = folder / name
    (gt if which == "--gt" else dt).rename(moved)
    paths = {"--gt": gt, "--dt": dt, which: moved}
    before = tree(tmp_path)
    code, out, err = run_cli(capsys, "detect", "eval", "--gt", str(paths["--gt"]), "--dt",
                             str(paths["--dt"]), "--out", str(tmp_path / "d" / "." ))  # fmt: skip
    assert_one_line_error(code, err, rf"--out: writing .*{name} would replace the input {which}")
    assert out == ""  # refused before the evaluation
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    ("which", "make", "pattern"),
    [
        ("--dt", "empty", r"--dt .*empty is a folder with no prediction files \(\*\.txt\)"),
        ("--dt", "x.json", r"--dt .*x\.json is a folder with no prediction files"),
        ("--dt", "x.csv", r"--dt .*x\.csv: not a COCO results \.json file nor a VOC"),
        ("--dt", "none", r"--dt .*none: no such file or folder"),
        ("--gt", "empty", r"--gt .*empty: neither a YOLO data set .* nor a VOC one"),
        ("--gt", "x.json", r"--gt .*x\.json: neither a YOLO data set"),
        ("--gt", "x.csv", r"--gt .*x\.csv: not a COCO json or a YOLO data\.yaml"),
        ("--gt", "none", r"--gt .*none: no such file or folder"),
    ],
)
def test_eval_inputs_of_the_wrong_kind_are_one_line_errors(
    coco_eval, tmp_path: Path, capsys: pytest.CaptureFixture[str], which, make, pattern
) -> None:
    gt, dt = coco_eval
    bad = tmp_path / make
    if make in ("empty", "x.json"):
        bad.mkdir()
    elif make == "x.csv":
        bad.write_text("image_id,score\n1,0.5\n")
    paths = {"--gt": gt, "--dt": dt, which: bad}
    code, out, err = run_cli(capsys, "detect", "eval", "--gt", str(paths["--gt"]), "--dt",
                             str(paths["--dt"]))  # fmt: skip
    assert_one_line_error(code, err, pattern)
    assert out == ""


def test_eval_split_is_a_plain_name(coco_eval, capsys: pytest.CaptureFixture[str]) -> None:
    gt, dt = coco_eval
    code, out, err = run_cli(capsys, "detect", "eval", "--gt", str(gt), "--dt", str(dt),
                             "--split", "../../x")  # fmt: skip
    assert_one_line_error(code, err, r"--split must be a plain name .*, got '\.\./\.\./x'")
    assert out == ""
