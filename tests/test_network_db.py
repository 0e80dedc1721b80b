"""Network analytics against a real registry (SQLite and PostgreSQL) and through the CLI."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.network.analysis import analyse
from citydiplomacy.network.graphs import NetworkFilter, load_bilateral, load_graph
from citydiplomacy.present.assets import chromium_path
from citydiplomacy.store import db
from citydiplomacy.store.schema import AnalysisRun, CityResult, Membership, Organisation, Place, Relation

PLACES = [
    # name, country, lat, lng, population
    ("Tehran", "IR", 35.6892, 51.389, 8_700_000),
    ("Isfahan", "IR", 32.6539, 51.666, 2_000_000),
    ("Paris", "FR", 48.8566, 2.3522, 2_100_000),
    ("Kyoto", "JP", 35.0116, 135.7681, 1_400_000),
    ("Lyon", "FR", 45.764, 4.8357, 500_000),
    ("Valencia", "ES", 39.4699, -0.3763, 800_000),
    ("Valencia", "VE", 10.162, -68.0077, 1_500_000),
]
RELATIONS = [(0, 2, "sister_city"), (0, 3, "mou"), (1, 4, "sister_city"), (2, 4, "sister_city"),
             (0, 1, "friendship"), (5, 2, "sister_city"), (6, 0, "sister_city")]  # fmt: skip


@pytest.fixture
def registry(db_url: str) -> dict[str, int]:
    engine = db.get_engine(db_url)
    ids: dict[str, int] = {}
    with db.session_scope(engine) as session:
        places = []
        for i, (name, cc, lat, lng, pop) in enumerate(PLACES):
            p = Place(
                gazetteer="source",
                gazetteer_id=f"test-{i}",
                name=name,
                country_code=cc,
                lat=lat,
                lng=lng,
                population=pop,
            )
            session.add(p)
            places.append(p)
        session.flush()
        for a, b, kind in RELATIONS:
            lo, hi = sorted((places[a].id, places[b].id))
            session.add(Relation(place_a_id=lo, place_b_id=hi, kind=kind, status="active", signed_year=2000 + a))
        uclg = Organisation(name="United Cities and Local Governments", acronym="UCLG", kind="global_network")
        session.add(uclg)
        session.flush()
        session.add_all([
            Membership(place_id=places[0].id, organisation_id=uclg.id, role="board"),
            Membership(place_id=places[2].id, organisation_id=uclg.id, role="active"),
            Membership(place_id=places[3].id, organisation_id=uclg.id, role="observer"),
        ])  # fmt: skip
        ids = {f"{p.name}|{p.country_code}": p.id for p in places}
    return ids


def test_load_and_analyse_store_results(registry, db_url):
    engine = db.get_engine(db_url)
    with db.session_scope(engine) as session:
        nodes, edges = load_bilateral(session)
        assert len(nodes) == 7 and len(edges) == len(RELATIONS)
        result = analyse(session, "bilateral")
        run_id = result.run_id
    tehran = result.metrics.set_index("place_id").loc[registry["Tehran|IR"]]
    assert tehran["degree"] == 4 and tehran["countries_reached"] == 3
    with db.session_scope(engine) as session:
        run = session.get(AnalysisRun, run_id)
        assert run.kind == "network" and run.parameters["graph"] == "bilateral"
        stored = session.scalar(
            select(CityResult.value).where(
                CityResult.run_id == run_id,
                CityResult.place_id == registry["Tehran|IR"],
                CityResult.code == "betweenness",
            )
        )
        assert stored == pytest.approx(tehran["betweenness"])
        n_rows = session.scalar(select(func.count()).select_from(CityResult).where(CityResult.run_id == run_id))
        numeric = [
            c for c in result.metrics.columns if c not in ("place_id", "name", "country_code", "continent", "subregion")
        ]
        assert n_rows == len(result.metrics) * len(numeric)


def test_membership_and_combined_runs_carry_interlocking_connectivity(registry, db_url):
    with db.session_scope(db.get_engine(db_url)) as session:
        member = analyse(session, "membership", store=False).metrics.set_index("place_id")
        combined = analyse(session, "combined", store=False).metrics.set_index("place_id")
        asia = load_graph(session, "bilateral", NetworkFilter(regions=("AS",)))
    # Tehran (board 3) with Paris (2) and Kyoto (1): 3·(2+1) = 9, the maximum.
    assert member.loc[registry["Tehran|IR"], "connectivity"] == 9
    assert member.loc[registry["Tehran|IR"], "connectivity_rel"] == 1
    assert combined.loc[registry["Lyon|FR"], "connectivity"] == 0  # no membership: 0, not missing
    assert set(asia.vs["country_code"]) == {"IR", "JP"}


def test_cli_metrics_communities_and_ambiguous_city(registry, db_url, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "m.csv"
    res = runner.invoke(app, ["network", "metrics", "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"betweenness", "harmonic", "constraint", "community", "region_diversity"} <= set(header)
    res = runner.invoke(app, ["network", "communities"])
    assert res.exit_code == 0 and "modularity" in res.output
    res = runner.invoke(app, ["network", "metrics", "--region", "Atlantis", "--no-store"])
    assert res.exit_code == 2 and "unknown region" in res.output
    res = runner.invoke(app, ["network", "map", "Valencia", "--out", str(tmp_path / "v.html")])
    assert res.exit_code == 2 and "matches 2 places" in res.output
    res = runner.invoke(app, ["network", "map", "Valencia", "--country", "ES", "--out", str(tmp_path / "v.html")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["network", "ego", "Tehran", "--out", str(tmp_path / "e.svg")])
    assert res.exit_code == 2 and "use .html or .png" in res.output


def test_offline_pages_carry_plotly_and_the_world(registry, db_url, tmp_path: Path):
    runner = CliRunner()
    page = tmp_path / "map.html"
    assert runner.invoke(app, ["network", "map", "Tehran", "--out", str(page)]).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "window.PlotlyGeoAssets" in html and '"world_110m"' in html
    assert html.index("window.PlotlyGeoAssets") < html.index("Plotly.newPlot")
    assert 'src="http' not in html  # nothing to fetch
    ego = tmp_path / "ego.html"
    assert runner.invoke(app, ["network", "ego", "Tehran", "--radius", "2", "--out", str(ego)]).exit_code == 0
    assert "Paris (FR)" in ego.read_text(encoding="utf-8")


def _png_pixels(path: Path) -> tuple[int, int, set[tuple[int, ...]]]:
    """Width, height and the set of colours of an 8-bit RGB(A) PNG (enough for Chromium's screenshots)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    colours: set[tuple[int, ...]] = set()
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b, c = prev[x], prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 4 == 0:
            colours.update(tuple(line[i : i + 3]) for i in range(0, stride, channels * 4))
        prev = line
    return width, height, colours


@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="headless Chromium not installed")
def test_map_png_renders_the_world_without_network(registry, db_url, tmp_path: Path):
    """The snapshot blocks every http(s) request: land colour on the PNG proves the vendored map was used."""
    png = tmp_path / "map.png"
    res = CliRunner().invoke(app, ["network", "map", "Tehran", "--out", str(png)])
    assert res.exit_code == 0, res.output
    width, height, colours = _png_pixels(png)
    assert (width, height) == (1200, 650)
    assert (0xF2, 0xF2, 0xEE) in colours  # land
    assert (0xDD, 0xEE, 0xFF) in colours  # ocean
