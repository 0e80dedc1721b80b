"""The composite-index pipeline (OECD/JRC Handbook on Constructing Composite Indicators, COINr-like).

One object carries the data at every stage and every methodological choice::

    from citydiplomacy.assess.pipeline import Choices, IndexPipeline, compare

    pipe = IndexPipeline.from_csv("data.csv", "framework.csv", denominators_path="denoms.csv",
                                  choices=Choices(impute="median", treat="winsorise"))
    result = pipe.run()                  # IndexResult
    result.scores                        # units x aggregates (bottom-up order), float
    result.ranks                         # units x aggregates, 1 = best, nullable Int64
    result.results_table()               # unit, <aggregate scores...>, rank_<aggregate>...
    other = result.variant(normalise="zscore", aggregate="geometric")   # same inputs, other choices
    cmp = compare(result, other)         # rank shifts, mean |shift|, Spearman rho (root by default)

In-memory use (the registry computation): ``IndexPipeline(data, framework, denominators, choices)`` where

* ``data`` has a ``unit`` column (unique ids), optional ``name`` and grouping/meta columns (declare extra
  ones in ``meta_columns``), and one numeric column per indicator (leaf code of the framework); cells may
  be numbers, NaN or text (parsed; ``""``, ``NA``, ``..`` etc. mean missing);
* ``framework`` is a :class:`~citydiplomacy.assess.framework.Framework` or a table with the framework
  columns ``code,name,parent,weight,direction,denominator`` (see :mod:`.framework`);
* ``denominators`` (optional) has a ``unit`` column and one column per denominator name.

COINr's iData layout is recognised without ``meta_columns`` (COINr >= 1.0, ``R/new_coin.R`` and the
``ASEM_iData`` data set of https://github.com/bluefoxr/COINr; the prefixes are those ``R/convert.R`` maps
from COINr < 1.0): ``uCode`` is the unit id and ``uName`` its name; ``Time`` is carried along (one value
only: panel data must be split by the caller); ``Group_*`` columns and columns of iMeta ``Type`` ``Group``
are groups (usable by ``group-mean:COLUMN``); ``x_*`` columns and iMeta ``Type`` ``Other`` are passed
through; columns of iMeta ``Type`` ``Denominator``, ``Den_*`` columns and columns an indicator names as its
denominator are the denominators table when none is given separately.

Stages, in order: ``raw`` -> ``denominated`` -> ``imputed`` -> ``treated`` -> ``normalised`` ->
``weighted`` (normalised value x effective weight, i.e. the contribution to the root under arithmetic
aggregation) -> ``scores`` (every aggregate) -> ``ranks``.  Missing data never silently become zero:
with ``impute="none"`` aggregates use the available children with renormalised weights, and
``coverage_units`` / ``coverage_indicators`` report the share of values present.

Every input problem raises :class:`~citydiplomacy.assess.errors.IndexInputError` naming file, row and
code.  Weights: within each parent the weights are normalised to sum to one (see :mod:`.framework`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from citydiplomacy.assess.errors import IndexInputError
from citydiplomacy.assess.framework import MISSING_TOKENS, Framework, read_csv_text
from citydiplomacy.assess.methods.aggregate import AGGREGATIONS, aggregate
from citydiplomacy.assess.methods.denominate import denominate, missing_denominators
from citydiplomacy.assess.methods.impute import impute, parse_imputation
from citydiplomacy.assess.methods.normalise import NORMALISATIONS, normalise
from citydiplomacy.assess.methods.treat import WINSOR_CAP, treat
from citydiplomacy.assess.methods.weights import (
    WEIGHTINGS,
    AHPResult,
    check_ahp,
    entropy_weights,
    minmax_unit,
    pca_weights,
    rank_order_centroid,
    read_ahp_csv,
)

UNIT = "unit"
#: How tied scores are ranked, everywhere (nominal ranks, Monte Carlo ranks, the registry's CDI rank):
#: ties share the best (lowest) rank of their group, pandas' ``method="min"``.
RANK_TIES = "min"
#: COINr iData columns (``R/new_coin.R``): unit code, unit name, time; prefixes of ``R/convert.R``.
COINR_UNIT, COINR_NAME, COINR_TIME = "uCode", "uName", "Time"
COINR_GROUP_PREFIX, COINR_DENOMINATOR_PREFIX, COINR_OTHER_PREFIX = "Group_", "Den_", "x_"


@dataclass(frozen=True)
class Choices:
    """Every methodological choice of one build of the index (immutable, hashable).

    Attributes
    ----------
    denominate
        Divide indicators that name a ``denominator`` in the framework by it.
    impute
        ``none | mean | median | group-mean:COLUMN``.
    treat
        ``none | winsorise`` (winsorise up to ``winsor_cap`` steps, else log; see :mod:`.methods.treat`).
    winsor_cap
        Maximum winsorisation steps per indicator.
    normalise
        ``minmax | zscore | rank | goalposts | frontier``.
    weights
        ``framework | equal | rank-order | entropy | pca | ahp | ahp:FILE``.  ``ahp`` uses the matrices
        given to the pipeline, ``ahp:FILE`` reads one pairwise matrix CSV (see :func:`read_ahp_csv`).
    aggregate
        ``arithmetic | geometric | harmonic`` (applied at every level).
    weight_overrides
        ``((code, raw_weight), ...)`` replacing framework weights before normalisation within parents
        (used for weight perturbation in the uncertainty analysis).
    """

    denominate: bool = True
    impute: str = "none"
    treat: str = "none"
    winsor_cap: int = WINSOR_CAP
    normalise: str = "minmax"
    weights: str = "framework"
    aggregate: str = "arithmetic"
    weight_overrides: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        parse_imputation(self.impute)
        if self.treat not in ("none", "winsorise"):
            raise ValueError(f"unknown treatment {self.treat!r}; choose none|winsorise")
        if self.normalise not in NORMALISATIONS:
            raise ValueError(f"unknown normalisation {self.normalise!r}; choose {'|'.join(NORMALISATIONS)}")
        if self.weights.partition(":")[0] not in WEIGHTINGS:
            raise ValueError(f"unknown weights {self.weights!r}; choose {'|'.join(WEIGHTINGS)}|ahp:FILE")
        if self.aggregate not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {self.aggregate!r}; choose {'|'.join(AGGREGATIONS)}")
        if self.winsor_cap < 1:
            raise ValueError("winsor_cap must be at least 1")

    @property
    def group_column(self) -> str | None:
        """The grouping column of ``group-mean:COLUMN`` imputation, if any."""
        return parse_imputation(self.impute)[1]


@dataclass
class IndexResult:
    """Everything one build produced; every stage is a units x codes frame indexed by unit id.

    Attributes
    ----------
    choices, framework
        What was built and how.
    raw, denominated, imputed, treated, normalised, weighted
        Indicator stages (units x indicators, float64, NaN = missing).
    scores
        Units x aggregates (bottom-up order; root last), float64.
    ranks
        Units x aggregates, 1 = best (ties share the lowest rank), nullable ``Int64``.
    weights
        One row per non-root node: ``code, parent, weight`` (within parent, sums to one),
        ``effective_weight`` (product along the path to the root), ``method``.
    treatment_log
        One row per indicator: action (none|winsorised|log), points winsorised high/low, skewness and
        kurtosis before/after.
    imputation_log
        One row per indicator: missing, imputed, fallback counts.
    coverage_units, coverage_indicators
        Share of indicator values present per unit / per indicator (before imputation).
    ahp
        Parent code -> :class:`AHPResult` for AHP-weighted parents (consistency ratio reported).
    meta
        The unit's meta columns (``name``, groups), indexed by unit.
    """

    choices: Choices
    framework: Framework
    raw: pd.DataFrame
    denominated: pd.DataFrame
    imputed: pd.DataFrame
    treated: pd.DataFrame
    normalised: pd.DataFrame
    weighted: pd.DataFrame
    scores: pd.DataFrame
    ranks: pd.DataFrame
    weights: pd.DataFrame
    treatment_log: pd.DataFrame
    imputation_log: pd.DataFrame
    coverage_units: pd.DataFrame
    coverage_indicators: pd.DataFrame
    ahp: dict[str, AHPResult] = field(default_factory=dict)
    meta: pd.DataFrame | None = None
    pipeline: IndexPipeline | None = field(default=None, repr=False)

    @property
    def root(self) -> str:
        """Code of the index (root of the framework)."""
        return self.framework.root

    def results_table(self) -> pd.DataFrame:
        """``unit``, one score column per aggregate (root first, then file order), then ``rank_<code>``."""
        order = [self.framework.root] + [
            c for c in self.framework.nodes if c in self.scores.columns and c != self.framework.root
        ]
        table = self.scores[order].copy()
        for code in order:
            table[f"rank_{code}"] = self.ranks[code]
        table.index.name = UNIT
        return table.reset_index()

    def stages(self) -> dict[str, pd.DataFrame]:
        """Every intermediate table by file stem (for ``--stages DIR``), units as a ``unit`` column."""
        frames = {
            "01_raw": self.raw,
            "02_denominated": self.denominated,
            "03_imputed": self.imputed,
            "04_treated": self.treated,
            "05_normalised": self.normalised,
            "06_weighted": self.weighted,
            "07_scores": self.scores,
            "08_ranks": self.ranks,
        }
        out = {name: frame.rename_axis(UNIT).reset_index() for name, frame in frames.items()}
        out["weights"] = self.weights
        out["treatment_log"] = self.treatment_log
        out["imputation_log"] = self.imputation_log
        out["coverage_units"] = self.coverage_units
        out["coverage_indicators"] = self.coverage_indicators
        if self.ahp:
            out["ahp_consistency"] = pd.DataFrame(
                [{"parent": p, "lambda_max": r.lambda_max, "ci": r.ci, "cr": r.cr} for p, r in self.ahp.items()]
            )
        return out

    def variant(self, **changes: object) -> IndexResult:
        """Rebuild from the same inputs with some choices changed (e.g. ``normalise="rank"``)."""
        if self.pipeline is None:
            raise RuntimeError("this result does not remember its pipeline")
        return self.pipeline.variant(**changes).run()


@dataclass(frozen=True)
class Comparison:
    """Rank differences of one node between two results.

    Attributes
    ----------
    table
        ``unit, rank_a, rank_b, shift`` (``shift = rank_b - rank_a``; positive = fell behind).
    mean_abs_shift
        Mean of ``|shift|`` over units ranked in both.
    spearman
        Spearman rank correlation of the two score vectors.
    """

    node: str
    table: pd.DataFrame
    mean_abs_shift: float
    spearman: float


def compare(result_a: IndexResult, result_b: IndexResult, node: str | None = None) -> Comparison:
    """Compare the ranks of ``node`` (default: the root) between two builds."""
    node = node or result_a.root
    ranks = pd.DataFrame({"rank_a": result_a.ranks[node], "rank_b": result_b.ranks[node]})
    ranks["shift"] = ranks["rank_b"] - ranks["rank_a"]
    both = ranks.dropna()
    shift = both["shift"].astype(float).abs()
    rho = stats.spearmanr(result_a.scores[node].loc[both.index], result_b.scores[node].loc[both.index]).statistic
    return Comparison(
        node=node,
        table=ranks.rename_axis(UNIT).reset_index(),
        mean_abs_shift=float(shift.mean()) if len(shift) else float("nan"),
        spearman=float(rho),
    )


class IndexPipeline:
    """Validated inputs plus choices; :meth:`run` builds an :class:`IndexResult`.

    Parameters
    ----------
    data
        Units table: ``unit``, optional ``name``/meta columns, one column per indicator code.
    framework
        :class:`Framework` or a framework table.
    denominators
        Optional table with ``unit`` and denominator columns.
    choices
        Methodological choices (default: Handbook-neutral arithmetic min-max with framework weights).
    meta_columns
        Extra non-indicator columns of ``data`` to carry along (``name`` and the group-mean column are
        always allowed).  Any other column that is not an indicator code is an error.
    ahp_matrices
        Parent code -> pairwise comparison matrix (square frame indexed and labelled by child codes), used by
        ``weights="ahp"``.
    data_source, denominators_source
        File names used in error messages.

    Raises
    ------
    IndexInputError
        Unknown codes (framework indicator absent from the data, or data column unknown to the framework),
        duplicate/empty unit ids, non-numeric cells, all-missing rows, all-missing or zero-variance
        indicators, bad denominators.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        framework: Framework | pd.DataFrame,
        denominators: pd.DataFrame | None = None,
        choices: Choices | None = None,
        *,
        meta_columns: Sequence[str] = (),
        ahp_matrices: Mapping[str, pd.DataFrame] | None = None,
        data_source: str = "<data>",
        denominators_source: str = "<denominators>",
    ) -> None:
        self.framework = framework if isinstance(framework, Framework) else Framework.from_frame(framework)
        self.choices = choices or Choices()
        self.meta_columns = tuple(meta_columns)
        self.ahp_matrices = dict(ahp_matrices or {})
        self.data_source = data_source
        self.denominators_source = denominators_source
        data, denominators, layout_meta, from_data = _recognise_layout(data, self.framework, denominators, data_source)
        if from_data:
            self.denominators_source = denominators_source = data_source
        self.meta_columns = (*self.meta_columns, *(c for c in layout_meta if c not in self.meta_columns))
        self._data = data
        self._denominators = denominators
        self.raw, self.meta, self.rows = _parse_units(data, self.framework, self._allowed_meta(), data_source)
        self.denominators, self.denominator_rows = (None, {})
        if denominators is not None:
            self.denominators, self.denominator_rows = _parse_denominators(denominators, denominators_source)

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_csv(
        cls,
        data_path: str | Path,
        framework_path: str | Path,
        denominators_path: str | Path | None = None,
        choices: Choices | None = None,
        *,
        meta_columns: Sequence[str] = (),
    ) -> IndexPipeline:
        """Read the CSV inputs (all cells as text, so errors can name their row) and validate them."""
        framework = Framework.from_csv(framework_path)
        data = read_csv_text(data_path)
        denominators = read_csv_text(denominators_path) if denominators_path is not None else None
        return cls(
            data,
            framework,
            denominators,
            choices,
            meta_columns=meta_columns,
            data_source=str(data_path),
            denominators_source=str(denominators_path) if denominators_path else "<denominators>",
        )

    def _allowed_meta(self) -> set[str]:
        allowed = {"name", *self.meta_columns}
        if self.choices.group_column:
            allowed.add(self.choices.group_column)
        return allowed

    def variant(self, **changes: object) -> IndexPipeline:
        """A pipeline over the same (already validated) inputs with some :class:`Choices` fields changed."""
        new = object.__new__(IndexPipeline)
        new.__dict__.update(self.__dict__)
        new.choices = dataclasses.replace(self.choices, **changes)
        group = new.choices.group_column
        if group and group not in self._data.columns:
            raise IndexInputError(
                f"group column {group!r} is absent from the data", source=self.data_source, row=0, code=group
            )
        if group and group not in new.meta.columns:
            new.meta = new.meta.copy()
            new.meta[group] = self._data[group].to_numpy()
        return new

    # ------------------------------------------------------------------ the build
    def run(self) -> IndexResult:
        """Build every stage with the current choices.

        Returns
        -------
        IndexResult
            All stages, logs, weights, scores and ranks.
        """
        fw, ch, src = self.framework, self.choices, self.data_source
        indicators = fw.indicators
        raw = self.raw
        if ch.denominate:
            denominated = denominate(
                raw,
                self.denominators,
                {c: fw.nodes[c].denominator for c in indicators},
                source=self.denominators_source if self.denominators is not None else fw.source,
                rows=self.denominator_rows,
            )
        else:
            denominated = raw.copy()
        groups = self.meta[ch.group_column] if ch.group_column else None
        imputed, imputation_log = impute(denominated, ch.impute, groups, source=src)
        treated, treatment_log = treat(imputed, ch.treat, cap=ch.winsor_cap)
        positive = ch.aggregate in ("geometric", "harmonic")
        goalposts = {
            c: (fw.nodes[c].goal_low, fw.nodes[c].goal_high) for c in indicators if fw.nodes[c].goal_low is not None
        }
        normalised = normalise(
            treated, ch.normalise, {c: fw.nodes[c].direction for c in indicators}, goalposts, positive, source=src
        )

        overrides = dict(ch.weight_overrides)
        raw_weights = {code: overrides.get(code, node.weight) for code, node in fw.nodes.items()}
        method = ch.weights.partition(":")[0]
        ahp_matrices = self.ahp_matrices
        ahp_source = "<ahp>"
        if ch.weights.startswith("ahp:"):
            ahp_source = ch.weights.partition(":")[2]
            matrix = read_ahp_csv(ahp_source)
            ahp_matrices = {_parent_of_siblings(fw, list(matrix.index), ahp_source): matrix}
        ahp_results: dict[str, AHPResult] = {}
        relative: dict[str, float] = {fw.root: 1.0}
        values: dict[str, np.ndarray] = {c: normalised[c].to_numpy() for c in indicators}
        scores = pd.DataFrame(index=raw.index)
        for parent in fw.aggregates:
            kids = list(fw.children(parent))
            matrix_values = np.column_stack([values[k] for k in kids])
            w = self._sibling_weights(
                method, parent, kids, raw_weights, matrix_values, ahp_matrices, ahp_source, ahp_results
            )
            relative.update(zip(kids, w.tolist(), strict=True))
            try:
                values[parent] = aggregate(matrix_values, w, ch.aggregate)
            except ValueError as exc:
                raise IndexInputError(str(exc), source=src, code=parent) from None
            scores[parent] = values[parent]

        effective = {code: _effective_weight(fw, code, relative) for code in fw.nodes}
        weights_table = pd.DataFrame(
            [
                {
                    "code": code,
                    "parent": node.parent,
                    "weight": relative[code],
                    "effective_weight": effective[code],
                    "method": ch.weights,
                }
                for code, node in fw.nodes.items()
                if node.parent is not None
            ]
        )
        weighted = normalised * pd.Series({c: effective[c] for c in indicators})
        ranks = scores.rank(ascending=False, method=RANK_TIES).astype("Int64")
        # Coverage is of the denominated values: a value without its denominator is missing (COINr's rule).
        present = denominated.notna()
        no_denominator = (
            missing_denominators(raw, self.denominators, {c: fw.nodes[c].denominator for c in indicators})
            if ch.denominate
            else pd.Series(0, index=indicators)
        )
        coverage_units = pd.DataFrame(
            {
                "unit": raw.index,
                "indicators": len(indicators),
                "present": present.sum(axis=1).to_numpy(),
                "coverage": present.mean(axis=1).to_numpy(),
            }
        )
        coverage_indicators = pd.DataFrame(
            {
                "code": indicators,
                "units": len(raw),
                "present": present.sum(axis=0).to_numpy(),
                "coverage": present.mean(axis=0).to_numpy(),
                "missing_denominator": no_denominator.reindex(indicators).to_numpy(),
            }
        )
        return IndexResult(
            choices=ch,
            framework=fw,
            raw=raw,
            denominated=denominated,
            imputed=imputed,
            treated=treated,
            normalised=normalised,
            weighted=weighted,
            scores=scores,
            ranks=ranks,
            weights=weights_table,
            treatment_log=treatment_log,
            imputation_log=imputation_log,
            coverage_units=coverage_units,
            coverage_indicators=coverage_indicators,
            ahp=ahp_results,
            meta=self.meta,
            pipeline=self,
        )

    def _sibling_weights(
        self,
        method: str,
        parent: str,
        kids: list[str],
        raw_weights: dict[str, float],
        matrix_values: np.ndarray,
        ahp_matrices: Mapping[str, pd.DataFrame],
        ahp_source: str,
        ahp_results: dict[str, AHPResult],
    ) -> np.ndarray:
        """Weights (summing to one) of the children of ``parent`` under ``method``."""
        fw = self.framework
        framework_w = np.array([raw_weights[k] for k in kids], dtype=float)
        if framework_w.sum() <= 0 or (framework_w < 0).any():
            raise IndexInputError(
                "weights of the children must be >= 0 and not all zero", source=fw.source, code=parent
            )
        framework_w = framework_w / framework_w.sum()
        if method == "framework" or len(kids) == 1:
            return framework_w
        if method == "equal":
            return np.full(len(kids), 1.0 / len(kids))
        if method == "rank-order":
            ranks = [fw.nodes[k].literature_rank for k in kids]
            if any(r is None for r in ranks):
                missing = kids[ranks.index(None)]
                raise IndexInputError(
                    "rank-order weights need a literature_rank for every sibling",
                    source=fw.source,
                    row=fw.nodes[missing].row,
                    code=missing,
                )
            try:
                return rank_order_centroid(ranks)  # type: ignore[arg-type]
            except ValueError as exc:
                raise IndexInputError(str(exc), source=fw.source, row=fw.nodes[kids[0]].row, code=parent) from None
        if method in ("entropy", "pca"):
            complete = matrix_values[np.isfinite(matrix_values).all(axis=1)]
            try:
                if method == "entropy":
                    return entropy_weights(minmax_unit(complete))
                return pca_weights(complete)
            except ValueError as exc:
                raise IndexInputError(str(exc), source=self.data_source, code=parent) from None
        if method == "ahp":
            matrix = ahp_matrices.get(parent)
            if matrix is None:
                return framework_w
            if sorted(matrix.index) != sorted(kids):
                raise IndexInputError(
                    f"AHP matrix codes {list(matrix.index)} are not the children {kids}",
                    source=ahp_source,
                    row=0,
                    code=parent,
                )
            matrix = matrix.loc[kids, kids]
            result = check_ahp(matrix, source=ahp_source, parent=parent)
            ahp_results[parent] = result
            return result.weights
        raise ValueError(f"unknown weights {method!r}")


# ---------------------------------------------------------------------- parsing and validation helpers
def _parse_numeric_frame(
    frame: pd.DataFrame, columns: Sequence[str], source: str, units: Sequence[str]
) -> pd.DataFrame:
    """Parse ``columns`` as float64; a non-missing cell that is not a finite number raises with its row."""
    out = pd.DataFrame(index=pd.Index(units, name=UNIT))
    for code in columns:
        column = frame[code]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            parsed = column.astype(np.float64).to_numpy()
            bad = np.isinf(parsed)
        else:
            text = column.astype("string").str.strip()
            is_missing = text.isna() | text.str.lower().isin(MISSING_TOKENS)
            parsed_series = pd.to_numeric(text.where(~is_missing), errors="coerce")
            parsed = parsed_series.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~is_missing.to_numpy(dtype=bool) & ~np.isfinite(parsed)
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            raise IndexInputError(
                f"value {frame[code].iloc[position]!r} is not a number", source=source, row=position + 1, code=code
            )
        out[code] = parsed
    return out


def _parse_units(
    data: pd.DataFrame, framework: Framework, allowed_meta: set[str], source: str
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Validate the units table and return ``(raw indicators, meta columns, unit -> row)``."""
    if UNIT not in data.columns:
        raise IndexInputError("missing column 'unit'", source=source, row=0)
    indicators = framework.indicators
    for code in indicators:
        if code not in data.columns:
            raise IndexInputError(
                "indicator of the framework is not a column of the data", source=source, row=0, code=code
            )
    aggregates = set(framework.aggregates)
    for column in data.columns:
        if column == UNIT or column in indicators or column in allowed_meta:
            continue
        problem = (
            "is an aggregate of the framework, not an indicator"
            if column in aggregates
            else "is not a code of the framework (declare it as a meta column if it is not an indicator)"
        )
        raise IndexInputError(f"column {problem}", source=source, row=0, code=str(column))
    units = [str(u).strip() for u in data[UNIT].tolist()]
    rows: dict[str, int] = {}
    for position, unit in enumerate(units):
        if unit == "" or unit.lower() == "nan":
            raise IndexInputError("empty unit id", source=source, row=position + 1)
        if unit in rows:
            raise IndexInputError(
                f"duplicate unit id (first seen on row {rows[unit]})", source=source, row=position + 1, code=unit
            )
        rows[unit] = position + 1
    if not units:
        raise IndexInputError("the data has no rows", source=source)
    raw = _parse_numeric_frame(data, indicators, source, units)
    all_missing = raw.isna().all(axis=1).to_numpy()
    if all_missing.any():
        position = int(np.flatnonzero(all_missing)[0])
        raise IndexInputError(
            "every indicator of this unit is missing", source=source, row=position + 1, code=units[position]
        )
    for code in indicators:
        finite = raw[code].dropna()
        if finite.empty:
            raise IndexInputError("indicator is missing for every unit", source=source, code=code)
        if finite.nunique() == 1:
            raise IndexInputError(f"zero variance: every unit has {finite.iloc[0]:g}", source=source, code=code)
    meta_columns = [c for c in data.columns if c in allowed_meta]
    meta = pd.DataFrame({c: data[c].to_numpy() for c in meta_columns}, index=raw.index)
    return raw, meta, rows


def _recognise_layout(
    data: pd.DataFrame, framework: Framework, denominators: pd.DataFrame | None, source: str
) -> tuple[pd.DataFrame, pd.DataFrame | None, tuple[str, ...], bool]:
    """Recognise COINr's iData conventions (see the module docstring).

    Returns
    -------
    tuple
        The data (``uCode``/``uName`` renamed to ``unit``/``name``, denominator columns removed), the
        denominators table (taken from the data when none was given), the meta columns recognised, and
        whether the denominators came from the data.
    """
    if UNIT not in data.columns and COINR_UNIT in data.columns:
        renames = {COINR_UNIT: UNIT}
        if COINR_NAME in data.columns and "name" not in data.columns:
            renames[COINR_NAME] = "name"
        data = data.rename(columns=renames)
    indicators = set(framework.indicators)
    typed = framework.column_types
    named_denominators = {n.denominator for n in framework if n.denominator}
    meta: list[str] = []
    denominator_columns: list[str] = []
    for column in map(str, data.columns):
        if column == UNIT or column in indicators:
            continue
        kind = typed.get(column)
        if kind == "Denominator" or column.startswith(COINR_DENOMINATOR_PREFIX) or column in named_denominators:
            denominator_columns.append(column)
        elif (
            kind in ("Group", "Other")
            or column.startswith((COINR_GROUP_PREFIX, COINR_OTHER_PREFIX))
            or column in (COINR_TIME, COINR_NAME)
        ):
            meta.append(column)
    if COINR_TIME in data.columns:
        times = {str(t).strip() for t in data[COINR_TIME].tolist()} - {"", "nan", "NA"}
        if len(times) > 1:
            raise IndexInputError(
                f"panel data: {len(times)} Time values; build the index for one Time at a time",
                source=source,
                row=0,
                code=COINR_TIME,
            )
    from_data = False
    if denominator_columns:
        if denominators is None:
            denominators = data[[UNIT, *denominator_columns]].copy()
            from_data = True
        data = data.drop(columns=denominator_columns)
    return data, denominators, tuple(meta), from_data


def _parse_denominators(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, dict[str, int]]:
    if UNIT not in frame.columns:
        raise IndexInputError("missing column 'unit'", source=source, row=0)
    units = [str(u).strip() for u in frame[UNIT].tolist()]
    rows: dict[str, int] = {}
    for position, unit in enumerate(units):
        if unit in rows:
            raise IndexInputError("duplicate unit id", source=source, row=position + 1, code=unit)
        rows[unit] = position + 1
    columns = [c for c in frame.columns if c not in (UNIT, "name")]
    return _parse_numeric_frame(frame, columns, source, units), rows


def _parent_of_siblings(framework: Framework, codes: list[str], source: str) -> str:
    """The parent whose children are exactly ``codes`` (an AHP matrix compares siblings)."""
    for parent in framework.aggregates:
        if sorted(framework.children(parent)) == sorted(codes):
            return parent
    raise IndexInputError(
        f"AHP matrix codes {codes} are not the complete set of children of one aggregate", source=source, row=0
    )


def _effective_weight(framework: Framework, code: str, relative: dict[str, float]) -> float:
    weight = 1.0
    while framework.nodes[code].parent is not None:
        weight *= relative[code]
        code = framework.nodes[code].parent  # type: ignore[assignment]
    return weight
