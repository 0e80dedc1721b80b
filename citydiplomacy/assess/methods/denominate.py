"""Denomination: divide size-dependent indicators by a scale variable (population, GDP, area...).

Handbook step 2: ``x'_{ci} = x_{ci} / d_{c}`` where ``d`` is the denominator column named by the
framework for indicator ``i``.  A unit with a value but no usable denominator is an input error (never a
silent zero or a silent missing value).
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
        Same shape as ``values``; missing values stay missing.

    Raises
    ------
    IndexInputError
        Denominator column absent, unit absent, or a denominator that is missing, zero or negative where the
        indicator has a value.
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
        scale = denominators[column].reindex(out.index)
        has_value = out[code].notna()
        bad = has_value & ~(scale > 0)
        if bad.any():
            unit = bad[bad].index[0]
            shown = scale.loc[unit]
            state = "missing" if pd.isna(shown) else f"{shown:g} (must be > 0)"
            raise IndexInputError(
                f"denominator {column!r} of unit {unit!r} is {state}", source=source, row=rows.get(unit), code=code
            )
        out[code] = out[code] / scale.astype(float)
    return out.astype(np.float64)
