"""The bundled Tehran case study: facts from the seed papers, each citing its paper, loaded into the registry.

The data file (``tehran.yaml`` beside this module) lists sources (the seed papers), places with their
Persian names, organisations with founding years, seats, reach and eligibility, Tehran's relations,
memberships and roles, and its activities (awards, summits hosted, offices, rankings).  Every record
carries ``cite: {source: KEY, locator: "..."}``; the loader writes that as the record's provenance.
Loading is idempotent: records are matched by their natural keys and never duplicated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jdatetime
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from citydiplomacy.core.errors import BadInput
from citydiplomacy.ingest.common import get_or_create_source, resolve_mentions
from citydiplomacy.model.vocab import (
    ACTIVITY_KINDS,
    MEMBERSHIP_ROLES,
    MEMBERSHIP_STATUSES,
    ORGANISATION_KINDS,
    RELATION_KINDS,
    RELATION_STATUSES,
    fold,
)
from citydiplomacy.store import db
from citydiplomacy.store.agreements import add_status
from citydiplomacy.store.places import Mention, upsert_places
from citydiplomacy.store.schema import (
    Activity,
    ActivityParticipant,
    MemberCount,
    Membership,
    Organisation,
    Place,
    PlaceName,
    Relation,
    utcnow,
)

CASE_STUDY_FILE = Path(__file__).with_name("tehran.yaml")
ACTOR = "casestudy"


class CaseStudyError(BadInput):
    """The case-study file breaks its own rules (unknown source key, unknown kind, missing citation)."""


@dataclass
class LoadSummary:
    """What loading the case study created (and found already present)."""

    created: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)

    def add(self, entity: str, was_created: bool) -> None:
        target = self.created if was_created else self.present
        target[entity] = target.get(entity, 0) + 1


@cache
def read_case_study(path: Path = CASE_STUDY_FILE) -> dict[str, Any]:
    """Parse and check the case-study file.

    Raises
    ------
    CaseStudyError
        A record without a citation, citing an undeclared source, or using a term outside the vocabulary.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = data.get("sources") or {}
    vocab = {
        "relations": ("kind", RELATION_KINDS),
        "memberships": ("role", MEMBERSHIP_ROLES),
        "activities": ("kind", ACTIVITY_KINDS),
        "organisations": ("kind", ORGANISATION_KINDS),
    }
    for section in ("places", "organisations", "relations", "memberships", "activities"):
        for i, record in enumerate(data.get(section) or [], start=1):
            where = f"{path.name}: {section}[{i}]"
            cite = record.get("cite")
            if not isinstance(cite, dict) or cite.get("source") not in sources:
                raise CaseStudyError(f"{where}: cite.source must name one of {sorted(sources)}")
            if section in vocab:
                key, terms = vocab[section]
                if record.get(key) not in terms:
                    raise CaseStudyError(f"{where}: {key} {record.get(key)!r} is not one of {sorted(terms)}")
            if section == "relations" and record.get("status", "active") not in RELATION_STATUSES:
                raise CaseStudyError(f"{where}: status {record.get('status')!r} unknown")
            if section == "memberships" and record.get("status") not in (None, *MEMBERSHIP_STATUSES):
                allowed = sorted(MEMBERSHIP_STATUSES)
                raise CaseStudyError(f"{where}: status {record.get('status')!r} is not one of {allowed}")
    return data


_TABLE = re.compile(r"^\s*(Table \d+)")
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def as_of_sh(data: dict[str, Any], record: dict[str, Any]) -> int | None:
    """The Solar Hijri year a record's facts are stated for: its cited table's ``as_of_sh`` in ``sources``
    (002 Table 3: 1400; 003 Tables 2 and 3: 1391), None when the table gives none."""
    cite = record.get("cite") or {}
    table = _TABLE.match(str(cite.get("locator") or ""))
    years = (data.get("sources") or {}).get(cite.get("source"), {}).get("as_of_sh") or {}
    return years.get(table.group(1)) if table else None


def _as_of_values(data: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """What a record's evidence says of its date: ``{"as_of_sh": 1391, "as_of": "2012/13"}`` (or nothing)."""
    year = as_of_sh(data, record)
    if year is None:
        return {}
    first = jdatetime.date(year, 1, 1).togregorian().year
    return {"as_of_sh": year, "as_of": f"{first}/{(first + 1) % 100:02d}"}


def _mentions(data: dict[str, Any]) -> list[Mention]:
    found: dict[str, Mention] = {}

    def add(name: str | None, country: str | None) -> None:
        if name:
            m = Mention(name=name, country=country or "")
            found.setdefault(m.key, m)

    for p in data.get("places") or []:
        add(p["name"], p.get("country"))
    for o in data.get("organisations") or []:
        seat = o.get("seat") or {}
        add(seat.get("name"), seat.get("country"))
    for r in data.get("relations") or []:
        add(r["city"], r.get("country"))
        add(r["partner"], r.get("partner_country"))
    for m in data.get("memberships") or []:
        add(m["city"], m.get("country"))
    for a in data.get("activities") or []:
        add(a.get("city"), a.get("country"))
        for part in a.get("participants") or []:
            if isinstance(part, dict) and part.get("city"):
                add(part["city"], part.get("country"))
    return list(found.values())


def load_case_study(engine: Engine | None = None, path: Path = CASE_STUDY_FILE, resolver: Any = None) -> LoadSummary:
    """Load the case study into the registry in one transaction (idempotent).

    Parameters
    ----------
    engine
        Target database (default: the configured one); its schema is upgraded first.
    path
        The case-study YAML file.
    resolver
        Place resolver (default: one over the embedded gazetteer, without coordinates).

    Returns
    -------
    LoadSummary
        Records created and already present, per entity.
    """
    from citydiplomacy.geo.resolve import Resolver

    engine = engine or db.get_engine()
    db.upgrade(engine)
    data = read_case_study(path)
    resolver = resolver or Resolver(use_coordinates=False)
    mentions = _mentions(data)
    resolved = resolve_mentions(mentions, resolver, lambda *_: None)
    summary = LoadSummary()
    with db.session_scope(engine) as session:
        session.info.update(actor=ACTOR, context=f"load case study {path.name}")
        conn = session.connection()
        source_ids = {
            key: get_or_create_source(conn, name=src["file"], kind="paper", citation=src.get("citation"))
            for key, src in data["sources"].items()
        }
        place_ids, created = upsert_places(conn, resolved, source_id=None, actor=ACTOR, context="case study")
        summary.created["place"] = created

        def place_of(name: str | None, country: str | None) -> int | None:
            return place_ids[Mention(name, country or "").key] if name else None

        def prov(record: dict[str, Any]) -> dict[str, Any]:
            cite = record["cite"]
            return {
                "source_id": source_ids[cite["source"]],
                "source_locator": str(cite.get("locator") or ""),
                "entered_by": ACTOR,
                "retrieved_at": utcnow(),
            }

        _load_places(session, data, place_of, prov, summary)
        orgs = _load_organisations(session, data, place_of, prov, summary)
        _load_relations(session, data, place_of, prov, summary)
        _load_memberships(session, data, place_of, orgs, prov, summary)
        _load_activities(session, data, place_of, orgs, prov, summary)
    return summary


def _load_places(session: Session, data: dict[str, Any], place_of: Any, prov: Any, summary: LoadSummary) -> None:
    for p in data.get("places") or []:
        place = session.get(Place, place_of(p["name"], p.get("country")))
        if place is None:
            continue
        if place.source_id is None:  # created above without a source: cite the paper that names it
            for key, value in prov(p).items():
                setattr(place, key, value)
        if p.get("name_fa"):
            # The paper's Persian name wins over the one the gazetteer suggested, and is kept as a Persian name.
            if place.name_fa != p["name_fa"]:
                place.name_fa = p["name_fa"]
            exists = session.scalar(
                select(PlaceName.id).where(
                    PlaceName.place_id == place.id, PlaceName.name == p["name_fa"], PlaceName.lang == "fa"
                )  # fmt: skip
            )
            if exists is None:
                session.add(PlaceName(place_id=place.id, name=p["name_fa"], lang="fa", kind="official"))
        if p.get("capital") is not None:
            place.is_capital = bool(p["capital"])


def _find_org(session: Session, name: str) -> Organisation | None:
    key = fold(name)
    for org in session.scalars(select(Organisation)):
        if fold(org.name) == key or (org.acronym and fold(org.acronym) == key):
            return org
    return None


def _load_organisations(
    session: Session, data: dict[str, Any], place_of: Any, prov: Any, summary: LoadSummary
) -> dict[str, Organisation]:
    by_key: dict[str, Organisation] = {}
    for o in data.get("organisations") or []:
        org = _find_org(session, o["name"]) or (_find_org(session, o["acronym"]) if o.get("acronym") else None)
        created = org is None
        if org is None:
            org = Organisation(name=o["name"], kind=o["kind"], themes=[], **prov(o))
            session.add(org)
        seat = o.get("seat") or {}
        org.kind = o["kind"]
        org.name_fa = o.get("name_fa") or org.name_fa
        org.acronym = o.get("acronym") or org.acronym
        org.scale = o.get("scale") or org.scale
        org.founded = o.get("founded") or org.founded
        org.seat_place_id = place_of(seat.get("name"), seat.get("country")) or org.seat_place_id
        org.seat_text = ", ".join(x for x in (seat.get("name"), o.get("seat_note")) if x) or org.seat_text
        org.themes = list(o.get("themes") or org.themes or [])
        org.eligibility = o.get("eligibility") or org.eligibility
        org.description = o.get("description") or org.description
        session.flush()
        summary.add("organisation", created)
        for mc in o.get("member_counts") or []:
            what = mc.get("what", "members")
            found = session.scalar(
                select(MemberCount).where(
                    MemberCount.organisation_id == org.id,
                    MemberCount.what == what,
                    MemberCount.as_of_year == mc.get("as_of_year"),
                )  # fmt: skip
            )
            if found is None:
                session.add(MemberCount(organisation_id=org.id, what=what, count=int(mc["count"]),
                                        qualifier=mc.get("qualifier"), as_of_year=mc.get("as_of_year"),
                                        **prov(mc if "cite" in mc else o)))  # fmt: skip
            summary.add("member_count", found is None)
        for key in (o["name"], o.get("acronym")):
            if key:
                by_key[fold(key)] = org
    return by_key


def _load_relations(session: Session, data: dict[str, Any], place_of: Any, prov: Any, summary: LoadSummary) -> None:
    for r in data.get("relations") or []:
        a, b = sorted((place_of(r["city"], r.get("country")), place_of(r["partner"], r.get("partner_country"))))
        if a == b:
            raise CaseStudyError(f"relation {r['city']} - {r['partner']} resolves to one place")
        found = session.scalar(
            select(Relation).where(Relation.place_a_id == a, Relation.place_b_id == b, Relation.kind == r["kind"])
        )
        if found is None:
            relation = Relation(place_a_id=a, place_b_id=b, kind=r["kind"], status=r.get("status", "active"),
                                signed_year=r.get("signed_year"), ended_year=r.get("ended_year"),
                                title=r.get("title"), dimensions=list(r.get("dimensions") or []),
                                notes=r.get("note"), **prov(r))  # fmt: skip
            dated = _as_of_values(data, r)
            if dated:
                # "Currently" in the paper means the year its table is stated for: the evidence says so, and the
                # first status row says as of when the status is known.
                relation.evidence_values = dated  # type: ignore[attr-defined]  # read by store.evidence
                # Written in Persian, as the paper states it (its table's source line and year).
                table = _TABLE.match(r["cite"]["locator"]).group(1).split()[1]  # type: ignore[union-attr]
                reason = (
                    f"وضعیت به نقل از جدول {table} مقاله {r['cite']['source'][-1]}، "
                    f"برای سال {dated['as_of_sh']} ({dated['as_of']})"
                ).translate(_PERSIAN_DIGITS)
                add_status(session, relation, relation.status, actor=ACTOR, previous=None, reason=reason,
                           source_id=relation.source_id, source_locator=relation.source_locator)  # fmt: skip
            session.add(relation)
        summary.add("relation", found is None)
    session.flush()


def _load_memberships(
    session: Session, data: dict[str, Any], place_of: Any, orgs: dict[str, Organisation], prov: Any,
    summary: LoadSummary,
) -> None:  # fmt: skip
    for m in data.get("memberships") or []:
        org = orgs.get(fold(m["organisation"])) or _find_org(session, m["organisation"])
        if org is None:
            raise CaseStudyError(f"membership names unknown organisation {m['organisation']!r}")
        pid = place_of(m["city"], m.get("country"))
        found = session.scalar(
            select(Membership).where(
                Membership.place_id == pid, Membership.organisation_id == org.id, Membership.role == m["role"]
            )  # fmt: skip
        )
        if found is None:
            membership = Membership(place_id=pid, organisation_id=org.id, role=m["role"],
                                    role_verbatim=m.get("role_verbatim"), since_year=m.get("since_year"),
                                    until_year=m.get("until_year"), status=m.get("status"), notes=m.get("note"),
                                    **prov(m))  # fmt: skip
            membership.evidence_values = _as_of_values(data, m)  # type: ignore[attr-defined]  # store.evidence
            session.add(membership)
        summary.add("membership", found is None)
    session.flush()


def _load_activities(
    session: Session, data: dict[str, Any], place_of: Any, orgs: dict[str, Organisation], prov: Any,
    summary: LoadSummary,
) -> None:  # fmt: skip
    for a in data.get("activities") or []:
        org = None
        if a.get("organisation"):
            org = orgs.get(fold(a["organisation"])) or _find_org(session, a["organisation"])
        pid = place_of(a.get("city"), a.get("country"))
        happened = a.get("date")
        if isinstance(happened, str):
            happened = date.fromisoformat(happened)
        year = a.get("year") or (happened.year if happened else None)
        found = session.scalar(
            select(Activity).where(Activity.kind == a["kind"], Activity.title == a["title"], Activity.year == year)
        )
        if found is None:
            description = a.get("description")
            if a.get("value") is not None:
                of = f" of {a['of']}" if a.get("of") is not None else ""
                description = f"{description or ''} [value {a['value']}{of}]".strip()
            act = Activity(kind=a["kind"], title=a["title"], title_fa=a.get("title_fa"), happened_on=happened,
                           year=year, place_id=pid, organisation_id=org.id if org else None,
                           dimensions=list(a.get("dimensions") or []), functions=list(a.get("functions") or []),
                           indicators=list(a.get("indicators") or []), description=description,
                           **prov(a))  # fmt: skip
            for part in a.get("participants") or []:
                if isinstance(part, dict) and part.get("city"):
                    act.participants.append(ActivityParticipant(place_id=place_of(part["city"], part.get("country")),
                                                                role=part.get("role")))  # fmt: skip
                elif isinstance(part, dict | str):
                    name = part.get("organisation") if isinstance(part, dict) else part
                    porg = orgs.get(fold(name)) if name else None
                    if porg is not None:
                        act.participants.append(ActivityParticipant(organisation_id=porg.id))
            session.add(act)
        summary.add("activity", found is None)
    session.flush()
