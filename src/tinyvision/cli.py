"""The `tinyvision` command line: an argparse front over the library.

User mistakes (bad arguments, unreadable or malformed files, invalid values) end with one
line on stderr and exit code 2, never a traceback. Set ``TINYVISION_DEBUG=1`` to see the
traceback anyway.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0 if args.command is None else 2
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
