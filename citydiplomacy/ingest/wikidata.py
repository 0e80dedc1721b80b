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
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from citydiplomacy.ingest.common import Progress, no_progress
from citydiplomacy.ingest.tabular import ImportReport, InputError

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


def read_bindings(path: Path) -> list[dict[str, Any]]:
    """The ``results.bindings`` of a SPARQL JSON result file.

    Raises
    ------
    InputError
        The file is not JSON, or not a SPARQL SELECT result.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(path, "not valid UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                         row=exc.lineno) from exc  # fmt: skip
    try:
        bindings = data["results"]["bindings"]
    except (KeyError, TypeError) as exc:
        raise InputError(path, "not a SPARQL JSON result (no results.bindings)") from exc
    if not isinstance(bindings, list):
        raise InputError(path, "results.bindings is not a list")
    return bindings


def _value(binding: dict[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        cell = binding.get(name)
        if isinstance(cell, dict) and cell.get("value") is not None:
            return str(cell["value"]).strip()
    return ""


def _entity(binding: dict[str, Any], name: str) -> str:
    uri = _value(binding, (name,))
    return uri.rsplit("/", 1)[-1] if uri else ""


def _point(text: str) -> tuple[str, str]:
    match = _POINT.search(text or "")
    return (match.group(2), match.group(1)) if match else ("", "")


def _label_or_id(binding: dict[str, Any], label_vars: tuple[str, ...], entity_var: str) -> str:
    label = _value(binding, label_vars)
    # The label service falls back to the Q-id when an entity has no label in the requested language.
    return "" if re.fullmatch(r"Q\d+", label or "") else label or ""


def bindings_to_rows(path: Path, kind: str) -> tuple[list[str], list[dict[str, str]]]:
    """Turn bindings into rows of the twinning or membership layout (``kind``: twinning | membership)."""
    bindings = read_bindings(path)
    rows: list[dict[str, str]] = []
    if kind == "twinning":
        columns = ["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2", "source"]
        for b in bindings:
            lat1, lng1 = _point(_value(b, TWINNING_VARS["coord1"]))
            lat2, lng2 = _point(_value(b, TWINNING_VARS["coord2"]))
            rows.append({
                "city1": _label_or_id(b, TWINNING_VARS["city1"], "city"),
                "country1": _value(b, TWINNING_VARS["country1"]), "lat1": lat1, "lng1": lng1,
                "city2": _label_or_id(b, TWINNING_VARS["city2"], "twin"),
                "country2": _value(b, TWINNING_VARS["country2"]), "lat2": lat2, "lng2": lng2,
                "source": f"wikidata {_entity(b, 'city')} P190 {_entity(b, 'twin')}".strip(),
            })  # fmt: skip
    elif kind == "membership":
        columns = ["city", "country", "organization", "role", "since", "until", "lat", "lng", "source"]
        for b in bindings:
            lat, lng = _point(_value(b, MEMBERSHIP_VARS["coord"]))
            rows.append({
                "city": _label_or_id(b, MEMBERSHIP_VARS["city"], "city"),
                "country": _value(b, MEMBERSHIP_VARS["country"]),
                "organization": _value(b, MEMBERSHIP_VARS["organization"]),
                "role": _value(b, MEMBERSHIP_VARS["role"]),
                "since": _value(b, MEMBERSHIP_VARS["since"])[:10], "until": _value(b, MEMBERSHIP_VARS["until"])[:10],
                "lat": lat, "lng": lng,
                "source": f"wikidata {_entity(b, 'city')} P463 {_entity(b, 'org')}".strip(),
            })  # fmt: skip
    else:
        raise ValueError(f"kind must be twinning or membership, not {kind!r}")
    return columns, rows


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

    The bindings are converted to the CSV layout of the matching importer (in a temporary file named
    after the source, so reports and provenance still name it) and imported by it.

    Returns
    -------
    ImportReport
        The importer's report, with ``kind`` ``wikidata-twinning`` or ``wikidata-membership``.
    """
    from citydiplomacy.ingest.memberships import import_memberships
    from citydiplomacy.ingest.twinning import import_twinning

    path = Path(path)
    columns, rows = bindings_to_rows(path, kind)
    if not rows:
        raise InputError(path, "the result has no bindings")
    with tempfile.TemporaryDirectory() as tmp:
        converted = Path(tmp) / f"{path.stem}.csv"
        with converted.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        common = dict(engine=engine, on_error=on_error, rejects_path=rejects_path, actor=actor, progress=progress,
                      origin=path, origin_kind="wikidata", locator_column="source")  # fmt: skip
        importer = import_twinning if kind == "twinning" else import_memberships
        report = importer(converted, **common)  # type: ignore[operator]
    report.file = str(path)
    report.kind = f"wikidata-{kind}"
    return report
