"""`tinyvision version`: print the versions of tinyvision and what it runs on."""

from __future__ import annotations

import argparse
import platform


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "version",
        help="print tinyvision's version and its environment",
        description="Print tinyvision's version, Python, PyTorch, NumPy and the devices found.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from tinyvision import __version__

    print(f"tinyvision {__version__}")
    print(f"python     {platform.python_version()}")
    print(f"torch      {torch.__version__}")
    print(f"numpy      {np.__version__}")
    cuda = torch.cuda.is_available()
    devices = "cpu" + (f", cuda ({torch.cuda.get_device_name(0)})" if cuda else "")
    print(f"devices    {devices}")
    return 0
