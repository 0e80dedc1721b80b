"""The five-level model of city diplomacy and its catalogues, loaded from versioned YAML.

The data live in ``citydiplomacy/model/data/*.yaml``.  Each file declares ``version`` and the seed
papers it draws on (``sources``); every other top-level key is a *section*: a list of items, each with
``code`` (unique across the whole model), ``name`` (English), ``name_fa`` (Persian), ``description``
and ``cite: {source: <seed file name>, locator: <where in the paper>}``.  A list of coded mappings
inside an item (``sub_kinds`` of a dimension, ``activities`` of a row of paper 001's table) becomes
the item's children and the section ``<section>.<key>``; children inherit their parent's citation.

``indicators.yaml`` (the fifth level) is owned by the indicators catalogue; it is part of the
checksum but not parsed here.

Examples
--------
>>> from citydiplomacy.model import load_model
>>> model = load_model()
>>> [d.code for d in model.dimensions][:3]
['security', 'economy', 'culture']
>>> len(model.activities("peace.direct_participation"))
11
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from citydiplomacy.core.errors import BadInput
from citydiplomacy.model.vocab import MEMBERSHIP_ROLES, ORGANISATION_KINDS, RELATION_KINDS

#: Directory of the bundled model data.
DATA_DIR = Path(__file__).resolve().parent / "data"

#: The files this module parses, in model order.  ``indicators.yaml`` is parsed by its own owner.
MODEL_FILES: tuple[str, ...] = ("five_level_model.yaml", "functions.yaml", "strategy.yaml", "timeline.yaml")

#: The seed papers an item may cite (``../shared/seeds`` beside the repository).
SEED_FILES: frozenset[str] = frozenset(
    {
        "000_d99546df3a877786.txt",
        "001_a613fd4df7343653.txt",
        "002_921bc23f96087e12.txt",
        "003_e2ea725f2834c7bc.txt",
        "004_be513f05f174dac0.txt",
    }
)

#: The seven dimension codes of the model's fourth level, in the paper's order.
DIMENSION_CODES: tuple[str, ...] = (
    "security",
    "economy",
    "culture",
    "networks",
    "representation",
    "development",
    "research",
)

#: SWOT kinds and the section holding each.
SWOT_SECTIONS: dict[str, str] = {
    "weakness": "weaknesses",
    "strength": "strengths",
    "opportunity": "opportunities",
    "threat": "threats",
    "recommendation": "recommendations",
    "outcome": "outcomes",
}

# Other spellings accepted by :meth:`Model.swot` (paper 003 calls weaknesses "shortcomings",
# strengths "advantages" and threats "challenges").
_SWOT_ALIASES: dict[str, str] = {
    "w": "weakness",
    "weaknesses": "weakness",
    "shortcoming": "weakness",
    "shortcomings": "weakness",
    "s": "strength",
    "strengths": "strength",
    "advantage": "strength",
    "advantages": "strength",
    "o": "opportunity",
    "opportunities": "opportunity",
    "t": "threat",
    "threats": "threat",
    "challenge": "threat",
    "challenges": "threat",
    "recommendations": "recommendation",
    "policy": "recommendation",
    "outcomes": "outcome",
    "results": "outcome",
    "necessities": "outcome",
}

#: Section aliases: ``roles`` are the membership forms mapped to registry roles.
SECTION_ALIASES: dict[str, str] = {"roles": "membership_forms", "lg_roles": "local_government_roles"}

#: The sections whose items together make up :attr:`Model.functions`.
FUNCTION_SECTIONS: tuple[str, ...] = (
    "peace_functions",
    "diplomatic_functions",
    "thonon_functions",
    "multilateral_functions",
)

_RESERVED_KEYS = {"code", "name", "name_fa", "description", "cite"}
_SEED_NAME = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")


class ModelError(BadInput):
    """The model data break the schema; ``problems`` lists every violation found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid model data:\n  " + "\n  ".join(self.problems))


@dataclass(frozen=True)
class Cite:
    """Where a fact comes from: a seed paper's file name and a locator inside it."""

    source: str
    locator: str


@dataclass(frozen=True, eq=False)
class Item:
    """One coded entry of the model (a type, actor, dimension, function, SWOT item, ...).

    Attributes
    ----------
    code, name, name_fa, description
        Identity and bilingual labels.
    cite
        The citation (inherited from the parent for children).
    section
        The section the item belongs to, e.g. ``"dimensions"`` or ``"dimensions.sub_kinds"``.
    file
        The YAML file it was read from.
    parent
        The parent item's code for children, else ``None``.
    extra
        Every other key of the YAML mapping (``role``, ``links``, ``function`` ...).
    children
        Coded sub-items (sub-kinds, table activities).
    """

    code: str
    name: str
    name_fa: str
    description: str
    cite: Cite
    section: str
    file: str
    parent: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    children: tuple[Item, ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        """Return an extra field (``role``, ``links``, ``function`` ...) or ``default``."""
        return self.extra.get(key, default)

    def __getitem__(self, key: str) -> Any:
        if key in _RESERVED_KEYS or key in {"section", "file", "parent"}:
            return getattr(self, key)
        return self.extra[key]

    def label(self, lang: str = "en") -> str:
        """Return the Persian name for ``lang="fa"``, else the English name."""
        return self.name_fa if lang == "fa" else self.name

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready mapping of the item, children included."""
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "name_fa": self.name_fa,
            "description": self.description,
            "cite": {"source": self.cite.source, "locator": self.cite.locator},
            "section": self.section,
        }
        if self.parent:
            out["parent"] = self.parent
        out.update(self.extra)
        if self.children:
            out["children"] = [child.to_dict() for child in self.children]
        return out


@dataclass(frozen=True)
class Model:
    """The loaded model: sections of :class:`Item`, with a version and a checksum.

    Attributes
    ----------
    version
        The highest ``version`` among the model files (they normally agree), e.g. ``"2026.11"``.
    file_versions
        ``{file name: version}`` for each parsed file.
    checksum
        Hex sha256 over the names and bytes of every ``*.yaml`` in the data directory (so a change
        to ``indicators.yaml`` changes it too); stamp analysis runs with it.
    sources
        ``{seed file name: citation}`` declared by the files.
    sections
        ``{section name: items}`` including child sections such as ``"dimensions.sub_kinds"``.
    """

    version: str
    file_versions: Mapping[str, str]
    checksum: str
    sources: Mapping[str, str]
    sections: Mapping[str, tuple[Item, ...]]
    data_dir: Path
    _index: Mapping[str, Item] = field(repr=False, default_factory=dict)

    # --- generic access -----------------------------------------------------------------------
    def section(self, name: str) -> tuple[Item, ...]:
        """Return the items of section ``name`` (aliases: ``roles`` -> ``membership_forms``).

        Raises
        ------
        KeyError
            When no such section exists; the message lists the known ones.
        """
        key = SECTION_ALIASES.get(name, name)
        if key == "functions":
            return self.functions
        try:
            return self.sections[key]
        except KeyError:
            raise KeyError(f"unknown section {name!r}; known: {', '.join(self.section_names())}") from None

    def section_names(self) -> list[str]:
        """Return every section name (top-level first, then child sections), plus ``functions``."""
        return [*self.sections, "functions"]

    def find(self, code: str) -> Item:
        """Return the item with ``code`` from any section (children included).

        Raises
        ------
        KeyError
            When the code is unknown.
        """
        try:
            return self._index[code]
        except KeyError:
            raise KeyError(f"unknown model code {code!r}") from None

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def __iter__(self) -> Iterator[Item]:
        return iter(self._index.values())

    def codes(self) -> set[str]:
        """Return every code of the model."""
        return set(self._index)

    # --- the five-level model -------------------------------------------------------------------
    @property
    def model_levels(self) -> tuple[Item, ...]:
        """The five levels of the model (types, levels, cooperation system, dimensions, indicators)."""
        return self.sections["model_levels"]

    @property
    def types(self) -> tuple[Item, ...]:
        """Level 1: bilateral and multilateral types, with ``relation_kind`` / ``organisation_kind``."""
        return self.sections["types"]

    @property
    def levels(self) -> tuple[Item, ...]:
        """Level 2: global and regional (``scale``)."""
        return self.sections["levels"]

    @property
    def actors(self) -> tuple[Item, ...]:
        """Level 3: actors, ``category`` territorial | non_territorial | support."""
        return self.sections["actors"]

    @property
    def organs(self) -> tuple[Item, ...]:
        """Level 3: organs of a network (board, executive board, secretariat, headquarters)."""
        return self.sections["organs"]

    @property
    def roles(self) -> tuple[Item, ...]:
        """Level 3: membership forms (active, observer, associate), each with the registry ``role``."""
        return self.sections["membership_forms"]

    membership_forms = roles

    @property
    def dimensions(self) -> tuple[Item, ...]:
        """Level 4: the seven dimensions in the paper's order; sub-kinds are ``children``."""
        return self.sections["dimensions"]

    # --- functions ---------------------------------------------------------------------------------
    @property
    def functions(self) -> tuple[Item, ...]:
        """Every function item, each with ``family`` peace | diplomatic | thonon | multilateral."""
        return tuple(item for name in FUNCTION_SECTIONS for item in self.sections[name])

    def functions_of(self, family: str) -> tuple[Item, ...]:
        """Return the functions of one ``family``: peace, diplomatic, thonon or multilateral."""
        found = tuple(item for item in self.functions if item.get("family") == family)
        if not found:
            raise KeyError(f"unknown function family {family!r}")
        return found

    def activities(self, function: str | None = None) -> tuple[Item, ...]:
        """Return paper 004's 25 activities, or those of one peace function.

        Parameters
        ----------
        function
            A ``peace_functions`` code such as ``"peace.direct_participation"``; the short form
            ``"direct_participation"`` is accepted too.

        Raises
        ------
        KeyError
            When ``function`` is not a peace function.
        """
        items = self.sections["activities"]
        if function is None:
            return items
        code = function if function.startswith("peace.") else f"peace.{function}"
        if code not in {f.code for f in self.sections["peace_functions"]}:
            raise KeyError(f"unknown peace function {function!r}")
        return tuple(item for item in items if item.get("function") == code)

    @property
    def local_government_roles(self) -> tuple[Item, ...]:
        """Paper 004's roles of local government: lobby, mediator, operational partner."""
        return self.sections["local_government_roles"]

    @property
    def phases(self) -> tuple[Item, ...]:
        """Paper 004's conflict phases: pre-, during and post-conflict."""
        return self.sections["phases"]

    @property
    def tools(self) -> tuple[Item, ...]:
        """Paper 004's eight tools of local governments."""
        return self.sections["tools"]

    @property
    def dimension_table(self) -> tuple[Item, ...]:
        """Paper 001's Table 1: one row per dimension, with ``function`` and activity ``children``."""
        return self.sections["dimension_table"]

    # --- strategy and history -----------------------------------------------------------------------
    @property
    def solutions(self) -> tuple[Item, ...]:
        """Paper 002's ten solutions, each with editorial ``links`` to weaknesses/threats."""
        return self.sections["solutions"]

    def swot(self, kind: str) -> tuple[Item, ...]:
        """Return paper 003's SWOT list of ``kind``.

        Parameters
        ----------
        kind
            ``weakness``, ``strength``, ``opportunity``, ``threat``, ``recommendation`` or
            ``outcome`` (plurals, initials and the paper's words — shortcomings, advantages,
            challenges — are accepted).

        Raises
        ------
        KeyError
            For an unknown kind.
        """
        key = kind.strip().lower()
        key = _SWOT_ALIASES.get(key, key)
        if key not in SWOT_SECTIONS:
            raise KeyError(f"unknown SWOT kind {kind!r}; use one of {', '.join(SWOT_SECTIONS)}")
        return self.sections[SWOT_SECTIONS[key]]

    @property
    def timeline(self) -> tuple[Item, ...]:
        """History milestones (``year``, ``places``), oldest first."""
        return tuple(sorted(self.sections["events"], key=lambda item: item.get("year", 0)))

    # --- tabular view -----------------------------------------------------------------------------------
    def to_frame(self, section: str) -> pd.DataFrame:
        """Return a section as a DataFrame, one row per item.

        Returns
        -------
        pandas.DataFrame
            Columns ``code, name, name_fa, description, source, locator`` then ``parent`` (child
            sections) and every extra key found in the section (lists stay lists); index 0..n-1.
        """
        items = self.section(section)
        rows: list[dict[str, Any]] = []
        for item in items:
            row: dict[str, Any] = {
                "code": item.code,
                "name": item.name,
                "name_fa": item.name_fa,
                "description": item.description,
                "source": item.cite.source,
                "locator": item.cite.locator,
            }
            if item.parent is not None:
                row["parent"] = item.parent
            row.update(item.extra)
            if item.children:
                row["children"] = [child.code for child in item.children]
            rows.append(row)
        base = ["code", "name", "name_fa", "description", "source", "locator"]
        frame = pd.DataFrame(rows)
        if frame.empty:
            return pd.DataFrame(columns=base)
        return frame[base + [c for c in frame.columns if c not in base]]


# --- loading and validation -----------------------------------------------------------------------
def _checksum(data_dir: Path) -> str:
    """Hash names and bytes of every YAML file in ``data_dir``, in name order."""
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _is_coded_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and "code" in v for v in value)


def _build_item(
    raw: dict[str, Any],
    *,
    section: str,
    file: str,
    declared: set[str],
    problems: list[str],
    parent: Item | None = None,
    parent_cite: Cite | None = None,
) -> Item:
    """Turn one YAML mapping into an :class:`Item`, recording schema violations in ``problems``."""
    where = f"{file}:{section}:{raw.get('code', '?')}"
    code = raw.get("code")
    if not isinstance(code, str) or not code.strip():
        problems.append(f"{where}: missing code")
        code = f"<missing:{id(raw)}>"
    for key in ("name", "name_fa"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{where}: missing {key}")
    description = raw.get("description") or ""
    if parent is None and not description:
        problems.append(f"{where}: missing description")

    cite_raw = raw.get("cite")
    if cite_raw is None and parent_cite is not None:
        cite = parent_cite
    elif isinstance(cite_raw, dict) and cite_raw.get("source") and cite_raw.get("locator"):
        cite = Cite(str(cite_raw["source"]), str(cite_raw["locator"]))
    else:
        problems.append(f"{where}: missing or incomplete cite (needs source and locator)")
        cite = Cite("", "")
    if cite.source and cite.source not in declared:
        problems.append(f"{where}: cites {cite.source!r}, not declared in the file's sources")
    for extra_cite in raw.get("also_cited") or []:
        if extra_cite.get("source") not in declared:
            problems.append(f"{where}: also_cited source {extra_cite.get('source')!r} not declared")

    extra: dict[str, Any] = {}
    child_specs: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in raw.items():
        if key in _RESERVED_KEYS:
            continue
        if _is_coded_list(value):
            child_specs.append((key, value))
        else:
            extra[key] = value

    item = Item(
        code=code,
        name=str(raw.get("name") or ""),
        name_fa=str(raw.get("name_fa") or ""),
        description=str(description),
        cite=cite,
        section=section,
        file=file,
        parent=parent.code if parent else None,
        extra=extra,
    )
    children = tuple(
        _build_item(
            child,
            section=f"{section}.{key}",
            file=file,
            declared=declared,
            problems=problems,
            parent=item,
            parent_cite=cite,
        )
        for key, values in child_specs
        for child in values
    )
    if children:
        object.__setattr__(item, "children", children)
    return item


def _check_references(sections: Mapping[str, tuple[Item, ...]], index: Mapping[str, Item]) -> list[str]:
    """Cross-checks: fixed dimension codes, vocabulary mappings and links between items."""
    problems: list[str] = []
    required = [
        *("model_levels", "types", "levels", "actors", "organs", "membership_forms", "dimensions"),
        *("peace_functions", "activities", "local_government_roles", "phases", "tools", "dimension_table"),
        *("diplomatic_functions", "thonon_functions", "multilateral_functions", "relation_types", "ties"),
        *("solutions", "weaknesses", "strengths", "opportunities", "threats", "recommendations", "outcomes"),
        "events",
    ]
    for name in required:
        if name not in sections:
            problems.append(f"missing section {name!r}")
    if problems:
        return problems

    dims = tuple(item.code for item in sections["dimensions"])
    if dims != DIMENSION_CODES:
        problems.append(f"dimension codes must be exactly {DIMENSION_CODES}, got {dims}")
    for name in ("membership_forms", "organs"):
        for item in sections[name]:
            if item.get("role") not in MEMBERSHIP_ROLES:
                problems.append(f"{item.code}: role {item.get('role')!r} not in store.vocab.MEMBERSHIP_ROLES")
    for item in sections["types"] + sections["relation_types"]:
        kind = item.get("relation_kind")
        if kind is not None and kind not in RELATION_KINDS:
            problems.append(f"{item.code}: relation_kind {kind!r} not in store.vocab.RELATION_KINDS")
        org_kind = item.get("organisation_kind")
        if org_kind is not None and org_kind not in ORGANISATION_KINDS:
            problems.append(f"{item.code}: organisation_kind {org_kind!r} not in ORGANISATION_KINDS")
        if item.get("parent") is not None and item.get("parent") not in index:
            problems.append(f"{item.code}: parent {item.get('parent')!r} unknown")
    for item in sections["levels"]:
        if item.get("scale") not in {"global", "regional"}:
            problems.append(f"{item.code}: scale must be global or regional")
    peace = {item.code for item in sections["peace_functions"]}
    for item in sections["activities"]:
        if item.get("function") not in peace:
            problems.append(f"{item.code}: function {item.get('function')!r} is not a peace function")
    for fn in sections["peace_functions"]:
        count = sum(1 for a in sections["activities"] if a.get("function") == fn.code)
        if fn.get("activity_count") is not None and count != fn.get("activity_count"):
            problems.append(f"{fn.code}: declares {fn.get('activity_count')} activities, has {count}")
    for item in sections["dimension_table"]:
        if item.get("dimension") not in dims:
            problems.append(f"{item.code}: dimension {item.get('dimension')!r} unknown")
    answerable = {item.code for item in sections["weaknesses"] + sections["threats"]}
    for item in sections["solutions"] + sections["recommendations"]:
        links = item.get("links") or []
        if not links:
            problems.append(f"{item.code}: needs links to the weaknesses/threats it answers")
        for target in links:
            if target not in answerable:
                problems.append(f"{item.code}: link {target!r} is not a weakness or threat code")
    for item in sections["events"]:
        if not isinstance(item.get("year"), int):
            problems.append(f"{item.code}: year must be an integer")
    return problems


def _load(data_dir: Path) -> Model:
    problems: list[str] = []
    sections: dict[str, tuple[Item, ...]] = {}
    index: dict[str, Item] = {}
    file_versions: dict[str, str] = {}
    sources: dict[str, str] = {}

    def register(item: Item) -> None:
        if item.code in index:
            other = index[item.code]
            problems.append(f"duplicate code {item.code!r} in {item.file}:{item.section} and {other.section}")
        index[item.code] = item
        for child in item.children:
            register(child)

    for file in MODEL_FILES:
        path = data_dir / file
        if not path.exists():
            problems.append(f"{file}: missing")
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        version = doc.get("version")
        if not isinstance(version, str) or not version:
            problems.append(f"{file}: missing version (a quoted string)")
            version = "0"
        file_versions[file] = version
        declared: set[str] = set()
        for source in doc.get("sources") or []:
            name = source.get("file") if isinstance(source, dict) else None
            if not name or not _SEED_NAME.match(name) or name not in SEED_FILES:
                problems.append(f"{file}: source {source!r} is not a seed paper file name")
                continue
            declared.add(name)
            sources.setdefault(name, str(source.get("citation") or ""))
        if not declared:
            problems.append(f"{file}: no sources declared")
        for key, value in doc.items():
            if key in {"version", "sources"}:
                continue
            if not isinstance(value, list):
                problems.append(f"{file}: top-level key {key!r} is not a list of items")
                continue
            if key in sections:
                problems.append(f"{file}: section {key!r} also defined in another file")
            items = tuple(
                _build_item(raw, section=key, file=file, declared=declared, problems=problems) for raw in value
            )
            sections[key] = items
            for item in items:
                register(item)
                for child in item.children:
                    sections.setdefault(child.section, ())
                    sections[child.section] += (child,)

    if not problems:
        problems.extend(_check_references(sections, index))
    if problems:
        raise ModelError(problems)

    version = max(file_versions.values(), key=_version_key)
    return Model(
        version=version,
        file_versions=file_versions,
        checksum=_checksum(data_dir),
        sources=sources,
        sections=sections,
        data_dir=data_dir,
        _index=index,
    )


@functools.lru_cache(maxsize=8)
def _load_cached(data_dir: str, checksum: str) -> Model:
    # The checksum is part of the key so edited data are reloaded without restarting.
    return _load(Path(data_dir))


def load_model(data_dir: str | Path | None = None) -> Model:
    """Load, validate and cache the model.

    Parameters
    ----------
    data_dir
        Directory holding the model YAML files; defaults to the bundled ``model/data``.

    Returns
    -------
    Model
        The validated model; repeated calls return the same object while the files are unchanged.

    Raises
    ------
    ModelError
        When the data break the schema (duplicate or missing codes, missing Persian names,
        uncited items, unknown vocabulary terms, dangling links); every problem is listed.
    """
    path = Path(data_dir).resolve() if data_dir is not None else DATA_DIR
    return _load_cached(str(path), _checksum(path))


def clear_cache() -> None:
    """Forget cached models (tests that rewrite data files call this)."""
    _load_cached.cache_clear()
