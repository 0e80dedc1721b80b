"""Every method of the index engine against numbers written by hand from the Handbook formulas (1e-9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from citydiplomacy.assess.errors import IndexInputError
from citydiplomacy.assess.methods.aggregate import aggregate
from citydiplomacy.assess.methods.normalise import normalise_column
from citydiplomacy.assess.methods.treat import log_transform, skew_kurt, treat_series
from citydiplomacy.assess.methods.weights import (
    ahp_weights,
    check_ahp,
    entropy_weights,
    pca_weights,
    rank_order_centroid,
)

X = np.array([2.0, 4.0, 6.0, 10.0])
TOL = 1e-9


def test_minmax_both_directions_and_positive_scale() -> None:
    # I = (x - min)/(max - min)*100; min 2, max 10, range 8
    assert normalise_column(X, "minmax", 1) == pytest.approx([0, 25, 50, 100], abs=TOL)
    assert normalise_column(X, "minmax", -1) == pytest.approx([100, 75, 50, 0], abs=TOL)
    # for geometric/harmonic: I = 1 + 99 (x - min)/(max - min)
    assert normalise_column(X, "minmax", 1, positive=True) == pytest.approx([1, 25.75, 50.5, 100], abs=TOL)


def test_zscore_uses_sample_sd() -> None:
    # z = (x - mean)/sd, mean 5.5, deviations -3.5 -1.5 0.5 4.5, sum of squares 35, sd = sqrt(35/3) (ddof=1)
    sd = math.sqrt(35 / 3)
    expected = [-3.5 / sd, -1.5 / sd, 0.5 / sd, 4.5 / sd]
    assert normalise_column(X, "zscore", 1) == pytest.approx(expected, abs=TOL)
    assert normalise_column(X, "zscore", -1) == pytest.approx([-e for e in expected], abs=TOL)
    # positive scale for geometric/harmonic: z - min z + 1
    assert normalise_column(X, "zscore", 1, positive=True) == pytest.approx(
        [1, 1 + 2 / sd, 1 + 4 / sd, 1 + 8 / sd], abs=TOL
    )


def test_rank_with_ties_and_direction() -> None:
    x = np.array([2.0, 4.0, 4.0, 10.0])
    assert normalise_column(x, "rank", 1) == pytest.approx([1, 2.5, 2.5, 4], abs=TOL)
    assert normalise_column(x, "rank", -1) == pytest.approx([4, 2.5, 2.5, 1], abs=TOL)


def test_goalposts_given_and_derived() -> None:
    # clip((x - L)/(U - L), 0, 1)*100 with L=3, U=7
    assert normalise_column(X, "goalposts", 1, (3.0, 7.0)) == pytest.approx([0, 25, 75, 100], abs=TOL)
    assert normalise_column(X, "goalposts", -1, (3.0, 7.0)) == pytest.approx([100, 75, 25, 0], abs=TOL)
    # derived: 5th percentile = 2 + 0.15*2 = 2.3, 95th = 6 + 0.85*4 = 9.4 (linear interpolation)
    expected = [0, 1.7 / 7.1 * 100, 3.7 / 7.1 * 100, 100]
    assert normalise_column(X, "goalposts", 1) == pytest.approx(expected, abs=TOL)


def test_distance_to_frontier() -> None:
    assert normalise_column(X, "frontier", 1) == pytest.approx([20, 40, 60, 100], abs=TOL)  # x/max
    assert normalise_column(X, "frontier", -1) == pytest.approx([100, 50, 100 / 3, 20], abs=TOL)  # min/x
    with pytest.raises(IndexInputError, match="x > 0"):
        normalise_column(np.array([0.0, 1.0]), "frontier", -1, code="d")


def test_missing_values_stay_missing() -> None:
    out = normalise_column(np.array([2.0, np.nan, 10.0]), "minmax", 1)
    assert out[0] == 0 and np.isnan(out[1]) and out[2] == 100


def test_rank_order_centroid() -> None:
    # n = 3: w(rank 1) = (1 + 1/2 + 1/3)/3 = 11/18, w(2) = (1/2 + 1/3)/3 = 5/18, w(3) = (1/3)/3 = 2/18
    assert rank_order_centroid([2, 1, 3]) == pytest.approx([5 / 18, 11 / 18, 2 / 18], abs=TOL)
    with pytest.raises(ValueError):
        rank_order_centroid([1, 1, 2])


def test_entropy_weights() -> None:
    # columns: [1,1] p=(.5,.5) E=1 d=0; [1,3] p=(.25,.75); [0,2] p=(0,1) E=0 d=1 (0 ln 0 = 0)
    e2 = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)) / math.log(2)
    d = np.array([0.0, 1 - e2, 1.0])
    matrix = np.array([[1.0, 1.0, 0.0], [1.0, 3.0, 2.0]])
    assert entropy_weights(matrix) == pytest.approx(d / d.sum(), abs=TOL)


def test_pca_weights() -> None:
    # x2 = 2 x1 (correlation 1), x3 uncorrelated with both: R = [[1,1,0],[1,1,0],[0,0,1]],
    # largest eigenvalue 2 with eigenvector (1,1,0)/sqrt(2): squared loadings (.5, .5, 0)
    matrix = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, -1.0], [3.0, 6.0, -1.0], [4.0, 8.0, 1.0]])
    assert pca_weights(matrix) == pytest.approx([0.5, 0.5, 0.0], abs=TOL)


def test_ahp_consistent_matrix() -> None:
    # a_ij = w_i / w_j with w = (4, 2, 1)/7 is perfectly consistent: lambda_max = n = 3, CI = CR = 0
    a = np.array([[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]])
    result = ahp_weights(a)
    assert result.weights == pytest.approx([4 / 7, 2 / 7, 1 / 7], abs=TOL)
    assert result.lambda_max == pytest.approx(3.0, abs=TOL)
    assert result.ci == pytest.approx(0.0, abs=TOL) and result.cr == pytest.approx(0.0, abs=TOL)


@pytest.mark.parametrize(("a12", "a13", "a23", "accepted"), [(2.0, 3.0, 2.0, True), (2.0, 1.0, 2.0, False)])
def test_ahp_consistency_ratio(a12: float, a13: float, a23: float, accepted: bool) -> None:
    # For a 3x3 reciprocal matrix lambda_max = 1 + t + 1/t with t = (a13/(a12 a23))^(1/3);
    # CI = (lambda_max - 3)/2, CR = CI / RI_3 with Saaty's RI_3 = 0.58.
    t = (a13 / (a12 * a23)) ** (1 / 3)
    lam = 1 + t + 1 / t
    ci = (lam - 3) / 2
    matrix = np.array([[1, a12, a13], [1 / a12, 1, a23], [1 / a13, 1 / a23, 1]])
    result = ahp_weights(matrix)
    assert result.lambda_max == pytest.approx(lam, abs=TOL)
    assert result.ci == pytest.approx(ci, abs=TOL)
    assert result.cr == pytest.approx(ci / 0.58, abs=TOL)
    import pandas as pd

    frame = pd.DataFrame(matrix, index=["x", "y", "z"], columns=["x", "y", "z"])
    if accepted:
        assert check_ahp(frame, source="ahp.csv", parent="P1").cr < 0.1
    else:
        with pytest.raises(IndexInputError, match=r"ahp\.csv.*'P1'.*consistency ratio"):
            check_ahp(frame, source="ahp.csv", parent="P1")


def test_aggregations() -> None:
    w = np.array([0.25, 0.75])
    x = np.array([[4.0, 9.0]])
    # arithmetic sum w x = 1 + 6.75; geometric prod x^w = 4^.25 9^.75 = sqrt(2) * 3^1.5 = 3 sqrt(6)
    assert aggregate(x, w, "arithmetic")[0] == pytest.approx(7.75, abs=TOL)
    assert aggregate(x, w, "geometric")[0] == pytest.approx(3 * math.sqrt(6), abs=TOL)
    # harmonic sum w / sum(w/x) with x = (2, 6), w = (.5, .5): 1 / (.25 + 1/12) = 3
    assert aggregate(np.array([[2.0, 6.0]]), np.array([0.5, 0.5]), "harmonic")[0] == pytest.approx(3.0, abs=TOL)
    with pytest.raises(ValueError, match="positive"):
        aggregate(np.array([[0.0, 6.0]]), np.array([0.5, 0.5]), "geometric")


def test_aggregation_uses_available_data_never_zero() -> None:
    # (0.5*10 + 0.25*40) / (0.5 + 0.25) = 20: the gap is skipped and the weights renormalised
    x = np.array([[10.0, np.nan, 40.0], [np.nan, np.nan, np.nan]])
    out = aggregate(x, np.array([0.5, 0.25, 0.25]), "arithmetic")
    assert out[0] == pytest.approx(20.0, abs=TOL)
    assert np.isnan(out[1])
    assert aggregate(x, np.array([0.5, 0.25, 0.25]), "geometric")[0] == pytest.approx(
        10 ** (2 / 3) * 40 ** (1 / 3), abs=TOL
    )


def test_skew_kurt_formulas() -> None:
    # G1 = g1 sqrt(n(n-1))/(n-2), g1 = m3/m2^1.5; G2 = ((n+1) g2 + 6)(n-1)/((n-2)(n-3)), g2 = m4/m2^2 - 3
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    n = 5
    d = x - x.mean()
    m2, m3, m4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
    g1, g2 = m3 / m2**1.5, m4 / m2**2 - 3
    skew, kurt = skew_kurt(x)
    assert skew == pytest.approx(g1 * math.sqrt(n * (n - 1)) / (n - 2), abs=TOL)
    assert kurt == pytest.approx(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)), abs=TOL)


def test_winsorise_one_point() -> None:
    x = np.array([*range(1, 20), 1000.0])
    treated, action, high, low = treat_series(x)
    assert action == "winsorised" and (high, low) == (1, 0)
    assert treated[-1] == 19.0 and np.array_equal(treated[:-1], x[:-1])


def test_winsorise_falls_back_to_log_after_cap() -> None:
    x = np.array([*range(1, 19), 500.0, 1000.0])
    skew, kurt = skew_kurt(np.array([*range(1, 19), 500.0, 500.0]))
    assert abs(skew) > 2 and kurt > 3.5  # one step is not enough
    treated, action, high, low = treat_series(x, cap=1)
    assert action == "log" and (high, low) == (0, 0)
    # COINr log_CT: ln(x - min + 0.1 (max - min)) with min 1, max 1000
    assert treated == pytest.approx(np.log(x - 1 + 0.1 * 999), abs=TOL)


def test_log_transform_mirrors_negative_skew() -> None:
    x = np.array([-1000.0, *range(1, 20)])
    out = log_transform(x)
    assert out == pytest.approx(-np.log(19 - x + 0.1 * 1019), abs=TOL)
    assert np.all(np.diff(out) > 0)  # direction kept


@given(st.lists(st.integers(-(10**6), 10**6), min_size=2, max_size=30, unique=True))
def test_minmax_range_and_order(values: list[int]) -> None:
    x = np.array(values, dtype=float)
    out = normalise_column(x, "minmax", 1)
    assert out.min() == pytest.approx(0) and out.max() == pytest.approx(100)
    assert np.array_equal(np.argsort(out, kind="stable"), np.argsort(x, kind="stable"))
