"""Denomination: divide size-dependent indicators by a scale variable (population, GDP, area...).

Handbook step 2: ``x'_{ci} = x_{ci} / d_{c}`` where ``d`` is the denominator column named by the
framework for indicator ``i``.  As in COINr (``Denominate()`` divides with R's ``/``, so ``x / NA`` is
``NA``), a *missing* denominator gives a missing denominated value: it is counted in the coverage and
left to the chosen imputation (COINr's ASEM data lack Lao PDR's ``Energy``).  A denominator that is zero
or negative, a denominator column that is absent and a unit absent from the denominators table remain input
errors (COINr also stops on units it cannot match); nothing silently becomes zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citydiplomacy.assess.errors import IndexInputError


def denominate(
    values: pd.DataFrame,
    denominators: pd.DataFrame | None,
    denominator_of: dict[str, str | None],
    *,
    source: str = "<denominators>",
    rows: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Divide each indicator by its denominator column.

    Parameters
    ----------
    values
        Units x indicators (index = unit id), float.
    denominators
        Units x denominator columns (index = unit id), float; may be ``None`` when no indicator needs one.
    denominator_of
        Indicator code -> denominator column (``None`` = keep as is).
    source
        File name for messages.
    rows
        Unit id -> 1-based row of the denominators file (for messages).

    Returns
    -------
    pandas.DataFrame
        Same shape as ``values``; missing values stay missing, and so does a value whose denominator is
        missing (see :func:`missing_denominators`).

    Raises
    ------
    IndexInputError
        Denominator column absent, unit absent from the denominators table, or a denominator that is zero or
        negative where the indicator has a value.
    """
    out = values.copy()
    needed = {code: d for code, d in denominator_of.items() if d}
    if not needed:
        return out
    if denominators is None:
        code, column = next(iter(needed.items()))
        raise IndexInputError(
            f"indicator needs denominator {column!r} but no denominators table was given", source=source, code=code
        )
    rows = rows or {}
    for code, column in needed.items():
        if column not in denominators.columns:
            raise IndexInputError(
                f"denominator column {column!r} (for indicator {code!r}) is absent", source=source, row=0, code=code
            )
        absent = out.index.difference(denominators.index)
        if len(absent):
            raise IndexInputError(f"unit {absent[0]!r} is absent from the denominators table", source=source, code=code)
        scale = denominators[column].reindex(out.index).astype(float)
        has_value = out[code].notna()
        bad = has_value & scale.notna() & ~(scale > 0)
        if bad.any():
            unit = bad[bad].index[0]
            raise IndexInputError(
                f"denominator {column!r} of unit {unit!r} is {scale.loc[unit]:g} (must be > 0)",
                source=source,
                row=rows.get(unit),
                code=code,
            )
        out[code] = out[code] / scale  # NaN denominator -> NaN value, as in COINr
    return out.astype(np.float64)


def missing_denominators(
    values: pd.DataFrame, denominators: pd.DataFrame | None, denominator_of: dict[str, str | None]
) -> pd.Series:
    """Per indicator, how many units have a value but a missing denominator (so a missing denominated value).

    Returns
    -------
    pandas.Series
        Index: indicator codes of ``values``; integer counts (0 where no denominator is used).
    """
    counts = pd.Series(0, index=values.columns, dtype=np.int64)
    if denominators is None:
        return counts
    for code, column in denominator_of.items():
        if column and column in denominators.columns and code in values.columns:
            scale = denominators[column].reindex(values.index)
            counts[code] = int((values[code].notna() & scale.isna()).sum())
    return counts
