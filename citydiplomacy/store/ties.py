"""What counts as a tie: the one rule, and the one query that reads the registry's ties.

Network graphs, indicators and the recommenders all read their ties here, so a city's degree in the network,
its sister-city count and the recommender's graph agree.  The rule is a table in the settings
(:data:`~citydiplomacy.settings.TIE_KIND_WEIGHTS`, :data:`~citydiplomacy.settings.TIE_STATUS_WEIGHTS`): a relation
whose kind and status both carry a weight is a tie of weight ``kind weight × status weight``; any other
relation (in negotiation, suspended, ended) is not.  Each analysis stores :meth:`TieRule.as_parameters` with its
run, and the run lookup matches on it.

Time
----
Read *as of* the end of year ``Y`` (or at the end of some year of a period ``[from, to]``), a relation is in
force when it was signed by then (``signed_year <= Y``, or unknown) and had not ended by then (``ended_year``
unknown or ``> Y``); a relation now ``ended`` whose ``ended_year`` is later than ``Y`` was ``active`` then.
Undated relations (most sources give no dates) are taken to be in force unless ``keep_undated`` is false.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from citydiplomacy import settings

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sqlalchemy.orm import Session

__all__ = ["TIE_COLUMNS", "TieRule", "in_force", "load_ties"]

TIE_COLUMNS = ("relation_id", "place_a_id", "place_b_id", "kind", "status", "signed_year", "ended_year", "weight")


@dataclass(frozen=True)
class TieRule:
    """Which relation kinds and statuses are ties, and with what weight (default: the settings)."""

    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(settings.TIE_KIND_WEIGHTS))
    status_weights: Mapping[str, float] = field(default_factory=lambda: dict(settings.TIE_STATUS_WEIGHTS))

    def weight(self, kind: str | None, status: str | None) -> float:
        """The weight of one relation (0: not a tie)."""
        return float(self.kind_weights.get(kind or "", 0.0)) * float(self.status_weights.get(status or "", 0.0))

    def weights(self, kinds: pd.Series, statuses: pd.Series) -> np.ndarray:
        """The weights of many relations (0 where not a tie)."""
        k = kinds.map(dict(self.kind_weights)).fillna(0.0).to_numpy(float)
        s = statuses.map(dict(self.status_weights)).fillna(0.0).to_numpy(float)
        return k * s

    def as_parameters(self) -> dict[str, dict[str, float]]:
        """The rule as JSON-ready data, stored with every analysis run."""
        return {
            "kind_weights": {k: float(v) for k, v in sorted(self.kind_weights.items())},
            "status_weights": {k: float(v) for k, v in sorted(self.status_weights.items())},
        }


def in_force(
    frame: pd.DataFrame,
    year_from: int | None = None,
    year_to: int | None = None,
    *,
    keep_undated: bool = True,
) -> pd.DataFrame:
    """The relations of ``frame`` in force at the end of some year of ``[year_from, year_to]``.

    ``frame`` has ``status``, ``signed_year`` and ``ended_year``; the statuses are returned as they were then
    (an ``ended`` relation that ended after the period was ``active`` in it).  No years: the current state.
    """
    import pandas as pd

    if year_from is None and year_to is None:
        return frame
    signed = pd.to_numeric(frame["signed_year"], errors="coerce")
    ended = pd.to_numeric(frame["ended_year"], errors="coerce")
    keep = pd.Series(True, index=frame.index)
    if year_to is not None:
        keep &= ~(signed > year_to)
    if year_from is not None:
        keep &= ~(ended <= year_from)
    if not keep_undated:
        keep &= signed.notna()
    out = frame.loc[keep].copy()
    if year_from is not None:
        was_active = (out["status"] == "ended") & pd.to_numeric(out["ended_year"], errors="coerce").gt(year_from)
        out.loc[was_active, "status"] = "active"
    return out


def load_ties(
    session: Session,
    *,
    year_from: int | None = None,
    year_to: int | None = None,
    keep_undated: bool = True,
    kinds: tuple[str, ...] | None = None,
    rule: TieRule | None = None,
) -> pd.DataFrame:
    """The registry's ties (relations the rule weighs above zero), in force in the period if one is given.

    Parameters
    ----------
    session
        An open registry session (only read).
    year_from, year_to
        The period (inclusive years); both None: the current state; equal: as of the end of that year.
    keep_undated
        Keep relations without a signing year when a period is given.
    kinds
        Only these relation kinds (None: every kind the rule weighs).
    rule
        The tie rule (default: the settings').

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIE_COLUMNS`, one row per relation that is a tie (a pair may have several relations of
        different kinds), ``place_a_id < place_b_id``.
    """
    import pandas as pd
    from sqlalchemy import select

    from citydiplomacy.store.schema import Relation

    rule = rule or TieRule()
    rows = session.execute(
        select(
            Relation.id,
            Relation.place_a_id,
            Relation.place_b_id,
            Relation.kind,
            Relation.status,
            Relation.signed_year,
            Relation.ended_year,
        ).where(Relation.place_b_id.is_not(None))  # an agreement with an organisation joins no two places
    ).all()
    frame = pd.DataFrame(rows, columns=list(TIE_COLUMNS[:-1]))
    frame = in_force(frame, year_from, year_to, keep_undated=keep_undated)
    if kinds is not None:
        frame = frame.loc[frame["kind"].isin(kinds)]
    frame = frame.assign(weight=rule.weights(frame["kind"], frame["status"]))
    return frame.loc[frame["weight"] > 0].reset_index(drop=True)


def describe(rule: TieRule | None = None) -> str:
    """The rule in words, e.g. for a run's parameters shown to a person."""
    rule = rule or TieRule()
    kinds = ", ".join(f"{k} {v:g}" for k, v in rule.kind_weights.items())
    statuses = ", ".join(f"{k} {v:g}" for k, v in rule.status_weights.items())
    return f"ties: kinds {kinds}; statuses {statuses}"


def as_parameters(rule: TieRule | None = None) -> dict[str, Any]:
    """:meth:`TieRule.as_parameters` of ``rule`` or the settings' rule."""
    return (rule or TieRule()).as_parameters()
