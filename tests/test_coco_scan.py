"""The compiled reader of COCO box results files against the general JSON reader.

Every file the scanner reads must give bit for bit the columns that orjson and the
column builders give (numbers correctly rounded, ``-0.0`` kept, ``-0`` an integer zero);
every file it does not read must come back as ``None`` so that the general reader reads
it (or names its problem) exactly as before.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinyvision.data import make_coco_like_keypoints
from tinyvision.data.formats import read_coco_results
from tinyvision.metrics import _coco_io, evaluate_detections
from tinyvision.metrics._coco_scan import scan_results

_COLUMNS = ("image_id", "category_id", "bbox", "score")


def _general(path: Path) -> dict[str, np.ndarray]:
    dets = _coco_io.detections_from_coco(_coco_io.read_json(path), str(path))
    out = {key: getattr(dets, key) for key in _COLUMNS}
    if dets.keypoints is not None:
        out["keypoints"] = np.asarray(dets.keypoints, dtype=np.float64)
    if dets.area is not None:
        out["area"] = dets.area
    return out


def _bits(array: np.ndarray) -> np.ndarray:
    """The values' bit patterns (so that -0.0 and 0.0 differ)."""
    return np.ascontiguousarray(array).view(np.int64)


def _assert_same(path: Path) -> dict[str, np.ndarray] | None:
    fast = scan_results(path)
    if fast is not None:
        slow = _general(path)
        assert sorted(fast) == sorted(slow)
        for key in slow:
            assert fast[key].dtype == slow[key].dtype, key
            assert np.array_equal(_bits(fast[key]), _bits(slow[key])), key
        dets = _coco_io.as_detections(path)
        assert np.array_equal(_bits(dets.bbox), _bits(slow["bbox"]))
    return fast


def _write(tmp_path: Path, text: str | bytes, name: str = "dt.json") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


_TOKENS = [
    "0", "-0", "0.0", "-0.0", "-0e5", "0e-400", "1", "5e-324", "4.9406564584124654e-324",
    "2.2250738585072011e-308", "2.2250738585072014e-308", "1.7976931348623157e308",
    "1e22", "1e23", "1e-22", "1e-23", "0.1", "0.30000000000000004", "123.45678253173828",
    "9007199254740992", "9007199254740993", "99999999999999999", "999999999999999999",
    "1E5", "1e+5", "1.5E-3", "0.000001", "1e-400",
    "8.98846567431158e307", "2.5e-5", "12345678.90123456e-3",
    "0.0000000000000000000000000000001", "7.2057594037927933e16", "1e00000000000005",
]  # fmt: skip


@pytest.mark.parametrize("token", _TOKENS)
def test_a_number_reads_as_orjson_reads_it(token: str, tmp_path: Path) -> None:
    text = (
        f'[{{"image_id": 1, "category_id": 2, "bbox": [{token}, 1, 2, 3], "score": {token}}},'
        f' {{"image_id": 1, "category_id": 2, "bbox": [0.5, 1, 2, 3], "score": 0.5,'
        f' "area": {token}}}]'
    )
    fast = _assert_same(_write(tmp_path, text))
    assert fast is not None
    expected = float(json.loads(token))  # an integer token: its float (-0 is 0.0)
    assert struct.pack("<d", fast["score"][0]) == struct.pack("<d", expected)


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "",
        "   ",
        '{"annotations": [{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}]}',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3]}]',  # no score
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2], "score": 1}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3, 4], "score": 1}]',
        '[{"image_id": 1.0, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}]',
        '[{"image_id": "a", "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}]',
        '[{"image_id": 1234567890123456789, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1234567890123456789}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1e400, 1, 2, 3], "score": 1}]',
        '[{"image_id": 1, "category_id": 2, "keypoints": [1, 1], "score": 1}]',
        '[{"image_id": 1, "category_id": 2, "keypoints": [], "score": 1}]',
        '[{"image_id": 1, "category_id": 2, "keypoints": [1, 1, 2, [1]], "score": 1}]',
        '[{"image_id": 1, "category_id": 2, "keypoints": [1, 1, 2], "score": 1},'
        ' {"image_id": 1, "category_id": 2, "keypoints": [1, 1, 2, 3, 3, 1], "score": 1}]',
        '[{"image_id": 1, "category_id": 2, "keypoints": [1, 1, 2], "score": 1},'
        ' {"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}]',
        '[{"image_id": 1, "image_id": 2, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": true}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1e999}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1, "area": 1e999}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": NaN}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 01}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": .5}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1.}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1e}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": +1}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1},]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}] x',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1, "x": [1]}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1, "x": {}}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1, "x": "\\n"}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1, "x": "é"}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1, "x": tru}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1, "\\u0078": 1}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1,'
        ' "segmentation": [[1, 1, 2, 2, 3, 1]]}]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}, 5]',
        '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}]\x00',
        '\ufeff[{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 1}]',
    ],
)
def test_other_files_are_left_to_the_general_reader(text: str, tmp_path: Path) -> None:
    path = _write(tmp_path, text)
    assert scan_results(path) is None
    try:
        expected = _coco_io.detections_from_coco(_coco_io.read_json(path), str(path))
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)) as got:
            _coco_io.as_detections(path)
        assert str(got.value) == str(exc)
    else:
        dets = _coco_io.as_detections(path)
        assert np.array_equal(dets.score, expected.score)


def test_a_problem_found_after_reading_is_worded_by_the_general_reader(tmp_path: Path) -> None:
    text = '[{"image_id": 1, "category_id": 2, "bbox": [1, 1, -2, 3], "score": 1}]'
    path = _write(tmp_path, text)
    assert scan_results(path) is not None  # read, but the table refuses the box
    with pytest.raises(ValueError) as general:
        _coco_io.detections_from_coco(json.loads(text), str(path))
    with pytest.raises(ValueError) as fast:
        _coco_io.as_detections(path)
    assert str(fast.value) == str(general.value)
    with pytest.raises(ValueError, match="width and height >= 0"):
        read_coco_results(path)


def test_a_missing_file_is_left_to_the_general_reader(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        _coco_io.as_detections(tmp_path / "missing.json")


def test_read_coco_results_reads_the_common_shape(tmp_path: Path) -> None:
    records = [
        {"image_id": 3, "category_id": 1, "bbox": [1.25, 2, 3, 4e-2], "score": 0.9},
        {"score": -0.0, "bbox": [0, 0, 1, 1], "category_id": -7, "image_id": 0},
    ]
    path = _write(tmp_path, json.dumps(records, indent=2))
    dets = read_coco_results(path)
    assert dets.source == str(path)
    assert dets.image_id.tolist() == [3, 0]
    assert dets.category_id.tolist() == [1, -7]
    assert dets.bbox.tolist() == [[1.25, 2, 3, 0.04], [0, 0, 1, 1]]
    assert math.copysign(1.0, dets.score[1]) == -1.0


@pytest.mark.parametrize(
    "data",
    [np.zeros(4, dtype=np.int64), np.ones(3, dtype=np.uint8), np.zeros(0, dtype=np.uint8),
     np.zeros((2, 2), dtype=np.uint8)],
)  # fmt: skip
def test_scan_refuses_a_buffer_without_its_end_marker(data: np.ndarray) -> None:
    with pytest.raises(ValueError, match="data must be uint8"):
        scan_results(data)


_finite = st.floats(allow_nan=False, allow_infinity=False)
_small = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def _number_text(draw: st.DrawFn) -> str:
    """A JSON number as people and programs write them."""
    how = draw(st.sampled_from(["repr", "round", "e", "g", "int", "bigint", "zero"]))
    if how == "repr":
        return repr(draw(_finite))
    if how == "round":
        return repr(round(draw(_small), draw(st.integers(0, 6))))
    if how == "e":
        text = f"{draw(_finite):.{draw(st.integers(0, 20))}e}"
        return text.replace("e", draw(st.sampled_from("eE")))
    if how == "g":
        return f"{draw(_small):.{draw(st.integers(1, 25))}g}"
    if how == "int":
        return str(draw(st.integers(-(10**20), 10**20)))
    if how == "bigint":
        return str(draw(st.integers(-(10**40), 10**40)))
    return draw(st.sampled_from(["0", "-0", "0.0", "-0.0", "0e0", "-0E-0"]))


_space = st.sampled_from(["", " ", "\n", "\t", "\r\n", "  "])
_extra_value = st.one_of(
    _number_text(),
    st.sampled_from(["true", "false", "null", '"x"', '""', '"a b-c/d"', '"é"', '"\\""', "[1]"]),
)


def _number_list(draw: st.DrawFn, n: int) -> str:
    return "[" + ",".join(draw(_space) + draw(_number_text()) for _ in range(n)) + "]"


@st.composite
def _record(draw: st.DrawFn, kind: str, n_points: int) -> str:
    fields = {
        "image_id": str(draw(st.integers(-(10**18), 10**18))),
        "category_id": str(draw(st.integers(-5, 100))),
        "score": draw(_number_text()),
    }
    if kind != "keypoints":
        fields["bbox"] = _number_list(draw, 4)
    if kind != "bbox":
        fields["keypoints"] = _number_list(draw, n_points)
    for name in draw(st.lists(st.sampled_from(["id", "area", "iscrowd", "note"]), unique=True)):
        fields[name] = draw(_extra_value)
    keys = draw(st.permutations(list(fields)))
    sp = draw(_space)
    return "{" + ",".join(f'{sp}"{k}"{sp}:{draw(_space)}{fields[k]}' for k in keys) + sp + "}"


@st.composite
def _results_text(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["bbox", "keypoints", "both"]))
    n_points = draw(st.sampled_from([3, 6, 9]))
    records = draw(st.lists(_record(kind, n_points), min_size=1, max_size=6))
    sep = draw(_space)
    return sep + "[" + ("," + sep).join(records) + "]" + sep


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_results_text())
def test_generated_files_read_as_the_general_reader_reads_them(text: str, tmp_path: Path) -> None:
    path = _write(tmp_path, text)
    try:
        _general(path)
    except (ValueError, TypeError):
        assert scan_results(path) is None or _coco_io.scanned_detections(path) is None
        return
    _assert_same(path)


@pytest.mark.parametrize("with_bbox", [False, True])
def test_keypoint_results_read_and_evaluate_as_from_dicts(with_bbox: bool, tmp_path: Path) -> None:
    gt, dt = make_coco_like_keypoints(12, with_bbox=with_bbox, seed=3)
    path = _write(tmp_path, json.dumps(dt))
    fast = _assert_same(path)
    assert fast is not None and fast["keypoints"].shape == (len(dt), 51)
    assert ("area" in fast) is not with_bbox
    from_file = evaluate_detections(gt, path, iou_type="keypoints")
    from_dicts = evaluate_detections(gt, dt, iou_type="keypoints")
    assert np.array_equal(from_file.stats, from_dicts.stats)
    assert from_file.stats[0] > 0


def test_plain_files_are_read_by_the_scanner(tmp_path: Path) -> None:
    records = [
        {"image_id": i, "category_id": i % 3, "bbox": [i / 7, 2.5, 3e-3, 4], "score": i / 9}
        for i in range(50)
    ]
    path = _write(tmp_path, json.dumps(records))
    assert _assert_same(path) is not None


@settings(max_examples=300, deadline=None)
@given(token=_number_text())
def test_the_number_parser_is_exact_where_it_says_so(token: str) -> None:
    from tinyvision.metrics import _coco_scan

    buf = np.frombuffer(token.encode() + b"\0", dtype=np.uint8)
    end, kind, value, ivalue = _coco_scan._number(buf, 0)
    assert end == len(token) and kind & _coco_scan._VALID
    integer = all(c not in token for c in ".eE")
    assert bool(kind & _coco_scan._INTEGER) is integer
    if kind & _coco_scan._INT64:
        assert ivalue == int(token)
    if kind & _coco_scan._EXACT:
        assert struct.pack("<d", value) == struct.pack("<d", float(json.loads(token)))


def test_many_inexact_numbers_are_left_to_the_general_reader(tmp_path: Path) -> None:
    extra = ", ".join(f'"k{j}": 0.{"3" * 20}{j}' for j in range(40))
    record = f'{{"image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 3], "score": 0.5, {extra}}}'
    path = _write(tmp_path, f"[{record}, {record}]")
    assert scan_results(path) is None  # converting them costs more than parsing
    assert _coco_io.as_detections(path).score.tolist() == [0.5, 0.5]
