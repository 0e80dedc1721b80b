"""Import Wikidata SPARQL JSON results for twinning (P190) and membership (P463), loaded from a file.

Run a query on the Wikidata Query Service, download the result as JSON
(``application/sparql-results+json``) and import the file.  Expected variables (labels from
``SERVICE wikibase:label``)::

    # twinning: SELECT ?city ?cityLabel ?countryLabel ?coord ?twin ?twinLabel ?twinCountryLabel ?twinCoord
    #           WHERE { ?city wdt:P190 ?twin . ... }
    # membership: SELECT ?city ?cityLabel ?countryLabel ?coord ?org ?orgLabel ?start ?end ?roleLabel
    #           WHERE { ?city p:P463 ?st . ?st ps:P463 ?org . OPTIONAL { ?st pq:P580 ?start } ... }

Coordinates are WKT literals (``Point(lng lat)``).  Each binding becomes a row of the twinning or
membership layout and goes through the same importer (same validation, resolution, transaction and
idempotence); the source locator is the binding's entity ids (``Q1 P190 Q2``).

The file is checked as the other importers check theirs:

* a file that is not a SPARQL SELECT result (not JSON, too big or too deeply nested, its top level, its
  ``results`` or its ``results.bindings`` of the wrong type) is refused whole;
* a binding that is not an object, or whose field is not an RDF term (an object with a string ``value``
  and a ``type`` of ``uri``, ``literal``, ``typed-literal`` or ``bnode``), is a rejected row, as is a
  binding the importer refuses (an unknown country): with ``on_error="abort"`` nothing is written, with
  ``"skip"`` the others are imported and the rejects written to the rejects file.

Rows are numbered by binding: row 1 is ``results.bindings[0]``.  A reject names the binding's field
(``twinCountryLabel``), not the column of the layout it became.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from citydiplomacy.ingest.common import Progress, no_progress
from citydiplomacy.ingest.tabular import Converted, ImportReport, InputError, Reject, read_json

_POINT = re.compile(r"Point\(\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\)", re.IGNORECASE)

TWINNING_VARS = {
    "city1": ("cityLabel", "itemLabel"),
    "country1": ("countryLabel", "cityCountryLabel"),
    "coord1": ("coord", "cityCoord"),
    "city2": ("twinLabel", "partnerLabel"),
    "country2": ("twinCountryLabel", "partnerCountryLabel"),
    "coord2": ("twinCoord", "partnerCoord"),
}
MEMBERSHIP_VARS = {
    "city": ("cityLabel", "itemLabel"),
    "country": ("countryLabel", "cityCountryLabel"),
    "coord": ("coord", "cityCoord"),
    "organization": ("orgLabel", "organizationLabel", "organisationLabel"),
    "role": ("roleLabel", "role"),
    "since": ("start", "since"),
    "until": ("end", "until"),
}

#: The columns of the layout each kind of result becomes (``source``: the binding's entity ids).
COLUMNS = {
    "twinning": ["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2", "source"],
    "membership": ["city", "country", "organization", "role", "since", "until", "lat", "lng", "source"],
}

#: RDF term types of the SPARQL 1.1 JSON results format (``typed-literal``: its 2008 draft, still written).
TERM_TYPES = ("uri", "literal", "typed-literal", "bnode")


def _kind_of(value: object) -> str:
    """How JSON calls the type of a parsed value (for messages)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def read_bindings(path: Path) -> list[Any]:
    """The ``results.bindings`` of a SPARQL JSON result file (the bindings themselves are not checked).

    Raises
    ------
    InputError
        The file is not JSON (or too big, or too deeply nested: :func:`~citydiplomacy.ingest.tabular.read_json`),
        or not a SPARQL SELECT result: its top level, ``head``, ``results`` or ``results.bindings`` missing
        or of the wrong type.
    """
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(path, f"not a SPARQL JSON result (no results.bindings): the top level is "
                               f"{_kind_of(data)}, not an object")  # fmt: skip
    head = data.get("head")
    if head is not None and not isinstance(head, dict):
        raise InputError(path, f"head is {_kind_of(head)}, not an object", field="head")
    variables = head.get("vars") if isinstance(head, dict) else None
    if variables is not None and not (isinstance(variables, list) and all(isinstance(v, str) for v in variables)):
        raise InputError(path, "head.vars is not an array of variable names", field="head.vars")
    if "results" not in data:
        what = "an ASK result (boolean)" if "boolean" in data else "no results.bindings"
        raise InputError(path, f"not a SPARQL JSON result ({what})", field="results")
    results = data["results"]
    if not isinstance(results, dict):
        raise InputError(path, f"not a SPARQL JSON result (no results.bindings): results is {_kind_of(results)}, "
                               "not an object", field="results")  # fmt: skip
    if "bindings" not in results:
        raise InputError(path, "not a SPARQL JSON result (no results.bindings)", field="results.bindings")
    bindings = results["bindings"]
    if not isinstance(bindings, list):
        raise InputError(path, f"results.bindings is {_kind_of(bindings)}, not a list", field="results.bindings")
    return bindings


def _term_problem(cell: object) -> str | None:
    """Why ``cell`` is not an RDF term of the SPARQL JSON format (None: it is one)."""
    if not isinstance(cell, dict):
        return f'is {_kind_of(cell)}, not an RDF term object ({{"type": ..., "value": ...}})'
    if "value" not in cell:
        return "has no value"
    if not isinstance(cell["value"], str):
        return f"has a value that is {_kind_of(cell['value'])}, not a string"
    kind = cell.get("type")
    if kind not in TERM_TYPES:
        shown = repr(kind) if isinstance(kind, str) else _kind_of(kind)
        return f"has type {shown[:60]}, not one of {', '.join(TERM_TYPES)}"
    for extra in ("xml:lang", "datatype"):
        if extra in cell and not isinstance(cell[extra], str):
            return f"has a {extra} that is {_kind_of(cell[extra])}, not a string"
    return None


def _check_binding(path: Path, number: int, binding: object) -> dict[str, dict[str, str]]:
    """``binding`` (row ``number``) as a checked mapping of variables to RDF terms.

    Raises
    ------
    InputError
        The binding is not an object, or one of its fields is not an RDF term; row and field say which.
    """
    where = f"results.bindings[{number - 1}]"
    if not isinstance(binding, dict):
        raise InputError(path, f"{where} is {_kind_of(binding)}, not an object", row=number)
    for name, cell in binding.items():
        problem = _term_problem(cell)
        if problem:
            raise InputError(path, f"{where}.{name} {problem}", row=number, field=name)
    return binding


def _value(binding: dict[str, Any], names: tuple[str, ...]) -> tuple[str, str | None]:
    """The text of the first of ``names`` the binding has, and that variable (None: none of them)."""
    for name in names:
        cell = binding.get(name)
        if cell is not None:
            return cell["value"].strip(), name
    return "", None


def _entity(binding: dict[str, Any], name: str) -> str:
    uri, _ = _value(binding, (name,))
    return uri.rsplit("/", 1)[-1] if uri else ""


def _point(text: str) -> tuple[str, str]:
    match = _POINT.search(text or "")
    return (match.group(2), match.group(1)) if match else ("", "")


def _label(binding: dict[str, Any], label_vars: tuple[str, ...]) -> tuple[str, str | None]:
    label, name = _value(binding, label_vars)
    # The label service falls back to the Q-id when an entity has no label in the requested language.
    return ("" if re.fullmatch(r"Q\d+", label) else label), name


def _row(binding: dict[str, Any], kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """A checked binding as a row of the ``kind`` layout, and the variable each column was read from."""
    row: dict[str, str] = {}
    fields: dict[str, str] = {}

    def put(column: str, text: str, name: str | None) -> None:
        row[column] = text
        if name:
            fields[column] = name

    if kind == "twinning":
        for side, var in (("1", "city1"), ("2", "city2")):
            put(f"city{side}", *_label(binding, TWINNING_VARS[var]))
            put(f"country{side}", *_value(binding, TWINNING_VARS[f"country{side}"]))
            coord, name = _value(binding, TWINNING_VARS[f"coord{side}"])
            lat, lng = _point(coord)
            put(f"lat{side}", lat, name)
            put(f"lng{side}", lng, name)
        row["source"] = f"wikidata {_entity(binding, 'city')} P190 {_entity(binding, 'twin')}".strip()
    else:
        put("city", *_label(binding, MEMBERSHIP_VARS["city"]))
        for column in ("country", "organization", "role"):
            put(column, *_value(binding, MEMBERSHIP_VARS[column]))
        for column in ("since", "until"):
            text, name = _value(binding, MEMBERSHIP_VARS[column])
            put(column, text[:10], name)  # xsd:dateTime: the date
        coord, name = _value(binding, MEMBERSHIP_VARS["coord"])
        lat, lng = _point(coord)
        put("lat", lat, name)
        put("lng", lng, name)
        row["source"] = f"wikidata {_entity(binding, 'city')} P463 {_entity(binding, 'org')}".strip()
    return row, fields


def convert_bindings(path: str | Path, kind: str) -> Converted:
    """Check a SPARQL JSON result and convert its bindings to rows of the twinning or membership layout.

    Parameters
    ----------
    path
        The result file.
    kind
        ``twinning`` or ``membership``.

    Returns
    -------
    Converted
        The rows (numbered by binding from 1), and the bindings refused as rows (not an object, a field that
        is not an RDF term) with their number and field.

    Raises
    ------
    InputError
        The file is not a SPARQL SELECT result (see :func:`read_bindings`), or has no bindings.
    """
    if kind not in COLUMNS:
        raise ValueError(f"kind must be twinning or membership, not {kind!r}")
    path = Path(path)
    bindings = read_bindings(path)
    if not bindings:
        raise InputError(path, "the result has no bindings", field="results.bindings")
    converted = Converted(kind="wikidata", rows=[], locator_column="source")
    for number, binding in enumerate(bindings, start=1):
        try:
            checked = _check_binding(path, number, binding)
        except InputError as exc:
            converted.rejects.append(Reject(number, exc.field, exc.reason, {}))
            continue
        row, fields = _row(checked, kind)
        converted.rows.append((number, row))
        converted.fields[number] = fields
    return converted


def bindings_to_rows(path: Path, kind: str) -> tuple[list[str], list[dict[str, str]]]:
    """Turn bindings into rows of the twinning or membership layout (``kind``: twinning | membership).

    Raises
    ------
    InputError
        As :func:`convert_bindings`, and for the first binding it refuses as a row.
    """
    converted = convert_bindings(path, kind)
    if converted.rejects:
        first = converted.rejects[0]
        raise InputError(path, first.reason, row=first.row, field=first.field)
    return list(COLUMNS[kind]), [row for _number, row in converted.rows]


def import_wikidata(
    path: str | Path,
    kind: str,
    *,
    engine: Engine | None = None,
    on_error: str = "abort",
    rejects_path: str | Path | None = None,
    actor: str | None = None,
    progress: Progress = no_progress,
) -> ImportReport:
    """Import a SPARQL JSON result file of twinning (P190) or membership (P463) statements.

    The bindings are converted to the layout of the matching importer (:func:`convert_bindings`) and imported
    by it; its report, rejects and provenance name ``path``, rows numbered by binding.

    Returns
    -------
    ImportReport
        The importer's report, with ``kind`` ``wikidata-twinning`` or ``wikidata-membership``.

    Raises
    ------
    InputError
        The file is not a SPARQL SELECT result with bindings; nothing was written.
    ImportAborted
        Bindings were refused (malformed, or rejected by the importer) with ``on_error="abort"``; nothing was
        written.
    DatabaseUnavailable
        As the importers.
    """
    from citydiplomacy.ingest.memberships import import_memberships
    from citydiplomacy.ingest.twinning import import_twinning

    path = Path(path)
    converted = convert_bindings(path, kind)
    common = dict(engine=engine, on_error=on_error, rejects_path=rejects_path, actor=actor, progress=progress,
                  converted=converted)  # fmt: skip
    importer = import_twinning if kind == "twinning" else import_memberships
    report = importer(path, **common)  # type: ignore[operator]
    report.kind = f"wikidata-{kind}"
    return report
