"""Which place a name means: the one place lookup of the registry, used by the CLI, the API, the dashboard,
the reports, the assessment, the network commands and the strategy tools alike.

A name matches a place when it equals the place's name, its Persian name, or any name the registry keeps
for it (every script the gazetteer knows, and every spelling a source used), ignoring case, accents and
the Arabic/Persian letter variants (:func:`citydiplomacy.core.text.fold`).  A country narrows the search:
an ISO 3166-1 code (``IR``, ``irn``) or a country name in any form the gazetteer knows (``Iran``,
``ایران``).  ``#123`` means the place with id 123.

When several places match, one is chosen only when it clearly is the place people mean: it is the only
one, or at least :data:`~citydiplomacy.settings.PLACE_LOOKUP_DOMINANCE` times as populous as the next.
Otherwise :class:`~citydiplomacy.core.errors.AmbiguousPlace` lists the candidates (id, name, country,
region, population) so the user can add a country or give the id.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.errors import AmbiguousPlace, BadInput, PlaceNotFound
from citydiplomacy.core.text import fold
from citydiplomacy.store.schema import Place, PlaceName, PlaceRedirect

__all__ = ["candidate_dict", "country_of", "find_place", "find_places", "get_place_by_id", "region_name"]

_ID = re.compile(r"^#\s*(\d{1,18})$")


class UnknownCountry(BadInput):
    """A country given to the lookup that no table recognises."""


@cache
def country_of(text: str) -> str:
    """The ISO 3166-1 alpha-2 code of a country given as a code or a name in any form the gazetteer knows.

    Raises
    ------
    UnknownCountry
        Nothing recognises ``text``.
    """
    import pycountry

    raw = text.strip()
    if len(raw) in (2, 3) and raw.isalpha():
        found = pycountry.countries.get(alpha_2=raw.upper()) if len(raw) == 2 else None
        found = found or (pycountry.countries.get(alpha_3=raw.upper()) if len(raw) == 3 else None)
        if found is not None:
            return found.alpha_2
        if raw.upper() == "XK":  # Kosovo: user-assigned, used by GeoNames
            return "XK"
    from citydiplomacy.geo.gazetteer import country_code

    code = country_code(raw)
    if code is None:
        raise UnknownCountry(f"unknown country {text!r}: give an ISO code (IR) or a country name (Iran)")
    return code


@cache
def region_name(country_code: str | None, admin1_code: str | None) -> str | None:
    """The name of a place's first-level region, where ISO 3166-2 knows its GeoNames admin-1 code (``US``
    ``MA`` -> Massachusetts); else the admin-1 code itself, so namesakes can still be told apart."""
    if not country_code or not admin1_code:
        return None
    import pycountry

    sub = pycountry.subdivisions.get(code=f"{country_code.upper()}-{admin1_code.upper()}")
    return sub.name if sub is not None else admin1_code


def candidate_dict(place: Place) -> dict[str, Any]:
    """What a person needs to tell namesakes apart: id, name, country, region, population, coordinates."""
    return {
        "id": place.id,
        "name": place.name,
        "name_fa": place.name_fa,
        "country_code": place.country_code,
        "region": region_name(place.country_code, place.admin1_code),
        "population": place.population,
        "lat": place.lat,
        "lng": place.lng,
        "status": place.status,
    }


def get_place_by_id(session: Session, place_id: int) -> Place:
    """The place with ``place_id``, following redirects left by merges.

    Raises
    ------
    PlaceNotFound
        No place has (or had) that id.
    """
    place = session.get(Place, place_id)
    if place is None:
        redirect = session.get(PlaceRedirect, place_id)
        place = session.get(Place, redirect.place_id) if redirect is not None else None
    if place is None:
        raise PlaceNotFound(f"no place with id {place_id}")
    return place


def find_places(session: Session, name: str, country: str | None = None, limit: int = 50) -> list[Place]:
    """Every place called ``name`` (in ``country``), the most populous first.

    Raises
    ------
    UnknownCountry
        ``country`` is given but not recognised.
    """
    text = " ".join(name.split())
    if not text:
        return []
    cc = country_of(country) if country else None
    lowered = text.lower()
    by_name = select(PlaceName.place_id).where(func.lower(PlaceName.name) == lowered)
    query = select(Place).where(or_(func.lower(Place.name) == lowered, Place.name_fa == text, Place.id.in_(by_name)))
    if cc:
        query = query.where(Place.country_code == cc)
    order = (Place.population.desc().nulls_last(), Place.id)
    found = list(session.scalars(query.order_by(*order).limit(limit)))
    if found:
        return found
    # Accents, case and letter variants ignored: compare folded keys over the names sharing a first letter
    # (a handful), as SQL cannot fold Unicode the same way on SQLite and PostgreSQL.
    key = fold(text)
    first = text[:1].lower()
    names = session.execute(
        select(PlaceName.place_id, PlaceName.name).where(func.lower(PlaceName.name).like(f"{first}%"))
    ).all()
    ids = {pid for pid, n in names if fold(n) == key}
    own = session.execute(select(Place.id, Place.name).where(func.lower(Place.name).like(f"{first}%"))).all()
    ids |= {pid for pid, n in own if fold(n) == key}
    if not ids:
        return []
    query = select(Place).where(Place.id.in_(ids))
    if cc:
        query = query.where(Place.country_code == cc)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def find_place(session: Session, name: str, country: str | None = None) -> Place:
    """The one place a name (and country) means.

    Parameters
    ----------
    session
        An open registry session.
    name
        A place name in any script the registry knows, or ``#<id>``.
    country
        An ISO 3166-1 code or a country name (optional).

    Raises
    ------
    PlaceNotFound
        Nothing matches.
    AmbiguousPlace
        Several places match and none dominates; ``candidates`` lists them.
    UnknownCountry
        ``country`` is not recognised.
    """
    by_id = _ID.match(name.strip())
    if by_id:
        place = get_place_by_id(session, int(by_id.group(1)))
        if country and place.country_code != country_of(country):
            raise PlaceNotFound(f"place #{place.id} ({place.name}) is not in {country}")
        return place
    found = find_places(session, name, country)
    where = f" in {country}" if country else ""
    if not found:
        raise PlaceNotFound(f"no place called {name!r}{where} in the registry")
    top = found[0].population or 0
    if len(found) == 1 or (top > 0 and top >= settings.PLACE_LOOKUP_DOMINANCE * (found[1].population or 0)):
        return found[0]
    countries = sorted({p.country_code or "?" for p in found})
    hint = "add a country (--country)" if len(countries) > 1 and not country else "give the place's id as #<id>"
    shown = ", ".join(
        f"#{c['id']} {c['name']} ({', '.join(x for x in (c['region'], c['country_code']) if x)}"
        + (f", pop. {c['population']:,}" if c["population"] else "")
        + ")"
        for c in map(candidate_dict, found[:8])
    )
    more = f" and {len(found) - 8} more" if len(found) > 8 else ""
    raise AmbiguousPlace(
        f"{name!r}{where} matches {len(found)} places: {shown}{more}; {hint}",
        [candidate_dict(p) for p in found],
    )
