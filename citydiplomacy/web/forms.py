"""The dashboard's record forms, as a person uses them: places and organisations picked by name, dates in the
form's calendar, problems said in the form's language.

* A place field (``place_id``, ``partner_place_id``, ...) is a text box: the picker (``static/app.js``) offers
  the registry's places and the gazetteer's (:func:`citydiplomacy.store.lookup.suggest_places`, any script)
  and fills the hidden id (a registry place) or gazetteer id (a place new to the registry).  Without
  JavaScript the typed name is resolved on the server (:func:`citydiplomacy.store.records.place_for_name`);
  several namesakes are offered as choices.  A gazetteer place is created by
  :func:`citydiplomacy.store.records.gazetteer_place` when the form is saved.  Organisations likewise, by
  name, Persian name or acronym.
* Dates: Solar Hijri on a Persian form, ISO on an English one (:func:`citydiplomacy.present.fmt.parse_date`),
  stored Gregorian and shown in both calendars.
* Every problem names the field's label and says what is wrong in the page's language.
"""

from __future__ import annotations

import types
import typing
from datetime import date
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from citydiplomacy.core.errors import AmbiguousPlace, PlaceNotFound
from citydiplomacy.present import fmt, i18n
from citydiplomacy.store import lookup
from citydiplomacy.store.records import FieldProblem, gazetteer_place, place_for_name
from citydiplomacy.store.schema import Organisation, Place
from citydiplomacy.web.error_pages import _INVALID

__all__ = [
    "PLACE_FIELDS",
    "ORGANISATION_FIELDS",
    "RECORD_FIELDS",
    "record_label",
    "form_fields",
    "field_label",
    "read_form",
    "translated_errors",
]

#: Fields naming a place or an organisation by id: the form shows a name picker for them.
PLACE_FIELDS = ("place_a_id", "place_b_id", "place_id", "partner_place_id", "seat_place_id")
ORGANISATION_FIELDS = ("organisation_id", "partner_organisation_id")
#: Fields naming one of the office's records by id -> the kind the picker offers (by title or parties' names).
RECORD_FIELDS = {
    "relation_id": "agreements",
    "activity_id": "activities",
    "membership_id": "memberships",
    "person_id": "people",
}
#: Gregorian years a Persian office may type in Solar Hijri by habit (a founding year may be old: not checked).
_YEAR_FIELDS = ("signed_year", "ended_year", "since_year", "until_year", "year")
_SUFFIXES = ("__q", "__gaz", "__shown", "__choice")


def field_label(name: str, lang: str, kind_label: str | None = None) -> str:
    """A field's label in ``lang``: the record kind's own (``person:unit``), else its i18n key, else
    ``field_<name>``, else its name with spaces."""
    for key in (f"{kind_label}:{name}" if kind_label else None, name, f"field_{name}"):
        if key is None:
            continue
        if key in i18n.MESSAGES:
            return i18n.translate(key, lang)
    return name.replace("_", " ")


def _field_kind(annotation: Any) -> tuple[str, list[str]]:
    """Map a pydantic annotation to an HTML input kind and its options."""
    if get_origin(annotation) is Annotated:  # the inputs' text and date types (validators, documented patterns)
        return _field_kind(get_args(annotation)[0])
    args = [a for a in get_args(annotation) if a is not type(None)]
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _field_kind(args[0])
    if origin is Literal:
        return "select", [str(a) for a in get_args(annotation)]
    if origin is list:
        inner = get_args(annotation)[0]
        if get_origin(inner) is Literal:
            return "multi", [str(a) for a in get_args(inner)]
        return "list", []
    if annotation is bool:
        return "checkbox", []
    if annotation in (int, float):
        return "number", []
    if annotation is date:
        return "date", []
    return "text", []


def _shown_place(db: Session, place_id: Any, lang: str) -> tuple[str, str]:
    """The name a picker shows for a place id, and the line telling it apart (region, country)."""
    place = db.get(Place, int(place_id)) if str(place_id).isdigit() else None
    if place is None:
        return "", ""
    name = (place.name_fa if lang == "fa" else None) or place.name
    return name, describe_place(lookup.candidate_dict(place), lang)


def describe_place(candidate: dict[str, Any], lang: str) -> str:
    """``Isfahan — Iran`` / ``Springfield — Missouri, United States``: region and country in ``lang``."""
    where = ", ".join(x for x in (candidate.get("region"), i18n.country_name(candidate.get("country_code"), lang)) if x)
    name = (candidate.get("name_fa") if lang == "fa" else None) or candidate["name"]
    return f"{name} — {where}" if where else name


def _shown_organisation(db: Session, organisation_id: Any, lang: str) -> tuple[str, str]:
    org = db.get(Organisation, int(organisation_id)) if str(organisation_id).isdigit() else None
    if org is None:
        return "", ""
    name = (org.name_fa if lang == "fa" else None) or org.name
    return name, f"{name} ({org.acronym})" if org.acronym and org.acronym != name else name


def _name(obj: Any, lang: str) -> str:
    if obj is None:
        return ""
    return (getattr(obj, "name_fa", None) if lang == "fa" else None) or obj.name


def record_label(db: Session, kind: str, obj: Any, lang: str) -> str:
    """How a picker names an agreement, an activity or a membership in ``lang``: its title, its parties, its year
    (``Sister cities · Tehran – Minsk · 2006``); the number last, to tell namesakes apart."""
    f = fmt.formatter(lang)
    dash = " – "
    if kind == "agreements":
        title = (obj.title_fa if lang == "fa" else None) or obj.title or f.term(obj.kind)
        parties = dash.join(x for x in (_name(obj.place_a, lang), _name(obj.place_b, lang),
                                        _name(obj.organisation, lang)) if x)  # fmt: skip
        year = obj.signed_on.year if obj.signed_on else obj.signed_year
        parts = [title, parties, fmt.format_year(year, lang) if year else ""]
    elif kind == "activities":
        title = (obj.title_fa if lang == "fa" else None) or obj.title
        year = obj.happened_on.year if obj.happened_on else obj.year
        parts = [title, f.term(obj.kind), fmt.format_year(year, lang) if year else ""]
    elif kind == "people":
        parts = [_name(obj, lang), (obj.title_fa if lang == "fa" else None) or obj.title or "", obj.unit or ""]
    else:
        parts = [_name(obj.place, lang) + dash + _name(obj.organisation, lang), f.term(obj.role)]
    return " · ".join(p for p in parts if p) + f" (#{f.digits(obj.id)})"


def _shown_record(db: Session, kind: str, record_id: Any, lang: str) -> tuple[str, str]:
    from citydiplomacy.store.records import RECORD_KINDS

    obj = db.get(RECORD_KINDS[kind].model, int(record_id)) if str(record_id).isdigit() else None
    if obj is None:
        return "", ""
    label = record_label(db, kind, obj, lang)
    return label, label


def form_fields(
    db: Session,
    model: type[BaseModel],
    values: dict[str, Any],
    errors: dict[str, str],
    lang: str,
    choices: dict[str, list[dict[str, Any]]] | None = None,
    *,
    kind_label: str | None = None,
) -> list[dict[str, Any]]:
    """The fields of a record form: name, label, input kind, options, current value, error, required flag; a
    picker's shown name; a date's text in the form's calendar and its reading in both calendars."""
    fields = []
    # The parties first (who), then what the record says, provenance last (where it came from).
    names = sorted(model.model_fields, key=lambda n: 2 if n in ("source", "source_locator") else
                   0 if n in PLACE_FIELDS or n in ORGANISATION_FIELDS else 1)  # fmt: skip
    for name in names:
        info = model.model_fields[name]
        kind, options = _field_kind(info.annotation)
        if name == "version":
            kind = "hidden"
        max_len = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)
        if kind == "text" and max_len and max_len > 1000:
            kind = "textarea"
        default = None if info.is_required() or info.default_factory else info.default
        value = values.get(name, default)
        if isinstance(value, list) and kind == "list":
            value = ", ".join(map(str, value))
        field: dict[str, Any] = {
            "name": name,
            "label": field_label(name, lang, kind_label),
            "kind": kind,
            "options": options,
            "value": value,
            "error": errors.get(name),
            "required": info.is_required() or default is not None,
            "step": "any" if info.annotation in (float, float | None) else "1",
            "choices": (choices or {}).get(name, []),
            # A kind's own words for its options where the catalogue has them (``document_kind_minutes``).
            "labels": {o: i18n.translate(f"{kind_label}_{name}_{o}", lang) for o in options
                       if f"{kind_label}_{name}_{o}" in i18n.MESSAGES},
        }  # fmt: skip
        if name in PLACE_FIELDS or name in ORGANISATION_FIELDS:
            field["kind"] = "place" if name in PLACE_FIELDS else "organisation"
            shown, line = (_shown_place if name in PLACE_FIELDS else _shown_organisation)(db, value or "", lang)
            field["typed"] = values.get(f"{name}__q", shown)
            field["shown"] = shown
            field["line"] = line
            field["gaz"] = values.get(f"{name}__gaz", "")
            field["suggest"] = "places" if name in PLACE_FIELDS else "organisations"
        elif name in RECORD_FIELDS:
            shown, line = _shown_record(db, RECORD_FIELDS[name], value or "", lang)
            field.update(kind="record", typed=values.get(f"{name}__q", shown), shown=shown, line=line, gaz="",
                         suggest=RECORD_FIELDS[name])  # fmt: skip
        elif kind == "date":
            typed = values.get(name)
            if isinstance(typed, date) or (isinstance(typed, str) and _is_iso(typed) and name not in errors):
                field["value"] = fmt.date_input_text(typed, lang)
                field["both"] = fmt.format_date(typed, lang)
            field["placeholder"] = "۱۴۰۳/۰۲/۱۵" if lang == "fa" else "2024-05-04"
        fields.append(field)
    return fields


def _is_iso(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _find_organisation(db: Session, text: str) -> list[Organisation]:
    """Organisations whose name, Persian name or acronym is ``text`` (case ignored), else contains it."""
    lowered = text.lower()
    exact = list(
        db.scalars(
            select(Organisation).where(
                or_(
                    func.lower(Organisation.name) == lowered,
                    func.lower(Organisation.acronym) == lowered,
                    Organisation.name_fa == text,
                )  # fmt: skip
            )
        )
    )
    if exact:
        return exact
    return list(
        db.scalars(
            select(Organisation)
            .where(
                or_(
                    Organisation.name.icontains(text, autoescape=True),
                    Organisation.name_fa.icontains(text, autoescape=True),
                    Organisation.acronym.icontains(text, autoescape=True),
                )  # fmt: skip
            )
            .limit(10)
        )
    )


def _read_reference(
    db: Session, name: str, values: dict[str, Any], lang: str, actor: str, choices: dict[str, list[dict[str, Any]]]
) -> str | None:
    """Settle a picker field in ``values`` (its id) from what the person did; the problem's words, or None."""
    asked = f"{name}__q" in values  # the form has the name box (a body of ids only keeps its ids)
    typed = str(values.pop(f"{name}__q", "") or "").strip()
    gaz = str(values.pop(f"{name}__gaz", "") or "").strip()
    shown = str(values.pop(f"{name}__shown", "") or "").strip()
    choice = str(values.pop(f"{name}__choice", "") or "").strip()
    current = str(values.get(name, "") or "").strip()
    is_place = name in PLACE_FIELDS
    if choice:  # one of the namesakes offered after an ambiguous name
        kind, _, value = choice.partition(":")
        current, gaz, asked = (value, "", False) if kind == "id" else ("", value, False)
    if gaz and not current and is_place:  # a gazetteer place picked: it joins the registry
        try:
            place = gazetteer_place(db, gaz, actor, name_fa=typed if _persian(typed) else None)
        except FieldProblem:
            return i18n.translate("pick_unknown", lang)
        values[name] = str(place.id)
        return None
    if not asked or typed == shown:  # picked (the picker wrote the name it shows), or left as it was
        values[name] = current
        return None
    if not typed:  # emptied
        values[name] = ""
        return None
    if name in RECORD_FIELDS:
        return _read_record(db, name, typed, values, lang, choices)
    if is_place:
        try:
            values[name] = str(place_for_name(db, typed, actor).id)
        except AmbiguousPlace as exc:
            choices[name] = [{"value": f"id:{c['id']}" if c.get("id") else f"gaz:{lookup.gazetteer_ref(c)}",
                              "text": describe_place(c, lang)} for c in exc.candidates[:10]]  # fmt: skip
            values[name] = ""
            return i18n.translate("pick_ambiguous", lang).format(name=typed)
        except PlaceNotFound:
            values[name] = ""
            return i18n.translate("pick_not_found", lang).format(name=typed)
        return None
    found = _find_organisation(db, typed)
    if len(found) == 1:
        values[name] = str(found[0].id)
        return None
    values[name] = ""
    if found:
        choices[name] = [{"value": f"id:{o.id}", "text": _shown_organisation(db, o.id, lang)[1]} for o in found]
        return i18n.translate("pick_ambiguous", lang).format(name=typed)
    return i18n.translate("pick_not_found_org", lang).format(name=typed)


def _read_record(
    db: Session, name: str, typed: str, values: dict[str, Any], lang: str, choices: dict[str, list[dict[str, Any]]]
) -> str | None:
    """A typed agreement, activity or membership (title, a party's name, ``#id``) into its id; several found are
    offered as choices."""
    kind = RECORD_FIELDS[name]
    found = lookup.find_office_records(db, kind, typed, limit=11)
    values[name] = ""
    if len(found) == 1:
        values[name] = str(found[0].id)
        return None
    if found:
        choices[name] = [{"value": f"id:{o.id}", "text": record_label(db, kind, o, lang)} for o in found[:10]]
        return i18n.translate("pick_ambiguous_record", lang).format(name=typed)
    return i18n.translate("pick_not_found_record", lang).format(name=typed)


def _persian(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def read_form(
    db: Session, model: type[BaseModel], values: dict[str, Any], lang: str, actor: str
) -> tuple[dict[str, str], dict[str, list[dict[str, Any]]]]:
    """Turn what a person typed into what the kind's body reads, in place: picked or typed names into ids,
    dates of the form's calendar into ISO dates, Persian digits into ASCII ones.

    Returns the problems found (field -> words in ``lang``) and the choices to offer for ambiguous names.
    """
    errors: dict[str, str] = {}
    choices: dict[str, list[dict[str, Any]]] = {}
    for name in model.model_fields:
        if name in PLACE_FIELDS or name in ORGANISATION_FIELDS or name in RECORD_FIELDS:
            problem = _read_reference(db, name, values, lang, actor, choices)
            if problem:
                errors[name] = f"{field_label(name, lang)}: {problem}"
            continue
        value = values.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        kind, _ = _field_kind(model.model_fields[name].annotation)
        if kind == "date":
            try:
                values[name] = fmt.parse_date(value, lang).isoformat()
            except fmt.DateInputError as exc:
                errors[name] = f"{field_label(name, lang)}: {exc.message}"
        elif kind == "number":
            values[name] = value.translate(fmt.ASCII_DIGITS).replace("٫", ".").replace("٬", "")
            if name in _YEAR_FIELDS and values[name].isdigit() and int(values[name]) < fmt.GREGORIAN_MIN_YEAR:
                year = int(values[name])
                errors[name] = f"{field_label(name, lang)}: " + i18n.translate("year_looks_solar_hijri", lang).format(
                    typed=fmt.digits(year, lang), meant=fmt.digits(f"{year + 621}/{str(year + 622)[-2:]}", lang)
                )
    for key in [k for k in values if k.endswith(_SUFFIXES)]:
        values.pop(key)
    return errors, choices


def translated_errors(exc: ValidationError | FieldProblem, lang: str) -> dict[str, str]:
    """A form's problems, field -> ``<label>: <what is wrong>`` in ``lang`` (``__all__`` for the form's own)."""
    if isinstance(exc, FieldProblem):
        return {exc.field: f"{field_label(exc.field, lang)}: {i18n.translate('invalid_reference', lang)}"}
    out: dict[str, str] = {}
    for e in exc.errors():
        if e["type"] == "cross_field" or not e["loc"]:
            message = str(e["msg"]).removeprefix("Value error, ")
            named, _, rest = message.partition(": ")
            fields = [f.strip() for f in named.split(",")] if rest else []
            words = rest if lang != "fa" else i18n.translate("invalid_together", lang)
            labels = ("، " if lang == "fa" else ", ").join(field_label(f, lang) for f in fields)
            fallback = message if lang != "fa" else i18n.translate("invalid_value", lang)
            text = f"{labels}: {words}" if fields else fallback
            for f in fields or ["__all__"]:
                out.setdefault(f, text)
            continue
        key = str(e["loc"][0])
        what = _INVALID.get(str(e["type"]))
        if what:
            words = i18n.translate(what, lang)
        elif lang == "fa":
            words = i18n.translate("invalid_value", lang)
        else:
            words = str(e["msg"]).removeprefix("Value error, ")
        out.setdefault(key, f"{field_label(key, lang)}: {words}")
    return out
