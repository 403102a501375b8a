"""`tinyvision.train.runs`: run folders (set-aside and restore), the checkpoints a run starts
from, OUT/config.yaml and the jobs' checks (the commands' tests cover the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tinyvision._errors import UserError
from tinyvision.train import runs
from tinyvision.train.detect import DetectTrainConfig
from tinyvision.train.engine import TrainingDiverged


def _earlier_run(out: Path) -> dict[str, bytes]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"last.pt": b"old last", "best.pt": b"old best", "results.csv": b"epoch\n1\n"}
    for name, data in files.items():
        (out / name).write_bytes(data)
    (out / "notes.txt").write_text("not a run file")
    return files


def _train_then(out: Path, error: BaseException, files: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def train() -> None:
        assert not (out / "best.pt").exists()  # the earlier run's is set aside meanwhile
        for name in files:
            (out / name).write_bytes(b"new")
        raise error

    return train


def test_a_failed_fresh_run_puts_the_earlier_run_back(tmp_path: Path) -> None:
    files = _earlier_run(tmp_path)
    # the failed run wrote a last.pt and a best.pt of its own, and no results.csv
    train = _train_then(tmp_path, RuntimeError("boom"), ("last.pt", "best.pt"))
    with pytest.raises(RuntimeError, match="boom"):
        runs.in_run_folder(tmp_path, train, fresh=True, main=True)
    assert {name: (tmp_path / name).read_bytes() for name in files} == files
    assert not (tmp_path / runs.PREVIOUS_RUN).exists()
    assert (tmp_path / "notes.txt").read_text() == "not a run file"


def test_a_diverged_run_says_the_earlier_checkpoints_were_kept(tmp_path: Path) -> None:
    _earlier_run(tmp_path)
    train = _train_then(tmp_path, TrainingDiverged("loss is nan at epoch 2; lower --lr"), ())
    with pytest.raises(TrainingDiverged, match=r"nan at epoch 2; the earlier run's checkpoints"):
        runs.in_run_folder(tmp_path, train, fresh=True, main=True)
    assert (tmp_path / "best.pt").read_bytes() == b"old best"


def test_an_interrupted_run_with_a_checkpoint_stays_resumable(tmp_path: Path) -> None:
    _earlier_run(tmp_path)
    train = _train_then(tmp_path, KeyboardInterrupt(), ("last.pt",))
    with pytest.raises(KeyboardInterrupt):
        runs.in_run_folder(tmp_path, train, fresh=True, main=True)
    assert (tmp_path / "last.pt").read_bytes() == b"new"
    assert (tmp_path / runs.PREVIOUS_RUN / "best.pt").read_bytes() == b"old best"


def test_a_finished_run_drops_the_earlier_one_and_closes_progress(tmp_path: Path) -> None:
    _earlier_run(tmp_path)
    closed = []

    class Progress:
        def close(self) -> None:
            closed.append(True)

    def train() -> str:
        (tmp_path / "last.pt").write_bytes(b"new")
        return "result"

    result = runs.in_run_folder(tmp_path, train, fresh=True, main=True, progress=Progress())
    assert result == "result" and closed == [True]
    assert not (tmp_path / "best.pt").exists() and not (tmp_path / runs.PREVIOUS_RUN).exists()
    assert runs.run_checkpoints(tmp_path) == [tmp_path / "last.pt"]


def test_resume_checkpoint_needs_a_place(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--resume needs --out DIR"):
        runs.resume_checkpoint(True, None, "classifier", None)
    with pytest.raises(UserError, match=r"--resume: no checkpoint at .*last\.pt \(the default"):
        runs.resume_checkpoint(True, None, "detector", tmp_path / "none")
    with pytest.raises(UserError, match="missing|no such|not found|does not exist"):
        runs.resume_checkpoint(str(tmp_path / "x.pt"), None, "detector", None)


def test_weights_checkpoint_names_the_flag(tmp_path: Path) -> None:
    assert runs.weights_checkpoint(None, "classifier") is None
    (tmp_path / "x.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match=r"^--weights: "):
        runs.weights_checkpoint(str(tmp_path / "x.pt"), "classifier")


def test_val_every_must_fit_in_the_epochs() -> None:
    runs.check_val_every(None, 3)
    runs.check_val_every(3, 3)
    with pytest.raises(ValueError, match=r"--val-every must be <= the epochs \(3\), got 4"):
        runs.check_val_every(4, 3)
    with pytest.raises(ValueError, match="--val-every must be <= the epochs"):
        runs.detect_job("shapes", DetectTrainConfig(epochs=2, val_every=2), out="x") and None
        runs.classify_job("fast", "digits", "tuned", changes={"epochs": 2, "val_every": 3})
    with pytest.raises(ValueError, match=r"--cycles must be <= the epochs \(2\), got 3"):
        runs.classify_job("fast", "digits", "tuned", changes={"epochs": 2, "cycles": 3})


def test_jobs_resolve_defaults(tmp_path: Path) -> None:
    job = runs.classify_job(
        "fast", "digits", "tuned", changes={"epochs": 6, "schedule": "restarts"}
    )
    assert job.config.cycles == 3 and job.out == Path("runs/classify/digits-fast")
    job = runs.detect_job("shapes", DetectTrainConfig(img_size=32), val_images=5)
    assert job.out == Path("runs/detect/shapes") and job.shapes["val"] == 5
    assert job.shapes["train"] == runs.TRAIN_IMAGES and job.shapes["min_size"] == 4.0
    assert runs.detect_job(str(tmp_path / "set.yaml"), DetectTrainConfig()).shapes is None
    assert runs.default_detect_out(str(tmp_path / "set.yaml")) == Path("runs/detect/set")


def test_write_run_config_leaves_out_unset_values(tmp_path: Path) -> None:
    path = runs.write_run_config(tmp_path / "new", {"epochs": 3, "threads": None, "lr": 0.5})
    assert yaml.safe_load(path.read_text()) == {"epochs": 3, "lr": 0.5}
    assert path.read_text().startswith("# ")
