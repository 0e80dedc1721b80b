"""Weighting (Handbook step 6): the weights of the children of each aggregate, summing to one.

=============  =========================================================================================
``framework``  the framework's ``weight`` column, normalised within each parent
``equal``      ``1 / n`` for the ``n`` children of each parent
``rank-order`` rank-order centroid from the framework's ``literature_rank`` (1 = most important):
               ``w_k = (1/n) * sum_{i=k..n} 1/i``
``entropy``    ``p_ij = x_ij / sum_i x_ij``, ``E_j = -(1/ln n) sum_i p_ij ln p_ij`` (``0 ln 0 = 0``),
               ``d_j = 1 - E_j``, ``w_j = d_j / sum_j d_j``.  The pipeline feeds the children's values
               rescaled to ``[0, 1]`` by min-max (so ``p_ij`` exists whatever the normalisation) over the
               units that have all children.
``pca``        first principal component of the children's correlation matrix (sample, ``ddof=1``,
               complete units): ``w_j = v_j**2`` where ``v`` is the unit-length eigenvector of the
               largest eigenvalue (so the weights sum to one).  This is the simple one-factor variant of
               the Handbook's "squared factor loadings scaled to unity"; with one retained factor the two
               coincide up to the scaling constant.
``ahp``        analytic hierarchy process from a pairwise comparison matrix ``A`` (``a_ij`` = how much
               more important ``i`` is than ``j``, ``a_ji = 1/a_ij``): ``w`` = principal right eigenvector
               normalised to sum one, ``CI = (lambda_max - n)/(n - 1)``, ``CR = CI / RI_n`` with Saaty's
               random index table; matrices with ``CR > 0.1`` are **rejected**.  Parents without a matrix
               keep the framework weights.
=============  =========================================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from citydiplomacy.assess.errors import IndexInputError
from citydiplomacy.assess.framework import read_csv_text

WEIGHTINGS = ("framework", "equal", "rank-order", "entropy", "pca", "ahp")

#: Saaty's random consistency index RI by matrix order n (Saaty 1980).
SAATY_RI: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}

#: AHP matrices with a consistency ratio above this are rejected (Saaty's 10 % rule).
AHP_MAX_CR = 0.1


def rank_order_centroid(ranks: Sequence[float]) -> np.ndarray:
    """Rank-order centroid weights.

    Parameters
    ----------
    ranks
        Importance rank of each item, a permutation of ``1..n`` (1 = most important).

    Returns
    -------
    numpy.ndarray
        ``w[j] = (1/n) * sum_{i=rank_j..n} 1/i``, shape ``(n,)``, sums to one.
    """
    ranks = np.asarray(ranks, dtype=float)
    n = ranks.size
    if sorted(ranks.tolist()) != list(range(1, n + 1)):
        raise ValueError(f"literature ranks must be a permutation of 1..{n}, got {ranks.tolist()}")
    tail = np.cumsum((1.0 / np.arange(1, n + 1))[::-1])[::-1]  # tail[k-1] = sum_{i=k..n} 1/i
    return tail[ranks.astype(int) - 1] / n


def entropy_weights(matrix: np.ndarray) -> np.ndarray:
    """Entropy weights of the columns of a non-negative ``(n_units, n_items)`` matrix (see module doc)."""
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError("entropy weights need at least two units")
    if (x < 0).any():
        raise ValueError("entropy weights need non-negative values")
    totals = x.sum(axis=0)
    if (totals == 0).any():
        raise ValueError("entropy weights: a column sums to zero")
    p = x / totals
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    entropy = -plogp.sum(axis=0) / np.log(x.shape[0])
    divergence = 1.0 - entropy
    if divergence.sum() <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return divergence / divergence.sum()


def pca_weights(matrix: np.ndarray) -> np.ndarray:
    """Squared loadings of the first principal component of the columns' correlation matrix."""
    x = np.asarray(matrix, dtype=float)
    if x.shape[1] == 1:
        return np.ones(1)
    if x.shape[0] < 3:
        raise ValueError("PCA weights need at least three complete units")
    sd = x.std(axis=0, ddof=1)
    if (sd == 0).any():
        raise ValueError("PCA weights: a column has zero variance")
    z = (x - x.mean(axis=0)) / sd
    corr = (z.T @ z) / (x.shape[0] - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(corr)
    first = eigenvectors[:, np.argmax(eigenvalues)]
    return first**2 / np.sum(first**2)


@dataclass(frozen=True)
class AHPResult:
    """Weights and consistency of one pairwise comparison matrix."""

    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float


def ahp_weights(matrix: np.ndarray) -> AHPResult:
    """AHP principal-eigenvector weights with Saaty's consistency ratio (not checked against 0.1 here).

    Parameters
    ----------
    matrix
        Positive reciprocal ``(n, n)`` matrix.

    Returns
    -------
    AHPResult
        ``weights`` (shape ``(n,)``, sum one), ``lambda_max``, ``ci = (lambda_max - n)/(n - 1)`` and
        ``cr = ci / RI_n`` (0 for ``n <= 2``).
    """
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    if a.shape != (n, n) or n == 0:
        raise ValueError("the AHP matrix must be square")
    if (a <= 0).any():
        raise ValueError("AHP judgements must be positive")
    if not np.allclose(np.diag(a), 1.0):
        raise ValueError("the AHP matrix must have ones on its diagonal")
    if not np.allclose(a * a.T, 1.0, rtol=0.01, atol=0.01):
        raise ValueError("the AHP matrix must be reciprocal (a_ji = 1 / a_ij)")
    eigenvalues, eigenvectors = np.linalg.eig(a)
    k = int(np.argmax(eigenvalues.real))
    vector = np.abs(eigenvectors[:, k].real)
    weights = vector / vector.sum()
    lambda_max = float(eigenvalues[k].real)
    ci = (lambda_max - n) / (n - 1) if n > 1 else 0.0
    ri = SAATY_RI.get(n, 1.59)
    cr = ci / ri if ri > 0 else 0.0
    return AHPResult(weights=weights, lambda_max=lambda_max, ci=ci, cr=cr)


def read_ahp_csv(path: str | Path) -> pd.DataFrame:
    """Read a pairwise comparison matrix: first column ``code``, then one column per code.

    Cells may be decimals or fractions (``1/3``).  Returns a square float frame indexed by code.
    """
    source = str(path)
    frame = read_csv_text(path)
    if frame.columns[0] != "code":
        raise IndexInputError("the first column of an AHP matrix must be 'code'", source=source, row=0)
    codes = frame["code"].tolist()
    if list(frame.columns[1:]) != codes:
        raise IndexInputError("AHP matrix columns must repeat the row codes in the same order", source=source, row=0)
    values = np.empty((len(codes), len(codes)))
    for i, code in enumerate(codes):
        for j, other in enumerate(codes):
            text = frame.iloc[i, j + 1]
            try:
                values[i, j] = float(Fraction(text))
            except (ValueError, ZeroDivisionError):
                raise IndexInputError(
                    f"judgement {text!r} against {other!r} is not a positive number",
                    source=source,
                    row=i + 1,
                    code=code,
                ) from None
    return pd.DataFrame(values, index=codes, columns=codes)


def check_ahp(matrix: pd.DataFrame, *, source: str, parent: str) -> AHPResult:
    """Compute AHP weights and reject an inconsistent matrix (``CR > 0.1``) with :class:`IndexInputError`."""
    try:
        result = ahp_weights(matrix.to_numpy())
    except ValueError as exc:
        raise IndexInputError(str(exc), source=source, code=parent) from None
    if result.cr > AHP_MAX_CR:
        raise IndexInputError(
            f"AHP consistency ratio {result.cr:.3f} exceeds {AHP_MAX_CR} (CI {result.ci:.3f}, "
            f"lambda_max {result.lambda_max:.3f}); revise the judgements",
            source=source,
            code=parent,
        )
    return result


def minmax_unit(matrix: np.ndarray) -> np.ndarray:
    """Rescale each column to ``[0, 1]`` (constant columns become 0)."""
    low = matrix.min(axis=0)
    spread = matrix.max(axis=0) - low
    return (matrix - low) / np.where(spread > 0, spread, 1.0)
