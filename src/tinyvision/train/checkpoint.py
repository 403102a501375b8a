"""Checkpoints: a dict of tensors and plain values, written atomically, read back safely.

Every checkpoint carries ``format`` (``"tinyvision"``), ``kind`` (``"classifier"``,
``"detector"``, ...) and ``version``, so loading can tell a foreign or mismatched file
from a good one with one clear line. Files are read with ``torch.load(weights_only=True)``:
no code runs when a checkpoint is opened.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from tinyvision._errors import UserError
from tinyvision._fileio import atomic_write_bytes

__all__ = ["FORMAT", "load_checkpoint", "save_checkpoint"]

FORMAT = "tinyvision"
VERSION = 1


def save_checkpoint(path: str | os.PathLike[str], kind: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (tensors, state dicts, numbers, strings, lists, dicts) to ``path``.

    The file is complete or absent: it is written to a temporary name and renamed.
    Returns the path.
    """
    record = {"format": FORMAT, "kind": kind, "version": VERSION, **payload}
    buffer = io.BytesIO()
    torch.save(record, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    kind: str | None = None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; check its ``kind`` if given.

    Raises:
        UserError: missing file, not a tinyvision checkpoint, or a checkpoint of another kind.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} not found")
    with open(path, "rb") as file:
        head = file.read(4)
    # torch.save writes a zip archive; a bare pickle (the legacy format) starts with 0x80
    if head != b"PK\x03\x04" and head[:1] != b"\x80":
        raise UserError(f"{path} is not a tinyvision checkpoint (not a PyTorch file)")
    try:
        record = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's own text advises weights_only=False, which would run the file's code
        raise UserError(
            f"{path} is not a tinyvision checkpoint (it holds Python objects other than "
            "tensors and plain values)"
        ) from exc
    except (zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as exc:
        raise UserError(
            f"{path} is not a readable checkpoint (truncated or damaged: {_first_clause(exc)})"
        ) from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise UserError(f"{path} is not a tinyvision checkpoint")
    if kind is not None and record.get("kind") != kind:
        raise UserError(f"{path} is a {record.get('kind')} checkpoint, not a {kind} checkpoint")
    if record.get("version", 0) > VERSION:
        raise UserError(
            f"{path} was written by a newer tinyvision (format version {record['version']})"
        )
    return record


def _first_clause(exc: BaseException) -> str:
    """The start of an exception's message: its first line up to the first full stop."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    return text.splitlines()[0].split(". ")[0].rstrip(".")
