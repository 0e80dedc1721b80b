"""Imputation of missing values (Handbook step 3).

Methods
-------
``none``
    Keep gaps; aggregation then uses the available children with their weights renormalised (COINr's
    default), and coverage is reported.  A missing value never becomes zero.
``mean`` / ``median``
    Replace a gap by the indicator's mean / median over the units that have it.
``group-mean:COLUMN``
    Replace a gap by the indicator's mean over the units of the same group (``COLUMN`` of the data);
    when the whole group lacks the indicator, fall back to the overall mean (counted in the log).
"""

from __future__ import annotations

import pandas as pd

from citydiplomacy.assess.errors import IndexInputError

IMPUTATIONS = ("none", "mean", "median", "group-mean")


def parse_imputation(spec: str) -> tuple[str, str | None]:
    """Split ``"group-mean:COLUMN"`` into ``("group-mean", "COLUMN")``; others give ``(name, None)``."""
    name, _, column = spec.partition(":")
    if name not in IMPUTATIONS:
        raise ValueError(f"unknown imputation {spec!r}; choose none|mean|median|group-mean:COLUMN")
    if name == "group-mean" and not column:
        raise ValueError("group-mean needs a column: group-mean:COLUMN")
    return name, column or None


def impute(
    values: pd.DataFrame, spec: str, groups: pd.Series | None = None, *, source: str = "<data>"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill gaps of a units x indicators table.

    Parameters
    ----------
    values
        Units x indicators, float with NaN gaps.
    spec
        ``none | mean | median | group-mean:COLUMN``.
    groups
        Group label per unit (index = unit id), required for ``group-mean``.

    Returns
    -------
    imputed : pandas.DataFrame
        Same shape; gaps filled (or kept for ``none``).
    log : pandas.DataFrame
        One row per indicator: ``code, missing, imputed, fallback_overall_mean, method``.
    """
    name, column = parse_imputation(spec)
    out = values.copy()
    missing = values.isna().sum()
    fallback = pd.Series(0, index=values.columns)
    if name == "mean":
        out = out.fillna(values.mean())
    elif name == "median":
        out = out.fillna(values.median())
    elif name == "group-mean":
        if groups is None:
            raise IndexInputError(f"group column {column!r} is absent from the data", source=source, row=0, code=column)
        group_means = values.groupby(groups.reindex(values.index)).transform("mean")
        need_fallback = values.isna() & group_means.isna()
        fallback = need_fallback.sum()
        out = out.fillna(group_means).fillna(values.mean())
    imputed = missing - out.isna().sum()
    log = pd.DataFrame(
        {
            "code": values.columns,
            "missing": missing.to_numpy(),
            "imputed": imputed.to_numpy(),
            "fallback_overall_mean": fallback.reindex(values.columns).to_numpy(),
            "method": spec,
        }
    )
    return out, log
