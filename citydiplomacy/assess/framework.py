"""The index framework: a tree of indicators (leaves) and aggregates (pillars, sub-indices, the index).

A framework CSV has one row per node::

    code,name,parent,weight,direction,denominator[,literature_rank][,goal_low,goal_high]

* The root has an empty ``parent``; every other ``parent`` must be a code of the file.
* Leaves (codes that are nobody's parent) are **indicators** and must be columns of the data; nodes with
  children are **aggregates**.  Leaves may sit at different depths.
* ``weight`` is a *relative* weight among siblings: within each parent the weights are normalised to sum
  to one (so ``1,1,2`` means ``0.25,0.25,0.5``).  Blank means ``1``.  Negative weights are rejected, and so
  is a parent whose children's weights are all zero (there would be nothing to normalise).
* ``direction`` is ``1`` (more is better, default) or ``-1`` (less is better; ``+``/``-`` also accepted).
  It is only meaningful for indicators.
* ``denominator`` names a column of the denominators table (e.g. ``population``); only for indicators.
* ``literature_rank`` (optional; 1 = most important among siblings) feeds rank-order centroid weights.
* ``goal_low``/``goal_high`` (optional) are the goalposts of the goalposts normalisation, in data units.

**COINr's iMeta layout** is read as well (COINr >= 1.0, ``new_coin()``; see
https://github.com/bluefoxr/COINr, ``R/new_coin.R`` and the ``ASEM_iMeta`` data set): columns ``iCode``,
``iName``, ``Parent``, ``Weight``, ``Direction``, ``Denominator``, ``Level`` and ``Type``.  Rows of type
``Indicator``/``Aggregate`` are the tree; rows of type ``Denominator``, ``Group`` and ``Other`` are not
nodes but name data columns (denominators, unit groups, pass-through metadata), kept in
:attr:`Framework.column_types` so the data table needs no ``--meta`` declarations.  ``NA`` (R's missing
value, as written by ``write.csv``) is a blank there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from citydiplomacy.assess.errors import IndexInputError

#: Cell contents read as "missing" everywhere in the index engine.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "..", "-"})

#: COINr iMeta column -> framework column (COINr >= 1.0, ``R/new_coin.R``).
COINR_META_COLUMNS = {
    "iCode": "code",
    "iName": "name",
    "Parent": "parent",
    "Weight": "weight",
    "Direction": "direction",
    "Denominator": "denominator",
    "Type": "type",
    "Level": "level",
}
#: COINr iMeta ``Type`` values: tree nodes, and the data columns that are not indicators.
COINR_NODE_TYPES = ("Indicator", "Aggregate")
COINR_COLUMN_TYPES = ("Denominator", "Group", "Other")


def read_csv_text(path: str | Path) -> pd.DataFrame:
    """Read a CSV with every cell as text (stripped), so that parsing errors can name their row.

    Parameters
    ----------
    path
        CSV file with a header line.

    Returns
    -------
    pandas.DataFrame
        One row per data row, string cells; a missing file raises :class:`IndexInputError`.
    """
    path = Path(path)
    if not path.is_file():
        raise IndexInputError("file not found", source=str(path))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise IndexInputError(f"cannot read CSV: {exc}", source=str(path)) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda col: col.str.strip())


def parse_number(value: object, *, source: str, row: int, code: str, what: str = "value") -> float:
    """Parse one cell as a finite float; missing tokens give NaN, anything else raises.

    Returns
    -------
    float
        The number, or ``nan`` for a missing cell.
    """
    if value is None:
        return float("nan")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
        if np.isinf(number):
            raise IndexInputError(f"{what} is infinite", source=source, row=row, code=code)
        return number
    text = str(value).strip()
    if text.lower() in MISSING_TOKENS:
        return float("nan")
    try:
        number = float(text)
    except ValueError:
        raise IndexInputError(f"{what} {text!r} is not a number", source=source, row=row, code=code) from None
    if not np.isfinite(number):
        raise IndexInputError(f"{what} {text!r} is not finite", source=source, row=row, code=code)
    return number


@dataclass(frozen=True)
class Node:
    """One framework node.

    Attributes
    ----------
    code, name, parent
        Identity; ``parent`` is ``None`` for the root.
    weight
        Raw relative weight among siblings (not yet normalised).
    direction
        ``+1`` or ``-1``.
    denominator
        Column of the denominators table, or ``None``.
    literature_rank
        Importance rank among siblings (1 = most important), or ``None``.
    goal_low, goal_high
        Goalposts in data units, or ``None``.
    row
        1-based row of the framework file (for messages).
    """

    code: str
    name: str
    parent: str | None
    weight: float
    direction: int
    denominator: str | None
    literature_rank: float | None
    goal_low: float | None
    goal_high: float | None
    row: int


@dataclass(frozen=True)
class Framework:
    """A validated framework tree. Build it with :meth:`from_frame` or :meth:`from_csv`.

    Attributes
    ----------
    nodes
        Nodes by code, in file order.
    source
        File name used in error messages.
    column_types
        Data columns that are not nodes, by COINr type (``Denominator``, ``Group``, ``Other``), from the
        ``Type`` column of a COINr iMeta table (empty for the native layout).
    """

    nodes: dict[str, Node]
    source: str = "<framework>"
    column_types: dict[str, str] = field(default_factory=dict)
    _children: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_csv(cls, path: str | Path) -> Framework:
        """Read and validate a framework CSV (see the module docstring for its columns)."""
        return cls.from_frame(read_csv_text(path), source=str(path))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str = "<framework>") -> Framework:
        """Validate a framework table and build the tree.

        Raises
        ------
        IndexInputError
            Missing columns, duplicate/empty codes, orphans (unknown parent), no root or several roots,
            cycles, non-numeric/negative weights, all-zero sibling weights, bad directions, a denominator
            or direction on an aggregate.
        """
        frame, column_types, node_rows = _from_coinr(frame, source)
        for column in ("code", "parent"):
            if column not in frame.columns:
                raise IndexInputError(f"missing column {column!r}", source=source, row=0)
        nodes: dict[str, Node] = {}
        for position, record in zip(node_rows, frame.to_dict("records"), strict=True):
            row = position + 1
            code = _text(record.get("code"))
            if not code:
                raise IndexInputError("empty code", source=source, row=row)
            if code in nodes:
                raise IndexInputError("duplicate code", source=source, row=row, code=code)
            weight = parse_number(record.get("weight"), source=source, row=row, code=code, what="weight")
            if np.isnan(weight):
                weight = 1.0
            if weight < 0:
                raise IndexInputError(f"negative weight {weight:g}", source=source, row=row, code=code)
            direction = _direction(record.get("direction"), source=source, row=row, code=code)
            rank = parse_number(
                record.get("literature_rank", record.get("rank")),
                source=source,
                row=row,
                code=code,
                what="literature_rank",
            )
            low = parse_number(record.get("goal_low"), source=source, row=row, code=code, what="goal_low")
            high = parse_number(record.get("goal_high"), source=source, row=row, code=code, what="goal_high")
            if np.isnan(low) != np.isnan(high):
                raise IndexInputError("give both goal_low and goal_high or neither", source=source, row=row, code=code)
            if not np.isnan(low) and low == high:
                raise IndexInputError("goal_low equals goal_high", source=source, row=row, code=code)
            nodes[code] = Node(
                code=code,
                name=_text(record.get("name")) or code,
                parent=_text(record.get("parent")) or None,
                weight=weight,
                direction=direction,
                denominator=_text(record.get("denominator")) or None,
                literature_rank=None if np.isnan(rank) else rank,
                goal_low=None if np.isnan(low) else low,
                goal_high=None if np.isnan(high) else high,
                row=row,
            )
        if not nodes:
            raise IndexInputError("framework has no rows", source=source)
        children: dict[str, list[str]] = {code: [] for code in nodes}
        roots = []
        for node in nodes.values():
            if node.parent is None:
                roots.append(node.code)
            elif node.parent not in nodes:
                raise IndexInputError(
                    f"orphan: parent {node.parent!r} is not a code of the framework",
                    source=source,
                    row=node.row,
                    code=node.code,
                )
            else:
                children[node.parent].append(node.code)
        if not roots:
            raise IndexInputError("no root (a row with an empty parent); the tree must have exactly one", source=source)
        if len(roots) > 1:
            second = nodes[roots[1]]
            raise IndexInputError(
                f"several roots ({', '.join(roots)}); the tree must have exactly one",
                source=source,
                row=second.row,
                code=second.code,
            )
        _check_cycles(nodes, source)
        if not children[roots[0]]:
            raise IndexInputError("the root has no children", source=source, row=nodes[roots[0]].row, code=roots[0])
        for parent, kids in children.items():
            if not kids:
                continue
            node = nodes[parent]
            if node.denominator is not None:
                raise IndexInputError(
                    "an aggregate cannot have a denominator", source=source, row=node.row, code=parent
                )
            if sum(nodes[k].weight for k in kids) <= 0:
                first = nodes[kids[0]]
                raise IndexInputError(
                    f"all weights of the children of {parent!r} are zero", source=source, row=first.row, code=first.code
                )
        for column in column_types:
            if column in nodes:
                raise IndexInputError(
                    f"{column_types[column]} column is also a node of the tree", source=source, code=column
                )
        return cls(
            nodes=nodes,
            source=source,
            column_types=column_types,
            _children={k: tuple(v) for k, v in children.items()},
        )

    # ------------------------------------------------------------------ structure
    @property
    def root(self) -> str:
        """Code of the root node."""
        return next(code for code, node in self.nodes.items() if node.parent is None)

    def children(self, code: str) -> tuple[str, ...]:
        """Codes of the children of ``code`` in file order (empty for an indicator)."""
        return self._children.get(code, ())

    @property
    def indicators(self) -> list[str]:
        """Leaf codes (indicators), in file order."""
        return [code for code in self.nodes if not self._children.get(code)]

    @property
    def aggregates(self) -> list[str]:
        """Aggregate codes in bottom-up order: every aggregate comes after all of its descendants."""
        order: list[str] = []

        def visit(code: str) -> None:
            for child in self.children(code):
                visit(child)
            if self.children(code):
                order.append(code)

        visit(self.root)
        return order

    def depth(self, code: str) -> int:
        """Number of edges from the root to ``code`` (root is 0)."""
        depth = 0
        while (parent := self.nodes[code].parent) is not None:
            code, depth = parent, depth + 1
        return depth

    def relative_weights(self) -> dict[str, float]:
        """Framework weights normalised to sum to one within each parent (root gets 1)."""
        weights = {self.root: 1.0}
        for parent in self.aggregates:
            kids = self.children(parent)
            total = sum(self.nodes[k].weight for k in kids)
            for kid in kids:
                weights[kid] = self.nodes[kid].weight / total
        return weights

    def with_weights(self, weights: dict[str, float]) -> Framework:
        """A copy with other raw weights (codes absent from ``weights`` keep theirs); re-validated."""
        frame = self.to_frame()
        frame["weight"] = [weights.get(code, w) for code, w in zip(frame["code"], frame["weight"], strict=True)]
        return dataclasses.replace(Framework.from_frame(frame, source=self.source), column_types=self.column_types)

    def to_frame(self) -> pd.DataFrame:
        """The framework as a table with the CSV columns (plus ``literature_rank`` and goalposts)."""
        return pd.DataFrame(
            [
                {
                    "code": n.code,
                    "name": n.name,
                    "parent": n.parent or "",
                    "weight": n.weight,
                    "direction": n.direction,
                    "denominator": n.denominator or "",
                    "literature_rank": n.literature_rank,
                    "goal_low": n.goal_low,
                    "goal_high": n.goal_high,
                }
                for n in self.nodes.values()
            ]
        )

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())


def _from_coinr(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, dict[str, str], list[int]]:
    """Translate a COINr iMeta table into framework columns; native tables pass through.

    Returns
    -------
    tuple
        The node rows with framework column names, ``{data column: COINr type}`` of the non-node rows,
        and the 0-based position of each node row in the file (so messages name the right row).
    """
    if "iCode" not in frame.columns:
        return frame, {}, list(range(len(frame)))
    renamed = frame.rename(columns=COINR_META_COLUMNS)
    for column in ("parent", "denominator"):  # R writes its missing value as the text NA
        if column in renamed.columns:
            renamed[column] = ["" if _text(v).lower() in MISSING_TOKENS else _text(v) for v in renamed[column].tolist()]
    if "type" not in renamed.columns:
        return renamed, {}, list(range(len(renamed)))
    column_types: dict[str, str] = {}
    keep: list[int] = []
    for position, (code, kind) in enumerate(zip(renamed["code"].tolist(), renamed["type"].tolist(), strict=True)):
        kind = _text(kind)
        if kind in COINR_NODE_TYPES:
            keep.append(position)
        elif kind in COINR_COLUMN_TYPES:
            column_types[_text(code)] = kind
        else:
            raise IndexInputError(
                f"Type {kind!r} must be one of {', '.join(COINR_NODE_TYPES + COINR_COLUMN_TYPES)}",
                source=source,
                row=position + 1,
                code=_text(code) or None,
            )
    return renamed.iloc[keep].reset_index(drop=True), column_types, keep


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _direction(value: object, *, source: str, row: int, code: str) -> int:
    text = _text(value).lower()
    if text in ("", "1", "+1", "+", "1.0", "pos", "positive"):
        return 1
    if text in ("-1", "-", "-1.0", "neg", "negative"):
        return -1
    raise IndexInputError(f"direction {text!r} must be 1 or -1", source=source, row=row, code=code)


def _check_cycles(nodes: dict[str, Node], source: str) -> None:
    """Every node must reach the root by following parents; otherwise it sits on (or under) a cycle."""
    reaches_root: set[str] = set()
    for start in nodes:
        path: list[str] = []
        seen: set[str] = set()
        code: str | None = start
        while code is not None and code not in reaches_root:
            if code in seen:
                node = nodes[code]
                cycle = path[path.index(code) :] + [code]
                raise IndexInputError(
                    f"cycle in the framework: {' -> '.join(cycle)}", source=source, row=node.row, code=code
                )
            seen.add(code)
            path.append(code)
            code = nodes[code].parent
        reaches_root.update(path)
