"""`tinyvision demo` (the classifier demo) end to end, with shortened recipes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import tinyvision._cli.demo as demo
import tinyvision.train.recipes as recipes
from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision.cli import main
from tinyvision.train.detect import DetectTrainConfig

# The demo's detector settings whose mAP README quotes (seeds 0-2, 1 and 2 PyTorch threads,
# AVX2 and AVX-512, all >= 0.85): a change to them needs those measurements again.
PINNED = {
    "train": 800,
    "val": 100,
    "img_size": 128,
    "min_size": 20.0,
    "max_size": 52.0,
    "max_objects": 4,
    "epochs": 16,
    "close_mosaic": 4,
    "batch_size": 16,
    "width": 16,
}


def test_demo_trains_compares_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    full = recipes.get_recipe

    def short(model: str, data: str, variant: str = "tuned") -> recipes.Recipe:
        recipe = full(model, data, variant)
        epochs = 1  # the demo's restarts run makes it 3 cycles of 1 epoch
        config = dataclasses.replace(
            recipe.config, epochs=epochs, batch_size=max(recipe.config.batch_size, 64)
        )
        return dataclasses.replace(recipe, config=config)

    monkeypatch.setattr(recipes, "get_recipe", short)
    tiny = {"train": 16, "val": 8, "img_size": 64, "epochs": 1, "batch_size": 8, "width": 4}
    tiny.update(close_mosaic=0, min_size=10.0, max_size=26.0, max_objects=3)
    monkeypatch.setattr(demo, "DETECTOR_DEMO", tiny)
    data = str(tmp_path / "data")
    assert main(["demo", "--out", str(tmp_path), "--seeds", "2", "--data-dir", data]) == 0
    out = capsys.readouterr().out
    assert "FastNet  our fast recipe, mean of 2 seeds" in out
    assert "ToyNet   the notes' settings" in out and "ToyNet   our trainer" in out
    assert "snapshot ensemble" in out and "its best member" in out
    summary = json.loads((tmp_path / "demo.json").read_text())
    per_seed = summary["fast_recipe"]["accuracy_per_seed"]
    assert len(per_seed) == 2 and summary["fast_recipe"]["mean_accuracy"] == sum(per_seed) / 2
    ensemble = summary["snapshot_ensemble"]
    assert ensemble["members"] == ["snapshot_1.pt", "snapshot_2.pt", "snapshot_3.pt"]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["accuracy"] == per_seed[0]  # the report evaluates the fast recipe, seed 0
    html = (tmp_path / "report.html").read_text()
    assert "<h2>Comparison</h2>" in html and "<h2>Snapshot ensemble</h2>" in html
    for run in ("fast-seed0", "fast-seed1", "toy-notes", "toy-tuned", "fast-restarts"):
        assert (tmp_path / run / "last.pt").is_file()
    # the detector part: a short `detect train` with its own report
    assert "the tiny detector on 16 images of an easier shapes set (1-3 objects of 10-26 px;" in out
    assert "for 1 epochs" in out and "mAP@0.5 " in out
    detector = json.loads((tmp_path / "detector" / "metrics.json").read_text())
    assert summary["detector"]["map50"] == detector["map50"]
    assert summary["detector"]["map50_95"] == detector["map50_95"]
    assert (tmp_path / "detector" / "report.html").is_file()
    # ... and the main report shows the detector's numbers and points to its own report
    html = (tmp_path / "report.html").read_text()
    assert "<h2>Comparison</h2>" in html and "Detector (details in detector/report.html)" in html
    assert f"{round(detector['map50'], 4)}" in html
    assert out.count("macro F1") == 1  # the evaluation is printed once
    assert f"and {tmp_path / 'detector' / 'report.html'} (detector)" in out
    assert (tmp_path / "data" / "shapes-demo" / "data.yaml").is_file()


def test_demo_detector_passes_its_settings_and_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tinyvision.train.runs as runs
    from tinyvision.data.shapes import ShapesConfig
    from tinyvision.train.distributed import DistContext

    jobs = []

    def fake_data(job: runs.DetectJob, ctx: object, skip_bad: bool) -> object:
        jobs.append(job)
        return None

    def fake_train(job: runs.DetectJob, ctx: object, data: object, progress: object) -> object:
        return SimpleNamespace(map50=0.9, map50_95=0.6)

    monkeypatch.setattr(runs, "load_detect_data", fake_data)
    monkeypatch.setattr(runs, "train_detect_job", fake_train)
    summary = demo._detector(tmp_path / "det", DistContext(), str(tmp_path / "data"), seed=2)
    (job,) = jobs
    data_dir = job.data_dir
    settings = demo.DETECTOR_DEMO
    assert (job.seed, job.config.seed) == (2, 2)  # weights, order and augmentation
    assert (job.config.epochs, job.config.batch_size) == (
        settings["epochs"],
        settings["batch_size"],
    )
    assert job.config.close_mosaic == settings["close_mosaic"]
    assert job.config.img_size == settings["img_size"] and job.width == settings["width"]
    # the rest of the training settings are `detect train`'s defaults
    defaults = DetectTrainConfig()
    assert (job.config.lr, job.config.ema_tau, job.config.loss) == (
        defaults.lr,
        defaults.ema_tau,
        defaults.loss,
    )
    shapes = ShapesConfig(**job.shapes)
    assert (shapes.train, shapes.val, shapes.image_size) == (
        settings["train"],
        settings["val"],
        settings["img_size"],
    )
    assert (shapes.min_size, shapes.max_size, shapes.max_objects) == (
        settings["min_size"],
        settings["max_size"],
        settings["max_objects"],
    )
    assert job.shapes_folder == "shapes-demo" and data_dir == str(tmp_path / "data")
    assert summary["map50"] == 0.9 and summary["map50_95"] == 0.6
    assert summary["epochs"] == settings["epochs"]
    out = capsys.readouterr().out
    assert f"on {settings['train']} images of an easier shapes set" in out


def test_demo_detector_recipe_is_the_measured_one() -> None:
    assert demo.DETECTOR_DEMO == PINNED
