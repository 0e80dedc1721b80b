"""Spreadsheet cells: text a spreadsheet program would run as a formula is written defused.

A CSV or XLSX cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)`` becomes a live link, DDE
payloads run commands: OWASP's "CSV injection").  Every CSV/XLSX the package writes passes its cells
through :func:`neutralise`, which prefixes such text with a single quote, the spreadsheets' own "this is
text" mark; numbers stay numbers.

The stored value is the text the user meant, without the mark: :func:`restore`, applied to every cell
an importer reads, removes one quote that :func:`neutralise` would have added (as a spreadsheet does
when the user types ``'=1+2``).  So ``restore(neutralise(text)) == text`` for every text, a registry
export re-imports unchanged, and a re-export is never live.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["FORMULA_TRIGGERS", "is_live", "neutralise", "neutralise_row", "restore"]

#: First characters that make a spreadsheet program read a text cell as a formula (OWASP).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")

# A plain decimal number ("-3.5", "+1e6") computes nothing: kept readable rather than quoted.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def is_live(text: str) -> bool:
    """Return True when ``text`` needs the quote of :func:`neutralise`.

    Text already starting with quotes counts when what follows them does, so that :func:`restore`,
    which removes one quote, gives back exactly the text that was written.
    """
    body = text.lstrip("'")
    return bool(body) and body[0] in FORMULA_TRIGGERS and not _NUMBER.fullmatch(body)


def neutralise(value: Any) -> Any:
    """Return a cell value safe to write to a CSV or XLSX file.

    Parameters
    ----------
    value
        Any cell value.  Only text is changed; numbers (negative ones too), dates, booleans and None
        are returned as they are.

    Returns
    -------
    Any
        ``"'" + value`` for text a spreadsheet would read as a formula (see :func:`is_live`), else
        ``value``.
    """
    if isinstance(value, str) and is_live(value):
        return "'" + value
    return value


def neutralise_row(values: Any) -> list[Any]:
    """:func:`neutralise` applied to every value of a row (any iterable)."""
    return [neutralise(v) for v in values]


def restore(text: str) -> str:
    """Undo :func:`neutralise` on a cell read from a CSV or XLSX file (one defusing quote removed).

    Text without the mark is returned unchanged, whatever it holds: ``=SUM(A1)`` typed into a list stays
    ``=SUM(A1)`` in the registry (and is written defused again by every export).
    """
    if text.startswith("'") and is_live(text[1:]):
        return text[1:]
    return text
