"""The City Diplomacy Index (CDI) over the registry: indicators -> seven dimensions -> CDI, stored as a run.

:func:`assess` is the workflow step behind ``citydip assess``:

1. compute the catalogue's indicators for every place with records (:mod:`.indicators`);
2. build the composite index with the composite-index engine (:mod:`.pipeline`), on the framework
   *indicators -> dimensions -> CDI*, with weights equal or from the literature ranks of paper 000
   (rank-order centroid over the rank tiers, see :func:`rank_order_weights`);
3. store an ``AnalysisRun(kind="assessment")`` with every choice and the catalogue version, and one
   ``CityResult`` row per place and number (indicator values, dimension scores, CDI, rank, coverage;
   with ``uncertainty_samples`` also the rank interval ``CDI_RANK_MEDIAN``/``_P05``/``_P95`` and the score
   intervals ``CDI_P05``/``CDI_P95``, ``DIM_<dimension>_P05``/``_P95``, see :func:`rank_intervals`; the run's
   summary counts the places whose nominal rank lies outside its interval).

The index is always built over *all* places (normalisation needs the reference set); assessing one city
stores and reports the same numbers with that city in focus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citydiplomacy.assess.errors import IndexInputError
from citydiplomacy.assess.framework import Framework
from citydiplomacy.assess.indicators import IndicatorTable, ZeroPolicy, compute_indicators
from citydiplomacy.assess.pipeline import RANK_TIES, UNIT, Choices, IndexPipeline
from citydiplomacy.model.indicators import Catalogue, load_capacity, load_catalogue
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.runs import CDI_CODE, COVERAGE_CODE, DIMENSION_PREFIX, RANK_CODE, interval_codes, new_run
from citydiplomacy.store.schema import AnalysisRun, CityResult, IndicatorValue

WeightScheme = Literal["equal", "rank-order"]


def dimension_code(dimension: str) -> str:
    """The ``CityResult.code`` of a dimension score, e.g. ``DIM_security``."""
    return f"{DIMENSION_PREFIX}{dimension}"


@dataclass(frozen=True)
class AssessmentChoices:
    """Every choice an assessment makes; stored verbatim in ``AnalysisRun.parameters``.

    Attributes
    ----------
    weights : {"equal", "rank-order"}
        Indicator weights within a dimension: equal, or rank-order centroid weights from the literature
        ranks of paper 000 (:func:`rank_order_weights`).  Dimensions are weighted equally in the CDI.
    normalise : str
        Normalisation method passed to the composite-index engine (e.g. ``minmax``, ``zscore``, ``rank``).
    aggregate : str
        Aggregation method passed to the engine (e.g. ``arithmetic``, ``geometric``).
    missing : str
        How the engine treats missing indicators (e.g. ``available`` re-weights over the values present).
    year : int or None
        Registry as of this year (None: current state).
    zero_policy : {"family", "place"}
        When a count without records is a true zero (see :mod:`.indicators`).
    min_coverage : float
        Places whose share of non-missing indicators is below this get no CDI (0-1).
    """

    weights: WeightScheme = "rank-order"
    normalise: str = "minmax"
    aggregate: str = "arithmetic"
    missing: str = "available"
    year: int | None = None
    zero_policy: ZeroPolicy = "family"
    min_coverage: float = 0.0
    #: Monte Carlo index builds for rank intervals (0: none); see :func:`.uncertainty.run_uncertainty`.
    uncertainty_samples: int = 0
    uncertainty_seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The choices as JSON-ready data."""
        return asdict(self)


@dataclass
class AssessmentResult:
    """An assessment run's results.

    Attributes
    ----------
    run_id : int
        ``AnalysisRun.id`` of the stored run.
    scores : pandas.DataFrame
        Index ``place_id``: ``name``, ``country_code``, one column per dimension (0-100 scale of the
        engine), ``CDI``, ``rank`` (1 = highest CDI, ties share the lowest rank; NaN where no CDI) and
        ``coverage`` (0-1); with uncertainty samples also :data:`RANK_INTERVAL_CODES` and the 5-95 % score
        intervals ``CDI_P05``, ``CDI_P95``, ``DIM_<dimension>_P05``, ``DIM_<dimension>_P95``.
    table : IndicatorTable
        The indicator values and their coverage.
    weights : pandas.Series
        Indicator weights used within each dimension (index: indicator code; sums to 1 per dimension).
    choices : AssessmentChoices
    catalogue_version : str
    focus : int or None
        The place asked for (None for ``--all``).
    """

    run_id: int
    scores: pd.DataFrame
    table: IndicatorTable
    weights: pd.Series
    choices: AssessmentChoices
    catalogue_version: str
    focus: int | None = None
    engine_info: dict[str, Any] = field(default_factory=dict)

    def city(self, place_id: int | None = None) -> dict[str, Any]:
        """One place's result as JSON-ready data: scores, indicators with coverage, rank among all."""
        pid = place_id if place_id is not None else self.focus
        if pid is None:
            raise ValueError("no place given and the assessment has no focus place")
        row = self.scores.loc[pid]
        cat = self.table.catalogue
        indicators = [
            {
                "code": ind.code,
                "name": ind.name,
                "dimension": ind.dimension,
                "value": _num(self.table.values.at[pid, ind.code]),
                "coverage": str(self.table.coverage.at[pid, ind.code]),
                "unit": ind.unit,
            }
            for ind in cat
        ]
        return {
            "run_id": self.run_id,
            "place_id": int(pid),
            "name": row["name"],
            "country_code": row["country_code"],
            "cdi": _num(row[CDI_CODE]),
            "rank": _num(row["rank"]),
            "of": int(self.scores[CDI_CODE].notna().sum()),
            "coverage": _num(row["coverage"]),
            "dimensions": {dim: _num(row[dim]) for dim in cat.dimensions},
            "indicators": indicators,
            "choices": self.choices.as_dict(),
            "catalogue_version": self.catalogue_version,
        }


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value) else float(value)


def rank_order_weights(catalogue: Catalogue) -> pd.Series:
    """Rank-order centroid (ROC) weights of the indicators within each dimension, from literature ranks.

    Each indicator's importance tier (:attr:`Indicator.rank_tier`: the paper's ranks 1-3, then unknown,
    then "least frequent") is ranked among the *distinct* tiers present in its dimension; tier ``k`` of
    ``K`` gets the ROC weight ``(1/K) * sum_{j=k..K} 1/j``; indicators sharing a tier share it; the
    weights are normalised to sum to 1 per dimension.  A dimension whose indicators share one tier gets
    equal weights.

    Returns
    -------
    pandas.Series
        Index: indicator code (catalogue order); values sum to 1 within each dimension.
    """
    out: dict[str, float] = {}
    for indicators in catalogue.by_dimension().values():
        tiers = sorted({ind.rank_tier for ind in indicators})
        k_total = len(tiers)
        roc = {tier: sum(1.0 / j for j in range(pos, k_total + 1)) / k_total for pos, tier in enumerate(tiers, start=1)}
        raw = {ind.code: roc[ind.rank_tier] for ind in indicators}
        total = sum(raw.values())
        out.update({code: w / total for code, w in raw.items()})
    return pd.Series(out, dtype=float).reindex(catalogue.codes)


def equal_weights(catalogue: Catalogue) -> pd.Series:
    """Equal weights of the indicators within each dimension (sum to 1 per dimension)."""
    groups = catalogue.by_dimension()
    return pd.Series({ind.code: 1.0 / len(groups[ind.dimension]) for ind in catalogue}, dtype=float).reindex(
        catalogue.codes
    )


def capacity_status(session: Session, place_id: int) -> pd.DataFrame:
    """The institutional-capacity checklist (paper 003) for one place, from ``CAP_*`` indicator values.

    Returns
    -------
    pandas.DataFrame
        One row per checklist item: ``code``, ``name``, ``name_fa``, ``value`` (1 in place, 0 absent,
        a fraction partly; NaN unknown), ``status`` (``in place``/``partly``/``absent``/``unknown``),
        ``year`` and ``source_id`` of the latest entry.
    """
    _, items = load_capacity()
    rows = session.execute(
        select(
            IndicatorValue.indicator_code, IndicatorValue.year, IndicatorValue.value, IndicatorValue.source_id
        ).where(IndicatorValue.place_id == place_id, IndicatorValue.indicator_code.like("CAP\\_%", escape="\\"))
    ).all()
    latest: dict[str, tuple[int | None, float, int | None]] = {}
    for code, year, value, source_id in rows:
        previous = latest.get(code)
        if previous is None or (year or -1) >= (previous[0] or -1):
            latest[code] = (year, value, source_id)
    out = []
    for item in items:
        year, value, source_id = latest.get(item.code, (None, float("nan"), None))
        if np.isnan(value):
            status = "unknown"
        elif value >= 1:
            status = "in place"
        elif value <= 0:
            status = "absent"
        else:
            status = "partly"
        out.append(
            {
                "code": item.code,
                "name": item.name,
                "name_fa": item.name_fa,
                "value": value,
                "status": status,
                "year": year,
                "source_id": source_id,
            }
        )
    return pd.DataFrame(out)


def _store(
    session: Session,
    table: IndicatorTable,
    scores: pd.DataFrame,
    weights: pd.Series,
    choices: AssessmentChoices,
    catalogue: Catalogue,
    engine_info: dict[str, Any],
) -> AnalysisRun:
    """Write the run and its per-place rows (indicators, dimension scores, CDI, rank, coverage)."""
    parameters = {
        **choices.as_dict(),
        "catalogue_version": catalogue.version,
        "catalogue_checksum": catalogue.checksum,
        "weights_used": {code: round(float(w), 6) for code, w in weights.items()},
        "network_run_id": table.notes.get("network_run_id"),
        "tie_rule": table.notes.get("tie_rule"),
        **{f"engine_{k}": v for k, v in engine_info.items()},
    }
    ranked = scores[CDI_CODE].notna()
    summary = {
        "places": len(scores),
        "places_with_cdi": int(ranked.sum()),
        "mean_coverage": round(float(scores["coverage"].mean()), 4) if len(scores) else None,
        "coverage_counts": {k: int(v) for k, v in table.coverage.stack().value_counts().items()},
    }
    if "uncertainty" in engine_info:
        # reported, not hidden: nominal ranks outside their own interval (see rank_intervals)
        summary["uncertainty"] = engine_info["uncertainty"]
    if table.notes.get("network_run_missing"):
        summary["notes"] = [table.notes["network_run_missing"]]
    run = new_run(
        session, "assessment", parameters, summary=summary, model_version=catalogue.version,
        version=table.notes.get("data_version"),
    )  # fmt: skip

    records: list[dict[str, Any]] = []
    long = table.long()
    for place_id, code, value, coverage in long[["place_id", "code", "value", "coverage"]].itertuples(index=False):
        if coverage == "missing":
            continue  # absence of a row is "missing"; the coverage summary row keeps the count
        records.append(
            {
                "run_id": run.id,
                "place_id": int(place_id),
                "code": code,
                "value": float(value),
                "detail": {"coverage": coverage},
            }
        )
    dims = list(catalogue.dimensions)
    coverage_counts = table.coverage_counts()
    interval_columns = [c for c in RANK_INTERVAL_CODES if c in scores.columns]
    interval_columns += [
        c for code in (CDI_CODE, *map(dimension_code, dims)) for c in interval_codes(code) if c in scores.columns
    ]
    for place_id, row in scores.iterrows():
        pid = int(place_id)  # type: ignore[arg-type]
        for dim in dims:
            records.append(
                {
                    "run_id": run.id,
                    "place_id": pid,
                    "code": dimension_code(dim),
                    "value": _num(row[dim]),
                    "detail": None,
                }
            )
        records.append(
            {
                "run_id": run.id,
                "place_id": pid,
                "code": CDI_CODE,
                "value": _num(row[CDI_CODE]),
                "detail": None,
            }
        )
        records.append(
            {"run_id": run.id, "place_id": pid, "code": RANK_CODE, "value": _num(row["rank"]), "detail": None}
        )
        for column in interval_columns:
            if _num(row[column]) is not None:
                records.append(
                    {"run_id": run.id, "place_id": pid, "code": column, "value": _num(row[column]), "detail": None}
                )
        counts = {k: int(v) for k, v in coverage_counts.loc[place_id].items()}
        records.append(
            {
                "run_id": run.id,
                "place_id": pid,
                "code": COVERAGE_CODE,
                "value": _num(row["coverage"]),
                "detail": counts,
            }
        )
    if records:
        session.execute(CityResult.__table__.insert(), records)
    return run


def assess(
    session: Session,
    city: int | str | None = None,
    choices: AssessmentChoices | None = None,
    *,
    country: str | None = None,
    catalogue: Catalogue | None = None,
) -> AssessmentResult:
    """Assess one city or every place of the registry: compute indicators, build the CDI, store the run.

    Parameters
    ----------
    session : Session
        A registry session; the run is added and flushed (the caller commits).
    city : int, str or None
        A place id, a place name (resolved with :func:`citydiplomacy.store.lookup.find_place`, optionally
        within ``country``), or None / ``"all"`` for every place.
    choices : AssessmentChoices, optional
        Weights, normalisation, aggregation, missing-value treatment, year (default: rank-order, min-max,
        arithmetic, re-weighting over available indicators, current state).

    Returns
    -------
    AssessmentResult
        Scores of every place (the index is always relative to all places), focused on ``city``.
    """
    choices = choices or AssessmentChoices()
    catalogue = catalogue or load_catalogue()
    focus: int | None = None
    if isinstance(city, int):
        focus = city
    elif isinstance(city, str) and city.lower() != "all":
        focus = find_place(session, city, country).id

    table = compute_indicators(session, year=choices.year, catalogue=catalogue, zero_policy=choices.zero_policy)
    if focus is not None and focus not in table.values.index:
        # A place without any record still gets a row: every indicator missing, no CDI.
        table = compute_indicators(
            session,
            places=[*table.values.index, focus],
            year=choices.year,
            catalogue=catalogue,
            zero_policy=choices.zero_policy,
        )
    weights = rank_order_weights(catalogue) if choices.weights == "rank-order" else equal_weights(catalogue)
    dim_scores, cdi, engine_info = build_index(table, weights, choices)
    intervals = engine_info.pop("_rank_intervals", None)

    coverage = table.coverage_share()
    cdi = cdi.where(coverage >= choices.min_coverage)
    scores = table.places[["name", "country_code"]].join(dim_scores)
    scores[CDI_CODE] = cdi
    scores["rank"] = cdi.rank(ascending=False, method=RANK_TIES)  # as the Monte Carlo ranks ties
    scores["coverage"] = coverage
    if intervals is not None:
        scores = scores.join(intervals)
        # the stored rank against its stored interval (the check the engine made, on the final table)
        ranked = scores["rank"].notna() & scores["CDI_RANK_P05"].notna()
        outside = engine_info["uncertainty"]["nominal_rank_outside_interval"]
        outside["better_than_p05"] = int((scores["rank"] < scores["CDI_RANK_P05"])[ranked].sum())
        outside["worse_than_p95"] = int((scores["rank"] > scores["CDI_RANK_P95"])[ranked].sum())
        outside["places_ranked"] = int(ranked.sum())
    run = _store(session, table, scores, weights, choices, catalogue, engine_info)
    return AssessmentResult(
        run_id=run.id,
        scores=scores,
        table=table,
        weights=weights,
        choices=choices,
        catalogue_version=catalogue.version,
        focus=focus,
        engine_info=engine_info,
    )


RANK_INTERVAL_CODES = ("CDI_RANK_MEDIAN", "CDI_RANK_P05", "CDI_RANK_P95")


def rank_intervals(
    pipeline: IndexPipeline, choices: AssessmentChoices, ranked: Sequence[str] | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rank and score intervals of every place under uncertain methodological choices.

    Monte Carlo over weights (nominal weights ±25%), normalisation (the nominal one, min-max, z-score,
    rank), aggregation (the nominal one, arithmetic, geometric) and the treatment of missing indicators
    (the nominal one - by default the available-data re-weighting - mean, median imputation), as in the
    Handbook's uncertainty analysis; the nominal configuration is one point of that space.
    ``choices.uncertainty_samples`` index builds, seeded by ``choices.uncertainty_seed``; ties are ranked
    ``min`` as the nominal CDI rank is.

    Parameters
    ----------
    pipeline
        The nominal build (its units are the place ids as text).
    choices
        The assessment's choices.
    ranked
        Units that get a rank (those whose CDI is kept, see ``min_coverage``); default all.

    Returns
    -------
    intervals : pandas.DataFrame
        Index ``place_id``; columns :data:`RANK_INTERVAL_CODES` (rank 1 = best), then
        ``<score>_P05``/``<score>_P95`` for the CDI and each built dimension (``DIM_<dimension>``), on the
        nominal score scale (see :mod:`.uncertainty`).
    outside : dict
        How many places' nominal rank lies outside their interval (``better_than_p05``,
        ``worse_than_p95``) and ``nominal_row_mismatch`` (see :class:`.uncertainty.UncertaintyResult`).
    """
    from citydiplomacy.assess.uncertainty import UncertaintySpec, run_uncertainty

    result = run_uncertainty(
        pipeline,
        UncertaintySpec(),
        samples=choices.uncertainty_samples,
        seed=choices.uncertainty_seed,
        workers=1,
        ranked=ranked,
    )
    ranks = result.ranks.set_index(UNIT)
    index = pd.Index([int(u) for u in ranks.index], name="place_id")
    out = ranks[["median_rank", "q05_rank", "q95_rank"]].set_axis(list(RANK_INTERVAL_CODES), axis=1)
    out.index = index
    for aggregate in pipeline.framework.aggregates:
        code = CDI_CODE if aggregate == CDI_CODE else dimension_code(aggregate)
        low, high = interval_codes(code)
        out[low] = result.scores[f"{aggregate}_q05"].to_numpy()
        out[high] = result.scores[f"{aggregate}_q95"].to_numpy()
    outside = {
        "better_than_p05": result.outside["better_than_q05"],
        "worse_than_p95": result.outside["worse_than_q95"],
        "nominal_row_mismatch": result.outside["nominal_row_mismatch"],
    }
    return out, outside


def build_index(
    table: IndicatorTable, weights: pd.Series, choices: AssessmentChoices
) -> tuple[pd.DataFrame, pd.Series, dict[str, Any]]:
    """Build the dimension scores and the CDI with the composite-index engine (:mod:`.pipeline`).

    The framework is *indicators -> seven dimensions -> CDI*: indicator weights within a dimension are
    ``weights`` (passed as framework weights, so the engine's ``weights="framework"``), dimensions are
    weighted equally.  Indicators the engine cannot normalise are left out and reported: those missing
    for every place (a manual indicator nobody entered) and those with one value for every place
    (e.g. no friendly-city records anywhere: nothing to tell places apart).  A dimension left without
    indicators gets no score and the CDI is built over the others; places without any usable value get
    no scores.  Missing values are handled by the engine (``choices.missing``: ``available`` re-weights
    over the values present; ``mean``/``median``/``group-mean:country_code`` impute).

    Returns
    -------
    tuple
        Dimension scores (index ``place_id``, one column per catalogue dimension; NaN where not built),
        the CDI (Series over the table's places) and JSON-ready information about the engine run.

    Raises
    ------
    ValueError
        An unknown method name, or an input the engine rejects (:class:`IndexInputError`).
    """
    cat = table.catalogue
    values = table.values
    dims = list(cat.dimensions)
    empty_scores = pd.DataFrame(np.nan, index=values.index, columns=dims)
    impute_spec = "none" if choices.missing == "available" else choices.missing
    engine_choices = Choices(
        denominate=False,
        impute=impute_spec,
        normalise=choices.normalise,
        aggregate=choices.aggregate,
        weights="framework",
    )

    dropped: dict[str, str] = {}
    usable: list[str] = []
    for code in cat.codes:
        present = values[code].dropna()
        if present.empty:
            dropped[code] = "missing for every place"
        elif present.nunique() == 1:
            dropped[code] = f"same value ({present.iloc[0]:g}) for every place with a value"
        else:
            usable.append(code)
    units = values.index[values[usable].notna().any(axis=1)] if usable else values.index[:0]
    info: dict[str, Any] = {
        "impute": impute_spec,
        "indicators_used": usable,
        "indicators_dropped": dropped,
        "places_in_index": len(units),
    }
    if len(units) < 2 or not usable:
        info["note"] = "fewer than two places or no indicator with variation: no index built"
        return empty_scores, pd.Series(np.nan, index=values.index, name=CDI_CODE), info

    used_dims = [dim for dim in dims if any(cat.get(code).dimension == dim for code in usable)]
    info["dimensions_dropped"] = [dim for dim in dims if dim not in used_dims]
    rows = [{"code": CDI_CODE, "name": "City Diplomacy Index", "parent": "", "weight": 1.0, "direction": 1}]
    rows += [
        {"code": dim, "name": cat.dimensions[dim]["name"], "parent": CDI_CODE, "weight": 1.0, "direction": 1}
        for dim in used_dims
    ]
    for code in usable:
        ind = cat.get(code)
        rows.append(
            {
                "code": code,
                "name": ind.name,
                "parent": ind.dimension,
                "weight": float(weights[code]),
                "direction": ind.direction,
            }
        )
    framework = Framework.from_frame(pd.DataFrame(rows), source=f"indicators.yaml {cat.version}")
    data = values.loc[units, usable].copy()
    data.insert(0, "country_code", table.places.loc[units, "country_code"].fillna("").to_numpy())
    data.insert(0, UNIT, [str(pid) for pid in units])
    try:
        pipeline = IndexPipeline(
            data.reset_index(drop=True),
            framework,
            choices=engine_choices,
            meta_columns=("country_code",),
            data_source="registry indicators",
        )
        result = pipeline.run()
    except IndexInputError as exc:
        raise ValueError(f"the index engine rejected the registry's indicators: {exc}") from exc
    if choices.uncertainty_samples > 0:
        # rank only the places that keep a CDI, as the nominal rank does (assess applies min_coverage)
        coverage = table.coverage_share().reindex(units)
        ranked = [str(pid) for pid in units[(coverage >= choices.min_coverage).to_numpy()]]
        intervals, outside = rank_intervals(pipeline, choices, ranked)
        info["_rank_intervals"] = intervals
        info["uncertainty"] = {
            "samples": choices.uncertainty_samples,
            "seed": choices.uncertainty_seed,
            "nominal_rank_outside_interval": outside,
        }
    engine_scores = result.scores.copy()
    engine_scores.index = pd.Index([int(u) for u in engine_scores.index], name="place_id")
    dim_scores = engine_scores.reindex(index=values.index, columns=dims)
    cdi = engine_scores[CDI_CODE].reindex(values.index).rename(CDI_CODE)
    info["dimension_weights"] = {
        row.code: round(float(row.weight), 6) for row in result.weights.itertuples() if row.parent == CDI_CODE
    }
    return dim_scores, cdi, info
