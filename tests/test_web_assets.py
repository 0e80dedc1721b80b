"""Static files versioned, cached a year and gzip-compressed; error pages in the user's language (issue 13).

On the real application (seeded SQLite registry, the TestClient; one Chromium test): the URLs the pages
name, the bytes those URLs send (decompressed: the shipped file, byte for byte), the cache and encoding
headers, and the error pages of every status a dashboard user can meet, in English and in Persian.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import plotly
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from test_browser_dashboard import CHROMIUM, browser_page, live_server, shot  # noqa: F401 - fixtures
from test_web_support import PASSWORD, Seeded, login, seed

from citydiplomacy.present import assets, i18n
from citydiplomacy.store import db
from citydiplomacy.web.app import CSP, create_app
from citydiplomacy.web.static_assets import STATIC_DIR, accepts_gzip, asset_table

PLOTLY = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
VERSIONED = re.compile(r"^/static/v/([0-9a-f]{16})/(.+)$")
LATIN_DIGIT = re.compile(r"[0-9]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    """One seeded SQLite registry for the module (its tests read; the one write is idempotent)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('assets') / 'registry.db'}"
    db.upgrade(db.get_engine(url))
    yield url, seed(url)
    db.get_engine(url).dispose()


@pytest.fixture
def seeded(registry: tuple[str, Seeded]) -> Seeded:
    return registry[1]


@pytest.fixture(scope="module")
def module_client(registry: tuple[str, Seeded]) -> Iterator[TestClient]:
    app = create_app(registry[0], secret_key="test-secret")

    # Two failures no page of the application answers today: a 401 page and a bug (500).
    def needs_login() -> None:
        raise HTTPException(status_code=401, detail="log in first")

    def crash() -> None:
        raise RuntimeError("a bug: this text must never reach the user")

    app.add_api_route("/test/needs-login", needs_login)
    app.add_api_route("/test/crash", crash)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def client(module_client: TestClient) -> TestClient:
    module_client.cookies.clear()  # each test starts logged out, in English
    return module_client


def raw_get(client: TestClient, url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the bytes on the wire (not decoded: httpx would gunzip them)."""
    with client.stream("GET", url, headers=headers) as r:
        return r.status_code, dict(r.headers), b"".join(r.iter_raw())


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


# --- static files --------------------------------------------------------------------------------------


def test_pages_name_versioned_urls_served_immutable(client: TestClient, seeded: Seeded) -> None:
    login(client, "viewer")
    page = client.get(f"/cities/{seeded.tehran}")
    urls = static_urls(page.text)
    names = {VERSIONED.match(u).group(2) for u in urls if VERSIONED.match(u)}
    assert len(names) == len(urls) and {"app.css", "app.js", "vendor/plotly.min.js", "vendor/geo-assets.js"} <= names
    for url in urls:
        status, headers, body = raw_get(client, url, **{"Accept-Encoding": "identity"})
        digest, name = VERSIONED.match(url).groups()
        assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable", url
        assert hashlib.sha256(body).hexdigest().startswith(digest), url  # the URL names these very bytes
        assert headers["etag"] == f'"{digest}"'
        assert headers["content-security-policy"] == CSP  # same-origin files: the strict policy admits them
    # Every script of the page is one of these files or inert JSON data: nothing inline, nothing remote.
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert all("src=" in s or 'type="application/json"' in s for s in scripts), scripts
    assert "http://" not in page.text and "https://" not in page.text


def test_gzip_when_accepted_and_only_then(client: TestClient) -> None:
    url = asset_table().url("vendor/plotly.min.js")
    status, headers, body = raw_get(client, url, **{"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding" and int(headers["content-length"]) == len(body)
    assert len(body) < len(PLOTLY) / 3 and gzip.decompress(body) == PLOTLY
    assert headers["etag"] != raw_get(client, url, **{"Accept-Encoding": "identity"})[1]["etag"]
    for refused in ("identity", "gzip;q=0, deflate", "br"):
        status, headers, body = raw_get(client, url, **{"Accept-Encoding": refused})
        assert status == 200 and "content-encoding" not in headers and body == PLOTLY, refused
        assert headers["vary"] == "Accept-Encoding"
    # Fonts are compressed already: sent as they are, whatever the client accepts.
    font = asset_table().url("fonts/Vazirmatn-Regular.woff2")
    status, headers, body = raw_get(client, font, **{"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers and body == (assets.FONTS_DIR / "Vazirmatn-Regular.woff2").read_bytes()


def test_accept_encoding_parsing() -> None:
    assert accepts_gzip("gzip") and accepts_gzip("deflate, gzip;q=0.5") and accepts_gzip("*")
    assert not accepts_gzip("") and not accepts_gzip("identity") and not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("*, gzip;q=0") and not accepts_gzip("gzip;q=bad")


def test_pages_compressed_when_accepted(client: TestClient, seeded: Seeded) -> None:
    login(client, "viewer")
    url = f"/cities/{seeded.tehran}"
    status, headers, body = raw_get(client, url, **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip" and "Accept-Encoding" in headers["vary"]
    html = gzip.decompress(body).decode()
    status, headers, plain = raw_get(client, url, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in headers and plain.decode().count("<section") == html.count("<section") > 0
    assert len(body) < len(plain) / 2
    api = raw_get(client, "/api/places?limit=50", **{"Accept-Encoding": "gzip"})
    assert api[1]["content-encoding"] == "gzip" and b'"items"' in gzip.decompress(api[2])


def test_style_sheet_names_versioned_fonts(client: TestClient) -> None:
    css = client.get(asset_table().url("app.css")).text
    fonts = re.findall(r'url\("([^"]+)"\)', css)
    assert fonts and all(VERSIONED.match(u) for u in fonts), fonts
    for url in fonts:
        r = client.get(url)
        assert r.status_code == 200 and r.content[:4] == b"wOF2" and "immutable" in r.headers["cache-control"]


def test_old_urls_keep_working_and_revalidate(client: TestClient) -> None:
    r = client.get("/static/app.js")
    assert r.status_code == 200 and r.content == (STATIC_DIR / "app.js").read_bytes()
    assert r.headers["cache-control"] == "no-cache"
    again = client.get("/static/app.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/static/vendor/plotly.min.js").content == PLOTLY
    # A page of an older release names an older digest: sent on to the current file.
    old = client.get("/static/v/0123456789abcdef/app.css", follow_redirects=False)
    assert old.status_code == 307 and old.headers["location"] == asset_table().url("app.css")
    assert old.headers["cache-control"] == "no-store"
    current = asset_table().url("app.css")
    assert client.get(current, headers={"If-None-Match": client.get(current).headers["etag"]}).status_code == 304
    assert client.get("/static/v/0123456789abcdef/nothing.js").status_code == 404


def test_api_docs_load_versioned_swagger(client: TestClient) -> None:
    page = client.get("/api/docs")
    urls = static_urls(page.text)
    assert urls and all(VERSIONED.match(u) for u in urls)
    assert all(client.get(u).status_code == 200 for u in urls)


# --- error pages ---------------------------------------------------------------------------------------


def _main_text(html: str) -> str:
    main = html.split("<main>", 1)[1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def _body_text(html: str) -> str:
    body = html.split("<body", 1)[1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def _title(html: str) -> str:
    return html.split("<title>", 1)[1].split("</title>", 1)[0]


def _error_pages(client: TestClient, seeded: Seeded, lang: str) -> dict[int, str]:
    """One dashboard page per error status, asked for in ``lang`` (status -> HTML)."""
    pages: dict[int, str] = {}

    def keep(status: int, response) -> None:  # type: ignore[no-untyped-def]
        assert response.status_code == status, (status, response.text[:300])
        pages[status] = response.text

    p = {"lang": lang}
    keep(401, client.get("/test/needs-login", params=p))
    keep(500, client.get("/test/crash", params=p))
    login(client, "viewer")
    keep(403, client.get("/records/relations/new", params=p))
    keep(404, client.get("/cities/987654", params=p))
    keep(405, client.put("/audit", params=p))
    keep(422, client.get("/audit", params={**p, "offset": "-1"}))
    keep(413, client.post("/logout", params=p, content=b"x" * 1_100_000))
    login(client, "editor")
    form = client.get("/records/relations/new", params={"place_a_id": seeded.tehran})
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    fields = {
        "place_a_id": str(seeded.tehran),
        "place_b_id": str(seeded.istanbul),
        "kind": "sister_city",
        "status": "active",
        "signed_year": "1999",
        "source": "paper 002",
        "csrf_token": token,
    }
    made = client.post("/records/relations/new", data=fields, follow_redirects=False)
    assert made.status_code in (303, 409)  # 409: made on the first call already (the same pair and kind)
    rel = client.get("/api/relations", params={"place_id": seeded.istanbul}).json()["items"][0]
    keep(409, client.post(f"/records/relations/{rel['id']}/edit", data={**fields, "version": "7"}, params=p))
    client.cookies.clear()
    return pages


def test_persian_error_pages(client: TestClient, seeded: Seeded) -> None:
    english = _error_pages(client, seeded, "en")
    persian = _error_pages(client, seeded, "fa")
    gone = create_app("postgresql+psycopg://nobody@127.0.0.1:1/none", secret_key="k")
    with TestClient(gone) as c:
        for lang, pages in (("en", english), ("fa", persian)):
            form = c.get("/login", params={"lang": lang})
            token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            r = c.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token})
            assert r.status_code == 503, r.text[:300]
            pages[503] = r.text
    assert set(persian) == {401, 403, 404, 405, 409, 413, 422, 500, 503}
    for status, html in persian.items():
        assert '<html lang="fa" dir="rtl">' in html, status
        # The conflict page shows the two versions' values as people typed them ("paper 002"): their data, not
        # the page's words; everything else of the page is checked.
        html = re.sub(r'<td class="(yours|theirs)">.*?</td>', "<td></td>", html, flags=re.DOTALL)
        main, title = _main_text(html), _title(html)
        assert not LATIN_DIGIT.search(_body_text(html)) and not LATIN_DIGIT.search(title), (status, main)
        assert not LATIN_WORD.search(main) and not LATIN_WORD.search(title), (status, main)
        if status != 409:  # a 409 on an edit form is the form again, the typed text kept, the clash in words
            assert str(status).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in main
        # Nothing of the English page (its message, pydantic's words, the server's detail) leaks in.
        english_words = set(LATIN_WORD.findall(_main_text(english[status])))
        assert english_words and not english_words & set(main.split()), status
        assert "Traceback" not in html and "RuntimeError" not in html
    for status, html in english.items():
        assert '<html lang="en" dir="ltr">' in html, status
        assert status == 409 or f"Error {status}" in _main_text(html), status  # 409: the form again (above)
    assert "There is no place number 987654." in _main_text(english[404])
    assert "مکان شماره ۹۸۷۶۵۴ وجود ندارد." in _main_text(persian[404])
    assert "query.offset: Input should be greater than or equal to 0" in _main_text(english[422])
    assert "جای شروع فهرست: کمتر از کوچک‌ترین مقدار مجاز است" in _main_text(persian[422])
    assert "نقش ویرایشگر" in _main_text(persian[403]) and "editor role" in _main_text(english[403])
    assert "شخص دیگری" in _main_text(persian[409]) and "a bug" not in english[500]


def test_error_pages_switch_language_in_place(client: TestClient) -> None:
    login(client, "viewer")
    page = client.get("/cities/987654", params={"lang": "fa"})
    switch = re.search(r'id="lang-switch" href="([^"]+)"', page.text).group(1)
    assert switch == "/cities/987654?lang=en"
    assert client.get(switch.replace("&amp;", "&")).status_code == 404


def test_api_errors_stay_json(client: TestClient) -> None:
    login(client, "viewer")
    r = client.get("/api/places/987654", params={"lang": "fa"})
    assert r.status_code == 404 and r.json() == {"detail": "no place 987654"}
    big = client.post("/api/relations", content=b"x" * 1_100_000, headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.json() == {"detail": "request body larger than 1000000 bytes"}
    crash = client.get("/api/does-not-exist")
    assert crash.status_code == 404 and crash.headers["content-type"].startswith("application/json")


# --- in a browser --------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_persian_error_pages_render_right_to_left(live_server, browser_page) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base, _ = live_server
    page, problems = browser_page
    page.goto(base + "/login?lang=fa")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-button")
    page.wait_for_load_state()
    for path, status in (("/cities/987654", 404), ("/records/relations/new", 403)):
        response = page.goto(base + path)
        assert response is not None and response.status == status
        heading = page.locator("section.error h1")
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert heading.evaluate("h => getComputedStyle(h).direction") == "rtl"
        # Right-to-left for real: the heading's text hugs the right edge of the page's main column.
        text_box = heading.evaluate(
            "h => { const r = document.createRange(); r.selectNodeContents(h); const b = r.getBoundingClientRect();"
            " const m = h.closest('main').getBoundingClientRect(); return [b.left - m.left, m.right - b.right]; }"
        )
        assert text_box[1] < text_box[0], (path, text_box)
        assert not LATIN_DIGIT.search(page.inner_text("main")), path
        assert page.evaluate("document.fonts.check('16px Vazirmatn')"), "the versioned font URL did not load"
        shot(page, f"error_{status}_fa")
    assert problems == [] or all("404" in p or "403" in p for p in problems), problems


@pytest.mark.parametrize(("cookie", "expected"), [(None, "en"), ("fa", "fa")])
def test_a_language_the_site_does_not_speak_is_a_page_saying_so(
    client: TestClient, seeded: Seeded, cookie: str | None, expected: str
) -> None:
    if cookie:
        client.cookies.set(i18n.LANG_COOKIE, cookie)
    page = client.get(f"/cities/{seeded.tehran}", params={"lang": "xx"})
    assert page.status_code == 404
    assert f'lang="{expected}"' in page.text
    assert i18n.translate("unknown_language", expected) in page.text
    assert "set-cookie" not in {k.lower() for k in page.headers} or "lang=xx" not in page.headers["set-cookie"]
    # The API answers in JSON whatever ``lang`` says.
    assert client.get("/api/health", params={"lang": "xx"}).status_code == 200
