"""Anchor metrics by hand and against YOLOv5's formula, anchor_kmeans behaviour, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinyvision._numba import reference
from tinyvision.cluster import anchor_fitness, anchor_kmeans, best_possible_recall
from tinyvision.cluster._anchor_kernels import best_ratios


def _yolov5_metric(wh: np.ndarray, anchors: np.ndarray, thr: float) -> tuple[float, float]:
    """YOLOv5 autoanchor's metric as written there (float32 torch): (bpr, fitness)."""
    wh_t = torch.tensor(wh, dtype=torch.float32)
    k = torch.tensor(anchors, dtype=torch.float32)
    r = wh_t[:, None] / k[None]
    x = torch.min(r, 1 / r).min(2)[0]
    best = x.max(1)[0]
    bpr = (best > 1 / thr).float().mean()
    fitness = (best * (best > 1 / thr).float()).mean()
    return float(bpr), float(fitness)


def test_hand_computed_threshold_is_strict() -> None:
    # wh (10, 10) fits anchor (10, 10) exactly: x = 1. wh (40, 10): width ratio 4, so
    # x = min(4, 1/4) = 0.25, which is not > 1/4: no fit at thr = 4 (BPR 1/2, fitness
    # (1 + 0) / 2), a fit at thr = 4.01 (BPR 1, fitness (1 + 0.25) / 2).
    wh = np.array([[10.0, 10.0], [40.0, 10.0]])
    anchors = np.array([[10.0, 10.0]])
    assert best_possible_recall(wh, anchors, thr=4.0) == 0.5
    assert anchor_fitness(wh, anchors, thr=4.0) == 0.5
    assert best_possible_recall(wh, anchors, thr=4.01) == 1.0
    assert anchor_fitness(wh, anchors, thr=4.01) == 0.625


def test_metric_matches_yolov5_formula() -> None:
    rng = np.random.RandomState(0)
    wh = rng.uniform(2, 300, (500, 2))
    anchors = rng.uniform(5, 200, (9, 2))
    for thr in (2.0, 4.0, 6.0):
        bpr, fit = _yolov5_metric(wh, anchors, thr)
        assert best_possible_recall(wh, anchors, thr) == pytest.approx(bpr, abs=1e-6)
        assert anchor_fitness(wh, anchors, thr) == pytest.approx(fit, abs=1e-6)
    np.testing.assert_allclose(
        best_ratios(wh, anchors), reference(best_ratios)(wh, anchors), rtol=1e-15
    )


def test_metric_is_scale_free() -> None:
    rng = np.random.RandomState(1)
    wh, anchors = rng.uniform(1, 50, (100, 2)), rng.uniform(1, 50, (4, 2))
    assert anchor_fitness(wh, anchors) == pytest.approx(anchor_fitness(wh / 640, anchors / 640))


def _three_size_families(n: int = 600, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    base = np.array([[0.03, 0.05], [0.15, 0.10], [0.5, 0.6]])
    picks = base[rng.randint(0, 3, n)]
    return picks * rng.uniform(0.8, 1.25, (n, 2))


def test_anchor_kmeans_shape_order_and_seed() -> None:
    wh = _three_size_families()
    anchors = anchor_kmeans(wh, 6, 640, generations=200, random_state=0)
    assert anchors.shape == (6, 2) and anchors.dtype == np.float32
    area = anchors.prod(axis=1)
    assert np.all(np.diff(area) >= 0)
    np.testing.assert_array_equal(
        anchors, anchor_kmeans(wh, 6, 640, generations=200, random_state=0)
    )
    assert not np.array_equal(anchors, anchor_kmeans(wh, 6, 640, generations=200, random_state=1))
    assert best_possible_recall(wh * 640, anchors) == 1.0


def test_refinement_never_lowers_fitness() -> None:
    wh = _three_size_families(seed=3)
    start = anchor_kmeans(wh, 3, 320, generations=0, random_state=0)
    refined = anchor_kmeans(wh, 3, 320, generations=300, random_state=0)
    assert anchor_fitness(wh * 320, refined) >= anchor_fitness(wh * 320, start)
    assert anchor_fitness(wh * 320, refined) > 0.6


def test_few_distinct_sizes_fall_back_to_random_start() -> None:
    # two distinct sizes, four anchors: k-means cannot run; the refinement still runs
    wh = np.array([[0.1, 0.1]] * 10 + [[0.3, 0.2]] * 10)
    with pytest.warns(UserWarning, match="n_anchors=4 is more than the 2 distinct box size"):
        anchors = anchor_kmeans(wh, 4, 640, generations=300, random_state=0)
    assert anchors.shape == (4, 2)
    assert np.all(anchors >= 2.0)


def test_tensor_input_gives_tensor() -> None:
    wh = torch.from_numpy(_three_size_families())
    anchors = anchor_kmeans(wh, 3, 640, generations=10, random_state=0)
    assert isinstance(anchors, torch.Tensor) and anchors.shape == (3, 2)


def test_empty_labels() -> None:
    empty = np.zeros((0, 2))
    assert np.isnan(best_possible_recall(empty, [[10.0, 10.0]]))
    assert np.isnan(anchor_fitness(empty, [[10.0, 10.0]]))
    with pytest.raises(ValueError, match="at least one box"):
        anchor_kmeans(empty, 3)


@pytest.mark.parametrize(
    ("wh", "match"),
    [
        ([[10.0, 0.0]], "wh must hold widths and heights > 0, got height 0 in row 0"),
        ([[1.0, 2.0], [-3.0, 2.0]], "got width -3 in row 1"),
        ([[1.0, np.nan]], "wh must be finite"),
        ([1.0, 2.0], "wh must have shape \\[N, 2\\] \\(width, height\\), got .*\\(2,\\)"),
        ([[1.0, 2.0, 3.0]], "shape \\[N, 2\\]"),
    ],
)
def test_bad_sizes(wh: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        best_possible_recall(wh, [[1.0, 1.0]])
    with pytest.raises(ValueError, match=match):
        anchor_kmeans(wh, 1)


def test_bad_options() -> None:
    wh = _three_size_families(50)
    with pytest.raises(ValueError, match="anchors must hold widths and heights > 0"):
        anchor_fitness(wh, [[0.0, 1.0]])
    with pytest.raises(ValueError, match="thr must be > 1.0, got 1.0"):
        best_possible_recall(wh, [[1.0, 1.0]], thr=1.0)
    with pytest.raises(ValueError, match="n_anchors must be >= 1, got 0"):
        anchor_kmeans(wh, 0)
    with pytest.raises(ValueError, match="img_size must be >= 1, got 0"):
        anchor_kmeans(wh, 3, 0)
    with pytest.raises(ValueError, match="generations must be >= 0"):
        anchor_kmeans(wh, 3, generations=-1)
    with pytest.raises(ValueError, match="mutation_prob must be <= 1.0"):
        anchor_kmeans(wh, 3, mutation_prob=1.5)


@pytest.mark.parametrize(
    "wh", [[["a", "b"]], np.array([[True, False]]), np.array([[1 + 1j, 2]]), [[None, 1.0]]]
)
def test_non_numeric_sizes_are_a_type_error(wh) -> None:
    with pytest.raises(TypeError, match="wh must hold real numbers"):
        anchor_kmeans(wh, 1)
    with pytest.raises(TypeError, match="anchors must hold real numbers"):
        anchor_fitness([[1.0, 1.0]], wh)


def test_sizes_through_check_array() -> None:
    # an empty list is no labels (NaN) or no anchors (recall 0); sizes are never modified
    assert np.isnan(best_possible_recall([], [[1.0, 1.0]]))
    assert best_possible_recall([[1.0, 1.0]], []) == 0.0
    with pytest.raises(ValueError, match="wh must be finite, got an array containing infinity"):
        anchor_fitness([[1.0, np.inf]], [[1.0, 1.0]])
    with pytest.raises(ValueError, match=r"anchors must have shape \[N, 2\] .*\(1, 3\)"):
        anchor_fitness([[1.0, 1.0]], [[1.0, 1.0, 1.0]])
    # float32, integer and non-contiguous sizes give the float64 result
    wh = np.array([[0.1, 0.2], [0.3, 0.1], [0.05, 0.05]])
    anchors = np.array([[0.1, 0.1], [0.2, 0.2]])
    expected = anchor_fitness(wh, anchors)
    wide = np.zeros((3, 4))
    wide[:, ::2] = wh
    assert anchor_fitness(wide[:, ::2], anchors) == expected
    assert anchor_fitness(np.array([[10, 20]]), np.array([[10, 20]], np.int32)) == 1.0
    assert anchor_fitness(wh.astype(np.float32), anchors) == pytest.approx(expected, rel=1e-6)


def test_pixel_sizes_warn_and_fractions_do_not() -> None:
    wh = _three_size_families(60)
    with pytest.warns(UserWarning, match=r"wh should hold sizes as fractions of the image"):
        in_pixels = anchor_kmeans(wh * 640, 3, 640, generations=0, random_state=0)
    assert in_pixels.shape == (3, 2)  # used as given
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        anchor_kmeans(wh, 3, 640, generations=0, random_state=0)
        anchor_kmeans(np.array([[1.0, 0.5], [0.2, 0.3], [0.4, 0.4]]), 3, generations=0)
