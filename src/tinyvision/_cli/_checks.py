"""Checks and messages shared by the CLI commands: output folders checked before any work,
library warnings shown as one ``tinyvision: warning: ...`` line each."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from tinyvision._errors import UserError

__all__ = ["check_out", "same_file", "warnings_as_lines"]


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


def same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` name the same file (through links, ``..``, a relative path or, on a
    case-insensitive file system, another case)."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


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
