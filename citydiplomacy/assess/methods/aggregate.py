"""Aggregation (Handbook step 7) of the children of one framework node, with the available-data rule.

For unit ``c`` with children values ``x_j`` and weights ``w_j`` (summing to one over all children), only
the children the unit *has* take part and their weights are renormalised (``W = sum of available w``):

=============  ===================================================================
``arithmetic`` ``y = sum_j w_j x_j / W``
``geometric``  ``y = prod_j x_j ** (w_j / W)``  (computed as ``exp(sum w ln x / W)``)
``harmonic``   ``y = W / sum_j (w_j / x_j)``
=============  ===================================================================

A unit with none of the children gets NaN (never zero).  Geometric and harmonic means are only defined
for strictly positive ``x``; the pipeline guarantees it by normalising on a positive scale (see
:mod:`~citydiplomacy.assess.methods.normalise`) and this function raises ``ValueError`` otherwise.
"""

from __future__ import annotations

import numpy as np

AGGREGATIONS = ("arithmetic", "geometric", "harmonic")


def aggregate(values: np.ndarray, weights: np.ndarray, method: str = "arithmetic") -> np.ndarray:
    """Aggregate children into their parent's score.

    Parameters
    ----------
    values
        ``(n_units, n_children)`` children scores, NaN = missing.
    weights
        ``(n_children,)`` non-negative weights.
    method
        ``arithmetic | geometric | harmonic``.

    Returns
    -------
    numpy.ndarray
        ``(n_units,)`` parent scores; NaN where a unit has no child value.
    """
    x = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    present = np.isfinite(x)
    available = present @ w  # W per unit
    filled = np.where(present, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "arithmetic":
            total = filled @ w
            out = total / available
        elif method in ("geometric", "harmonic"):
            if (filled[present] <= 0).any():
                raise ValueError(f"{method} aggregation needs strictly positive values")
            if method == "geometric":
                out = np.exp((np.where(present, np.log(np.where(present, x, 1.0)), 0.0) @ w) / available)
            else:
                out = available / (np.where(present, 1.0 / np.where(present, x, 1.0), 0.0) @ w)
        else:
            raise ValueError(f"unknown aggregation {method!r}; choose {'|'.join(AGGREGATIONS)}")
    out[available <= 0] = np.nan
    return out
