"""Dashboard pages kept rendered in the read cache (web.pages.render_cached), on SQLite and PostgreSQL.

A page read twice between two writes is rendered once; a write shows up at once on the next read of every
page it affects; a page is never handed to another user, language or address, and its forms carry the
CSRF token of the session reading it, not of the one that first rendered it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from test_web_support import Seeded, login, seed

from citydiplomacy import settings
from citydiplomacy.store import readcache
from citydiplomacy.web.app import create_app

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def seeded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Seeded, str]]:
    monkeypatch.setattr(settings, "WEB_CACHE", True)
    readcache.READS.clear()
    ids = seed(db_url)
    with TestClient(create_app(db_url, secret_key="page-cache")) as client:
        token = login(client, "editor")
        client.headers["X-CSRF-Token"] = token
        yield client, ids, db_url


def test_a_page_is_rendered_once_and_a_write_shows_at_once(seeded) -> None:  # type: ignore[no-untyped-def]
    client, ids, _ = seeded
    first = client.get(f"/cities/{ids.tehran}").text
    hits = readcache.READS.hits
    assert client.get(f"/cities/{ids.tehran}").text == first
    assert readcache.READS.hits > hits  # the second read came from the cache
    assert "a cached page must not hide me" not in first
    before = {path: client.get(path).text for path in ("/", "/audit", f"/cities/{ids.beirut}")}

    made = client.post(
        "/api/activities",
        json={"kind": "visit", "title": "a cached page must not hide me", "year": 2024, "place_id": ids.tehran},
    )
    assert made.status_code == 201, made.text
    assert "a cached page must not hide me" in client.get(f"/cities/{ids.tehran}").text
    assert "a cached page must not hide me" not in client.get(f"/cities/{ids.beirut}").text
    assert client.get("/audit").text != before["/audit"]  # the new audit entry is listed at once


def test_a_cached_page_is_each_readers_own(seeded) -> None:  # type: ignore[no-untyped-def]
    client, ids, url = seeded
    path = f"/cities/{ids.tehran}"
    editor_page = client.get(path).text
    with TestClient(create_app(url, secret_key="page-cache")) as other:
        login(other, "viewer")
        viewer_page = other.get(path).text
        again = other.get(path).text  # from the cache: still the viewer's own session token
        fa = other.get(path + "?lang=fa").text
    editor_tokens, viewer_tokens = set(CSRF_FIELD.findall(editor_page)), set(CSRF_FIELD.findall(viewer_page))
    assert editor_tokens and viewer_tokens and not editor_tokens & viewer_tokens
    assert set(CSRF_FIELD.findall(again)) == viewer_tokens
    assert "citydip-csrf-" not in editor_page + viewer_page + again  # the placeholder never leaves the server
    assert "viewer" in viewer_page and "(viewer)" not in editor_page.replace("(editor)", "")
    assert '<html lang="fa" dir="rtl">' in fa and '<html lang="en" dir="ltr">' in viewer_page + again


def test_a_cached_page_builds_nothing_and_errors_are_not_kept(seeded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A hit skips the page's context (its queries and its charts' figures); a 404 or 422 is never cached."""
    from citydiplomacy.present import charts

    client, ids, _ = seeded
    drawn: list[str] = []
    real = charts.relations_chart
    monkeypatch.setattr(charts, "relations_chart", lambda *a, **k: drawn.append("relations") or real(*a, **k))
    for path in (f"/cities/{ids.tehran}", "/agreements", "/audit", "/rankings", "/network", "/review"):
        assert client.get(path).status_code == 200, path
        hits = readcache.READS.hits
        assert client.get(path).status_code == 200
        assert readcache.READS.hits == hits + 1, path  # one lookup: the page, none of its reads
    assert drawn == ["relations"]  # the city page's chart was drawn for the first read only
    assert client.get("/cities/987654").status_code == 404
    assert client.get("/cities/987654").status_code == 404  # again: the error was not cached as a page
