"""The CLI front: help, version, module entry point and one-line user errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _cli_helpers import assert_one_line_error, assert_usage_error, run_cli
from tinyvision import __version__
from tinyvision.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _run_module(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.run(
        [sys.executable, "-m", "tinyvision", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tinyvision {__version__}"


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "version" in out
    assert "usage: tinyvision" in out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: tinyvision" in capsys.readouterr().out


def test_unknown_command_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "no-such-command" in err


def test_python_dash_m_matches_main() -> None:
    proc = _run_module("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"tinyvision {__version__}"
    proc = _run_module("bogus")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_version_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    out = capsys.readouterr().out
    assert f"tinyvision {__version__}" in out
    assert "torch" in out


def test_closed_stdout_pipe_is_not_a_traceback() -> None:
    # The reader closes the pipe before the command (which imports torch first) writes.
    env = dict(os.environ, PYTHONPATH=SRC)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinyvision", "version"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err
    assert proc.returncode in (0, 141)


def test_os_errors_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from tinyvision._cli import version

    def failing(args: argparse.Namespace) -> int:
        raise FileExistsError(17, "File exists", str(tmp_path / "out"))

    monkeypatch.setattr(version, "run", failing)
    assert main(["version"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "File exists" in err


def test_warnings_as_lines_passes_other_warnings_on_once_after_the_block(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    from tinyvision._cli._checks import warnings_as_lines

    # A guard, not the check: re-issuing a warning inside the recording block recorded it
    # again for ever (24 GB in minutes); stop such a loop at the 100th re-issue.
    reissue = warnings.warn_explicit
    calls = []

    def counted(*args: object, **kwargs: object) -> None:
        calls.append(args)
        if len(calls) > 100:
            raise AssertionError("warnings_as_lines re-issues warnings in a loop")
        reissue(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(warnings, "warn_explicit", counted)
    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter("always")
        with warnings_as_lines():
            for _ in range(3):  # one line, as Python's default filter shows it
                warnings.warn("overflow in a reader", RuntimeWarning, stacklevel=1)
                warnings.warn("a user-facing note", UserWarning, stacklevel=1)
            assert outside == []  # passed on after the block, not inside it
    assert [(w.category, str(w.message)) for w in outside] == [
        (RuntimeWarning, "overflow in a reader")
    ]
    assert capsys.readouterr().err == "tinyvision: warning: a user-facing note\n"


def test_warnings_as_lines_shows_them_when_the_block_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import warnings

    from tinyvision._cli._checks import warnings_as_lines

    with pytest.raises(ValueError, match="bad"), warnings_as_lines():
        warnings.warn("before the failure", UserWarning, stacklevel=1)
        raise ValueError("bad")
    assert capsys.readouterr().err == "tinyvision: warning: before the failure\n"


@pytest.mark.parametrize(
    ("group", "subcommands"),
    [
        ("classify", "train, eval, predict, export"),
        ("detect", "convert, eval, export, predict, train"),
    ],
)
def test_a_group_without_its_subcommand_is_one_usage_line(
    capsys: pytest.CaptureFixture[str], group: str, subcommands: str
) -> None:
    line = assert_usage_error(capsys, [group], "choose a subcommand")
    assert line.startswith(f"tinyvision {group}: error: choose a subcommand: {subcommands}")
    assert line.endswith(f"(see 'tinyvision {group} --help')")


def _failing_version(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    import argparse

    from tinyvision._cli import version

    def failing(args: argparse.Namespace) -> int:
        raise exc

    monkeypatch.setattr(version, "run", failing)


@pytest.mark.parametrize(
    ("exc", "pattern"),
    [
        # what numpy raises (a MemoryError subclass), with its own message
        (MemoryError("Unable to allocate 7.45 TiB for an array"), r"out of memory \(Unable"),
        (
            RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough "
                "memory: you tried to allocate 409600000000 bytes."
            ),
            r"out of memory \(\[enforce fail.*409600000000 bytes",
        ),
        (RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB"), "out of GPU memory"),
        (OverflowError("Python int too large to convert to C long"), "a number is too large"),
    ],
)
def test_resource_failures_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    pattern: str,
) -> None:
    _failing_version(monkeypatch, exc)
    monkeypatch.delenv("TINYVISION_DEBUG", raising=False)
    code, _, err = run_cli(capsys, "version")
    assert_one_line_error(code, err, pattern)
    monkeypatch.setenv("TINYVISION_DEBUG", "1")
    with pytest.raises(type(exc)):
        main(["version"])


def test_other_runtime_errors_keep_their_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    # a bug, not a resource failure: the traceback is what a report needs
    _failing_version(monkeypatch, RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        main(["version"])
