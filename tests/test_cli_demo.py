"""`tinyvision demo` (the classifier demo) end to end, with shortened recipes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import tinyvision._cli.demo as demo
import tinyvision.train.recipes as recipes
from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision.cli import main


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
    tiny["close_mosaic"] = 0
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
    assert "the tiny detector on 16 shapes images for 1 epochs" in out and "mAP@0.5 " in out
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
