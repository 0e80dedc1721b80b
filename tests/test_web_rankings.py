"""Rankings with their meaning: coverage shown and filterable, a country filter, rank intervals drawn, bad
filter values answered by the error page in the user's language, and "find my city" landing on its page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from citydiplomacy.store import db
from citydiplomacy.store.schema import AnalysisRun, CityResult, Place
from citydiplomacy.web.app import create_app
from tests.test_web_support import Seeded, login, seed

#: Coverage stored per seeded place (the assessment writes ``COVERAGE`` as a 0-1 share).
COVERAGE = {"seoul": 0.5, "tehran": 0.75, "istanbul": 0.25, "kuala_lumpur": 1.0}
#: Extra places ranked above Tehran, so that it sits on the second page of 50.
EXTRA = 60


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    ids = seed(db_url)
    with db.session_scope(db.get_engine(db_url)) as s:
        run = s.scalars(select(AnalysisRun).where(AnalysisRun.kind == "assessment")).one()
        s.add_all(
            CityResult(run_id=run.id, place_id=getattr(ids, name), code="COVERAGE", value=share)
            for name, share in COVERAGE.items()
        )
        towns = [
            Place(gazetteer="manual", gazetteer_id=f"town-{i}", name=f"Town {i:02d}", country_code="DE")
            for i in range(EXTRA)
        ]
        s.add_all(towns)
        s.flush()
        s.add_all(
            CityResult(run_id=run.id, place_id=t.id, code="CDI", value=0.9 + i / 1000) for i, t in enumerate(towns)
        )
    return ids


@pytest.fixture
def client(db_url: str, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, secret_key="test-secret")) as c:
        login(c, "viewer")
        yield c


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="row-(\d+)"', html)]


def test_coverage_shown_and_filters_by_coverage_and_country(client: TestClient, seeded: Seeded) -> None:
    html = client.get("/rankings", params={"lang": "en", "offset": 50}).text
    tehran_row = html[html.index(f'id="row-{seeded.tehran}"') :].split("</tr>")[0]
    assert "75%" in tehran_row
    fa = client.get("/rankings", params={"lang": "fa", "offset": 50}).text
    assert "۷۵٪" in fa[fa.index(f'id="row-{seeded.tehran}"') :].split("</tr>")[0]
    # at least 50 %: Seoul, Tehran, Kuala Lumpur (the towns have no coverage row: left out)
    kept = row_ids(client.get("/rankings", params={"min_coverage": "50"}).text)
    assert kept == [seeded.seoul, seeded.tehran, seeded.kuala_lumpur]
    assert row_ids(client.get("/rankings", params={"min_coverage": "100"}).text) == [seeded.kuala_lumpur]
    # by country: ranks stay those among all places
    r = client.get("/rankings", params={"country": "ir", "lang": "en"})
    assert row_ids(r.text) == [seeded.tehran]
    assert re.search(r'data-label="Rank"><span>2</span>', r.text)  # its stored rank among all places
    assert ">Iran<" in r.text  # the country's name, not its code
    de = client.get("/rankings", params={"country": "DE", "code": "DIM_culture"})
    assert de.status_code == 200 and row_ids(de.text) == []


#: Bad filter values and the field the Persian error page names.
BAD_VALUES = [
    ({"country": "IRN"}, "کشور"),
    ({"country": "1x"}, "کشور"),
    ({"min_coverage": "abc"}, "کمینه پوشش"),
    ({"min_coverage": "150"}, "کمینه پوشش"),
    ({"code": "NOPE01"}, "رتبه‌بندی بر پایه"),
    ({"find": "a\x00b"}, "نام شهر"),
]


def test_bad_filter_values_give_the_error_page_in_the_users_language(client: TestClient) -> None:
    for params, field_fa in BAD_VALUES:
        en = client.get("/rankings", params={**params, "lang": "en"})
        assert en.status_code == 422 and 'id="error-page"' in en.text and "Not valid" in en.text, params
        fa = client.get("/rankings", params={**params, "lang": "fa"})
        assert fa.status_code == 422 and 'dir="rtl"' in fa.text and "نامعتبر" in fa.text, params
        assert field_fa in fa.text, params


def test_find_my_city_lands_on_its_page(client: TestClient, seeded: Seeded) -> None:
    for name in ("Tehran", "tehran", "تهران", "Tehr"):
        r = client.get("/rankings", params={"find": name, "country": ""}, follow_redirects=False)
        assert r.status_code == 303, name
        target = r.headers["location"]
        assert "offset=50" in target and f"highlight={seeded.tehran}" in target, target
        assert target.endswith(f"#row-{seeded.tehran}") and "find=" not in target  # the pager must not jump back
    page = client.get(target)
    assert f'<tr id="row-{seeded.tehran}" class="highlight" aria-current="true">' in page.text
    assert seeded.tehran in row_ids(page.text) and len(row_ids(page.text)) == 4 + EXTRA - 50
    assert "offset=0" in page.text  # the pager's "previous" link
    # within the filters, and a name no place of the ranking has
    r = client.get("/rankings", params={"find": "Seoul", "min_coverage": "50"}, follow_redirects=False)
    assert r.status_code == 303 and "min_coverage=50" in r.headers["location"] and "offset" not in r.headers["location"]
    missing = client.get("/rankings", params={"find": "Atlantis", "lang": "fa"})
    assert missing.status_code == 200 and 'id="find-not-found"' in missing.text and "Atlantis" in missing.text
    assert row_ids(missing.text)  # the ranking is still shown


def test_pager_and_rank_interval_chart(client: TestClient, seeded: Seeded) -> None:
    html = client.get("/rankings", params={"min_coverage": "0"}).text
    assert len(row_ids(html)) == 4  # 0 %: every place with a coverage row
    first = client.get("/rankings").text
    assert len(row_ids(first)) == 50 and "offset=50" in first  # the pager is kept
    second = client.get("/rankings", params={"offset": 50}).text
    assert 'id="chart-rank-intervals"' in second  # the seeded places have CDI_RANK_P05/_P95
    figure = second[second.index('id="chart-rank-intervals-data">') :].split("</script>")[0]
    assert '"error_x"' in figure and '"arrayminus"' in figure
