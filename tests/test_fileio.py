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


def test_remove_stale_temps_removes_only_the_temps_of_the_names_given(tmp_path: Path) -> None:
    from tinyvision._fileio import remove_stale_temps

    # The temp name atomic_open really uses, seen while it writes; left behind as a kill would.
    with atomic_open(tmp_path / "last.pt", "wb") as handle:
        handle.write(b"x")
        (temp,) = (p.name for p in tmp_path.iterdir() if p.name != "last.pt")
    (tmp_path / temp).write_bytes(b"half")
    stale = [temp, ".snapshot_3.pt.k2_9abcd.tmp", ".metrics.json.0123abcd.tmp"]
    kept = [
        "last.pt",
        ".last.pt.tmp",  # not mkstemp's naming (no random part)
        ".notes.txt.abcdefgh.tmp",  # a temp of a file not named
        ".last.pt.abcdefgh.tmp.bak",
        "last.pt.abcdefgh.tmp",  # no leading dot
    ]
    for name in stale[1:] + kept[1:]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".metrics.json.zzzzzzzz.tmp").mkdir()  # a folder is not a temp file
    removed = remove_stale_temps(tmp_path, ["last.pt", "snapshot_*.pt", "metrics.json"])
    assert sorted(p.name for p in removed) == sorted(stale)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*kept, ".metrics.json.zzzzzzzz.tmp"])
    assert remove_stale_temps(tmp_path / "missing", ["last.pt"]) == []


def test_staged_folder_is_all_or_nothing_and_gets_the_usual_mode(tmp_path: Path) -> None:
    import os
    import stat

    from tinyvision._fileio import staged_folder

    target = tmp_path / "set"
    with pytest.raises(RuntimeError), staged_folder(target) as stage:
        (stage / "a.txt").write_text("half")
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no target, no staging folder
    old = os.umask(0o022)
    try:
        with staged_folder(target) as stage:
            (stage / "sub").mkdir()
            (stage / "sub" / "a.txt").write_text("new")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o755  # not mkdtemp's 0o700
    (target / "keep.txt").write_text("mine")
    with staged_folder(target) as stage:
        (stage / "sub").mkdir()
        (stage / "sub" / "a.txt").write_text("newer")
        (stage / "b.txt").write_text("b")
    assert (target / "sub" / "a.txt").read_text() == "newer"
    assert (target / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]
