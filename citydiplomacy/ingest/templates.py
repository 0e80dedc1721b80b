"""Empty CSV/XLSX templates for offices that keep their own lists, matching the importers' layouts.

XLSX templates carry drop-down lists (data validation) for the controlled columns, a frozen header,
and a second sheet explaining every column, so a list typed by hand imports cleanly.  Their cells pass
through :func:`citydiplomacy.core.cells.neutralise`, as every CSV/XLSX the package writes.
"""

from __future__ import annotations

import csv
from pathlib import Path

from citydiplomacy.core.cells import neutralise_row
from citydiplomacy.model.vocab import DIMENSIONS, MEMBERSHIP_ROLES, RELATION_KINDS, RELATION_STATUSES

TEMPLATES: dict[str, list[tuple[str, str, list[str] | None]]] = {
    "relations": [
        ("city1", "your city (required)", None),
        ("country1", "its country: name or ISO code (required)", None),
        ("lat1", "latitude in degrees, optional", None),
        ("lng1", "longitude in degrees, optional", None),
        ("city2", "partner city (required)", None),
        ("country2", "partner's country (required)", None),
        ("lat2", "latitude, optional", None),
        ("lng2", "longitude, optional", None),
        ("kind", "relation kind", list(RELATION_KINDS)),
        ("status", "status", list(RELATION_STATUSES)),
        ("signed_year", "year signed, e.g. 1994", None),
        ("ended_year", "year ended, if it did", None),
        ("title", "title of the agreement", None),
        ("dimensions", f"';'-separated: {', '.join(DIMENSIONS)}", None),
        ("source", "where this fact comes from (document, URL)", None),
    ],
    "memberships": [
        ("city", "member city (required)", None),
        ("country", "its country: name or ISO code (required)", None),
        ("organization", "organisation name or acronym (required)", None),
        ("role", "role; free text is mapped, these are the model's roles", list(MEMBERSHIP_ROLES)),
        ("since", "year joined", None),
        ("until", "year left, if it did", None),
        ("lat", "latitude, optional", None),
        ("lng", "longitude, optional", None),
        ("source", "where this fact comes from", None),
    ],
}
TEMPLATES["twinning"] = TEMPLATES["relations"][:8]


def write_template(kind: str, out: str | Path, fmt: str | None = None) -> Path:
    """Write the empty template ``kind`` (twinning | relations | memberships) to ``out``.

    Parameters
    ----------
    kind
        Which importer layout.
    out
        Output file; its suffix chooses the format unless ``fmt`` (``csv`` | ``xlsx``) is given.

    Returns
    -------
    Path
        The written file.
    """
    if kind not in TEMPLATES:
        raise ValueError(f"unknown template {kind!r}; one of {', '.join(sorted(TEMPLATES))}")
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".") or "csv").lower()
    columns = TEMPLATES[kind]
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(neutralise_row(c for c, _, _ in columns))
        return out
    if fmt != "xlsx":
        raise ValueError(f"unknown format {fmt!r}; csv or xlsx")
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = kind
    sheet.append(neutralise_row(c for c, _, _ in columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for i, (_name, _help, choices) in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=i).column_letter
        sheet.column_dimensions[letter].width = 18
        if choices:
            rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
            rule.add(f"{letter}2:{letter}5000")
            sheet.add_data_validation(rule)
    notes = book.create_sheet("columns")
    notes.append(["column", "meaning", "allowed values"])
    for name, help_text, choices in columns:
        notes.append(neutralise_row([name, help_text, ", ".join(choices or [])]))
    book.save(out)
    return out
