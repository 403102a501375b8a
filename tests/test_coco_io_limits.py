"""COCO json readers at the limits: numbers that do not fit, JSON nested too deeply.

Every case is one ``ValueError`` naming the file and the field, with either JSON parser
(orjson, and the standard-library fallback), never an ``OverflowError``, a
``RecursionError`` or a ``RuntimeWarning`` with a wrapped number.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from tinyvision.data.formats import read_coco, read_coco_results
from tinyvision.metrics import Detections, _coco_io


@pytest.fixture(params=["orjson", "stdlib"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "orjson":
        pytest.importorskip("orjson")
    else:
        monkeypatch.setattr(_coco_io, "_orjson", None)
    return request.param


def _gt_text(image_id: str = "1", width: str = "10", ann_id: str = "1", box: str = "1",
             area: str = "1", category: str = "1") -> str:  # fmt: skip
    return (
        f'{{"images": [{{"id": 5, "width": 4, "height": 4}}, '
        f'{{"id": {image_id}, "width": {width}, "height": 10}}], '
        f'"annotations": [{{"id": {ann_id}, "image_id": 5, "category_id": {category}, '
        f'"bbox": [0, 0, {box}, 1], "area": {area}}}], '
        f'"categories": [{{"id": 1, "name": "a"}}, {{"id": 7, "name": "b"}}]}}'
    )


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"image_id": str(2**70)}, r"images\[1\]\['id'\] must fit in -2\*\*63\.\.2\*\*63-1"),
        ({"image_id": str(-(2**64))}, r"images\[1\]\['id'\] must fit in"),
        ({"image_id": str(2**64 - 1)}, r"images\[1\]\['id'\] must fit in"),
        ({"image_id": "1e300"}, r"images\[1\]\['id'\] must fit in .*got 1e\+300"),
        ({"ann_id": str(2**63)}, r"annotations\[0\]\['id'\] must fit in"),
        ({"category": str(2**70)}, r"annotations\[0\]\['category_id'\] must fit in"),
        ({"width": "1e300"}, r"images\[1\]\['width'\] must fit in .*got 1e\+300"),
        ({"width": str(2**70)}, r"images\[1\]\['width'\] must fit in"),
        ({"image_id": "1e999"}, r"malformed JSON at line 1, column \d+ .*infinity"),
        ({"box": "1e999"}, r"malformed JSON at line 1, column \d+ .*infinity"),
        ({"area": "-1e999"}, r"malformed JSON at line 1, column \d+ .*infinity"),
    ],
)
def test_numbers_that_do_not_fit_name_file_and_field(
    parser: str, fields: dict[str, str], where: str, tmp_path: Path
) -> None:
    path = tmp_path / "gt.json"
    path.write_text(_gt_text(**fields))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from a cast that wraps round
        with pytest.raises(ValueError, match=rf"^{tmp_path}/gt\.json: {where}") as info:
            read_coco(path)
    assert "\n" not in str(info.value)


def test_integers_beyond_float64_in_float_fields(tmp_path: Path, monkeypatch) -> None:
    # Only the standard library keeps a 332-digit integer (orjson refuses it as infinity).
    monkeypatch.setattr(_coco_io, "_orjson", None)
    path = tmp_path / "gt.json"
    for fields, field in (({"box": str(2**1100)}, "bbox"), ({"area": str(2**1100)}, "area")):
        path.write_text(_gt_text(**fields))
        message = rf"gt\.json: annotations\[0\]\['{field}'\] does not fit in a 64-bit float"
        with pytest.raises(ValueError, match=message + ", got an integer of 332 digits"):
            read_coco(path)


def test_results_score_and_ids_that_do_not_fit(parser: str, tmp_path: Path) -> None:
    path = tmp_path / "dt.json"
    row = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}
    path.write_text(json.dumps([row, {**row, "image_id": 2**70}]))
    with pytest.raises(ValueError, match=r"dt\.json: results\[1\]\['image_id'\] must fit in"):
        read_coco_results(path)
    path.write_text(json.dumps([row, {**row, "category_id": 1e300}]))
    with pytest.raises(ValueError, match=r"results\[1\]\['category_id'\] must fit in"):
        read_coco_results(path)


def test_valid_extremes_still_read(parser: str, tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_text(_gt_text(image_id=str(2**63 - 1), ann_id=str(-(2**63)), box="1e300"))
    data = read_coco(path)
    assert data.image_ids.tolist() == [5, 2**63 - 1]
    assert data.annotation_id.tolist() == [-(2**63)]
    assert data.bbox[0, 2] == 1e300


@pytest.mark.parametrize(
    "text", ["[" * 200_000 + "]" * 200_000, '{"a":' * 100_000 + "1" + "}" * 100_000]
)
def test_json_nested_too_deeply_is_one_error(parser: str, text: str, tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"gt\.json: malformed JSON") as info:
        read_coco(path)
    assert "\n" not in str(info.value)


def test_integer_of_thousands_of_digits(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(_coco_io, "_orjson", None)
    path = tmp_path / "gt.json"
    path.write_text(_gt_text(image_id="9" * 5000))
    with pytest.raises(ValueError, match=r"gt\.json: malformed JSON: .*4300 digits"):
        read_coco(path)


@pytest.mark.parametrize("image_id", [[1e300], [2.0**63], np.array([2**64 - 1], dtype=np.uint64)])
def test_columns_that_do_not_fit_int64_are_refused(image_id) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"image_id must fit in 64 bits .* at row 0"):
            Detections.from_columns(
                image_id=image_id, category_id=[1], bbox=[[0, 0, 1, 1]], score=[0.5]
            )
