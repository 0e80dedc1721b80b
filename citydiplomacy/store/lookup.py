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

from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.errors import AmbiguousPlace, BadInput, NotFound, PlaceNotFound
from citydiplomacy.core.text import fold
from citydiplomacy.geo.names import persian_name
from citydiplomacy.store.schema import (
    Activity,
    Membership,
    Organisation,
    Person,
    Place,
    PlaceName,
    PlaceRedirect,
    Relation,
)

__all__ = [
    "MATCH_KINDS",
    "candidate_dict",
    "country_of",
    "find_organisation",
    "find_place",
    "find_places",
    "find_office_records",
    "get_place_by_id",
    "matched_names",
    "place_search",
    "region_name",
    "suggest_places",
]

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


#: Countries whose GeoNames admin-1 codes are ISO 3166-2 codes (GeoNames' readme; for GB its four nations,
#: ENG SCT WLS NIR, are ISO's too).  Elsewhere they are mostly
#: FIPS 10-4 codes, which ISO reuses for other units: Tehran's "26" is ISO's IR-26, Qazvin; France's "11",
#: Ile-de-France, is ISO's FR-11, Aude).  Only there can ISO name the region.
ISO_ADMIN1_COUNTRIES = frozenset({"US", "CH", "BE", "ME", "GB"})


@cache
def region_name(country_code: str | None, admin1_code: str | None) -> str | None:
    """The name of a place's first-level region where its GeoNames admin-1 code is an ISO 3166-2 code
    (``US`` ``MA`` -> Massachusetts); else None: a bare code ("26") tells a person nothing, and another
    region's name would mislead."""
    if not country_code or not admin1_code or country_code.upper() not in ISO_ADMIN1_COUNTRIES:
        return None
    import pycountry

    sub = pycountry.subdivisions.get(code=f"{country_code.upper()}-{admin1_code.upper()}")
    return sub.name if sub is not None else None


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
        select(PlaceName.place_id, PlaceName.name).where(
            func.lower(PlaceName.name).like(f"{_like_escape(first)}%", escape="\\")
        )
    ).all()
    ids = {pid for pid, n in names if fold(n) == key}
    own = session.execute(
        select(Place.id, Place.name).where(func.lower(Place.name).like(f"{_like_escape(first)}%", escape="\\"))
    ).all()
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


#: How a search text matched a place's best name, best first (``match`` of :func:`place_search`): the whole
#: name, a whole word of it, its beginning, the beginning of one of its words, or anywhere inside it.
MATCH_KINDS: tuple[str, ...] = ("exact", "word", "prefix", "word_prefix", "contains")

#: What separates the words of a name for matching (besides spaces).
_WORD_SEPARATORS = ("-", "(", ")", ",", "/", "'")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(column: Any, text: str) -> Any:
    """SQL: ``column`` contains ``text``, case ignored, ``%`` and ``_`` taken literally (the one "contains"
    search of the registry's lists and pickers)."""
    return func.lower(column).like(f"%{_like_escape(text.lower())}%", escape="\\")


def person_matches(text: str) -> Any:
    """SQL: a person whose name or title, in English or Persian, or whose unit contains ``text``."""
    return or_(*(contains_text(c, text) for c in (Person.name, Person.name_fa, Person.title, Person.title_fa,
                                                  Person.unit)))  # fmt: skip


def _all_names() -> Any:
    """Every name of every place (its own, its Persian one, every name the registry keeps) as one subquery."""
    return union_all(
        select(Place.id.label("place_id"), Place.name.label("name")),
        select(Place.id, Place.name_fa).where(Place.name_fa.is_not(None)),
        select(PlaceName.place_id, PlaceName.name),
    ).subquery()


def _match_class(name: ColumnElement[str], lowered_query: str) -> ColumnElement[int]:
    """0..4 as in :data:`MATCH_KINDS` for a name containing the (lowercased) query."""
    lowered = func.lower(name)
    spaced = lowered
    for separator in _WORD_SEPARATORS:
        spaced = func.replace(spaced, separator, " ")
    spaced = literal(" ") + spaced + literal(" ")  # every word between spaces, the first and last too
    escaped = _like_escape(lowered_query)
    return case(
        (lowered == lowered_query, 0),
        (spaced.like(f"% {escaped} %", escape="\\"), 1),
        (lowered.like(f"{escaped}%", escape="\\"), 2),
        (spaced.like(f"% {escaped}%", escape="\\"), 3),
        else_=4,
    )


def place_search(
    q: str | None = None,
    country: str | None = None,
    status: str | None = None,
    admin_level: str | None = None,
) -> Select[Any]:
    """Places with a name (in any language or spelling the registry keeps) containing ``q``, filtered.

    Rows are ``(Place, match)``: ``match`` indexes :data:`MATCH_KINDS` (None without ``q``).  Best matches
    first (a place called "Paris" before one with "Paris" inside an alternate name), then the most populous:
    what a person typing a city's name expects at the top.

    Parameters
    ----------
    q
        Text to look for, case ignored (ASCII case on SQLite, which lowers ASCII letters only).
    country
        ISO 3166-1 alpha-2 code.
    status, admin_level
        The place's status and administrative level, as stored.
    """
    order = (Place.population.desc().nulls_last(), Place.id)
    text = " ".join((q or "").split()).lower()
    if not text:
        query = select(Place, literal(None).label("match"))
    else:
        names = _all_names()
        best = (
            select(names.c.place_id, func.min(_match_class(names.c.name, text)).label("match"))
            .where(func.lower(names.c.name).like(f"%{_like_escape(text)}%", escape="\\"))
            .group_by(names.c.place_id)
            .subquery()
        )
        query = select(Place, best.c.match).join(best, best.c.place_id == Place.id)
        order = (best.c.match, *order)
    if country:
        query = query.where(Place.country_code == country.upper())
    if status:
        query = query.where(Place.status == status)
    if admin_level:
        query = query.where(Place.admin_level == admin_level)
    return query.order_by(*order)


def matched_names(session: Session, q: str, place_ids: list[int]) -> dict[int, str]:
    """For each place of a page of :func:`place_search` results, the name that matched ``q`` best (ties: the
    place's own name, then the shortest), so that a result found by an alternate name says which."""
    text = " ".join(q.split()).lower()
    if not text or not place_ids:
        return {}
    names = _all_names()
    rows = session.execute(
        select(names.c.place_id, names.c.name, _match_class(names.c.name, text)).where(
            names.c.place_id.in_(place_ids), func.lower(names.c.name).like(f"%{_like_escape(text)}%", escape="\\")
        )
    ).all()
    own = dict(session.execute(select(Place.id, Place.name).where(Place.id.in_(place_ids))).all())
    best: dict[int, tuple[int, int, int, str]] = {}
    for pid, name, match in rows:
        key = (match, 0 if name == own.get(pid) else 1, len(name), name)
        if pid not in best or key < best[pid]:
            best[pid] = key
    return {pid: key[3] for pid, key in best.items()}


def find_organisation(session: Session, text: str, *, field: str = "organisation") -> Organisation:
    """The one organisation ``text`` names: ``#id``, its name or Persian name, or its acronym (case, accents and
    letter variants ignored).

    Raises
    ------
    NotFound
        None matches (the message names ``field``).
    BadInput
        Several do (the message lists them with their ids).
    """
    text = " ".join((text or "").split())
    by_id = _ID.match(text)
    if by_id:
        org = session.get(Organisation, int(by_id.group(1)))
        if org is None:
            raise NotFound(f"{field}: no organisation #{by_id.group(1)} in the registry")
        return org
    key = fold(text)
    rows = session.execute(select(Organisation.id, Organisation.name, Organisation.name_fa, Organisation.acronym)).all()
    ids = [i for i, *names in rows if key and key in {fold(n) for n in names if n}]
    if not ids:
        raise NotFound(f"{field}: no organisation called {text!r} (name or acronym) in the registry")
    if len(ids) > 1:
        shown = ", ".join(f"#{i} {n}" for i, n, *_ in rows if i in ids)
        raise BadInput(f"{field}: {text!r} names {len(ids)} organisations: {shown}; give the #id")
    return session.get(Organisation, ids[0])  # type: ignore[return-value]


def suggest_places(session: Session, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """What a place picker offers for ``q``: places of the registry with a name containing it (best matches
    first, :func:`place_search`), then places of the gazetteer with a name in any script beginning so that
    the registry does not have yet (:meth:`~citydiplomacy.geo.gazetteer.Gazetteer.search_prefix`).

    Each suggestion is a :func:`candidate_dict` with ``matched_name`` (the name that matched) and either an
    ``id`` (in the registry) or ``id`` None and the ``gazetteer_id`` a form sends to create it
    (:func:`citydiplomacy.store.records.gazetteer_place`).
    """
    text = " ".join(q.split())
    if len(text) < 2:
        return []
    rows = session.execute(place_search(text).limit(limit)).all()
    matched = matched_names(session, text, [p.id for p, _ in rows])
    out = [{**candidate_dict(p), "gazetteer": p.gazetteer, "gazetteer_id": p.gazetteer_id,
            "matched_name": matched.get(p.id)} for p, _ in rows]  # fmt: skip
    from citydiplomacy.geo.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    hits = gaz.search_prefix(text, limit=limit)
    keys = [gaz.entry_key(i) for i, _ in hits]
    known = set(
        session.execute(
            select(Place.gazetteer, Place.gazetteer_id).where(
                Place.gazetteer.in_({k[0] for k in keys}), Place.gazetteer_id.in_([k[1] for k in keys])
            )
        ).all()
    )
    for (i, name), (gazetteer, gid) in zip(hits, keys, strict=True):
        if (gazetteer, gid) in known or len(out) >= limit * 2:
            continue
        entry = gaz.place(i)
        cc = entry["country_code"]
        out.append({
            "id": None, "name": entry["name"], "name_fa": persian_name(gaz.alternate_names(i)),
            "country_code": cc, "region": region_name(cc, entry["admin1"] or None),
            "population": entry["population"] or None, "lat": entry["lat"], "lng": entry["lng"], "status": "gazetteer",
            "gazetteer": gazetteer, "gazetteer_id": gid, "matched_name": name,
        })  # fmt: skip
    return out


def gazetteer_ref(choice: dict[str, Any]) -> str:
    """What a picker sends for a gazetteer suggestion: the GeoNames id, or ``"csc:<id>"`` for a CSC entry."""
    gazetteer = choice.get("gazetteer") or "geonames"
    return str(choice["gazetteer_id"]) if gazetteer == "geonames" else f"{gazetteer}:{choice['gazetteer_id']}"


#: The office's records a form refers to by name (an outcome's agreement, an activity's membership, ...).
OFFICE_RECORD_KINDS = ("agreements", "activities", "memberships", "people")


def find_office_records(session: Session, kind: str, text: str, limit: int = 10) -> list[Any]:
    """The agreements, activities or memberships ``text`` names: ``#id`` or the bare id, else those whose title
    (English or Persian), or whose parties' names or acronym, contain it (case ignored); newest first.

    An agreement is found by its title or by a party (``Minsk``, ``UN-Habitat``); an activity by its title; a
    membership by its place or its organisation (name, Persian name, acronym); a person by name or title.
    """
    text = " ".join((text or "").split())
    model = {"agreements": Relation, "activities": Activity, "memberships": Membership, "people": Person}[kind]
    bare = text.lstrip("#").strip()
    if bare.isdigit() and len(bare) <= 18:
        obj = session.get(model, int(bare))
        return [obj] if obj is not None else []
    if len(text) < 2:
        return []

    def has(column: Any) -> Any:
        return contains_text(column, text)

    place_ids = select(Place.id).where(or_(has(Place.name), has(Place.name_fa)))
    org_ids = select(Organisation.id).where(or_(has(Organisation.name), has(Organisation.name_fa),
                                                has(Organisation.acronym)))  # fmt: skip
    if model is Relation:
        where = or_(has(Relation.title), has(Relation.title_fa), Relation.place_a_id.in_(place_ids),
                    Relation.place_b_id.in_(place_ids), Relation.organisation_id.in_(org_ids))  # fmt: skip
    elif model is Activity:
        where = or_(has(Activity.title), has(Activity.title_fa))
    elif model is Person:
        where = person_matches(text)
    else:
        where = or_(Membership.place_id.in_(place_ids), Membership.organisation_id.in_(org_ids))
    return list(session.scalars(select(model).where(where).order_by(model.id.desc()).limit(limit)))
