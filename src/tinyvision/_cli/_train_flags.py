"""Flags the training commands share, the flags read from the config dataclasses, and
``--config run.yaml``.

Flags from the config dataclasses
---------------------------------
:func:`add_config_flags` adds one flag per chosen field of a config dataclass
(``TrainConfig`` of :mod:`tinyvision.train.classify`, ``DetectTrainConfig`` of
:mod:`tinyvision.train.detect`), so a default and its meaning are written once, in the
dataclass:

* the name: ``batch_size`` -> ``--batch-size``;
* the help: the field's ``metadata={"help": ...}`` if it has one, else the comment after
  the field (``epochs: int = 16  # passes over the training images``), followed by the
  default read from the field (or "the recipe's", where a recipe sets it);
* the type and bounds: :data:`FIELD_TYPES` (the bounded types of :mod:`._flags`) or
  :data:`FIELD_CHOICES`; a numeric field without an entry there cannot become a flag;
* ``bool`` fields that default to False: a ``store_true`` flag each, unless listed as
  excluded (``--amp``, and ``--tensorboard`` once that field exists).

Every generated flag defaults to None ("not given"): the command fills the value from
``--config`` or the recipe. The fields are read from the module's *source* with
:mod:`ast` (names, annotations, literal defaults, comments), not by importing it: building
the parser must not import torch (``tinyvision --help`` stays fast). A test checks that
what is read equals the imported dataclass's fields.

``--config``
------------
:func:`load_config_file` reads a YAML mapping (the project's safe loader: no aliases, no
tags) whose keys are the command's flag names with underscores (``batch_size: 64``, also
``data``, ``model``, ``epochs`` ...). Each value is checked as the flag's own parser
checks it (type, bounds, choices); an unknown key or a bad value is one line naming the
key and the file. :func:`merge_config` fills the flags the command line did not give.
"""

from __future__ import annotations

import argparse
import ast
import functools
import io
import math
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyvision._cli import _flags
from tinyvision._errors import UserError

__all__ = [
    "FIELD_CHOICES",
    "FIELD_TYPES",
    "ConfigField",
    "add_config_flags",
    "add_engine_arguments",
    "add_resume_argument",
    "add_threads_argument",
    "config_fields",
    "load_config_file",
    "merge_config",
    "resolved_settings",
    "set_threads",
    "setting_names",
]

FREEZE_MAX = 1000  # blocks; a model has far fewer (the trainer names the limit)
WORKERS_MAX = 64  # loader threads
_EPOCHS = _flags.int_in(1, _flags.EPOCHS_MAX)

# The bounded flag type of each numeric config field that may become a flag.
FIELD_TYPES: dict[str, Callable[[str], Any]] = {
    "epochs": _EPOCHS,
    "batch_size": _flags.int_in(1, _flags.BATCH_MAX),
    "lr": _flags.float_in(0.0, _flags.LR_MAX, low_open=True),
    "cycles": _EPOCHS,
    "img_size": _flags.detector_img_size,
    "workers": _flags.int_in(0, WORKERS_MAX),
    "val_every": _EPOCHS,
    "patience": _EPOCHS,  # 0 (never stop) is the default, not a value to give
    "freeze": _flags.int_in(0, FREEZE_MAX),
}
# The values of each string config field that may become a flag.
FIELD_CHOICES: dict[str, tuple[str, ...]] = {
    "schedule": ("one_cycle", "restarts", "constant"),
    "optimizer": ("adamw", "sgd"),
}


# ----------------------------------------------------------------------------------------
# Flags every training command shares
# ----------------------------------------------------------------------------------------


def add_threads_argument(parser: argparse.ArgumentParser, default: int | None = None) -> None:
    """``--threads N``: PyTorch's CPU threads (``default`` None: PyTorch's own)."""
    what = "PyTorch's default" if default is None else str(default)
    parser.add_argument(
        "--threads",
        type=_flags.threads,
        default=default,
        help=f"CPU threads for PyTorch, 1..{_flags.THREADS_MAX} (default {what})",
    )


def add_resume_argument(parser: argparse.ArgumentParser) -> None:
    """``--resume [CKPT]``."""
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        metavar="CKPT",
        help="continue an interrupted run from CKPT (default OUT/last.pt)",
    )


def add_engine_arguments(parser: argparse.ArgumentParser, module: str, cls: str) -> None:
    """``--val-every``, ``--patience``, ``--freeze`` (from the config) and ``--weights``."""
    add_config_flags(parser, module, cls, ("val_every", "patience", "freeze"), bools=False)
    parser.add_argument("--weights", metavar="CKPT", help="fine-tune from another run's weights")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """``--config run.yaml``."""
    parser.add_argument(
        "--config",
        metavar="YAML",
        help="settings from a YAML mapping of these flags' names (batch_size: 64, ...); "
        "flags given on the command line win; OUT/config.yaml of a run repeats it",
    )


def set_threads(threads: int | None) -> None:
    """Apply ``--threads``: PyTorch's intra-op threads on the CPU."""
    if threads is None:
        return
    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


# ----------------------------------------------------------------------------------------
# Flags from the config dataclasses
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigField:
    """A field of a config dataclass as its source states it."""

    name: str
    annotation: str  # "int", "float", "str", "bool", ... as written
    default: Any  # the literal default (None when it is not a literal)
    help: str  # metadata["help"], else the comment after the field ("" if none)


def config_fields(module: str, cls: str) -> dict[str, ConfigField]:
    """The fields of dataclass ``cls`` in ``module`` (a ``tinyvision.`` module), read from
    its source without importing it."""
    import tinyvision

    parts = module.split(".")
    if parts[0] != "tinyvision" or len(parts) < 2:
        raise ValueError(f"module must be a tinyvision module, got {module!r}")
    path = Path(tinyvision.__file__).parent.joinpath(*parts[1:]).with_suffix(".py")
    return _fields_in_source(path.read_text(encoding="utf-8"), cls)


@functools.lru_cache(maxsize=16)
def _fields_in_source(source: str, cls: str) -> dict[str, ConfigField]:
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    found = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == cls]
    if not found:
        raise ValueError(f"cls must name a class of the module, got {cls!r}")
    result: dict[str, ConfigField] = {}
    for node in found[0].body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        default, metadata = _literal_default(node.value)
        help_text = metadata.get("help") or comments.get(node.end_lineno or node.lineno, "")
        name = node.target.id
        result[name] = ConfigField(name, ast.unparse(node.annotation), default, help_text)
    return result


def _literal_default(value: ast.expr | None) -> tuple[Any, dict[str, Any]]:
    """The literal default of a field and its metadata: ``x: int = 3`` or
    ``x: int = field(default=3, metadata={...})``; (None, {}) for anything else."""
    if value is None:
        return None, {}
    if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "field":
        keywords = {k.arg: k.value for k in value.keywords}
        default = _literal(keywords["default"]) if "default" in keywords else None
        metadata = _literal(keywords["metadata"]) if "metadata" in keywords else None
        return default, metadata if isinstance(metadata, dict) else {}
    return _literal(value), {}


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def add_config_flags(
    parser: argparse.ArgumentParser,
    module: str,
    cls: str,
    names: Sequence[str],
    *,
    bools: bool = True,
    exclude: Iterable[str] = (),
    recipe_defaults: bool = False,
    notes: dict[str, str] | None = None,
) -> list[str]:
    """Add a flag for each field in ``names`` of dataclass ``cls`` (and, with ``bools``,
    for each bool field that defaults to False, not in ``exclude`` and not already a
    flag); every flag defaults to None. ``recipe_defaults``: the help says the default is
    the recipe's, not the field's. ``notes``: text appended to a flag's help. Returns the
    field names that became flags."""
    fields = config_fields(module, cls)
    chosen = list(names)
    if bools:
        taken = set(parser._option_string_actions)
        chosen += [
            f.name
            for f in fields.values()
            if f.annotation == "bool"
            and f.default is False
            and f.name not in exclude
            and f.name not in chosen
            and _flag_name(f.name) not in taken
        ]
    for name in chosen:
        if name not in fields:
            raise ValueError(f"names must be fields of {cls}, got {name!r}")
        _add_field_flag(parser, fields[name], recipe_defaults, (notes or {}).get(name, ""))
    return chosen


def _flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_field_flag(
    parser: argparse.ArgumentParser, field: ConfigField, recipe: bool, note: str
) -> None:
    text = field.help + (f"; {note}" if note else "")
    if field.annotation == "bool":
        action = parser.add_argument(
            _flag_name(field.name), action="store_true", default=None, help=text
        )
        action.config_field = True  # type: ignore[attr-defined]
        return
    default = "the recipe's" if recipe else _shown(field.default)
    kwargs: dict[str, Any] = {"default": None, "help": f"{text} (default {default})"}
    if field.name in FIELD_CHOICES:
        kwargs["choices"] = FIELD_CHOICES[field.name]
    elif field.name in FIELD_TYPES:
        kwargs["type"] = FIELD_TYPES[field.name]
    else:
        raise ValueError(f"the field {field.name!r} has no bounded flag type (FIELD_TYPES)")
    action = parser.add_argument(_flag_name(field.name), **kwargs)
    action.config_field = True  # type: ignore[attr-defined]


def setting_names(parser: argparse.ArgumentParser) -> list[str]:
    """The fields that :func:`add_config_flags` made flags of ``parser``."""
    return [a.dest for a in parser._actions if getattr(a, "config_field", False)]


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# ----------------------------------------------------------------------------------------
# --config run.yaml
# ----------------------------------------------------------------------------------------

CONFIG_EXCLUDED = ("config", "resume", "help", "func", "out")


def config_keys(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The keys a ``--config`` file of ``parser``'s command may hold: its flags' names
    (``--batch-size`` -> ``batch_size``), but ``--config``, ``--resume`` and ``--out``."""
    return {
        action.dest: action
        for action in parser._actions
        if action.option_strings and action.dest not in CONFIG_EXCLUDED
    }


def load_config_file(path: str, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The settings of ``--config path``, each checked as its flag would be.

    Raises:
        UserError: the file is missing, not YAML, not a mapping; a key is not a flag of the
            command (naming the key and the file); a value has the wrong type or is out of
            range (naming the key).
    """
    from tinyvision.data._safe_io import load_data_yaml

    file = Path(path)
    if not file.is_file():
        raise UserError(f"--config {file}: no such file")
    document = load_data_yaml(file)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise UserError(f"--config {file}: must be a mapping of settings (key: value)")
    keys = config_keys(parser)
    settings = {}
    for key, value in document.items():
        dest = str(key).replace("-", "_")
        if dest not in keys:
            known = ", ".join(sorted(keys))
            raise UserError(f"--config {file}: unknown key {key!r} (known: {known})")
        settings[dest] = _checked_value(keys[dest], value, f"--config {file}: {key}")
    return settings


def _checked_value(action: argparse.Action, value: Any, where: str) -> Any:
    """``value`` from a config file, checked as the command line checks ``action``'s flag."""
    if value is None:
        return None
    if action.nargs == 0:  # store_true
        if not isinstance(value, bool):
            raise UserError(f"{where}: must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError(f"{where}: must be a number or a string, got {value!r}")
    numeric = getattr(action.type, "__name__", "") in ("int_in", "multiple_of", "float_in")
    if numeric and isinstance(value, str):
        raise UserError(f"{where}: must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{where}: must be finite, got {value!r}")
    if getattr(action.type, "__name__", "") in ("int_in", "multiple_of") and isinstance(
        value, float
    ):
        raise UserError(f"{where}: must be an integer, got {value!r}")
    text = value if isinstance(value, str) else repr(value)
    try:
        parsed = action.type(text) if action.type is not None else text
    except argparse.ArgumentTypeError as exc:
        raise UserError(f"{where}: {exc}") from None
    except (TypeError, ValueError):  # a plain type (int): "2.5" for --levels
        name = getattr(action.type, "__name__", "")
        kind = {"int": "an integer", "float": "a number"}.get(name, f"a {name}")
        raise UserError(f"{where}: must be {kind}, got {value!r}") from None
    if action.choices is not None and parsed not in action.choices:
        shown = ", ".join(map(str, action.choices))
        raise UserError(f"{where}: must be one of {shown}, got {value!r}")
    return parsed


def merge_config(
    args: argparse.Namespace, parser: argparse.ArgumentParser, defaults: dict[str, Any]
) -> dict[str, Any]:
    """Fill ``args`` from ``--config`` (flags not given on the command line, that is, still
    None) and then from ``defaults``; return the file's settings ({} without ``--config``).
    ``--config`` with ``--resume`` is refused: a resumed run keeps its settings."""
    settings: dict[str, Any] = {}
    if getattr(args, "config", None):
        if getattr(args, "resume", None) is not None:
            raise UserError("--resume continues the run as it was set up; drop --config")
        settings = load_config_file(args.config, parser)
    for dest, value in settings.items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, value)
    for dest, value in defaults.items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, value)
    return settings


def resolved_settings(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    config: Any,
    resolved: dict[str, Any],
) -> dict[str, Any]:
    """The value of every ``--config`` key of ``parser``'s command for a run: from
    ``resolved``, else the run's ``config`` dataclass (the recipe's value where no flag gave
    one), else ``args`` (for ``OUT/config.yaml``). A field left at its default that its flag
    cannot take (``patience`` 0: never stop) is left out: the repeat gets the default too."""
    import dataclasses

    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    settings = {}
    for dest, action in config_keys(parser).items():
        if dest in resolved:
            settings[dest] = resolved[dest]
        elif dest in defaults:
            value = getattr(config, dest)
            if value == defaults[dest] and not _expressible(action, value):
                continue  # e.g. patience 0 (never stop): the default, not a flag's value
            settings[dest] = value
        else:
            settings[dest] = getattr(args, dest, None)
    return settings


def _expressible(action: argparse.Action, value: Any) -> bool:
    """Whether ``value`` passes ``action``'s checks (as in a ``--config`` file)."""
    try:
        _checked_value(action, value, "")
    except UserError:
        return False
    return True
