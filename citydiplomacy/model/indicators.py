"""The indicator catalogue and the institutional-capacity checklist: load, validate, query.

The catalogue (``citydiplomacy/model/data/indicators.yaml``) is the project's reconstruction of the 32
indicators of seed paper 000 under its seven dimensions.  Each indicator carries a *rule* saying how its
value is obtained: computed from the registry (counts of relations, memberships, activities, a network
metric) or entered by hand (``manual``, from the ``indicator_value`` table).  :func:`load_catalogue`
checks the file thoroughly, so a typo in a rule fails loudly at load time instead of silently producing
zeros at assessment time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from citydiplomacy.core.errors import BadInput
from citydiplomacy.model.vocab import (
    ACTIVITY_KINDS,
    DIMENSIONS,
    MEMBERSHIP_ROLES,
    ORGANISATION_KINDS,
    PLACE_FACTS,
    RELATION_KINDS,
)

MODEL_DATA_DIR = Path(__file__).resolve().parent / "data"
INDICATORS_PATH = MODEL_DATA_DIR / "indicators.yaml"
CAPACITY_PATH = MODEL_DATA_DIR / "capacity.yaml"

#: Sub-kinds allowed per dimension (paper 000: security military/civilian,
#: representation political/non-political).
SUB_KINDS: dict[str, tuple[str, ...]] = {
    "security": ("military", "civilian"),
    "representation": ("political", "non-political"),
}

#: Rule kinds and the parameters each accepts (``kind`` itself excluded).
RULE_PARAMETERS: dict[str, set[str]] = {
    "count_relations": {"relation_kinds"},
    "membership_score": {"role_weights", "organisations", "organisation_kinds"},
    "leadership_posts": {"roles"},
    "hosted_secretariats": set(),
    "summits_hosted": set(),
    "countries_reached": {"relation_kinds"},
    "world_regions_reached": {"relation_kinds"},
    "count_activities": {"activity_kinds", "dimensions", "indicator_tag", "facts"},
    "place_facts": {"facts"},
    "network_metric": {"metric"},
    "manual": set(),
}

#: Rule kinds whose value comes from the registry's records (as opposed to hand entry or a stored run).
REGISTRY_RULES = frozenset(RULE_PARAMETERS) - {"manual", "network_metric"}


class CatalogueError(BadInput):
    """The indicator catalogue or the capacity checklist is malformed; the message lists every problem."""


@dataclass(frozen=True)
class Indicator:
    """One indicator of city diplomacy.

    Attributes
    ----------
    code : str
        Stable identifier such as ``NET01``.
    dimension : str
        One of the seven dimension codes.
    sub_kind : str or None
        ``military``/``civilian`` (security), ``political``/``non-political`` (representation).
    direction : int
        +1 when more means more city diplomacy, -1 when less does.
    literature_rank : int or None
        Frequency rank in the literature (paper 000; 1 = most frequent), None when unknown.
    least_frequent : bool
        Paper 000 names it among the least frequent indicators (exact rank unknown).
    rule : dict
        How the value is obtained; ``rule["kind"]`` is a key of :data:`RULE_PARAMETERS`.  ``facts``
        (``place_facts``, and added to a ``count_activities`` count) names place facts
        (:data:`citydiplomacy.model.vocab.PLACE_FACTS`) summed into the value.
    origin : str
        ``paper`` (paper 000's 32) or ``source`` (measures a data source; cites its paper and source).
    justification : str
        For a ``source`` indicator, or a paper indicator fed by place facts: why the mapping holds.
    """

    code: str
    name: str
    name_fa: str
    dimension: str
    sub_kind: str | None
    unit: str
    direction: int
    literature_rank: int | None
    least_frequent: bool
    paper_named: bool
    rule: dict[str, Any] = field(hash=False, compare=False)
    #: ``paper``: one of paper 000's 32; ``source``: added so that a real data source the registry imports
    #: (missions, air routes, climate commitments) is measured; its ``justification`` says why it belongs.
    origin: str = "paper"
    justification: str = ""

    @property
    def rule_kind(self) -> str:
        """The rule's kind (``count_relations``, ``manual``, ...)."""
        return str(self.rule["kind"])

    @property
    def is_manual(self) -> bool:
        """True when the value is entered by hand or survey (``indicator_value`` rows)."""
        return self.rule_kind == "manual"

    @property
    def rank_tier(self) -> int:
        """Importance tier from the literature, for rank-order weights (1 = most important).

        Ranks the paper gives (1, 2, 3) are kept; indicators of unknown rank come next (4); those the
        paper names among the least frequent come last (5).
        """
        if self.literature_rank is not None:
            return self.literature_rank
        return 5 if self.least_frequent else 4


@dataclass(frozen=True)
class Catalogue:
    """The validated indicator catalogue.

    Attributes
    ----------
    version : str
        The file's ``version`` (recorded with every assessment run).
    checksum : str
        SHA-256 of the file's bytes (first 16 hex digits): tells edits apart under one version.
    dimensions : dict[str, dict]
        Dimension code -> ``{"name", "name_fa", "sub_kinds"}`` in file order.
    indicators : tuple[Indicator, ...]
        The indicators in file order.
    """

    version: str
    checksum: str
    dimensions: dict[str, dict[str, Any]]
    indicators: tuple[Indicator, ...]

    def __len__(self) -> int:
        return len(self.indicators)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.indicators)

    @property
    def codes(self) -> list[str]:
        """Indicator codes in file order."""
        return [ind.code for ind in self.indicators]

    def get(self, code: str) -> Indicator:
        """The indicator with ``code``; raises KeyError when absent."""
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)

    def by_dimension(self) -> dict[str, list[Indicator]]:
        """Dimension code -> its indicators, dimensions in file order."""
        out: dict[str, list[Indicator]] = {dim: [] for dim in self.dimensions}
        for ind in self.indicators:
            out[ind.dimension].append(ind)
        return out

    def frame(self) -> pd.DataFrame:
        """The catalogue as a table: one row per indicator (index ``code``), rule flattened to text."""
        rows = [
            {
                "code": ind.code,
                "name": ind.name,
                "name_fa": ind.name_fa,
                "dimension": ind.dimension,
                "sub_kind": ind.sub_kind,
                "unit": ind.unit,
                "direction": ind.direction,
                "literature_rank": ind.literature_rank,
                "least_frequent": ind.least_frequent,
                "rank_tier": ind.rank_tier,
                "rule_kind": ind.rule_kind,
            }
            for ind in self.indicators
        ]
        return pd.DataFrame(rows).set_index("code")


@dataclass(frozen=True)
class CapacityItem:
    """One item of the institutional-capacity checklist (paper 003)."""

    code: str
    name: str
    name_fa: str
    description: str
    cite: str


def _check_rule(code: str, rule: Any, problems: list[str]) -> None:
    if not isinstance(rule, dict) or "kind" not in rule:
        problems.append(f"{code}: rule must be a mapping with a 'kind'")
        return
    kind = rule["kind"]
    if kind not in RULE_PARAMETERS:
        problems.append(f"{code}: unknown rule kind {kind!r}")
        return
    extra = set(rule) - {"kind"} - RULE_PARAMETERS[kind]
    if extra:
        problems.append(f"{code}: rule {kind} does not take {sorted(extra)}")
    vocabularies = {
        "relation_kinds": RELATION_KINDS,
        "activity_kinds": ACTIVITY_KINDS,
        "dimensions": DIMENSIONS,
        "organisation_kinds": ORGANISATION_KINDS,
        "roles": MEMBERSHIP_ROLES,
    }
    for key, vocab in vocabularies.items():
        if key in rule:
            values = rule[key]
            if not isinstance(values, list):
                problems.append(f"{code}: rule {key} must be a list")
                continue
            unknown = [v for v in values if v not in vocab]
            if unknown:
                problems.append(f"{code}: rule {key} has unknown terms {unknown}")
    if kind == "count_relations" and not rule.get("relation_kinds"):
        problems.append(f"{code}: count_relations needs relation_kinds")
    if kind == "count_activities" and not (
        rule.get("activity_kinds") or rule.get("dimensions") or rule.get("indicator_tag")
    ):
        problems.append(f"{code}: count_activities needs activity_kinds, dimensions or indicator_tag")
    if "facts" in rule:
        facts = rule["facts"]
        if not isinstance(facts, list) or not facts:
            problems.append(f"{code}: rule facts must be a non-empty list")
        else:
            unknown = [f for f in facts if f not in PLACE_FACTS]
            if unknown:
                problems.append(f"{code}: rule facts has unknown place facts {unknown}")
    if kind == "place_facts" and "facts" not in rule:
        problems.append(f"{code}: place_facts needs facts")
    if kind == "network_metric" and not isinstance(rule.get("metric"), str):
        problems.append(f"{code}: network_metric needs a metric name")
    if "role_weights" in rule:
        weights = rule["role_weights"]
        if not isinstance(weights, dict) or any(r not in MEMBERSHIP_ROLES for r in weights):
            problems.append(f"{code}: role_weights must map membership roles to numbers")
        elif any(not isinstance(w, int | float) or w < 0 for w in weights.values()):
            problems.append(f"{code}: role_weights must be non-negative numbers")


def parse_catalogue(text: str, *, expected_count: int | None = 32) -> Catalogue:
    """Parse and validate catalogue YAML text.

    Parameters
    ----------
    text : str
        The YAML document.
    expected_count : int or None
        Number of the papers' indicators required (paper 000 has 32; ``origin: source`` ones come on top);
        None disables the check (test catalogues).

    Raises
    ------
    CatalogueError
        Listing every problem found (unknown dimension, bad sub-kind, duplicate code, bad rule, ...).
    """
    data = yaml.safe_load(text)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise CatalogueError("catalogue must be a YAML mapping")
    version = data.get("version")
    if not version:
        problems.append("catalogue has no version")
    dims_raw = data.get("dimensions") or []
    dimensions: dict[str, dict[str, Any]] = {}
    for dim in dims_raw:
        dcode = dim.get("code")
        if dcode not in DIMENSIONS:
            problems.append(f"unknown dimension {dcode!r}")
            continue
        dimensions[dcode] = {
            "name": dim.get("name", DIMENSIONS[dcode]),
            "name_fa": dim.get("name_fa"),
            "sub_kinds": tuple(dim.get("sub_kinds") or ()),
        }
    missing_dims = set(DIMENSIONS) - set(dimensions)
    if missing_dims:
        problems.append(f"dimensions missing from the catalogue: {sorted(missing_dims)}")

    indicators: list[Indicator] = []
    seen: set[str] = set()
    for raw in data.get("indicators") or []:
        code = str(raw.get("code", "?"))
        if code in seen:
            problems.append(f"{code}: duplicate code")
        seen.add(code)
        for key in ("name", "name_fa", "dimension", "unit", "rule"):
            if not raw.get(key):
                problems.append(f"{code}: missing {key}")
        dimension = raw.get("dimension")
        if dimension not in DIMENSIONS:
            problems.append(f"{code}: unknown dimension {dimension!r}")
        sub_kind = raw.get("sub_kind")
        allowed = SUB_KINDS.get(str(dimension), ())
        if allowed and sub_kind not in allowed:
            problems.append(f"{code}: sub_kind of {dimension} must be one of {list(allowed)}")
        if not allowed and sub_kind is not None:
            problems.append(f"{code}: dimension {dimension} has no sub_kind (got {sub_kind!r})")
        direction = raw.get("direction")
        if direction not in (1, -1):
            problems.append(f"{code}: direction must be +1 or -1")
        rank = raw.get("literature_rank")
        if rank is not None and (not isinstance(rank, int) or rank < 1):
            problems.append(f"{code}: literature_rank must be a positive integer or null")
        _check_rule(code, raw.get("rule"), problems)
        origin = str(raw.get("origin") or "paper")
        if origin not in ("paper", "source"):
            problems.append(f"{code}: origin must be paper or source (got {origin!r})")
        if (origin == "source" or "facts" in (raw.get("rule") or {})) and not raw.get("justification"):
            problems.append(f"{code}: an indicator fed by a source needs a justification (its paper and source)")
        indicators.append(
            Indicator(
                code=code,
                name=str(raw.get("name", "")),
                name_fa=str(raw.get("name_fa", "")),
                dimension=str(dimension),
                sub_kind=sub_kind,
                unit=str(raw.get("unit", "")),
                direction=int(direction) if direction in (1, -1) else 1,
                literature_rank=rank if isinstance(rank, int) else None,
                least_frequent=bool(raw.get("least_frequent", False)),
                paper_named=bool(raw.get("paper_named", False)),
                rule=dict(raw.get("rule") or {}),
                origin=origin,
                justification=" ".join(str(raw.get("justification") or "").split()),
            )
        )
    from_papers = sum(1 for ind in indicators if ind.origin == "paper")
    if expected_count is not None and from_papers != expected_count:
        problems.append(f"catalogue has {from_papers} indicators of the papers, expected {expected_count}")
    empty = [dim for dim in dimensions if not any(ind.dimension == dim for ind in indicators)]
    if empty:
        problems.append(f"dimensions without indicators: {empty}")
    if problems:
        raise CatalogueError("invalid indicator catalogue:\n  " + "\n  ".join(problems))
    checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return Catalogue(version=str(version), checksum=checksum, dimensions=dimensions, indicators=tuple(indicators))


@cache
def _load_cached(path: str) -> Catalogue:
    return parse_catalogue(Path(path).read_text(encoding="utf-8"))


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Load and validate the indicator catalogue (default: the packaged ``indicators.yaml``).

    Returns
    -------
    Catalogue
        Paper 000's 32 indicators and those added for the sources; cached per path.

    Raises
    ------
    CatalogueError
        When the file is malformed.
    """
    return _load_cached(str(Path(path) if path else INDICATORS_PATH))


def load_capacity(path: Path | str | None = None) -> tuple[str, list[CapacityItem]]:
    """Load the institutional-capacity checklist (default: the packaged ``capacity.yaml``).

    Returns
    -------
    tuple[str, list[CapacityItem]]
        The checklist's version and its items in file order.  Codes start with ``CAP_``.
    """
    data = yaml.safe_load(Path(path or CAPACITY_PATH).read_text(encoding="utf-8"))
    items = [CapacityItem(**{k: str(v) for k, v in raw.items()}) for raw in data["items"]]
    bad = [item.code for item in items if not item.code.startswith("CAP_")]
    if bad:
        raise CatalogueError(f"capacity codes must start with CAP_: {bad}")
    return str(data["version"]), items
