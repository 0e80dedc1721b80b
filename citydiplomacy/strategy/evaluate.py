"""Evaluate the partner recommender the way the field does: rank every place, score against ties it never saw.

Protocol of :func:`evaluate_partners`
-------------------------------------
1. **Truth**: pairs of places, from a file in the twinning layout (:func:`read_truth`, resolved as the
   twinning importer resolves its rows, read-only) or from the registry's own dated ties
   (:func:`temporal_truth`: the ties signed from a year on).
2. **Training graph**: the registry's ties (the one rule of :mod:`citydiplomacy.store.ties`) less every truth
   pair; the model (:class:`~citydiplomacy.strategy.linkpred.LinkPredictor`, as the recommender trains it) and
   the baselines see only this graph.
3. **Queries**: for each evaluated truth city ``c`` (every city of the truth, or a seeded sample of
   ``max_cities`` of them: ~0.3-0.9 s a city over ~16,000 places on a loaded 2-core machine), every place
   except ``c`` and its training partners is a candidate, ranked by each scorer; ties in a score are broken
   at random (seeded, the same draw for every scorer), so a baseline that scores most places 0 gets no free
   order.
4. **Metrics**, per (city, truth partner) query, *filtered* (other truth partners of the city do not count
   against it): ``hits_at_10`` / ``hits_at_50`` = share of queries whose partner ranks in the top 10 / 50;
   ``mrr`` = mean of ``1 / rank``.  ``roc_auc`` and ``pr_auc`` (average precision, scikit-learn) pool every
   candidate pair of the evaluated cities (label 1: a truth pair).  Overall and by the continent of the
   evaluated city.

Scorers: ``model`` (ranked as the recommender ranks, :func:`~citydiplomacy.strategy.linkpred.rank_city`: the
model re-ranks by its margin the places nearest the top of any baseline, the rest follow in the baselines'
fused order), ``preferential_attachment`` (degree product), ``adamic_adar``, ``gravity`` (population ×
population / (1 + km)², missing populations taken as the registry's median, places without coordinates last)
and ``country_pair`` (ties between the two countries in the training graph), all four scored against every
place (:func:`~citydiplomacy.strategy.features.city_baselines`).  Nothing is written to the registry.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from citydiplomacy import settings
from citydiplomacy.core.errors import BadInput
from citydiplomacy.strategy.data import RegistryGraph, load_registry_graph
from citydiplomacy.strategy.features import city_baselines
from citydiplomacy.strategy.linkpred import LinkPredictor, _keys, rank_city

__all__ = [
    "BASELINE_NAMES",
    "EvaluationError",
    "Truth",
    "evaluate_partners",
    "evaluate_partners_file",
    "rank_metrics",
    "read_truth",
    "temporal_truth",
]

#: Baselines reported beside the model, in table order.
BASELINE_NAMES: tuple[str, ...] = ("preferential_attachment", "adamic_adar", "gravity", "country_pair")
#: Cut-offs of hits@k.
HITS_K: tuple[int, ...] = (10, 50)
#: Examples of unknown places / refused pairs kept in the report.
MAX_EXAMPLES = 20
#: Progress is reported every this many cities.
BATCH_CITIES = 8


class EvaluationError(BadInput):
    """The evaluation cannot run: no usable truth, a year before any dated tie, bad parameters."""


@dataclass
class Truth:
    """Truth pairs as node indices of a :class:`RegistryGraph`, with what was dropped on the way.

    Attributes
    ----------
    pairs
        Distinct pairs ``(i, j)``, ``i < j``, shape ``(t, 2)``.
    source
        The file, or ``"ties signed from YEAR on"``.
    rows
        Rows (or ties) read.
    unknown_places
        Distinct mentions not found in the registry; ``unknown_rows`` rows dropped because of them.
    same_place
        Rows whose two sides are one place (refused).
    repeated
        Rows repeating a pair already read.
    examples
        Up to :data:`MAX_EXAMPLES` messages naming dropped rows.
    """

    pairs: np.ndarray
    source: str
    rows: int = 0
    unknown_places: int = 0
    unknown_rows: int = 0
    same_place: int = 0
    repeated: int = 0
    examples: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        """JSON-ready counts (and the examples)."""
        return {
            "source": self.source,
            "rows": self.rows,
            "pairs": int(len(self.pairs)),
            "unknown_places": self.unknown_places,
            "unknown_rows": self.unknown_rows,
            "same_place": self.same_place,
            "repeated": self.repeated,
            "examples": self.examples,
        }


# -- truth -------------------------------------------------------------------------------------------------
def read_truth(path: str | Path, graph: RegistryGraph, engine: Engine, *, resolver: Any = None) -> Truth:
    """Read a truth file in the twinning layout and find its places in the registry, without writing.

    Each side is resolved as :func:`~citydiplomacy.ingest.twinning.import_twinning` resolves it (the same
    resolver, coordinates when the file has ``lat1``/``lng1``/``lat2``/``lng2``, the same place key), then
    looked up in the registry by that key, else by name (accents and case folded) and country among the
    registry's places and names (one match only).  Unknown places and same-place pairs are counted, not fatal.

    Parameters
    ----------
    path
        CSV or XLSX with ``city1,country1,city2,country2`` (optional ``year``, coordinates).
    graph
        The registry's places (node indices of the answer).
    engine
        The registry (only read).
    resolver
        A :class:`~citydiplomacy.geo.resolve.Resolver` (default: one over the embedded gazetteer).

    Raises
    ------
    InputError
        The file cannot be read in that layout (missing, empty, columns missing), naming file and row.
    EvaluationError
        No truth pair is left.
    """
    from citydiplomacy.core.text import fold
    from citydiplomacy.geo.resolve import Resolver
    from citydiplomacy.ingest.tabular import InputError, parse_float, read_rows
    from citydiplomacy.ingest.twinning import REQUIRED
    from citydiplomacy.store.db import session_scope
    from citydiplomacy.store.places import Mention, place_key
    from citydiplomacy.store.schema import Place, PlaceName

    path = Path(path)
    resolver = resolver or Resolver()
    _, rows = read_rows(path, REQUIRED)
    truth = Truth(pairs=np.zeros((0, 2), dtype=np.int64), source=str(path))

    def example(text: str) -> None:
        if len(truth.examples) < MAX_EXAMPLES:
            truth.examples.append(text)

    parsed: list[tuple[int, Mention | None, Mention | None]] = []
    for row_no, row in rows:
        truth.rows += 1
        sides: list[Mention | None] = []
        for side in "12":
            name, country = row.get(f"city{side}", "").strip(), row.get(f"country{side}", "").strip()
            if not name or (country and resolver.gaz.parse_country(country).code is None):
                what = "empty place name" if not name else f"unknown country {country!r}"
                example(f"{path.name} row {row_no}, city{side}: {what}")
                sides.append(None)
                continue
            try:
                lat = parse_float(path, row_no, f"lat{side}", row.get(f"lat{side}", ""), low=-90, high=90)
                lng = parse_float(path, row_no, f"lng{side}", row.get(f"lng{side}", ""), low=-180, high=180)
            except InputError:
                lat = lng = None  # bad coordinates: resolve by name and country
            if lat is None or lng is None:
                lat = lng = None
            sides.append(Mention(name=name, country=country, lat=lat, lng=lng))
        parsed.append((row_no, sides[0], sides[1]))
    if truth.rows == 0:
        raise InputError(path, "no data rows under the header")

    mentions = list({m.key: m for _, a, b in parsed for m in (a, b) if m is not None}.values())
    resolved = resolver.resolve_many((m.name, m.country or None, m.lat, m.lng) for m in mentions)
    with session_scope(engine) as session:
        keyed = session.execute(select(Place.id, Place.gazetteer, Place.gazetteer_id))
        by_key = {(g, gid): pid for pid, g, gid in keyed}
        # The registry's names folded as store.lookup.find_places folds them, read once (a query per
        # mention would cost minutes for the ~10^4 mentions of a real truth file).
        by_name: dict[str, set[int]] = {}
        names = session.execute(select(PlaceName.place_id, PlaceName.name)).all()
        names += session.execute(select(Place.id, Place.name)).all()
        names += session.execute(select(Place.id, Place.name_fa).where(Place.name_fa.is_not(None))).all()
        for pid, name in names:
            by_name.setdefault(fold(" ".join(str(name).split())), set()).add(int(pid))
    country = graph.countries
    node_of: dict[str, int | None] = {}
    for m, res in zip(mentions, resolved, strict=True):
        pid = by_key.get(place_key(m, res))
        if pid is None:
            # Not the place the importer would have made: the registry's one place of that name (in that
            # country when the file gives one), or unknown.
            found = by_name.get(fold(" ".join(m.name.split())), set())
            cc = resolver.gaz.parse_country(m.country).code if m.country else None
            if cc:
                found = {p for p in found if country[graph.index_of(p)] == cc}
            pid = next(iter(found)) if len(found) == 1 else None
        node_of[m.key] = None if pid is None else graph.index_of(pid)
    unknown = {k for k, v in node_of.items() if v is None}
    truth.unknown_places = len(unknown) + sum(1 for _, a, b in parsed for m in (a, b) if m is None)

    pairs: dict[tuple[int, int], int] = {}
    for row_no, a, b in parsed:
        ends = [None if m is None else node_of[m.key] for m in (a, b)]
        if ends[0] is None or ends[1] is None:
            truth.unknown_rows += 1
            for side, m, node in zip("12", (a, b), ends, strict=True):
                if m is not None and node is None:
                    example(f"{path.name} row {row_no}, city{side}: {m.name!r} ({m.country}) is not in the registry")
            continue
        if ends[0] == ends[1]:
            truth.same_place += 1
            example(f"{path.name} row {row_no}: both sides are {graph.names[ends[0]]} (a place is not its own partner)")
            continue
        key = (min(ends), max(ends))
        if key in pairs:
            truth.repeated += 1
            continue
        pairs[key] = row_no
    truth.pairs = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    if len(truth.pairs) == 0:
        raise EvaluationError(
            f"{path.name}: no truth pair left ({truth.rows} rows: {truth.unknown_rows} with a place not in the "
            f"registry, {truth.same_place} of one place with itself)"
        )
    return truth


def temporal_truth(graph: RegistryGraph, engine: Engine, before: int) -> Truth:
    """The registry's ties first signed in ``before`` or later, as truth (training keeps the earlier and undated).

    Raises
    ------
    EvaluationError
        No dated tie before ``before`` (nothing to learn the past from) or none from ``before`` on.
    """
    from citydiplomacy.store.db import session_scope
    from citydiplomacy.store.ties import load_ties

    with session_scope(engine) as session:
        ties = load_ties(session)
    dated = ties.dropna(subset=["signed_year"])
    if dated.empty:
        raise EvaluationError("no tie in the registry has a signing year: --before needs dated ties")
    # A pair's year: its earliest dated relation (a pair may have several relations).
    a = np.array([graph.index_of(p) for p in dated["place_a_id"].tolist()], dtype=np.int64)
    b = np.array([graph.index_of(p) for p in dated["place_b_id"].tolist()], dtype=np.int64)
    years = dated["signed_year"].astype(int).to_numpy()
    first: dict[int, int] = {}
    for key, year in zip(_keys(np.c_[a, b], graph.n).tolist(), years.tolist(), strict=True):
        first[key] = min(year, first.get(key, year))
    earliest, latest = min(first.values()), max(first.values())
    if before <= earliest:
        raise EvaluationError(
            f"--before {before} is not after the earliest dated tie ({earliest}): nothing to train on "
            f"(dated ties span {earliest}–{latest})"
        )
    if before > latest:
        raise EvaluationError(f"--before {before}: no tie is dated {before} or later (the latest is {latest})")
    keys = np.array(sorted(k for k, y in first.items() if y >= before), dtype=np.int64)
    pairs = np.c_[keys // graph.n, keys % graph.n]
    return Truth(pairs=pairs, source=f"ties signed from {before} on", rows=len(dated))


# -- metrics -----------------------------------------------------------------------------------------------
def rank_metrics(ranks: np.ndarray, ks: tuple[int, ...] = HITS_K) -> dict[str, float | None]:
    """``hits_at_k`` (share of ranks ``<= k``) and ``mrr`` (mean of ``1 / rank``) of 1-based filtered ranks.

    None (not NaN, so the JSON stays strict) when there is no rank.
    """
    ranks = np.asarray(ranks, dtype=float)
    if len(ranks) == 0:
        return {**{f"hits_at_{k}": None for k in ks}, "mrr": None}
    out = {f"hits_at_{k}": float(np.mean(ranks <= k)) for k in ks}
    out["mrr"] = float(np.mean(1.0 / ranks))
    return out


def filtered_ranks(score: np.ndarray, positive: np.ndarray, jitter: np.ndarray) -> np.ndarray:
    """1-based rank of each positive among the negatives (higher score first, ties by ``jitter``).

    Parameters
    ----------
    score, positive, jitter
        Per candidate, shape ``(c,)``: its score, whether it is a truth partner, a random tie-breaker.

    Returns
    -------
    numpy.ndarray
        One rank per positive (in candidate order): 1 + negatives ranked above it.
    """
    order = np.lexsort((-jitter, -score))
    is_pos = positive[order]
    neg_above = np.cumsum(~is_pos) - (~is_pos)
    ranks = np.empty(len(score), dtype=np.int64)
    ranks[order] = neg_above + 1
    return ranks[positive]


def _auc(labels: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if labels.all() or not labels.any():  # undefined with one class only
        return {"roc_auc": None, "pr_auc": None}
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
    }


def evaluate_partners(
    graph: RegistryGraph,
    truth: Truth,
    *,
    max_cities: int | None = settings.EVALUATE_MAX_CITIES,
    seed: int = 0,
    inner_rounds: int = 3,
    progress: Any = None,
) -> dict[str, Any]:
    """Train on the registry without the truth pairs; rank every eligible place for each truth city.

    Parameters
    ----------
    graph
        Places and ties of the registry (:func:`~citydiplomacy.strategy.data.load_registry_graph`).
    truth
        Pairs to find (:func:`read_truth` or :func:`temporal_truth`).
    max_cities
        Truth cities evaluated: a seeded sample when there are more (None: all).
    seed
        Seed of the model, the city sample and the tie-breaking.
    inner_rounds
        Inner hold-outs of the model's training (as the recommender: 3).
    progress
        ``progress(done, total)`` called after each batch of cities.

    Returns
    -------
    dict
        ``parameters``, ``truth`` (counts), ``counts`` (places, training ties, truth pairs removed from the
        training graph, cities and queries evaluated), ``methods`` (method -> ``hits_at_10``, ``hits_at_50``,
        ``mrr``, ``roc_auc``, ``pr_auc``, ``queries``, ``by_continent``), ``best_baseline`` (by hits@10),
        ``hits_at_10_ratio`` (model / best baseline), ``model_method``, ``fit_seconds``, ``seconds``.

    Raises
    ------
    EvaluationError
        ``max_cities < 1`` or no truth pair.
    """
    if max_cities is not None and max_cities < 1:
        raise EvaluationError(f"--max-cities must be at least 1, got {max_cities}")
    if len(truth.pairs) == 0:
        raise EvaluationError("no truth pair to evaluate")
    started = time.perf_counter()
    n = graph.n
    truth_keys = np.unique(_keys(truth.pairs, n))
    registry_keys = _keys(graph.edges, n)
    in_registry = np.isin(registry_keys, truth_keys)
    train = graph.edges[~in_registry]  # the truth is never seen by the model or the baselines
    predictor = LinkPredictor(inner_rounds=inner_rounds, seed=seed).fit(graph, train)
    fg = predictor.feature_graph
    assert fg is not None

    partners: dict[int, list[int]] = {}
    for a, b in truth.pairs.tolist():
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)
    cities = np.array(sorted(partners), dtype=np.int64)
    rng = np.random.default_rng(seed + 11)
    if max_cities is not None and len(cities) > max_cities:
        cities = np.sort(rng.choice(cities, size=max_cities, replace=False))
    continent = np.array([c or "unknown" for c in graph.continents()], dtype=object)

    methods = ("model", *BASELINE_NAMES)
    ranks: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    pooled: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    labels: list[np.ndarray] = []
    query_city: list[np.ndarray] = []
    pair_city: list[np.ndarray] = []
    for done, c in enumerate(cities.tolist(), 1):
        eligible = np.ones(n, dtype=bool)
        eligible[c] = False
        eligible[fg.adjacency[c].indices] = False
        baselines = city_baselines(fg, c)
        scores = {"model": rank_city(predictor, c, eligible, baselines)[0], **baselines}
        positive = np.zeros(n, dtype=bool)
        positive[partners[c]] = True
        positive &= eligible  # a truth partner is never a training partner (removed above)
        jitter = rng.random(int(eligible.sum()))
        lab = positive[eligible]
        labels.append(lab)
        query_city.append(np.full(int(lab.sum()), c))
        pair_city.append(np.full(len(lab), c))
        for m in methods:
            s = scores[m][eligible]
            ranks[m].append(filtered_ranks(s, lab, jitter))
            pooled[m].append(s)
        if progress is not None and (done % BATCH_CITIES == 0 or done == len(cities)):
            progress(done, len(cities))

    y = np.concatenate(labels)
    q_cont = continent[np.concatenate(query_city)]
    p_cont = continent[np.concatenate(pair_city)]
    results: dict[str, dict[str, Any]] = {}
    for m in methods:
        r = np.concatenate(ranks[m])
        s = np.concatenate(pooled[m])
        s = np.where(np.isneginf(s), np.finfo(float).min, s)
        entry: dict[str, Any] = {**rank_metrics(r), **_auc(y, s), "queries": int(len(r))}
        entry["by_continent"] = {
            cont: {
                **rank_metrics(r[q_cont == cont]),
                **_auc(y[p_cont == cont], s[p_cont == cont]),
                "queries": int((q_cont == cont).sum()),
            }  # fmt: skip
            for cont in sorted(set(q_cont.tolist()))
        }
        results[m] = entry
    best = max(BASELINE_NAMES, key=lambda b: (results[b]["hits_at_10"] or 0.0, results[b]["mrr"] or 0.0))
    best_hits = results[best]["hits_at_10"] or 0.0
    return {
        "parameters": {"max_cities": max_cities, "seed": seed, "inner_rounds": inner_rounds},
        "truth": truth.counts(),
        "counts": {
            "places": int(n),
            "registry_ties": int(len(graph.edges)),
            "training_ties": int(len(train)),
            "truth_pairs_removed_from_training": int(in_registry.sum()),
            "truth_cities": int(len(partners)),
            "evaluated_cities": int(len(cities)),
            "queries": int(sum(len(r) for r in ranks["model"])),
            "candidate_pairs": int(len(y)),
            "evaluated_by_continent": dict(sorted(Counter(continent[cities].tolist()).items())),
        },
        "methods": results,
        "best_baseline": best,
        "hits_at_10_ratio": ((results["model"]["hits_at_10"] or 0.0) / best_hits) if best_hits > 0 else None,
        "model_method": predictor.method,
        "fit_seconds": round(predictor.fit_seconds, 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


def evaluate_partners_file(
    truth_path: str | Path | None = None,
    *,
    before: int | None = None,
    engine: Engine | None = None,
    max_cities: int | None = settings.EVALUATE_MAX_CITIES,
    seed: int = 0,
    inner_rounds: int = 3,
    progress: Any = None,
) -> dict[str, Any]:
    """:func:`evaluate_partners` on the registry with a truth file or a temporal split (exactly one of the two).

    Raises
    ------
    EvaluationError
        Neither or both of ``truth_path`` and ``before``; see :func:`read_truth`, :func:`temporal_truth`.
    """
    from citydiplomacy.store.db import get_engine

    if (truth_path is None) == (before is None):
        raise EvaluationError("give either --truth FILE or --before YEAR (one of the two)")
    engine = engine or get_engine()
    graph = load_registry_graph(engine)
    if truth_path is not None:
        truth = read_truth(truth_path, graph, engine)
    else:
        assert before is not None
        truth = temporal_truth(graph, engine, before)
    return evaluate_partners(
        graph, truth, max_cities=max_cities, seed=seed, inner_rounds=inner_rounds, progress=progress
    )
