"""Monte Carlo uncertainty and Sobol sensitivity analysis of the index ranks (Handbook step 8).

Uncertain inputs (each drawn independently, uniform):

* **weights** - one factor *group*: every within-parent weight of the nominal build (at every level) is
  multiplied by ``U(1 - s, 1 + s)`` (default ``s = 0.25``, centred on 1, so on the nominal weights) and
  renormalised within its parent;
* **normalisation** - discrete uniform over ``spec.normalisations``;
* **aggregation** - discrete uniform over ``spec.aggregations`` (applied at every level);
* **imputation** - discrete uniform over ``spec.imputations``; ``none`` is the available-data rule
  (aggregates re-weighted over the children a unit has, COINr's default).

**The nominal build is one point of the sampled space**: its imputation, normalisation and aggregation are
added to the options when absent (first), and the centre of the weight factors gives its weights exactly
(:meth:`_Engine.nominal_row`).  Otherwise a nominal rank can lie outside its own interval for no other
reason than that the nominal configuration was never sampled.

A factor with a single option (or ``s = 0``) is fixed and not analysed.  The design is Saltelli's
(:mod:`.sobol`): ``N`` base rows, ``N (k + 2)`` index builds for ``k`` factors; ``samples`` is the total
budget of builds, so ``N = samples // (k + 2)``.

The fast engine evaluates every aggregate in a *transformed* space where each aggregation is a weighted
arithmetic mean: ``x`` (arithmetic), ``log x`` (geometric), ``-1/x`` (harmonic), all increasing in the
score.  The few discrete variants (imputation x normalisation x aggregation) are precomputed once and each
batch of design rows is, per aggregate, a matrix product of the perturbed weights with the children's
values and with their presence mask (the available-data rule), so missing values are handled exactly as
by :mod:`.methods.aggregate`.  Units whose indicator rows are identical (common in sparse registries)
are evaluated once and counted with their multiplicity.

**Ties** are ranked as everywhere else (:data:`~citydiplomacy.assess.pipeline.RANK_TIES`, ``"min"``):
tied units share the best rank of their group, in every draw as in the nominal ranking.

**Score intervals**: the normalisations put scores on incomparable scales (0-100, z-scores, 1..n), so the
per-unit 5-95 % score interval of each aggregate is expressed on the *nominal* scale: in each draw a unit
takes the nominal score found at its rank position (quantile mapping, linear interpolation when the number
of units with a score differs; a tie group is placed at its mean rank, so a block of imputed values sits
mid-block rather than on top).  The nominal draw maps onto itself.  Units without the nominal score (a
dimension without data under the available-data rule) get no interval.

Outputs analysed: the rank of every unit (per-unit indices, also summarised as the variance-weighted
average over units) and the mean absolute rank shift from the nominal ranking,
``R_S = (1/M) sum_c |rank_c - nominal rank_c|`` (Saisana, Saltelli & Tarantola 2005).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citydiplomacy import settings
from citydiplomacy.assess.methods.denominate import denominate
from citydiplomacy.assess.methods.impute import impute
from citydiplomacy.assess.methods.normalise import normalise
from citydiplomacy.assess.methods.treat import treat
from citydiplomacy.assess.pipeline import RANK_TIES, IndexPipeline, IndexResult
from citydiplomacy.assess.sobol import SobolAccumulator, ab_matrix

#: Percentiles of the intervals (the registry stores them as ``*_P05`` / ``*_P95``).
LOW, HIGH = 5.0, 95.0


@dataclass(frozen=True)
class UncertaintySpec:
    """Which choices vary and how.

    Attributes
    ----------
    weight_spread
        Half-width ``s`` of the multiplicative uniform weight perturbation ``U(1 - s, 1 + s)``.
    normalisations, aggregations, imputations
        Discrete alternatives (uniform).  The nominal choice is added when absent (see the module
        docstring); ``none`` imputation is the available-data rule.
    """

    weight_spread: float = settings.INDEX_WEIGHT_SPREAD
    normalisations: tuple[str, ...] = settings.INDEX_UNCERTAINTY_NORMALISATIONS
    aggregations: tuple[str, ...] = settings.INDEX_UNCERTAINTY_AGGREGATIONS
    imputations: tuple[str, ...] = settings.INDEX_UNCERTAINTY_IMPUTATIONS

    def with_nominal(self, impute: str, normalise: str, aggregate: str) -> UncertaintySpec:
        """The spec with the nominal choices among the options (prepended when absent)."""

        def add(first: str, options: tuple[str, ...]) -> tuple[str, ...]:
            return options if first in options else (first, *options)

        return dataclasses.replace(
            self,
            imputations=add(impute, self.imputations),
            normalisations=add(normalise, self.normalisations),
            aggregations=add(aggregate, self.aggregations),
        )


@dataclass
class UncertaintyResult:
    """Rank statistics, score intervals and sensitivity indices.

    Attributes
    ----------
    ranks
        Per unit: ``unit, nominal_rank, median_rank, q05_rank, q95_rank`` (rank 1 = best, ties ``min``;
        quantiles over the ``2N`` independent draws, linear interpolation; NaN for units not ranked).
    scores
        Per unit (index ``unit``): ``<aggregate>_q05`` and ``<aggregate>_q95`` for every aggregate, on the
        nominal scale (see the module docstring); NaN where the nominal build has no such score.
    sobol
        ``factor, output, S1, ST`` for the outputs ``mean_abs_rank_shift`` and ``unit_rank``
        (per-unit indices averaged with weights = each unit's rank variance).
    sobol_units
        Per unit and factor: ``unit, factor, S1, ST``.
    factors
        Names of the analysed factors, in design order.
    n_base, n_runs
        Base sample size ``N`` and number of index builds ``N (k + 2)``.
    spec
        The spec actually sampled (nominal choices included).
    outside
        Counts of units whose nominal rank lies outside their interval: ``better_than_q05``,
        ``worse_than_q95``, and ``nominal_row_mismatch`` (units whose rank at the nominal design row differs
        from the nominal build's; expected 0, non-zero only through floating-point near-ties).
    """

    ranks: pd.DataFrame
    scores: pd.DataFrame
    sobol: pd.DataFrame
    sobol_units: pd.DataFrame
    factors: list[str]
    n_base: int
    n_runs: int
    spec: UncertaintySpec | None = None
    outside: dict[str, int] = field(default_factory=dict)
    nominal: IndexResult | None = field(default=None, repr=False)


@dataclass
class _Design:
    """Decoding of a row of the unit hypercube into choices."""

    factors: list[str]
    groups: list[list[int]]
    n_columns: int
    weight_columns: list[int]
    imputations: tuple[str, ...]
    normalisations: tuple[str, ...]
    aggregations: tuple[str, ...]
    column_of: dict[str, int]


def min_ranks(scores: np.ndarray, counts: np.ndarray, ties: str = RANK_TIES) -> np.ndarray:
    """Ranks (1 = best) of each row of ``scores``, ties sharing the lowest rank, with unit multiplicities.

    Parameters
    ----------
    scores
        ``(m, u)`` scores, larger = better; NaN = not ranked.
    counts
        ``(u,)`` how many units each column stands for (0 = not ranked).
    ties
        ``min`` (the ranking everywhere) or ``average`` (the mean rank of the tie group, used only to place
        a unit on the nominal score scale).

    Returns
    -------
    numpy.ndarray
        ``(m, u)`` float64: ``1 +`` the number of units with a strictly larger score (``min``); NaN where
        not ranked.
    """
    scores = np.atleast_2d(scores)
    finite = np.isfinite(scores) & (counts > 0)
    s = np.where(finite, scores, -np.inf)
    c = np.where(finite, counts, 0).astype(np.float64)
    order = np.argsort(-s, axis=1, kind="stable")
    s_sorted = np.take_along_axis(s, order, axis=1)
    c_sorted = np.take_along_axis(c, order, axis=1)
    before = np.cumsum(c_sorted, axis=1) - c_sorted  # units strictly ahead of each sorted position
    positions = np.broadcast_to(np.arange(s.shape[1]), s.shape)
    new_group = np.ones(s.shape, dtype=bool)
    new_group[:, 1:] = s_sorted[:, 1:] != s_sorted[:, :-1]
    start = np.maximum.accumulate(np.where(new_group, positions, 0), axis=1)
    ranked_sorted = np.take_along_axis(before, start, axis=1) + 1.0
    if ties == "average":
        last = np.ones(s.shape, dtype=bool)
        last[:, :-1] = new_group[:, 1:]
        end = np.minimum.accumulate(np.where(last, positions, s.shape[1] - 1)[:, ::-1], axis=1)[:, ::-1]
        through = np.take_along_axis(np.cumsum(c_sorted, axis=1), end, axis=1)
        ranked_sorted = (ranked_sorted + through) / 2.0
    elif ties != "min":
        raise ValueError(f"unknown ties {ties!r}; choose min|average")
    out = np.empty(s.shape)
    np.put_along_axis(out, order, ranked_sorted, axis=1)
    out[~finite] = np.nan
    return out


class _Engine:
    """Precomputed variants of one pipeline and the vectorised evaluation of design rows.

    Parameters
    ----------
    pipeline
        The nominal build.
    spec
        What varies (the nominal choices are added, see :meth:`UncertaintySpec.with_nominal`).
    precompute
        Build the variant matrices (not needed for decoding design rows only).
    ranked
        Units that take part in the ranking (default: all); the others stay in the index (normalisation
        reference) but get no rank and are not counted in anyone's rank.
    """

    def __init__(
        self,
        pipeline: IndexPipeline,
        spec: UncertaintySpec,
        precompute: bool = True,
        ranked: Sequence[str] | None = None,
    ) -> None:
        self.pipeline = pipeline
        ch = pipeline.choices
        self.spec = spec.with_nominal(ch.impute, ch.normalise, ch.aggregate)
        self.nominal = pipeline.run()
        fw = pipeline.framework
        self.root = fw.root
        self.nodes = [code for code in fw.nodes if code != fw.root]
        self.indicators = fw.indicators
        self.aggregates = fw.aggregates
        base = self.nominal.weights.set_index("code")["weight"]
        self.base_weights = base.reindex(self.nodes).to_numpy(dtype=np.float64)
        self.node_index = {code: i for i, code in enumerate(self.nodes)}
        parents = sorted({fw.nodes[c].parent for c in self.nodes})  # type: ignore[type-var]
        self.parent_of = np.array([parents.index(fw.nodes[c].parent) for c in self.nodes])
        self.n_parents = len(parents)
        # ancestors[d][leaf] = node index of the leaf's d-th ancestor-or-self, or -1 past the root
        paths = []
        for leaf in self.indicators:
            path, code = [], leaf
            while fw.nodes[code].parent is not None:
                path.append(self.node_index[code])
                code = fw.nodes[code].parent  # type: ignore[assignment]
            paths.append(path)
        depth = max(len(p) for p in paths)
        self.ancestors = np.full((depth, len(paths)), -1)
        for j, path in enumerate(paths):
            self.ancestors[: len(path), j] = path
        self.design = self._design()
        units = pipeline.raw.index
        mask = np.ones(len(units), dtype=bool) if ranked is None else units.isin(list(ranked))
        self.ranked = mask
        self._deduplicate(mask)
        # the decoding helpers (naive baseline, design rows) do not need the precomputed variants
        self.matrices = self._variants() if precompute else {}
        root = self.nominal.scores[fw.root].to_numpy(dtype=np.float64)
        self.nominal_ranks = min_ranks(np.where(mask, root, np.nan), np.ones(len(units)))[0]

    def _deduplicate(self, ranked: np.ndarray) -> None:
        """Group units with identical indicator rows (and group label, ranking status): same result always."""
        raw = self.pipeline.raw.to_numpy(dtype=np.float64)
        key = np.where(np.isnan(raw), np.inf, raw)  # inf is never a valid input value
        extra = [ranked.astype(np.float64)]
        for imp in self.spec.imputations:
            column = imp.partition(":")[2]
            if column:
                labels = self.pipeline.variant(impute=imp).meta[column].astype(str)
                extra.append(pd.factorize(labels)[0].astype(np.float64))
        key = np.column_stack([key, *extra])
        _, first, inverse, counts = np.unique(key, axis=0, return_index=True, return_inverse=True, return_counts=True)
        self.representatives = first
        self.inverse = inverse.reshape(-1)
        self.counts = np.where(ranked[first], counts, 0)

    def _design(self) -> _Design:
        spec = self.spec
        factors: list[str] = []
        groups: list[list[int]] = []
        column = 0
        weight_columns: list[int] = []
        if spec.weight_spread > 0:
            weight_columns = list(range(len(self.nodes)))
            factors.append("weights")
            groups.append(weight_columns)
            column = len(self.nodes)
        column_of: dict[str, int] = {}
        for name, options in (
            ("imputation", spec.imputations),
            ("normalisation", spec.normalisations),
            ("aggregation", spec.aggregations),
        ):
            if len(options) > 1:
                factors.append(name)
                groups.append([column])
                column_of[name] = column
                column += 1
        if not factors:
            raise ValueError("nothing is uncertain: give a weight spread or several options for a choice")
        return _Design(
            factors, groups, column, weight_columns, spec.imputations, spec.normalisations, spec.aggregations, column_of
        )

    def nominal_row(self) -> np.ndarray:
        """The design row of the nominal build: weight factors at their centre, nominal options picked."""
        row = np.full((1, self.design.n_columns), 0.5)
        ch = self.pipeline.choices
        for name, options, chosen in (
            ("imputation", self.design.imputations, ch.impute),
            ("normalisation", self.design.normalisations, ch.normalise),
            ("aggregation", self.design.aggregations, ch.aggregate),
        ):
            if name in self.design.column_of:
                row[0, self.design.column_of[name]] = (options.index(chosen) + 0.5) / len(options)
        return row

    def _variants(self) -> dict[tuple[str, str, str], dict[str, tuple[np.ndarray, np.ndarray, list[int]]]]:
        """Per imputation x normalisation x aggregation and per aggregate with indicator children: the
        transformed children values (gaps as 0), their presence mask (both ``k x units``, representatives
        only) and the children's node indices."""
        pipe, fw, ch = self.pipeline, self.pipeline.framework, self.pipeline.choices
        raw = pipe.raw
        if ch.denominate:
            raw = denominate(
                raw,
                pipe.denominators,
                {c: fw.nodes[c].denominator for c in self.indicators},
                source=pipe.denominators_source,
                rows=pipe.denominator_rows,
            )
        directions = {c: fw.nodes[c].direction for c in self.indicators}
        goalposts = {
            c: (fw.nodes[c].goal_low, fw.nodes[c].goal_high)
            for c in self.indicators
            if fw.nodes[c].goal_low is not None
        }
        indicator_set = set(self.indicators)
        out: dict[tuple[str, str, str], dict[str, tuple[np.ndarray, np.ndarray, list[int]]]] = {}
        for imp in self.spec.imputations:
            groups = None
            group_column = imp.partition(":")[2]
            if group_column:
                groups = pipe.variant(impute=imp).meta[group_column]
            filled, _ = impute(raw, imp, groups, source=pipe.data_source)
            treated, _ = treat(filled, ch.treat, cap=ch.winsor_cap)
            for norm in self.spec.normalisations:
                for agg in self.spec.aggregations:
                    x = normalise(treated, norm, directions, goalposts, agg != "arithmetic", source=pipe.data_source)
                    x = x.to_numpy(dtype=np.float64)[self.representatives]
                    with np.errstate(divide="ignore", invalid="ignore"):
                        if agg == "geometric":
                            x = np.log(x)
                        elif agg == "harmonic":
                            x = -1.0 / x  # larger is better, like the harmonic mean itself
                    column = {c: j for j, c in enumerate(self.indicators)}
                    per_parent = {}
                    for parent in self.aggregates:
                        kids = [k for k in fw.children(parent) if k in indicator_set]
                        if kids:
                            block = x[:, [column[k] for k in kids]].T
                            present = np.isfinite(block)
                            per_parent[parent] = (
                                np.ascontiguousarray(np.where(present, block, 0.0)),
                                np.ascontiguousarray(present, dtype=np.float64),
                                [self.node_index[k] for k in kids],
                            )
                    out[(imp, norm, agg)] = per_parent
        return out

    # ------------------------------------------------------------------ decoding
    def _pick(self, rows: np.ndarray, name: str, options: tuple[str, ...]) -> np.ndarray:
        if name not in self.design.column_of:
            return np.zeros(rows.shape[0], dtype=int)
        u = rows[:, self.design.column_of[name]]
        return np.minimum((u * len(options)).astype(int), len(options) - 1)

    def relative_weights(self, rows: np.ndarray) -> np.ndarray:
        """Perturbed within-parent weights, shape ``(m, n_nodes)``."""
        w = np.broadcast_to(self.base_weights, (rows.shape[0], len(self.nodes))).copy()
        if self.design.weight_columns:
            s = self.spec.weight_spread
            w *= 1.0 - s + 2.0 * s * rows[:, self.design.weight_columns]
        sums = np.zeros((rows.shape[0], self.n_parents))
        for j in range(self.n_parents):
            sums[:, j] = w[:, self.parent_of == j].sum(axis=1)
        return w / sums[:, self.parent_of]

    def effective_weights(self, relative: np.ndarray) -> np.ndarray:
        """Leaf effective weights, shape ``(m, n_indicators)``: products down the tree."""
        extended = np.concatenate([relative, np.ones((relative.shape[0], 1))], axis=1)  # -1 -> column of ones
        out = np.ones((relative.shape[0], len(self.indicators)))
        for level in self.ancestors:
            out *= extended[:, level]
        return out

    def choices_of(self, rows: np.ndarray) -> list[tuple[str, str, str]]:
        """``(imputation, normalisation, aggregation)`` of each design row."""
        imp = self._pick(rows, "imputation", self.design.imputations)
        norm = self._pick(rows, "normalisation", self.design.normalisations)
        agg = self._pick(rows, "aggregation", self.design.aggregations)
        return [
            (self.design.imputations[i], self.design.normalisations[n], self.design.aggregations[a])
            for i, n, a in zip(imp, norm, agg, strict=True)
        ]

    # ------------------------------------------------------------------ evaluation
    def aggregate_scores(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Transformed scores of every aggregate, ``(m, n_representatives)`` each (larger = better, NaN =
        no child value), with the available-data rule at every level."""
        relative = self.relative_weights(rows)
        combos = self.choices_of(rows)
        n = self.representatives.size
        out = {code: np.empty((rows.shape[0], n)) for code in self.aggregates}
        fw = self.pipeline.framework
        for combo in dict.fromkeys(combos):
            idx = np.flatnonzero([c == combo for c in combos])
            per_parent = self.matrices[combo]
            values: dict[str, np.ndarray] = {}
            for parent in self.aggregates:
                num = np.zeros((idx.size, n))
                den = np.zeros((idx.size, n))
                if parent in per_parent:
                    filled, present, kids = per_parent[parent]
                    w = relative[np.ix_(idx, kids)]
                    num += w @ filled
                    den += w @ present
                for kid in fw.children(parent):
                    if kid in values:
                        v = values[kid]
                        w_kid = relative[idx, self.node_index[kid]][:, None]
                        has = np.isfinite(v)
                        num += w_kid * np.where(has, v, 0.0)
                        den += w_kid * has
                with np.errstate(divide="ignore", invalid="ignore"):
                    values[parent] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
                out[parent][idx] = values[parent]
        return out

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Monotone transforms of the root score per unit, shape ``(m, n_units)`` (larger = better)."""
        return self.aggregate_scores(rows)[self.root][:, self.inverse]

    def _ranks_unique(self, scores: np.ndarray, workers: int) -> np.ndarray:
        ranks = np.empty(scores.shape)
        blocks = [slice(i, i + 64) for i in range(0, scores.shape[0], 64)]

        def rank_rows(block: slice) -> None:
            ranks[block] = min_ranks(scores[block], self.counts)

        if workers > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(workers) as pool:  # numpy sorts release the GIL
                list(pool.map(rank_rows, blocks))
        else:
            for block in blocks:
                rank_rows(block)
        return ranks

    def ranks(self, rows: np.ndarray, workers: int = 2) -> np.ndarray:
        """Ranks (1 = best, ties ``min``) of the root for each design row, shape ``(m, n_units)`` float64,
        NaN for units not ranked."""
        unique = self._ranks_unique(self.aggregate_scores(rows)[self.root], workers)
        out = unique[:, self.inverse]
        out[:, ~self.ranked] = np.nan
        return out


def _to_nominal_scale(ranks: np.ndarray, counts: np.ndarray, nominal_sorted: np.ndarray) -> np.ndarray:
    """Map ranks of one draw onto the nominal scores found at the same rank position (see module docs)."""
    if nominal_sorted.size == 0:
        return np.full(ranks.shape, np.nan)
    n_draw = np.nansum(np.where(np.isfinite(ranks), counts, 0), axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        position = np.where(n_draw > 1, (ranks - 1.0) / (n_draw - 1.0), 0.0)  # 0 = best, 1 = worst
    grid = np.linspace(1.0, 0.0, nominal_sorted.size)  # descending quantile of each nominal position
    # np.interp needs increasing x: nominal_sorted is ascending, its quantiles 0..1
    return np.interp(1.0 - position, grid[::-1], nominal_sorted) + np.where(np.isfinite(ranks), 0.0, np.nan)


def run_uncertainty(
    pipeline: IndexPipeline,
    spec: UncertaintySpec | None = None,
    samples: int = 1000,
    seed: int = 0,
    batch_size: int = 64,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
    ranked: Sequence[str] | None = None,
) -> UncertaintyResult:
    """Monte Carlo over methodological choices with Sobol indices (see the module docstring).

    Parameters
    ----------
    pipeline
        The nominal index (its choices give denomination, treatment, the base weights and one point of the
        sampled space).
    spec
        What varies.
    samples
        Total budget of index builds; ``N = max(2, samples // (k + 2))`` base rows are used.
    seed
        Seed of the design (:func:`numpy.random.default_rng`).
    batch_size
        Base rows per batch (a batch builds ``batch_size (k + 2)`` indices at once).
    workers
        Threads for the per-row sorts.
    progress
        Called as ``progress(builds_done, builds_total)`` after each batch.
    ranked
        Units that are ranked (default: all); see :class:`_Engine`.

    Returns
    -------
    UncertaintyResult
    """
    spec = spec or UncertaintySpec()
    engine = _Engine(pipeline, spec, ranked=ranked)
    design = engine.design
    k = len(design.factors)
    n_base = max(2, samples // (k + 2))
    n_unique = engine.representatives.size
    counts = engine.counts
    nominal_unique = engine.nominal_ranks[engine.representatives]
    unranked = float(counts.sum() + 1)  # a unit without a score in a draw counts as behind everyone
    rng = np.random.default_rng(seed)
    rank_store = np.empty((2 * n_base, n_unique), dtype=np.float32)
    nominal_scores = {}  # per aggregate: the nominal scores of the ranked units, ascending
    for code in engine.aggregates:
        values = engine.nominal.scores[code].to_numpy(dtype=np.float64)
        nominal_scores[code] = np.sort(values[engine.ranked & np.isfinite(values)])
    # float64 keeps the nominal draw mapping exactly onto itself; float32 bounds memory on large runs
    wide = 2 * n_base * n_unique * len(engine.aggregates) > 25_000_000
    score_dtype = np.float32 if wide else np.float64
    score_store = {code: np.empty((2 * n_base, n_unique), dtype=score_dtype) for code in engine.aggregates}
    per_unit = SobolAccumulator(k, (n_unique,), offset=np.nan_to_num(nominal_unique, nan=unranked))
    shift = SobolAccumulator(k)
    done = 0
    while done < n_base:
        size = min(batch_size, n_base - done)
        a = rng.random((size, design.n_columns))
        b = rng.random((size, design.n_columns))
        rows = np.concatenate([a, b] + [ab_matrix(a, b, g) for g in design.groups])
        transformed = engine.aggregate_scores(rows)
        ranks = engine._ranks_unique(transformed[engine.root], workers)
        rank_store[done : done + size] = ranks[:size]
        rank_store[n_base + done : n_base + done + size] = ranks[size : 2 * size]
        for code in engine.aggregates:
            # mean rank of a tie group: a block of tied (e.g. imputed) units sits mid-block, not on top
            mid = min_ranks(transformed[code][: 2 * size], counts, ties="average")
            mapped = _to_nominal_scale(mid, counts, nominal_scores[code])
            score_store[code][done : done + size] = mapped[:size]
            score_store[code][n_base + done : n_base + done + size] = mapped[size:]
        filled = np.nan_to_num(ranks, nan=unranked)
        r_a, r_b, r_ab = filled[:size], filled[size : 2 * size], filled[2 * size :].reshape(k, size, n_unique)
        per_unit.update(r_a, r_b, r_ab)
        with np.errstate(invalid="ignore"):
            deviation = np.abs(ranks - nominal_unique) * counts
        mean_shift = np.nansum(deviation, axis=1) / max(counts.sum(), 1)
        shift.update(mean_shift[:size], mean_shift[size : 2 * size], mean_shift[2 * size :].reshape(k, size))
        done += size
        if progress is not None:
            progress(done * (k + 2), n_base * (k + 2))
    inverse = engine.inverse
    q05, q50, q95 = (q[inverse] for q in _quantiles(rank_store, (LOW, 50.0, HIGH)))
    nominal = engine.nominal_ranks
    for q in (q05, q50, q95):
        q[~engine.ranked] = np.nan
    units = pipeline.raw.index
    ranks_table = pd.DataFrame(
        {"unit": units, "nominal_rank": nominal, "median_rank": q50, "q05_rank": q05, "q95_rank": q95}
    )
    score_columns: dict[str, np.ndarray] = {}
    for code in engine.aggregates:
        low, high = (q[inverse] for q in _quantiles(score_store[code], (LOW, HIGH)))
        # no interval for a unit not ranked, nor for a score the nominal build does not have
        absent = ~engine.ranked | engine.nominal.scores[code].isna().to_numpy()
        low[absent], high[absent] = np.nan, np.nan
        score_columns[f"{code}_q05"], score_columns[f"{code}_q95"] = low, high
    scores_table = pd.DataFrame(score_columns, index=units)
    at_nominal = engine.ranks(engine.nominal_row(), workers=1)[0]
    both = np.isfinite(nominal)
    outside = {
        "better_than_q05": int((nominal[both] < q05[both]).sum()),
        "worse_than_q95": int((nominal[both] > q95[both]).sum()),
        "nominal_row_mismatch": int((at_nominal[both] != nominal[both]).sum()),
    }
    s1_shift, st_shift = shift.indices()
    first, total = (v[:, inverse] for v in per_unit.partial_variances())
    variance = per_unit.variance[inverse]
    denominator = variance.sum()
    rows_out = []
    for i, factor in enumerate(design.factors):
        rows_out.append(
            {"factor": factor, "output": "mean_abs_rank_shift", "S1": float(s1_shift[i]), "ST": float(st_shift[i])}
        )
        rows_out.append(
            {
                "factor": factor,
                "output": "unit_rank",
                "S1": float(first[i].sum() / denominator) if denominator > 0 else float("nan"),
                "ST": float(total[i].sum() / denominator) if denominator > 0 else float("nan"),
            }
        )
    s1_units, st_units = (v[:, inverse] for v in per_unit.indices())
    n_units = units.size
    sobol_units = pd.DataFrame(
        {
            "unit": np.tile(units.to_numpy(), k),
            "factor": np.repeat(design.factors, n_units),
            "S1": s1_units.reshape(-1),
            "ST": st_units.reshape(-1),
        }
    )
    return UncertaintyResult(
        ranks=ranks_table,
        scores=scores_table,
        sobol=pd.DataFrame(rows_out),
        sobol_units=sobol_units,
        factors=design.factors,
        n_base=n_base,
        n_runs=n_base * (k + 2),
        spec=engine.spec,
        outside=outside,
        nominal=engine.nominal,
    )


def _quantiles(store: np.ndarray, percents: tuple[float, ...], chunk: int = 2048) -> list[np.ndarray]:
    """Per-column percentiles of the rank store, a block of units at a time (bounded extra memory)."""
    out = [np.empty(store.shape[1]) for _ in percents]
    for start in range(0, store.shape[1], chunk):
        block = store[:, start : start + chunk].astype(np.float64)
        with warnings.catch_warnings():  # a unit without any score in every draw has a NaN interval
            warnings.simplefilter("ignore", RuntimeWarning)
            values = (
                np.nanpercentile(block, percents, axis=0)
                if np.isnan(block).any()
                else np.percentile(block, percents, axis=0)
            )
        for i in range(len(percents)):
            out[i][start : start + chunk] = values[i]
    return out


def naive_ranks(pipeline: IndexPipeline, spec: UncertaintySpec, rows: np.ndarray) -> np.ndarray:
    """The straightforward way: rebuild the whole pandas pipeline for every design row.

    Used as the benchmark baseline and to check the fast engine.  Returns ranks of the root
    (ties ``min``, as everywhere, 1 = best), shape ``(m, n_units)``.
    """
    engine = _Engine(pipeline, spec, precompute=False)
    relative = engine.relative_weights(rows)
    out = np.empty((rows.shape[0], pipeline.raw.shape[0]), dtype=np.int64)
    for r, (imp, norm, agg) in enumerate(engine.choices_of(rows)):
        overrides = tuple(zip(engine.nodes, relative[r].tolist(), strict=True))
        result = pipeline.variant(
            impute=imp, normalise=norm, aggregate=agg, weights="framework", weight_overrides=overrides
        ).run()
        root = result.scores[pipeline.framework.root]
        out[r] = root.rank(ascending=False, method=RANK_TIES).to_numpy(dtype=np.int64)
    return out


def design_rows(pipeline: IndexPipeline, spec: UncertaintySpec, n: int, seed: int = 0) -> np.ndarray:
    """``n`` random rows of the design hypercube of ``pipeline`` under ``spec`` (for baselines/tests)."""
    engine = _Engine(pipeline, spec, precompute=False)
    return np.random.default_rng(seed).random((n, engine.design.n_columns))
