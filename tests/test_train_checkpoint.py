"""Checkpoints: a round trip, and one clear line for files that are not checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tinyvision._errors import UserError
from tinyvision.train.checkpoint import load_checkpoint, save_checkpoint


def test_round_trip_and_kind(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", "detector", {"w": torch.ones(2), "epoch": 3})
    record = load_checkpoint(path, kind="detector")
    assert record["epoch"] == 3 and record["format"] == "tinyvision"
    torch.testing.assert_close(record["w"], torch.ones(2))
    with pytest.raises(UserError, match="is a detector checkpoint, not a classifier checkpoint"):
        load_checkpoint(path, kind="classifier")


def test_files_that_are_not_checkpoints(tmp_path: Path) -> None:
    text = tmp_path / "data.yaml"
    text.write_text("x\n")  # torch read it as a pickle and advised weights_only=False
    objects = tmp_path / "objects.pt"
    torch.save({"path": Path("x")}, objects)  # a pickled Path: refused by weights_only
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    good = save_checkpoint(tmp_path / "good.pt", "detector", {"w": torch.ones(100)})
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    cases = [
        (text, r"data\.yaml is not a tinyvision checkpoint \(not a PyTorch file\)$"),
        (objects, r"objects\.pt is not a tinyvision checkpoint \(it holds Python objects"),
        (foreign, r"foreign\.pt is not a tinyvision checkpoint$"),
        (truncated, r"truncated\.pt is not a readable checkpoint \(truncated or damaged: "),
        (tmp_path / "missing.pt", r"checkpoint .*missing\.pt not found"),
    ]
    for path, pattern in cases:
        with pytest.raises(UserError, match=pattern) as info:
            load_checkpoint(path)
        message = str(info.value)
        assert "\n" not in message and "weights_only" not in message, message
