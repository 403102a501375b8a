"""tinyvision.structures: the data model's public home, re-exported by data and metrics."""

import numpy as np
import pytest

import tinyvision.data as data
import tinyvision.metrics as metrics
from tinyvision.structures import DetectionDataset, Detections, check_known_ids, id_column


def test_data_and_metrics_re_export_the_same_classes():
    assert data.DetectionDataset is DetectionDataset is metrics.DetectionDataset
    assert data.Detections is Detections is metrics.Detections


def test_id_column_accepts_integral_floats():
    out = id_column([1.0, 2.0, 3.0], "image_id")
    assert out.dtype == np.int64
    assert out.tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        ([1.5], ValueError, "image_id must hold integers, got 1.5 at row 0"),
        ([float("nan")], ValueError, "image_id must hold integers"),
        ([2.0**64], ValueError, "image_id must fit in 64 bits"),
        (["a"], TypeError, "image_id must hold integers"),
        ([True], TypeError, "image_id must hold integers"),
        ([[1, 2], [3, 4]], ValueError, "image_id must be 1-D"),
    ],
)
def test_id_column_refuses_bad_values(value, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace("*", r"\*")):
        id_column(value, "image_id")


def test_id_column_checks_the_length():
    with pytest.raises(ValueError, match="category_id must have 3 rows, got 2"):
        id_column([1, 2], "category_id", 3)


def test_id_column_empty():
    assert id_column([], "image_id").shape == (0,)


def test_check_known_ids_names_the_missing():
    check_known_ids(np.array([1, 2]), np.array([1, 2, 3]), rows="r", what="image id", where="w")
    with pytest.raises(ValueError, match=r"r refer to 1 image id\(s\) missing from w: 9"):
        check_known_ids(np.array([1, 9]), np.array([1, 2]), rows="r", what="image id", where="w")
