"""The council report (issue 10): a city's year of cooperation beside the year before, Gregorian or Solar Hijri,
in English and Persian, as HTML, PDF (checked with pdftotext) and a dashboard page.

Two registries: the bundled Tehran case study (1403 renders, its dormant agreements are listed, nothing else is
recorded for the year) and a small seeded one into which a year of the office's work is entered through the store
services, so that every figure of 1403 and of 1402 is known.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from test_web_api import login
from test_web_support import Seeded, seed
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.report.council import (
    CouncilReportError,
    Period,
    council_report,
    council_report_html,
    period_of,
    render_html,
)
from citydiplomacy.store import agreements, db, inputs
from citydiplomacy.store.records import change_status, create_record
from citydiplomacy.store.schema import Activity, Membership, Place, Relation
from citydiplomacy.web.app import create_app

TODAY = date(2026, 12, 3)
ASCII_DIGIT = re.compile(r"[0-9]")
chromium = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")


# --- the period -------------------------------------------------------------------------------------------------


def test_a_solar_hijri_year_runs_from_nowruz_to_the_end_of_esfand() -> None:
    p = period_of(1403, today=TODAY)
    assert (p.calendar, p.start, p.end) == ("solar_hijri", date(2024, 3, 20), date(2025, 3, 20))  # 1403 is leap
    assert (p.previous().start, p.previous().end) == (date(2023, 3, 21), date(2024, 3, 19))
    g = period_of(2024, today=TODAY)
    assert (g.calendar, g.start, g.end) == ("gregorian", date(2024, 1, 1), date(2024, 12, 31))
    assert period_of(2024, "gregorian", today=TODAY) == g and period_of(1403, "solar-hijri", today=TODAY) == p
    assert p.name("en") == "1403 SH" and p.name("fa") == "۱۴۰۳"
    assert g.name("en") == "2024 (1402/03 SH)"
    assert p.span("en") == "2024-03-20 (1403/01/01 SH) – 2025-03-20 (1403/12/30 SH)"  # Gregorian first, SH beside
    assert p.span("fa") == "۱۴۰۳/۰۱/۰۱ (۲۰۲۴-۰۳-۲۰) – ۱۴۰۳/۱۲/۳۰ (۲۰۲۵-۰۳-۲۰)"  # Solar Hijri first


@pytest.mark.parametrize(
    ("year", "calendar"), [(1403, "gregorian"), (2027, "auto"), (1406, "auto"), (1899, "auto"), (3000, "auto")]
)
def test_a_year_out_of_range_is_refused_in_the_users_language(year: int, calendar: str) -> None:
    with pytest.raises(CouncilReportError, match=f"Year {year} is out of range"):
        period_of(year, calendar, today=TODAY)
    with pytest.raises(CouncilReportError) as fa:
        period_of(year, calendar, lang="fa", today=TODAY)
    assert "خارج از محدوده" in str(fa.value) and not ASCII_DIGIT.search(str(fa.value))
    with pytest.raises(CouncilReportError, match="Unknown calendar julian"):
        period_of(2024, "julian", today=TODAY)


# --- the case study ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def casestudy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    path = tmp_path_factory.mktemp("council") / "registry.db"
    url = f"sqlite:///{path}"
    engine = db.get_engine(url)
    db.upgrade(engine)
    load_case_study(engine)
    yield url, engine
    engine.dispose()
    db.get_engine.cache_clear()


def _tehran_in_force(engine: Engine) -> dict[int, tuple[str, str | None]]:
    """Tehran's agreements in force in the case study: id -> the partner's names (English, Persian)."""
    with db.session_scope(engine) as s:
        tehran = s.scalars(select(Place).where(Place.name == "Tehran", Place.country_code == "IR")).one()
        out = {}
        for r in s.scalars(agreements.agreements_query(tehran.id)):
            if r.status in ("active", "dormant"):
                partner = agreements.parties_of(r, tehran.id)[1]
                out[r.id] = (partner["name"], partner["name_fa"])
        return out


def test_tehran_1403_lists_its_dormant_agreements_and_says_nothing_else_is_recorded(
    casestudy: tuple[str, Engine],
) -> None:
    engine = casestudy[1]
    in_force = _tehran_in_force(engine)
    assert len(in_force) >= 20
    with db.session_scope(engine) as s:
        report = council_report(s, "Tehran", "IR", 1403, today=TODAY)
        by_place = council_report(s, "تهران", None, 1403, today=TODAY)  # the Persian name finds it too
    cur = report["current"]
    # The case study dates nothing in 1403: every agreement in force is quiet (the agreement health's own flag).
    assert {a["id"] for a in cur["agreements"]["dormant"]} == set(in_force)
    assert cur["nothing_recorded"] and cur["activities"]["total"] == 0 and cur["overdue"] == []
    assert dict((k, (a, b)) for k, a, b in report["comparison"])["council_dormant"] == (len(in_force), len(in_force))
    assert by_place["comparison"] == report["comparison"]

    html_en = render_html(report, "en")
    html_fa = render_html(report, "fa")
    assert '<html lang="en" dir="ltr">' in html_en and '<html lang="fa" dir="rtl">' in html_fa
    assert "Council report 1403 SH — Tehran" in html_en and "گزارش شورا ۱۴۰۳ — تهران" in html_fa
    assert "2024-03-20 (1403/01/01 SH)" in html_en and "۱۴۰۳/۰۱/۰۱ (۲۰۲۴-۰۳-۲۰)" in html_fa
    assert 'id="nothing-recorded"' in html_en and "Nothing recorded for 1403 SH" in html_en
    assert "برای ۱۴۰۳ چیزی ثبت نشده است" in html_fa
    # Empty sections say so instead of drawing empty tables.
    for table in ("signed", "renewed", "ended", "delegations", "outcomes", "overdue", "dues"):
        assert f'id="{table}"' not in html_en
    assert html_en.count("Nothing recorded in 1403 SH.") >= 6
    for name, name_fa in in_force.values():
        assert name in html_en and (name_fa or name) in html_fa
    # No request leaves the page: the font is embedded, nothing is linked.
    assert "http://" not in html_en.replace("http://www.w3.org", "") and "https://" not in html_en
    # Persian digits in the Persian page's text (tags and attributes aside; currency codes are letters).
    text_fa = re.sub(r"<style>.*?</style>|<script>.*?</script>|<[^>]+>", " ", html_fa, flags=re.S)
    assert not ASCII_DIGIT.search(text_fa)


@chromium
@pdftotext
@pytest.mark.parametrize("lang", ["en", "fa"])
def test_tehran_1403_prints_to_pdf_with_its_headings_and_dormant_agreements(
    casestudy: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    url, engine = casestudy
    monkeypatch.setenv("CITYDIP_DATABASE_URL", url)
    db.get_engine.cache_clear()
    out = tmp_path / f"council-1403-{lang}.pdf"
    result = CliRunner().invoke(
        app, ["report", "council", "Tehran", "--year", "1403", "--lang", lang, "--format", "pdf", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    in_force = _tehran_in_force(engine)
    if lang == "en":
        for heading in ("Council report 1403 SH — Tehran", "The year in figures", "Agreements signed",
                        "Dormant agreements at the year's end", "Delegations and visits",
                        "Spending and membership dues", "Outcomes", "Overdue follow-up actions at the year's end",
                        "Nothing recorded for 1403 SH"):  # fmt: skip
            assert heading in flat, heading
        names = [name for name, _ in in_force.values()]
    else:
        # pdftotext writes right-to-left runs in logical order, wrapped in directional marks (dropped here),
        flat = re.sub("[\u200e\u200f\u202a-\u202e]", "", flat)
        for heading in ("گزارش شورا", "سال در یک نگاه", "توافق‌نامه‌های راکد در پایان سال", "هیئت‌ها و بازدیدها",
                        "اقدامات پیگیری معوق در پایان سال"):  # fmt: skip
            assert heading in flat, heading
        # and gives the lam-alef ligature («لا», as in میلان) back as alef + lam.
        names = [(name_fa or name).replace("لا", "ال") for name, name_fa in in_force.values()]
    missing = [n for n in names if n not in flat]
    assert not missing, f"dormant agreements not in the PDF: {missing}"


def test_the_cli_refuses_an_unknown_city_and_a_bad_year_in_the_users_language(
    casestudy: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYDIP_DATABASE_URL", casestudy[0])
    db.get_engine.cache_clear()
    runner = CliRunner()
    out = tmp_path / "x.html"
    unknown = runner.invoke(app, ["report", "council", "Atlantis", "--year", "1403", "--lang", "fa", "--out", str(out)])
    assert unknown.exit_code == 2 and "شهری به نام «Atlantis» در پایگاه داده نیست" in unknown.output
    late = runner.invoke(app, ["report", "council", "Tehran", "--year", "2999", "--out", str(out)])
    assert late.exit_code == 2 and "Year 2999 is out of range" in late.output
    wrong = runner.invoke(app, ["report", "council", "Tehran", "--year", "1403", "--calendar", "gregorian",
                                "--out", str(out)])  # fmt: skip
    assert wrong.exit_code == 2 and "Year 1403 is out of range" in wrong.output
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing half-written
    ok = runner.invoke(app, ["report", "council", "Tehran", "--year", "2024", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "Council report 2024 (1402/03 SH) — Tehran" in out.read_text(encoding="utf-8")
    # `citydip report CITY` is still the city profile.
    profile = runner.invoke(app, ["report", "Tehran", "--out", str(tmp_path / "p.html")])
    assert profile.exit_code == 0, profile.output


# --- a year of the office's work, entered through the store services ----------------------------------------------


@dataclass
class Year:
    seeded: Seeded
    kl: int  # Tehran–Kuala Lumpur sister cities (1997)
    beirut: int  # friendship, ended in 1403
    seoul: int  # suspended, back in force in 1403
    istanbul: int  # an MoU signed in 1403
    metropolis_mou: int  # an agreement with an organisation, signed in 1402


def _activity(s, title: str, kind: str, on: str | None, **fields) -> Activity:  # type: ignore[no-untyped-def]
    body = {"kind": kind, "title": title, **({"happened_on": on} if on else {}), **fields}
    return create_record(s, "activities", inputs.ActivityIn.model_validate(body), "office")


def enter_a_year(url: str) -> Year:
    """Seed ``url`` and enter 1402 and 1403 of the office's work (and a little after) through the store services."""
    ids = seed(url)
    with db.session_scope(db.get_engine(url)) as s:
        s.info["actor"] = "office"
        tehran = ids.tehran
        rel = {r.kind + str(r.place_a_id + r.place_b_id - tehran): r.id for r in s.scalars(select(Relation))}
        kl, beirut, seoul = rel[f"sister_city{ids.kuala_lumpur}"], rel[f"friendship{ids.beirut}"], rel[
            f"sister_city{ids.seoul}"]  # fmt: skip
        istanbul = create_record(s, "agreements", inputs.AgreementIn.model_validate({
            "place_id": tehran, "partner_place_id": ids.istanbul, "kind": "mou", "title": "Urban transport MoU",
            "signed_on": "2024-05-10"}), "office").id  # fmt: skip
        metropolis_mou = create_record(s, "agreements", inputs.AgreementIn.model_validate({
            "place_id": tehran, "partner_organisation_id": ids.metropolis, "kind": "mou",
            "title": "Metropolis training MoU", "signed_on": "2023-06-01"}), "office").id  # fmt: skip
        for rid, status, on in ((seoul, "active", "2024-09-01"), (beirut, "ended", "2025-01-15")):
            r = s.get(Relation, rid)
            change_status(s, rid, inputs.StatusChangeIn.model_validate(
                {"status": status, "reason": "council decision", "effective_on": on, "version": r.version}),
                "office")  # fmt: skip
        metropolis = s.scalars(select(Membership).where(Membership.place_id == tehran,
                               Membership.organisation_id == ids.metropolis)).one()  # fmt: skip
        uclg = s.scalars(select(Membership).where(Membership.place_id == tehran,
                         Membership.organisation_id == ids.uclg)).one()  # fmt: skip
        a1 = _activity(s, "Delegation from Kuala Lumpur", "visit", "2024-04-10", relation_id=kl, cost_amount=12000.0,
                       cost_currency="EUR", dimensions=["economy", "culture"], place_id=tehran)  # fmt: skip
        a2 = _activity(s, "Delegation to Istanbul", "delegation", "2024-11-02", relation_id=istanbul,
                       cost_amount=3e9, cost_currency="IRR", dimensions=["networks"])  # fmt: skip
        a3 = _activity(s, "Green corridor project", "project", "2025-02-01", place_id=tehran, cost_amount=500.0,
                       cost_currency="EUR")  # fmt: skip
        a3.functions = ["fn.facilitating_communication"]  # ActivityIn has no functions field: set on the record
        _activity(s, "Return visit from Kuala Lumpur", "visit", "2024-03-10", relation_id=kl, cost_amount=800.0,
                  cost_currency="EUR", dimensions=["economy"])  # 1402: ten days before Nowruz  # fmt: skip
        _activity(s, "After the year", "visit", "2025-03-21", relation_id=kl, cost_amount=1.0, cost_currency="EUR")
        _activity(s, "Metropolis board", "summit_hosted", None, year=2024, membership_id=metropolis.id)
        for body in (
            {"activity_id": a1.id, "code": "knowledge_exchanged", "quantity": 30},
            {"activity_id": a2.id, "code": "knowledge_exchanged", "quantity": 12},
            {"relation_id": istanbul, "code": "award", "happened_on": "2025-03-19"},
            {"relation_id": kl, "code": "funds_mobilised", "quantity": 50000, "unit": "EUR",
             "happened_on": "2023-12-01"},
        ):  # fmt: skip
            agreements.add_outcome(s, inputs.OutcomeIn.model_validate(body), "office")
        for m, year, amount, currency in ((metropolis, 2024, 5000.0, "EUR"), (metropolis, 2023, 4500.0, "EUR"),
                                          (uclg, 2024, 1e8, "IRR")):  # fmt: skip
            agreements.add_due(s, inputs.DueIn(membership_id=m.id, year=year, amount=amount, currency=currency),
                               "office")  # fmt: skip
        agreements.add_action(s, inputs.ActionIn(relation_id=kl, title="Send the minutes", owner="International "
                              "affairs", due_on=date(2024, 6, 1)), "office")  # fmt: skip
        agreements.add_action(s, inputs.ActionIn(relation_id=istanbul, title="Next round", owner="Transport",
                              due_on=date(2025, 6, 1)), "office")  # fmt: skip
    return Year(ids, kl, beirut, seoul, istanbul, metropolis_mou)


@pytest.fixture
def year_of_work(sqlite_url: str) -> Year:
    return enter_a_year(sqlite_url)


#: The comparison of 1403 with 1402 that the entered year gives: (1403, 1402) per figure.
EXPECTED_1403 = {
    "council_signed": (1, 1),
    "council_renewed": (1, 0),
    "council_ended": (1, 0),
    "council_dormant": (1, 1),
    "council_activities": (4, 1),
    "council_delegations": (2, 1),
    "council_outcomes": (3, 1),
    "council_overdue": (1, 0),
}


def _collect(url: str, year: int, lang: str = "en") -> dict:
    with db.session_scope(db.get_engine(url)) as s:
        report = council_report(s, "Tehran", None, year, lang=lang, today=TODAY)
        report["html"] = render_html(report, lang)
        return report


def test_the_years_figures_and_the_year_befores(sqlite_url: str, year_of_work: Year) -> None:
    y = year_of_work
    report = _collect(sqlite_url, 1403)
    cur, prev = report["current"], report["previous"]
    assert prev["period"] == Period.of("solar_hijri", 1402)
    assert dict((k, (a, b)) for k, a, b in report["comparison"]) == EXPECTED_1403
    ag = cur["agreements"]
    assert [a["id"] for a in ag["signed"]] == [y.istanbul] and [a["id"] for a in prev["agreements"]["signed"]] == [
        y.metropolis_mou]  # fmt: skip
    assert prev["agreements"]["signed"][0]["parties"][1]["type"] == "organisation"
    assert [(a["id"], a["how"], a["previous"]) for a in ag["renewed"]] == [(y.seoul, "revived", "suspended")]
    assert [(a["id"], a["on"], a["reason"]) for a in ag["ended"]] == [(y.beirut, "2025-01-15", "council decision")]
    # Dormant as each year ended, by the status the agreement had then (its history), not its status now: at the
    # end of 1402 Seoul was suspended (not in force) and Beirut, ended only in 1403, was in force and quiet; at the
    # end of 1403 Seoul was back in force with no activity since its signing in 2004, and Beirut had ended.
    # Kuala Lumpur's visits keep it off both lists.
    assert [a["id"] for a in prev["agreements"]["dormant"]] == [y.beirut]
    assert [a["id"] for a in ag["dormant"]] == [y.seoul]

    acts = cur["activities"]
    assert acts["year_only"] == 1  # the Metropolis board, known by its year (2024): counted as of 31 December
    assert dict(acts["by_kind"]) == {"visit": 1, "delegation": 1, "project": 1, "summit_hosted": 1}
    assert acts["by_dimension"] == [("economy", 1), ("culture", 1), ("networks", 1), ("-", 2)]
    assert dict(acts["by_function"]) == {"fn.facilitating_communication": 1, "-": 3}
    assert [d["title"] for d in cur["delegations"]] == ["Delegation from Kuala Lumpur", "Delegation to Istanbul"]
    assert cur["delegations"][0]["partner"]["name"] == "Kuala Lumpur"
    # Spending and dues per currency, never added across currencies.
    assert cur["spending"] == [{"currency": "EUR", "amount": 12500.0, "activities": 2},
                               {"currency": "IRR", "amount": 3e9, "activities": 1}]  # fmt: skip
    assert prev["spending"] == [{"currency": "EUR", "amount": 800.0, "activities": 1}]
    assert cur["dues_total"] == [{"currency": "EUR", "amount": 5000.0}, {"currency": "IRR", "amount": 1e8}]
    assert prev["dues_total"] == [{"currency": "EUR", "amount": 4500.0}]
    assert [(m["what"], m["currency"], m["current"], m["previous"]) for m in report["money"]] == [
        ("council_spending", "EUR", 12500.0, 800.0), ("council_spending", "IRR", 3e9, None),
        ("council_dues", "EUR", 5000.0, 4500.0), ("council_dues", "IRR", 1e8, None)]  # fmt: skip
    # Outcomes by catalogue code and unit, quantities summed per unit; the 1402 one beside.
    assert [(o["code"], o["unit"], o["count"], o["quantity"]) for o in cur["outcomes"]] == [
        ("knowledge_exchanged", "people trained", 2, 42.0), ("award", "awards", 1, None)]  # fmt: skip
    rows = {o["code"]: o for o in report["outcome_rows"]}
    assert rows["funds_mobilised"]["count"] == 0 and rows["funds_mobilised"]["before"]["quantity"] == 50000.0
    (late,) = cur["overdue"]
    assert (late["title"], late["days_late"], late["agreement"]["id"]) == ("Send the minutes", 292, y.kl)

    html = report["html"]
    assert 'id="nothing-recorded"' not in html
    for text in ("12,500", "3,000,000,000", "100,000,000", "Send the minutes", "Istanbul",
                 "back in force (was suspended)", "training or knowledge exchanged", "42"):  # fmt: skip
        assert text in html, text
    fa = _collect(sqlite_url, 1403, "fa")["html"]
    for text in (
        "۱۲٬۵۰۰",
        "۳٬۰۰۰٬۰۰۰٬۰۰۰",
        "آموزش یا تبادل دانش",
        "نفر آموزش‌دیده",
        "۴۲",
        "استانبول",
        "۱۴۰۳/۱۰/۲۶ (۲۰۲۵-۰۱-۱۵)",
    ):
        assert text in fa, text


def test_both_backends_give_the_same_figures(db_url: str) -> None:
    enter_a_year(db_url)
    report = _collect(db_url, 1403)
    assert {k: (a, b) for k, a, b in report["comparison"]} == EXPECTED_1403
    assert report["current"]["spending"][0] == {"currency": "EUR", "amount": 12500.0, "activities": 2}


def test_validity_extended_this_year_counts_as_renewed(sqlite_url: str, year_of_work: Year) -> None:
    from citydiplomacy.store.records import patch_agreement

    y = year_of_work
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        s.info["actor"] = "office"
        for until in ("2026-06-01", "2028-06-01"):  # the first sets a validity, the second extends it
            r = s.get(Relation, y.istanbul)
            patch_agreement(s, y.istanbul, inputs.AgreementPatch.model_validate(
                {"valid_until": until, "version": r.version}), "office")  # fmt: skip
    today = date.today()  # the edits are stamped now: this year's report counts them
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        report = council_report(s, "Tehran", None, today.year, today=today)
    cur = report["current"]
    assert [(a["id"], a["how"], a["previous"], a["until"]) for a in cur["agreements"]["renewed"]] == [
        (y.istanbul, "extended", "2026-06-01", "2028-06-01")]  # fmt: skip
    assert cur["partial"] == (today < date(today.year, 12, 31))
    html = render_html(report, "en")
    assert "validity extended to 2028-06-01" in html
    assert ('id="council-to-date"' in html) == cur["partial"]


def test_a_gregorian_year_counts_by_the_gregorian_calendar(sqlite_url: str, year_of_work: Year) -> None:
    report = _collect(sqlite_url, 2024)
    counts = {k: (a, b) for k, a, b in report["comparison"]}
    # 2024: KL visits of 10 March and 10 April, Istanbul, the year-only board; 2025's project and ending fall after.
    assert counts["council_activities"] == (4, 0) and counts["council_ended"] == (0, 0)
    assert counts["council_signed"] == (1, 1)
    assert report["current"]["spending"] == [{"currency": "EUR", "amount": 12800.0, "activities": 2},
                                             {"currency": "IRR", "amount": 3e9, "activities": 1}]  # fmt: skip


def test_delegations_are_grouped_by_direction_when_activities_have_one(
    sqlite_url: str, year_of_work: Year, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _collect(sqlite_url, 1403)["current"]["directions"] == [("-", 2)]  # no direction on the record yet
    # Another helper adds the direction to activities; the report reads it when it is there.
    direction = property(lambda a: "incoming" if " from " in a.title else "outgoing" if " to " in a.title else None)
    monkeypatch.setattr(Activity, "direction", direction, raising=False)
    report = _collect(sqlite_url, 1403)
    assert report["current"]["directions"] == [("incoming", 1), ("outgoing", 1)]
    assert "incoming: 1 · outgoing: 1" in report["html"]


def test_a_year_with_nothing_recorded_says_so(sqlite_url: str, year_of_work: Year) -> None:
    report = _collect(sqlite_url, 1380)
    assert report["current"]["nothing_recorded"]
    assert "Nothing recorded for 1380 SH" in report["html"] and 'id="signed"' not in report["html"]
    assert 'id="money"' not in report["html"]


def test_the_dashboard_page_in_both_languages(sqlite_url: str, year_of_work: Year) -> None:
    y = year_of_work
    with TestClient(create_app(sqlite_url, secret_key="test-secret")) as client:
        login(client, "viewer")
        profile = client.get(f"/cities/{y.seeded.tehran}")
        assert f'href="/cities/{y.seeded.tehran}/council"' in profile.text
        page = client.get(f"/cities/{y.seeded.tehran}/council", params={"year": 1403})
        assert page.status_code == 200
        assert "Council report 1403 SH" in page.text and f'href="/agreements/{y.istanbul}"' in page.text
        assert 'id="row-council_activities"' in page.text and "12,500" in page.text
        fa = client.get(f"/cities/{y.seeded.tehran}/council", params={"year": 1403, "lang": "fa"})
        assert fa.status_code == 200 and 'dir="rtl"' in fa.text and "۱۲٬۵۰۰" in fa.text
        default = client.get(f"/cities/{y.seeded.tehran}/council")
        assert default.status_code == 200 and 'name="year" value="' in default.text
        bad = client.get(f"/cities/{y.seeded.tehran}/council", params={"year": 3000, "lang": "fa"})
        assert bad.status_code == 422 and "خارج از محدوده" in bad.text
        assert client.get("/cities/999999/council", params={"year": 1403}).status_code == 404


def test_council_report_html_looks_the_city_up(casestudy: tuple[str, Engine]) -> None:
    html, report = council_report_html(casestudy[1], "Tehran", "IR", 1402, lang="fa", today=TODAY)
    assert report["place"]["name"] == "Tehran" and "گزارش شورا ۱۴۰۲" in html
    with pytest.raises(CouncilReportError, match="Several places|No city"):
        council_report_html(casestudy[1], "Nowhere at all", None, 1402, today=TODAY)
