"""The dashboard's council report of a city: ``/cities/{id}/council?year=YEAR`` (linked from the city profile).

Thin over :mod:`citydiplomacy.report.council`: the page collects the year's figures with
:func:`~citydiplomacy.report.council.collect_council` (the service the CLI's ``citydip report council`` calls) and
embeds the report's own sections (:func:`~citydiplomacy.report.council.render_body`), so the page and the
printed report say the same.  Without ``year`` it shows the last complete year of the page's calendar (Solar Hijri
in Persian, Gregorian in English); a year out of range answers 422: the form, and why, in the page's language.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from citydiplomacy.present import i18n
from citydiplomacy.report.council import (
    CALENDARS,
    CouncilReportError,
    collect_council,
    default_period,
    period_of,
    render_body,
)
from citydiplomacy.store import queries
from citydiplomacy.store.inputs import MAX_ID
from citydiplomacy.store.schema import Place
from citydiplomacy.web import auth
from citydiplomacy.web.deps import Viewer, get_db

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]


@router.get("/cities/{place_id}/council")
def council_page(
    request: Request,
    place_id: int,
    db: DB,
    year: Annotated[int | None, Query(ge=1, le=9999)] = None,
    calendar: Annotated[str, Query(max_length=20)] = "auto",
    user: auth.CurrentUser = Viewer,
) -> Response:
    from citydiplomacy.web.pages import render

    lang = getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)
    place = db.get(Place, place_id) if 1 <= place_id <= MAX_ID else None
    if place is None:
        raise HTTPException(status_code=404, detail=f"no city {place_id}")
    today = date.today()
    try:
        period = period_of(year, calendar, lang=lang, today=today) if year else default_period(lang, today)
    except CouncilReportError as exc:
        # The page again, its form kept, with the reason in the page's language (the error page would only
        # say "invalid" in Persian).
        shown = default_period(lang, today)
        return render(
            request, "council.html", 422, report=None, body=None, period=shown, place=queries.place_dict(place),
            calendars=CALENDARS, calendar=calendar if calendar in CALENDARS else "auto", year_given=year,
            previous_year=None, next_year=None, error=str(exc),
        )  # fmt: skip
    report = collect_council(db, place, period, today)
    following = period.following()
    return render(
        request, "council.html", report=report, body=render_body(report, lang, link=True), period=period,
        place=report["place"], calendars=CALENDARS, calendar=period.calendar, year_given=period.year,
        previous_year=period.year - 1, next_year=following.year if following.start <= today else None, error=None,
    )  # fmt: skip
