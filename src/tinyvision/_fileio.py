"""Atomic file writes: a file is either its old content or its complete new content.

Everything tinyvision writes for a user (checkpoints, metrics.json, plots, reports, data
sets) goes through these helpers, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it over ``path``.

    ``mode`` is ``"wb"`` or ``"w"`` (text, UTF-8). Parent folders are created. On an
    exception the temporary file is removed and ``path`` is left as it was.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # name the file asked for, not the temporary one (a read-only folder)
        raise type(exc)(exc.errno, exc.strerror, os.fspath(target)) from exc
    try:
        # mkstemp makes the file owner-only; give it the mode a plain open() would.
        os.fchmod(fd, _default_mode(target))
        kwargs: dict[str, Any] = {} if mode == "wb" else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# The name mkstemp gives the temporary file of ``name``: ``.{name}.`` + 8 characters + ``.tmp``.
_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")


def remove_stale_temps(folder: str | os.PathLike[str], names: Iterable[str]) -> list[Path]:
    """Remove the temporary files that an interrupted :func:`atomic_open` left in ``folder``
    for the files ``names`` (patterns such as ``snapshot_*.pt`` allowed); return them.

    A process killed during a write leaves ``.{name}.XXXXXXXX.tmp`` beside ``name``; a run
    calls this for the files it writes before it writes them. Other files are left alone;
    a missing folder is no error.
    """
    patterns = list(names)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        if any(fnmatch.fnmatchcase(match["name"], p) for p in patterns):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return sorted(removed)


def _default_mode(target: Path) -> int:
    """The existing file's permissions, or 0o666 less the process umask for a new file."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Copy the file ``src`` to ``dst`` atomically (content only; parent folders are created)."""
    with open(src, "rb") as source, atomic_open(dst, "wb") as target:
        shutil.copyfileobj(source, target, 1 << 20)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> None:
    """Serialise ``obj`` as JSON (strict: NaN and inf become ``null``) and write atomically."""
    atomic_write_text(path, json.dumps(_json_safe(obj), indent=indent, allow_nan=False) + "\n")


def _json_safe(obj: Any) -> Any:
    """Turn numpy/torch scalars and arrays into plain Python; NaN/inf into None."""
    import math

    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return _json_safe(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A fresh folder beside ``target`` to write a multi-file output into; when the block
    succeeds its content takes ``target``'s place, as a whole.

    A ``target`` that does not exist (or is an empty folder) is replaced by one rename, so
    it is either absent or complete. An existing ``target`` with content keeps its other
    files: the new ones are moved in, each by a rename, after every one was written, and
    replace those of the same name. On an exception the staging folder is removed and
    ``target`` is left as it was. Staging folders that a killed earlier call left for the
    same ``target`` (``.{name}.staging-XXXXXXXX``) are removed first.
    """
    final = Path(target)
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{final.name}.staging-"
    leftover = re.compile(re.escape(prefix) + r"[a-z0-9_]{8}")  # mkdtemp's naming
    for entry in os.scandir(parent):
        if leftover.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
    stage = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes it owner-only
        yield stage
        _move_into(stage, final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _move_into(stage: Path, final: Path) -> None:
    """Put the staged content in ``final``: one rename when ``final`` is absent or an empty
    folder, else file by file (folders created as needed); ``stage`` is gone afterwards."""
    empty = final.is_dir() and not final.is_symlink() and not any(final.iterdir())
    if empty or not (final.exists() or final.is_symlink()):
        if empty:
            final.rmdir()
        os.rename(stage, final)
        return
    if not final.is_dir():
        raise NotADirectoryError(f"{final} is a file, not a folder")
    for folder, _, files in os.walk(stage):
        relative = Path(folder).relative_to(stage)
        (final / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            os.replace(Path(folder) / name, final / relative / name)
    shutil.rmtree(stage)
