"""Seed data for the web tests (written with the ORM, so the audit hook runs as in real use)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select

import citydiplomacy.store.audit  # noqa: F401 - the audit hook, as the application has it
from citydiplomacy.store import db
from citydiplomacy.store.schema import (
    Activity,
    AnalysisRun,
    AuditEntry,
    CityResult,
    MemberCount,
    Membership,
    Organisation,
    Place,
    PlaceMention,
    Relation,
    Source,
)
from citydiplomacy.web.auth import create_user

PASSWORD = "correct-horse-42"
XSS_NAME = '<script>alert("x")</script>Evilton'


@dataclass(frozen=True)
class Seeded:
    """Ids of the seeded records the tests refer to."""

    tehran: int
    kuala_lumpur: int
    beirut: int
    seoul: int
    istanbul: int
    evil: int
    metropolis: int
    uclg: int
    relation: int
    mention: int


def seed(url: str) -> Seeded:
    """Fill a fresh registry with a small, realistic case (Tehran's relations) plus users."""
    engine = db.get_engine(url)
    with db.session_scope(engine) as s:
        s.info["actor"] = "seed"
        s.info["context"] = "web test seed"
        src = Source(name="paper 002", kind="paper", citation="Seed paper 002 (Tehran case study)")
        s.add(src)
        s.flush()

        def place(name: str, cc: str, lat: float, lng: float, pop: int, fa: str | None = None) -> Place:
            p = Place(
                gazetteer="geonames",
                gazetteer_id=f"t-{name[:20]}",
                name=name,
                name_fa=fa,
                country_code=cc,
                lat=lat,
                lng=lng,
                population=pop,
                source_id=src.id,
            )
            s.add(p)
            return p

        tehran = place("Tehran", "IR", 35.69, 51.42, 7_153_309, "تهران")
        kl = place("Kuala Lumpur", "MY", 3.14, 101.69, 1_453_975, "کوالالامپور")
        beirut = place("Beirut", "LB", 33.89, 35.50, 1_916_100, "بیروت")
        seoul = place("Seoul", "KR", 37.57, 126.98, 10_349_312, "سئول")
        istanbul = place("Istanbul", "TR", 41.01, 28.95, 14_804_116, "استانبول")
        evil = place(XSS_NAME, "GB", 51.5, -0.1, 10)
        s.flush()
        metropolis = Organisation(
            name="Metropolis",
            acronym="Metropolis",
            kind="global_network",
            scale="global",
            founded=1985,
            name_fa="متروپلیس",
            themes=["governance"],
        )
        uclg = Organisation(
            name="United Cities and Local Governments",
            acronym="UCLG",
            kind="global_network",
            scale="global",
            founded=2004,
        )
        s.add_all([metropolis, uclg])
        s.flush()
        s.add_all(
            [
                MemberCount(organisation_id=metropolis.id, what="members", count=120, as_of_year=2010),
                MemberCount(organisation_id=metropolis.id, what="members", count=140, as_of_year=2020),
            ]
        )
        rel = Relation(
            place_a_id=min(tehran.id, kl.id),
            place_b_id=max(tehran.id, kl.id),
            kind="sister_city",
            status="active",
            signed_year=1997,
            source_id=src.id,
            source_locator="p. 12",
        )
        s.add(rel)
        s.add(
            Relation(
                place_a_id=min(tehran.id, beirut.id),
                place_b_id=max(tehran.id, beirut.id),
                kind="friendship",
                status="active",
                signed_year=2010,
            )
        )
        s.add(
            Relation(
                place_a_id=min(tehran.id, seoul.id),
                place_b_id=max(tehran.id, seoul.id),
                kind="sister_city",
                status="suspended",
                signed_year=2004,
            )
        )
        s.add_all(
            [
                Membership(place_id=tehran.id, organisation_id=metropolis.id, role="board", since_year=2005),
                Membership(place_id=seoul.id, organisation_id=metropolis.id, role="active", since_year=1990),
                Membership(place_id=tehran.id, organisation_id=uclg.id, role="founding", since_year=2004),
                Activity(
                    kind="summit_hosted",
                    title="Metropolis board meeting",
                    title_fa="نشست هیئت‌مدیره متروپلیس",
                    happened_on=date(2014, 10, 31),
                    year=2014,
                    place_id=tehran.id,
                    organisation_id=metropolis.id,
                    dimensions=["networks"],
                ),
                Activity(kind="visit", title="Mayor's visit to Seoul", year=2016, place_id=tehran.id),
            ]
        )
        mention = PlaceMention(
            key="Springfield|US|",
            name_in_source="Springfield",
            country_in_source="US",
            status="ambiguous",
            candidates=[
                {
                    "gazetteer_id": "4409896",
                    "name": "Springfield",
                    "country_code": "US",
                    "lat": 37.215,
                    "lng": -93.298,
                    "population": 166_810,
                    "score": 71.0,
                    "distance_km": None,
                },
                {
                    "gazetteer_id": "4250542",
                    "name": "Springfield",
                    "country_code": "US",
                    "lat": 39.801,
                    "lng": -89.644,
                    "population": 116_565,
                    "score": 70.0,
                    "distance_km": None,
                },
            ],
        )
        s.add(mention)
        s.flush()
        run = AnalysisRun(kind="assessment", parameters={"weights": "equal"}, model_version="test")
        net = AnalysisRun(kind="network", parameters={"layer": "twinning"}, summary={"nodes": 5})
        s.add_all([run, net])
        s.flush()
        rows = []
        for i, (p, cdi) in enumerate([(tehran, 0.61), (seoul, 0.74), (istanbul, 0.55), (kl, 0.40)]):
            # Intervals as the assessment writes them: sibling rows <code>_P05 / <code>_P95 (store.runs).
            for code, value in (
                ("CDI", cdi), ("CDI_P05", cdi - 0.05), ("CDI_P95", cdi + 0.04),
                ("CDI_RANK_P05", max(1, i)), ("CDI_RANK_P95", i + 2),
            ):  # fmt: skip
                rows.append(CityResult(run_id=run.id, place_id=p.id, code=code, value=value))
            for j, dim in enumerate(["security", "economy", "culture", "networks"]):
                for code, value in (
                    (f"DIM_{dim}", cdi - 0.1 + 0.05 * j),
                    (f"DIM_{dim}_P05", cdi - 0.2 + 0.05 * j),
                    (f"DIM_{dim}_P95", cdi + 0.05 * j),
                ):
                    rows.append(CityResult(run_id=run.id, place_id=p.id, code=code, value=value))
            rows.append(CityResult(run_id=net.id, place_id=p.id, code="degree", value=3 - i))
            rows.append(CityResult(run_id=net.id, place_id=p.id, code="betweenness", value=0.5 / (i + 1)))
        rows += [
            CityResult(run_id=run.id, place_id=p.id, code="CDI_RANK", value=r)
            for p, r in [(seoul, 1), (tehran, 2), (istanbul, 3), (kl, 4)]
        ]
        s.add_all(rows)
        for name, role in (("admin", "admin"), ("editor", "editor"), ("viewer", "viewer")):
            create_user(s, name, PASSWORD, role)
        s.flush()
        return Seeded(
            tehran.id, kl.id, beirut.id, seoul.id, istanbul.id, evil.id, metropolis.id, uclg.id, rel.id, mention.id
        )


def test_seed_writes_records_and_audit(sqlite_url: str) -> None:
    ids = seed(sqlite_url)
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        assert s.get(Place, ids.tehran).name_fa == "تهران"
        assert s.scalar(select(func.count()).select_from(Relation)) == 3
        # The ORM path records audit entries with the session's actor.
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == "seed")) > 10


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the API; returns the CSRF token and leaves the session cookie in the client."""
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]
