"""`detect convert` and `detect eval` never replace their inputs, write only inside their
output, copy only images and leave a target whole or untouched (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _cli_helpers import assert_one_line_error, run_cli
from tinyvision.data import make_coco_like


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (relative) with its bytes (None for a folder)."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


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
