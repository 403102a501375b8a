"""Checks and messages shared by the CLI commands: output folders checked before any work,
outputs that would replace an input refused, library warnings shown as one
``tinyvision: warning: ...`` line each."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from tinyvision._errors import UserError

__all__ = [
    "check_not_inside",
    "check_out",
    "refuse_overwrite",
    "warnings_as_lines",
]


def check_out(out: Path, flag: str = "--out") -> None:
    """Create the folder ``out`` and make sure files can be written there, before the work
    starts; else one :class:`UserError` naming ``flag``."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{flag} {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise UserError(f"{flag} {out} is not writable ({exc.strerror or exc})") from exc


def _file_key(path: Path) -> tuple[int, int] | None:
    """``(device, inode)`` of an existing file (links followed), else None."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def refuse_overwrite(
    outputs: Iterable[tuple[str, Path]], inputs: Iterable[tuple[str, Path]]
) -> None:
    """Refuse, before any work, an output file that is one of the input files.

    ``outputs`` and ``inputs`` are ``(flag, path)`` pairs: the option a path comes from
    (``--out``) and the file. "The same file" is judged through links, ``..``, relative
    paths and (by device and inode) another case of the name, in time linear in the counts.

    Raises:
        UserError: naming the output's flag and path and the input's flag and path.
    """
    by_path: dict[Path, tuple[str, Path]] = {}
    by_key: dict[tuple[int, int], tuple[str, Path]] = {}
    for flag, path in inputs:
        by_path.setdefault(Path(os.path.realpath(path)), (flag, path))
        key = _file_key(path)
        if key is not None:
            by_key.setdefault(key, (flag, path))
    for out_flag, out in outputs:
        clash = by_path.get(Path(os.path.realpath(out)))
        if clash is None and by_key:
            key = _file_key(out)
            clash = by_key.get(key) if key is not None else None
        if clash is not None:
            in_flag, path = clash
            raise UserError(
                f"{out_flag}: writing {out} would replace the input {in_flag} {path}; "
                f"choose another {out_flag}"
            )


def check_not_inside(out: Path, out_flag: str, inputs: Iterable[tuple[str, Path]]) -> None:
    """Refuse an output folder ``out`` that is, or contains, one of the input files or
    folders (``(flag, path)`` pairs): writing it could replace what is being read.

    Compared through links, ``..`` and (``out`` existing) another case of a name.

    Raises:
        UserError: naming ``out_flag`` and the input's flag and path.
    """
    folder = Path(os.path.realpath(out))
    folder_key = _file_key(out)
    keys: dict[Path, tuple[int, int] | None] = {}  # folders already looked at
    for flag, path in inputs:
        resolved = Path(os.path.realpath(path))
        chain = [resolved, *resolved.parents]
        if folder_key is not None:
            for p in chain:
                if p not in keys:
                    keys[p] = _file_key(p)
            hit = next((p for p in chain if keys[p] == folder_key), None)
        else:
            hit = next((p for p in chain if p == folder), None)
        if hit is not None:
            what = "is" if hit == resolved else "contains"
            raise UserError(
                f"{out_flag} {out} {what} the input {flag} {path}: the output would replace "
                f"it; choose another {out_flag}"
            )


@contextlib.contextmanager
def warnings_as_lines(category: type[Warning] = UserWarning) -> Iterator[None]:
    """Show warnings of ``category`` raised inside as ``tinyvision: warning: <message>``
    lines on stderr; other warnings pass on unchanged.

    Both happen after the block (also when it fails), once per distinct warning as Python's
    default filter shows them, and outside the recording: a warning passed on is never
    recorded again (re-issuing it inside the block looped for ever)."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            caught = recorded
            warnings.simplefilter("always")
            yield
    finally:
        _pass_on(caught, category)


def _pass_on(caught: list[warnings.WarningMessage], category: type[Warning]) -> None:
    """Print the recorded warnings of ``category``, re-issue the others; each once."""
    seen: set[tuple[object, ...]] = set()
    for warning in caught:
        ours = issubclass(warning.category, category)
        text = str(warning.message)
        key = (text,) if ours else (warning.category, text, warning.filename, warning.lineno)
        if key in seen:
            continue
        seen.add(key)
        if ours:
            print(f"tinyvision: warning: {text}", file=sys.stderr)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
