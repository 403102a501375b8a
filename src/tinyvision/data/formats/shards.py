"""Match shards of a distributed evaluation: one ``.npz`` per process
(:func:`write_matches`), merged on reading (:func:`read_matches`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from tinyvision._errors import UserError
from tinyvision._fileio import (
    atomic_open,
)
from tinyvision._validate import check_instance
from tinyvision.data.formats._common import PathLike
from tinyvision.metrics.coco import ImageMatches, merge_matches

__all__ = [
    "read_matches",
    "write_matches",
]


def write_matches(matches: ImageMatches, path: PathLike) -> Path:
    """Write one process's :class:`ImageMatches` as an ``.npz`` shard."""
    check_instance(matches, ImageMatches, "matches")
    with atomic_open(path, "wb") as handle:
        np.savez(handle, **matches.to_arrays())
    return Path(path)


def read_matches(paths: Iterable[PathLike]) -> ImageMatches:
    """Read shards written by :func:`write_matches` and merge them."""
    shards = []
    for path in paths:
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                shards.append(ImageMatches.from_arrays({k: data[k] for k in data.files}))
        except (OSError, ValueError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise UserError(f"{path}: not a match shard ({exc})") from None
    return merge_matches(shards)
