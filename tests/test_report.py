"""The city report: self-contained HTML in English and Persian, its sources, and the PDF print."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import jdatetime
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, or_, select
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.present.fmt import Formatter
from citydiplomacy.report.city_report import atomic_write, city_report_html, write_report
from citydiplomacy.store import db
from citydiplomacy.store.schema import Activity, AnalysisRun, CityResult, Membership, Place, Relation, Source

SECTIONS = (
    "header",
    "key-figures",
    "relations-by-kind",
    "partners-map",
    "relations",
    "memberships",
    "timeline",
    "assessment",
    "network",
    "sources",
)
ASCII_DIGIT = re.compile(r"[0-9]")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    """A SQLite registry holding the Tehran case study (built once for the module: loading takes seconds)."""
    path = tmp_path_factory.mktemp("report") / "registry.db"
    url = f"sqlite:///{path}"
    engine = db.get_engine(url)
    db.upgrade(engine)
    load_case_study(engine)
    yield url, engine
    engine.dispose()
    db.get_engine.cache_clear()


@pytest.fixture(scope="module")
def html_en(registry: tuple[str, Engine]) -> str:
    return city_report_html(registry[1], "Tehran", "IR", "en")[0]


@pytest.fixture(scope="module")
def html_fa(registry: tuple[str, Engine]) -> str:
    return city_report_html(registry[1], "Tehran", "IR", "fa")[0]


class _Attributes(HTMLParser):
    """Collects tags with their attributes, and the ids of elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Attributes()
    parser.feed(html)
    return parser.tags


def _cited_sources(engine: Engine) -> dict[str, str | None]:
    """Source name -> citation of every source cited by Tehran's records, straight from the tables."""
    with db.session_scope(engine) as session:
        tehran = session.scalars(select(Place).where(Place.name == "Tehran", Place.country_code == "IR")).one()
        ids: set[int] = set()
        for model, where in (
            (Relation, or_(Relation.place_a_id == tehran.id, Relation.place_b_id == tehran.id)),
            (Membership, Membership.place_id == tehran.id),
            (Activity, Activity.place_id == tehran.id),
        ):
            ids |= {sid for sid in session.scalars(select(model.source_id).where(where)) if sid is not None}
        if tehran.source_id:
            ids.add(tehran.source_id)
        return {s.name: s.citation for s in session.scalars(select(Source).where(Source.id.in_(ids)))}


def test_english_page_has_every_section_and_both_names(html_en: str) -> None:
    ids = {attrs.get("id") for _, attrs in _tags(html_en)}
    assert set(SECTIONS) <= ids
    root = next(attrs for tag, attrs in _tags(html_en) if tag == "html")
    assert root == {"lang": "en", "dir": "ltr"}
    header = html_en.split('id="header"', 1)[1].split("</header>", 1)[0]
    assert "Tehran" in header and "تهران" in header
    assert "7,153,309" in header  # GeoNames population of Tehran
    assert "geonames:112931" in header
    assert "Not assessed yet" in html_en  # the case study alone has no assessment run
    # Gregorian first, Solar Hijri in brackets: World Cities Day 2014 in Tehran.
    assert "2014-10-31 (1393/08/09 SH)" in html_en


def test_persian_page_is_rtl_with_persian_digits_and_hijri_dates_first(html_fa: str) -> None:
    root = next(attrs for tag, attrs in _tags(html_fa) if tag == "html")
    assert root == {"lang": "fa", "dir": "rtl"}
    assert "نیم‌رخ دیپلماسی شهری" in html_fa
    assert "۷٬۱۵۳٬۳۰۹" in html_fa  # population, Persian digits and separator
    assert "۱۳۹۳/۰۸/۰۹ (۲۰۱۴-۱۰-۳۱)" in html_fa
    assert "1393/08/09" not in html_fa
    # The key figures are numbers in Persian digits only.
    figures = re.findall(r'<div class="n">([^<]*)</div>', html_fa)
    assert figures and all(f and not ASCII_DIGIT.search(f) for f in figures)
    assert "Vazirmatn" in html_fa
    # Persian vocabulary in the tables: sister-city relations and a founding role.
    assert "خواهرخواندگی" in html_fa and "مؤسس" in html_fa


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_page_is_self_contained(lang: str, html_en: str, html_fa: str) -> None:
    html = html_en if lang == "en" else html_fa
    for tag, attrs in _tags(html):
        for key in ("src", "href", "data", "action", "poster"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("#", "data:")), f"<{tag} {key}={value!r}> leaves the file"
        assert tag not in ("link", "iframe", "img") or (attrs.get("src") or attrs.get("href") or "").startswith("data:")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html.split("<script>", 1)[0])
    assert re.search(r"@font-face\{font-family:'Vazirmatn'[^}]*url\(data:font/woff2;base64,", html)
    assert html.count('Object.assign(window.PlotlyGeoAssets.topojson, {"world_110m":{"type":"Topology"') == 1
    assert len(re.findall(r"\* plotly\.js v\d", html)) == 1  # plotly.js inlined exactly once
    figures = json.loads(re.search(r"var figures = (\{.*?\});\n", html, re.S).group(1))  # type: ignore[union-attr]
    assert {"fig-map", "fig-relations", "fig-timeline"} <= set(figures)
    assert figures["fig-map"]["layout"]["geo"]["resolution"] == 110  # the vendored world_110m topojson


def test_every_cited_source_is_listed_with_its_locators(registry: tuple[str, Engine], html_en: str) -> None:
    expected = _cited_sources(registry[1])
    assert len(expected) >= 2
    listed = re.findall(r'<li id="src-(\d+)"', html_en)
    assert len(listed) == len(expected)
    sources_section = html_en.split('id="sources"', 1)[1]
    for name, citation in expected.items():
        assert name in sources_section
        if citation:
            assert citation.replace("&", "&amp;").replace("'", "&#39;") in sources_section
    # Every relation row points at a listed source, with its locator (e.g. "Table 2, row 20").
    relations = html_en.split('id="relations"', 1)[1].split("</section>", 1)[0]
    refs = re.findall(r'href="#src-(\d+)"', relations)
    assert refs and set(refs) <= set(listed)
    assert "Table 2, row 20" in relations and "Table 2, row 20" in sources_section


@pytest.fixture
def assessed(registry: tuple[str, Engine], tmp_path: Path) -> Iterator[Engine]:
    """A copy of the case-study registry with one stored assessment run and one network run."""
    copy = tmp_path / "assessed.db"
    shutil.copy(registry[0].removeprefix("sqlite:///"), copy)
    engine = db.get_engine(f"sqlite:///{copy}")
    with db.session_scope(engine) as session:
        tehran = session.scalars(select(Place).where(Place.name == "Tehran", Place.country_code == "IR")).one()
        other = session.scalars(select(Place).where(Place.name == "Mashhad")).one()
        run = AnalysisRun(kind="assessment", parameters={"weights": "rank-order", "normalise": "minmax"})
        net = AnalysisRun(kind="network", parameters={"graph": "twinning"})
        session.add_all([run, net])
        session.flush()
        rows = [
            (run.id, tehran.id, "CDI", 61.5, None),
            # The codes the assessment writes: a value, its 5th and 95th percentiles as sibling codes.
            (run.id, tehran.id, "CDI_P05", 55.0, None),
            (run.id, tehran.id, "CDI_P95", 68.0, None),
            (run.id, tehran.id, "CDI_RANK", 1.0, None),
            (run.id, tehran.id, "CDI_RANK_P05", 1.0, None),
            (run.id, tehran.id, "CDI_RANK_MEDIAN", 1.0, None),
            (run.id, tehran.id, "CDI_RANK_P95", 2.0, None),
            (run.id, tehran.id, "COVERAGE", 0.75, None),
            (run.id, tehran.id, "DIM_security", 40.0, None),
            (run.id, tehran.id, "DIM_security_P05", 30.0, None),
            (run.id, tehran.id, "DIM_security_P95", 52.5, None),
            (run.id, tehran.id, "DIM_networks", 80.0, None),
            (run.id, other.id, "CDI", 20.0, None),
            (net.id, tehran.id, "degree", 29.0, None),
            (net.id, tehran.id, "betweenness", 0.125, None),
        ]
        session.add_all(CityResult(run_id=r, place_id=p, code=c, value=v, detail=d) for r, p, c, v, d in rows)
    yield engine
    engine.dispose()


def test_assessment_and_network_sections_show_stored_runs(assessed: Engine) -> None:
    html = city_report_html(assessed, "Tehran", "IR", "en")[0]
    section = html.split('id="assessment"', 1)[1].split("</section>", 1)[0]
    assert "Not assessed yet" not in section
    assert "61.5" in section and "55.0 – 68.0" in section
    assert "1 of 2" in section and "1 – 2" in section  # rank among the places with a CDI, and its interval
    assert "75%" in section
    assert "urban security" in section and "30.0 – 52.5" in section
    figures = json.loads(re.search(r"var figures = (\{.*?\});\n", html, re.S).group(1))  # type: ignore[union-attr]
    bars, cdi = figures["fig-dimensions"]["data"]
    assert bars["x"] == [40.0, 80.0]
    assert bars["error_x"]["array"] == [12.5, 0] and bars["error_x"]["arrayminus"] == [10.0, 0]
    assert cdi["x"] == [61.5] and cdi["error_x"]["array"] == [6.5] and cdi["error_x"]["arrayminus"] == [6.5]
    assert figures["fig-dimensions"]["layout"]["yaxis"]["categoryarray"] == ["CDI", "urban security", "urban networks"]
    network = html.split('id="network"', 1)[1].split("</section>", 1)[0]
    # the metric's name and unit (present.metrics), never its code
    assert "Partners" in network and "degree" not in network
    assert ">29<" in network and ">0.125<" in network  # four significant digits
    html_fa = city_report_html(assessed, "Tehran", "IR", "fa")[0]
    section_fa = html_fa.split('id="assessment"', 1)[1].split("</section>", 1)[0]
    assert "۶۱٫۵" in section_fa and "۵۵٫۰ – ۶۸٫۰" in section_fa and "امنیت شهری" in section_fa


def test_write_report_writes_the_file_and_leaves_no_temporary(registry: tuple[str, Engine], tmp_path: Path) -> None:
    out = tmp_path / "deep" / "tehran.html"
    path = write_report(registry[1], "Tehran", "IR", "fa", "html", out)
    assert path == out
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'dir="rtl"' in text
    assert [p.name for p in out.parent.iterdir()] == ["tehran.html"]


def test_atomic_write_leaves_nothing_when_the_rename_fails(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep").write_text("x")  # a non-empty directory cannot be replaced by a file
    with pytest.raises(OSError):
        atomic_write(target, b"<html></html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert (target / "keep").read_text() == "x"


def test_failed_report_keeps_the_previous_file(registry: tuple[str, Engine], tmp_path: Path) -> None:
    from citydiplomacy.core.errors import PlaceNotFound

    out = tmp_path / "report.html"
    out.write_text("previous report")
    with pytest.raises(PlaceNotFound):
        write_report(registry[1], "Atlantis", None, "en", "html", out)
    assert out.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_cli_report(registry: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYDIP_DATABASE_URL", registry[0])
    runner = CliRunner()
    out = tmp_path / "fa.html"
    result = runner.invoke(app, ["report", "تهران", "--lang", "fa", "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert 'dir="rtl"' in out.read_text(encoding="utf-8")
    missing = runner.invoke(app, ["report", "Atlantis", "--format", "html", "--out", str(tmp_path / "x.html")])
    assert missing.exit_code == 2 and not (tmp_path / "x.html").exists()
    bad = runner.invoke(app, ["report", "Tehran", "--format", "docx", "--out", str(tmp_path / "x.docx")])
    assert bad.exit_code == 2
    monkeypatch.setenv("CITYDIP_CHROMIUM", str(tmp_path / "no-such-chromium"))
    no_browser = runner.invoke(app, ["report", "Tehran", "--format", "pdf", "--out", str(tmp_path / "x.pdf")])
    assert no_browser.exit_code == 2
    assert "chromium" in no_browser.output.lower() and not (tmp_path / "x.pdf").exists()


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31)))
def test_persian_dates_round_trip_through_the_solar_hijri_calendar(day: date) -> None:
    text = Formatter("fa").date(day)
    assert not re.search(r"[0-9]", text)  # Persian digits only
    ascii_text = text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    sh, gregorian = re.fullmatch(r"(\d{4}/\d\d/\d\d) \((\d{4}-\d\d-\d\d)\)", ascii_text).groups()  # type: ignore[union-attr]
    y, m, d = (int(x) for x in sh.split("/"))
    assert jdatetime.date(y, m, d).togregorian() == day == date.fromisoformat(gregorian)


chromium = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")


@chromium
def test_pdf_in_persian_renders_offline_with_the_city_name(html_fa: str, tmp_path: Path) -> None:
    from citydiplomacy.report.pdf import html_to_pdf

    rendered = html_to_pdf(html_fa)
    assert rendered.pdf.startswith(b"%PDF")
    assert rendered.blocked_requests == []  # the page asked for nothing outside itself
    out = atomic_write(tmp_path / "tehran-fa.pdf", rendered.pdf)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        assert "تهران" in text
        assert "ارقام کلیدی" in text


@chromium
def test_write_report_pdf(registry: tuple[str, Engine], tmp_path: Path) -> None:
    out = write_report(registry[1], "Tehran", "IR", "en", "pdf", tmp_path / "tehran.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        assert "Tehran" in text and "Sources" in text


def test_report_reads_both_backends(db_url: str) -> None:
    """The same report from SQLite and PostgreSQL (the queries use only portable SQL)."""
    engine = db.get_engine(db_url)
    load_case_study(engine)
    html = city_report_html(engine, "Tehran", "IR", "fa")[0]
    assert 'dir="rtl"' in html and "۱۳۹۳/۰۸/۰۹ (۲۰۱۴-۱۰-۳۱)" in html
    assert len(re.findall(r'<li id="src-(\d+)"', html)) == len(_cited_sources(engine))


def test_result_codes_match_the_assessment() -> None:
    from citydiplomacy.assess import registry_index
    from citydiplomacy.report import city_report

    assert city_report.CDI_CODE == registry_index.CDI_CODE
    assert city_report.RANK_CODE == registry_index.RANK_CODE
    assert city_report.COVERAGE_CODE == registry_index.COVERAGE_CODE
    assert registry_index.dimension_code("security") == "DIM_security"
