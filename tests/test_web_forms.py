"""Forms a person can use (issue 10): places picked by name from the gazetteer in any script (created from it when
new, with their proper name, country, coordinates and gazetteer id), organisations by name or acronym, Solar
Hijri dates on Persian forms, problems in the page's language, deletion kept in the audit trail and restored by
an admin, and a conflict page that keeps the editor's input beside the stored version.  HTTP through the
application, in English and Persian; one Chromium test picks «اصفهان» with a Solar Hijri date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_web_support import PASSWORD, Seeded, login, seed

from citydiplomacy.present import fmt
from citydiplomacy.store import db
from citydiplomacy.store.schema import Activity, AuditEntry, FollowUpAction, Outcome, Place, Relation, RelationStatus
from citydiplomacy.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def seeded(sqlite_url: str) -> Seeded:
    return seed(sqlite_url)


@pytest.fixture
def client(sqlite_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_url, secret_key="test-secret")) as c:
        yield c


def _token(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _session(url: str):  # type: ignore[no-untyped-def]
    return db.session_scope(db.get_engine(url))


# --- dates --------------------------------------------------------------------------------------------------


def test_parse_date_reads_each_calendar_and_catches_the_other() -> None:
    assert fmt.parse_date("۱۴۰۳/۰۲/۱۵", "fa") == date(2024, 5, 4)
    assert fmt.parse_date("1403-02-15", "fa") == date(2024, 5, 4)
    assert fmt.parse_date("2024-05-04", "en") == date(2024, 5, 4)
    with pytest.raises(fmt.DateInputError) as fa:
        fmt.parse_date("2025-05-05", "fa")
    assert "۲۰۲۵" in fa.value.message and "۱۴۰۴/۰۲/۱۵" in fa.value.message  # what it would mean
    with pytest.raises(fmt.DateInputError) as en:
        fmt.parse_date("1403-02-15", "en")
    assert "1403-02-15" in en.value.message and "2024-05-04" in en.value.message
    with pytest.raises(fmt.DateInputError):
        fmt.parse_date("1403/13/01", "fa")  # no 13th month
    assert fmt.date_input_text(date(2024, 5, 4), "fa") == "۱۴۰۳/۰۲/۱۵"
    assert fmt.date_input_text("2024-05-04", "en") == "2024-05-04"


# --- places and organisations by name -------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["Kazan", "Isfahan", "اصفهان"])
def test_place_suggestions_come_from_the_gazetteer_in_any_script(client: TestClient, q: str) -> None:
    login(client, "editor")
    r = client.get("/api/suggest/places", params={"q": q})
    assert r.status_code == 200
    items = r.json()["items"]
    assert items, q
    first = items[0]
    assert first["id"] is None and first["gazetteer_id"]  # not in the registry yet
    assert first["country_code"] in ("RU", "IR") and first["lat"] and first["population"]
    assert first["name"] in ("Kazan", "Isfahan") and first["matched_name"] == q
    assert first["country"] in ("Russian Federation", "Iran")
    fa = client.get("/api/suggest/places", params={"q": q, "lang": "fa"}).json()["items"][0]
    assert ("روسیه" in fa["country"] or fa["country"] == "ایران") and "—" in fa["label"]


def test_registry_places_come_first_with_their_region(client: TestClient, seeded: Seeded) -> None:
    login(client, "viewer")
    items = client.get("/api/suggest/places", params={"q": "Tehr"}).json()["items"]
    assert items[0]["id"] == seeded.tehran
    gids = [i["gazetteer_id"] for i in items]
    assert len(gids) == len(set(gids))
    orgs = client.get("/api/suggest/organisations", params={"q": "uclg"}).json()["items"]
    assert [o["id"] for o in orgs] == [seeded.uclg] and orgs[0]["matched_name"] == "UCLG"
    assert client.get("/api/suggest/places", params={"q": ""}).status_code == 422
    client.post("/logout", data={"csrf_token": _token(client.get("/").text)})
    assert client.get("/api/suggest/places", params={"q": "Kazan"}).status_code == 401


def _new_agreement_form(client: TestClient, lang: str) -> str:
    page = client.get("/records/agreements/new", params={"lang": lang})
    assert page.status_code == 200
    return _token(page.text)


def test_a_persian_form_creates_a_gazetteer_place_by_its_typed_name(
    client: TestClient, sqlite_url: str, seeded: Seeded
) -> None:
    """No JavaScript: the place typed by name (Persian script) is found in the gazetteer and created from it."""
    login(client, "editor")
    token = _new_agreement_form(client, "fa")
    fields = {
        "csrf_token": token, "place_id": str(seeded.tehran), "place_id__q": "تهران", "place_id__shown": "تهران",
        "partner_place_id__q": "اصفهان", "kind": "cooperation_memorandum", "status": "signed",
        "signed_on": "۱۴۰۳/۰۲/۱۵", "title": "Isfahan MoU",
    }  # fmt: skip
    r = client.post("/records/agreements/new", data=fields, params={"lang": "fa"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:3000]
    with _session(sqlite_url) as s:
        isfahan = s.scalar(select(Place).where(Place.name == "Isfahan"))
        assert isfahan is not None and isfahan.gazetteer == "geonames" and isfahan.gazetteer_id.isdigit()
        assert isfahan.country_code == "IR" and round(isfahan.lat) == 33 and round(isfahan.lng) == 52
        assert isfahan.name_fa == "اصفهان" and isfahan.status == "gazetteer"
        rel = s.scalar(select(Relation).where(Relation.title == "Isfahan MoU"))
        assert rel.signed_on == date(2024, 5, 4) and {rel.place_a_id, rel.place_b_id} == {seeded.tehran, isfahan.id}
    page = client.get(r.headers["location"], params={"lang": "fa"}).text
    assert "manual" not in page and "اصفهان" in page
    # The edit form shows the date in Solar Hijri and in both calendars, and the partner by name.
    edit = client.get(f"/records/agreements/{rel.id}/edit", params={"lang": "fa"}).text
    assert 'value="۱۴۰۳/۰۲/۱۵"' in edit and "۲۰۲۴-۰۵-۰۴" in edit and 'value="اصفهان"' in edit


def test_an_english_form_picks_a_gazetteer_place_by_its_id(client: TestClient, sqlite_url: str, seeded: Seeded) -> None:
    login(client, "editor")
    kazan = client.get("/api/suggest/places", params={"q": "Kazan"}).json()["items"][0]
    token = _new_agreement_form(client, "en")
    fields = {
        "csrf_token": token, "place_id": str(seeded.tehran), "partner_place_id__q": "Kazan",
        "partner_place_id__gaz": kazan["gazetteer_id"], "kind": "sister_city", "status": "active",
        "signed_on": "2019-06-01",
    }  # fmt: skip
    r = client.post("/records/agreements/new", data=fields, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    with _session(sqlite_url) as s:
        place = s.scalar(select(Place).where(Place.gazetteer_id == kazan["gazetteer_id"]))
        assert place.name == "Kazan" and place.country_code == "RU" and place.population > 1_000_000
        assert not place.gazetteer_id.startswith("manual")
        names = {n.name for n in place.names}
        assert "Казань" in names  # its names in every script, for the lookup
    # A municipality of the countries-states-cities database: the suggestion says what the form sends for it.
    cisterna = client.get("/api/suggest/places", params={"q": "La Cisterna"}).json()["items"][0]
    assert cisterna["id"] is None and cisterna["gazetteer_ref"] == f"csc:{cisterna['gazetteer_id']}"
    assert kazan["gazetteer_ref"] == kazan["gazetteer_id"]  # a GeoNames id is sent as it is
    fields = {**fields, "csrf_token": _new_agreement_form(client, "en"), "partner_place_id__q": "La Cisterna",
              "partner_place_id__gaz": cisterna["gazetteer_ref"]}  # fmt: skip
    r = client.post("/records/agreements/new", data=fields, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    with _session(sqlite_url) as s:
        place = s.scalar(select(Place).where(Place.gazetteer == "csc", Place.gazetteer_id == cisterna["gazetteer_id"]))
        assert place is not None and place.name == "La Cisterna" and place.country_code == "CL"
    # The same organisation typed by acronym, on a membership form.
    form = client.get("/records/memberships/new").text
    r = client.post(
        "/records/memberships/new",
        data={"csrf_token": _token(form), "place_id__q": "Kazan", "organisation_id__q": "UCLG", "role": "active"},
        follow_redirects=False,
    )
    assert r.status_code == 303, re.findall(r'class="field-error"[^>]*>([^<]+)<', r.text)


def test_an_ambiguous_or_unknown_name_is_said_in_the_page_language(client: TestClient, seeded: Seeded) -> None:
    login(client, "editor")
    token = _new_agreement_form(client, "fa")
    fields = {"csrf_token": token, "place_id": str(seeded.tehran), "partner_place_id__q": "Springfield",
              "kind": "sister_city", "status": "active"}  # fmt: skip
    r = client.post("/records/agreements/new", data=fields, params={"lang": "fa"})
    assert r.status_code == 422
    assert "چند مکان" in r.text and 'name="partner_place_id__choice"' in r.text
    assert r.text.count('name="partner_place_id__choice"') >= 2 and "ایالات متحده" in r.text
    assert 'value="Springfield"' in r.text  # what was typed stays
    r = client.post("/records/agreements/new", data={**fields, "partner_place_id__q": "Xqzzyville"},
                    params={"lang": "en"})  # fmt: skip
    assert r.status_code == 422 and "Xqzzyville" in r.text and "no city called" in r.text


# --- problems in the page's language ---------------------------------------------------------------------------


def test_an_empty_persian_form_says_what_is_missing_in_persian(client: TestClient) -> None:
    login(client, "editor")
    token = _token(client.get("/records/relations/new", params={"lang": "fa"}).text)
    r = client.post("/records/relations/new", data={"csrf_token": token, "signed_year": "abc"}, params={"lang": "fa"})
    assert r.status_code == 422
    assert "Input should be" not in r.text and "valid integer" not in r.text
    errors = re.findall(r'class="field-error"[^>]*>([^<]+)<', r.text)
    assert any(e.startswith("مکان الف") and "لازم است" in e for e in errors), errors
    assert any(e.startswith("سال امضا") or "عدد صحیح" in e for e in errors), errors
    en = client.post("/records/relations/new", data={"csrf_token": token, "signed_year": "abc"}, params={"lang": "en"})
    en_errors = re.findall(r'class="field-error"[^>]*>([^<]+)<', en.text)
    assert any(e.startswith("Place A") and "is required" in e for e in en_errors), en_errors


@pytest.mark.parametrize(
    ("lang", "typed", "words"),
    [
        ("fa", "2025/05/05", ["۲۰۲۵", "میلادی", "۱۴۰۴/۰۲/۱۵"]),
        ("en", "1403-02-15", ["1403-02-15", "Solar Hijri", "2024-05-04"]),
    ],
)
def test_a_date_in_the_other_calendar_is_caught(
    client: TestClient, sqlite_url: str, seeded: Seeded, lang: str, typed: str, words: list[str]
) -> None:
    login(client, "editor")
    token = _new_agreement_form(client, lang)
    fields = {"csrf_token": token, "place_id": str(seeded.tehran), "partner_place_id": str(seeded.istanbul),
              "kind": "sister_city", "status": "active", "signed_on": typed, "title": "calendar check"}  # fmt: skip
    r = client.post("/records/agreements/new", data=fields, params={"lang": lang})
    assert r.status_code == 422
    error = re.search(r'id="err-f-signed_on">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    assert all(w in error for w in words), error
    assert f'value="{typed}"' in r.text  # kept as typed
    with _session(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(Relation).where(Relation.title == "calendar check")) == 0


# --- every kind editable and deletable; restore -----------------------------------------------------------------


def _agreement_with_record(sqlite_url: str, seeded: Seeded) -> tuple[int, int, int, int]:
    from citydiplomacy.store import agreements, inputs
    from citydiplomacy.store.records import create_record

    with _session(sqlite_url) as s:
        s.info["actor"] = "seed"
        body = inputs.AgreementIn(place_id=seeded.tehran, partner_place_id=seeded.beirut, kind="mou", status="signed")
        rel = create_record(s, "agreements", body, "seed")
        act = create_record(s, "activities", inputs.ActivityIn(kind="visit", title="Beirut visit", year=2024,
                            relation_id=rel.id, place_id=seeded.tehran), "seed")  # fmt: skip
        out = agreements.add_outcome(s, inputs.OutcomeIn(relation_id=rel.id, code="award"), "seed")
        action = agreements.add_action(s, inputs.ActionIn(relation_id=rel.id, title="Report", owner="Unit A"), "seed")
        return rel.id, act.id, out.id, action.id


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_every_kind_has_a_list_an_edit_form_and_a_delete_page(
    client: TestClient, sqlite_url: str, seeded: Seeded, lang: str
) -> None:
    rel, act, out, action = _agreement_with_record(sqlite_url, seeded)
    login(client, "editor")
    ids = {"agreements": rel, "relations": seeded.relation, "activities": act, "outcomes": out, "actions": action,
           "memberships": 1, "organisations": seeded.uclg, "places": seeded.beirut}  # fmt: skip
    for kind, record_id in ids.items():
        listing = client.get(f"/records/{kind}", params={"lang": lang})
        assert listing.status_code == 200 and f"/records/{kind}/{record_id}/edit" in listing.text, kind
        assert client.get(f"/records/{kind}/new", params={"lang": lang}).status_code == 200, kind
        assert client.get(f"/records/{kind}/{record_id}/edit", params={"lang": lang}).status_code == 200, kind
        assert client.get(f"/records/{kind}/{record_id}/delete", params={"lang": lang}).status_code == 200, kind
    # An outcome edited through its form.
    form = client.get(f"/records/outcomes/{out}/edit").text
    assert 'name="version" value="1"' in form  # outcomes are versioned (migration 0012)
    r = client.post(f"/records/outcomes/{out}/edit", data={"csrf_token": _token(form), "relation_id": str(rel),
                    "code": "award", "quantity": "۳", "evidence": "certificate", "version": "1"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:2000]
    with _session(sqlite_url) as s:
        assert s.get(Outcome, out).quantity == 3 and s.get(Outcome, out).evidence == "certificate"


def test_a_deletion_is_kept_in_the_audit_trail_and_an_admin_restores_it(
    client: TestClient, sqlite_url: str, seeded: Seeded
) -> None:
    rel, act, out, action = _agreement_with_record(sqlite_url, seeded)
    with _session(sqlite_url) as s:
        statuses = select(func.count()).select_from(RelationStatus).where(RelationStatus.relation_id == rel)
        before = {"statuses": s.scalar(statuses), "title": s.get(Activity, act).title}
    login(client, "editor")
    page = client.get(f"/records/agreements/{rel}/delete", params={"lang": "fa"})
    assert "حذف" in page.text
    r = client.post(f"/records/agreements/{rel}/delete", data={"csrf_token": _token(page.text), "version": "1"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with _session(sqlite_url) as s:
        assert s.get(Relation, rel) is None and s.get(Outcome, out) is None and s.get(FollowUpAction, action) is None
        assert s.get(Activity, act).relation_id is None  # the activity stays, its link is cleared
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "delete", AuditEntry.entity == "relation",
                                                  AuditEntry.entity_id == rel))  # fmt: skip
        tables = [item["table"] for item in entry.changes["rows"]]
        assert tables[0] == "relation" and {"relation_status", "outcome", "follow_up_action"} <= set(tables)
        entry_id = entry.id
    # A place still referred to is not deleted, and only an admin may try.
    page = client.get(f"/records/places/{seeded.tehran}/delete")
    assert 'id="confirm-delete"' not in page.text
    assert client.post(f"/records/places/{seeded.tehran}/delete", data={"csrf_token": _token(page.text),
                       "version": "1"}).status_code == 403  # fmt: skip
    # The editor sees no restore button; the admin does, and restores.
    assert f"/audit/{entry_id}/restore" not in client.get("/audit").text
    login(client, "admin")
    audit = client.get("/audit", params={"entity": "relation"}).text
    assert f'action="/audit/{entry_id}/restore"' in audit
    refused = client.post(f"/records/places/{seeded.tehran}/delete", data={"csrf_token": _token(audit), "version": "1"},
                          params={"lang": "fa"})  # fmt: skip
    assert refused.status_code == 409 and "حذف نشد" in refused.text
    r = client.post(f"/audit/{entry_id}/restore", data={"csrf_token": _token(audit)}, follow_redirects=False)
    assert r.status_code == 303
    with _session(sqlite_url) as s:
        restored = s.get(Relation, rel)
        assert restored is not None and restored.kind == "mou" and restored.status == "signed"
        assert s.get(Outcome, out).code == "award" and s.get(FollowUpAction, action).owner == "Unit A"
        assert s.get(Activity, act).relation_id == rel and s.get(Activity, act).title == before["title"]
        assert s.scalar(statuses) == before["statuses"]
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "restore")) == 1
    # Once only.
    audit = client.get("/audit", params={"entity": "relation"}).text
    assert f'action="/audit/{entry_id}/restore"' not in audit
    assert client.post(f"/audit/{entry_id}/restore", data={"csrf_token": _token(audit)}).status_code == 409


# --- the conflict page -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_a_conflict_keeps_the_input_and_shows_both_versions(
    client: TestClient, sqlite_url: str, seeded: Seeded, lang: str
) -> None:
    rel, act, _, _ = _agreement_with_record(sqlite_url, seeded)
    login(client, "editor")
    form = client.get(f"/records/activities/{act}/edit", params={"lang": lang}).text
    mine = {"csrf_token": _token(form), "version": "1", "kind": "visit", "title": "My title", "year": "2024",
            "relation_id": str(rel), "place_id": str(seeded.tehran)}  # fmt: skip
    theirs = {**mine, "title": "Their title"}
    assert client.post(f"/records/activities/{act}/edit", data=theirs, follow_redirects=False).status_code == 303
    r = client.post(f"/records/activities/{act}/edit", data=mine, params={"lang": lang})
    assert r.status_code == 409
    assert 'id="conflict"' in r.text and 'value="My title"' in r.text  # the input is kept
    row = re.search(r'<tr class="differs"><th scope="row">([^<]+)</th><td class="yours">([^<]*)</td>'
                    r'<td class="theirs">([^<]*)</td>', r.text)  # fmt: skip
    assert row and row.group(2) == "My title" and row.group(3) == "Their title"
    assert 'name="version" value="2"' in r.text  # on top of the current version
    again = client.post(f"/records/activities/{act}/edit", data={**mine, "version": "2"}, follow_redirects=False)
    assert again.status_code == 303
    with _session(sqlite_url) as s:
        assert s.get(Activity, act).title == "My title"


# --- the browser ---------------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_chromium_picks_isfahan_in_persian_with_a_solar_hijri_date(sqlite_url: str) -> None:
    import socket
    import threading
    import time

    import uvicorn
    from playwright.sync_api import sync_playwright

    ids = seed(sqlite_url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(sqlite_url, secret_key="e2e"), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/login?lang=fa")
            page.fill("input[name=username]", "editor")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(base + f"/records/agreements/new?lang=fa&place_id={ids.tehran}")
            assert page.get_attribute("html", "dir") == "rtl"
            page.fill("#f-partner_place_id__q", "اصفهان")
            page.wait_for_selector("#results-f-partner_place_id button.pick")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Enter")
            assert page.input_value("#f-partner_place_id__gaz")
            assert "ایران" in page.inner_text("#picked-f-partner_place_id")
            page.select_option("#f-kind", "cooperation_memorandum")
            page.select_option("#f-status", "signed")
            page.fill("#f-title", "Isfahan cooperation")
            page.fill("#f-signed_on", "۱۴۰۳/۰۲/۱۵")
            page.click("#save")
            page.wait_for_url(re.compile(r"/agreements/\d+"))
            assert "اصفهان" in page.inner_text("body")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    with _session(sqlite_url) as s:
        rel = s.scalar(select(Relation).where(Relation.title == "Isfahan cooperation"))
        partner = s.get(Place, rel.place_b_id if rel.place_a_id == ids.tehran else rel.place_a_id)
        assert rel.signed_on == date(2024, 5, 4) and rel.kind == "cooperation_memorandum"
        assert partner.name == "Isfahan" and partner.country_code == "IR" and partner.gazetteer == "geonames"
        assert partner.name_fa == "اصفهان" and partner.lat and partner.gazetteer_id.isdigit()


def test_a_duplicate_is_refused_with_the_typed_form_kept(client: TestClient, seeded: Seeded) -> None:
    login(client, "editor")
    token = _token(client.get("/records/memberships/new", params={"lang": "fa"}).text)
    fields = {"csrf_token": token, "place_id__q": "تهران", "organisation_id__q": "متروپلیس", "role": "board",
              "notes": "typed notes"}  # fmt: skip
    r = client.post("/records/memberships/new", data=fields, params={"lang": "fa"})
    assert r.status_code == 409
    assert "ذخیره نشد" in r.text and "UNIQUE" not in r.text and "typed notes" in r.text
    assert 'value="متروپلیس"' in r.text


# --- the office's records picked by name (an outcome's agreement, an activity's membership) ----------------------


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_an_outcome_picks_its_agreement_by_name_not_by_number(
    client: TestClient, sqlite_url: str, seeded: Seeded, lang: str
) -> None:
    rel, act, _, _ = _agreement_with_record(sqlite_url, seeded)
    with _session(sqlite_url) as s:
        s.get(Relation, rel).title = "Beirut MoU on libraries"
    login(client, "editor")
    page = client.get("/records/outcomes/new", params={"lang": lang, "relation_id": str(rel)}).text
    # A name box with the agreement's parties, the id hidden: no number box to type into.
    assert 'id="f-relation_id__q"' in page and 'data-suggest="/api/suggest/agreements"' in page
    assert re.search(f'<input type="hidden" id="f-relation_id" name="relation_id" value="{rel}">', page)
    beirut = "بیروت" if lang == "fa" else "Beirut"
    assert re.search(f'id="f-relation_id__q"[^>]*value="[^"]*{beirut}', page)
    # The picker's suggestions: by a party's name (the seed's relation with Beirut too), newest first, in the
    # page's language.
    got = client.get("/api/suggest/agreements", params={"q": beirut, "lang": lang}).json()["items"]
    assert got[0]["id"] == rel and len(got) == 2 and all(beirut in s["label"] for s in got)
    assert [s["id"] for s in client.get("/api/suggest/agreements", params={"q": "libraries"}).json()["items"]] == [rel]
    assert [s["id"] for s in client.get("/api/suggest/activities", params={"q": "Beirut vis"}).json()["items"]] == [act]
    assert client.get("/api/suggest/nothing", params={"q": "x"}).status_code == 404
    # Without JavaScript: the typed name is resolved on the server.
    r = client.post("/records/outcomes/new", params={"lang": lang}, data={"csrf_token": _token(page),
                    "relation_id": "", "relation_id__q": "mou on LIBRARIES", "code": "award", "quantity": "2"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:3000]
    with _session(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(Outcome).where(Outcome.relation_id == rel)) == 2
    # A name nothing has: said in the page's language, the typed form kept, nothing written.
    r = client.post("/records/actions/new", params={"lang": lang}, data={"csrf_token": _token(page),
                    "activity_id__q": "Atlantis", "title": "Call", "owner": "Unit B"})  # fmt: skip
    assert r.status_code == 422 and 'value="Atlantis"' in r.text
    assert ("یافت نشد" if lang == "fa" else "nothing called “Atlantis” found") in r.text
    with _session(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(FollowUpAction)) == 1


def test_several_agreements_with_one_partner_are_offered_as_choices(
    client: TestClient, sqlite_url: str, seeded: Seeded
) -> None:
    rel, _, _, _ = _agreement_with_record(sqlite_url, seeded)
    second, _, _, _ = _agreement_with_record(sqlite_url, seeded)  # a second MoU with Beirut
    login(client, "editor")
    page = client.get("/records/activities/new").text
    data = {"csrf_token": _token(page), "kind": "visit", "title": "Second visit", "year": "2025",
            "relation_id__q": "Beirut"}  # fmt: skip
    r = client.post("/records/activities/new", data=data)
    assert r.status_code == 422 and 'id="choices-f-relation_id"' in r.text
    assert f'value="id:{rel}"' in r.text and f'value="id:{second}"' in r.text
    r = client.post("/records/activities/new", data={**data, "relation_id__choice": f"id:{second}"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with _session(sqlite_url) as s:
        assert s.scalar(select(Activity.relation_id).where(Activity.title == "Second visit")) == second


# --- signatories, delegation participants and documents: edited, deleted, restored ---------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _office_links(sqlite_url: str, seeded: Seeded) -> dict[str, int]:
    from citydiplomacy.store import documents, inputs, people
    from citydiplomacy.store.records import create_record

    rel, _, _, _ = _agreement_with_record(sqlite_url, seeded)
    with _session(sqlite_url) as s:
        s.info["actor"] = "seed"
        mayor = create_record(s, "people", inputs.PersonIn(name="Ali Mayor", name_fa="علی شهردار"), "seed")
        deputy = create_record(s, "people", inputs.PersonIn(name="Sara Deputy", name_fa="سارا معاون"), "seed")
        sig = people.add_signatory(s, inputs.SignatoryIn(relation_id=rel, person_id=mayor.id), "seed")
        visit = people.add_delegation(s, inputs.DelegationIn.model_validate({
            "title": "Beirut delegation", "direction": "incoming", "year": 2024, "relation_id": rel,
            "people": [{"person_id": mayor.id, "role": "host"}]}), "seed")  # fmt: skip
        doc = documents.add_document(s, inputs.DocumentIn(relation_id=rel, kind="signed_text"), "mou.pdf", PDF, "seed")
        s.flush()
        return {"rel": rel, "mayor": mayor.id, "deputy": deputy.id, "signatories": sig.id,
                "participants": visit.people[0].id, "documents": doc.id, "visit": visit.id}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_signatories_participants_and_documents_are_edited_by_name(
    client: TestClient, sqlite_url: str, seeded: Seeded, lang: str
) -> None:
    from citydiplomacy.store.schema import ActivityPerson, AgreementSignatory, Document

    ids = _office_links(sqlite_url, seeded)
    login(client, "editor")
    for kind in ("signatories", "participants", "documents"):
        listing = client.get(f"/records/{kind}", params={"lang": lang}).text
        assert f"/records/{kind}/{ids[kind]}/edit" in listing and f"/records/{kind}/{ids[kind]}/delete" in listing
    # The person is picked by name, in either script; the agreement by its parties.
    form = client.get(f"/records/signatories/{ids['signatories']}/edit", params={"lang": lang}).text
    assert 'data-suggest="/api/suggest/people"' in form and ("علی شهردار" if lang == "fa" else "Ali Mayor") in form
    got = client.get("/api/suggest/people", params={"q": "سارا"}).json()["items"]
    assert [p["id"] for p in got] == [ids["deputy"]]
    r = client.post(f"/records/signatories/{ids['signatories']}/edit", params={"lang": lang}, data={
        "csrf_token": _token(form), "relation_id": str(ids["rel"]), "person_id": "", "person_id__q": "سارا معاون",
        "role": "witness"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith(f"/agreements/{ids['rel']}")
    form = client.get(f"/records/participants/{ids['participants']}/edit", params={"lang": lang}).text
    r = client.post(f"/records/participants/{ids['participants']}/edit", data={
        "csrf_token": _token(form), "activity_id": str(ids["visit"]), "person_id": str(ids["mayor"]),
        "role": "head of delegation"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    # A document's kind and title are edited; its file and checksum stay as uploaded; no form creates one.
    form = client.get(f"/records/documents/{ids['documents']}/edit", params={"lang": lang}).text
    assert 'name="kind"' in form and 'type="file"' not in form
    assert ("متن امضاشده" if lang == "fa" else "Signed text") in form  # the kind in the page's language
    edited = {"csrf_token": _token(form), "kind": "minutes", "title": "Minutes of the signing"}
    r = client.post(f"/records/documents/{ids['documents']}/edit", data=edited, follow_redirects=False)
    assert r.status_code == 303
    assert "/records/documents/new" not in client.get("/records/documents", params={"lang": lang}).text
    assert client.get("/records/documents/new", follow_redirects=False).status_code == 303
    with _session(sqlite_url) as s:
        from citydiplomacy.store.records import record_dict

        assert "content" not in record_dict(s.get(Document, ids["documents"]))  # a list never loads the bytes
        sig = s.get(AgreementSignatory, ids["signatories"])
        assert (sig.person_id, sig.role) == (ids["deputy"], "witness")
        assert s.get(ActivityPerson, ids["participants"]).role == "head of delegation"
        doc = s.get(Document, ids["documents"])
        assert (doc.kind, doc.title, doc.content) == ("minutes", "Minutes of the signing", PDF)
    # An unknown person is said in the page's language and nothing changes.
    r = client.post(f"/records/signatories/{ids['signatories']}/edit", params={"lang": lang}, data={
        "csrf_token": _token(form), "relation_id": str(ids["rel"]), "person_id__q": "Nobody Known",
        "role": "witness"})  # fmt: skip
    assert r.status_code == 422 and ("یافت نشد" if lang == "fa" else "nothing called “Nobody Known”") in r.text


def test_a_deleted_signatory_participant_or_document_is_restored_by_an_admin(
    client: TestClient, sqlite_url: str, seeded: Seeded
) -> None:
    import hashlib

    from citydiplomacy.store.schema import ActivityPerson, AgreementSignatory, Document

    ids = _office_links(sqlite_url, seeded)
    models = {"signatories": AgreementSignatory, "participants": ActivityPerson, "documents": Document}
    tables = {"signatories": "agreement_signatory", "participants": "activity_person", "documents": "document"}
    for kind, model in models.items():
        login(client, "editor")
        page = client.get(f"/records/{kind}/{ids[kind]}/delete", params={"lang": "fa"})
        assert page.status_code == 200 and "حذف" in page.text
        r = client.post(f"/records/{kind}/{ids[kind]}/delete", data={"csrf_token": _token(page.text), "version": "0"},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text[:2000]
        with _session(sqlite_url) as s:
            assert s.get(model, ids[kind]) is None
            entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "delete", AuditEntry.entity == tables[kind],
                                                      AuditEntry.entity_id == ids[kind]))  # fmt: skip
            assert entry.changes["rows"][0]["table"] == tables[kind]
            entry_id = entry.id
        login(client, "admin")
        audit = client.get("/audit", params={"entity": tables[kind]}).text
        assert f'action="/audit/{entry_id}/restore"' in audit
        r = client.post(f"/audit/{entry_id}/restore", data={"csrf_token": _token(audit)}, follow_redirects=False)
        assert r.status_code == 303
    with _session(sqlite_url) as s:
        assert s.get(AgreementSignatory, ids["signatories"]).person_id == ids["mayor"]
        assert s.get(ActivityPerson, ids["participants"]).role == "host"
        doc = s.get(Document, ids["documents"])
        assert doc.content == PDF and doc.sha256 == hashlib.sha256(PDF).hexdigest()  # the file's bytes come back
    # The agreement's page downloads the restored file.
    login(client, "editor")
    assert client.get(f"/documents/{ids['documents']}").content == PDF


# --- outcomes are versioned --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_a_stale_outcome_edit_gets_the_conflict_page(
    client: TestClient, sqlite_url: str, seeded: Seeded, lang: str
) -> None:
    rel, _, out, _ = _agreement_with_record(sqlite_url, seeded)
    login(client, "editor")
    form = client.get(f"/records/outcomes/{out}/edit", params={"lang": lang}).text
    assert 'name="version" value="1"' in form
    mine = {"csrf_token": _token(form), "version": "1", "relation_id": str(rel), "code": "award",
            "evidence": "My certificate"}  # fmt: skip
    theirs = {**mine, "evidence": "Their certificate"}
    assert client.post(f"/records/outcomes/{out}/edit", data=theirs, follow_redirects=False).status_code == 303
    r = client.post(f"/records/outcomes/{out}/edit", data=mine, params={"lang": lang})
    assert r.status_code == 409 and 'id="conflict"' in r.text and "My certificate" in r.text
    row = re.search(r'<tr class="differs"><th scope="row">([^<]+)</th><td class="yours">([^<]*)</td>'
                    r'<td class="theirs">([^<]*)</td>', r.text)  # fmt: skip
    assert row and row.group(2) == "My certificate" and row.group(3) == "Their certificate"
    # The agreement is shown by its name in both versions, not by its number.
    beirut = "بیروت" if lang == "fa" else "Beirut"
    agreement = re.search(r'<tr><th scope="row">[^<]+</th><td class="yours">([^<]*)</td>'
                          r'<td class="theirs">([^<]*)</td>', r.text)  # fmt: skip
    assert agreement and beirut in agreement.group(1) and beirut in agreement.group(2)
    assert 'name="version" value="2"' in r.text
    with _session(sqlite_url) as s:
        assert s.get(Outcome, out).evidence == "Their certificate"  # the stale edit wrote nothing
    again = client.post(f"/records/outcomes/{out}/edit", data={**mine, "version": "2"}, follow_redirects=False)
    assert again.status_code == 303
    with _session(sqlite_url) as s:
        assert s.get(Outcome, out).evidence == "My certificate" and s.get(Outcome, out).version == 3


# --- membership dues: a record the office edits and deletes like the others -------------------------------------


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_membership_dues_are_added_edited_and_deleted_by_name(
    client: TestClient, sqlite_url: str, seeded: Seeded, lang: str
) -> None:
    from citydiplomacy.store.schema import Membership, MembershipDue

    login(client, "editor")
    form = client.get("/records/dues/new", params={"lang": lang}).text
    assert 'data-suggest="/api/suggest/memberships"' in form  # the membership is picked by name
    # Seoul's membership of Metropolis, named by its place; amount in Persian digits on the Persian form.
    r = client.post("/records/dues/new", params={"lang": lang}, data={
        "csrf_token": _token(form), "membership_id": "", "membership_id__q": "Seoul", "year": "2024",
        "amount": "۱۲۰۰" if lang == "fa" else "1200", "currency": "EUR"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:3000]
    with _session(sqlite_url) as s:
        due = s.scalar(select(MembershipDue))
        place = s.get(Place, s.get(Membership, due.membership_id).place_id)
        assert (place.name, due.year, due.amount, due.currency) == ("Seoul", 2024, 1200.0, "EUR")
        due_id, membership_id = due.id, due.membership_id
    listing = client.get("/records/dues", params={"lang": lang}).text
    assert f"/records/dues/{due_id}/edit" in listing and ("۱٬۲۰۰" if lang == "fa" else "1,200") in listing
    form = client.get(f"/records/dues/{due_id}/edit", params={"lang": lang}).text
    r = client.post(f"/records/dues/{due_id}/edit", data={"csrf_token": _token(form), "membership_id": str(
        membership_id), "year": "2024", "amount": "1500", "currency": "USD"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:3000]
    page = client.get(f"/records/dues/{due_id}/delete", params={"lang": lang})
    r = client.post(f"/records/dues/{due_id}/delete", data={"csrf_token": _token(page.text), "version": "0"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with _session(sqlite_url) as s:
        assert s.get(MembershipDue, due_id) is None
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "delete", AuditEntry.entity == "membership_due"))
        kept = entry.changes["rows"][0]["row"]  # the snapshot an admin restores
        assert (kept["amount"], kept["currency"]) == (1500.0, "USD")


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_cities_and_organisations_taking_part_are_added_edited_and_deleted_by_name(
    client: TestClient, sqlite_url: str, seeded: Seeded, lang: str
) -> None:
    from citydiplomacy.store.schema import ActivityParticipant

    login(client, "editor")
    form = client.get("/records/activity_parties/new", params={"lang": lang}).text
    assert 'data-suggest="/api/suggest/activities"' in form  # the activity picked by its title
    # The Seoul visit, by its title; Seoul, by its Persian name on the Persian form.
    fields = {"csrf_token": _token(form), "activity_id__q": "Mayor's visit to Seoul", "role": "host",
              "place_id__q": "سئول" if lang == "fa" else "Seoul"}  # fmt: skip
    r = client.post("/records/activity_parties/new", params={"lang": lang}, data=fields, follow_redirects=False)
    assert r.status_code == 303, r.text[:3000]
    with _session(sqlite_url) as s:
        party = s.scalar(select(ActivityParticipant).order_by(ActivityParticipant.id.desc()).limit(1))
        assert (party.place_id, party.organisation_id, party.role) == (seeded.seoul, None, "host")
        visit = s.get(Activity, party.activity_id)
        assert visit.title == "Mayor's visit to Seoul"
        party_id, visit_id = party.id, visit.id
    # Neither a city nor an organisation: said in the page's language, nothing written.
    r = client.post("/records/activity_parties/new", params={"lang": lang}, data={
        "csrf_token": _token(form), "activity_id": str(visit_id), "role": "guest"})  # fmt: skip
    assert r.status_code == 422
    # Edited: the organisation instead of the city.
    form = client.get(f"/records/activity_parties/{party_id}/edit", params={"lang": lang}).text
    r = client.post(f"/records/activity_parties/{party_id}/edit", data={"csrf_token": _token(form), "activity_id": str(
        visit_id), "organisation_id": str(seeded.uclg), "role": "guest"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:3000]
    listing = client.get("/records/activity_parties", params={"lang": lang}).text
    assert f"/records/activity_parties/{party_id}/edit" in listing
    page = client.get(f"/records/activity_parties/{party_id}/delete", params={"lang": lang})
    deletion = {"csrf_token": _token(page.text), "version": "0"}
    r = client.post(f"/records/activity_parties/{party_id}/delete", data=deletion, follow_redirects=False)
    assert r.status_code == 303
    with _session(sqlite_url) as s:
        assert s.get(ActivityParticipant, party_id) is None
        assert s.scalar(select(func.count()).select_from(ActivityParticipant).where(
            ActivityParticipant.activity_id == visit_id)) == 0  # fmt: skip
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "delete",
                                                  AuditEntry.entity == "activity_participant"))  # fmt: skip
        assert entry.changes["rows"][0]["row"]["organisation_id"] == seeded.uclg
