"""Every numeric flag is bounded and checked while the arguments are parsed (one line naming
the flag, before any file is read or any work done); outputs are checked before the work."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pytest

from _cli_helpers import assert_one_line_error, assert_usage_error, run_cli
from tinyvision._cli import _flags
from tinyvision.cli import build_parser


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every (sub-)command parser below it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases once
                found += _all_parsers(sub)
    return found


def test_no_numeric_flag_is_unbounded() -> None:
    # `type=int`/`type=float` takes 10**30, 1e308, nan or -1; the bounded types of _flags
    # (or a list of choices) are the only ways a command takes a number.
    parsers = _all_parsers(build_parser())
    assert len(parsers) > 10
    unbounded = [
        f"{parser.prog} {action.option_strings[0] if action.option_strings else action.dest}"
        for parser in parsers
        for action in parser._actions
        if action.type in (int, float) and not action.choices
    ]
    assert unbounded == []


MISSING = "missing-file-never-read"


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        # the cases
        (["cluster", MISSING, "--k", "2..10000000000"], r"--k: values must be <= 100000"),
        (["detect", "train", "--img-size", "3200000"], r"--img-size: must be a multiple of 32"),
        (["detect", "train", "--width", "100000000"], r"--width: must be an integer in 1\.\.256"),
        (["classify", "train", "--lr", "1e308"], r"--lr: .* \(0, 10\], got 1e\+308"),
        (["detect", "predict", "--checkpoint", MISSING, MISSING, "--img-size", "0"],
         r"--img-size: must be a multiple of 32 in 32\.\.4096, got 0"),
        (["demo", "--seeds", "0"], r"--seeds: must be an integer in 1\.\.20, got 0"),
        (["classify", "train", "--seed", "1" + "0" * 30], r"--seed: .*\.\.\.\(31 digits\)"),
        (["classify", "eval", "--predictions", MISSING, "--threads", "2" * 25], r"--threads: "),
        (["nms-demo", "--seed", "-1"], r"--seed: must be an integer in 0\.\.4294967295, got -1"),
        # a few more of every command's flags
        (["classify", "train", "--epochs", "0"], r"--epochs: must be an integer in 1\.\.100000"),
        (["classify", "train", "--batch-size", "-4"], r"--batch-size: must be an integer in 1\."),
        (["classify", "train", "--cycles", "0"], r"--cycles: must be an integer in 1\."),
        (["classify", "train", "--lr", "inf"], r"--lr: must be a number in \(0, 10\], got inf"),
        (["classify", "train", "--threads", "0"], r"--threads: must be an integer in 1\.\.512"),
        (["demo", "--threads", "x"], r"--threads: must be an integer in 1\.\.512, got 'x'"),
        (["detect", "predict", "--checkpoint", MISSING, MISSING, "--iou", "nan"], r"--iou: "),
        (["anchors", MISSING, "--thr", "1e400"], r"--thr: must be a number in \(1, 100\], got inf"),
        (["cluster", MISSING, "--k", "2," + "9" * 5000], r"--k: must look like 2\.\.10 or 2,3,5"),
        (["nms-demo", "--per-object", "1001"], r"--per-object: must be an integer in 1\.\.1000"),
        (["nms-demo", "--classes", "21"], r"--classes: must be an integer in 1\.\.20"),
        (["nms-demo", "--score-threshold", "-1"], r"--score-threshold: .* \[0, 1\], got -1"),
    ],
)  # fmt: skip
def test_bad_flags_are_one_line_before_any_work(
    capsys: pytest.CaptureFixture[str], argv: list[str], pattern: str
) -> None:
    assert_usage_error(capsys, argv, pattern)


def test_the_cycles_of_a_classifier_fit_in_its_epochs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["classify", "train", "--epochs", "2", "--cycles", "3", "--out", str(tmp_path)]
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, r"^tinyvision: error: --cycles must be <= the epochs \(2\)")


def test_flag_types_accept_their_bounds() -> None:
    assert _flags.seed("0") == 0 and _flags.seed(str(2**32 - 1)) == 2**32 - 1
    assert _flags.detector_img_size("32") == 32 and _flags.detector_img_size("4096") == 4096
    assert _flags.float_in(0.0, 10.0, low_open=True)("10") == 10.0
    assert _flags.probability("0") == 0.0 and _flags.probability("1") == 1.0
    assert _flags.int_or_auto(1, 5)("auto") == "auto" and _flags.int_or_auto(1, 5)("5") == 5
    assert _flags.k_values("2..5") == [2, 3, 4, 5] and _flags.k_values("3, 7") == [3, 7]
    assert _flags.k_values(f"2..{_flags.K_VALUES_MAX + 1}")[-1] == _flags.K_VALUES_MAX + 1
    for bad in (str(2**32), "-1", "1.5", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            _flags.seed(bad)
    for bad in ("0", "-0.0", "10.01", "nan", "-inf"):
        with pytest.raises(argparse.ArgumentTypeError):
            _flags.float_in(0.0, 10.0, low_open=True)(bad)


# ------------------------------------------------------------------------- output folders
def _read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` refuse new files, as a read-only folder does for a user that is not
    root (the tests may run as root, which writes anyway): the errors name a temp file."""

    def refuse(*args: object, dir: object = None, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(Path(str(dir)) / ".x.tmpab12cd"))

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    folder.mkdir(exist_ok=True)


@pytest.mark.parametrize(
    "argv",
    [
        ["nms-demo"],
        ["classify", "train", "--epochs", "1"],
        ["demo", "--no-detector", "--seeds", "1"],
    ],
)
def test_a_read_only_out_is_named_by_its_flag_before_the_work(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
) -> None:
    out = tmp_path / "read-only"
    _read_only(monkeypatch, out)
    code, printed, err = run_cli(capsys, *argv, "--out", str(out))
    assert_one_line_error(code, err, rf"--out {out} is not writable \(Permission denied\)$")
    assert ".tmp" not in err
    assert printed == ""  # nothing trained or computed first


@pytest.mark.parametrize("argv", [["nms-demo"], ["classify", "train"], ["demo"]])
def test_an_out_that_is_a_file_is_refused_before_the_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("a file")
    code, printed, err = run_cli(capsys, *argv, "--out", str(taken))
    assert_one_line_error(code, err, rf"--out {taken} is a file, not a folder$")
    assert printed == ""
    assert taken.read_text() == "a file"
