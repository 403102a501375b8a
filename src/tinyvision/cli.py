"""The `tinyvision` command line: an argparse front over the library.

User mistakes (bad arguments, unreadable or malformed files, invalid values) end with one
line on stderr and exit code 2, never a traceback; so does running out of memory (a
``MemoryError``, PyTorch's allocator failing) or a number too large (``OverflowError``). A
command group without its sub-command (``tinyvision detect``) is a usage error too. Set
``TINYVISION_DEBUG=1`` to see the traceback anyway.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys
import typing
from collections.abc import Sequence

from tinyvision import __version__
from tinyvision._errors import UserError

PROG = "tinyvision"

# Errors that mean "the user asked for something that cannot be done", as opposed to bugs.
USER_ERRORS: tuple[type[BaseException], ...] = (
    UserError,
    ValueError,
    TypeError,
    OSError,  # missing, unreadable or unwritable files, a full disk, ... (after BrokenPipeError)
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the full parser, with one sub-command per module in :mod:`tinyvision._cli`."""
    parser = _Parser(
        prog=PROG,
        description="Train and evaluate image classifiers and small object detectors.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")
    from tinyvision import _cli

    for info in sorted(pkgutil.iter_modules(_cli.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"tinyvision._cli.{info.name}")
        module.register(subparsers)
    return parser


def _fail(message: str) -> int:
    first_line = str(message).strip().splitlines()[0] if str(message).strip() else "error"
    print(f"{PROG}: error: {first_line}", file=sys.stderr)
    return 2


def _chosen_parser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction | None]:
    """The innermost (sub-)command parser that ``args`` chose, and its sub-command action
    when it is a group whose sub-command was not given (else None)."""
    while True:
        groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not groups:
            return parser, None
        chosen = getattr(args, groups[0].dest, None)
        if chosen is None:
            return parser, groups[0]
        parser = groups[0].choices[chosen]


def _require_subcommand(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A command group without its sub-command (``tinyvision detect``): one usage line."""
    group, missing = _chosen_parser(parser, args)
    if missing is not None and group is not parser:
        group.error(f"choose a subcommand: {', '.join(missing.choices)}")


# PyTorch reports a failed allocation as a RuntimeError; only these messages are taken as
# "out of memory" (any other RuntimeError is a bug and keeps its traceback).
_ALLOCATION_FAILED = re.compile(
    r"DefaultCPUAllocator|can't allocate memory|not enough memory: you tried to allocate"
    r"|CUDA out of memory|MPS backend out of memory"
)


def _resource_failure(exc: BaseException) -> str | None:
    """One line for running out of memory or a number too large, else None."""
    text = str(exc).strip()
    detail = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, MemoryError):
        return f"out of memory ({detail}); try smaller sizes or fewer items"
    if isinstance(exc, RuntimeError) and _ALLOCATION_FAILED.search(text):
        where = "GPU memory" if "CUDA" in text or "MPS" in text else "memory"
        return f"out of {where} ({detail}); try smaller sizes or fewer items"
    if isinstance(exc, OverflowError):
        return f"a number is too large ({detail})"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _require_subcommand(parser, args)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # The reader went away (e.g. `tinyvision demo | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        if os.environ.get("TINYVISION_DEBUG"):
            raise
        return _fail(str(exc) or type(exc).__name__)
    except (MemoryError, RuntimeError, OverflowError) as exc:
        message = _resource_failure(exc)
        if message is None or os.environ.get("TINYVISION_DEBUG"):
            raise
        return _fail(message)
