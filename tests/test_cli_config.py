"""Flags read from the config dataclasses, ``--config run.yaml`` and ``OUT/config.yaml``, and
the one snapshot-ensemble evaluation (``train.runs``) the commands share."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest
import torch
import yaml

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from _cli_helpers import assert_one_line_error, run_cli
from tinyvision._cli import _train_flags, classify, demo
from tinyvision.cli import build_parser
from tinyvision.train import runs
from tinyvision.train.classify import TrainConfig
from tinyvision.train.detect import DetectTrainConfig

MISSING_YAML = "missing-data-never-read.yaml"


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def _train_parser(*argv: str) -> tuple[object, object]:
    args = build_parser().parse_args(list(argv))
    return args, args.func.keywords["parser"]


# ----------------------------------------------------------------------------------------
# The flag generator
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "cls"),
    [("tinyvision.train.classify", TrainConfig), ("tinyvision.train.detect", DetectTrainConfig)],
)
def test_fields_read_from_the_source_are_the_dataclass_fields(module: str, cls: type) -> None:
    read = _train_flags.config_fields(module, cls.__name__)
    real = {f.name: f for f in dataclasses.fields(cls)}
    assert list(read) == list(real)  # the same fields in the same order
    for name, field in real.items():
        if field.default is not dataclasses.MISSING:
            assert read[name].default == field.default, name
            assert type(read[name].default) is type(field.default), name
    assert read["epochs"].help.startswith("passes over the training")
    assert read["lr"].annotation == "float" and read["amp"].annotation == "bool"


def test_help_and_defaults_come_from_the_fields(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, "detect", "train")
    assert "--epochs EPOCHS passes over the training images (default 16)" in text
    assert (
        "--img-size IMG_SIZE square training input, pixels (a multiple of 32) (default 128)" in text
    )
    assert "--amp bfloat16 autocast on CUDA" in text
    text = _help(capsys, "classify", "train")
    assert "--epochs EPOCHS passes over the training set (default the recipe's)" in text
    assert "--amp" in text and "--flip" not in text  # the recipe decides flips


def test_a_changed_default_shows_in_help(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = inspect.getsource(inspect.getmodule(DetectTrainConfig))
    changed = source.replace("epochs: int = 16  # passes over", "epochs: int = 23  # passes over")
    assert changed != source
    real = _train_flags.config_fields

    def patched(module: str, cls: str) -> dict[str, _train_flags.ConfigField]:
        if cls == "DetectTrainConfig":
            return _train_flags._fields_in_source(changed, cls)
        return real(module, cls)

    monkeypatch.setattr(_train_flags, "config_fields", patched)
    assert "passes over the training images (default 23)" in _help(capsys, "detect", "train")


def test_bool_fields_become_store_true_flags_and_metadata_help_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # what the tensorboard field (being added in parallel) gets once it exists
    source = (
        "from dataclasses import dataclass, field\n"
        "@dataclass\nclass C:\n"
        "    epochs: int = 5  # passes\n"
        "    tensorboard: bool = False  # log scalars with torch.utils.tensorboard\n"
        "    amp: bool = False  # mixed precision\n"
        "    flip: bool = True  # on by default: no store_true flag\n"
        "    lr: float = field(default=0.1, metadata={'help': 'peak rate'})  # not this\n"
    )
    monkeypatch.setattr(
        _train_flags, "config_fields", lambda m, c: _train_flags._fields_in_source(source, c)
    )
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--amp", action="store_true")  # already a flag: left alone
    added = _train_flags.add_config_flags(parser, "tinyvision.x", "C", ("epochs", "lr"))
    assert added == ["epochs", "lr", "tensorboard"]
    args = parser.parse_args(["--tensorboard", "--epochs", "3"])
    assert args.tensorboard is True and args.epochs == 3 and args.lr is None
    assert parser.parse_args([]).tensorboard is None  # not given: the config's
    assert "peak rate (default 0.1)" in parser.format_help()
    assert _train_flags.setting_names(parser) == ["epochs", "lr", "tensorboard"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--epochs", "0"])  # bounded by FIELD_TYPES


def test_the_generator_refuses_unbounded_or_unknown_fields() -> None:
    import argparse

    with pytest.raises(ValueError, match="momentum.*no bounded flag type"):
        _train_flags.add_config_flags(
            argparse.ArgumentParser(), "tinyvision.train.detect", "DetectTrainConfig", ["momentum"]
        )
    with pytest.raises(ValueError, match="names must be fields of DetectTrainConfig.*'nope'"):
        _train_flags.add_config_flags(
            argparse.ArgumentParser(), "tinyvision.train.detect", "DetectTrainConfig", ["nope"]
        )
    with pytest.raises(ValueError, match="cls must name a class"):
        _train_flags.config_fields("tinyvision.train.detect", "Nope")
    with pytest.raises(ValueError, match="module must be a tinyvision module"):
        _train_flags.config_fields("os.path", "X")


# ----------------------------------------------------------------------------------------
# --config
# ----------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_flags_override_the_file_and_the_file_the_recipe(tmp_path: Path) -> None:
    config = _write(tmp_path / "run.yaml", "epochs: 7\nbatch-size: 64\nschedule: constant\n")
    args, parser = _train_parser("classify", "train", "--config", config, "--epochs", "2")
    _train_flags.merge_config(args, parser, classify.DEFAULTS)
    job = classify._job(args, _train_flags.setting_names(parser))
    assert job.config.epochs == 2  # the command line wins
    assert job.config.batch_size == 64 and job.config.schedule == "constant"  # the file's
    assert job.config.lr == runs.classify_job("fast", "digits", "tuned").config.lr  # recipe's
    config = _write(tmp_path / "detect.yaml", "epochs: 7\nbatch-size: 64\n")
    args, parser = _train_parser("detect", "train", "--config", config, "--data", MISSING_YAML)
    _train_flags.merge_config(args, parser, {})
    assert args.epochs == 7 and args.batch_size == 64 and args.data == MISSING_YAML


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("epochs: 3\nepoch: 4\n", r"run\.yaml: unknown key 'epoch' \(known: .*epochs"),
        ("out: elsewhere\n", r"unknown key 'out'"),
        ("epochs: ten\n", r"run\.yaml: epochs: must be a number, got 'ten'"),
        ("epochs: 2.5\n", r"epochs: must be an integer, got 2\.5"),
        ("epochs: 0\n", r"epochs: must be an integer in 1\.\.100000, got 0"),
        ("lr: 100\n", r"lr: must be a number in \(0, 10\], got 100"),
        ("lr: .nan\n", r"lr: must be finite"),
        ("img_size: 100\n", r"img_size: must be a multiple of 32"),
        ("amp: 1\n", r"amp: must be true or false, got 1"),
        ("optimizer: lion\n", r"optimizer: must be one of adamw, sgd, got 'lion'"),
        ("levels: 2.5\n", r"levels: must be an integer, got 2\.5"),
        ("levels: 4\n", r"levels: must be one of 2, 3, got 4"),
        ("epochs: [1, 2]\n", r"epochs: must be a number or a string"),
        ("- epochs\n", r"must be a mapping of settings"),
        ("epochs: &a 3\nlr: *a\n", r"aliases"),
    ],
)
def test_bad_config_files_are_one_line_before_any_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, pattern: str
) -> None:
    config = _write(tmp_path / "run.yaml", text)
    out = tmp_path / "out"
    code, printed, err = run_cli(
        capsys, "detect", "train", "--config", config, "--data", MISSING_YAML, "--out", str(out)
    )
    assert_one_line_error(code, err, pattern)
    assert printed == "" and not out.exists()  # no data read, nothing written


def test_config_errors_of_classify_name_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(tmp_path / "run.yaml", "cycles: 0\n")
    code, _, err = run_cli(capsys, "classify", "train", "--config", config)
    assert_one_line_error(code, err, r"--config .*run\.yaml: cycles: must be an integer in 1\.")
    code, _, err = run_cli(capsys, "classify", "train", "--config", str(tmp_path / "no.yaml"))
    assert_one_line_error(code, err, r"--config .*no\.yaml: no such file")


@pytest.mark.parametrize("command", ["classify", "detect"])
def test_config_with_resume_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    config = _write(tmp_path / "run.yaml", "epochs: 3\n")
    code, _, err = run_cli(
        capsys, command, "train", "--config", config, "--resume", str(tmp_path / "x.pt")
    )
    assert_one_line_error(code, err, r"--resume continues the run as it was set up; drop --config")


def test_out_config_yaml_repeats_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    code, _, err = run_cli(capsys, "classify", "train", "--epochs", "2", "--batch-size", "256",
                           "--patience", "5", "--out", str(first))  # fmt: skip
    assert code == 0, err
    settings = yaml.safe_load((first / "config.yaml").read_text())
    assert settings["epochs"] == 2 and settings["batch_size"] == 256 and settings["patience"] == 5
    assert settings["model"] == "fast" and settings["data"] == "digits" and settings["seed"] == 0
    assert settings["lr"] == runs.classify_job("fast", "digits", "tuned").config.lr  # resolved
    assert "out" not in settings and "config" not in settings
    config = str(first / "config.yaml")
    code, _, err = run_cli(capsys, "classify", "train", "--config", config, "--out", str(second))
    assert code == 0, err
    assert (second / "config.yaml").read_text() == (first / "config.yaml").read_text()
    first_row = (first / "results.csv").read_text().splitlines()[1:]
    second_row = (second / "results.csv").read_text().splitlines()[1:]
    assert first_row == second_row  # the same run (on the CPU)


# ----------------------------------------------------------------------------------------
# The snapshot ensemble: one function, three callers
# ----------------------------------------------------------------------------------------


def test_the_snapshot_ensemble_is_one_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    real = runs.snapshot_ensemble

    def spy(checkpoints, images, y_true, config=None):  # type: ignore[no-untyped-def]
        calls.append([Path(p).name for p, _ in checkpoints])
        return real(checkpoints, images, y_true, config)

    monkeypatch.setattr(runs, "snapshot_ensemble", spy)
    out = tmp_path / "restarts"
    code, _, err = run_cli(capsys, "classify", "train", "--epochs", "2", "--schedule",
                           "restarts", "--out", str(out))  # fmt: skip
    assert code == 0, err
    snapshots = [str(out / "snapshot_1.pt"), str(out / "snapshot_2.pt")]
    code, text, err = run_cli(capsys, "classify", "eval", "--checkpoint", *snapshots,
                              "--out", str(tmp_path / "eval"))  # fmt: skip
    assert code == 0, err
    assert calls == [["snapshot_1.pt", "snapshot_2.pt"]] * 2
    assert "snapshot ensemble of 2: accuracy" in text
    # demo's and the commands' modules average no probabilities of their own
    for module in (classify, demo):
        source = inspect.getsource(module)
        assert "snapshot_ensemble" in source
        assert not re.search(r"model_from_checkpoint|np\.mean|\.mean\(\[", source), module


def test_snapshot_ensemble_bad_input() -> None:
    with pytest.raises(ValueError, match="checkpoints must hold at least one checkpoint"):
        runs.snapshot_ensemble([], torch.zeros(1, 1, 8, 8), torch.zeros(1).numpy())


def test_detect_train_from_a_config_file_and_its_repeat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(
        tmp_path / "run.yaml",
        "train_images: 24\nval_images: 8\nimg_size: 64\nepochs: 2\nbatch_size: 8\nwidth: 4\n"
        "threads: 1\nworkers: 1\n",
    )
    first, second = tmp_path / "first", tmp_path / "second"
    data_dir = str(tmp_path / "data")
    code, _, err = run_cli(capsys, "detect", "train", "--config", config, "--data-dir",
                           data_dir, "--epochs", "1", "--out", str(first))  # fmt: skip
    assert code == 0, err
    settings = yaml.safe_load((first / "config.yaml").read_text())
    assert settings["epochs"] == 1 and settings["img_size"] == 64 and settings["width"] == 4
    assert settings["train_images"] == 24 and settings["levels"] == 2
    assert settings["focal"] is False and settings["lr"] == DetectTrainConfig().lr
    assert settings["data"] == "shapes" and settings["data_dir"] == data_dir
    repeat = str(first / "config.yaml")
    code, _, err = run_cli(capsys, "detect", "train", "--config", repeat, "--out", str(second))
    assert code == 0, err
    assert (second / "config.yaml").read_text() == (first / "config.yaml").read_text()


def test_the_parser_reads_the_configs_without_importing_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from tinyvision.cli import build_parser; build_parser(); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    from tinyvision._cli import _detect_train

    assert (
        classify.DEFAULT_OUT == runs.CLASSIFY_OUT and _detect_train.DEFAULT_OUT == runs.DETECT_OUT
    )
    assert (_detect_train.TRAIN_IMAGES, _detect_train.VAL_IMAGES) == (
        runs.TRAIN_IMAGES,
        runs.VAL_IMAGES,
    )
