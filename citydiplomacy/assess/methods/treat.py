"""Outlier treatment (Handbook step 4, as implemented by COINr).

An indicator is *treated* when ``|skewness| > 2`` **and** ``kurtosis > 3.5``.  Skewness is the adjusted
Fisher-Pearson coefficient ``G1`` and kurtosis the adjusted *excess* kurtosis ``G2`` (the same as Excel's
``SKEW`` / ``KURT`` and ``scipy.stats.skew(bias=False)`` / ``kurtosis(fisher=True, bias=False)``).

Winsorisation, one step at a time from the most extreme: if the current skew is positive, the point(s) at
the current maximum are set to the next lower distinct value; if negative, the point(s) at the minimum
are set to the next higher value.  After each step the rule is re-checked; at most ``cap`` steps
(default 5; with no ties a step is one point).  If the indicator still fails after ``cap`` steps, the
winsorisation is undone and a log transform is applied to the original values instead:

* positive skew: ``ln(x - min + 0.1 (max - min))`` (COINr's ``log_CT``);
* negative skew: ``-ln(max - x + 0.1 (max - min))`` (the mirror image, so the direction is kept).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

SKEW_THRESHOLD = 2.0
KURT_THRESHOLD = 3.5
WINSOR_CAP = 5


def skew_kurt(x: np.ndarray) -> tuple[float, float]:
    """Adjusted skewness ``G1`` and adjusted excess kurtosis ``G2`` of the finite values of ``x``.

    Returns ``(nan, nan)`` with fewer than 4 values or zero variance.
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 4 or np.ptp(x) == 0:
        return float("nan"), float("nan")
    return float(stats.skew(x, bias=False)), float(stats.kurtosis(x, fisher=True, bias=False))


def needs_treatment(
    skew: float, kurt: float, skew_threshold: float = SKEW_THRESHOLD, kurt_threshold: float = KURT_THRESHOLD
) -> bool:
    """The Handbook/COINr rule: ``|skew| > skew_threshold`` and ``kurt > kurt_threshold``."""
    return bool(abs(skew) > skew_threshold and kurt > kurt_threshold)


@dataclass(frozen=True)
class TreatmentRecord:
    """What happened to one indicator (a row of the treatment log)."""

    code: str
    action: str  # "none" | "winsorised" | "log"
    winsorised_high: int
    winsorised_low: int
    skew_before: float
    kurt_before: float
    skew_after: float
    kurt_after: float


def treat_series(
    x: np.ndarray,
    *,
    cap: int = WINSOR_CAP,
    skew_threshold: float = SKEW_THRESHOLD,
    kurt_threshold: float = KURT_THRESHOLD,
) -> tuple[np.ndarray, str, int, int]:
    """Treat one indicator column.

    Parameters
    ----------
    x
        Values, NaN for missing (kept missing).

    Returns
    -------
    treated : numpy.ndarray
        Same shape as ``x``.
    action : str
        ``"none"``, ``"winsorised"`` or ``"log"``.
    high, low : int
        Number of distinct points winsorised at the top / bottom (0 for ``log``).
    """
    original = np.asarray(x, dtype=float)
    skew, kurt = skew_kurt(original)
    if np.isnan(skew) or not needs_treatment(skew, kurt, skew_threshold, kurt_threshold):
        return original.copy(), "none", 0, 0
    current = original.copy()
    finite = np.isfinite(current)
    touched_high = np.zeros(current.shape, dtype=bool)
    touched_low = np.zeros(current.shape, dtype=bool)
    for _ in range(cap):
        values = current[finite]
        if skew > 0:
            top = values.max()
            below = values[values < top]
            if below.size == 0:
                break
            hit = finite & (current == top)
            current[hit] = below.max()
            touched_high |= hit
        else:
            bottom = values.min()
            above = values[values > bottom]
            if above.size == 0:
                break
            hit = finite & (current == bottom)
            current[hit] = above.min()
            touched_low |= hit
        skew, kurt = skew_kurt(current)
        if np.isnan(skew) or not needs_treatment(skew, kurt, skew_threshold, kurt_threshold):
            return current, "winsorised", int(touched_high.sum()), int(touched_low.sum())
    # Winsorising up to the cap was not enough: undo it and log-transform the original values.
    return log_transform(original), "log", 0, 0


def log_transform(x: np.ndarray) -> np.ndarray:
    """COINr ``log_CT`` for positive skew, its mirror for negative skew (see the module docstring)."""
    x = np.asarray(x, dtype=float)
    finite = x[np.isfinite(x)]
    low, high = finite.min(), finite.max()
    margin = 0.1 * (high - low)
    skew, _ = skew_kurt(x)
    if np.isnan(skew) or skew >= 0:
        return np.log(x - low + margin)
    return -np.log(high - x + margin)


def treat(
    values: pd.DataFrame,
    method: str = "winsorise",
    *,
    cap: int = WINSOR_CAP,
    skew_threshold: float = SKEW_THRESHOLD,
    kurt_threshold: float = KURT_THRESHOLD,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Treat every indicator of a units x indicators table.

    Parameters
    ----------
    values
        Units x indicators (float, NaN = missing).
    method
        ``"none"`` (only the statistics are logged) or ``"winsorise"``.

    Returns
    -------
    treated : pandas.DataFrame
        Same shape as ``values``.
    log : pandas.DataFrame
        One :class:`TreatmentRecord` per indicator.
    """
    if method not in ("none", "winsorise"):
        raise ValueError(f"unknown treatment {method!r}; choose none|winsorise")
    out = values.copy()
    records = []
    for code in values.columns:
        column = values[code].to_numpy(dtype=float)
        skew_before, kurt_before = skew_kurt(column)
        if method == "none":
            treated, action, high, low = column, "none", 0, 0
        else:
            treated, action, high, low = treat_series(
                column, cap=cap, skew_threshold=skew_threshold, kurt_threshold=kurt_threshold
            )
        out[code] = treated
        skew_after, kurt_after = skew_kurt(treated)
        records.append(TreatmentRecord(code, action, high, low, skew_before, kurt_before, skew_after, kurt_after))
    return out, pd.DataFrame([r.__dict__ for r in records])
