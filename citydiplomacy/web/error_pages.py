"""What a dashboard error page says, in the page's language: a heading, an explanation, the problems it names.

The application's errors carry English details written for developers and the API ("no place 42", "this
needs the editor role; you are viewer", pydantic's "Input should be greater than or equal to 0").  An
English page shows them (the ones it knows, reworded); a Persian page never does: it says the same thing
from :mod:`citydiplomacy.present.i18n` (record kind, number in Persian digits, role, which field and what
is wrong with it), or the status's own explanation when the detail is one it does not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from citydiplomacy.present import i18n
from citydiplomacy.present.fmt import formatter

__all__ = ["ErrorText", "error_text"]

#: pydantic's error types -> the i18n key of what is wrong with the value.
_INVALID = {
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float", "float_parsing", "float_type"), "invalid_number"),
    **dict.fromkeys(("greater_than", "greater_than_equal"), "invalid_too_small"),
    **dict.fromkeys(("less_than", "less_than_equal"), "invalid_too_large"),
    **dict.fromkeys(("string_too_long", "too_long"), "invalid_too_long"),
    **dict.fromkeys(("string_too_short", "too_short"), "invalid_too_short"),
    **dict.fromkeys(("literal_error", "enum"), "invalid_choice"),
    **dict.fromkeys(("json_invalid", "json_type", "model_attributes_type"), "invalid_unreadable"),
    "missing": "invalid_missing",
    "string_pattern_mismatch": "invalid_characters",
}
_NO_RECORD = re.compile(r"^no ([a-z][a-z ]*?) #?(\d+)$")
_NEEDS_ROLE = re.compile(r"^this needs the (\w+) role; you are (\w+)$")
_FORM_EXPIRED = "the form expired"


@dataclass(frozen=True)
class ErrorText:
    """The words of one error page."""

    status_line: str  #: "Error 404" / "خطای ۴۰۴"
    heading: str
    message: str
    items: tuple[str, ...]  #: one line per invalid value (a 422)


def _phrase(status: int) -> str | None:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None


def _has(key: str) -> bool:
    return key in i18n.MESSAGES


def _known_detail(detail: str, lang: str) -> str | None:
    """The detail reworded in ``lang`` when it is one of the application's known sentences."""
    fmt = formatter(lang)
    if (m := _NO_RECORD.match(detail)) and _has(m.group(1)):
        what = i18n.translate(m.group(1), lang)
        what = what if lang == "fa" else what.lower()
        return fmt.t("error_no_record").format(what=what, number=fmt.digits(m.group(2)))
    if m := _NEEDS_ROLE.match(detail):
        return fmt.t("error_needs_role").format(role=fmt.term(m.group(1)), current=fmt.term(m.group(2)))
    if detail.startswith(_FORM_EXPIRED):
        return fmt.t("error_form_expired")
    return None


def _field_label(loc: list[Any], lang: str) -> str:
    names = [part for part in loc if isinstance(part, str)]
    name = names[-1] if names else "body"
    for key in (f"field_{name}", name):
        if _has(key):
            return i18n.translate(key, lang)
    return i18n.translate("a_value", lang)


def _problem_line(problem: Any, lang: str) -> str:
    if not isinstance(problem, dict):
        return str(problem) if lang != "fa" else i18n.translate("invalid_value", lang)
    loc = list(problem.get("loc") or [])
    if lang != "fa":
        # English: the server's own words, which say the limits ("greater than or equal to 0").
        return f"{'.'.join(str(p) for p in loc)}: {problem.get('msg', '')}"
    what = _INVALID.get(str(problem.get("type", "")), "invalid_value")
    return f"{_field_label(loc, lang)}: {i18n.translate(what, lang)}"


def error_text(status: int, detail: Any, message_key: str | None, lang: str) -> ErrorText:
    """The words of the error page for ``status`` in ``lang``.

    Parameters
    ----------
    status
        HTTP status of the answer.
    detail
        The error's detail: an English sentence, a list of validation problems
        (``{"loc", "msg", "type"}``), or None.
    message_key
        An i18n key that explains the error better than its status does (e.g. ``stale``), or None.
    lang
        Page language (``en`` or ``fa``).

    Returns
    -------
    ErrorText
        Heading, explanation and the problems; on a Persian page every word comes from
        :mod:`citydiplomacy.present.i18n` and every digit is Persian.
    """
    fmt = formatter(lang)
    if isinstance(detail, str) and detail == _phrase(status):
        detail = None  # Starlette's own "Not Found": the status's explanation says more
    title_key = f"error_title_{status}" if _has(f"error_title_{status}") else f"error_title_{status // 100 * 100}"
    heading = fmt.t(title_key) if _has(title_key) else fmt.t("error")
    default_key = f"error_{status}" if _has(f"error_{status}") else f"error_{status // 100 * 100}"
    default = fmt.t(default_key) if _has(default_key) else fmt.t("error")
    known = _known_detail(detail, lang) if isinstance(detail, str) else None
    if known:
        message = known
    elif message_key:
        message = fmt.t(message_key)
    elif isinstance(detail, str) and detail and lang != "fa":
        message = detail
    else:
        message = default
    items = tuple(_problem_line(p, lang) for p in detail) if isinstance(detail, list) else ()
    if items and not message_key:
        message = default
    status_line = fmt.t("error_status").format(status=fmt.digits(status))
    return ErrorText(status_line, heading, message, items)
