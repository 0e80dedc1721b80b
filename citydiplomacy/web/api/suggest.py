"""What the forms' pickers offer as a person types: places (the registry's, then the gazetteer's, any script)
and organisations (name, Persian name or acronym).  Small JSON answers for ``static/app.js``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from citydiplomacy.present import fmt, i18n
from citydiplomacy.store import lookup
from citydiplomacy.store.inputs import NO_CONTROL_PATTERN
from citydiplomacy.web import auth, data
from citydiplomacy.web.api.schemas import problems
from citydiplomacy.web.deps import Viewer, get_db

__all__ = ["router"]

router = APIRouter(tags=["read"])
DB = Annotated[Session, Depends(get_db)]
Text = Annotated[str, Query(min_length=1, max_length=200, pattern=NO_CONTROL_PATTERN, description="What was typed")]
Limit = Annotated[int, Query(ge=1, le=30)]


class Suggestion(BaseModel):
    """One choice of a picker: a record of the registry (``id``) or a gazetteer place (``gazetteer_id``)."""

    id: int | None
    gazetteer_id: str | None = None
    #: What a form sends to create the place from the gazetteer (:func:`citydiplomacy.store.lookup.gazetteer_ref`):
    #: a GeoNames id, or ``csc:<id>`` for a countries-states-cities entry; None for a registry record.
    gazetteer_ref: str | None = None
    name: str
    name_fa: str | None = None
    matched_name: str | None = None
    country_code: str | None = None
    country: str | None = None
    region: str | None = None
    population: int | None = None
    lat: float | None = None
    lng: float | None = None
    acronym: str | None = None
    label: str


class Suggestions(BaseModel):
    items: list[Suggestion]


def _lang(request: Request) -> str:
    return getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)


@router.get("/suggest/places", response_model=Suggestions, responses=problems(401, 422, 503))
def suggest_places(request: Request, q: Text, db: DB, limit: Limit = 10, user: auth.CurrentUser = Viewer) -> Any:
    """Places whose name, in any script the registry or the gazetteer knows, matches ``q``: the registry's first
    (``id``), then the gazetteer's not in it yet (``id`` null, ``gazetteer_id``: a form that sends it creates
    the place).  Each with its region, country, population and the name that matched; ``label`` in the page's
    language."""
    from citydiplomacy.web.forms import describe_place

    lang = _lang(request)
    items = []
    for s in lookup.suggest_places(db, q, limit)[: limit * 2]:
        label = describe_place(s, lang)
        if s["population"]:  # namesakes of one country without a known region differ by their size
            label += f" · {i18n.translate('population', lang)} {fmt.number(s['population'], lang)}"
        ref = lookup.gazetteer_ref(s) if s["id"] is None and s.get("gazetteer_id") else None
        items.append({**s, "country": i18n.country_name(s["country_code"], lang) or None, "label": label,
                      "gazetteer_ref": ref})  # fmt: skip
    return {"items": items}


@router.get("/suggest/organisations", response_model=Suggestions, responses=problems(401, 422, 503))
def suggest_organisations(request: Request, q: Text, db: DB, limit: Limit = 10, user: auth.CurrentUser = Viewer) -> Any:
    """Organisations whose name, Persian name or acronym contains ``q``; ``label`` in the page's language."""
    lang = _lang(request)
    found = data.page(db, data.organisations_query(q.strip()), limit, 0)["items"]
    items = []
    for o in found:
        name = (o["name_fa"] if lang == "fa" else None) or o["name"]
        acronym = o.get("acronym")
        matched = acronym if acronym and q.strip().lower() in acronym.lower() else None
        label = f"{name} ({acronym})" if acronym and acronym != name else name
        items.append({"id": o["id"], "name": o["name"], "name_fa": o["name_fa"], "acronym": acronym,
                      "matched_name": matched, "label": label})  # fmt: skip
    return {"items": items}


@router.get("/suggest/{kind}", response_model=Suggestions, responses=problems(401, 404, 422, 503))
def suggest_office_records(
    request: Request, kind: str, q: Text, db: DB, limit: Limit = 10, user: auth.CurrentUser = Viewer
) -> Any:
    """Agreements (by title or a party's name), activities (by title) or memberships (by place or organisation)
    matching ``q`` (or its ``#id``), newest first; ``label`` in the page's language names title, parties, year."""
    from fastapi import HTTPException

    from citydiplomacy.web.forms import record_label

    if kind not in lookup.OFFICE_RECORD_KINDS:
        raise HTTPException(status_code=404, detail=f"no suggestions for {kind!r}")
    lang = _lang(request)
    items = []
    for obj in lookup.find_office_records(db, kind, q, limit):
        label = record_label(db, kind, obj, lang)
        items.append({"id": obj.id, "name": label, "name_fa": label, "label": label})
    return {"items": items}
