"""Every compiled kernel against its NumPy reference twin."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyvision.metrics import _kernels as K


def _scores(n: int, seed: int, decimals: int | None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=n)
    if decimals is not None:
        scores = np.round(scores, decimals)
    return scores.astype(dtype), rng.random(n) < 0.4


SCORES = [
    _scores(500, 1, None),
    _scores(500, 2, 1),
    _scores(500, 3, 0, np.float32),
    (np.array([3, 1, 3, 2, 2], dtype=np.int64), np.array([True, False, False, True, True])),
    (np.zeros(0), np.zeros(0, dtype=bool)),
    (np.array([1.0, 2.0]), np.array([True, True])),
]


@pytest.mark.parametrize("scores, is_pos", SCORES)
def test_curve_kernels_match_references(scores, is_pos) -> None:
    pos, neg, nz = K.split_by_label(is_pos.view(np.uint8), scores)
    ref = K.split_by_label_reference(is_pos, scores)
    assert np.array_equal(pos, ref[0]) and np.array_equal(neg, ref[1]) and nz == ref[2]
    pos, neg = np.sort(pos), np.sort(neg)
    merged = K.merge_counts(pos, neg)
    expected = K.merge_counts_reference(pos, neg)
    for got, want in zip(merged, expected):
        assert np.array_equal(got, want)
    thresholds, tps, fps = merged
    for drop in (False, True):
        got = K.roc_arrays(thresholds, tps, fps, drop)
        want = K.roc_arrays_reference(thresholds, tps, fps, drop)
        for a, b in zip(got, want):
            assert np.array_equal(a, b, equal_nan=True)
    with np.errstate(all="ignore"):
        for a, b in zip(
            K.pr_arrays(thresholds, tps, fps), K.pr_arrays_reference(thresholds, tps, fps)
        ):
            assert np.array_equal(a, b) and a.dtype == b.dtype
    for drop in (False, True):
        fused = K.roc_curve_sorted(pos, neg, drop)
        for a, b in zip(fused, K.roc_arrays_reference(thresholds, tps, fps, drop)):
            assert np.array_equal(a, b, equal_nan=True)
    with np.errstate(all="ignore"):
        fused = K.pr_curve_sorted(pos, neg)
        for a, b in zip(fused, K.pr_arrays_reference(thresholds, tps, fps)):
            assert np.array_equal(a, b) and a.dtype == b.dtype
    if len(pos) and len(neg):
        terms = K.roc_auc_terms(pos, neg)
        assert np.array_equal(terms, K.roc_auc_terms_reference(pos, neg))
    if len(pos):
        assert np.array_equal(
            K.average_precision_sorted(pos, neg), K.average_precision_terms_reference(tps, fps)
        )


def test_negative_zero_is_detected() -> None:
    scores = np.array([0.5, -0.0, 0.0])
    is_pos = np.array([1, 0, 1], dtype=np.uint8)
    assert K.split_by_label(is_pos, scores)[2]
    assert not K.split_by_label(is_pos, np.abs(scores))[2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-4, 4)), min_size=2, max_size=60))
def test_delong_sums_and_midranks_match_references(pairs) -> None:
    is_pos = np.array([p for p, _ in pairs])
    scores = np.array([s for _, s in pairs], dtype=np.float64)
    assert np.array_equal(K.midranks(scores), K.midranks_reference(scores))
    pos, neg = np.sort(scores[is_pos]), np.sort(scores[~is_pos])
    if len(pos) == 0 or len(neg) == 0:
        return
    v10, v01 = K.delong_placements_reference(pos, neg)
    auc = v10.mean()
    s10, s01, mann_whitney = K.delong_sums(pos, neg, auc)
    assert mann_whitney == pytest.approx(auc, rel=1e-12)
    assert s10 == pytest.approx(((v10 - auc) ** 2).sum(), rel=1e-9, abs=1e-12)
    assert s01 == pytest.approx(((v01 - auc) ** 2).sum(), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("n_codes", [1, 3, 17])
def test_confusion_and_class_sum_kernels_match_references(n_codes: int) -> None:
    rng = np.random.default_rng(n_codes)
    t = rng.integers(0, n_codes, 400)
    p = rng.integers(0, n_codes, 400)
    w = rng.random(400)
    counts = K.confusion_counts(t + 5, p + 5, 5, n_codes)  # offset: codes are y - 5
    ref_counts, _, _ = K.confusion_sums_reference(t, p, n_codes)
    assert np.array_equal(counts, ref_counts)
    acc = np.zeros((n_codes, n_codes))
    in_true, in_pred = K.confusion_sums(t, p, 0, n_codes, w, acc)
    ref_acc, ref_true, ref_pred = K.confusion_sums_reference(t, p, n_codes, w)
    assert np.array_equal(acc, ref_acc)  # same summation order: bitwise
    assert np.array_equal(in_true, ref_true) and np.array_equal(in_pred, ref_pred)
    got = K.class_sums(t, p, 0, n_codes, w)
    want = K.class_sums_reference(t, p, n_codes, w)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text("abé", max_size=3), max_size=30),
    st.lists(st.text("abé", max_size=3), max_size=30),
)
def test_hash_encoding_matches_reference(a_values, b_values) -> None:
    a = np.array(a_values, dtype="U3")
    b = np.array(b_values, dtype="U3")
    words_a = a.view(np.uint32).reshape(-1, 3)
    words_b = b.view(np.uint32).reshape(-1, 3)
    got = K.hash_encode(words_a, words_b)
    want = K.hash_encode_reference(words_a, words_b)
    for x, y in zip(got, want):
        assert np.array_equal(x, y)


def test_hash_encoding_grows_its_table() -> None:
    values = np.arange(5000, dtype=np.int64) * 1_000_003
    words = values.view(np.uint32).reshape(-1, 2)
    codes_a, codes_b, first = K.hash_encode(words, words[::-1].copy())
    assert np.array_equal(codes_a, np.arange(5000))
    assert np.array_equal(codes_b, np.arange(5000)[::-1])
    assert first.shape == (5000, 2) and (first[:, 0] == 0).all()
