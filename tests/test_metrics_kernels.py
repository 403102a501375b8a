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


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(-3, 3) | st.floats(-2, 2)), max_size=40),
    st.booleans(),
)
def test_branch_free_curve_walks_match_references(pairs, drop) -> None:
    """The fused ROC, PR and AP walks against the NumPy statement, whatever the interleaving
    of the classes and the ties (one class or none included)."""
    is_pos = np.array([p for p, _ in pairs], dtype=bool)
    scores = np.array([v for _, v in pairs], dtype=np.float64) + 0.0  # no -0.0
    pos, neg = np.sort(scores[is_pos]), np.sort(scores[~is_pos])
    thresholds, tps, fps = K.merge_counts_reference(pos, neg)
    want = K.roc_arrays_reference(thresholds, tps, fps, drop)
    for got, expected in zip(K.roc_curve_sorted(pos, neg, drop), want):
        assert got.dtype == expected.dtype and np.array_equal(got, expected, equal_nan=True)
    with np.errstate(all="ignore"):
        want = K.pr_arrays_reference(thresholds, tps, fps)
    for got, expected in zip(K.pr_curve_sorted(pos, neg), want):
        assert got.dtype == expected.dtype and np.array_equal(got, expected)
    if len(pos):
        got = K.average_precision_sorted(pos, neg)
        assert np.array_equal(got, K.average_precision_terms_reference(tps, fps))


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


# Radix and counting sorts of class scores
# --------------------------------------------------------------------------------------

_SPECIAL = [0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324, 2.2250738585072014e-308, 1.0, -1.0]


def _float_lists(width: int):
    special = st.sampled_from([float(np.array(v).astype(f"f{width // 8}")) for v in _SPECIAL])
    floats = st.floats(width=width, allow_nan=True, allow_infinity=True, allow_subnormal=True)
    ties = st.sampled_from([0.5, -2.0, 3.25])  # few distinct values: many ties
    return st.lists(st.tuples(st.booleans(), st.one_of(special, floats, ties)), max_size=120)


def _distinct_keys(values: np.ndarray) -> int:
    """Distinct values telling -0.0 from 0.0, all NaNs as one."""
    bits = values.view(f"u{values.dtype.itemsize}")
    if values.dtype.kind != "f":
        return len(np.unique(bits))
    nan = np.isnan(values)
    return len(np.unique(bits[~nan])) + int(nan.any())


def _radix_against_reference(is_pos: np.ndarray, values: np.ndarray) -> None:
    kind = {"f": K.KIND_FLOAT, "i": K.KIND_SIGNED, "u": K.KIND_UNSIGNED}[values.dtype.kind]
    width = 8 * values.dtype.itemsize
    bits = values.view(f"u{values.dtype.itemsize}")
    ref = K.radix_split_sort_reference(is_pos, bits, kind, width)
    labels = is_pos.view(np.uint8)
    _same_split_sort(values, K.radix_split_sort(labels, bits, kind, width), ref)
    for max_distinct in (3, 4096):
        got = K.count_split_sort(labels, bits, kind, width, max_distinct)
        gives_up = _distinct_keys(values) > max_distinct
        assert (got[1] == -1) == gives_up
        if not gives_up:
            _same_split_sort(values, got, ref)


def _same_split_sort(values: np.ndarray, result: tuple, reference: tuple) -> None:
    out, n_pos, negative_zero = result
    bits = values.view(f"u{values.dtype.itemsize}")
    ref, ref_n_pos, ref_negative_zero = reference
    assert out.dtype == bits.dtype and out.shape == bits.shape
    assert n_pos == ref_n_pos and negative_zero == ref_negative_zero
    got, want = out.view(values.dtype), ref.view(values.dtype)
    assert np.array_equal(got, want, equal_nan=values.dtype.kind == "f")
    if values.dtype.kind == "f":
        for part in (slice(0, n_pos), slice(n_pos, None)):
            g, w = got[part], want[part]
            # the same zeros of each sign, -0.0 just before tied 0.0, NaNs (last) all NaN
            assert np.signbit(g[~np.isnan(g)]).sum() == np.signbit(w[~np.isnan(w)]).sum()
            zeros = g[g == 0]
            assert np.array_equal(np.signbit(zeros), np.sort(np.signbit(zeros))[::-1])


@settings(max_examples=150, deadline=None)
@given(_float_lists(64))
def test_radix_split_sort_matches_reference_float64(pairs) -> None:
    is_pos = np.array([p for p, _ in pairs], dtype=bool)
    _radix_against_reference(is_pos, np.array([v for _, v in pairs], dtype=np.float64))


@settings(max_examples=150, deadline=None)
@given(_float_lists(32))
def test_radix_split_sort_matches_reference_float32(pairs) -> None:
    is_pos = np.array([p for p, _ in pairs], dtype=bool)
    _radix_against_reference(is_pos, np.array([v for _, v in pairs], dtype=np.float32))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(-(2**63), 2**63 - 1)), max_size=80),
    st.booleans(),
)
def test_radix_split_sort_matches_reference_integers(pairs, unsigned) -> None:
    is_pos = np.array([p for p, _ in pairs], dtype=bool)
    values = np.array([v for _, v in pairs], dtype=np.int64)
    _radix_against_reference(is_pos, values.view(np.uint64) if unsigned else values)


def _near_runs(n_runs: int, run: int, seed: int) -> np.ndarray:
    """Runs of ``run`` floats a few ulps apart (equal high bits, different low digits)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=n_runs)
    steps = rng.integers(-run, run, (n_runs, run))
    values = (base[:, None] + steps * np.spacing(base)[:, None]).ravel()
    return rng.permutation(values)


def _continuous_with_specials(n: int) -> np.ndarray:
    values = np.random.default_rng(4).normal(size=n)
    values[:6] = [-0.0, 0.0, np.nan, np.inf, -np.inf, 5e-324]
    return values


@pytest.mark.parametrize(
    "values",
    [
        _near_runs(150, 40, 5),  # runs longer than _SHORT_RUN: np.sort
        _near_runs(1500, 3, 6),  # short runs: insertion sort
        _continuous_with_specials(5000),
        np.zeros(0),
        np.array([-0.0]),
        np.full(3000, 7.5),  # every digit constant: only the class split pass runs
        np.round(np.random.default_rng(0).normal(size=5000), 1),
        np.random.default_rng(1).normal(size=5000).astype(np.float32),
        np.random.default_rng(2).integers(-3, 3, 4000),
        np.random.default_rng(3).random(4000) * 1e-310,  # subnormals only
    ],
    ids=[
        "near-long",
        "near-short",
        "specials",
        "empty",
        "one",
        "all-equal",
        "ties",
        "float32",
        "small-ints",
        "subnormals",
    ],
)
@pytest.mark.parametrize("positives", ["mixed", "all", "none"])
def test_radix_split_sort_sizes_and_ties(values, positives) -> None:
    rng = np.random.default_rng(len(values))
    is_pos = {"mixed": rng.random(len(values)) < 0.3, "all": np.ones(len(values), bool)}.get(
        positives, np.zeros(len(values), bool)
    )
    _radix_against_reference(is_pos, values)


def _argsort_against_reference(values: np.ndarray) -> None:
    kind = {"f": K.KIND_FLOAT, "i": K.KIND_SIGNED, "u": K.KIND_UNSIGNED}[values.dtype.kind]
    width = 8 * values.dtype.itemsize
    bits = values.view(f"u{values.dtype.itemsize}")
    got = K.radix_argsort_descending(bits, kind, width)
    want = K.radix_argsort_descending_reference(bits, kind, width)
    assert got.dtype == np.int64 and np.array_equal(got, want)


@settings(max_examples=150, deadline=None)
@given(_float_lists(64), _float_lists(32))
def test_radix_argsort_matches_reversed_stable_argsort_floats(pairs64, pairs32) -> None:
    _argsort_against_reference(np.array([v for _, v in pairs64], dtype=np.float64))
    _argsort_against_reference(np.array([v for _, v in pairs32], dtype=np.float32))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=80), st.booleans())
def test_radix_argsort_matches_reversed_stable_argsort_integers(values, unsigned) -> None:
    array = np.array(values, dtype=np.int64)
    _argsort_against_reference(array.view(np.uint64) if unsigned else array)


@pytest.mark.parametrize("seed", [0, 1])
def test_radix_argsort_large_with_ties_and_signed_zeros(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.choice(np.array([-0.0, 0.0, 1.5, -2.0, np.nan, 1e-310]), 5000)
    _argsort_against_reference(values)
    _argsort_against_reference(rng.normal(size=5000))
    _argsort_against_reference(np.full(3000, 2.0))  # every digit constant
