"""`tinyvision nms-demo` and the synthetic scene behind it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from _cli_helpers import assert_usage_error
from tinyvision.cli import main
from tinyvision.data.synthetic import clustered_detections


def _run_demo(capsys: pytest.CaptureFixture[str], out: Path, *extra: str) -> str:
    code = main(["nms-demo", "--out", str(out), "--objects", "4", "--per-object", "12", *extra])
    assert code == 0
    return capsys.readouterr().out


def test_demo_prints_a_table_and_writes_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run_demo(capsys, tmp_path / "demo")
    png = tmp_path / "demo" / "nms_demo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {png}" in out
    assert re.search(r"object\s+class\s+candidates\s+kept", out)
    total = re.search(r"total\s+(\d+)\s+(\d+)", out)
    assert total is not None and 0 < int(total.group(2)) < int(total.group(1))


def test_demo_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def table(text: str) -> str:
        return text.split("\n\n")[1]  # the table, without the timings

    first = table(_run_demo(capsys, tmp_path / "a", "--seed", "3"))
    second = table(_run_demo(capsys, tmp_path / "b", "--seed", "3"))
    other = table(_run_demo(capsys, tmp_path / "c", "--seed", "4"))
    assert first == second
    assert first != other


def test_demo_bad_argument_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["nms-demo", "--out", str(tmp_path)]
    assert_usage_error(capsys, [*argv, "--iou-threshold", "2"], r"--iou-threshold: .* \[0, 1\]")
    assert_usage_error(capsys, [*argv, "--seed", "-1"], r"--seed: .* 0\.\.4294967295, got -1")
    assert_usage_error(capsys, [*argv, "--objects", "0"], r"--objects: .* 1\.\.200, got 0")
    assert not (tmp_path / "nms_demo.png").exists()


def test_clustered_detections_are_seeded_and_inside_the_image() -> None:
    a = clustered_detections(5, 10, num_classes=3, seed=1, image_size=(100, 200))
    b = clustered_detections(5, 10, num_classes=3, seed=1, image_size=(100, 200))
    c = clustered_detections(5, 10, num_classes=3, seed=2, image_size=(100, 200))
    assert torch.equal(a.boxes, b.boxes) and torch.equal(a.scores, b.scores)
    assert not torch.equal(a.boxes, c.boxes)
    assert a.boxes.shape == (55, 4)  # 5 * 10 around objects + 10% background
    assert a.objects.shape == (5, 4) and a.image_size == (100, 200)
    assert bool((a.boxes[:, 0::2] >= 0).all() and (a.boxes[:, 0::2] <= 200).all())
    assert bool((a.boxes[:, 1::2] >= 0).all() and (a.boxes[:, 1::2] <= 100).all())
    assert bool(((a.scores > 0) & (a.scores < 1)).all())
    assert set(a.labels.tolist()) <= {0, 1, 2}
    assert (a.source == -1).sum() == 5
