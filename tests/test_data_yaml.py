"""data.yaml: one safe loader for every reader, aliases refused, entries type-checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from _cli_helpers import assert_one_line_error, run_cli
from tinyvision._errors import UserError
from tinyvision.data import formats
from tinyvision.data._safe_io import load_data_yaml
from tinyvision.data.shapes import ShapesConfig, make_shapes

# 9 levels of 10 aliases each, in under 400 bytes: PyYAML shares the aliased lists, but
# anything walking the result (``str(names)`` with ``names: *j``, a list of paths) meets
# 10**9 strings and runs out of memory. Harmless here (names and val are plain).
BILLION_LAUGHS = "names: [a]\nval: images/val\na: &a lol\n" + "".join(
    f"{b}: &{b} [{','.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcdefghi", "bcdefghij")
)


def test_billion_laughs_is_refused_at_the_first_alias(tmp_path: Path) -> None:
    assert len(BILLION_LAUGHS.encode()) < 400
    path = tmp_path / "data.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    message = rf"^{path}: malformed YAML \(line 4, column 8\): aliases \(\*a\) are not allowed"
    with pytest.raises(UserError, match=message):
        formats.read_yolo(path)


def test_a_single_alias_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("names: &n [a, b]\nval: images/val\nother: *n\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"line 3, column 8\): aliases \(\*n\) are not allowed"):
        load_data_yaml(path)


def test_yaml_nested_too_deeply_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("names: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}: malformed YAML: .*nested too deeply"):
        formats.read_yolo(path)


def test_yaml_with_a_byte_order_mark_and_tags(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_bytes(b"\xef\xbb\xbfnames: [a]\nval: images/val\n")
    assert load_data_yaml(path) == {"names": ["a"], "val": "images/val"}
    path.write_text("names: !!python/object/apply:os.system [echo hi]\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"data\.yaml: malformed YAML \(line 1, column 8\)"):
        load_data_yaml(path)
    path.write_bytes(b"names: [\xff]\n")
    with pytest.raises(UserError, match=r"data\.yaml: not UTF-8 text \(byte 8"):
        load_data_yaml(path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("val: 5", "'val' must be a path string or list of paths, got 5 (int)"),
        ("val: [images/val, 3]", "'val' must be a path string or list of paths, got"),
        ("val: {a: 1}", "'val' must be a path string or list of paths, got {'a': 1} (dict)"),
        ("val: images/val\npath: [a]", "'path' must be a folder path string, got ['a'] (list)"),
        ("val: images/val\ntrain: 2017", "'train' must be a path string or list of paths"),
    ],
)
def test_data_yaml_entries_are_type_checked(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "data.yaml"
    path.write_text(f"names: [a]\n{entry}\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}: ") as info:
        formats.read_yolo(path)
    assert message in str(info.value)


def test_cli_names_the_data_yaml(tmp_path: Path, capsys) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("names: [a]\nval: 5\n", encoding="utf-8")
    dt = tmp_path / "dt.json"
    dt.write_text("[]", encoding="utf-8")
    code, _, err = run_cli(capsys, "detect", "eval", "--gt", str(path), "--dt", str(dt))
    assert_one_line_error(code, err, r"data\.yaml: 'val' must be a path string or list of paths")
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    code, _, err = run_cli(capsys, "detect", "eval", "--gt", str(path), "--dt", str(dt))
    assert_one_line_error(code, err, r"data\.yaml: malformed YAML .*aliases")


def test_write_yolo_and_make_shapes_read_data_yaml_through_the_safe_loader(
    tmp_path: Path,
) -> None:
    # write_yolo merges into an existing data.yaml: aliases there are refused, not expanded.
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "data.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    dataset = formats.DetectionDataset.from_columns(
        image_id=[1], category_id=[0], bbox=[[0, 0, 2, 2]], image_ids=[1],
        category_names=["a"], category_ids=[0], image_sizes=[[8, 8]],
    )  # fmt: skip
    with pytest.raises(UserError, match=r"out/data\.yaml: malformed YAML .*aliases"):
        formats.write_yolo(dataset, tmp_path / "out", "val", image_dir=None)
    # refused before anything was written
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["data.yaml"]
    # make_shapes reads a folder's data.yaml to see whether it wrote it: an alias makes
    # it a foreign folder, left alone.
    (tmp_path / "shapes").mkdir()
    (tmp_path / "shapes" / "data.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    with pytest.raises(UserError, match="is not a shapes data set made by tinyvision"):
        make_shapes(tmp_path / "shapes", ShapesConfig(train=1, val=1))
