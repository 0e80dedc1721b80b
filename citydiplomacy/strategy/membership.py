"""Who will join a network next: a membership model for a secretariat, its evaluation and its ranked list.

State of the registry at a year ``T`` (:func:`membership_state`), computed only from what was known before ``T``
----------------------------------------------------------------------------------------------------------------
* **members**: places whose membership of the organisation has a joining year (``since_date``, else
  ``since_year``) before ``T``.  Undated members are never counted as members nor as candidates (nobody knows
  when they joined, so counting them would leak later joins into the past); for the current state
  (:func:`recommend_members`) they count as members.
* **candidates**: every other place of the registry that the organisation's eligibility rules
  (:func:`~citydiplomacy.strategy.recommend_networks.eligibility`: regional scope, size, capitals) do not
  exclude (a global network such as the Covenant of Mayors admits every place) and that the registry knows
  apart from the organisation's own list: a tie, or a membership of another organisation.  A place the
  registry holds only because it signed the Covenant in 2018 would otherwise be a candidate of 2015 that
  is sure to join (every place without a tie would be), a leak of the future into the candidate pool;
  ``all_places`` (``--all-places``) keeps them, for comparison.
* **features** per place: ``log_twinned_members`` (log1p of its tie partners that are members; ties signed
  before ``T`` and undated ties, as the partner evaluation keeps them), ``country_share`` (share of the
  country's registry places that are members), ``recent_country_share`` (share that joined in the
  ``window`` years before ``T``), ``log_members_within_reach`` (log1p of members within ``reach_km`` km,
  haversine), ``log_population`` (the registry's median when unknown) and ``population_known``,
  ``log_other_networks`` (log1p of its dated memberships of other organisations begun before ``T``).

Protocol of :func:`evaluate_networks` (``--before YEAR``, window ``k``)
---------------------------------------------------------------------
1. **Fit** strictly before ``YEAR``: features of the state at ``YEAR - k``, label 1 for the candidates that
   joined in ``[YEAR - k, YEAR)``; a logistic regression (scikit-learn) on each feature's percentile rank among
   the state's candidates (:func:`percentiles`: raw levels drift as a network grows).  Its mean predicted
   probability equals that window's base rate (an intercept's property), which is what "how much likelier than
   a typical candidate" divides by.  (Gradient boosting and raw levels were tried on the Covenant list: less
   stable from one split year to the next.)
2. **Score** the candidates of the state at ``YEAR`` (features from before ``YEAR`` only); the truth is who
   joined from ``YEAR`` on.
3. **Metrics** (the partner evaluation's, :mod:`citydiplomacy.strategy.evaluate`): every joiner is a query
   whose *filtered* rank is 1 + the non-joiners scored above it (ties in a score broken at random, the same
   draw for every method); ``hits_at_10/50/100`` = share of joiners with rank <= k, ``mrr``; ``roc_auc`` and
   ``pr_auc`` over all candidates; ``precision_at_k`` = share of the top k of the list that joined (what a
   secretariat contacting its top k would see).
4. **Baselines**: ``population``, ``country_share`` and ``members_within_reach`` (the raw counts).

Nothing is written by the evaluation.  :func:`recommend_members` fits on the latest window (joins in the last
``k`` years from the state ``k`` years ago) and stores the coefficients as an analysis run of kind
:data:`MODEL_KIND` with the registry's data version and its parameters; the next call reuses it until the data
changes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from citydiplomacy.core.errors import BadInput
from citydiplomacy.core.text import fold
from citydiplomacy.geo.gazetteer import EARTH_RADIUS_KM
from citydiplomacy.strategy.data import RegistryGraph, load_registry_graph
from citydiplomacy.strategy.evaluate import _auc, filtered_ranks, rank_metrics
from citydiplomacy.strategy.recommend_networks import _scope, eligibility

__all__ = [
    "BASELINES",
    "FEATURES",
    "MODEL_KIND",
    "MembershipData",
    "MembershipError",
    "MembershipModel",
    "evaluate_networks",
    "evaluate_networks_registry",
    "load_membership_data",
    "membership_state",
    "percentiles",
    "recommend_members",
]

#: Features of the model, in column order.
FEATURES: tuple[str, ...] = (
    "log_twinned_members",
    "country_share",
    "recent_country_share",
    "log_members_within_reach",
    "log_population",
    "population_known",
    "log_other_networks",
)
#: Baselines reported beside the model (method -> feature read raw), in table order.
BASELINES: dict[str, str] = {
    "population": "log_population",
    "country_share": "country_share",
    "members_within_reach": "log_members_within_reach",
}
#: Cut-offs of hits@k and precision@k.
HITS_K: tuple[int, ...] = (10, 50, 100)
#: Kind of the analysis run that stores a fitted membership model.
MODEL_KIND = "membership_model"
#: Version of the model's recipe (a stored model of another version is refitted).
MODEL_VERSION = "membership-lr-percentile-2"
REACH_KM = 50.0
WINDOW = 3
_COL = {name: i for i, name in enumerate(FEATURES)}


class MembershipError(BadInput):
    """The membership evaluation or recommendation cannot run: unknown organisation, no dated joins, bad year."""


@dataclass
class MembershipData:
    """An organisation's memberships and what the features need, as arrays over the registry's places.

    Attributes
    ----------
    graph
        The registry (:func:`~citydiplomacy.strategy.data.load_registry_graph`).
    organisation_id, organisation
        The organisation and its facts (name, acronym, kind, eligibility).
    joined
        Per place, the year it joined (``inf``: not a member; ``nan``: a member without a joining year).
        Joins after the state's year are unknown to it, so the current state is the year after the latest join.
    tie_years
        Per tie of ``graph.edges``, its earliest signing year (``nan`` undated).
    other
        ``(node, year)`` of the dated memberships of other organisations, shape ``(r, 2)``.
    eligible
        Per place, whether the organisation's rules admit it (unknown counts as admitted).
    known
        Per place, whether the registry knows it apart from this organisation (a tie, or a membership of
        another one); None: every place.
    """

    graph: RegistryGraph
    organisation_id: int
    organisation: dict[str, Any]
    joined: np.ndarray
    tie_years: np.ndarray
    other: np.ndarray
    eligible: np.ndarray
    known: np.ndarray | None = None

    @property
    def label(self) -> str:
        """The organisation's acronym, else its name."""
        return str(self.organisation.get("acronym") or self.organisation["name"])

    def dated_years(self) -> np.ndarray:
        """Joining years of the dated members."""
        return self.joined[np.isfinite(self.joined)]


def _find_organisation(graph: RegistryGraph, organisation: str) -> int:
    wanted = fold(organisation.strip())
    hits = [
        oid
        for oid, org in graph.organisations.items()
        if wanted in {fold(str(org.get("acronym") or "")), fold(str(org["name"]))}
    ]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise MembershipError(f"organisation {organisation!r} is ambiguous ({len(hits)} organisations have that name)")
    near = sorted(
        str(o.get("acronym") or o["name"])
        for o in graph.organisations.values()
        if wanted and (wanted in fold(str(o["name"])) or wanted in fold(str(o.get("acronym") or "")))
    )
    hint = f"; did you mean {', '.join(near[:5])}?" if near else " (citydip registry lists organisations)"
    raise MembershipError(f"unknown organisation {organisation!r}: no organisation has that name or acronym{hint}")


def load_membership_data(
    organisation: str, engine: Engine | None = None, graph: RegistryGraph | None = None
) -> MembershipData:
    """Read an organisation's memberships with their joining years, ties with theirs, and other memberships.

    Raises
    ------
    MembershipError
        Unknown organisation, or none of its memberships has a joining year.
    """
    from citydiplomacy.store.db import get_engine, session_scope
    from citydiplomacy.store.schema import Membership

    engine = engine or get_engine()
    graph = graph or load_registry_graph(engine)
    oid = _find_organisation(graph, organisation)
    n = graph.n
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                Membership.place_id,
                Membership.organisation_id,
                Membership.since_year,
                Membership.since_date,
                Membership.role,
            )
        ).all()
    joined = np.full(n, np.inf)
    other: list[tuple[int, int]] = []
    for pid, org_id, year, day, role in rows:
        if role == "former":
            continue
        node = graph.index_of(pid)
        y = day.year if day is not None else year
        if org_id == oid:
            y = np.nan if y is None else float(y)
            # A place with several roles: its earliest known year; an undated role does not hide a dated one.
            old = joined[node]
            joined[node] = y if (np.isinf(old) or (np.isnan(old) and not np.isnan(y))) else np.fmin(old, y)
        elif y is not None:
            other.append((node, int(y)))
    org = graph.organisations[oid]
    if not np.isfinite(joined).any():
        members = int((~np.isinf(joined)).sum())
        raise MembershipError(
            f"{org.get('acronym') or org['name']}: none of its {members} memberships has a joining year "
            "(since_year / since_date); nothing to learn who joins when"
        )
    tie_years = graph.edge_years if graph.edge_years is not None else np.full(len(graph.edges), np.nan)
    rules = org.get("eligibility") or {}
    if not rules and _scope(org) is None:
        eligible = np.ones(n, dtype=bool)  # no rule: every place may join
    else:
        eligible = np.array(
            [
                eligibility(org, str(graph.countries[i]), float(graph.population[i]), bool(graph.capital[i]))[0]
                is not False
                for i in range(n)
            ]
        )
    other_arr = np.array(other, dtype=np.int64).reshape(-1, 2)
    # Known apart from the organisation: a tie, or a membership of another organisation (dated or not: only
    # whether the place would be in the registry without this organisation's list).
    known = np.bincount(graph.edges.ravel(), minlength=n) > 0
    for pid, org_id, *_ in rows:
        if org_id != oid:
            known[graph.index_of(pid)] = True
    return MembershipData(
        graph=graph,
        organisation_id=oid,
        organisation=org,
        joined=joined,
        tie_years=tie_years,
        other=other_arr,
        eligible=eligible,
        known=known,
    )


def _within_reach(graph: RegistryGraph, members: np.ndarray, reach_km: float) -> np.ndarray:
    """Members within ``reach_km`` km (great-circle) of each place, itself excluded; 0 without coordinates.

    Points on the unit sphere in a k-d tree: a great-circle distance ``d`` is the chord ``2 sin(d / 2R)``, so
    the count is exact (the haversine distance) and ~10x faster than a haversine ball tree.
    """
    from scipy.spatial import cKDTree

    out = np.zeros(graph.n)
    located = np.isfinite(graph.lat) & np.isfinite(graph.lng)
    lat, lng = np.radians(graph.lat), np.radians(graph.lng)
    xyz = np.c_[np.cos(lat) * np.cos(lng), np.cos(lat) * np.sin(lng), np.sin(lat)]
    mem = np.flatnonzero(members & located)
    if len(mem) == 0:
        return out
    where = np.flatnonzero(located)
    chord = 2.0 * np.sin(reach_km / (2.0 * EARTH_RADIUS_KM))
    counts = cKDTree(xyz[mem]).query_ball_point(xyz[where], chord, return_length=True)
    out[where] = counts - members[where]  # a member does not count itself
    return out


def membership_state(
    data: MembershipData,
    year: float,
    *,
    window: int = WINDOW,
    reach_km: float = REACH_KM,
    undated: bool = False,
    all_places: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, members and candidates of the state at the start of ``year`` (see the module docstring).

    Parameters
    ----------
    data
        :func:`load_membership_data`.
    year
        The state's year (``inf``: now).
    window
        Years before ``year`` that ``recent_country_share`` counts.
    reach_km
        Radius of ``log_members_within_reach``, in km.
    undated
        Count undated members as members (only for the current state).
    all_places
        Candidates among every place, also those the registry knows only from this organisation's list
        (default: only places known apart from it, ``data.known``; see the module docstring).

    Returns
    -------
    tuple
        ``x`` (features, shape ``(n, len(FEATURES))``), ``members`` and ``candidates`` (boolean, shape ``(n,)``).
    """
    from scipy import sparse

    g, n = data.graph, data.graph.n
    members = data.joined < year
    if undated:
        members |= np.isnan(data.joined)
    candidates = ~members & ~np.isnan(data.joined) & data.eligible
    if not all_places and data.known is not None:
        candidates &= data.known
    recent = (data.joined < year) & (data.joined >= year - window)
    keep = ~(data.tie_years >= year)  # undated ties are kept (nan compares False)
    e = g.edges[keep]
    adj = sparse.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    adj = adj + adj.T
    twinned = adj @ members.astype(float)
    _, country = np.unique(g.countries.astype(str), return_inverse=True)
    places_in = np.bincount(country).astype(float)
    # Self excluded, so a member's own row does not read its own membership.
    share = (np.bincount(country, weights=members)[country] - members) / np.maximum(places_in[country] - 1, 1)
    recent_share = (np.bincount(country, weights=recent)[country] - recent) / np.maximum(places_in[country] - 1, 1)
    unknown_country = g.countries.astype(str) == ""
    share[unknown_country] = recent_share[unknown_country] = 0.0
    pop = g.population
    known = np.isfinite(pop) & (pop > 0)
    median = float(np.median(pop[known])) if known.any() else 1.0
    log_pop = np.log(np.where(known, pop, median))
    other = data.other[data.other[:, 1] < year] if len(data.other) else data.other
    other_count = np.bincount(other[:, 0], minlength=n) if len(other) else np.zeros(n)
    x = np.c_[
        np.log1p(twinned),
        share,
        recent_share,
        np.log1p(_within_reach(g, members, reach_km)),
        log_pop,
        known.astype(float),
        np.log1p(other_count),
    ]
    return x, members, candidates


def percentiles(x: np.ndarray) -> np.ndarray:
    """Each column as percentile ranks in ``(0, 1]`` among the rows (average ranks for ties).

    The model reads where a place stands among the state's candidates, not raw levels: the raw levels drift
    as a network grows (a country share of 5 % in 2012 is low by 2015), the standing much less.
    """
    from scipy.stats import rankdata

    if len(x) == 0:
        return x.astype(float)
    return rankdata(x, axis=0) / len(x)


@dataclass
class MembershipModel:
    """A logistic regression on the percentile ranks of :data:`FEATURES` (small enough to store as JSON).

    Rows are scored as a set: :meth:`margin` ranks them among themselves (:func:`percentiles`), so score all
    candidates of a state together, then filter.

    Attributes
    ----------
    mean, scale, coef
        Standardisation (of the percentiles) and coefficients, one per feature.
    intercept
        The intercept (log-odds).
    base_rate
        Share of the training candidates that joined in the training window.
    trained
        Counts of the fit: ``state_year``, ``until_year``, ``candidates``, ``joins``.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    base_rate: float
    trained: dict[str, Any]

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, trained: dict[str, Any], seed: int = 0) -> MembershipModel:
        """Fit on all candidates ``x`` of a state with labels ``y`` (1: joined in the window)."""
        from sklearn.linear_model import LogisticRegression

        z = percentiles(x)
        mean, scale = z.mean(axis=0), z.std(axis=0)
        # A feature without spread in the training state (e.g. no other network dated yet) carries nothing:
        # its column is zeroed and its coefficient is 0 (not one learned on rounding noise).
        constant = scale < 1e-9
        scale = np.where(constant, 1.0, scale)
        zs = (z - mean) / scale
        zs[:, constant] = 0.0
        lr = LogisticRegression(C=1.0, max_iter=2000, random_state=seed).fit(zs, y)
        coef = np.where(constant, 0.0, lr.coef_[0])
        return cls(mean, scale, coef, float(lr.intercept_[0]), float(np.mean(y)), trained)

    def margin(self, x: np.ndarray) -> np.ndarray:
        """Log-odds of joining within the window, for the candidates ``x`` of one state scored together."""
        return ((percentiles(x) - self.mean) / self.scale) @ self.coef + self.intercept

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Probability of joining within the window (calibrated to the training window's base rate)."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.margin(x), -50, 50)))

    def as_json(self) -> dict[str, Any]:
        """The model as stored (``summary`` of its analysis run)."""
        return {
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "base_rate": self.base_rate,
            "trained": self.trained,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MembershipModel:
        """The model back from :meth:`as_json`."""
        return cls(
            np.array(d["mean"]), np.array(d["scale"]), np.array(d["coef"]), float(d["intercept"]),
            float(d["base_rate"]), dict(d["trained"]),
        )  # fmt: skip


def _fit_window(
    data: MembershipData,
    until: float,
    *,
    window: int,
    reach_km: float,
    seed: int,
    undated: bool = False,
    all_places: bool = False,
) -> MembershipModel:
    """Fit on the state at ``until - window``: label = joined in ``[until - window, until)``."""
    start = until - window
    x, _, cand = membership_state(data, start, window=window, reach_km=reach_km, undated=undated, all_places=all_places)
    y = (data.joined[cand] >= start) & (data.joined[cand] < until)
    if y.sum() == 0 or y.all():
        raise MembershipError(
            f"{data.label}: no join in the training window {int(start)}–{int(until) - 1} to learn from "
            f"(dated joins span {int(data.dated_years().min())}–{int(data.dated_years().max())}); "
            "try a later --before or a longer --window"
        )
    trained = {"state_year": int(start), "until_year": int(until) - 1, "candidates": int(cand.sum()),
               "joins": int(y.sum())}  # fmt: skip
    return MembershipModel.fit(x[cand], y.astype(int), trained, seed=seed)


def evaluate_networks(
    data: MembershipData,
    before: int,
    *,
    window: int = WINDOW,
    reach_km: float = REACH_KM,
    seed: int = 0,
    all_places: bool = False,
) -> dict[str, Any]:
    """Rank the candidates of the state at ``before`` by each method; score against who joined from ``before`` on.

    Parameters
    ----------
    data
        :func:`load_membership_data`.
    before
        The split year: the model and the baselines see only the state before it.
    window
        Years of the training window (joins in ``[before - window, before)`` from the state at ``before - window``).
    reach_km
        Radius of "members within reach", in km.
    seed
        Seed of the tie-breaking and the model.
    all_places
        Candidates among every place of the registry, also those it knows only from this organisation's list
        (default: only places it knows apart from it, see the module docstring).

    Returns
    -------
    dict
        ``organisation``, ``parameters``, ``counts`` (members before, candidates, joiners, training),
        ``methods`` (method -> ``hits_at_10``, ``hits_at_50``, ``hits_at_100``, ``mrr``, ``roc_auc``, ``pr_auc``,
        ``precision_at_10/50/100``, ``queries``), ``best_baseline`` (by hits@100, then AUC), ``coefficients``,
        ``seconds``.

    Raises
    ------
    MembershipError
        ``before`` not after the earliest dated join or after the latest, ``window < 1``, no training join.
    """
    started = time.perf_counter()
    if window < 1:
        raise MembershipError(f"--window must be at least 1 year, got {window}")
    years = data.dated_years()
    earliest, latest = int(years.min()), int(years.max())
    if before <= earliest:
        raise MembershipError(
            f"--before {before} is not after {data.label}'s earliest dated join ({earliest}): nothing to learn "
            f"from (dated joins span {earliest}–{latest})"
        )
    if before > latest:
        raise MembershipError(f"--before {before}: no one joined {data.label} in {before} or later (latest {latest})")
    model = _fit_window(data, before, window=window, reach_km=reach_km, seed=seed, all_places=all_places)
    x, members, cand = membership_state(data, before, window=window, reach_km=reach_km, all_places=all_places)
    xc = x[cand]
    y = np.isfinite(data.joined[cand]) & (data.joined[cand] >= before)
    scores = {"model": model.margin(xc), **{m: xc[:, _COL[f]] for m, f in BASELINES.items()}}
    jitter = np.random.default_rng(seed + 11).random(len(y))
    methods: dict[str, dict[str, Any]] = {}
    for name, s in scores.items():
        entry: dict[str, Any] = {**rank_metrics(filtered_ranks(s, y, jitter), ks=HITS_K), **_auc(y, s)}
        order = np.lexsort((-jitter, -s))
        for k in HITS_K:
            entry[f"precision_at_{k}"] = float(y[order[:k]].mean()) if len(y) else None
        entry["queries"] = int(y.sum())
        methods[name] = entry
    best = max(BASELINES, key=lambda b: (methods[b]["hits_at_100"] or 0.0, methods[b]["roc_auc"] or 0.0))
    return {
        "organisation": {"id": data.organisation_id, "name": data.organisation["name"], "label": data.label},
        "parameters": {
            "before": before,
            "window": window,
            "reach_km": reach_km,
            "seed": seed,
            "all_places": all_places,
        },
        "counts": {
            "places": int(data.graph.n),
            "dated_members": int(len(years)),
            "undated_members": int(np.isnan(data.joined).sum()),
            "dated_joins_span": [earliest, latest],
            "members_before": int(members.sum()),
            "ineligible": int((~data.eligible).sum()),
            "known_only_from_the_organisation": 0 if data.known is None else int((~data.known).sum()),
            "candidates": int(cand.sum()),
            "joiners": int(y.sum()),
            "training": model.trained,
        },
        "methods": methods,
        "best_baseline": best,
        "coefficients": dict(zip(FEATURES, np.round(model.coef, 4).tolist(), strict=True)),
        "seconds": round(time.perf_counter() - started, 2),
    }


def evaluate_networks_registry(
    before: int,
    *,
    organisation: str = "GCoM",
    engine: Engine | None = None,
    window: int = WINDOW,
    reach_km: float = REACH_KM,
    seed: int = 0,
    all_places: bool = False,
) -> dict[str, Any]:
    """:func:`evaluate_networks` on the registry's memberships of ``organisation`` (read only)."""
    data = load_membership_data(organisation, engine)
    return evaluate_networks(data, before, window=window, reach_km=reach_km, seed=seed, all_places=all_places)


# -- recommendation ------------------------------------------------------------------------------------------
def _stored_model(
    engine: Engine, data: MembershipData, window: int, reach_km: float, seed: int
) -> tuple[MembershipModel, bool, int]:
    """The stored model for these parameters and the current data version, else a new fit (stored).

    Returns the model, whether it was the stored one, and the id of its analysis run.
    """
    from citydiplomacy.store import runs
    from citydiplomacy.store.db import session_scope

    params = {"organisation_id": data.organisation_id, "window": window, "reach_km": reach_km, "seed": seed}
    with session_scope(engine) as session:
        version = runs.data_version(session)
        run = runs.latest_run(session, MODEL_KIND, params)
        if run is not None and run.data_version == version and run.model_version == MODEL_VERSION and run.summary:
            return MembershipModel.from_json(run.summary), True, run.id
    until = float(data.dated_years().max()) + 1
    model = _fit_window(data, until, window=window, reach_km=reach_km, seed=seed, undated=False)
    with session_scope(engine) as session:
        run_id = runs.new_run(
            session, MODEL_KIND, params, summary=model.as_json(), model_version=MODEL_VERSION, version=version
        ).id
    return model, False, run_id


def train_membership_model(
    organisation: str,
    *,
    window: int = WINDOW,
    reach_km: float = REACH_KM,
    seed: int = 0,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Fit and store the model :func:`recommend_members` reads, unless one of the current data is stored.

    What the ``membership_model`` job runs after an import, so that a secretariat's next recommendation
    reads a stored model instead of fitting one.

    Returns
    -------
    dict
        ``runs`` (``{"membership_model": run id}``), ``reused`` (True when the stored model was current) and
        ``organisation``.

    Raises
    ------
    MembershipError
        Unknown organisation, no dated membership, no join in the latest window.
    """
    from citydiplomacy.store.db import get_engine

    engine = engine or get_engine()
    data = load_membership_data(organisation, engine)
    _, reused, run_id = _stored_model(engine, data, window, reach_km, seed)
    return {"runs": {MODEL_KIND: run_id}, "reused": reused, "organisation": organisation}


def recommend_members(
    organisation: str,
    *,
    top: int = 20,
    country: str | None = None,
    window: int = WINDOW,
    reach_km: float = REACH_KM,
    seed: int = 0,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """The places most likely to join ``organisation`` next, with reasons, for its secretariat.

    The model is fitted on the latest window (state ``window`` years before the latest dated join) and stored;
    the score is the calibrated probability of joining within ``window`` years, shown as ``lift``: how many
    times the training window's base rate (a typical candidate) it is.

    Parameters
    ----------
    organisation
        Name or acronym.
    top
        Places listed.
    country
        Only candidates of this ISO 3166-1 alpha-2 country.
    window, reach_km, seed
        As :func:`evaluate_networks`.
    engine
        The registry (the model is stored there as an analysis run).

    Raises
    ------
    MembershipError
        Unknown organisation, no dated membership, no join in the latest window, ``top < 1``.
    """
    from citydiplomacy.store.db import get_engine

    started = time.perf_counter()
    if top < 1:
        raise MembershipError("--top must be at least 1")
    engine = engine or get_engine()
    data = load_membership_data(organisation, engine)
    model, reused, _ = _stored_model(engine, data, window, reach_km, seed)
    # Now: the year after the latest dated join (so "recent" means the last ``window`` years), undated
    # members counted as members.
    now = float(data.dated_years().max()) + 1
    x, members, cand = membership_state(data, now, window=window, reach_km=reach_km, undated=True)
    g = data.graph
    idx = np.flatnonzero(cand)
    prob = model.probability(x[idx])  # among every candidate (percentiles), then filtered
    if country:
        inside = g.countries[idx] == country.upper()
        idx, prob = idx[inside], prob[inside]
    order = idx[np.lexsort((g.names[idx].astype(str), -prob))][:top]
    p_of = dict(zip(idx.tolist(), prob.tolist(), strict=True))
    neighbours: dict[int, list[int]] = {}
    for a, b in g.edges.tolist():
        if members[b]:
            neighbours.setdefault(a, []).append(b)
        if members[a]:
            neighbours.setdefault(b, []).append(a)
    items = []
    for i in order.tolist():
        p = p_of[i]
        twins = neighbours.get(i, [])
        near = int(round(math.expm1(x[i, _COL["log_members_within_reach"]])))
        others = int(round(math.expm1(x[i, _COL["log_other_networks"]])))
        reasons = []
        if twins:
            reasons.append(f"twinned with {len(twins)} member(s): " + ", ".join(str(g.names[t]) for t in twins[:3]))
        if near:
            reasons.append(f"{near} member(s) within {reach_km:g} km")
        reasons.append(f"{x[i, _COL['country_share']]:.0%} of the country's places are members")
        pop = g.population[i]
        reasons.append(f"population {pop:,.0f}" if np.isfinite(pop) else "population unknown")
        if others:
            reasons.append(f"member of {others} other network(s)")
        reasons.append(eligibility(data.organisation, str(g.countries[i]), float(pop), bool(g.capital[i]))[1])
        items.append(
            {
                "place_id": int(g.place_ids[i]),
                "name": str(g.names[i]),
                "country_code": str(g.countries[i]),
                "probability": round(p, 4),
                "lift": round(p / model.base_rate, 1) if model.base_rate > 0 else None,
                "twinned_members": len(twins),
                "members_within_reach": near,
                "reasons": reasons,
            }
        )
    return {
        "organisation": {"id": data.organisation_id, "name": data.organisation["name"], "label": data.label},
        "members": int(members.sum()),
        "candidates": int(len(idx)),
        "window": window,
        "base_rate": model.base_rate,
        "model": {
            "reused": reused,
            "trained": model.trained,
            "coefficients": dict(zip(FEATURES, np.round(model.coef, 4).tolist(), strict=True)),
        },  # fmt: skip
        "recommendations": items,
        "seconds": round(time.perf_counter() - started, 2),
    }
