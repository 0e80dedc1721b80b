"""Which run is current, and whether results still describe the registry's data.

* :func:`data_version` is the registry's data version: a counter that every write advances.  Every write is
  audited (ORM writes by the session hook, bulk writes by :func:`~citydiplomacy.store.audit.record_bulk`),
  so the counter is the audit trail's highest id; every analysis run stores the version it read
  (:attr:`AnalysisRun.data_version`), and :func:`changes_since` counts what was written after it.  The
  audit entries of users and login sessions (:data:`~citydiplomacy.store.audit.ACCESS_ENTITIES`) are no
  data: neither counts them.
* :func:`latest_run` is the one answer to "which run": the newest run of a kind (by id) whose parameters
  contain the ones asked for, optionally one with results for a place; :func:`require_run` raises a clear
  "run X first" when there is none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, select
from sqlalchemy.orm import Session

from citydiplomacy.core.errors import RunNotFound
from citydiplomacy.store.audit import ACCESS_ENTITIES
from citydiplomacy.store.schema import AnalysisRun, AuditEntry, CityResult

#: Audit entries of the registry's data (not of its users and their sessions).
_is_data = AuditEntry.entity.not_in(ACCESS_ENTITIES)

__all__ = [
    "CDI_CODE",
    "COVERAGE_CODE",
    "DIMENSION_PREFIX",
    "PlaceResult",
    "RANK_CODE",
    "changes_since",
    "data_version",
    "freshness",
    "latest_results_for_place",
    "latest_run",
    "matches",
    "new_run",
    "require_run",
]

#: The codes under which the assessment stores a place's index, its rank and its coverage (share of the
#: indicators with data), and the prefix of its dimension scores: one spelling for the writer and every reader.
CDI_CODE, RANK_CODE, COVERAGE_CODE, DIMENSION_PREFIX = "CDI", "CDI_RANK", "COVERAGE", "DIM_"

#: A result's 5-95 % interval is stored as two sibling rows of the same run and place, ``<code>_P05`` and
#: ``<code>_P95`` (and a median rank as ``<code>_MEDIAN``): the one convention every writer and reader uses.
LOW_SUFFIX, HIGH_SUFFIX, MEDIAN_SUFFIX = "_P05", "_P95", "_MEDIAN"
INTERVAL_SUFFIXES = (LOW_SUFFIX, HIGH_SUFFIX, MEDIAN_SUFFIX)


def interval_codes(code: str) -> tuple[str, str]:
    """The codes of the 5-95 % interval of a stored result: ``<code>_P05``, ``<code>_P95``."""
    return code + LOW_SUFFIX, code + HIGH_SUFFIX


def is_interval_code(code: str) -> bool:
    """True for a row that only carries another result's interval or median (``CDI_RANK_P05``)."""
    return code.endswith(INTERVAL_SUFFIXES)


def interval_of(values: Mapping[str, float | None], code: str) -> tuple[float | None, float | None]:
    """The stored interval of ``code`` among a place's results of one run; (None, None) unless both bounds are."""
    low, high = (values.get(c) for c in interval_codes(code))
    return (low, high) if low is not None and high is not None else (None, None)


#: The command that produces a run of each kind (for "run X first").
RUN_COMMANDS = {"network": "citydip network metrics", "assessment": "citydip assess --all"}


def network_run_for(year: int | None = None) -> dict[str, Any]:
    """The parameters of the network run an assessment as of ``year`` needs: the bilateral graph of the whole
    registry, as of that year (None: now), under the current tie rule (``NetworkFilter.as_parameters`` form)."""
    from citydiplomacy.store.ties import TieRule

    return {
        "graph": "bilateral",
        "filter": {
            "year_from": year, "year_to": year, "keep_undated": True, "kinds": None, "statuses": None,
            "regions": None,
        },
        "tie_rule": TieRule().as_parameters(),
    }  # fmt: skip


def data_version(session: Session) -> int:
    """The registry's data version: the number of the latest audited change of its data (0 for an empty registry)."""
    return int(session.scalar(select(func.max(AuditEntry.id)).where(_is_data)) or 0)


def _canonical(value: Any) -> Any:
    # JSON round trip: tuples become lists and numbers compare as stored.
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def matches(parameters: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> bool:
    """True when every key of ``wanted`` is in ``parameters`` with the same (JSON-equal) value."""
    params = parameters or {}
    return all(key in params and _canonical(params[key]) == _canonical(value) for key, value in wanted.items())


def latest_run(
    session: Session,
    kind: str,
    matching: Mapping[str, Any] | None = None,
    *,
    place_id: int | None = None,
) -> AnalysisRun | None:
    """The newest run of ``kind`` whose parameters contain ``matching`` (and with results for ``place_id``).

    Runs are few (one per analysis someone asked for), so matching is done in Python over the newest first.
    """
    query = select(AnalysisRun).where(AnalysisRun.kind == kind).order_by(AnalysisRun.id.desc())
    if place_id is not None:
        query = query.where(exists().where(CityResult.run_id == AnalysisRun.id, CityResult.place_id == place_id))
    for run in session.scalars(query):
        if not matching or matches(run.parameters, matching):
            return run
    return None


@dataclass(frozen=True)
class PlaceResult:
    """One stored result of a place in a run (a row of ``city_result`` without its keys)."""

    code: str
    value: float | None
    detail: dict[str, Any] | None


@cache
def _latest_results_statement() -> Select[Any]:
    """The results of a place's latest run of each kind, built once (building it cost more than running it);
    columns on the connection, not through the ORM session."""
    place_id = bindparam("place_id")
    newest = (
        select(func.max(AnalysisRun.id))
        .join(CityResult, CityResult.run_id == AnalysisRun.id)
        .where(CityResult.place_id == place_id)
        .group_by(AnalysisRun.kind)
    )
    return (
        select(CityResult.run_id, CityResult.code, CityResult.value, CityResult.detail)
        .where(CityResult.place_id == place_id, CityResult.run_id.in_(newest.scalar_subquery()))
        .order_by(CityResult.run_id, CityResult.code)
    )


def latest_results_for_place(session: Session, place_id: int) -> dict[str, tuple[AnalysisRun, list[PlaceResult]]]:
    """:func:`latest_run` of every kind with results for ``place_id``, with those results sorted by code, in one
    query (the city profile's hot path): ``{kind: (run, results)}``."""
    rows = session.connection().execute(_latest_results_statement(), {"place_id": place_id}).all()
    # The runs apart, once each: selected beside every result row, each run's JSON parameters were decoded
    # again for every row (40 times a profile).
    ids = sorted({row.run_id for row in rows})
    by_id = {run.id: run for run in session.scalars(select(AnalysisRun).where(AnalysisRun.id.in_(ids)))} if ids else {}
    out: dict[str, tuple[AnalysisRun, list[PlaceResult]]] = {}
    for run_id, code, value, detail in rows:
        run = by_id[run_id]
        out.setdefault(run.kind, (run, []))[1].append(PlaceResult(code, value, detail))
    return out


def require_run(
    session: Session, kind: str, matching: Mapping[str, Any] | None = None, *, hint: str | None = None
) -> AnalysisRun:
    """:func:`latest_run`, or :class:`RunNotFound` saying what to run first."""
    run = latest_run(session, kind, matching)
    if run is None:
        wanted = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in (matching or {}).items())
        raise RunNotFound(
            f"no {kind} run" + (f" with {wanted}" if wanted else "")
            + f"; run `{hint or RUN_COMMANDS.get(kind, kind)}` first"
        )  # fmt: skip
    return run


def changes_since(session: Session, run: AnalysisRun) -> int | None:
    """How many audited changes the registry has had since ``run`` read it (None for runs older than versions)."""
    if run.data_version is None:
        return None
    cache = session.info.setdefault("changes_since", {})  # one count per version and request
    if run.data_version not in cache:
        count = select(func.count()).where(AuditEntry.id > run.data_version, _is_data)
        cache[run.data_version] = int(session.scalar(count) or 0)
    return cache[run.data_version]


def freshness(session: Session, run: AnalysisRun | None) -> dict[str, Any] | None:
    """What every page, API answer and report says of the run its results come from: id, kind, when, by whom,
    its parameters, the data version it read and how many changes the registry has had since."""
    if run is None:
        return None
    return {
        "id": run.id,
        "kind": run.kind,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "created_by": run.created_by,
        "model_version": run.model_version,
        "parameters": run.parameters or {},
        "data_version": run.data_version,
        "changes_since": changes_since(session, run),
    }


def new_run(
    session: Session,
    kind: str,
    parameters: dict[str, Any],
    *,
    summary: dict[str, Any] | None = None,
    actor: str | None = None,
    model_version: str | None = None,
    version: int | None = None,
) -> AnalysisRun:
    """Add (and flush) a run that records the data version it read (``version``: read before the analysis)."""
    from citydiplomacy import settings

    run = AnalysisRun(
        kind=kind,
        parameters=parameters,
        summary=summary,
        created_by=actor or settings.DEFAULT_ACTOR,
        model_version=model_version,
        data_version=data_version(session) if version is None else version,
    )
    session.add(run)
    session.flush()
    return run
