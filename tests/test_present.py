"""The one presentation module: words, numbers, dates and charts are the same on the dashboard and in reports."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from test_web_support import PASSWORD, Seeded, seed

import citydiplomacy
from citydiplomacy.present import charts, fmt
from citydiplomacy.report.city_report import city_report_html
from citydiplomacy.store import db
from citydiplomacy.store.schema import AnalysisRun, CityResult
from citydiplomacy.web.app import create_app

CHARTS = (
    "relations_chart",
    "dimensions_chart",
    "timeline_chart",
    "partners_map",
    "members_map",
    "growth_chart",
    "ranking_chart",
    "network_map",
)
#: A network measure that can be negative (degree assortativity of the place's neighbourhood).
NEGATIVE_CODE, NEGATIVE = "assortativity", -0.25


# --- formatting ---------------------------------------------------------------------------------------


def test_numbers_in_both_languages() -> None:
    assert fmt.number(1234567.891, "en", 2) == "1,234,567.89"
    assert fmt.number(1234567.891, "fa", 2) == "۱٬۲۳۴٬۵۶۷٫۸۹"
    assert fmt.number(-1234.5, "en", 1) == "-1,234.5"
    assert fmt.number(-1234.5, "fa", 1) == "\u200e\u2212۱٬۲۳۴٫۵"  # LRM + MINUS SIGN, CLDR's Persian minus
    assert fmt.number(-0.04, "fa", 1) == "۰٫۰"  # rounds to zero: no sign
    assert fmt.number(None, "fa") == "" and fmt.number(float("nan"), "en") == ""
    assert fmt.percent(0.75, "fa") == "۷۵٪" and fmt.percent(0.75, "en") == "75%"
    assert fmt.measure(29.0, "en") == "29" and fmt.measure(0.125, "fa") == "۰٫۱۲۵"
    assert fmt.number_range(55, 68, "fa", 1) == "۵۵٫۰ – ۶۸٫۰"


def test_dates_and_years_in_both_calendars() -> None:
    assert fmt.format_date(date(2014, 10, 31), "en") == "2014-10-31 (1393/08/09 SH)"
    assert fmt.format_date("2014-10-31T08:00:00", "fa") == "۱۳۹۳/۰۸/۰۹ (۲۰۱۴-۱۰-۳۱)"
    assert fmt.format_year(1994, "fa") == "۱۳۷۲/۷۳ (۱۹۹۴)" and fmt.solar_hijri_year(1994) == "1372/73"
    assert fmt.format_years(1997, None, "en") == "1997 (1375/76 SH) – …"
    assert fmt.format_years(None, None, "en") == ""
    # What the audit trail stored: ISO dates and timestamps in both calendars, other text as it is.
    assert fmt.format_stored("2026-12-03T23:48:49.144203", "fa") == "۱۴۰۵/۰۹/۱۲ (۲۰۲۶-۱۲-۰۳) ۲۳:۴۸"
    assert fmt.format_stored("2011-05-02", "en") == "2011-05-02 (1390/02/12 SH)"
    assert fmt.format_stored("2026-13-45", "en") == "2026-13-45" and fmt.format_stored("row 12", "fa") == "row ۱۲"


@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31)))
def test_a_persian_date_has_no_minus_sign(day: date) -> None:
    text = fmt.Formatter("fa").date(day)
    assert "\u2212" not in text and "\u200e" not in text and not re.search(r"[0-9]", text)


def test_formatter_is_one_per_language() -> None:
    assert fmt.formatter("fa") is fmt.formatter("fa")
    assert fmt.formatter("xx").lang == "en"
    assert fmt.formatter("fa").term("DIM_security") == "امنیت شهری"
    assert fmt.formatter("en").term("mou") == "MoU" and fmt.formatter("en").country("IR") == "Iran"


# --- one copy of each chart -------------------------------------------------------------------------------


def test_every_chart_is_defined_once_in_present_charts() -> None:
    package = Path(citydiplomacy.__file__).parent
    where: dict[str, list[str]] = {}
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in CHARTS:
                where.setdefault(node.name, []).append(str(path.relative_to(package)))
    assert where == {name: ["present/charts.py"] for name in CHARTS}


def test_dimensions_chart_draws_intervals_and_the_index_in_persian() -> None:
    dims = [
        {"code": "DIM_security", "value": 40.0, "low": 30.0, "high": 52.5},
        {"code": "DIM_networks", "value": 80.0, "low": None, "high": None},
    ]
    fig = charts.dimensions_chart(dims, fmt.formatter("fa"), {"value": 61.5, "low": 55.0, "high": 68.0})
    assert fig is not None
    bars, index = fig["data"]
    assert bars["error_x"]["array"] == [12.5, 0] and bars["error_x"]["arrayminus"] == [10.0, 0]
    assert index["x"] == [61.5] and index["error_x"]["array"] == [6.5]
    high, low = fig["layout"]["xaxis"]["range"]
    assert low == 0 and high >= 100  # right to left
    assert all(not re.search(r"[0-9]", t) for t in fig["layout"]["xaxis"]["ticktext"])
    assert charts.dimensions_chart([{"code": "DIM_x", "value": None}], fmt.formatter("en")) is None


def test_a_lone_member_gets_its_region_not_a_blank_rectangle() -> None:
    members = [{"lat": 35.69, "lng": 51.42, "role": "founding", "name": "Tehran", "name_fa": "تهران"}]
    fig = charts.members_map({"members": members}, fmt.formatter("fa"))
    assert fig is not None
    geo = fig["layout"]["geo"]
    # Not fitted to the point's bounds (that zooms into land without end): a bounded zoom around it.
    assert geo["fitbounds"] is False and geo["resolution"] == 110
    assert geo["center"] == {"lat": 35.69, "lon": 51.42} and geo["projection"]["scale"] == 4.0
    assert fig["data"][0]["text"] == ["تهران"]


# --- the same values on the dashboard and in the report ---------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine, Seeded]]:
    """The web tests' seed, plus an assessment run with intervals and a network run with a negative measure."""
    url = f"sqlite:///{tmp_path_factory.mktemp('present') / 'registry.db'}"
    engine = db.get_engine(url)
    db.upgrade(engine)
    seeded = seed(url)
    with db.session_scope(engine) as session:
        session.info["actor"] = "test"
        run = AnalysisRun(kind="assessment", parameters={"weights": "equal"}, model_version="test")
        net = AnalysisRun(kind="network", parameters={"layer": "twinning"})
        session.add_all([run, net])
        session.flush()
        # The codes the assessment writes: values and their 5th/95th percentiles as sibling codes.
        rows = {
            "CDI": 61.5,
            "CDI_P05": 55.0,
            "CDI_P95": 68.0,
            "CDI_RANK": 1.0,
            "CDI_RANK_P05": 1.0,
            "CDI_RANK_P95": 2.0,
            "DIM_security": 40.0,
            "DIM_security_P05": 30.0,
            "DIM_security_P95": 52.5,
            "DIM_networks": 80.0,
        }
        session.add_all(CityResult(run_id=run.id, place_id=seeded.tehran, code=c, value=v) for c, v in rows.items())
        session.add(CityResult(run_id=net.id, place_id=seeded.tehran, code=NEGATIVE_CODE, value=NEGATIVE))
    yield url, engine, seeded
    engine.dispose()
    db.get_engine.cache_clear()


@pytest.fixture(scope="module")
def city_pages(registry: tuple[str, Engine, Seeded]) -> dict[str, str]:
    """The dashboard's city page of Tehran in English and Persian."""
    url, _, seeded = registry
    with TestClient(create_app(url, secret_key="test-secret")) as client:
        r = client.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {lang: client.get(f"/cities/{seeded.tehran}", params={"lang": lang}).text for lang in ("en", "fa")}


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_a_date_and_a_negative_number_read_the_same_on_the_dashboard_and_in_the_report(
    lang: str, registry: tuple[str, Engine, Seeded], city_pages: dict[str, str]
) -> None:
    report = city_report_html(registry[1], "Tehran", "IR", lang)[0]
    page = city_pages[lang]
    day = fmt.format_date(date(2014, 10, 31), lang)  # the seed's World Cities Day activity
    negative = fmt.measure(NEGATIVE, lang)
    assert day == ("۱۳۹۳/۰۸/۰۹ (۲۰۱۴-۱۰-۳۱)" if lang == "fa" else "2014-10-31 (1393/08/09 SH)")
    assert negative == ("\u200e\u2212۰٫۲۵" if lang == "fa" else "-0.25")
    for html in (page, report):
        assert day in html
        assert f">{negative}<" in html  # the network measure's table cell
    cdi = fmt.number_range(55.0, 68.0, lang, 1)
    assert cdi in page and cdi in report


def _figure(page: str, chart_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', page, re.S)
    assert match, chart_id
    return json.loads(match.group(1))


def test_city_page_draws_the_stored_intervals(city_pages: dict[str, str], registry: tuple[str, Engine, Seeded]) -> None:
    fig = _figure(city_pages["en"], "chart-dimensions")
    bars, index = fig["data"]
    assert bars["y"] == ["urban security", "urban networks"]
    assert bars["error_x"]["array"] == [12.5, 0] and bars["error_x"]["arrayminus"] == [10.0, 0]
    assert index["x"] == [61.5] and index["error_x"]["arrayminus"] == [6.5]
    assert 'id="rank-interval"' in city_pages["en"]
    # The report draws the same figure from the same rows.
    report = city_report_html(registry[1], "Tehran", "IR", "en")[0]
    figures = json.loads(re.search(r"var figures = (\{.*?\});\n", report, re.S).group(1))  # type: ignore[union-attr]
    assert figures["fig-dimensions"] == fig


def test_every_country_has_a_persian_name() -> None:
    """No country falls back to its Latin name on Persian pages (Türkiye did: iso-codes renamed it)."""
    import pycountry

    from citydiplomacy.present.i18n import country_name

    latin = [c.alpha_2 for c in pycountry.countries if not any("\u0600" <= ch <= "\u06ff" for ch in country_name(
        c.alpha_2, "fa"))]  # fmt: skip
    assert latin == [] and country_name("TR", "fa") == "ترکیه" and country_name("IR", "fa") == "ایران"
