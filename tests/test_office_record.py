"""The office's record of an agreement (issue 10, second part): activities serving it with their cost,
outcomes from the model's catalogue, follow-up actions, membership dues, the agreement's health and the list of
agreements needing attention.  Bad input names its field and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from test_web_api import login
from test_web_support import Seeded, seed
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.cli import app as cli_app
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.model.outcomes import load_outcomes
from citydiplomacy.store import agreements, db, inputs
from citydiplomacy.store.records import FieldProblem, create_record
from citydiplomacy.store.schema import Activity, AuditEntry, FollowUpAction, MembershipDue, Outcome, Relation
from citydiplomacy.web.app import create_app

TODAY = date(2026, 12, 3)


@pytest.fixture
def seeded(sqlite_url: str) -> Seeded:
    return seed(sqlite_url)


@pytest.fixture
def client(sqlite_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_url, secret_key="test-secret")) as c:
        yield c


@pytest.fixture
def editor(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": login(client, "editor")}


def _count(url: str, model: type) -> int:
    with db.session_scope(db.get_engine(url)) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_the_catalogue_names_every_outcome_in_both_languages() -> None:
    catalogue = load_outcomes()
    assert {"project_delivered", "funds_mobilised", "knowledge_exchanged", "trade_investment", "event_hosted",
            "award", "policy_adopted"} <= set(catalogue)  # fmt: skip
    assert all(o.name and o.name_fa and o.name != o.name_fa for o in catalogue.values())
    assert re.search("[\u0600-\u06ff]", catalogue["award"].label("fa"))


def test_health_counts_activities_outcomes_cost_and_overdue_actions(sqlite_url: str, seeded: Seeded) -> None:
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        s.info["actor"] = "office"
        for on, cost, currency in (("2025-05-14", 12000.0, "EUR"), ("2026-03-01", 500.0, "EUR"),
                                   ("2026-04-01", 2_000_000.0, "IRR")):  # fmt: skip
            body = inputs.ActivityIn.model_validate({"kind": "visit", "title": f"visit {on}", "happened_on": on,
                "relation_id": seeded.relation, "cost_amount": cost, "cost_currency": currency})  # fmt: skip
            visit = create_record(s, "activities", body, "office")
        agreements.add_outcome(s, inputs.OutcomeIn(activity_id=visit.id, code="knowledge_exchanged", quantity=30),
                               "office")  # fmt: skip
        agreements.add_outcome(s, inputs.OutcomeIn(relation_id=seeded.relation, code="award",
                               happened_on=date(2025, 9, 1)), "office")  # fmt: skip
        late = agreements.add_action(s, inputs.ActionIn(relation_id=seeded.relation, title="minutes",
                                     owner="International affairs", due_on=date(2026, 6, 1)), "office")  # fmt: skip
        agreements.add_action(s, inputs.ActionIn(relation_id=seeded.relation, title="plan", owner="Mayor's office",
                              due_on=date(2027, 1, 1)), "office")  # fmt: skip
        h = agreements.health(s, agreements.load_agreement(s, seeded.relation), TODAY)
        assert h["last_activity"] == "2026-04-01" and h["days_since_activity"] == 246
        assert h["per_year"] == [{"year": 2025, "activities": 1, "outcomes": 1},
                                 {"year": 2026, "activities": 2, "outcomes": 1}]  # fmt: skip
        assert h["cost_to_date"] == [{"currency": "EUR", "amount": 12500.0}, {"currency": "IRR", "amount": 2e6}]
        assert h["outcomes"][0]["unit"] == "people trained"  # the catalogue's unit when none is given
        assert h["actions_overdue"] == 1 and h["flags"] == ["actions_overdue"]
        agreements.set_action_state(s, late.id, inputs.ActionStateIn(state="done", version=late.version), "office",
                                    TODAY)  # fmt: skip
        h = agreements.health(s, agreements.load_agreement(s, seeded.relation), TODAY)
        assert h["flags"] == [] and [a["state"] for a in h["actions"]] == ["done", "open"]
        audited = set(s.scalars(select(AuditEntry.entity).where(AuditEntry.actor == "office")))
    assert {"outcome", "follow_up_action", "activity"} <= audited


def test_renewal_due_expired_and_dormant_follow_the_settings(
    sqlite_url: str, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        r = s.get(Relation, seeded.relation)
        r.status, r.signed_on, r.valid_until = "active", date(2026, 1, 1), date(2027, 1, 15)
        s.flush()
        assert agreements.health(s, r, TODAY)["flags"] == ["renewal_due"]  # 43 days left, within 90
        monkeypatch.setattr(settings, "AGREEMENT_RENEWAL_WARNING_DAYS", 30)
        assert agreements.health(s, r, TODAY)["flags"] == []
        r.valid_until = date(2026, 11, 1)
        assert agreements.health(s, r, TODAY)["flags"] == ["expired"]
        r.valid_until, r.signed_on = None, date(2024, 12, 1)  # signed more than two years ago, nothing since
        assert agreements.health(s, r, TODAY)["flags"] == ["dormant"]
        monkeypatch.setattr(settings, "AGREEMENT_DORMANT_AFTER_DAYS", 1000)
        assert agreements.health(s, r, TODAY)["flags"] == []


def test_tehrans_agreements_without_activity_for_two_years_need_attention(sqlite_url: str) -> None:
    engine = db.get_engine(sqlite_url)
    load_case_study(engine)
    with db.session_scope(engine) as s:
        relations = list(s.scalars(select(Relation)))
        in_force = {r.id for r in relations if r.status in ("active", "dormant")}
        assert len(in_force) >= 20  # the case study's agreements in force
        flagged = {a["id"]: a["flags"] for a in agreements.attention(s, TODAY)}
        assert set(flagged) == in_force  # none has an activity recorded: every one is quiet
        assert all(f == ["dormant"] for f in flagged.values())
        negotiating = {r.id for r in relations if r.status == "in_negotiation"}
        assert negotiating and not negotiating & set(flagged)  # not in force: nothing to go quiet
        # One visit this year takes an agreement off the list; one two years and a day ago does not.
        first, second = sorted(in_force)[:2]
        for rid, on in ((first, "2026-10-01"), (second, "2024-12-02")):
            create_record(s, "activities", inputs.ActivityIn.model_validate(
                {"kind": "visit", "title": "visit", "happened_on": on, "relation_id": rid}), "office")  # fmt: skip
        flagged = {a["id"]: a for a in agreements.attention(s, TODAY)}
        assert first not in flagged and flagged[second]["last_activity"] == "2024-12-02"
        # One place's flags (the city page's badges) are the list's, read for that place alone.
        for pid in {p for r in relations for p in (r.place_a_id, r.place_b_id) if p is not None}:
            of_place = {a["id"]: a["flags"] for a in agreements.attention(s, TODAY, place_id=pid)}
            assert agreements.attention_flags(s, pid, TODAY) == of_place
            assert of_place == {i: f["flags"] for i, f in flagged.items() if i in of_place}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "visit", "title": "v", "cost_amount": -1.0, "cost_currency": "EUR"}, "cost_amount"),
        ({"kind": "visit", "title": "v", "cost_amount": 1.0, "cost_currency": "XYZ"}, "cost_currency"),
        ({"kind": "visit", "title": "v", "cost_amount": 1.0}, "cost_currency"),
        ({"kind": "visit", "title": "v", "cost_amount": 1.0, "cost_currency": "eur"}, "upper case: EUR"),
    ],
)
def test_bad_activities_name_the_field(body: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        inputs.ActivityIn.model_validate(body)


def test_bad_outcomes_actions_and_dues_name_the_field_and_write_nothing(sqlite_url: str, seeded: Seeded) -> None:
    with pytest.raises(ValidationError, match="code"):
        inputs.OutcomeIn.model_validate({"relation_id": 1, "code": "happiness"})
    with pytest.raises(ValidationError, match="owner"):
        inputs.ActionIn.model_validate({"relation_id": 1, "title": "x", "owner": "  "})
    with pytest.raises(ValidationError, match="currency"):
        inputs.DueIn.model_validate({"membership_id": 1, "year": 2025, "amount": 10.0, "currency": "EURO"})
    with db.session_scope(db.get_engine(sqlite_url)) as s, pytest.raises(FieldProblem, match="relation_id"):
        agreements.add_action(s, inputs.ActionIn(relation_id=999_999, title="x", owner="y"), "office")
    assert _count(sqlite_url, FollowUpAction) == 0 and _count(sqlite_url, Outcome) == 0


def test_dues_per_year_are_one_row_each(sqlite_url: str, seeded: Seeded) -> None:
    with db.session_scope(db.get_engine(sqlite_url)) as s:
        from citydiplomacy.store.schema import Membership

        membership = s.scalars(select(Membership.id)).first()
        for amount in (5000.0, 5500.0):
            agreements.add_due(s, inputs.DueIn(membership_id=membership, year=2025, amount=amount, currency="USD"),
                               "office")  # fmt: skip
        agreements.add_due(s, inputs.DueIn(membership_id=membership, year=2026, amount=6000.0, currency="USD"),
                           "office")  # fmt: skip
        rows = s.execute(select(MembershipDue.year, MembershipDue.amount, MembershipDue.currency)
                         .order_by(MembershipDue.year)).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [(2025, 5500.0, "USD"), (2026, 6000.0, "USD")]


def test_the_cli_adds_lists_and_refuses_with_the_field_named(sqlite_url: str, seeded: Seeded) -> None:
    runner = CliRunner()
    rid = str(seeded.relation)
    added = runner.invoke(cli_app, ["agreement", "activity", "add", rid, "Mayor's visit", "--on", "2026-05-14",
                                    "--cost", "12000", "--currency", "eur", "--funding", "city budget"])  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli_app, ["agreement", "activity", "list", rid])
    assert "Mayor's visit" in listed.output and "12,000.00 EUR" in listed.output
    out = runner.invoke(cli_app, ["agreement", "outcome", "policy_adopted", "--agreement", rid, "--evidence", "x"])
    assert out.exit_code == 0, out.output
    act = runner.invoke(cli_app, ["agreement", "action", "add", rid, "Send minutes", "--owner", "Intl affairs",
                                  "--due", "2020-01-01"])  # fmt: skip
    assert act.exit_code == 0, act.output
    attention = runner.invoke(cli_app, ["agreement", "attention", "--json"])
    assert f'"id": {seeded.relation}' in attention.output and "actions_overdue" in attention.output
    action_id = re.search(r"action #(\d+)", act.output)[1]
    done = runner.invoke(cli_app, ["agreement", "action", "done", action_id])
    assert done.exit_code == 0 and "done" in done.output
    before = _count(sqlite_url, Activity), _count(sqlite_url, FollowUpAction), _count(sqlite_url, Outcome)
    for args, field in (
        (["agreement", "action", "add", rid, "No owner"], "owner"),
        (["agreement", "activity", "add", rid, "v", "--cost", "5", "--currency", "XYZ"], "cost_currency"),
        (["agreement", "activity", "add", rid, "v", "--cost", "-5", "--currency", "EUR"], "cost_amount"),
        (["agreement", "outcome", "happiness", "--agreement", rid], "code"),
    ):
        refused = runner.invoke(cli_app, args)
        assert refused.exit_code == 2 and field in refused.output, (args, refused.output)
    assert (_count(sqlite_url, Activity), _count(sqlite_url, FollowUpAction), _count(sqlite_url, Outcome)) == before


def test_the_api_and_the_pages(client: TestClient, editor: dict[str, str], seeded: Seeded, sqlite_url: str) -> None:
    rid = seeded.relation
    made = client.post("/api/office/activities", headers=editor, json={"kind": "project", "title": "Green belt",
                       "happened_on": "2026-02-01", "relation_id": rid, "cost_amount": 1500.0,
                       "cost_currency": "EUR"})  # fmt: skip
    assert made.status_code == 201, made.text
    bad = client.post("/api/office/actions", headers=editor, json={"relation_id": rid, "title": "x", "owner": ""})
    assert bad.status_code == 422 and "owner" in bad.text
    bad = client.post("/api/office/outcomes", headers=editor, json={"relation_id": rid, "code": "nope"})
    assert bad.status_code == 422 and "code" in bad.text
    ok = client.post("/api/office/outcomes", headers=editor, json={"activity_id": made.json()["id"],
                     "code": "project_delivered", "quantity": 1.0, "evidence": "opening ceremony"})  # fmt: skip
    assert ok.status_code == 201, ok.text
    action = client.post(
        "/api/office/actions",
        headers=editor,
        json={"relation_id": rid, "title": "Report", "owner": "Unit A", "due_on": "2021-03-20"},
    )
    assert action.status_code == 201, action.text
    health = client.get(f"/api/agreements/{rid}/health").json()
    assert health["cost_to_date"] == [{"currency": "EUR", "amount": 1500.0}] and "actions_overdue" in health["flags"]
    attention = client.get("/api/office/attention").json()
    assert rid in {a["id"] for a in attention["items"]}
    assert client.get("/api/office/actions/overdue").json()["total"] == 1
    a = action.json()
    done = client.post(f"/api/office/actions/{a['id']}/state", headers=editor,
                       json={"state": "done", "version": a["version"]})  # fmt: skip
    assert done.status_code == 200 and done.json()["state"] == "done"
    stale = client.post(f"/api/office/actions/{a['id']}/state", headers=editor,
                        json={"state": "open", "version": a["version"]})  # fmt: skip
    assert stale.status_code == 409
    page = client.get(f"/agreements/{rid}", params={"lang": "fa"})
    assert page.status_code == 200 and 'id="agreement-health"' in page.text
    assert "۱۴۰۴/۱۱/۱۲ (۲۰۲۶-۰۲-۰۱)" in page.text  # the activity's date, Solar Hijri beside Gregorian
    assert "پروژه اجراشده" in page.text and "هزینه تاکنون" in page.text
    listing = client.get("/agreements/attention", params={"lang": "fa"})
    assert listing.status_code == 200 and "توافق‌های نیازمند توجه" in listing.text
    ops = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/office/activities", "/api/office/outcomes", "/api/office/actions",
                 "/api/office/actions/{action_id}/state", "/api/office/dues", "/api/office/attention",
                 "/api/agreements/{agreement_id}/health", "/api/office/actions/overdue"):  # fmt: skip
        for op in ops[path].values():
            assert "503" in op["responses"], path


def test_migration_0008_keeps_every_activity_and_goes_back(sqlite_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    engine = db.get_engine(sqlite_url)
    load_case_study(engine)
    columns = "id, kind, title, title_fa, happened_on, year, place_id, organisation_id, description, version"
    with engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM activity ORDER BY id"))]
    assert before
    command.downgrade(db.alembic_config(engine), "0006")
    assert not {"outcome", "follow_up_action", "membership_due"} & set(inspect(engine).get_table_names())
    db.upgrade(engine)
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM activity ORDER BY id"))] == before
        assert conn.execute(text("SELECT count(*) FROM activity WHERE relation_id IS NOT NULL")).scalar_one() == 0


def test_a_past_day_sees_the_status_and_the_actions_as_they_were_then(sqlite_url: str) -> None:
    """The attention list and the overdue actions as of a past day (a council report of an earlier year): the
    status the agreement had then, by its history, and actions that were open then though done since."""
    from citydiplomacy.store.records import change_status

    engine = db.get_engine(sqlite_url)
    load_case_study(engine)
    with db.session_scope(engine) as s:
        minsk = next(r for r in s.scalars(select(Relation)) if r.kind == "sister_city" and "Minsk" in {
            r.place_a.name, r.place_b.name})  # fmt: skip
        change_status(s, minsk.id, inputs.StatusChangeIn(version=minsk.version, status="suspended",
                      reason="paused", effective_on=date(2024, 1, 10)), "office")  # fmt: skip
        action = agreements.add_action(s, inputs.ActionIn(relation_id=minsk.id, title="Send the minutes",
                                       owner="International affairs", due_on=date(2023, 6, 1)), "office")  # fmt: skip
        action.state, action.done_on = "done", date(2024, 2, 1)
    with db.session_scope(engine) as s:
        minsk_row = s.get(Relation, minsk.id)
        assert agreements.status_on(minsk_row, date(2023, 12, 31)) == "active"
        assert agreements.status_on(minsk_row, date(2024, 1, 10)) == "suspended"
        before = {a["id"]: a["flags"] for a in agreements.attention(s, date(2023, 12, 31))}
        after = {a["id"]: a["flags"] for a in agreements.attention(s, date(2024, 3, 1))}
        assert before[minsk.id] == ["dormant", "actions_overdue"]  # in force, quiet, the minutes late
        assert minsk.id not in after  # suspended, and the minutes sent
        assert [a["title"] for a in agreements.overdue_actions(s, date(2023, 12, 31))] == ["Send the minutes"]
        assert agreements.overdue_actions(s, date(2024, 3, 1)) == []
        assert agreements.overdue_actions(s) == []


def test_the_city_profile_shows_each_agreements_health_flags(client: TestClient, seeded: Seeded, editor: dict) -> None:
    """The agreement health on the city profile (issue 10): a badge per flagged agreement and a link to the
    attention list with their number, in the page's language."""
    with db.session_scope(db.get_engine(settings.database_url())) as s:
        agreements.add_action(s, inputs.ActionIn(relation_id=seeded.relation, title="Send the minutes",
                              owner="International affairs", due_on=date(2020, 1, 1)), "office")  # fmt: skip
    page = client.get(f"/cities/{seeded.tehran}", params={"lang": "fa"}).text
    assert 'id="city-attention"' in page and "اقدامات معوق" in page
    assert 'class="badge flag-actions_overdue"' in page
    english = client.get(f"/cities/{seeded.tehran}", params={"lang": "en"}).text
    assert "actions overdue" in english
