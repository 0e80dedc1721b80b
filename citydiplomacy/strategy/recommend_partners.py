"""Partner recommender: ranked candidate sister cities for a city, each with its reasons.

Paper 002's first recommendation for Tehran is to expand its sister-city network.  This module scores
every place of the registry that is not yet a partner with the calibrated tie predictor of
:mod:`citydiplomacy.strategy.linkpred` (trained on all ties of the registry) and explains each candidate
with facts an international-affairs office can check: shared city networks, partners of partners, size
and capital status, region and distance, complementary strengths on the assessment's dimensions, and the
countries the city already twins with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.errors import BadInput
from citydiplomacy.store import runs
from citydiplomacy.store.db import get_engine, session_scope
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.schema import CityResult
from citydiplomacy.strategy.data import RegistryGraph, country_info, haversine_km, load_registry_graph
from citydiplomacy.strategy.features import FEATURE_NAMES
from citydiplomacy.strategy.linkpred import LinkPredictor, rank_city

_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}
_PREDICTORS: dict[str, LinkPredictor] = {}

#: A dimension counts as complementary when the candidate's score exceeds the city's by this much (0-100 scale).
COMPLEMENT_MARGIN = settings.PARTNER_COMPLEMENT_MARGIN


class RecommendError(BadInput):
    """The city cannot be found or the request cannot be answered."""


@dataclass(frozen=True)
class Candidate:
    """One recommended partner: its calibrated probability of a tie (``score``), how many times likelier that is
    than for a typical pair (``lift``, None under the heuristic), facts and reasons."""

    place_id: int
    name: str
    country_code: str
    score: float
    lift: float | None
    distance_km: float | None
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {
            "place_id": self.place_id,
            "name": self.name,
            "country_code": self.country_code,
            "score": float(f"{self.score:.4g}"),
            "lift": None if self.lift is None else round(self.lift, 2),
            "distance_km": None if self.distance_km is None else round(self.distance_km, 1),
            "reasons": self.reasons,
        }


def fitted_predictor(graph: RegistryGraph, seed: int = 0, inner_rounds: int = 3) -> LinkPredictor:
    """A predictor fitted on all ties of ``graph``, cached per tie set for the life of the process."""
    digest = hashlib.sha256(graph.edges.tobytes() + graph.place_ids.tobytes()).hexdigest()[:20]
    key = f"{digest}:{seed}:{inner_rounds}"
    if key not in _PREDICTORS:
        _PREDICTORS.clear()  # one registry at a time is enough
        _PREDICTORS[key] = LinkPredictor(inner_rounds=inner_rounds, seed=seed).fit(graph, graph.edges)
    return _PREDICTORS[key]


def latest_dimension_scores(session: Session) -> dict[int, dict[str, float]]:
    """Dimension scores (``DIM_<dimension>`` codes, 0-100) of the latest assessment run: place id -> dim -> value."""
    run = runs.latest_run(session, "assessment")
    if run is None:
        return {}
    run_id = run.id
    out: dict[int, dict[str, float]] = {}
    rows = session.execute(
        select(CityResult.place_id, CityResult.code, CityResult.value).where(
            CityResult.run_id == run_id, CityResult.code.like("DIM_%"), CityResult.value.is_not(None)
        )
    )
    for pid, code, value in rows:
        out.setdefault(pid, {})[code.removeprefix("DIM_")] = float(value)
    return out


def _population_text(p: float) -> str:
    return f"{p / 1e6:.1f} M" if p >= 1e6 else f"{p / 1e3:.0f} k"


def explain_pair(
    graph: RegistryGraph,
    predictor: LinkPredictor,
    city: int,
    cand: int,
    features: np.ndarray,
    dims: dict[int, dict[str, float]],
) -> list[str]:
    """Plain-language reasons for recommending ``cand`` to ``city``, strongest first.

    Parameters
    ----------
    features
        The pair's feature row (:data:`FEATURE_NAMES` order), shape ``(F,)``.
    dims
        Dimension scores by place id (:func:`latest_dimension_scores`), possibly empty.
    """
    fg = predictor.feature_graph
    assert fg is not None
    reasons: list[str] = []
    name = graph.names
    cc_city, cc_cand = graph.countries[city], graph.countries[cand]
    # Shared city networks.
    shared = set(graph.memberships.get(city, {})) & set(graph.memberships.get(cand, {}))
    if shared:
        labels = sorted(graph.organisations[o]["acronym"] or graph.organisations[o]["name"] for o in shared)
        reasons.append("shares membership of " + ", ".join(labels))
    # Partners of partners.
    row_c = fg.adjacency[city].indices
    row_k = fg.adjacency[cand].indices
    common = np.intersect1d(row_c, row_k)
    if len(common):
        listed = ", ".join(str(name[i]) for i in common[:3]) + (" …" if len(common) > 3 else "")
        reasons.append(f"{len(common)} partner(s) in common: {listed}")
    # Countries the city already twins with.
    into = int(round(np.expm1(features[_COL["log_ties_into_country_max"]])))
    city_into = int(fg.ties_into_country[city, fg.country_code[cand]])
    if city_into:
        reasons.append(f"{name[city]} already has {city_into} partner(s) in {cc_cand}")
    elif into:
        reasons.append(f"{name[cand]} already has {into} partner(s) in {cc_city}")
    pair_ties = int(round(np.expm1(features[_COL["log_country_pair_ties"]])))
    if pair_ties and cc_city != cc_cand:
        reasons.append(f"{pair_ties} tie(s) between cities of {cc_city} and {cc_cand} in the registry")
    # Region and distance.
    km = features[_COL["log_distance_km"]]
    if not np.isnan(km):
        km_val = float(np.expm1(km))
        where = (
            "same country"
            if cc_city == cc_cand
            else (
                "neighbouring country"
                if features[_COL["neighbouring_countries"]]
                else ("same continent" if features[_COL["same_continent"]] else "another continent")
            )
        )
        reasons.append(f"{km_val:,.0f} km away ({where})")
    if features[_COL["shared_language"]] and cc_city != cc_cand:
        reasons.append("countries share an official language")
    near = features[_COL["log_km_to_partner_min"]]
    if not np.isnan(near) and np.expm1(near) < 150 and len(row_c):
        km_near = haversine_km(graph.lat[row_c], graph.lng[row_c], graph.lat[cand], graph.lng[cand])
        if np.isfinite(km_near).any():
            j = int(row_c[np.nanargmin(km_near)])
            reasons.append(f"{np.nanmin(km_near):,.0f} km from current partner {name[j]}")
    # Size and capital status.
    pc, pk = graph.population[city], graph.population[cand]
    if not (np.isnan(pc) or np.isnan(pk)):
        ratio = max(pc, pk) / max(min(pc, pk), 1.0)
        if ratio <= 2.0:
            reasons.append(f"similar size ({_population_text(pc)} vs {_population_text(pk)} inhabitants)")
    if graph.capital[city] and graph.capital[cand]:
        reasons.append("both are national capitals")
    # Complementary strengths on the assessment's dimensions.
    dc, dk = dims.get(int(graph.place_ids[city]), {}), dims.get(int(graph.place_ids[cand]), {})
    better = sorted((dk[d] - dc[d], d) for d in set(dc) & set(dk) if dk[d] - dc[d] >= COMPLEMENT_MARGIN)
    if better:
        reasons.append("stronger where the city is weaker: " + ", ".join(d for _, d in reversed(better[-3:])))
    return reasons


def recommend_partners(
    city: str,
    *,
    country: str | None = None,
    partner_country: str | None = None,
    top: int = 10,
    engine: Engine | None = None,
    seed: int = 0,
    graph: RegistryGraph | None = None,
) -> dict[str, Any]:
    """Ranked candidate partners for ``city`` with scores and reasons.

    Parameters
    ----------
    city, country
        The city and (to disambiguate) its ISO 3166-1 alpha-2 country.
    partner_country
        Only propose partners in this country (ISO alpha-2).
    top
        Number of candidates returned (``>= 1``).
    engine
        Registry (default: the configured one).
    seed
        Seed of the predictor's training.
    graph
        A preloaded registry graph (default: read from ``engine``).

    Returns
    -------
    dict
        ``city`` (id, name, country, ties), ``method`` (``model`` or ``heuristic``), ``notes`` and
        ``candidates`` (list of :meth:`Candidate.to_dict`), best first.

    Raises
    ------
    RecommendError
        Unknown city or country, or ``top < 1``.
    """
    if top < 1:
        raise RecommendError("--top must be at least 1")
    engine = engine or get_engine()
    if partner_country is not None:
        partner_country = partner_country.upper()
        if partner_country not in country_info():
            raise RecommendError(f"unknown country code {partner_country!r} (use ISO 3166-1 alpha-2, e.g. DE)")
    with session_scope(engine) as session:
        try:
            place = find_place(session, city, country)
        except LookupError as exc:
            raise RecommendError(str(exc)) from exc
        place_id, place_name, place_cc = place.id, place.name, place.country_code
        dims = latest_dimension_scores(session)
    graph = graph or load_registry_graph(engine)
    u = graph.index_of(place_id)
    predictor = fitted_predictor(graph, seed=seed)
    fg = predictor.feature_graph
    assert fg is not None
    partners = set(fg.adjacency[u].indices.tolist())
    mask = np.ones(graph.n, dtype=bool)
    mask[u] = False
    mask[list(partners)] = False
    if partner_country:
        mask &= graph.countries == partner_country
    candidates = np.flatnonzero(mask)
    notes: list[str] = []
    if not partners:
        notes.append(
            f"{place_name} has no ties in the registry: scores rest on geography, size and "
            "the country patterns of other cities only"
        )
    if predictor.method == "heuristic":
        notes.append("too few ties in the registry to train a model: a transparent heuristic ranks the candidates")
    if len(candidates) == 0:
        notes.append("no candidate places" + (f" in {partner_country}" if partner_country else ""))
        scored: list[Candidate] = []
    else:
        # Every candidate ranked (the model re-ranks the baselines' fused best, the rest follow: rank_city).
        order_score, _, _ = rank_city(predictor, u, mask)
        chosen = candidates[np.lexsort((graph.place_ids[candidates], -order_score[candidates]))[:top]]
        x = predictor.features(np.full(len(chosen), u), chosen)
        scores, _ = predictor.score_and_margin(x)
        lifts = scores / predictor.base_rate if predictor.method == "model" else np.full(len(scores), np.nan)
        order = np.arange(len(chosen))
        candidates = chosen
        scored = []
        for i in order.tolist():
            c = int(candidates[i])
            km = x[i, _COL["log_distance_km"]]
            scored.append(
                Candidate(
                    place_id=int(graph.place_ids[c]),
                    name=str(graph.names[c]),
                    country_code=str(graph.countries[c]),
                    score=float(scores[i]),
                    lift=None if np.isnan(lifts[i]) else float(lifts[i]),
                    distance_km=None if np.isnan(km) else float(np.expm1(km)),
                    reasons=explain_pair(graph, predictor, u, c, x[i], dims),
                )
            )
    return {
        "city": {
            "place_id": place_id,
            "name": place_name,
            "country_code": place_cc,
            "ties": len(partners),
            "partner_countries": sorted({str(graph.countries[p]) for p in partners}),
        },
        "method": predictor.method,
        "seed": seed,
        "notes": notes,
        "candidates": [c.to_dict() for c in scored],
    }
