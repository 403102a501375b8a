"""Atomic writes leave either the old or the complete new file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tinyvision._fileio import atomic_open, atomic_write_json, atomic_write_text


def test_atomic_write_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.txt"
    atomic_write_text(target, "hello")
    assert target.read_text() == "hello"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_keeps_old_content_and_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_json_converts_numpy_and_nan(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    atomic_write_json(target, {"a": np.float64(0.5), "b": np.arange(3), "c": math.nan})
    assert json.loads(target.read_text()) == {"a": 0.5, "b": [0, 1, 2], "c": None}


def test_bad_mode() -> None:
    with pytest.raises(ValueError, match="mode"), atomic_open("x", "a"):
        pass


def test_new_file_gets_umask_mode_and_existing_mode_is_kept(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        target = tmp_path / "new.txt"
        atomic_write_text(target, "x")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        os.chmod(target, 0o600)
        atomic_write_text(target, "y")
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_folder_that_refuses_files_is_named_with_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    # what mkstemp raises in a read-only folder (root writes anyway, so it is simulated)
    def refuse(*args: object, dir: str = "", **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", f"{dir}/.out.txt.ab12cd.tmp")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as info:
        atomic_write_text(tmp_path / "out.txt", "hello")
    assert str(info.value) == f"[Errno 13] Permission denied: '{tmp_path / 'out.txt'}'"
