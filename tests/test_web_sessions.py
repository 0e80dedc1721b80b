"""Server-side sessions, the shared login throttle and the stored secret key, on SQLite and PostgreSQL.

Sessions are rows of ``web_session`` loaded with their user on every request, so what an admin changes
(a role, a password, a disabled account) holds at the very next request, and a logout ends the session
even for a copy of the cookie.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from test_web_support import PASSWORD, Seeded, login, seed

from citydiplomacy.store import db
from citydiplomacy.store.schema import AppSetting, AppUser, LoginThrottle, WebSession
from citydiplomacy.web import auth, sessions
from citydiplomacy.web.app import SESSION_COOKIE, create_app

STRANGER = ("203.0.113.9", 40000)  # a documentation address (RFC 5737)


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture
def client(db_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, secret_key="test-secret")) as c:
        yield c


def with_cookie(app, cookie: str, **kwargs) -> TestClient:  # type: ignore[no-untyped-def]
    """Another browser (or a thief) presenting a saved session cookie."""
    return TestClient(app, cookies={SESSION_COOKIE: cookie}, **kwargs)


def relation(seeded: Seeded) -> dict[str, object]:
    return {
        "place_a_id": seeded.beirut,
        "place_b_id": seeded.seoul,
        "kind": "mou",
        "status": "active",
        "signed_year": 2019,
        "source": "Tehran municipality press release",
    }


def test_session_row_keeps_only_the_tokens_hash(client: TestClient, db_url: str) -> None:
    token = login(client, "viewer")
    cookie = client.cookies[SESSION_COOKIE]
    with db.session_scope(db.get_engine(db_url)) as s:
        row = s.scalar(select(WebSession))
        assert row is not None and row.token_hash == hashlib.sha256(cookie.encode()).hexdigest() != cookie
        assert row.csrf_token == token and row.client == "testclient" and row.ended_at is None
        lifetime = sessions.as_utc(row.expires_at) - sessions.as_utc(row.created_at)
        assert row.user_agent and lifetime.total_seconds() == pytest.approx(8 * 3600)


def test_logout_revokes_a_saved_cookie(client: TestClient, db_url: str) -> None:
    login(client, "viewer")
    saved = client.cookies[SESSION_COOKIE]
    with with_cookie(client.app, saved) as thief:
        assert thief.get("/api/me").status_code == 200
        assert client.post("/api/auth/logout").status_code == 204
        assert client.get("/api/me").status_code == 401
        assert thief.get("/api/me").status_code == 401  # the copy is dead too: the row is ended
    with db.session_scope(db.get_engine(db_url)) as s:
        assert s.scalar(select(WebSession.ended_reason)) == "logout"
    # The dashboard's logout form ends the session as well.
    login(client, "viewer")
    saved = client.cookies[SESSION_COOKIE]
    page = client.get("/")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    with with_cookie(client.app, saved) as thief:
        assert thief.get("/api/me").status_code == 401
        assert thief.get("/", follow_redirects=False).status_code == 303


def test_demoted_editor_cannot_write(client: TestClient, seeded: Seeded, db_url: str) -> None:
    h = {"X-CSRF-Token": login(client, "editor")}
    assert client.post("/api/relations", json=relation(seeded), headers=h).status_code == 201
    with db.session_scope(db.get_engine(db_url)) as s:  # the role changes under a live session
        s.execute(update(AppUser).where(AppUser.username == "editor").values(role="viewer"))
    r = client.post("/api/relations", json={**relation(seeded), "signed_year": 2020}, headers=h)
    assert r.status_code == 403 and "editor" in r.json()["detail"]
    assert client.get("/api/me").json()["role"] == "viewer"
    assert client.get("/records/relations/new").status_code == 403
    # An admin's reset of the role through the API ends the user's sessions outright.
    with TestClient(client.app) as admin:
        ha = {"X-CSRF-Token": login(admin, "admin")}
        body = {"username": "editor", "password": PASSWORD, "role": "editor"}
        assert admin.post("/api/users", json=body, headers=ha).status_code == 201
    assert client.get("/api/me").status_code == 401
    with db.session_scope(db.get_engine(db_url)) as s:
        assert set(s.scalars(select(WebSession.ended_reason).where(WebSession.ended_at.is_not(None)))) == {"role"}


def test_disabled_user_is_anonymous_at_once(client: TestClient, db_url: str) -> None:
    login(client, "viewer")
    with TestClient(client.app) as other:
        login(other, "viewer")
        with db.session_scope(db.get_engine(db_url)) as s:
            auth.disable_user(s, "viewer")
        me = client.get("/api/me")
        assert me.status_code == 401 and other.get("/api/me").status_code == 401
        assert "citydip_session=" in me.headers["set-cookie"] and "Max-Age=0" in me.headers["set-cookie"]
    assert SESSION_COOKIE not in client.cookies  # the dead cookie is gone
    r = client.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
    assert r.status_code == 401  # a disabled user cannot log in
    with db.session_scope(db.get_engine(db_url)) as s:
        assert [(u.username, u.disabled_at is not None) for u in auth.list_users(s)] == [
            ("admin", False),
            ("editor", False),
            ("viewer", True),
        ]
        assert s.scalar(select(func.count()).select_from(WebSession).where(WebSession.ended_reason == "disabled")) == 2
        auth.create_user(s, "viewer", "a-new-password", "viewer")  # a reset enables the user again
    login(client, "viewer", "a-new-password")


def test_password_reset_ends_sessions(client: TestClient, db_url: str) -> None:
    login(client, "viewer")
    with TestClient(client.app) as phone, TestClient(client.app) as admin:
        login(phone, "viewer")
        ha = {"X-CSRF-Token": login(admin, "admin")}
        body = {"username": "viewer", "password": "a-new-password", "role": "viewer"}
        assert admin.post("/api/users", json=body, headers=ha).status_code == 201
        assert client.get("/api/me").status_code == 401 and phone.get("/api/me").status_code == 401
        assert admin.get("/api/me").status_code == 200  # nobody else's session ended
    r = client.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
    assert r.status_code == 401
    login(client, "viewer", "a-new-password")
    with db.session_scope(db.get_engine(db_url)) as s:
        viewer = s.scalar(select(AppUser).where(AppUser.username == "viewer"))
        assert viewer is not None
        assert {u.username: u.live_sessions for u in auth.list_users(s)} == {"admin": 1, "editor": 0, "viewer": 1}
        assert auth.end_sessions(s, viewer) == 1
    assert client.get("/api/me").status_code == 401


def test_deleted_user_loses_sessions(client: TestClient, db_url: str) -> None:
    login(client, "viewer")
    with db.session_scope(db.get_engine(db_url)) as s:
        auth.delete_user(s, "viewer")
        with pytest.raises(auth.UserNotFound):
            auth.delete_user(s, "viewer")
    assert client.get("/api/me").status_code == 401
    with db.session_scope(db.get_engine(db_url)) as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0  # rows go with the user


def test_strangers_failures_do_not_block_the_users_address(client: TestClient) -> None:
    with TestClient(client.app, client=STRANGER) as stranger:
        codes = [
            stranger.post("/api/auth/login", json={"username": "viewer", "password": f"guess-{i}"}).status_code
            for i in range(6)
        ]
        assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429, 429]  # guessing is slowed...
        blocked = stranger.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    login(client, "viewer")  # ...but the user, from their own address, is not locked out
    # And one failure of the user's own still leaves free attempts.
    assert client.post("/api/auth/login", json={"username": "viewer", "password": "typo"}).status_code == 401
    login(client, "viewer")


def test_throttle_grows_and_is_shared_through_the_database(db_url: str, seeded: Seeded) -> None:
    policy = auth.ThrottlePolicy(free_failures=3, address_free_failures=5, base_delay_s=10, max_delay_s=60)
    assert [policy.delay(n, 3) for n in range(1, 8)] == [0, 0, 10, 20, 40, 60, 60]
    engine = db.get_engine(db_url)
    waits = []
    for _ in range(4):
        with db.session_scope(engine) as s:  # each failure in its own transaction, as in separate workers
            auth.login_failed(s, "198.51.100.7", "Viewer", policy)
        with db.session_scope(engine) as s:
            waits.append(auth.login_wait(s, "198.51.100.7", "viewer", policy))
    assert waits[:2] == [0, 0] and 9 < waits[2] <= 10 and 19 < waits[3] <= 20  # user names are case-blind
    with db.session_scope(engine) as s:
        assert auth.login_wait(s, "198.51.100.8", "viewer", policy) == 0  # another address: no wait
        assert s.get(LoginThrottle, "acct:198.51.100.7|viewer").failures == 4  # type: ignore[union-attr]
        auth.login_failed(s, "198.51.100.7", "someone-else", policy)  # the address's 5th failure
    with db.session_scope(engine) as s:
        # Spraying accounts from one address is slowed too (per address, with its own allowance).
        assert 9 < auth.login_wait(s, "198.51.100.7", "a-third-account", policy) <= 10
        auth.login_succeeded(s, "198.51.100.7", "viewer", policy)
    with db.session_scope(engine) as s:
        assert s.get(LoginThrottle, "acct:198.51.100.7|viewer") is None  # a success forgets the account's
        assert s.get(LoginThrottle, "addr:198.51.100.7") is not None  # the address's stay counted


def test_anonymous_forms_use_a_signed_cookie(client: TestClient, db_url: str) -> None:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.cookies["citydip_csrf"] == token and "HttpOnly" in page.headers["set-cookie"]
    assert client.get("/login").text.count(token) == 1  # the same token while the cookie lives
    form = {"username": "viewer", "password": PASSWORD, "next": "/organisations"}
    with TestClient(client.app) as fresh:  # a form posted from elsewhere has no (or another) cookie
        assert fresh.post("/login", data={**form, "csrf_token": token}).status_code == 403
        forged = token.rsplit(".", 1)[0] + "." + "0" * 64
        fresh.cookies.set("citydip_csrf", forged)
        assert fresh.post("/login", data={**form, "csrf_token": forged}).status_code == 403
    with TestClient(create_app(db_url, secret_key="another-key")) as other_site:
        other_site.cookies.set("citydip_csrf", token)  # signed with another key
        assert other_site.post("/login", data={**form, "csrf_token": token}).status_code == 403
    with db.session_scope(db.get_engine(db_url)) as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0  # no row per anonymous visitor
    ok = client.post("/login", data={**form, "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/organisations"
    # Logged in, forms carry the session's own token instead.
    session_token = client.get("/api/me").json()["csrf_token"]
    assert f'value="{session_token}"' in client.get("/organisations").text


def test_secret_key_is_generated_once_and_kept(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITYDIP_SECRET_KEY", raising=False)
    first, second = create_app(db_url), create_app(db_url)  # two workers, or a restart
    key = first.state.web.secret()
    assert len(key) >= 40 and second.state.web.secret() == key
    with db.session_scope(db.get_engine(db_url)) as s:
        assert s.scalar(select(AppSetting.value).where(AppSetting.name == "secret_key")) == key
    with TestClient(first) as a, TestClient(second) as b:
        token = a.get("/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        b.cookies.set("citydip_csrf", token)  # a form rendered by one worker, posted to the other
        r = b.post("/login", data={"username": "nobody", "password": "wrong-password", "csrf_token": token})
        assert r.status_code == 401  # past the CSRF check
    monkeypatch.setenv("CITYDIP_SECRET_KEY", "from-the-environment")
    assert create_app(db_url).state.web.secret() == "from-the-environment"


def test_secure_cookies(db_url: str, seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"username": "viewer", "password": PASSWORD}
    with TestClient(create_app(db_url, secret_key="k")) as c:
        assert "secure" not in c.post("/api/auth/login", json=body).headers["set-cookie"].lower()
    with TestClient(create_app(db_url, secret_key="k", https_only=True)) as c:
        cookie = c.post("/api/auth/login", json=body).headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    monkeypatch.setenv("CITYDIP_SECURE_COOKIES", "1")
    with TestClient(create_app(db_url, secret_key="k")) as c:
        assert "Secure" in c.get("/login").headers["set-cookie"]


def test_user_commands(db_url: str, seeded: Seeded) -> None:
    from typer.testing import CliRunner

    from citydiplomacy.cli import app as cli

    runner = CliRunner()
    for command in (["serve"], ["user"], ["user", "add"], ["user", "disable"], ["user", "delete"], ["user", "list"]):
        help_text = runner.invoke(cli, [*command, "--help"]).output
        assert "Example" in help_text and "citydip " in help_text.split("Example", 1)[1], command
    with TestClient(create_app(db_url, secret_key="k")) as c:
        login(c, "editor")
        assert runner.invoke(cli, ["user", "disable", "editor"]).exit_code == 0
        assert c.get("/api/me").status_code == 401
    listing = runner.invoke(cli, ["user", "list"])
    assert listing.exit_code == 0 and "disabled" in listing.output and "viewer" in listing.output
    assert runner.invoke(cli, ["user", "delete", "editor"]).exit_code == 0
    missing = runner.invoke(cli, ["user", "delete", "editor"])
    assert missing.exit_code == 2 and "no user" in missing.output
    short = runner.invoke(cli, ["user", "add", "ana", "--password", "short"])
    assert short.exit_code == 2 and "8 characters" in short.output
    assert runner.invoke(cli, ["user", "add", "ana", "--role", "editor", "--password", "long-enough-1"]).exit_code == 0
    with db.session_scope(db.get_engine(db_url)) as s:
        assert [(u.username, u.role) for u in auth.list_users(s)] == [
            ("admin", "admin"),
            ("ana", "editor"),
            ("viewer", "viewer"),
        ]
