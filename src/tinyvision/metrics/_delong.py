"""DeLong's variance of the ROC AUC: confidence intervals and the paired two-model test.

DeLong, DeLong & Clarke-Pearson (1988) write the AUC of ``m`` positives ``X`` and ``n``
negatives ``Y`` as a two-sample U-statistic and estimate its variance from the *placement
values* ``V10(X_i) = mean_j psi(X_i, Y_j)`` and ``V01(Y_j) = mean_i psi(X_i, Y_j)`` with
``psi(x, y) = 1 if x > y, 1/2 if x == y, 0 otherwise``::

    var(AUC) = S10 / m + S01 / n,   S10 = sample variance of V10,  S01 = of V01.

Sun & Xu (2014) get all placements from midranks in O(N log N) instead of O(m n):
``V10_i = (rank of X_i among all - rank of X_i among X) / n``. For one model the grouped
form suffices: walking the two sorted score arrays once gives every tie group's placement,
so ``roc_auc_ci`` costs little more than ``roc_auc_score`` (the sorting is shared). The
paired test needs per-sample placements of both models, taken from midranks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from tinyvision._validate import check_float
from tinyvision.metrics import _kernels
from tinyvision.metrics._labels import check_lengths
from tinyvision.metrics._ranking import (
    binary_input,
    binary_roc_auc,
    roc_auc_of_sorted,
    score_array,
    sorted_classes,
)
from tinyvision.metrics._warnings import warn_undefined

__all__ = ["DeLongTest", "RocAucCI", "delong_test", "roc_auc_ci"]


@dataclass(frozen=True)
class RocAucCI:
    """ROC AUC with its DeLong standard error and a normal-approximation interval.

    Attributes:
        auc: the ROC AUC, equal to ``roc_auc_score`` on the same input.
        lower, upper: the interval ``auc -/+ z * std_error``, clipped to [0, 1].
        std_error: DeLong's standard error of the AUC.
        confidence: the two-sided confidence level of the interval (e.g. 0.95).
    """

    auc: float
    lower: float
    upper: float
    std_error: float
    confidence: float


@dataclass(frozen=True)
class DeLongTest:
    """DeLong's paired test of two ROC AUCs measured on the same samples.

    Attributes:
        auc_a, auc_b: the two AUCs (as ``roc_auc_score``).
        z: ``(auc_a - auc_b) / std_error``.
        p_value: two-sided p-value of ``auc_a == auc_b`` under the normal approximation.
        std_error: standard error of ``auc_a - auc_b`` (accounts for the pairing).
    """

    auc_a: float
    auc_b: float
    z: float
    p_value: float
    std_error: float


def _z_value(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def roc_auc_ci(
    y_true: Any, y_score: Any, *, confidence: float = 0.95, pos_label: Any = None
) -> RocAucCI:
    """ROC AUC with a DeLong confidence interval (fast midrank algorithm, Sun & Xu 2014).

    Args:
        y_true: ``(n_samples,)`` binary labels ({0, 1} or {-1, 1} unless ``pos_label``).
        y_score: ``(n_samples,)`` scores.
        confidence: two-sided level in (0, 1).
        pos_label: the positive class.

    Returns:
        :class:`RocAucCI` ``(auc, lower, upper, std_error, confidence)``. NaN fields with an
        :class:`UndefinedMetricWarning` when a class is missing; NaN ``std_error`` and bounds
        when either class has a single sample (no sample variance).

    Raises:
        ValueError: empty input (no samples), as ``roc_auc_score``.
    """
    confidence = check_float(
        confidence, "confidence", minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False
    )
    problem = binary_input(y_true, y_score, pos_label=pos_label)
    pos, neg, _ = sorted_classes(problem)  # shared by the AUC and its variance
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        binary_roc_auc(problem)  # warns
        return RocAucCI(math.nan, math.nan, math.nan, math.nan, confidence)
    auc = roc_auc_of_sorted(pos, neg)
    if m < 2 or n < 2:
        warn_undefined(
            "The DeLong variance needs at least two positive and two negative samples; "
            "std_error and the interval are nan."
        )
        return RocAucCI(auc, math.nan, math.nan, math.nan, confidence)
    s10, s01, _ = _kernels.delong_sums(pos, neg, auc)
    variance = s10 / (m - 1) / m + s01 / (n - 1) / n
    std_error = math.sqrt(max(variance, 0.0))
    half_width = _z_value(confidence) * std_error
    return RocAucCI(
        auc, max(0.0, auc - half_width), min(1.0, auc + half_width), std_error, confidence
    )


def _placements(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sun & Xu: ``V10 (m,)`` and ``V01 (n,)`` from the midranks of X, Y and X u Y."""
    m, n = len(pos), len(neg)
    tx = _kernels.midranks(pos)
    ty = _kernels.midranks(neg)
    tz = _kernels.midranks(np.concatenate([pos, neg]))
    return (tz[:m] - tx) / n, 1.0 - (tz[m:] - ty) / m


def delong_test(
    y_true: Any, y_score_a: Any, y_score_b: Any, *, pos_label: Any = None
) -> DeLongTest:
    """Compare the ROC AUCs of two models scored on the same samples (DeLong et al. 1988).

    Args:
        y_true: ``(n_samples,)`` binary labels ({0, 1} or {-1, 1} unless ``pos_label``).
        y_score_a, y_score_b: ``(n_samples,)`` scores of the two models.
        pos_label: the positive class.

    Returns:
        :class:`DeLongTest` ``(auc_a, auc_b, z, p_value, std_error)``. When the difference has
        zero variance: ``z = 0, p = 1`` for equal AUCs, else ``z = +-inf, p = 0``.

    Raises:
        ValueError: empty input (no samples), as ``roc_auc_score``.
    """
    a = binary_input(y_true, y_score_a, pos_label=pos_label)
    scores_b = score_array(y_score_b, "y_score_b")
    check_lengths(y_score_a=a.scores, y_score_b=scores_b)
    b = binary_input(y_true, scores_b, pos_label=pos_label)
    auc_a = binary_roc_auc(a)
    auc_b = binary_roc_auc(b)
    nan = math.nan
    if math.isnan(auc_a):
        return DeLongTest(nan, nan, nan, nan, nan)
    m = int(a.is_pos.sum())
    n = len(a.is_pos) - m
    if m < 2 or n < 2:
        warn_undefined(
            "The DeLong variance needs at least two positive and two negative samples; "
            "z, p_value and std_error are nan."
        )
        return DeLongTest(auc_a, auc_b, nan, nan, nan)
    v10_a, v01_a = _placements(
        a.scores[a.is_pos].astype(np.float64), a.scores[~a.is_pos].astype(np.float64)
    )
    v10_b, v01_b = _placements(
        b.scores[b.is_pos].astype(np.float64), b.scores[~b.is_pos].astype(np.float64)
    )
    s10 = np.cov(np.stack([v10_a, v10_b]))  # (2, 2), ddof=1
    s01 = np.cov(np.stack([v01_a, v01_b]))
    cov = s10 / m + s01 / n
    variance = cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1]
    difference = auc_a - auc_b
    if variance <= 0:
        if difference == 0:
            return DeLongTest(auc_a, auc_b, 0.0, 1.0, 0.0)
        return DeLongTest(auc_a, auc_b, math.copysign(math.inf, difference), 0.0, 0.0)
    std_error = math.sqrt(variance)
    z = difference / std_error
    return DeLongTest(auc_a, auc_b, z, math.erfc(abs(z) / math.sqrt(2.0)), std_error)
