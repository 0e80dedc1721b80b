"""Reading sources (CSV, XLSX, JSON) strictly, and reporting what an import did.

Every problem is reported with the file, the row (1-based, the header being row 1, as a spreadsheet
shows it) and the field, so a user can open the file and find it.  A JSON file's problems name the line
and column (a syntax error, too deep a nesting) or the record and its field (:class:`Converted`).

Cells are read as the user meant them (:func:`citydiplomacy.core.cells.restore` removes the quote that
defuses a formula) and the rejects file is written defused (:func:`~citydiplomacy.core.cells.neutralise`):
a ``=HYPERLINK(...)`` in a list never comes back out of the package as a live formula.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from citydiplomacy import settings
from citydiplomacy.core.cells import neutralise_row, restore
from citydiplomacy.core.errors import BadInput

MAX_FIELD_CHARS = 2000


class InputError(BadInput):
    """A problem with an input file, located by file, row and field.

    The message always starts with ``FILE:ROW: FIELD: `` (row and field omitted when they do not apply);
    a workbook's sheet, when one was named, follows the file: ``FILE sheet 'S':ROW: FIELD: ``.
    """

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        row: int | None = None,
        field: str | None = None,
        sheet: str | None = None,
    ):
        self.file = str(file)
        self.row = row
        self.field = field
        self.sheet = sheet
        self.reason = message
        where = self.file + (f" sheet {sheet!r}" if sheet is not None else "") + (f":{row}" if row is not None else "")
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


@dataclass(frozen=True)
class Reject:
    """A row that was not imported, and why."""

    row: int
    field: str | None
    reason: str
    values: dict[str, str]


@dataclass
class Converted:
    """The records of a file that is not a table (a Wikidata SPARQL result), converted to an importer's layout.

    An importer given one reads these rows instead of its file and still names the file itself: in its
    report, its rejects and the provenance of what it writes.  Rows are numbered by record of the file
    (1: its first record), so a reject points at the record to look at.
    """

    #: The source kind recorded in the provenance (``wikidata``).
    kind: str
    #: ``(record number, {layout column: text})`` of the records that could be converted.
    rows: list[tuple[int, dict[str, str]]]
    #: Records refused while converting (not a record at all, a field of the wrong shape).
    rejects: list[Reject] = field(default_factory=list)
    #: Record number -> layout column -> the field of the file the column's text came from.
    fields: dict[int, dict[str, str]] = field(default_factory=dict)
    #: Layout column whose text locates the record in the file (the records' ``source_locator``).
    locator_column: str | None = None

    def field_name(self, row: int, column: str | None) -> str | None:
        """The file's own name of a layout column of record ``row`` (the column itself when it has none)."""
        if column is None:
            return None
        return self.fields.get(row, {}).get(column, column)

    def rename_fields(self, rejects: Iterable[Reject]) -> list[Reject]:
        """``rejects`` with their fields named as the file names them."""
        return [Reject(r.row, self.field_name(r.row, r.field), r.reason, r.values) for r in rejects]


@dataclass
class ImportReport:
    """The summary of one import run (printed by the CLI, ``--json`` for machines)."""

    file: str
    kind: str
    #: The workbook sheet read, when the importer names one.
    sheet: str | None = None
    #: ``{field: column}`` of a ``--map`` (:class:`ColumnMap`): which of the file's columns were read as which field.
    mapping: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    records_created: Counter[str] = field(default_factory=Counter)
    already_present: Counter[str] = field(default_factory=Counter)
    places_resolved: int = 0
    places_subdivision: int = 0
    places_ambiguous: int = 0
    places_unresolved: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_labels: Counter[str] = field(default_factory=Counter)
    rejects_file: str | None = None
    committed: bool = False
    seconds: float = 0.0
    #: Seconds the final transaction held the registry's write lock (other writers wait at most this long).
    write_seconds: float = 0.0
    #: Figures particular to one importer (label -> number), printed with the summary.
    details: dict[str, int | float] = field(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["records_created"] = dict(self.records_created)
        data["already_present"] = dict(self.already_present)
        data["unknown_labels"] = dict(self.unknown_labels)
        data["rows_rejected"] = self.rows_rejected
        data["rejects"] = [asdict(r) for r in self.rejects[:1000]]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class ColumnMap:
    """Which column of a file holds which field of an importer's layout (``--map field=column``).

    A list published with its own header ("Stadt", "Partnerstadt", "Land") is imported without editing it:
    each mapped column is read as its field, the other columns as they are.  A column of the file that
    already bears a mapped field's name is then ignored (the mapping says where that field is).

    Parameters
    ----------
    fields
        ``{field: column}``; columns matched like the header, case-insensitively and spaces trimmed.
    layout
        The fields the importer knows; a mapping to any other is refused.
    """

    fields: Mapping[str, str]
    layout: Sequence[str]

    @classmethod
    def parse(cls, pairs: Sequence[str], layout: Sequence[str]) -> ColumnMap:
        """Read ``field=column`` pairs (the CLI's ``--map``); a malformed or unknown one is refused.

        Raises
        ------
        ValueError
            A pair without ``=``, an empty side, a field the layout does not have, a field or a column
            mapped twice; the message names the pair.
        """
        fields: dict[str, str] = {}
        for pair in pairs:
            name, sep, column = pair.partition("=")
            name, column = name.strip().lower(), column.strip()
            if not sep or not name or not column:
                raise ValueError(f"--map {pair!r}: write it as field=column (e.g. city1=Stadt)")
            if name not in layout:
                raise ValueError(f"--map {pair!r}: no field {name!r}; the layout's fields are {', '.join(layout)}")
            if name in fields:
                raise ValueError(f"--map {pair!r}: field {name!r} is mapped twice")
            if column.lower() in (c.lower() for c in fields.values()):
                raise ValueError(f"--map {pair!r}: column {column!r} is mapped to two fields")
            fields[name] = column
        return cls(fields, tuple(layout))

    def rename(self, path: Path, header: list[str], sheet: str | None) -> list[str]:
        """The header with each mapped column renamed to its field; a mapped column absent is an error."""
        wanted = {column.strip().lower(): name for name, column in self.fields.items()}
        absent = [(name, column) for name, column in self.fields.items() if column.strip().lower() not in header]
        if absent:
            name, column = absent[0]
            raise InputError(
                path,
                f"no column {column!r} for field {name!r}; the header has {', '.join(h for h in header if h)}",
                row=1,
                field=name,
                sheet=sheet,
            )
        renamed = []
        for column in header:
            if column in wanted:
                renamed.append(wanted[column])
            elif column in self.fields:
                renamed.append("")  # superseded by the mapped column: not read
            else:
                renamed.append(column)
        return renamed

    def describe(self) -> str:
        """``city1=Stadt, city2=Partnerstadt``: for the report."""
        return ", ".join(f"{name}={column}" for name, column in self.fields.items())


def column_map(path: Path, pairs: ColumnMap | Sequence[str] | None, layout: Sequence[str]) -> ColumnMap | None:
    """``pairs`` (``field=column`` strings, or a :class:`ColumnMap`) as the map an importer reads ``path`` with.

    Raises
    ------
    InputError
        A malformed pair or an unknown field (the message names the pair and the layout's fields).
    """
    if pairs is None or isinstance(pairs, ColumnMap):
        return pairs
    try:
        return ColumnMap.parse(pairs, layout)
    except ValueError as exc:
        raise InputError(path, str(exc), field="map") from exc


def write_rejects(path: Path, rejects: Sequence[Reject], columns: Sequence[str]) -> None:
    """Write rejected rows to ``path`` as CSV: the row number, the field, the reason, then the row.

    Text cells that a spreadsheet would run as formulas are written defused (the rejects file is meant to
    be opened in one).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(neutralise_row(["row", "field", "reason", *columns]))
        for r in rejects:
            writer.writerow(neutralise_row([r.row, r.field or "", r.reason, *(r.values.get(c, "") for c in columns)]))


def read_rows(
    path: str | Path,
    required: Sequence[str],
    *,
    sheet: str | None = None,
    mapping: ColumnMap | None = None,
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Open a CSV (UTF-8, optional BOM) or XLSX file and check its header.

    Parameters
    ----------
    path
        The file; ``.xlsx`` is read with openpyxl (first sheet), anything else as CSV.
    required
        Columns that must be present (matched case-insensitively, surrounding spaces ignored).
    sheet
        The workbook sheet to read (by name, or by number counting from 1) instead of the first; errors
        then name it.
    mapping
        Which of the file's columns holds which field of the layout (:class:`ColumnMap`), for a file
        whose header is not the layout's; checked against the header before any row is read.

    Returns
    -------
    tuple
        The header (normalised to lower case) and an iterator of ``(row_number, {column: text})``,
        row numbers counting the header as row 1.

    Raises
    ------
    InputError
        Missing file, empty file, wrong encoding, malformed CSV, missing required columns, a missing
        sheet; a workbook past the spreadsheet limits of :mod:`citydiplomacy.settings` (uncompressed size, rows, cells).

    Notes
    -----
    An XLSX sheet is read to its last row whatever ``<dimension>`` it declares.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, required, sheet, mapping)
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(path, "the file is empty (no header row)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            path,
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8",
            row=line,
        ) from exc
    if "\x00" in text:
        raise InputError(path, "contains NUL bytes: not a text CSV file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header_cells = next(reader)
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV header: {exc}", row=1) from exc
    header = _check_header(path, header_cells, required, mapping=mapping)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for cells in reader:
                row_number = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                yield row_number, _cells_to_row(path, row_number, header, cells)
        except csv.Error as exc:
            raise InputError(path, f"malformed CSV: {exc}", row=reader.line_num) from exc

    return header, rows()


def source_rows(
    path: Path,
    required: Sequence[str],
    converted: Converted | None,
    report: ImportReport,
    *,
    sheet: str | None = None,
    mapping: ColumnMap | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows an importer reads: the file's (header checked; ``sheet`` of a workbook), or those of its conversion.

    A conversion's refused records are counted as read and reported as rejects here, once for every importer.
    """
    if converted is None:
        return read_rows(path, required, sheet=sheet, mapping=mapping)[1]
    report.rows_read += len(converted.rejects)
    report.rejects.extend(converted.rejects)
    return iter(converted.rows)


def open_layout(
    path: Path,
    kind: str,
    required: Sequence[str],
    layout: Sequence[str],
    converted: Converted | None,
    *,
    sheet: str | None = None,
    mapping: ColumnMap | Sequence[str] | None = None,
) -> tuple[ImportReport, Iterator[tuple[int, dict[str, str]]]]:
    """An importer's report and rows for a file in one of its layouts, read with ``sheet`` and ``mapping``.

    ``sheet`` counts only for a workbook; ``mapping`` (``field=column`` pairs) is checked against ``layout``
    and the file's header before any row is read, and recorded in the report.
    """
    columns = column_map(path, mapping, layout)
    where = sheet if path.suffix.lower() == ".xlsx" else None
    report = ImportReport(file=str(path), kind=kind, sheet=where, mapping=dict(columns.fields) if columns else {})
    return report, source_rows(path, required, converted, report, sheet=where, mapping=columns)


def _check_header(
    path: Path,
    cells: Sequence[Any],
    required: Sequence[str],
    sheet: str | None = None,
    *,
    mapping: ColumnMap | None = None,
) -> list[str]:
    header = [str(c or "").strip().lower() for c in cells]
    if not any(header):
        raise InputError(path, "the header row is empty", row=1, sheet=sheet)
    if mapping:
        header = mapping.rename(path, header, sheet)
    seen = Counter(header)
    dupes = [c for c, n in seen.items() if n > 1 and c]
    if dupes:
        raise InputError(path, f"duplicate column(s) {', '.join(dupes)}", row=1, sheet=sheet)
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            path,
            f"missing required column(s) {', '.join(missing)}; the header has {', '.join(h for h in header if h)}",
            row=1,
            field=missing[0],
            sheet=sheet,
        )
    return header


def _cells_to_row(path: Path, row_number: int, header: list[str], cells: Sequence[Any]) -> dict[str, str]:
    if len(cells) > len(header) and any(str(c).strip() for c in cells[len(header) :]):
        raise InputError(path, f"{len(cells)} fields where the header has {len(header)}", row=row_number)
    row = {}
    for i, name in enumerate(header):
        # The defusing quote of an exported formula-like text is not part of the value (see core.cells).
        value = "" if i >= len(cells) or cells[i] is None else restore(str(cells[i]).strip())
        if len(value) > MAX_FIELD_CHARS:
            raise InputError(path, f"field longer than {MAX_FIELD_CHARS} characters", row=row_number, field=name)
        row[name] = value
    return row


def _check_xlsx_size(path: Path) -> None:
    """Refuse a workbook whose parts would expand past :data:`settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES`.

    Read from the zip's directory, before anything is inflated: a zip bomb is refused in milliseconds.
    The declared sizes can be trusted as a bound because Python's zipfile (which openpyxl reads through)
    stops at a part's declared size and fails its CRC check if the data goes on.
    """
    limit = settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(path, f"not a readable XLSX workbook: {exc}") from exc
    if total > limit:
        raise InputError(
            path,
            f"the workbook expands to {total:,} bytes, more than the limit of {limit:,} bytes "
            "(SPREADSHEET_MAX_UNCOMPRESSED_BYTES); split it or save it as CSV",
        )


def _read_xlsx(
    path: Path, required: Sequence[str], sheet_name: str | None = None, mapping: ColumnMap | None = None
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    _check_xlsx_size(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raise InputError(path, f"not a readable XLSX workbook: {exc}") from exc
    if sheet_name is None:
        sheet = workbook.worksheets[0]
    elif sheet_name in workbook.sheetnames:
        sheet = workbook[sheet_name]
    elif sheet_name.isdigit() and 1 <= int(sheet_name) <= len(workbook.sheetnames):
        sheet = workbook.worksheets[int(sheet_name) - 1]
    else:
        names = ", ".join(repr(n) for n in workbook.sheetnames)
        raise InputError(path, f"the workbook has no sheet {sheet_name!r} (its sheets: {names})", field="sheet")
    # The sheet's declared <dimension> may be stale (written by a tool that later appended rows): trusting
    # it silently dropped every row past it.  Read what the sheet holds instead.
    sheet.reset_dimensions()
    max_rows, max_cells = settings.SPREADSHEET_MAX_ROWS, settings.SPREADSHEET_MAX_CELLS

    def bounded() -> Iterator[tuple[int, tuple[Any, ...]]]:
        row_number = cells_read = 0
        try:
            for row_number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                if row_number > max_rows:
                    raise InputError(
                        path, f"more than {max_rows:,} rows (SPREADSHEET_MAX_ROWS); split the workbook", row=row_number
                    )
                cells_read += len(cells)
                if cells_read > max_cells:
                    raise InputError(
                        path,
                        f"more than {max_cells:,} cells (SPREADSHEET_MAX_CELLS); split the workbook",
                        row=row_number,
                    )
                yield row_number, cells
        except InputError:
            raise
        except Exception as exc:  # a part broken past its start (bad CRC, cut XML): openpyxl's types vary
            raise InputError(path, f"not a readable XLSX workbook: {exc}", row=row_number + 1) from exc

    values = bounded()
    try:
        _first, header_cells = next(values)
    except StopIteration as exc:
        which = "first sheet" if sheet_name is None else f"sheet {sheet_name!r}"
        raise InputError(path, f"the workbook's {which} is empty (no header row)") from exc
    header = _check_header(path, list(header_cells), required, sheet_name, mapping=mapping)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for row_number, cells in values:
            if not any(c is not None and str(c).strip() for c in cells):
                continue
            yield row_number, _cells_to_row(path, row_number, header, [_xlsx_text(c) for c in cells])

    return header, rows()


def _xlsx_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


#: Every byte but the quote and the brackets: what the nesting check deletes.
_NOT_JSON_SHAPE = bytes(b for b in range(256) if b not in b'"[]{}')
_JSON_STRING = re.compile(rb'"[^"]*"')
_INNERMOST = re.compile(rb"[\[{][\]}]")
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def read_json(path: str | Path) -> Any:
    """Read a JSON file, bounded: its size and its nesting are checked before it is parsed.

    Raises
    ------
    InputError
        Missing or unreadable file; larger than :data:`settings.JSON_MAX_BYTES`; empty; not UTF-8; arrays and
        objects nested deeper than :data:`settings.JSON_MAX_DEPTH` (the message names the line and column);
        not JSON (the line and column of the error).

    Notes
    -----
    Python's json module recurses once per nesting level, so 200,000 nested brackets raise a RecursionError,
    or crash the interpreter under a raised recursion limit: the nesting is measured first, on the text
    with its strings removed (linear, no recursion).
    """
    path = Path(path)
    limit = settings.JSON_MAX_BYTES
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # never more: a file can grow, a device never end
    except FileNotFoundError as exc:
        raise InputError(path, "file not found") from exc
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > limit:
        raise InputError(path, f"larger than the limit of {limit:,} bytes (JSON_MAX_BYTES); split it")
    if not raw.strip():
        raise InputError(path, "the file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            path, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}, line {line}); save it as UTF-8"
        ) from exc
    _check_json_depth(path, raw, text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number; a nesting missed above (never seen)
        raise InputError(path, f"not valid JSON: {exc}") from exc


def _check_json_depth(path: Path, raw: bytes, text: str) -> None:
    """Refuse arrays and objects nested deeper than :data:`settings.JSON_MAX_DEPTH`, naming where.

    Measured on the file's shape: its escapes removed, then every byte but quotes and brackets, then its
    strings (the json module reads them the same way up to its first error, after which it recurses no
    further).  Each pass of a regular expression then removes the innermost pairs of brackets, one level of
    nesting; brackets left after ``JSON_MAX_DEPTH`` passes are too deep a nesting or an unbalanced file, and
    are counted one by one.  All at C speed: a quarter of the time ``json.loads`` then takes.
    """
    limit = settings.JSON_MAX_DEPTH
    shape = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_JSON_SHAPE)
    # Two adjacent quotes open and close a string without brackets, or close one and open the next with
    # nothing between: dropping them leaves every bracket inside or outside the strings as it was.
    brackets = rest = _JSON_STRING.sub(b"", shape.replace(b'""', b""))
    for _ in range(limit):
        if not rest:
            return
        rest = _INNERMOST.sub(b"", rest)
    if not rest:
        return
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            break
    else:
        return  # unbalanced but never too deep: json.loads says where it is broken
    depth = 0
    for match in _JSON_TOKEN.finditer(text):  # again on the text, to say where (a refused file only)
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - text.rfind("\n", 0, match.start())
                raise InputError(
                    path,
                    f"arrays and objects nested deeper than {limit} levels (JSON_MAX_DEPTH) at line {line} "
                    f"column {column}",
                )
        elif token in ("]", "}"):
            depth -= 1
    raise InputError(path, f"arrays and objects nested deeper than {limit} levels (JSON_MAX_DEPTH)")


def parse_float(
    path: str | Path, row: int, field: str, text: str, *, low: float | None = None, high: float | None = None
) -> float | None:
    """Parse an optional number; raise :class:`InputError` naming the cell when it is not one."""
    if not text:
        return None
    try:
        value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
    except ValueError as exc:
        raise InputError(path, f"{text!r} is not a number", row=row, field=field) from exc
    if value != value or (low is not None and value < low) or (high is not None and value > high):
        raise InputError(path, f"{text!r} is outside [{low}, {high}]", row=row, field=field)
    return value


def parse_year(path: str | Path, row: int, field: str, text: str) -> int | None:
    """Parse an optional year (``1994``, ``1994-05-02``, ``1994/95`` -> 1994)."""
    if not text:
        return None
    head = text.strip()[:4]
    if not head.isdigit() or not 1000 <= int(head) <= 2100:
        raise InputError(path, f"{text!r} is not a year", row=row, field=field)
    return int(head)
