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


def assert_usage_error(capsys: pytest.CaptureFixture[str], argv: list[str], pattern: str) -> str:
    """A mistake on the command line, caught while parsing (before any work): exit code 2,
    nothing on stdout, one ``tinyvision CMD: error:`` line on stderr matching ``pattern``."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert info.value.code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.match(r"tinyvision( [a-z-]+)*: error: ", lines[0]), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]
