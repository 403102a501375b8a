"""`tinyvision classify train|eval` and `tinyvision demo` through main(argv)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch

from _classify_helpers import one_thread, write_tiny_archive, write_tiny_folder  # noqa: F401
from _cli_helpers import assert_one_line_error, run_cli
from tinyvision._cli._progress import TrainProgress
from tinyvision.cli import main
from tinyvision.train import load_checkpoint, save_checkpoint
from tinyvision.train.engine import read_results_csv

# Three epochs of the fast recipe on the digits: 15 steps of 256 images.
QUICK = ["classify", "train", "--epochs", "3"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished one-epoch run of the fast recipe on the digits."""
    out = tmp_path_factory.mktemp("fast")
    torch.set_num_threads(1)
    assert main([*QUICK, "--out", str(out)]) == 0
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_train_writes_the_evaluation(trained: Path) -> None:
    files = {p.name for p in trained.iterdir()}
    assert {
        "last.pt",
        "metrics.json",
        "report.html",
        "predictions.csv",
        "confusion_matrix.png",
        "roc_curves.png",
        "pr_curves.png",
        "per_class.png",
    } <= files
    record = json.loads((trained / "metrics.json").read_text())
    assert 0.6 < record["accuracy"] <= 1.0  # three epochs already learn the digits
    assert set(record["per_class"]) == {str(d) for d in range(10)}
    assert record["model"] == "fast" and record["data"] == "digits" and record["epochs"] == 3
    assert len(record["per_class"]["3"]["roc_auc_ci"]) == 2
    checkpoint = load_checkpoint(trained / "last.pt", kind="classifier")
    assert checkpoint["model_name"] == "fast" and checkpoint["image_shape"] == [1, 8, 8]
    # the report shows the run's curves (results.png), a classifier has no label pictures
    html = (trained / "report.html").read_text()
    assert "<h2>Training</h2>" in html and "Per-epoch training losses" in html
    assert "Training labels" not in html and (trained / "results.png").is_file()
    assert not (trained / "tensorboard").exists()  # not asked for


def test_resume_cannot_start_tensorboard_logging(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["classify", "train", "--resume", str(trained / "last.pt"), "--tensorboard"]
    code, _, err = run_cli(capsys, *argv, "--out", str(tmp_path / "x"))
    assert_one_line_error(
        code, err, "--resume continues the run as it was set up; drop --tensorboard"
    )
    assert not (tmp_path / "x").exists()


def test_eval_checkpoint_and_predictions_agree(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = json.loads((trained / "metrics.json").read_text())
    code, out, _ = run_cli(
        capsys,
        "classify",
        "eval",
        "--checkpoint",
        str(trained / "best.pt"),  # what the training's evaluation used
        "--out",
        str(tmp_path / "a"),
    )
    assert code == 0 and "accuracy" in out and "AUC [95% CI]" in out
    assert "precision    recall  f1-score   support" in out and "weighted avg" in out
    from_checkpoint = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert from_checkpoint["accuracy"] == expected["accuracy"]
    assert from_checkpoint["confusion_matrix"] == expected["confusion_matrix"]
    code, _, _ = run_cli(
        capsys,
        "classify",
        "eval",
        "--predictions",
        str(trained / "predictions.csv"),
        "--out",
        str(tmp_path / "b"),
    )
    assert code == 0
    from_csv = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert from_csv["accuracy"] == expected["accuracy"]
    assert from_csv["per_class"]["7"]["f1"] == expected["per_class"]["7"]["f1"]


def test_snapshot_ensemble(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "restarts"
    code, text, err = run_cli(
        capsys,
        "classify",
        "train",
        "--epochs",
        "2",
        "--schedule",
        "restarts",
        "--cycles",
        "2",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert (out / "snapshot_1.pt").is_file() and (out / "snapshot_2.pt").is_file()
    assert "snapshot ensemble of 2: accuracy" in text
    record = json.loads((out / "metrics.json").read_text())
    ensemble = record["ensemble"]
    assert ensemble["members"] == ["snapshot_1.pt", "snapshot_2.pt"]
    assert ensemble["beats_best_member"] == (
        ensemble["accuracy"] > max(ensemble["member_accuracy"])
    )
    assert record["accuracy"] == ensemble["accuracy"]
    # `classify eval` with the same checkpoints gives the same ensemble.
    code, text, _ = run_cli(
        capsys,
        "classify",
        "eval",
        "--checkpoint",
        str(out / "snapshot_1.pt"),
        str(out / "snapshot_2.pt"),
        "--out",
        str(tmp_path / "e"),
    )
    assert code == 0
    again = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert again["ensemble"]["accuracy"] == ensemble["accuracy"]


def test_snapshot_ensemble_uses_exactly_this_runs_snapshots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Stale files of an earlier run in the same --out: removed at the start of a fresh run,
    # never members. Ten cycles: the members come in cycle order (2 before 10), and the
    # metrics say what was evaluated.
    out = tmp_path / "restarts"
    out.mkdir()
    (out / "snapshot_11.pt").write_bytes(b"stale")
    (out / "snapshot_3.pt").write_bytes(b"stale")
    (out / "snapshot_notes.pt").write_bytes(b"not ours")  # not a snapshot name: kept
    code, _, err = run_cli(
        capsys, "classify", "train", "--epochs", "10", "--schedule", "restarts",
        "--cycles", "10", "--batch-size", "512", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    names = [f"snapshot_{k}.pt" for k in range(1, 11)]
    assert sorted(p.name for p in out.glob("snapshot_*.pt")) == sorted(
        [*names, "snapshot_notes.pt"]
    )
    record = json.loads((out / "metrics.json").read_text())
    assert record["ensemble"]["members"] == names
    assert record["evaluated"] == "snapshot ensemble of 10 (mean probabilities)"
    assert record["snapshots"] == [str(out / n) for n in names]
    assert record["last_checkpoint"] == str(out / "last.pt") and "checkpoint" not in record
    html = (out / "report.html").read_text()
    assert "snapshot ensemble of 10 (mean probabilities)" in html


def test_single_model_run_says_what_was_evaluated(trained: Path) -> None:
    record = json.loads((trained / "metrics.json").read_text())
    best = load_checkpoint(trained / "best.pt", kind="classifier")
    assert record["evaluated"] == f"best.pt (epoch {best['epoch']} of 3)"
    assert record["best_epoch"] == best["epoch"]
    assert record["checkpoint"] == str(trained / "best.pt")
    assert record["last_checkpoint"] == str(trained / "last.pt")
    rows = read_results_csv(trained / "results.csv")
    top1 = [row["metrics/accuracy_top1"] for row in rows]
    assert len(rows) == 3 and top1.index(max(top1)) + 1 == best["epoch"]
    assert record["accuracy"] == max(top1)  # the test split is the validation split


def interrupt_after_epoch_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the progress display stop training (as Ctrl-C would) after epoch 1."""
    original = TrainProgress.__call__

    def interrupt(self: TrainProgress, event: object) -> None:
        original(self, event)
        if event.kind == "epoch" and event.epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(TrainProgress, "__call__", interrupt)


def test_resumed_restarts_run_refuses_a_foreign_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["classify", "train", "--epochs", "2", "--schedule", "restarts", "--cycles", "2"]
    assert run_cli(capsys, *args, "--seed", "5", "--out", str(tmp_path / "other"))[0] == 0
    interrupt_after_epoch_one(monkeypatch)
    cut = tmp_path / "cut"
    assert run_cli(capsys, *args, "--out", str(cut))[0] == 130
    monkeypatch.undo()
    # snapshot_1 of another run (seed 5) takes the place of this run's
    (cut / "snapshot_1.pt").write_bytes((tmp_path / "other" / "snapshot_1.pt").read_bytes())
    code, _, err = run_cli(capsys, "classify", "train", "--resume", "--out", str(cut))
    assert_one_line_error(code, err, r"snapshot_1\.pt is not a snapshot of this run \(its seed")
    # (training finished meanwhile); a missing snapshot is named as well
    (cut / "snapshot_1.pt").unlink()
    code, _, err = run_cli(capsys, "classify", "train", "--resume", "--out", str(cut))
    assert_one_line_error(code, err, r"snapshot_1\.pt is missing")


def plant_temps(folder: Path) -> None:
    """The temporary files a run killed while writing its files would leave."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("last.pt", "snapshot_2.pt", "metrics.json", "predictions.csv", "roc_curves.png"):
        (folder / f".{name}.k1ll3d_0.tmp").write_bytes(b"half")


def test_resume_gives_the_uninterrupted_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["classify", "train", "--epochs", "2"]
    plant_temps(tmp_path / "whole")  # a fresh run removes them
    assert run_cli(capsys, *args, "--out", str(tmp_path / "whole"))[0] == 0
    assert not list((tmp_path / "whole").glob(".*.tmp"))
    interrupt_after_epoch_one(monkeypatch)
    code, _, err = run_cli(capsys, *args, "--out", str(tmp_path / "cut"))
    assert code == 130 and "interrupted" in err
    assert not (tmp_path / "cut" / "metrics.json").exists()
    monkeypatch.undo()
    plant_temps(tmp_path / "cut")  # and so does a resumed one
    code, _, err = run_cli(capsys, "classify", "train", "--resume", "--out", str(tmp_path / "cut"))
    assert code == 0, err
    assert not list((tmp_path / "cut").glob(".*.tmp"))
    whole = load_checkpoint(tmp_path / "whole" / "last.pt")["model"]
    resumed = load_checkpoint(tmp_path / "cut" / "last.pt")["model"]
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)


def test_cifar10_from_the_official_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tiny_folder(tmp_path / "data")
    code, _, err = run_cli(
        capsys,
        "classify",
        "train",
        "--data",
        "cifar10",
        "--model",
        "toy",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "run"),
    )
    assert code == 0, err
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["num_samples"] == 6 and "airplane" in record["per_class"]


# --- bad input: one line on stderr, exit code 2, earlier outputs intact ------------------


def test_cifar10_wrong_md5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tiny_archive(tmp_path / "cifar-10-python.tar.gz")
    code, _, err = run_cli(
        capsys,
        "classify",
        "train",
        "--data",
        "cifar10",
        "--data-dir",
        str(tmp_path),
        "--out",
        str(tmp_path / "run"),
    )
    assert_one_line_error(
        code, err, r"has md5 [0-9a-f]{32}, expected c58f30108f718f92721af3b95e74349a"
    )
    assert not (tmp_path / "run").exists()


def test_cifar10_truncated_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cifar-10-python.tar.gz"
    write_tiny_archive(path)
    path.write_bytes(path.read_bytes()[:100])
    code, _, err = run_cli(
        capsys, "classify", "train", "--data", "cifar10", "--data-dir", str(tmp_path)
    )
    assert_one_line_error(code, err, "incomplete or corrupt")


def test_cifar10_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys, "classify", "train", "--data", "cifar10", "--data-dir", str(tmp_path)
    )
    assert_one_line_error(code, err, r"CIFAR-10 not found in .*--download")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_gpu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, *QUICK, "--device", "cuda", "--out", str(tmp_path))
    assert_one_line_error(code, err, "no CUDA GPU is available")
    assert list(tmp_path.iterdir()) == []


def test_resume_from_another_model(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(trained)
    code, _, err = run_cli(
        capsys, "classify", "train", "--model", "toy", "--resume", str(trained / "last.pt")
    )
    assert_one_line_error(code, err, "checkpoint of model 'fast', not 'toy'")
    code, _, err = run_cli(
        capsys, "classify", "train", "--resume", str(trained / "last.pt"), "--epochs", "5"
    )
    assert_one_line_error(code, err, "drop --epochs")
    assert snapshot(trained) == before


def test_eval_checkpoint_of_another_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_checkpoint(tmp_path / "det.pt", "detector", {"model": {}})
    code, _, err = run_cli(capsys, "classify", "eval", "--checkpoint", str(tmp_path / "det.pt"))
    assert_one_line_error(code, err, "is a detector checkpoint, not a classifier checkpoint")
    (tmp_path / "junk.pt").write_bytes(b"\x00" * 50)
    code, _, err = run_cli(capsys, "classify", "eval", "--checkpoint", str(tmp_path / "junk.pt"))
    assert_one_line_error(
        code, err, r"junk\.pt is not a tinyvision checkpoint \(not a PyTorch file\)"
    )


def test_eval_checkpoint_on_other_data(trained: Path, tmp_path: Path, capsys) -> None:
    write_tiny_folder(tmp_path)
    code, _, err = run_cli(
        capsys,
        "classify",
        "eval",
        "--checkpoint",
        str(trained / "last.pt"),
        "--data",
        "cifar10",
        "--data-dir",
        str(tmp_path),
    )
    assert_one_line_error(code, err, r"expects images of shape \[1, 8, 8\].*\[3, 32, 32\]")


def test_eval_checkpoint_with_foreign_weights(trained: Path, tmp_path: Path, capsys) -> None:
    record = load_checkpoint(trained / "last.pt")
    record["model_kwargs"] = {**record["model_kwargs"], "widths": [32, 32]}
    save_checkpoint(tmp_path / "bad.pt", "classifier", record)
    code, _, err = run_cli(capsys, "classify", "eval", "--checkpoint", str(tmp_path / "bad.pt"))
    assert_one_line_error(code, err, "holds weights of another model than 'fast'")


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("prediction,0,1\n0,0.2,0.8\n", "no true-label column"),
        ("label,0,1\n0,0.2,zero\n", "'zero' is not a number"),
        ("label,0,1\n2,0.2,0.8\n", "label '2' is not one of the class columns"),
        ("label,0,1\n", "has a header but no rows: nothing to evaluate"),
        ("label,a,b\n\n0,0.2,x\n", r"line 3, column 'b': 'x' is not a number"),
    ],
)
def test_eval_bad_predictions_csv(tmp_path: Path, capsys, text: str, pattern: str) -> None:
    (tmp_path / "p.csv").write_text(text)
    code, _, err = run_cli(capsys, "classify", "eval", "--predictions", str(tmp_path / "p.csv"))
    assert_one_line_error(code, err, pattern)
    assert [p.name for p in tmp_path.iterdir()] == ["p.csv"]


def test_nan_loss_keeps_earlier_outputs(
    trained: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a loss that becomes NaN (--lr is at most 10 now, which does not diverge in one epoch)
    real = torch.nn.functional.cross_entropy
    monkeypatch.setattr(
        torch.nn.functional, "cross_entropy", lambda *a, **k: real(*a, **k) * float("nan")
    )
    before = snapshot(trained)
    code, _, err = run_cli(
        capsys, "classify", "train", "--model", "toy", "--epochs", "1", "--out", str(trained)
    )
    assert_one_line_error(code, err, r"training loss became (nan|inf) in epoch 1")
    assert snapshot(trained) == before


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_lines_otherwise() -> None:
    from tinyvision.train import TrainConfig, train_classifier
    from tinyvision.train.classify import TrainEvent

    assert TrainEvent  # the events both renderers read
    from test_train_classify import small_model, toy_data

    terminal, pipe = FakeTerminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = TrainProgress("toy", stream=stream)
        train_classifier(
            small_model(), toy_data(), TrainConfig(epochs=2, batch_size=32), callback=progress
        )
        progress.close()
    bar = terminal.getvalue()
    assert "6/6" in bar and "step" in bar and "\r" in bar  # tqdm: 3 steps x 2 epochs
    lines = pipe.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("toy: epoch 1/2  loss ")
    assert "accuracy" not in pipe.getvalue()  # no validation set
    validated = io.StringIO()
    progress = TrainProgress("toy", stream=validated)
    config = TrainConfig(epochs=2, batch_size=32)
    train_classifier(small_model(), toy_data(), config, val=toy_data(32, 1), callback=progress)
    first = validated.getvalue().splitlines()[0]
    assert "  accuracy_top1 0." in first and "  accuracy_top5 1.0000  (best)" in first
    quiet = io.StringIO()
    progress = TrainProgress("toy", stream=quiet, enabled=False)
    train_classifier(small_model(), toy_data(), TrainConfig(epochs=1), callback=progress)
    assert quiet.getvalue() == ""


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden folders too), by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))}


def poison_after_epoch(monkeypatch: pytest.MonkeyPatch, epoch: int) -> None:
    """Make the weights of the model being trained NaN after ``epoch`` (a later divergence)."""
    import tinyvision.nn.classifier as classifier

    built = []
    original_build, original_call = classifier.build_classifier, TrainProgress.__call__

    def build(*args, **kwargs):
        built.append(original_build(*args, **kwargs))
        return built[-1]

    def poison(self: TrainProgress, event) -> None:
        original_call(self, event)
        if event.kind == "epoch" and event.epoch == epoch:
            with torch.no_grad():
                for p in built[-1].parameters():
                    p.fill_(float("nan"))

    monkeypatch.setattr(classifier, "build_classifier", build)
    monkeypatch.setattr(TrainProgress, "__call__", poison)


RESTARTS = ["classify", "train", "--schedule", "restarts", "--cycles", "2"]


def test_later_failure_keeps_earlier_checkpoints_and_snapshots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    assert run_cli(capsys, *RESTARTS, "--epochs", "2", "--out", str(out))[0] == 0
    before = tree(out)
    assert {"last.pt", "snapshot_1.pt", "snapshot_2.pt", "metrics.json"} <= set(before)
    # A fresh run into the same --out that diverges in epoch 3 of 4, after it had written
    # last.pt (epochs 1, 2) and snapshot_1.pt (end of cycle 1).
    poison_after_epoch(monkeypatch, 2)
    code, _, err = run_cli(capsys, *RESTARTS, "--epochs", "4", "--seed", "1", "--out", str(out))
    assert_one_line_error(
        code, err, r"in epoch 3 .*; the earlier run's checkpoints in .*run were kept$"
    )
    assert tree(out) == before  # the same files, byte for byte; nothing left aside
    # ... and the same for a failure that is not a divergence
    monkeypatch.undo()
    original = TrainProgress.__call__

    def fail(self: TrainProgress, event) -> None:
        original(self, event)
        if event.kind == "epoch" and event.epoch == 3:
            raise OSError("disk full")

    monkeypatch.setattr(TrainProgress, "__call__", fail)
    code, _, err = run_cli(capsys, *RESTARTS, "--epochs", "4", "--seed", "1", "--out", str(out))
    assert code == 2 and "disk full" in err
    assert tree(out) == before
    # A successful fresh run replaces them (no stale snapshot_2 of the first run is left).
    monkeypatch.undo()
    assert run_cli(capsys, *RESTARTS, "--epochs", "4", "--cycles", "4", "--out", str(out))[0] == 0
    assert sorted(p for p in tree(out) if p.endswith(".pt")) == [
        "best.pt", "last.pt", "snapshot_1.pt", "snapshot_2.pt", "snapshot_3.pt", "snapshot_4.pt"
    ]  # fmt: skip
    assert load_checkpoint(out / "snapshot_2.pt")["config"]["epochs"] == 4


def test_interrupted_fresh_run_over_an_earlier_one_stays_resumable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    assert run_cli(capsys, *QUICK[:2], "--epochs", "1", "--out", str(out))[0] == 0
    interrupt_after_epoch_one(monkeypatch)
    assert run_cli(capsys, *QUICK[:2], "--epochs", "2", "--out", str(out))[0] == 130
    monkeypatch.undo()
    assert load_checkpoint(out / "last.pt")["epoch"] == 1  # the interrupted run's
    assert load_checkpoint(out / ".previous-run" / "last.pt")["config"]["epochs"] == 1
    code, _, err = run_cli(capsys, "classify", "train", "--resume", "--out", str(out))
    assert code == 0, err
    record = load_checkpoint(out / "last.pt")
    assert record["epoch"] == 2 and record["config"]["epochs"] == 2
    assert not (out / ".previous-run").exists()


@pytest.mark.parametrize("key", ["config", "mean", "optimizer", "epoch", "model", "data"])
def test_resume_from_an_incomplete_checkpoint(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    record = load_checkpoint(trained / "last.pt")
    del record[key]
    save_checkpoint(tmp_path / "last.pt", "classifier", record)
    code, _, err = run_cli(capsys, "classify", "train", "--resume", "--out", str(tmp_path))
    assert_one_line_error(code, err, rf"last\.pt lacks '{key}': it cannot resume training")


@pytest.mark.parametrize(
    ("key", "pattern"),
    [
        ("config", r"lacks 'config': it cannot rebuild the classifier"),
        ("mean", r"lacks 'mean'"),
        ("model", r"lacks 'model'"),
        ("image_shape", r"lacks 'image_shape'"),
    ],
)
def test_eval_an_incomplete_checkpoint(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, pattern: str
) -> None:
    record = load_checkpoint(trained / "last.pt")
    del record[key]
    save_checkpoint(tmp_path / "c.pt", "classifier", record)
    code, _, err = run_cli(capsys, "classify", "eval", "--checkpoint", str(tmp_path / "c.pt"))
    assert_one_line_error(code, err, r"c\.pt " + pattern)
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"mean": "0.5"}, r"'mean' should be list or tuple, not str"),
        ({"config": [1]}, r"'config' should be dict, not list"),
        ({"mean": [0.5, 0.5]}, r"'mean' should hold 1 finite numbers"),
        ({"image_shape": [1, 8]}, r"'image_shape' should be \[C, H, W\]"),
        ({"config": {"epochs": 0}}, r"training settings are invalid \(epochs must be >= 1"),
    ],
)
def test_checkpoint_with_wrong_types(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], changes, pattern
) -> None:
    record = {**load_checkpoint(trained / "last.pt"), **changes}
    save_checkpoint(tmp_path / "last.pt", "classifier", record)
    for argv in (["eval", "--checkpoint", str(tmp_path / "last.pt")], ["train", "--resume"]):
        code, _, err = run_cli(capsys, "classify", *argv, "--out", str(tmp_path))
        assert_one_line_error(code, err, r"last\.pt.*" + pattern)


def test_eval_refuses_to_overwrite_its_predictions_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pin = tmp_path / "pin"
    pin.mkdir()
    text = "label,a,b\na,0.25,0.75\nb,0.1,0.9\na,0.7,0.3\n"
    (pin / "predictions.csv").write_text(text)
    monkeypatch.chdir(tmp_path)
    for out in (str(pin), "pin", "pin/../pin", "./pin/"):
        code, _, err = run_cli(
            capsys, "classify", "eval", "--predictions", "pin/predictions.csv", "--out", out
        )
        pattern = r"--out: writing .*pin/predictions\.csv would replace the input --predictions"
        assert_one_line_error(code, err, pattern)
        assert [p.name for p in pin.iterdir()] == ["predictions.csv"]
        assert (pin / "predictions.csv").read_text() == text
    (tmp_path / "link").symlink_to(pin)
    code, _, err = run_cli(
        capsys, "classify", "eval", "--predictions", "pin/predictions.csv", "--out", "link"
    )
    assert_one_line_error(code, err, "would replace the input --predictions")
    # another --out is fine
    code, _, err = run_cli(
        capsys, "classify", "eval", "--predictions", "pin/predictions.csv", "--out", "e"
    )
    assert code == 0, err
    assert (tmp_path / "e" / "predictions.csv").is_file()


def test_eval_never_writes_over_an_input_of_any_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    text = "label,a,b\na,0.25,0.75\nb,0.1,0.9\n"
    for name in ("metrics.json", "report.html", "roc_curves.png"):
        (folder / name).write_text(text)
        code, _, err = run_cli(
            capsys, "classify", "eval", "--predictions", str(folder / name), "--out", str(folder)
        )
        assert_one_line_error(code, err, rf"writing .*{name} would replace the input --predictions")
        assert [p.name for p in folder.iterdir()] == [name]
        assert (folder / name).read_text() == text
        (folder / name).unlink()
    (folder / "metrics.json").write_bytes(b"a checkpoint with an odd name")
    code, _, err = run_cli(
        capsys,
        "classify",
        "eval",
        "--checkpoint",
        str(folder / "metrics.json"),
        "--out",
        str(folder),
    )
    assert_one_line_error(code, err, r"metrics\.json would replace the input --checkpoint")
    assert [p.name for p in folder.iterdir()] == ["metrics.json"]


def test_fine_tuning_from_a_runs_best_weights(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*QUICK[:2], "--epochs", "1", "--freeze", "1", "--out", str(tmp_path / "tuned")]
    code, out, err = run_cli(capsys, *argv, "--weights", str(trained / "best.pt"))
    assert code == 0, err
    assert f"weight tensors from {trained / 'best.pt'}" in out and "re-made" not in out
    tuned = read_results_csv(tmp_path / "tuned" / "results.csv")
    scratch = read_results_csv(trained / "results.csv")
    assert tuned[0]["metrics/accuracy_top1"] > scratch[0]["metrics/accuracy_top1"]
    code, _, err = run_cli(capsys, "classify", "train", "--resume", "--out", str(trained),
                           "--patience", "2")  # fmt: skip
    assert_one_line_error(code, err, "drop --patience")


@pytest.mark.parametrize(
    ("option", "pattern"),
    [
        (["--patience", "0"], r"--patience: must be an integer in 1\.\.100000, got 0"),
        (["--patience", "-3"], r"--patience: must be an integer in 1\.\.100000, got -3"),
        (["--val-every", "0"], r"--val-every: must be an integer in 1\.\.100000, got 0"),
        (["--freeze", "-1"], r"--freeze: must be an integer in 0\.\.1000, got -1"),
    ],
)
def test_engine_flags_are_checked_while_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str], pattern: str
) -> None:
    from _cli_helpers import assert_usage_error

    assert_usage_error(capsys, [*QUICK, "--out", str(tmp_path), *option], pattern)


def test_engine_flags_are_checked_before_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # CIFAR-10 is not in --data-dir: reading the data would be another error
    base = ["classify", "train", "--data", "cifar10", "--data-dir", str(tmp_path / "none"),
            "--out", str(tmp_path / "out")]  # fmt: skip
    code, _, err = run_cli(capsys, *base, "--epochs", "2", "--val-every", "3")
    assert_one_line_error(code, err, r"--val-every must be <= the epochs \(2\), got 3")
    code, _, err = run_cli(capsys, *base, "--weights", str(tmp_path / "missing.pt"))
    assert_one_line_error(code, err, r"--weights: checkpoint .*missing\.pt not found")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    code, _, err = run_cli(capsys, *base, "--weights", str(tmp_path / "text.pt"))
    assert_one_line_error(code, err, r"--weights: .*text\.pt is not a tinyvision checkpoint")
    save_checkpoint(tmp_path / "det.pt", "detector", {"model": {}})
    code, _, err = run_cli(capsys, *base, "--weights", str(tmp_path / "det.pt"))
    assert_one_line_error(code, err, r"--weights: .*det\.pt is a detector checkpoint, not a clas")
    assert not (tmp_path / "out").exists()
