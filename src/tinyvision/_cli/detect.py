"""`tinyvision detect ...`: the object detection command group.

Sub-commands live in modules named ``_detect_<name>.py`` beside this one, each with
``register(subparsers)`` adding its parser to the group; they are found in name order, so
a new sub-command (``train``, ``predict``) is a new file, not an edit here.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="object detection: train, predict, evaluate, convert data sets",
        description="Object detection commands.",
    )
    commands = parser.add_subparsers(dest="detect_command", metavar="<subcommand>")
    from tinyvision import _cli

    for info in sorted(pkgutil.iter_modules(_cli.__path__), key=lambda m: m.name):
        if info.name.startswith("_detect_"):
            importlib.import_module(f"tinyvision._cli.{info.name}").register(commands)
