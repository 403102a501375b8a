"""`tinyvision detect export`: see :mod:`tinyvision._cli._export`."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from tinyvision._cli import _export

    _export.register(subparsers, "detect")
