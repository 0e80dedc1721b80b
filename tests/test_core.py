"""The domain core: one tie rule everywhere, one run lookup, runs that know their data, jobs one at a time."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from registry_helpers import dump_db
from sqlalchemy import func, select
from typer.testing import CliRunner

from citydiplomacy.assess.indicators import compute_indicators
from citydiplomacy.cli import app
from citydiplomacy.core.errors import BadInput, RunNotFound
from citydiplomacy.ingest.casestudy import load_case_study
from citydiplomacy.jobs import run_job, submit
from citydiplomacy.network.analysis import analyse
from citydiplomacy.network.graphs import NetworkFilter, load_graph
from citydiplomacy.store import db, runs
from citydiplomacy.store import jobs as queue
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.schema import AnalysisRun, Job, Relation
from citydiplomacy.store.ties import TieRule, load_ties
from citydiplomacy.strategy.data import load_registry_graph

runner = CliRunner()


def _tie_partners(session) -> dict[int, set[int]]:  # type: ignore[no-untyped-def]
    partners: dict[int, set[int]] = {}
    for a, b in load_ties(session)[["place_a_id", "place_b_id"]].itertuples(index=False):
        partners.setdefault(int(a), set()).add(int(b))
        partners.setdefault(int(b), set()).add(int(a))
    return partners


def check_one_tie_rule(url: str) -> int:
    """Degree in the network, the sister-city and cooperation indicators and the recommender's graph all agree
    with the tie rule, city by city; returns the number of cities checked."""
    engine = db.get_engine(url)
    with db.session_scope(engine) as session:
        ties = load_ties(session)
        partners = _tie_partners(session)
        g = load_graph(session, "bilateral", NetworkFilter())
        degree = dict(zip(g.vs["place_id"], g.degree(), strict=True))
        table = compute_indicators(session)
    graph = load_registry_graph(engine)
    rec_degree: dict[int, int] = {}
    for i, j in graph.edges:
        for node in (i, j):
            pid = int(graph.place_ids[node])
            rec_degree[pid] = rec_degree.get(pid, 0) + 1
    sister = ties.loc[ties["kind"] == "sister_city"]
    sister_count = {**sister["place_a_id"].value_counts().to_dict()}
    for pid, n in sister["place_b_id"].value_counts().items():
        sister_count[pid] = sister_count.get(pid, 0) + n
    coop = ties.loc[ties["kind"].isin(["mou", "cooperation_memorandum"])]
    coop_count = {**coop["place_a_id"].value_counts().to_dict()}
    for pid, n in coop["place_b_id"].value_counts().items():
        coop_count[pid] = coop_count.get(pid, 0) + n
    for pid, mates in partners.items():
        assert degree[pid] == len(mates), pid
        assert rec_degree.get(pid, 0) == len(mates), pid
        assert table.values.at[pid, "CUL02"] == sister_count.get(pid, 0), pid  # sister-city agreements
        assert table.values.at[pid, "SEC01"] == coop_count.get(pid, 0), pid  # memoranda in force
    # A relation that is not a tie (Tehran's two twinnings in negotiation) is in none of them.
    assert set(degree) == set(partners)
    return len(partners)


def test_one_tie_rule_on_the_case_study(db_url: str) -> None:
    load_case_study()
    assert check_one_tie_rule(db_url) > 20
    with db.session_scope() as session:
        tehran = find_place(session, "Tehran", "IR")
        negotiating = session.scalars(
            select(Relation).where(
                Relation.status == "in_negotiation",
                (Relation.place_a_id == tehran.id) | (Relation.place_b_id == tehran.id),
            )
        ).all()
        assert negotiating, "the case study has twinnings in negotiation (paper 003)"
        partners = _tie_partners(session)[tehran.id]
        for rel in negotiating:
            assert {rel.place_a_id, rel.place_b_id} - {tehran.id} - partners, "a negotiation is not a tie"


@pytest.mark.realdata
def test_one_tie_rule_on_the_real_data_and_the_case_study(sqlite_url: str, twin_cities_csv: Path) -> None:
    from citydiplomacy.ingest.twinning import import_twinning

    import_twinning(twin_cities_csv, on_error="skip")
    load_case_study()
    assert check_one_tie_rule(sqlite_url) > 15_000


def test_every_run_stores_the_tie_rule_and_its_data_version(db_url: str) -> None:
    from citydiplomacy.assess.registry_index import assess

    load_case_study()
    with db.session_scope() as session:
        version = runs.data_version(session)
        assert version > 0
        net = analyse(session, "bilateral")
        result = assess(session, None)
    with db.session_scope() as session:
        for run_id in (net.run_id, result.run_id):
            run = session.get(AnalysisRun, run_id)
            assert run.parameters["tie_rule"] == TieRule().as_parameters()
            assert run.data_version == version
            assert runs.changes_since(session, run) == 0
        # The assessment read the network run it needs, and says so.
        assert session.get(AnalysisRun, result.run_id).parameters["network_run_id"] == net.run_id
        tehran = find_place(session, "Tehran", "IR")
        kabul = find_place(session, "Kabul")
        rel = session.scalars(
            select(Relation).where(
                Relation.place_a_id == min(tehran.id, kabul.id), Relation.place_b_id == max(tehran.id, kabul.id)
            )
        ).first()
        rel.notes = (rel.notes or "") + " (checked)"
    with db.session_scope() as session:
        run = session.get(AnalysisRun, net.run_id)
        assert runs.changes_since(session, run) == 1
        assert runs.freshness(session, run)["changes_since"] == 1


def test_run_lookup_matches_parameters_or_says_what_to_run(db_url: str) -> None:
    load_case_study()
    with db.session_scope() as session:
        with pytest.raises(RunNotFound, match="citydip network metrics"):
            runs.require_run(session, "network", runs.network_run_for(None))
        regional = analyse(session, "bilateral", NetworkFilter(regions=("AS",)))
        # The latest network run is regional: the indicators must not read it.
        assert runs.latest_run(session, "network").id == regional.run_id
        assert runs.latest_run(session, "network", runs.network_run_for(None)) is None
        table = compute_indicators(session)
        assert table.notes["network_run_id"] is None and "network metrics" in table.notes["network_run_missing"]
        whole = analyse(session, "bilateral")
        analyse(session, "bilateral", NetworkFilter(year_from=2000, year_to=2000))
        assert runs.latest_run(session, "network", runs.network_run_for(None)).id == whole.run_id
        assert compute_indicators(session).notes["network_run_id"] == whole.run_id
        assert compute_indicators(session, year=2000).notes["network_run_id"] != whole.run_id


def test_jobs_run_one_at_a_time_and_a_failure_leaves_the_registry_as_it_was(db_url: str) -> None:
    engine = db.get_engine(db_url)
    load_case_study()
    job = submit(engine, "assessment", {"uncertainty_samples": "20"}, actor="tester")
    assert job["state"] == "queued" and job["parameters"] == {"uncertainty_samples": 20}
    done = run_job(engine, job["id"])
    assert done["state"] == "done" and done["progress"] == 1.0, done
    with db.session_scope(engine) as session:
        net = session.get(AnalysisRun, done["result"]["runs"]["network"])
        assessment = session.get(AnalysisRun, done["result"]["runs"]["assessment"])
        # The assessment job computed the network run it needed, from the same data.
        assert net.data_version == assessment.data_version == runs.data_version(session)
        assert assessment.parameters["network_run_id"] == net.id

    # Bad parameters are refused before anything is queued.
    with pytest.raises(BadInput, match="no parameter 'bogus'"):
        submit(engine, "assessment", {"bogus": 1}, actor="tester")
    with pytest.raises(BadInput, match="unknown job kind"):
        submit(engine, "telepathy", {}, actor="tester")

    # A job that fails half-way (the network run is computed and flushed, then the index engine refuses the
    # method): failed, with the reason in words, and not one row of it kept.
    with db.session_scope(engine) as session:
        rel = session.scalars(select(Relation).limit(1)).one()
        rel.notes = "a change, so that the network run is out of date"
    before = dump_db(engine)
    bad = submit(engine, "assessment", {"normalise": "telepathic"}, actor="tester")
    failed = run_job(engine, bad["id"])
    assert failed["state"] == "failed" and "telepathic" in failed["error"]
    after = dump_db(engine)
    assert {k: v for k, v in after.items() if k not in ("job", "job_lock")} == {
        k: v for k, v in before.items() if k not in ("job", "job_lock")
    }
    assert queue.running(engine) is None  # the lock was released


def test_two_workers_never_run_jobs_at_the_same_time(db_url: str) -> None:
    engine = db.get_engine(db_url)
    load_case_study()
    first = submit(engine, "network", {}, actor="a")
    second = queue.enqueue(engine, "network", {}, actor="b")  # queued behind the scenes, as a second host would
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def claim(job_id: int) -> None:
        barrier.wait()
        try:
            queue.claim(engine, job_id, worker=f"w{job_id}")
            outcomes.append("claimed")
        except queue.JobBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=claim, args=(j["id"],)) for j in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["busy", "claimed"]
    holder = queue.running(engine)
    assert holder is not None and holder["state"] == "running"
    with pytest.raises(queue.JobBusy, match="is running"):
        submit(engine, "assessment", {}, actor="c")
    # A holder that stopped reporting is taken over, and marked failed in words.
    with db.session_scope(engine) as session:
        stuck = session.get(Job, holder["id"])
        stuck.heartbeat_at = stuck.started_at = stuck.started_at.replace(year=2000)
    other = first if holder["id"] == second["id"] else second
    queue.claim(engine, other["id"], worker="w-new")
    assert queue.get_job(engine, holder["id"])["state"] == "failed"
    assert "stopped reporting" in queue.get_job(engine, holder["id"])["error"]
    with db.session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Job).where(Job.state == "running")) == 1


def test_cli_runs_and_lists_jobs(db_url: str) -> None:
    load_case_study()
    res = runner.invoke(app, ["jobs", "run", "network", "--json"])
    assert res.exit_code == 0, res.output
    listed = runner.invoke(app, ["jobs", "list", "--json"])
    assert listed.exit_code == 0 and '"state": "done"' in listed.stdout
    bad = runner.invoke(app, ["jobs", "run", "network", "--set", "graph=telepathic"])
    assert bad.exit_code != 0 and "graph must be" in bad.stderr


def test_jobs_and_freshness_through_the_api(db_url: str) -> None:
    import time

    from fastapi.testclient import TestClient

    from citydiplomacy.web.app import create_app
    from citydiplomacy.web.auth import create_user

    load_case_study()
    with db.session_scope() as session:
        create_user(session, "editor", "editor-password", "editor")
        create_user(session, "viewer", "viewer-password", "viewer")
        tehran_id = find_place(session, "Tehran", "IR").id
    with TestClient(create_app(db_url)) as client:
        token = client.post("/api/auth/login", json={"username": "viewer", "password": "viewer-password"}).json()
        refused = client.post("/api/jobs", json={"kind": "network"}, headers={"X-CSRF-Token": token["csrf_token"]})
        assert refused.status_code == 403  # viewers follow jobs, editors start them
        token = client.post("/api/auth/login", json={"username": "editor", "password": "editor-password"}).json()
        headers = {"X-CSRF-Token": token["csrf_token"]}
        bad = client.post("/api/jobs", json={"kind": "assessment", "parameters": {"bogus": 1}}, headers=headers)
        assert bad.status_code == 422 and "bogus" in bad.text
        started = client.post(
            "/api/jobs", json={"kind": "assessment", "parameters": {"uncertainty_samples": 20}}, headers=headers
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        for _ in range(240):
            job = client.get(f"/api/jobs/{job_id}").json()
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.25)
        assert job["state"] == "done", job
        assert client.get("/api/jobs").json()["items"][0]["id"] == job_id
        # Results say which run they come from, and that nothing changed since.
        ranking = client.get("/api/rankings").json()
        assert ranking["run"]["id"] == job["result"]["runs"]["assessment"] and ranking["run"]["changes_since"] == 0
        profile = client.get(f"/api/places/{tehran_id}").json()
        assert profile["results"]["assessment"]["changes_since"] == 0
        # An office adds a relation: every result now says the registry has changed since its run.
        other = client.get("/api/places", params={"q": "Kazan"}).json()["items"]
        partner = other[0]["id"] if other else client.get("/api/places", params={"q": "Minsk"}).json()["items"][0]["id"]
        body = {"place_a_id": tehran_id, "place_b_id": partner, "kind": "friendship", "status": "active"}
        assert client.post("/api/relations", json=body, headers=headers).status_code == 201
        assert client.get("/api/rankings").json()["run"]["changes_since"] >= 1
        assert client.get(f"/api/places/{tehran_id}").json()["results"]["network"]["changes_since"] >= 1
        page = client.get(f"/cities/{tehran_id}")
        assert page.status_code == 200 and "changes to the registry since this run" in page.text
        assert "تغییر در پایگاه از زمان این اجرا" in client.get(f"/cities/{tehran_id}?lang=fa").text
        assert "changes to the registry since this run" in client.get("/rankings?lang=en").text
        from citydiplomacy.report.city_report import city_report_html

        html, _ = city_report_html(None, "Tehran", "IR", "en")
        assert "changes to the registry since this run" in html
        jobs_page = client.get("/jobs")
        assert jobs_page.status_code == 200 and "job-done" in jobs_page.text
