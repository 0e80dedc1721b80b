"""Partner and network recommenders, union feasibility and the SWOT workbench on a small real-named registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.ingest.twinning import import_twinning
from citydiplomacy.store.db import get_engine, session_scope
from citydiplomacy.store.schema import AnalysisRun
from citydiplomacy.strategy.recommend_networks import eligibility, recommend_networks
from citydiplomacy.strategy.recommend_partners import RecommendError, recommend_partners
from citydiplomacy.strategy.swot import SwotError, add_items, build_swot, write_swot
from citydiplomacy.strategy.union import Region, UnionError, assess_union
from tests.registry_helpers import write_csv

#: Real sister-city pairs around Iran, Turkey, Central Asia and Europe (coordinates in degrees).
PAIRS = [
    ("Mashhad", "Iran", 36.30, 59.60, "Herat", "Afghanistan", 34.35, 62.20),
    ("Mashhad", "Iran", 36.30, 59.60, "Dushanbe", "Tajikistan", 38.54, 68.78),
    ("Mashhad", "Iran", 36.30, 59.60, "Karbala", "Iraq", 32.62, 44.02),
    ("Mashhad", "Iran", 36.30, 59.60, "Kazan", "Russia", 55.79, 49.12),
    ("Isfahan", "Iran", 32.65, 51.67, "Kuala Lumpur", "Malaysia", 3.14, 101.69),
    ("Isfahan", "Iran", 32.65, 51.67, "Yerevan", "Armenia", 40.18, 44.51),
    ("Isfahan", "Iran", 32.65, 51.67, "Florence", "Italy", 43.77, 11.25),
    ("Isfahan", "Iran", 32.65, 51.67, "Xi'an", "China", 34.26, 108.94),
    ("Shiraz", "Iran", 29.61, 52.54, "Dushanbe", "Tajikistan", 38.54, 68.78),
    ("Shiraz", "Iran", 29.61, 52.54, "Herat", "Afghanistan", 34.35, 62.20),
    ("Tabriz", "Iran", 38.08, 46.29, "Baku", "Azerbaijan", 40.41, 49.87),
    ("Tabriz", "Iran", 38.08, 46.29, "Kazan", "Russia", 55.79, 49.12),
    ("Tabriz", "Iran", 38.08, 46.29, "Istanbul", "Turkey", 41.01, 28.98),
    ("Ankara", "Turkey", 39.93, 32.86, "Baku", "Azerbaijan", 40.41, 49.87),
    ("Ankara", "Turkey", 39.93, 32.86, "Kabul", "Afghanistan", 34.53, 69.17),
    ("Ankara", "Turkey", 39.93, 32.86, "Bishkek", "Kyrgyzstan", 42.87, 74.59),
    ("Istanbul", "Turkey", 41.01, 28.98, "Baku", "Azerbaijan", 40.41, 49.87),
    ("Istanbul", "Turkey", 41.01, 28.98, "Kazan", "Russia", 55.79, 49.12),
    ("Baku", "Azerbaijan", 40.41, 49.87, "Kazan", "Russia", 55.79, 49.12),
    ("Dushanbe", "Tajikistan", 38.54, 68.78, "Bishkek", "Kyrgyzstan", 42.87, 74.59),
    ("Dushanbe", "Tajikistan", 38.54, 68.78, "Ankara", "Turkey", 39.93, 32.86),
    ("Yerevan", "Armenia", 40.18, 44.51, "Florence", "Italy", 43.77, 11.25),
    ("Florence", "Italy", 43.77, 11.25, "Kyoto", "Japan", 35.01, 135.77),
    ("Xi'an", "China", 34.26, 108.94, "Kyoto", "Japan", 35.01, 135.77),
]


@pytest.fixture
def registry(sqlite_url: str, tmp_path: Path) -> str:
    """The case study (Tehran, its partners and memberships) plus a small pair list."""
    engine = get_engine(sqlite_url)
    load_case_study(engine)
    csv = write_csv(
        tmp_path / "pairs.csv", ["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2"], PAIRS
    )
    import_twinning(csv, engine=engine, on_error="skip")
    return sqlite_url


def test_partner_recommendations_for_tehran_are_explained(registry: str) -> None:
    result = recommend_partners("Tehran", top=5, engine=get_engine(registry))
    cands = result["candidates"]
    assert result["city"]["ties"] > 10 and len(cands) == 5
    scores = [c["score"] for c in cands]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    partners = {r["partner"]["name"] for r in _profile(registry, "Tehran")["relations"]}
    assert not {c["name"] for c in cands} & partners  # never proposes an existing partner
    assert all(c["reasons"] for c in cands)
    assert any("partner(s) in common" in r or "km away" in r for c in cands for r in c["reasons"])


def _profile(url: str, name: str) -> dict:
    from citydiplomacy.store.lookup import find_place
    from citydiplomacy.store.queries import city_profile

    with session_scope(get_engine(url)) as session:
        return city_profile(session, find_place(session, name))


def test_partner_country_filter_and_bad_input(registry: str) -> None:
    engine = get_engine(registry)
    result = recommend_partners("Tehran", partner_country="az", engine=engine)
    assert result["candidates"] and {c["country_code"] for c in result["candidates"]} == {"AZ"}
    with pytest.raises(RecommendError, match="unknown country"):
        recommend_partners("Tehran", partner_country="XX", engine=engine)
    with pytest.raises(RecommendError):
        recommend_partners("Nowhere-on-earth", engine=engine)


def test_city_without_ties_gets_a_defined_answer(registry: str) -> None:
    # The case study's organisation seats (e.g. Montreal for Metropolis) are places without ties.
    result = recommend_partners("Montreal", top=3, engine=get_engine(registry))
    assert result["city"]["ties"] == 0
    assert any("no ties" in n for n in result["notes"])
    assert len(result["candidates"]) == 3


def test_network_recommendations_respect_eligibility(registry: str) -> None:
    result = recommend_networks("Mashhad", engine=get_engine(registry), top=20)
    names = {r["organisation"] for r in result["recommendations"]}
    assert "GFCD" in result["current"] and "GFCD" not in names  # already a member
    assert "Eurocities" in {r["organisation"] for r in result["ineligible"]}  # regional body elsewhere
    for rec in result["recommendations"]:
        assert rec["reasons"] and 0.0 <= rec["score"] <= 1.0
    metropolis = {"eligibility": {"min_population": 250000, "min_urban_area_population": 1000000}}
    assert eligibility(metropolis, "FR", 100_000.0, False)[0] is False
    assert eligibility(metropolis, "FR", 300_000.0, False)[0] is True
    assert eligibility(metropolis, "FR", float("nan"), False)[0] is None


def test_union_feasibility_components_and_bad_regions(registry: str) -> None:
    engine = get_engine(registry)
    result = assess_union(Region(countries=("IR", "TR", "AZ")), engine=engine)
    assert result["cities"] >= 5
    assert 0.0 <= result["feasibility"] <= 100.0
    for value in result["components"].values():
        assert value is None or 0.0 <= value <= 1.0
    assert result["ties"]["internal"] > 0 and result["founding_core"]["size"] >= 2
    assert result["secretariat"] and all(h["reasons"] for h in result["secretariat"])
    assert result["secretariat"][0]["name"] in {"Tehran", "Istanbul", "Ankara", "Baku", "Tabriz"}
    around = assess_union(Region(around=("Tabriz", None, 600.0)), engine=engine)
    assert "Baku" in {m["name"] for m in around["founding_core"]["members"]} | {
        h["name"] for h in around["secretariat"]
    }
    with pytest.raises(UnionError, match="unknown country"):
        assess_union(Region(countries=("IR", "QQ")), engine=engine)
    with pytest.raises(UnionError, match="at least two"):
        assess_union(Region(countries=("KG",)), engine=engine)  # Bishkek alone
    with pytest.raises(UnionError, match="at least two"):
        assess_union(Region(bbox=(-60.0, -60.0, -50.0, -50.0)), engine=engine)


def test_swot_for_tehran_uses_the_catalogue_and_links_recommendations(registry: str, tmp_path: Path) -> None:
    swot = build_swot("Tehran", engine=get_engine(registry))
    counts = {k: sum(1 for it in v if it["source"] == "catalogue") for k, v in swot["items"].items()}
    assert counts == {"strength": 7, "weakness": 9, "opportunity": 9, "threat": 6}
    for matrix in (swot["ife"], swot["efe"]):
        assert sum(r["weight"] for r in matrix["rows"]) == pytest.approx(1.0)
        assert all(1 <= r["rating"] <= 4 for r in matrix["rows"])
        assert matrix["total"] == pytest.approx(sum(r["weight"] * r["rating"] for r in matrix["rows"]), abs=1e-3)
    legal = next(r for r in swot["recommendations"] if r["code"] == "solution.legal_administrative")
    assert "weakness.weak_laws" in legal["answers"]
    assert swot["grid"]["WT"] and swot["grid"]["SO"]
    for suffix in (".json", ".md", ".html"):
        path = write_swot(swot, tmp_path / f"swot{suffix}")
        assert "Tehran" in path.read_text(encoding="utf-8")
    assert json.loads((tmp_path / "swot.json").read_text())["city"]["name"] == "Tehran"
    with pytest.raises(SwotError, match="format"):
        write_swot(swot, tmp_path / "swot.pdf")
    assert not (tmp_path / "swot.pdf").exists()


def test_swot_weights_must_sum_to_one_and_user_items_are_stored(registry: str) -> None:
    engine = get_engine(registry)
    codes = [it["code"] for it in build_swot("Mashhad", engine=engine)["items"]["strength"]]
    assert codes == []  # no catalogue outside Tehran, no assessment
    items = add_items(
        "Mashhad", [("strength", "Pilgrimage city with 20 M visitors"), ("weakness", "No IR office")], engine=engine
    )
    assert [i["kind"] for i in items] == ["strength", "weakness"]
    swot = build_swot("Mashhad", engine=engine)
    assert [it["text"] for it in swot["items"]["strength"]] == ["Pilgrimage city with 20 M visitors"]
    s, w = swot["items"]["strength"][0]["code"], swot["items"]["weakness"][0]["code"]
    ok = build_swot("Mashhad", engine=engine, weights={s: {"weight": 0.7, "rating": 4}, w: 0.3})
    assert ok["ife"]["total"] == pytest.approx(0.7 * 4 + 0.3 * 2)
    with pytest.raises(SwotError, match="sum to 1"):
        build_swot("Mashhad", engine=engine, weights={s: 0.7, w: 0.2})
    with pytest.raises(SwotError, match="rating"):
        build_swot("Mashhad", engine=engine, weights={s: {"weight": 0.5, "rating": 5}, w: 0.5})
    with pytest.raises(SwotError, match="unknown SWOT kind"):
        add_items("Mashhad", [("strength", "fine"), ("hope", "never stored")], engine=engine)
    assert len(build_swot("Mashhad", engine=engine)["items"]["strength"]) == 1  # nothing stored half-way


def test_cli_commands_answer_and_fail_cleanly(registry: str, tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["recommend", "partners", "Tehran", "--top", "3", "--json"])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)["candidates"]) == 3
    out = runner.invoke(app, ["recommend", "networks", "Mashhad", "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["recommendations"]
    out = runner.invoke(app, ["union", "assess", "--countries", "IR,TR,AZ", "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["cities"] >= 5
    out = runner.invoke(app, ["union", "assess", "--countries", "ZZ"])
    assert out.exit_code == 1 and "unknown country" in out.output
    out = runner.invoke(app, ["union", "assess", "--around", "Tabriz"])
    assert out.exit_code == 1 and "--km" in out.output
    weights = tmp_path / "w.json"
    weights.write_text(json.dumps({"strength.metropolis_membership": 2.0}))
    with session_scope(get_engine(registry)) as session:
        runs_before = session.scalar(select(func.count()).select_from(AnalysisRun))
    out = runner.invoke(
        app, ["swot", "Tehran", "--add", "strength=Hosts the AMF secretariat", "--weights", str(weights)]
    )
    assert out.exit_code == 1
    with session_scope(get_engine(registry)) as session:
        assert session.scalar(select(func.count()).select_from(AnalysisRun)) == runs_before
    out = runner.invoke(app, ["swot", "Tehran", "--out", str(tmp_path / "t.md")])
    assert out.exit_code == 0 and "IFE matrix" in (tmp_path / "t.md").read_text(encoding="utf-8")


# -- the stored partner model (issue 12) -----------------------------------------------------------------------
@pytest.fixture
def partner_registry(registry: str, twin_cities_csv: Path, tmp_path: Path) -> str:
    """The small registry plus the first 400 pairs of the real twinning data: enough ties to train the model."""
    lines = twin_cities_csv.read_text(encoding="utf-8").splitlines()[:401]
    head = tmp_path / "head.csv"
    head.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_twinning(head, engine=get_engine(registry), on_error="skip")
    return registry


def _partner_runs(engine) -> list[AnalysisRun]:
    with session_scope(engine) as session:
        runs = session.scalars(select(AnalysisRun).where(AnalysisRun.kind == "partner_model").order_by(AnalysisRun.id))
        out = list(runs)
        session.expunge_all()
    return out


def _ranking(result: dict) -> list[tuple[str, float]]:
    return [(c["name"], c["score"]) for c in result["candidates"]]


def test_a_stored_partner_model_is_reused_by_a_new_process_until_the_data_changes(partner_registry: str) -> None:
    from citydiplomacy.store.schema import Place
    from citydiplomacy.strategy import recommend_partners as rp
    from citydiplomacy.strategy.data import load_registry_graph
    from citydiplomacy.strategy.features import FeatureGraph

    engine = get_engine(partner_registry)
    rp._PREDICTORS.clear()
    first = recommend_partners("Tehran", top=8, engine=engine)
    assert first["method"] == "model" and first["model"]["reused"] is False
    (stored,) = _partner_runs(engine)
    assert stored.id == first["model"]["run"] and stored.model_version == rp.MODEL_VERSION
    assert stored.parameters == {"seed": 0, "inner_rounds": 3} and stored.data_version is not None
    assert stored.summary["estimator"] and len(stored.summary["estimator_sha256"]) == 64

    rp._PREDICTORS.clear()  # what a new CLI process starts with
    second = recommend_partners("Tehran", top=8, engine=engine)
    assert second["model"] == second["model"] | {"reused": True, "run": stored.id}
    assert _ranking(second) == _ranking(first)  # the loaded model and the rebuilt feature graph rank alike
    graph = load_registry_graph(engine)
    (loaded,) = rp._PREDICTORS.values()
    fresh = FeatureGraph(graph, graph.edges, seed=0)  # the stored communities and cores are the ones computed
    assert (loaded.feature_graph.community == fresh.community).all() and (loaded.feature_graph.core == fresh.core).all()
    assert len(_partner_runs(engine)) == 1

    with session_scope(engine) as session:  # any write advances the data version
        place = session.scalars(select(Place).where(Place.name == "Kyoto")).one()
        place.population = 1_460_000
    rp._PREDICTORS.clear()
    third = recommend_partners("Tehran", top=8, engine=engine)
    assert third["model"]["reused"] is False and third["model"]["run"] > stored.id
    old, new = _partner_runs(engine)
    assert new.data_version > old.data_version
    assert old.summary["superseded_by"] == new.id and not {"estimator", "communities"} & set(old.summary)
    assert new.summary["estimator"]  # megabytes kept once


def test_a_tampered_partner_model_is_refused_and_refitted(partner_registry: str) -> None:
    import base64

    from citydiplomacy.strategy import recommend_partners as rp
    from citydiplomacy.strategy.data import load_registry_graph

    engine = get_engine(partner_registry)
    rp._PREDICTORS.clear()
    recommend_partners("Tehran", top=3, engine=engine)
    (stored,) = _partner_runs(engine)
    blob = bytearray(base64.b64decode(stored.summary["estimator"]))
    blob[len(blob) // 2] ^= 0xFF
    forged = stored.summary | {"estimator": base64.b64encode(bytes(blob)).decode()}
    graph = load_registry_graph(engine)
    with pytest.raises(rp.StoredModelError, match="digest"):
        rp.predictor_from_json(forged, graph, seed=0, inner_rounds=3)
    with session_scope(engine) as session:  # the row itself altered (not an audited write: same data version)
        session.get(AnalysisRun, stored.id).summary = forged
    rp._PREDICTORS.clear()
    again = recommend_partners("Tehran", top=3, engine=engine)
    assert again["model"]["reused"] is False and "digest" in again["model"]["refused"]
    assert again["model"]["run"] != stored.id


def test_the_partner_model_job_stores_a_run_and_reuses_it(partner_registry: str) -> None:
    from citydiplomacy.core.errors import BadInput
    from citydiplomacy.jobs import run_job, submit
    from citydiplomacy.strategy import recommend_partners as rp

    engine = get_engine(partner_registry)
    with pytest.raises(BadInput, match="inner_rounds"):
        submit(engine, "partner_model", {"inner_rounds": 0}, actor="tester")
    done = run_job(engine, submit(engine, "partner_model", {}, actor="tester")["id"])
    assert done["state"] == "done", done
    assert done["result"]["reused"] is False and done["result"]["method"] == "model"
    (stored,) = _partner_runs(engine)
    assert done["result"]["runs"] == {"partner_model": stored.id}
    again = run_job(engine, submit(engine, "partner_model", {}, actor="tester")["id"])
    assert again["result"]["reused"] is True and again["result"]["runs"] == {"partner_model": stored.id}
    rp._PREDICTORS.clear()
    rec = json.loads(CliRunner().invoke(app, ["recommend", "partners", "Tehran", "--top", "3", "--json"]).stdout)
    assert rec["model"]["reused"] is True and rec["model"]["run"] == stored.id
