"""Normalisation (Handbook step 5): bring indicators to a common, comparable scale.

``d`` is the indicator's direction (+1 more is better, -1 less is better); every method returns scores
where **higher is better**, so negative-direction indicators are inverted here and only here.

=============  =========================================================================================
``minmax``     ``I = (x - min) / (max - min) * 100`` (d=+1), ``I = (max - x) / (max - min) * 100`` (d=-1)
``zscore``     ``I = d (x - mean) / sd`` with the *sample* standard deviation (``ddof = 1``)
``rank``       ``I = rank(d x)``, ascending 1..n, ties get their average rank
``goalposts``  ``I = clip((x - L) / (U - L), 0, 1) * 100`` (d=+1), ``clip((U - x) / (U - L), 0, 1) * 100``
               (d=-1); ``L, U`` from the framework (``goal_low``, ``goal_high``, in the units of the
               denominated/treated values) or, when absent, the 5th and 95th percentiles (linear
               interpolation) of the indicator
``frontier``   distance to the frontier, the ratio to the best value: ``I = x / max * 100`` (d=+1, needs
               ``x >= 0``), ``I = min / x * 100`` (d=-1, needs ``x > 0``)
=============  =========================================================================================

Geometric and harmonic means need strictly positive inputs, so with ``positive=True`` (set by the pipeline
for those aggregations) the scales are shifted: ``minmax`` and ``goalposts`` map to ``[1, 100]``
(``I = 1 + 99 (x - min)/(max - min)``), ``zscore`` is shifted to a minimum of one (``z - min z + 1``);
``rank`` is already >= 1 and ``frontier`` is left as is.
Any value still <= 0 is rejected with :class:`IndexInputError`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citydiplomacy.assess.errors import IndexInputError

NORMALISATIONS = ("minmax", "zscore", "rank", "goalposts", "frontier")


def normalise_column(
    x: np.ndarray,
    method: str,
    direction: int = 1,
    goalposts: tuple[float, float] | None = None,
    positive: bool = False,
    *,
    code: str = "?",
    source: str = "<data>",
) -> np.ndarray:
    """Normalise one indicator.

    Parameters
    ----------
    x
        Values (NaN = missing, kept missing), shape ``(n_units,)``.
    method
        One of :data:`NORMALISATIONS`.
    direction
        +1 or -1.
    goalposts
        ``(L, U)`` for the goalposts method; derived when ``None``.
    positive
        Shift to a strictly positive scale (for geometric/harmonic aggregation).

    Returns
    -------
    numpy.ndarray
        Normalised scores, float64, shape ``(n_units,)``; higher is better.
    """
    x = np.asarray(x, dtype=np.float64)
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        raise IndexInputError("indicator has no values", source=source, code=code)
    if method == "minmax":
        low, high = finite.min(), finite.max()
        if high == low:
            raise IndexInputError("zero variance: min-max normalisation is undefined", source=source, code=code)
        share = (x - low) / (high - low) if direction > 0 else (high - x) / (high - low)
        out = 1.0 + 99.0 * share if positive else 100.0 * share
    elif method == "zscore":
        sd = finite.std(ddof=1) if finite.size > 1 else 0.0
        if sd == 0:
            raise IndexInputError("zero variance: z-score is undefined", source=source, code=code)
        z = direction * (x - finite.mean()) / sd
        out = z - np.nanmin(z) + 1.0 if positive else z
    elif method == "rank":
        out = pd.Series(direction * x).rank(method="average", ascending=True).to_numpy(dtype=np.float64)
    elif method == "goalposts":
        if goalposts is None:
            low, high = np.percentile(finite, [5.0, 95.0])
        else:
            low, high = goalposts
        if high == low:
            raise IndexInputError("goalposts coincide (zero spread)", source=source, code=code)
        share = (x - low) / (high - low) if direction > 0 else (high - x) / (high - low)
        share = np.clip(share, 0.0, 1.0)
        out = 1.0 + 99.0 * share if positive else 100.0 * share
    elif method == "frontier":
        if direction > 0:
            if finite.min() < 0 or finite.max() <= 0:
                raise IndexInputError(
                    "distance to frontier needs non-negative values with a positive maximum", source=source, code=code
                )
            out = 100.0 * x / finite.max()
        else:
            if finite.min() <= 0:
                raise IndexInputError(
                    "distance to frontier of a negative-direction indicator needs x > 0", source=source, code=code
                )
            out = 100.0 * finite.min() / x
    else:
        raise ValueError(f"unknown normalisation {method!r}; choose {'|'.join(NORMALISATIONS)}")
    if positive and np.nanmin(out) <= 0:
        raise IndexInputError(
            f"{method} scores include values <= 0, which geometric/harmonic means cannot take", source=source, code=code
        )
    return out


def normalise(
    values: pd.DataFrame,
    method: str,
    directions: dict[str, int],
    goalposts: dict[str, tuple[float, float]] | None = None,
    positive: bool = False,
    *,
    source: str = "<data>",
) -> pd.DataFrame:
    """Normalise every column of a units x indicators table (see :func:`normalise_column`)."""
    goalposts = goalposts or {}
    out = pd.DataFrame(index=values.index)
    for code in values.columns:
        out[code] = normalise_column(
            values[code].to_numpy(dtype=float),
            method,
            directions.get(code, 1),
            goalposts.get(code),
            positive,
            code=code,
            source=source,
        )
    return out
