"""Reading the small text files of a data set safely: UTF-8 text, ``data.yaml``, YOLO labels.

One reader per kind of file, shared by every command (``detect train``, ``detect eval``,
``detect convert``, ``anchors``), so a file one of them accepts the others accept too, and
every problem is one :class:`~tinyvision._errors.UserError` naming the file:

* :func:`read_text`: UTF-8, a leading byte-order mark dropped (Notepad writes one).
* :func:`load_data_yaml`: YAML's safe subset with aliases (``*name``) refused, so a few
  hundred bytes of nested aliases (a "billion laughs") cannot expand to gigabytes, and
  nesting too deep for the parser is an error, not a ``RecursionError``.
* :func:`check_data_yaml_fields`: the types of the entries the readers use.
* :func:`yolo_label_rows` / :func:`parse_yolo_line`: the lines of a YOLO label file.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import yaml

from tinyvision._errors import UserError
from tinyvision._validate import describe

__all__ = [
    "check_data_yaml_fields",
    "load_data_yaml",
    "parse_yolo_line",
    "read_text",
    "yolo_label_rows",
]


def read_text(path: str | os.PathLike[str]) -> str:
    """A text file as UTF-8 (a leading byte-order mark dropped, as Notepad writes one).

    Raises:
        UserError: the file is not UTF-8 text (naming the file and the first bad byte).
    """
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{file}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r})"
        ) from None


class _NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses aliases: a data.yaml never needs them, and nested
    aliases expand exponentially (a 350-byte file can stand for billions of nodes)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                f"aliases (*{event.anchor}) are not allowed in a data.yaml",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def load_data_yaml(path: str | os.PathLike[str]) -> Any:
    """Parse a ``data.yaml`` (UTF-8, BOM allowed) with :class:`_NoAliasLoader`.

    Returns:
        the parsed document (None for an empty file).

    Raises:
        UserError: not UTF-8, malformed YAML, an alias, or nesting too deep; naming the file
            and, where the parser gives one, the line.
    """
    file = Path(path)
    text = read_text(file)
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass: no tags run code
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{file}: malformed YAML{where}: {problem}") from None
    except RecursionError:
        raise UserError(f"{file}: malformed YAML: lists and mappings nested too deeply") from None


_PATH_ENTRIES = ("path", "train", "val", "test")


def check_data_yaml_fields(config: dict[str, Any], path: Path) -> None:
    """Check the types of the path entries of a data.yaml (``names`` and ``nc`` are checked
    where they are read): ``path`` a folder string, ``train``/``val``/``test`` a path string
    or a list of them. Absent or empty entries are fine.

    Raises:
        UserError: naming the file, the entry and the value found.
    """
    for key in _PATH_ENTRIES:
        value = config.get(key)
        if value is None or isinstance(value, str):
            continue
        if key != "path" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            continue
        expected = "a folder path string" if key == "path" else "a path string or list of paths"
        raise UserError(f"{path}: {key!r} must be {expected}, got {describe(value)}")


def parse_yolo_line(
    line: str, where: str, n_classes: int | None, with_conf: bool
) -> tuple[int, float, float, float, float, float]:
    """One YOLO label line ``class cx cy w h`` (or a polygon ``class x1 y1 x2 y2 ...``,
    taken by its bounds) or, ``with_conf``, a prediction line ``class cx cy w h conf``.

    ``n_classes`` bounds the class index (None: any index ``>= 0``). Label coordinates must
    be finite and normalised to [0, 1]; widths and heights ``>= 0``.

    Returns:
        ``(class, cx, cy, w, h, conf)``, ``conf`` 1.0 for a label line.

    Raises:
        UserError: ``where`` (``file:line``) and what is wrong.
    """
    values = line.split()
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        raise UserError(f"{where}: not numbers: {_shorten(line)!r}") from None
    if (
        not numbers
        or not math.isfinite(numbers[0])
        or numbers[0] != int(numbers[0])
        or numbers[0] < 0
        or (n_classes is not None and numbers[0] >= n_classes)
    ):
        expected = f"an index in 0..{n_classes - 1}" if n_classes is not None else "an index >= 0"
        shown = _shorten(values[0]) if values else ""
        raise UserError(f"{where}: class must be {expected}, got {shown!r}")
    cls = int(numbers[0])
    if with_conf:
        if len(numbers) != 6:
            raise UserError(
                f"{where}: a prediction line is 'class cx cy w h conf', got {_shorten(line)!r}"
            )
        cx, cy, w, h, conf = numbers[1:]
    elif len(numbers) == 5:
        cx, cy, w, h = numbers[1:]
        conf = 1.0
    elif len(numbers) >= 7 and len(numbers) % 2 == 1:
        xs, ys = numbers[1::2], numbers[2::2]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        w, h = max(xs) - min(xs), max(ys) - min(ys)
        conf = 1.0
    else:
        raise UserError(f"{where}: a label line is 'class cx cy w h', got {_shorten(line)!r}")
    if not all(math.isfinite(v) for v in (cx, cy, w, h, conf)) or w < 0 or h < 0:
        raise UserError(f"{where}: box must be finite with w, h >= 0, got {_shorten(line)!r}")
    if not with_conf and not all(0.0 <= v <= 1.0 for v in numbers[1:]):
        raise UserError(
            f"{where}: coordinates must be normalised to [0, 1], got {_shorten(line)!r}"
        )
    return cls, cx, cy, w, h, conf


def yolo_label_rows(
    text: str, label: Path, n_classes: int | None, *, bad_lines: list[str] | None = None
) -> list[tuple[int, int, float, float, float, float]]:
    """The label lines of a YOLO label file's text (from :func:`read_text`), blank lines
    skipped: ``(line number, class, cx, cy, w, h)`` each, normalised as written.

    Raises:
        UserError: the first bad line (``file:line``), unless ``bad_lines`` is given: then
            the messages of bad lines are appended to it and the lines left out.
    """
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cls, cx, cy, w, h, _ = parse_yolo_line(line, f"{label}:{n}", n_classes, False)
        except UserError as exc:
            if bad_lines is None:
                raise
            bad_lines.append(str(exc))
            continue
        rows.append((n, cls, cx, cy, w, h))
    return rows


def _shorten(text: str, limit: int = 120) -> str:
    """A line for a message: stripped, and cut short when a fuzzed file makes it long."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
