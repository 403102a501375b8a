"""Helpers for the CLI tests: run `main(argv)` capturing its output, check one-line errors."""

from __future__ import annotations

import re

import pytest

from tinyvision.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``tinyvision *argv``."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, pattern: str) -> None:
    """A user mistake: exit code 2 and one ``tinyvision: error:`` line matching ``pattern``."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tinyvision: error: ")
    assert re.search(pattern, lines[0]), lines[0]
