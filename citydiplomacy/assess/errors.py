"""Errors of the composite-index engine.

Every problem with the inputs of an index (data, framework, denominators, AHP matrix) is raised as an
:class:`IndexInputError` whose message names the file, the row and the indicator/aggregate code, so a
user can open the file and fix the cell.  Rows are counted like a spreadsheet user would: ``row 1`` is the
first data row after the header, and ``line`` is the physical line of the CSV (``row + 1``).
"""

from __future__ import annotations

from citydiplomacy.core.errors import BadInput


class IndexInputError(BadInput):
    """Bad input to the index pipeline.

    Parameters
    ----------
    problem
        What is wrong, in plain words.
    source
        File name (or ``"<data>"``-style label for in-memory frames).
    row
        1-based data row (first row after the header is 1); ``0`` means the header, ``None`` means the
        problem concerns a whole column (e.g. zero variance).
    code
        The indicator / aggregate / unit code concerned, when there is one.
    """

    def __init__(self, problem: str, *, source: str, row: int | None = None, code: str | None = None):
        self.problem = problem
        self.source = source
        self.row = row
        self.code = code
        if row is None:
            where = "all rows"
        elif row == 0:
            where = "header (line 1)"
        else:
            where = f"row {row} (line {row + 1})"
        code_part = f", code {code!r}" if code is not None else ""
        super().__init__(f"{source}: {where}{code_part}: {problem}")
