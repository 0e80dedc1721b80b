"""Partner recommender: ranked candidate sister cities for a city, each with its reasons.

Paper 002's first recommendation for Tehran is to expand its sister-city network.  This module scores
every place of the registry that is not yet a partner with the calibrated tie predictor of
:mod:`citydiplomacy.strategy.linkpred` (trained on all ties of the registry) and explains each candidate
with facts an international-affairs office can check: shared city networks, partners of partners, size
and capital status, region and distance, complementary strengths on the assessment's dimensions, and the
countries the city already twins with.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import pickle
import time
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
from citydiplomacy.store.schema import AnalysisRun, CityResult
from citydiplomacy.strategy.data import RegistryGraph, country_info, haversine_km, load_registry_graph
from citydiplomacy.strategy.features import FEATURE_NAMES, FeatureGraph
from citydiplomacy.strategy.linkpred import LinkPredictor, rank_city

_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}
#: Predictors loaded or fitted in this process, by (registry, run id, graph digest).
_PREDICTORS: dict[tuple[str, int, str], LinkPredictor] = {}
_log = logging.getLogger(__name__)
#: Kind of the analysis run that stores a fitted partner model.
MODEL_KIND = "partner_model"
#: Version of the model's recipe and stored form (a stored model of another version is refitted).
MODEL_VERSION = "partner-hgb-platt-1"

#: A dimension counts as complementary when the candidate's score exceeds the city's by this much (0-100 scale).
COMPLEMENT_MARGIN = settings.PARTNER_COMPLEMENT_MARGIN


class RecommendError(BadInput):
    """The city cannot be found or the request cannot be answered."""


class StoredModelError(RecommendError):
    """A stored partner model cannot be used (digest mismatch, other data or library version): it is refitted."""


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


def _graph_digest(graph: RegistryGraph) -> str:
    """A digest of the places and ties a model was fitted on (a stored model is used on the same graph only)."""
    return hashlib.sha256(graph.edges.tobytes() + graph.place_ids.tobytes()).hexdigest()[:20]


def _model_parameters(seed: int, inner_rounds: int) -> dict[str, Any]:
    return {"seed": seed, "inner_rounds": inner_rounds}


def predictor_as_json(predictor: LinkPredictor, graph: RegistryGraph) -> dict[str, Any]:
    """The fitted ``predictor`` as a run's JSON summary: the calibration in plain numbers and the gradient-boosting
    estimator pickled (base64), with the SHA-256 of its bytes, the scikit-learn version and the graph's digest.

    The feature graph is not stored (it is the registry's data, rebuilt from it when the model is loaded), except
    its Leiden communities and k-cores: a function of the same ties and seed that takes most of its build time.
    """
    import sklearn

    fg = predictor.feature_graph
    assert fg is not None
    blob = b"" if predictor.model is None else pickle.dumps(predictor.model, protocol=pickle.HIGHEST_PROTOCOL)

    def number(x: float) -> float | None:  # JSON (and PostgreSQL) have no NaN
        return None if not np.isfinite(x) else float(x)

    return {
        "method": predictor.method,
        "calibrator": None if predictor.calibrator is None else [float(v) for v in predictor.calibrator],
        "base_rate": number(predictor.base_rate),
        "pair_rate": number(predictor.pair_rate),
        "fit_seconds": round(predictor.fit_seconds, 2),
        "ties": int(len(graph.edges)),
        "places": int(graph.n),
        "graph_digest": _graph_digest(graph),
        "sklearn": sklearn.__version__,
        # The feature graph's Leiden communities and k-cores (a function of these ties and the seed, ~2 s on
        # 10^4 places): kept so that loading the model rebuilds the rest of the feature graph in a fraction.
        "coreness": [int(c) for c in fg.core],
        "communities": [int(c) for c in fg.community],
        "estimator": base64.b64encode(blob).decode("ascii"),
        "estimator_sha256": hashlib.sha256(blob).hexdigest(),
    }


def predictor_from_json(
    summary: dict[str, Any], graph: RegistryGraph, *, seed: int, inner_rounds: int
) -> LinkPredictor:
    """The predictor :func:`predictor_as_json` stored, on ``graph`` (its feature graph rebuilt from the registry).

    Raises
    ------
    StoredModelError
        The estimator's bytes do not match their digest (tampered or truncated), the model was fitted on other
        places or ties, by another scikit-learn version, or its blob was dropped (a superseded run).
    """
    import sklearn

    encoded = summary.get("estimator")
    if encoded is None:
        raise StoredModelError("the stored partner model has no estimator (superseded run)")
    blob = base64.b64decode(encoded)
    if hashlib.sha256(blob).hexdigest() != summary.get("estimator_sha256"):
        raise StoredModelError("the stored partner model fails its digest check: its bytes were altered")
    if summary.get("graph_digest") != _graph_digest(graph):
        raise StoredModelError("the stored partner model was fitted on other places or ties")
    if summary.get("sklearn") != sklearn.__version__:
        raise StoredModelError(f"the stored partner model was fitted with scikit-learn {summary.get('sklearn')}")
    predictor = LinkPredictor(inner_rounds=inner_rounds, seed=seed)
    # Unpickling runs code named by the bytes, so it is only safe on trusted bytes.  These are: the registry is
    # the application's own trusted storage (the bytes are written by predictor_as_json, never by an import, an
    # API call or a user's upload), and the SHA-256 just checked is the one recorded when they were written, so
    # altered or truncated bytes are refused.  (Whoever may write the database itself could change both; such a
    # person can already change every record, so the registry is trusted as a whole.)
    predictor.model = pickle.loads(blob) if blob else None  # noqa: S301 - trusted, digest-checked (above)
    cal = summary.get("calibrator")
    predictor.calibrator = None if cal is None else (float(cal[0]), float(cal[1]))
    predictor.method = str(summary["method"])
    nan = float("nan")
    predictor.base_rate = nan if summary.get("base_rate") is None else float(summary["base_rate"])
    predictor.pair_rate = nan if summary.get("pair_rate") is None else float(summary["pair_rate"])
    predictor.fit_seconds = float(summary.get("fit_seconds") or 0.0)
    structure = summary.get("coreness"), summary.get("communities")
    known = all(v is not None and len(v) == graph.n for v in structure)
    # As fit() builds it; the stored communities and cores are of these same ties (graph digest) and seed.
    predictor.feature_graph = FeatureGraph(
        graph, graph.edges, seed=seed, structure=(np.asarray(structure[0]), np.asarray(structure[1])) if known else None
    )
    return predictor


def partner_model(
    engine: Engine, graph: RegistryGraph, *, seed: int = 0, inner_rounds: int = 3
) -> tuple[LinkPredictor, dict[str, Any]]:
    """The partner model of the registry's current data: the one stored (run kind :data:`MODEL_KIND`) when its data
    version, parameters and recipe are current, else a new fit on all ties of ``graph``, stored.

    A stored model is loaded once per process (cached by run id).  A stored model that cannot be used (its digest
    fails, other ties, another scikit-learn) is refused and a new one fitted and stored.

    Returns
    -------
    tuple
        The predictor, and ``{"run": run id, "reused": True when the stored model was used, "refused": why a
        stored model was refused (or None), "seconds": time to load or fit}``.
    """
    started = time.perf_counter()
    params = _model_parameters(seed, inner_rounds)
    refused: str | None = None
    with session_scope(engine) as session:
        version = runs.data_version(session)
        run = runs.latest_run(session, MODEL_KIND, params)
        current = run is not None and run.data_version == version and run.model_version == MODEL_VERSION and run.summary
        run_id, summary = (run.id, run.summary) if current and run is not None else (None, None)
    if run_id is not None and summary is not None:
        key = (str(engine.url), run_id, _graph_digest(graph))
        if key not in _PREDICTORS:
            try:
                predictor = predictor_from_json(summary, graph, seed=seed, inner_rounds=inner_rounds)
            except StoredModelError as exc:
                refused = f"run {run_id}: {exc}"
                _log.warning("partner model refused, refitting: %s", refused)
            else:
                _PREDICTORS.clear()  # one registry and model at a time is enough
                _PREDICTORS[key] = predictor
        if refused is None:
            info = {"run": run_id, "reused": True, "refused": None, "seconds": round(time.perf_counter() - started, 2)}
            return _PREDICTORS[key], info
    predictor = LinkPredictor(inner_rounds=inner_rounds, seed=seed).fit(graph, graph.edges)
    summary = predictor_as_json(predictor, graph)
    with session_scope(engine) as session:
        new = runs.new_run(session, MODEL_KIND, params, summary=summary, model_version=MODEL_VERSION, version=version)
        # Superseded runs of these parameters keep their record but drop their estimator (megabytes each).
        for old in session.scalars(select(AnalysisRun).where(AnalysisRun.kind == MODEL_KIND, AnalysisRun.id != new.id)):
            if runs.matches(old.parameters, params) and old.summary and "estimator" in old.summary:
                bulky = ("estimator", "coreness", "communities")
                old.summary = {k: v for k, v in old.summary.items() if k not in bulky} | {"superseded_by": new.id}
        run_id = new.id
    _PREDICTORS.clear()
    _PREDICTORS[(str(engine.url), run_id, _graph_digest(graph))] = predictor
    info = {"run": run_id, "reused": False, "refused": refused, "seconds": round(time.perf_counter() - started, 2)}
    return predictor, info


def train_partner_model(*, seed: int = 0, inner_rounds: int = 3, engine: Engine | None = None) -> dict[str, Any]:
    """Fit and store the model :func:`recommend_partners` reads, unless one of the current data is stored.

    What the ``partner_model`` job runs after an import, so that the next recommendation reads a stored model
    instead of fitting one (minutes on a registry of 10^4 places).

    Returns
    -------
    dict
        ``runs`` (``{"partner_model": run id}``), ``reused`` (True when the stored model was current),
        ``refused`` (why a stored model was refused, or None), ``method`` and ``ties``.
    """
    engine = engine or get_engine()
    graph = load_registry_graph(engine)
    predictor, info = partner_model(engine, graph, seed=seed, inner_rounds=inner_rounds)
    return {
        "runs": {MODEL_KIND: info["run"]},
        "reused": info["reused"],
        "refused": info["refused"],
        "method": predictor.method,
        "ties": int(len(graph.edges)),
    }


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
        Seed of the predictor's training.  The predictor is the stored partner model of the registry's current
        data (:func:`partner_model`); without one it is fitted (minutes on 10^4 places) and stored.
    graph
        A preloaded registry graph (default: read from ``engine``).

    Returns
    -------
    dict
        ``city`` (id, name, country, ties), ``method`` (``model`` or ``heuristic``), ``model`` (its run, whether
        the stored one was reused: :func:`partner_model`), ``notes``, ``candidates`` (list of
        :meth:`Candidate.to_dict`), best first, and ``seconds``.

    Raises
    ------
    RecommendError
        Unknown city or country, or ``top < 1``.
    """
    if top < 1:
        raise RecommendError("--top must be at least 1")
    started = time.perf_counter()
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
    predictor, model_info = partner_model(engine, graph, seed=seed)
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
        "model": model_info,
        "notes": notes,
        "candidates": [c.to_dict() for c in scored],
        "seconds": round(time.perf_counter() - started, 2),
    }
