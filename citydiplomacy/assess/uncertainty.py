"""Monte Carlo uncertainty and Sobol sensitivity analysis of the index ranks (Handbook step 8).

Uncertain inputs (each drawn independently, uniform):

* **weights** - one factor *group*: every framework weight (at every level) is multiplied by
  ``U(1 - s, 1 + s)`` (default ``s = 0.25``) and renormalised within its parent;
* **normalisation** - discrete uniform over ``spec.normalisations``;
* **aggregation** - discrete uniform over ``spec.aggregations`` (applied at every level);
* **imputation** - discrete uniform over ``spec.imputations``.

A factor with a single option (or ``s = 0``) is fixed and not analysed.  The design is Saltelli's
(:mod:`.sobol`): ``N`` base rows, ``N (k + 2)`` index builds for ``k`` factors; ``samples`` is the total
budget of builds, so ``N = samples // (k + 2)``.

The fast engine exploits that, with complete data, every aggregation collapses into one weighted sum
over indicators with *effective* weights ``e`` (products of the within-parent weights down the tree):
the arithmetic index is ``X e``, the geometric index is ``exp(log(X) e)`` and the harmonic index is
``1 / ((1/X) e)`` (nested weighted means of the same kind are a single mean with product weights).  So
the few discrete variants (imputation x normalisation x aggregation) are precomputed once as float32
matrices ``T(X)`` and each batch of samples is one matrix product ``E @ T(X).T`` followed by a
per-row argsort (ties get distinct ordinal ranks).  Only rank statistics are kept: the ranks of the
``2N`` independent draws (rows of ``A`` and ``B``) in a ``uint16``/``uint32`` store for the quantiles,
and streaming Sobol sums for the rest.

Outputs analysed: the rank of every unit (per-unit indices, also summarised as the variance-weighted
average over units) and the mean absolute rank shift from the nominal ranking,
``R_S = (1/M) sum_c |rank_c - nominal rank_c|`` (Saisana, Saltelli & Tarantola 2005).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citydiplomacy.assess.methods.denominate import denominate
from citydiplomacy.assess.methods.impute import impute
from citydiplomacy.assess.methods.normalise import normalise
from citydiplomacy.assess.methods.treat import treat
from citydiplomacy.assess.pipeline import IndexPipeline, IndexResult
from citydiplomacy.assess.sobol import SobolAccumulator, ab_matrix


@dataclass(frozen=True)
class UncertaintySpec:
    """Which choices vary and how.

    Attributes
    ----------
    weight_spread
        Half-width ``s`` of the multiplicative uniform weight perturbation ``U(1 - s, 1 + s)``.
    normalisations, aggregations, imputations
        Discrete alternatives (uniform).  Imputations must fill every gap (``none`` is only allowed when
        the data have no gaps).
    """

    weight_spread: float = 0.25
    normalisations: tuple[str, ...] = ("minmax", "zscore", "rank")
    aggregations: tuple[str, ...] = ("arithmetic", "geometric")
    imputations: tuple[str, ...] = ("mean", "median")


@dataclass
class UncertaintyResult:
    """Rank statistics and sensitivity indices.

    Attributes
    ----------
    ranks
        Per unit: ``unit, nominal_rank, median_rank, q05_rank, q95_rank`` (rank 1 = best; quantiles over
        the ``2N`` independent draws, linear interpolation).
    sobol
        ``factor, output, S1, ST`` for the outputs ``mean_abs_rank_shift`` and ``unit_rank``
        (per-unit indices averaged with weights = each unit's rank variance).
    sobol_units
        Per unit and factor: ``unit, factor, S1, ST``.
    factors
        Names of the analysed factors, in design order.
    n_base, n_runs
        Base sample size ``N`` and number of index builds ``N (k + 2)``.
    """

    ranks: pd.DataFrame
    sobol: pd.DataFrame
    sobol_units: pd.DataFrame
    factors: list[str]
    n_base: int
    n_runs: int
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


class _Engine:
    """Precomputed variants of one pipeline and the vectorised evaluation of design rows."""

    def __init__(self, pipeline: IndexPipeline, spec: UncertaintySpec, precompute: bool = True) -> None:
        self.pipeline = pipeline
        self.spec = spec
        self.nominal = pipeline.run()
        fw = pipeline.framework
        self.nodes = [code for code in fw.nodes if code != fw.root]
        self.indicators = fw.indicators
        base = self.nominal.weights.set_index("code")["weight"]
        self.base_weights = base.reindex(self.nodes).to_numpy(dtype=np.float64)
        node_index = {code: i for i, code in enumerate(self.nodes)}
        parents = sorted({fw.nodes[c].parent for c in self.nodes})  # type: ignore[type-var]
        self.parent_of = np.array([parents.index(fw.nodes[c].parent) for c in self.nodes])
        self.n_parents = len(parents)
        # ancestors[d][leaf] = node index of the leaf's d-th ancestor-or-self, or -1 past the root
        paths = []
        for leaf in self.indicators:
            path, code = [], leaf
            while fw.nodes[code].parent is not None:
                path.append(node_index[code])
                code = fw.nodes[code].parent  # type: ignore[assignment]
            paths.append(path)
        depth = max(len(p) for p in paths)
        self.ancestors = np.full((depth, len(paths)), -1)
        for j, path in enumerate(paths):
            self.ancestors[: len(path), j] = path
        self.design = self._design()
        # the decoding helpers (naive baseline, design rows) do not need the precomputed variants
        self.matrices = self._variants() if precompute else {}
        self.nominal_ranks = self.nominal.ranks[fw.root].to_numpy(dtype=np.float64)

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

    def _variants(self) -> dict[tuple[str, str, str], np.ndarray]:
        """``T(X)`` (units x indicators, float32) for every imputation x normalisation x aggregation."""
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
        out: dict[tuple[str, str, str], np.ndarray] = {}
        for imp in self.spec.imputations:
            groups = None
            group_column = imp.partition(":")[2]
            if group_column:
                groups = pipe.variant(impute=imp).meta[group_column]
            filled, _ = impute(raw, imp, groups, source=pipe.data_source)
            if filled.isna().to_numpy().any():
                raise ValueError(f"imputation {imp!r} leaves gaps; the Monte Carlo needs complete data")
            treated, _ = treat(filled, ch.treat, cap=ch.winsor_cap)
            for norm in self.spec.normalisations:
                for agg in self.spec.aggregations:
                    x = normalise(
                        treated, norm, directions, goalposts, agg != "arithmetic", source=pipe.data_source
                    ).to_numpy(dtype=np.float64)
                    if agg == "geometric":
                        x = np.log(x)
                    elif agg == "harmonic":
                        x = -1.0 / x  # larger is better, like the harmonic mean itself
                    out[(imp, norm, agg)] = np.ascontiguousarray(x, dtype=np.float32)
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
    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Monotone transforms of the root score, shape ``(m, n_units)`` float32 (larger = better)."""
        effective = self.effective_weights(self.relative_weights(rows)).astype(np.float32)
        combos = self.choices_of(rows)
        out = np.empty((rows.shape[0], self.nominal_ranks.size), dtype=np.float32)
        keys = np.array([hash(c) for c in combos])
        for key in np.unique(keys):
            idx = np.flatnonzero(keys == key)
            out[idx] = effective[idx] @ self.matrices[combos[idx[0]]].T
        return out

    def ranks(self, rows: np.ndarray, workers: int = 2) -> np.ndarray:
        """Ordinal ranks (1 = best) of the root for each design row, shape ``(m, n_units)`` int32."""
        scores = self.scores(rows)
        ranks = np.empty(scores.shape, dtype=np.int32)
        positions = np.arange(1, scores.shape[1] + 1, dtype=np.int32)

        def rank_rows(block: slice) -> None:
            order = np.argsort(-scores[block], axis=1)
            np.put_along_axis(ranks[block], order, np.broadcast_to(positions, order.shape), axis=1)

        blocks = [slice(i, i + 32) for i in range(0, scores.shape[0], 32)]
        if workers > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(workers) as pool:  # numpy sorts release the GIL
                list(pool.map(rank_rows, blocks))
        else:
            for block in blocks:
                rank_rows(block)
        return ranks


def run_uncertainty(
    pipeline: IndexPipeline,
    spec: UncertaintySpec | None = None,
    samples: int = 1000,
    seed: int = 0,
    batch_size: int = 64,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> UncertaintyResult:
    """Monte Carlo over methodological choices with Sobol indices (see the module docstring).

    Parameters
    ----------
    pipeline
        The nominal index (its choices give denomination, treatment and the base weights).
    spec
        What varies.
    samples
        Total budget of index builds; ``N = max(2, samples // (k + 2))`` base rows are used.
    seed
        Seed of the design (:func:`numpy.random.default_rng`).
    batch_size
        Base rows per batch (a batch builds ``batch_size (k + 2)`` indices at once).
    workers
        Threads for the per-row argsort.
    progress
        Called as ``progress(builds_done, builds_total)`` after each batch.

    Returns
    -------
    UncertaintyResult
    """
    spec = spec or UncertaintySpec()
    engine = _Engine(pipeline, spec)
    design = engine.design
    k = len(design.factors)
    n_base = max(2, samples // (k + 2))
    n_units = engine.nominal_ranks.size
    nominal = engine.nominal_ranks
    rng = np.random.default_rng(seed)
    store = np.empty((2 * n_base, n_units), dtype=np.uint16 if n_units < 65535 else np.uint32)
    per_unit = SobolAccumulator(k, (n_units,), offset=nominal)
    shift = SobolAccumulator(k)
    done = 0
    while done < n_base:
        size = min(batch_size, n_base - done)
        a = rng.random((size, design.n_columns))
        b = rng.random((size, design.n_columns))
        rows = np.concatenate([a, b] + [ab_matrix(a, b, g) for g in design.groups])
        ranks = engine.ranks(rows, workers=workers)
        r_a, r_b, r_ab = ranks[:size], ranks[size : 2 * size], ranks[2 * size :].reshape(k, size, n_units)
        store[done : done + size] = r_a
        store[n_base + done : n_base + done + size] = r_b
        per_unit.update(r_a, r_b, r_ab)
        mean_shift = np.abs(ranks - nominal).mean(axis=1)
        shift.update(mean_shift[:size], mean_shift[size : 2 * size], mean_shift[2 * size :].reshape(k, size))
        done += size
        if progress is not None:
            progress(done * (k + 2), n_base * (k + 2))
    q05, q50, q95 = _quantiles(store, (5.0, 50.0, 95.0))
    units = pipeline.raw.index
    ranks_table = pd.DataFrame(
        {"unit": units, "nominal_rank": nominal, "median_rank": q50, "q05_rank": q05, "q95_rank": q95}
    )
    s1_shift, st_shift = shift.indices()
    first, total = per_unit.partial_variances()
    variance = per_unit.variance
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
    s1_units, st_units = per_unit.indices()
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
        sobol=pd.DataFrame(rows_out),
        sobol_units=sobol_units,
        factors=design.factors,
        n_base=n_base,
        n_runs=n_base * (k + 2),
        nominal=engine.nominal,
    )


def _quantiles(store: np.ndarray, percents: tuple[float, ...], chunk: int = 2048) -> list[np.ndarray]:
    """Per-column percentiles of the rank store, a block of units at a time (bounded extra memory)."""
    out = [np.empty(store.shape[1]) for _ in percents]
    for start in range(0, store.shape[1], chunk):
        values = np.percentile(store[:, start : start + chunk], percents, axis=0)
        for i in range(len(percents)):
            out[i][start : start + chunk] = values[i]
    return out


def naive_ranks(pipeline: IndexPipeline, spec: UncertaintySpec, rows: np.ndarray) -> np.ndarray:
    """The straightforward way: rebuild the whole pandas pipeline for every design row.

    Used as the benchmark baseline and to check the fast engine.  Returns ranks of the root
    (``method="first"`` ordinal ranks, 1 = best), shape ``(m, n_units)``.
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
        out[r] = root.rank(ascending=False, method="first").to_numpy(dtype=np.int64)
    return out


def design_rows(pipeline: IndexPipeline, spec: UncertaintySpec, n: int, seed: int = 0) -> np.ndarray:
    """``n`` random rows of the design hypercube of ``pipeline`` under ``spec`` (for baselines/tests)."""
    engine = _Engine(pipeline, spec, precompute=False)
    return np.random.default_rng(seed).random((n, engine.design.n_columns))
