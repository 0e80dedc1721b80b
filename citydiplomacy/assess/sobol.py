"""Variance-based sensitivity: first-order and total Sobol indices with the Saltelli (2010) design.

Design: two independent ``(N, d)`` matrices ``A`` and ``B`` of uniform [0, 1) inputs; for each factor
*group* ``i`` (a group is one or several columns that move together, e.g. all the weights) the matrix
``AB_i`` is ``A`` with the columns of group ``i`` taken from ``B``.  With ``f`` the model output,

* first order (Saltelli et al. 2010, eq. (b) of table 2):
  ``V_i = (1/N) sum_j f(B)_j (f(AB_i)_j - f(A)_j)``,   ``S_i = V_i / V(Y)``
* total effect (Jansen 1999):
  ``VT_i = (1/2N) sum_j (f(A)_j - f(AB_i)_j)^2``,      ``ST_i = VT_i / V(Y)``

where ``V(Y)`` is the variance of the ``2N`` outputs ``f(A), f(B)``.  The cost is ``N (k + 2)`` model
runs for ``k`` groups.  :class:`SobolAccumulator` sums these terms batch by batch, so the outputs never
need to be stored; outputs may be scalars or vectors (e.g. one rank per unit), the indices then have the
same trailing shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def ab_matrix(a: np.ndarray, b: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """``A`` with the given columns replaced by those of ``B`` (the ``AB_i`` matrix)."""
    out = a.copy()
    out[:, list(columns)] = b[:, list(columns)]
    return out


class SobolAccumulator:
    """Streaming sums for the Saltelli/Jansen estimators.

    Parameters
    ----------
    n_groups
        Number of factor groups ``k``.
    shape
        Trailing shape of one model output (``()`` for a scalar, ``(n_units,)`` for a rank vector).
    offset
        Constant subtracted from every output before summing; the indices do not depend on it but the
        first-order estimator has lower variance and less cancellation when outputs are centred.
    """

    def __init__(self, n_groups: int, shape: tuple[int, ...] = (), offset: float | np.ndarray = 0.0) -> None:
        self.k = n_groups
        self.n = 0
        self.offset = np.asarray(offset, dtype=np.float64)
        self.sum_a = np.zeros(shape)
        self.sum_b = np.zeros(shape)
        self.sum_sq = np.zeros(shape)
        self.first = np.zeros((n_groups, *shape))
        self.total = np.zeros((n_groups, *shape))

    def update(self, f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> None:
        """Add a batch: ``f_a, f_b`` of shape ``(b, *shape)``, ``f_ab`` of shape ``(k, b, *shape)``."""
        f_a = np.asarray(f_a, dtype=np.float64) - self.offset
        f_b = np.asarray(f_b, dtype=np.float64) - self.offset
        f_ab = np.asarray(f_ab, dtype=np.float64) - self.offset
        self.n += f_a.shape[0]
        self.sum_a += f_a.sum(axis=0)
        self.sum_b += f_b.sum(axis=0)
        self.sum_sq += (f_a**2).sum(axis=0) + (f_b**2).sum(axis=0)
        for i in range(self.k):
            self.first[i] += (f_b * (f_ab[i] - f_a)).sum(axis=0)
            self.total[i] += ((f_a - f_ab[i]) ** 2).sum(axis=0)

    @property
    def variance(self) -> np.ndarray:
        """``V(Y)`` over the ``2N`` outputs of ``A`` and ``B`` (population variance)."""
        m = 2 * self.n
        mean = (self.sum_a + self.sum_b) / m
        return self.sum_sq / m - mean**2

    def partial_variances(self) -> tuple[np.ndarray, np.ndarray]:
        """``(V_i, VT_i)``, shapes ``(k, *shape)``."""
        return self.first / self.n, self.total / (2 * self.n)

    def indices(self) -> tuple[np.ndarray, np.ndarray]:
        """``(S1, ST)``, shapes ``(k, *shape)``; NaN where the output does not vary."""
        v = self.variance
        first, total = self.partial_variances()
        with np.errstate(invalid="ignore", divide="ignore"):
            safe = np.where(v > 0, v, np.nan)
            return first / safe, total / safe


def sobol_indices(
    model: Callable[[np.ndarray], np.ndarray],
    groups: Sequence[Sequence[int]],
    n_base: int,
    seed: int = 0,
    batch_size: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate first-order and total indices of a vectorised model on the unit hypercube.

    Parameters
    ----------
    model
        Maps ``(m, d)`` inputs in [0, 1) to ``(m,)`` outputs (transform to the factors' ranges inside).
    groups
        Column indices of each factor group (``[[0], [1], [2]]`` for three single factors).
    n_base
        Base sample size ``N``; the cost is ``N (k + 2)`` model evaluations.
    seed
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    S1, ST : numpy.ndarray
        Shape ``(k,)`` each.
    """
    d = max(max(g) for g in groups) + 1
    rng = np.random.default_rng(seed)
    acc = SobolAccumulator(len(groups))
    done = 0
    while done < n_base:
        size = min(batch_size, n_base - done)
        a = rng.random((size, d))
        b = rng.random((size, d))
        f_ab = np.stack([model(ab_matrix(a, b, g)) for g in groups])
        acc.update(model(a), model(b), f_ab)
        done += size
    return acc.indices()


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami function on ``[-pi, pi]^3`` (inputs given in [0, 1) and rescaled here)."""
    z = -np.pi + 2 * np.pi * np.asarray(x)
    return np.sin(z[:, 0]) + a * np.sin(z[:, 1]) ** 2 + b * z[:, 2] ** 4 * np.sin(z[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic ``(S1, ST)`` of the Ishigami function (Ishigami & Homma 1990; Sobol' & Levitan 1999)."""
    pi4, pi8 = np.pi**4, np.pi**8
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * pi8 / 225  # = b^2 pi^8 (1/18 - 1/50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def sobol_g(x: np.ndarray, a: Sequence[float]) -> np.ndarray:
    """Sobol' G-function ``prod_i (|4 x_i - 2| + a_i) / (1 + a_i)`` on ``[0, 1]^d``."""
    a_arr = np.asarray(a, dtype=float)
    return np.prod((np.abs(4 * np.asarray(x) - 2) + a_arr) / (1 + a_arr), axis=1)


def sobol_g_indices(a: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Analytic ``(S1, ST)`` of the G-function: ``V_i = 1/(3 (1 + a_i)^2)``, ``V = prod(1 + V_i) - 1``."""
    vi = 1.0 / (3 * (1 + np.asarray(a, dtype=float)) ** 2)
    v = np.prod(1 + vi) - 1
    total = np.array([vi[i] * np.prod(np.delete(1 + vi, i)) for i in range(vi.size)])
    return vi / v, total / v
