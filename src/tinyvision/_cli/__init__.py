"""Sub-commands of the `tinyvision` CLI.

Each module in this package defines ``register(subparsers)``, which adds one top-level
command to the parser and sets ``func`` (a callable taking the parsed ``argparse.Namespace``
and returning an exit code). :mod:`tinyvision.cli` discovers the modules in name order, so
adding a command never edits a shared file.
"""
