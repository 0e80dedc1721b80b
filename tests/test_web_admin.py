"""Admins see and end login sessions: the ``/admin/users`` page, ``/api/sessions`` and ``citydip user sessions``.

On SQLite and PostgreSQL.  Ending a session holds at the ended session's very next request (checked with a
second client, the "victim"), every action is audited without anything of a token, and the Persian page
speaks Persian with Persian digits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_web_support import PASSWORD, Seeded, login, seed
from typer.testing import CliRunner

from citydiplomacy.cli import app as cli
from citydiplomacy.present import i18n
from citydiplomacy.store import db, runs
from citydiplomacy.store.schema import AuditEntry, WebSession
from citydiplomacy.web import auth, sessions
from citydiplomacy.web.app import SESSION_COOKIE, create_app

PAGE = "/admin/users"


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture
def web_app(db_url: str, seeded: Seeded):  # type: ignore[no-untyped-def]
    return create_app(db_url, secret_key="test-secret")


@pytest.fixture
def admin(web_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as c:
        login(c, "admin")
        yield c


def form_token(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def session_ids(db_url: str, username: str) -> list[int]:
    with db.session_scope(db.get_engine(db_url)) as s:
        user = auth.find_user(s, username)
        return [live.id for live in sessions.live_sessions(s, user.id)]


def audit_rows(db_url: str, entity: str) -> list[AuditEntry]:
    with db.session_scope(db.get_engine(db_url)) as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)))
        s.expunge_all()
        return rows


def visible_text(html: str) -> str:
    """The text a reader sees in the page's body (tags, attributes, scripts and styles removed)."""
    body = html.split("<body", 1)[1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", body))


def post(client: TestClient, path: str, token: str | None) -> object:
    data = {"csrf_token": token} if token is not None else {}
    return client.post(path, data=data, follow_redirects=False)


def test_admin_sees_every_users_sessions_and_nothing_of_their_tokens(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as phone, TestClient(web_app) as laptop, TestClient(web_app) as editor:
        secrets = [login(phone, "viewer"), login(laptop, "viewer"), login(editor, "editor")]
        cookies = [c.cookies[SESSION_COOKIE] for c in (phone, laptop, editor)]
        page = admin.get(PAGE)
    assert page.status_code == 200
    assert 'href="/admin/users"' in admin.get("/").text  # the nav links the page for admins
    viewer_sessions = session_ids(db_url, "viewer")
    assert len(viewer_sessions) == 2
    for number in [*viewer_sessions, *session_ids(db_url, "editor"), *session_ids(db_url, "admin")]:
        assert f'id="session-{number}"' in page.text and f'action="/admin/sessions/{number}/end"' in page.text
    for name in ("admin", "editor", "viewer"):
        assert f"<bdi>{name}</bdi>" in page.text
    text = visible_text(page.text)
    for label in ("Users and sessions", "Live sessions", "Last seen", "Client address", "End session", "Disable user"):
        assert label in text
    assert "testclient" in text and i18n.translate("this_session", "en") in text
    # Never a token, its hash, or another session's CSRF token.
    for secret in [*cookies, *(hashlib.sha256(c.encode()).hexdigest() for c in cookies), *secrets]:
        assert secret not in page.text
    listed = admin.get("/api/sessions").json()
    assert listed["total"] == 4 and sum(item["current"] for item in listed["items"]) == 1
    assert {item["username"] for item in listed["items"]} == {"admin", "editor", "viewer"}
    assert not any(secret in str(listed) for secret in cookies + secrets)
    only = admin.get("/api/sessions", params={"username": "viewer"}).json()
    assert sorted(item["id"] for item in only["items"]) == sorted(viewer_sessions)
    assert admin.get("/api/sessions", params={"username": "nobody"}).status_code == 404


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_may_see_or_end_sessions(web_app, admin: TestClient, db_url: str, role: str) -> None:  # type: ignore[no-untyped-def]
    victim = session_ids(db_url, "admin")[0]
    with TestClient(web_app) as other:
        token = login(other, role)
        assert other.get(PAGE).status_code == 403
        assert 'href="/admin/users"' not in other.get("/").text
        assert post(other, f"/admin/sessions/{victim}/end", token).status_code == 403
        assert post(other, "/admin/users/1/end-sessions", token).status_code == 403
        assert post(other, "/admin/users/1/disable", token).status_code == 403
        assert other.get("/api/sessions").status_code == 403
        assert other.delete(f"/api/sessions/{victim}", headers={"X-CSRF-Token": token}).status_code == 403
    with TestClient(web_app) as anonymous:
        r = anonymous.get(PAGE, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/admin/users"
        assert anonymous.get("/api/sessions").status_code == 401
    assert admin.get("/api/me").status_code == 200  # nothing was ended


def test_ending_a_session_logs_that_client_out_at_once(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as victim, TestClient(web_app) as other_device:
        login(victim, "viewer")
        login(other_device, "viewer")
        assert victim.get("/api/me").status_code == 200
        victims_hash = sessions.token_hash(victim.cookies[SESSION_COOKIE])
        with db.session_scope(db.get_engine(db_url)) as s:
            number = s.scalar(select(WebSession.id).where(WebSession.token_hash == victims_hash))
        version = data_version(db_url)
        r = post(admin, f"/admin/sessions/{number}/end", form_token(admin.get(PAGE).text))
        assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=ended"
        # The victim's very next request is anonymous: 401 from the API, the login page for the dashboard.
        assert victim.get("/api/me").status_code == 401
        assert other_device.get("/api/me").status_code == 200  # the user's other session lives on
    notice = admin.get(r.headers["location"])
    assert "Session ended: that browser is logged out." in notice.text
    assert f'id="session-{number}"' not in notice.text
    [entry] = audit_rows(db_url, "web_session")
    assert (entry.entity_id, entry.actor, entry.action) == (number, "admin", "update")
    assert entry.changes == {"ended_reason": [None, "admin"], "user": "viewer"}
    assert entry.context == f"web POST /admin/sessions/{number}/end"
    assert data_version(db_url) == version  # no change of the registry's data: results do not age
    # Ending it again (a second click, a stale page) only says so.
    again = post(admin, f"/admin/sessions/{number}/end", form_token(admin.get(PAGE).text))
    assert again.headers["location"] == f"{PAGE}?done=gone"
    assert "That session had already ended." in admin.get(again.headers["location"]).text
    assert post(admin, f"/admin/sessions/{2**40}/end", form_token(admin.get(PAGE).text)).status_code == 404


def test_victims_dashboard_goes_to_the_login_page(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as victim:
        login(victim, "editor")
        assert victim.get("/", follow_redirects=False).status_code == 200
        [number] = session_ids(db_url, "editor")
        assert post(admin, f"/admin/sessions/{number}/end", form_token(admin.get(PAGE).text)).status_code == 303
        r = victim.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert SESSION_COOKIE not in victim.cookies  # its dead cookie is deleted


def test_end_all_sessions_of_a_user(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as phone, TestClient(web_app) as laptop:
        login(phone, "viewer")
        login(laptop, "viewer")
        numbers = session_ids(db_url, "viewer")
        with db.session_scope(db.get_engine(db_url)) as s:
            viewer_id = auth.find_user(s, "viewer").id
        r = post(admin, f"/admin/users/{viewer_id}/end-sessions", form_token(admin.get(PAGE).text))
        assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=ended_all&n=2"
        assert phone.get("/api/me").status_code == 401 and laptop.get("/api/me").status_code == 401
    assert "Sessions ended: 2" in admin.get(r.headers["location"]).text
    assert admin.get("/api/me").status_code == 200
    assert sorted(e.entity_id for e in audit_rows(db_url, "web_session")) == sorted(numbers)
    assert session_ids(db_url, "viewer") == []


def test_disable_user_ends_their_sessions_and_logins(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as editor:
        login(editor, "editor")
        with db.session_scope(db.get_engine(db_url)) as s:
            editor_id, admin_id = auth.find_user(s, "editor").id, auth.find_user(s, "admin").id
        r = post(admin, f"/admin/users/{editor_id}/disable", form_token(admin.get(PAGE).text))
        assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=disabled"
        assert editor.get("/api/me").status_code == 401
        refused = editor.post("/api/auth/login", json={"username": "editor", "password": PASSWORD})
        assert refused.status_code == 401
    page = admin.get(r.headers["location"]).text
    assert "User disabled: no more logins, and every session of theirs ended." in page
    card = page.split(f'id="user-{editor_id}"', 1)[1].split("</article>", 1)[0]
    assert "state-disabled" in card and "/disable" not in card and "citydip user add <bdi>editor</bdi>" in card
    [entry] = [e for e in audit_rows(db_url, "app_user") if e.actor == "admin"]
    assert (entry.entity_id, entry.action) == (editor_id, "update")
    assert entry.changes["disabled_at"][0] is None and entry.changes["sessions_ended"] == 1
    # An admin cannot disable their own account (no button, and a forged form is refused).
    assert f'action="/admin/users/{admin_id}/disable"' not in page
    own = post(admin, f"/admin/users/{admin_id}/disable", form_token(page))
    assert own.headers["location"] == f"{PAGE}?done=not_self"
    assert "You cannot disable your own account" in admin.get(own.headers["location"]).text
    assert admin.get("/api/me").status_code == 200
    assert post(admin, "/admin/users/999999/disable", form_token(page)).status_code == 404


def test_forms_without_the_csrf_token_are_refused(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as victim:
        login(victim, "viewer")
        [number] = session_ids(db_url, "viewer")
        with db.session_scope(db.get_engine(db_url)) as s:
            viewer_id = auth.find_user(s, "viewer").id
        for path in (f"/admin/sessions/{number}/end", f"/admin/users/{viewer_id}/end-sessions"):
            assert post(admin, path, None).status_code == 403
            assert post(admin, path, "not-the-token").status_code == 403
        assert post(admin, f"/admin/users/{viewer_id}/disable", None).status_code == 403
        assert admin.delete(f"/api/sessions/{number}").status_code == 403  # the API wants X-CSRF-Token
        assert victim.get("/api/me").status_code == 200  # nothing ended
    assert audit_rows(db_url, "web_session") == []
    assert [e.action for e in audit_rows(db_url, "app_user")] == ["insert"] * 3  # only the seed's users


def test_an_admin_ending_their_own_session_is_logged_out(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    [own] = session_ids(db_url, "admin")
    page = admin.get(PAGE).text
    assert f'id="session-{own}" class="current"' in page
    r = post(admin, f"/admin/sessions/{own}/end", form_token(page))
    assert r.status_code == 303 and r.headers["location"] == "/login?ended=1"
    assert SESSION_COOKIE not in admin.cookies
    assert admin.get(PAGE, follow_redirects=False).status_code == 303
    assert "Your session was ended; log in again." in admin.get("/login?ended=1").text
    # "End all sessions" of oneself logs out too.
    login(admin, "admin")
    with db.session_scope(db.get_engine(db_url)) as s:
        admin_id = auth.find_user(s, "admin").id
    r = post(admin, f"/admin/users/{admin_id}/end-sessions", form_token(admin.get(PAGE).text))
    assert r.headers["location"] == "/login?ended=1" and admin.get("/api/me").status_code == 401


def test_api_ends_a_session_by_its_number(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    headers = {"X-CSRF-Token": admin.get("/api/me").json()["csrf_token"]}
    with TestClient(web_app) as victim:
        login(victim, "editor")
        [number] = session_ids(db_url, "editor")
        assert admin.delete(f"/api/sessions/{number}", headers=headers).status_code == 204
        assert victim.get("/api/me").status_code == 401
    gone = admin.delete(f"/api/sessions/{number}", headers=headers)
    assert gone.status_code == 404 and "no live session" in gone.json()["detail"]
    for bad in ("0", str(2**31), "abc"):
        assert admin.delete(f"/api/sessions/{bad}", headers=headers).status_code == 422
    [own] = session_ids(db_url, "admin")
    ended = admin.delete(f"/api/sessions/{own}", headers=headers)
    assert ended.status_code == 204 and "Max-Age=0" in ended.headers["set-cookie"]
    assert admin.get("/api/me").status_code == 401
    assert sorted(e.entity_id for e in audit_rows(db_url, "web_session")) == sorted([number, own])


def test_sessions_endpoints_are_documented(web_app) -> None:  # type: ignore[no-untyped-def]
    spec = TestClient(web_app).get("/api/openapi.json").json()
    for path, method, ok in (("/api/sessions", "get", "200"), ("/api/sessions/{session_id}", "delete", "204")):
        responses = spec["paths"][path][method]["responses"]
        assert set(responses) == {ok, "401", "403", "404", "422", "503"}
        for code in ("401", "403", "404", "422", "503"):
            assert responses[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    [param] = spec["paths"]["/api/sessions/{session_id}"]["delete"]["parameters"]
    assert param["schema"]["minimum"] == 1 and param["schema"]["maximum"] == 2**31 - 1


def test_persian_page_speaks_persian_with_persian_digits(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    with TestClient(web_app) as viewer:
        login(viewer, "viewer")
    with db.session_scope(db.get_engine(db_url)) as s:
        auth.disable_user(s, "editor")
    page = admin.get(PAGE, params={"lang": "fa"})
    assert page.status_code == 200 and '<html lang="fa" dir="rtl">' in page.text
    text = visible_text(page.text)
    for key in (
        "users_title", "live_sessions", "last_seen", "last_login", "created", "session_client", "session_expires",
        "end_session", "end_all_sessions", "disable_user", "user_active", "user_disabled", "this_session", "users",
    ):  # fmt: skip
        assert i18n.translate(key, "fa") in text, key
    assert "مدیر" in text and "بیننده" in text  # the roles
    assert "۱۴" in text  # Solar Hijri years first
    # Dates, counts and session numbers in Persian digits; the only Latin text left is the names and the command.
    assert re.findall(r"[0-9]", text) == []
    for english in ("Users and sessions", "End session", "Live sessions", "active"):
        assert english not in text
    # The notices too.
    with db.session_scope(db.get_engine(db_url)) as s:
        viewer_id = auth.find_user(s, "viewer").id
    r = post(admin, f"/admin/users/{viewer_id}/end-sessions", form_token(page.text))
    done = visible_text(admin.get(r.headers["location"]).text)  # the language cookie keeps Persian
    assert "نشست‌های پایان‌یافته: ۱" in done and re.findall(r"[0-9]", done) == []


def test_access_changes_are_audited_without_secrets_and_are_no_data_changes(db_url: str, seeded: Seeded) -> None:
    engine = db.get_engine(db_url)
    version = data_version(db_url)
    with db.session_scope(engine) as s:
        s.info["actor"] = "tester"
        auth.create_user(s, "ana", "first-password", "viewer")
        ana = auth.find_user(s, "ana")
        _, row = sessions.create_session(s, ana)
        auth.create_user(s, "ana", "second-password", "editor")  # a reset: new role, sessions ended
        auth.disable_user(s, "ana")
        auth.disable_user(s, "ana")  # already disabled: nothing changes, nothing written
        auth.delete_user(s, "ana")
    entries = [e for e in audit_rows(db_url, "app_user") if e.actor == "tester"]
    assert [e.action for e in entries] == ["insert", "update", "update", "delete"]
    assert entries[0].changes == {"username": "ana", "role": "viewer"}
    assert entries[1].changes == {"password": "reset", "role": ["viewer", "editor"], "sessions_ended": 1}
    assert entries[2].changes["disabled_at"][0] is None and "sessions_ended" not in entries[2].changes
    assert entries[3].changes == {"username": "ana", "role": "editor"}
    trail = str([e.changes for e in entries])
    assert "argon2" not in trail and "password" in trail and "first-password" not in trail
    assert row.token_hash not in trail
    assert data_version(db_url) == version  # users and sessions are no registry data


def test_cli_lists_and_ends_sessions(web_app, admin: TestClient, db_url: str) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    with TestClient(web_app) as victim:
        login(victim, "viewer")
        [number] = session_ids(db_url, "viewer")
        every = runner.invoke(cli, ["user", "sessions"], env={"COLUMNS": "200"})
        assert every.exit_code == 0, every.output
        assert "viewer" in every.output and "admin" in every.output and "testclient" in every.output
        one = runner.invoke(cli, ["user", "sessions", "viewer"], env={"COLUMNS": "200"})
        assert "viewer" in one.output and "admin" not in one.output
        ended = runner.invoke(cli, ["user", "end-session", str(number)])
        assert ended.exit_code == 0 and f"session {number} of viewer ended" in ended.output
        assert victim.get("/api/me").status_code == 401
    again = runner.invoke(cli, ["user", "end-session", str(number)])
    assert again.exit_code == 2 and "no live session" in again.output
    assert runner.invoke(cli, ["user", "sessions", "nobody"]).exit_code == 2
    assert runner.invoke(cli, ["user", "end-session", "0"]).exit_code == 2
    [entry] = audit_rows(db_url, "web_session")
    assert (entry.entity_id, entry.actor) == (number, "citydip user")
    listed = runner.invoke(cli, ["user", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "last seen" in listed.output and "never" in listed.output  # editor


def data_version(db_url: str) -> int:
    with db.session_scope(db.get_engine(db_url)) as s:
        return runs.data_version(s)
