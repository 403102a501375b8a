"""pycocotools' progress lines, which callers inside the library switch off per context
(``quiet()``) instead of redirecting the process's stdout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_QUIET: ContextVar[bool] = ContextVar("tinyvision_coco_quiet", default=False)


def say(*args: Any) -> None:
    """``print(*args)`` unless inside :func:`quiet`."""
    if not _QUIET.get():
        print(*args)


@contextmanager
def quiet() -> Iterator[None]:
    """No progress lines from COCO/COCOeval in this context (thread- and task-local)."""
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)
