"""Two-mode membership metrics (citydiplomacy.network.twomode): by hand, against igraph and the old
projection, their memory on a big organisation, the stored run, the CLI, and the real Covenant list."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import igraph as ig
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sqlalchemy import select
from typer.testing import CliRunner

from citydiplomacy import settings
from citydiplomacy.cli import app
from citydiplomacy.network.analysis import analyse
from citydiplomacy.network.graphs import PROJECTION_MAX_MEMBERS, membership_projection
from citydiplomacy.network.metrics import geographic_metrics
from citydiplomacy.network.twomode import (
    TWOMODE_COLUMNS,
    co_member_counts,
    newman_org_weights,
    newman_projection,
    projection_pairs,
    twomode,
    twomode_metrics,
)
from citydiplomacy.present import metrics
from citydiplomacy.store import db
from citydiplomacy.store.schema import CityResult, Membership, Organisation, Place

# a, b, c in A (3 members); a, b in B (2 members); d alone in C.
HAND = [("a", "A"), ("b", "A"), ("c", "A"), ("a", "B"), ("b", "B"), ("d", "C")]
COUNTRY = {"a": "IR", "b": "FR", "c": "IR", "d": "JP"}


def frames(pairs, countries=None):  # type: ignore[no-untyped-def]
    places = sorted({p for p, _ in pairs})
    orgs = sorted({o for _, o in pairs})
    place_at, org_at = {p: i for i, p in enumerate(places)}, {o: j for j, o in enumerate(orgs)}
    countries = countries or {}
    nodes = pd.DataFrame(
        {"place_id": range(len(places)), "name": places, "country_code": [countries.get(p) for p in places]}
    )
    organisations = pd.DataFrame({"organisation_id": range(len(orgs)), "name": orgs})
    members = pd.DataFrame(
        {
            "place_id": [place_at[p] for p, _ in pairs],
            "organisation_id": [org_at[o] for _, o in pairs],
            "role": "active",
        }
    )
    return nodes, organisations, members


def test_newman_weights_and_bipartite_metrics_by_hand():
    nodes, orgs, members = frames(HAND, COUNTRY)
    two = twomode(nodes, orgs, members)
    assert newman_org_weights(two.sizes).tolist() == [0.5, 1.0, 0.0]  # 1/(3-1), 1/(2-1), one member: none
    w = newman_projection(two.incidence).toarray()
    # a–b share A (1/2) and B (1): 1.5; a–c and b–c share only A: 0.5; d has no tie.
    assert w[0, 1] == 1.5 and w[0, 2] == 0.5 and w[1, 2] == 0.5 and not w[:, 3].any() and not np.tril(w).any()
    m = twomode_metrics(nodes, orgs, members).set_index("name")
    assert m["organisations"].to_dict() == {"a": 2, "b": 2, "c": 1, "d": 1}  # bipartite degree
    assert m.loc["a", "org_size_mean"] == 2.5 and m.loc["a", "org_size_min"] == 2 and m.loc["d", "org_size_min"] == 1
    assert m["degree"].to_dict() == {"a": 2, "b": 2, "c": 2, "d": 0}  # distinct co-members
    # Newman strength: 1.5 + 0.5 = 2 for a; each member spends one unit per shared organisation.
    assert m["newman_strength"].to_dict() == {"a": 2.0, "b": 2.0, "c": 1.0, "d": 0.0}
    # On the bipartite graph a lies on one of the two shortest paths A–B and c–B: 1/2 + 1/2.
    assert m["betweenness_2mode"].to_dict() == {"a": 1.0, "b": 1.0, "c": 0.0, "d": 0.0}
    # c reaches A at 1, a and b at 2, B at 3: 1 + 1/2 + 1/2 + 1/3.
    assert m.loc["c", "harmonic_2mode"] == pytest.approx(1 + 0.5 + 0.5 + 1 / 3)
    assert m.loc["a", "newman_eigenvector"] == 1.0 and m.loc["d", "newman_eigenvector"] == 0.0
    assert m.loc["c", "newman_eigenvector"] < 1.0
    assert m["newman_pagerank"].sum() == pytest.approx(1.0)
    assert m["countries_reached"].to_dict() == {"a": 1, "b": 1, "c": 1, "d": 0}  # a: FR (IR is its own)
    assert set(TWOMODE_COLUMNS) <= set(m.columns)


def random_frames(seed: int, places: int = 160, orgs: int = 12):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    p = np.r_[0.4, np.full(orgs - 1, 0.6 / (orgs - 1))]
    pairs = []
    for i in range(places):
        for j in rng.choice(orgs, size=min(rng.poisson(1.4) + 1, orgs), replace=False, p=p):
            pairs.append((f"p{i:03d}", f"o{j:02d}"))
    codes = ["IR", "FR", "JP", "US", "BR", "EG", None]
    return frames(pairs, {f"p{i:03d}": codes[rng.integers(len(codes))] for i in range(places)})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_twomode_metrics_equal_igraph_and_the_projection(seed):
    nodes, orgs, members = random_frames(seed)
    out = twomode_metrics(nodes, orgs, members)
    b = twomode(nodes, orgs, members).incidence
    n, m = b.shape
    rows, cols = b.nonzero()
    bip = ig.Graph(n=n + m, edges=list(zip(rows.tolist(), (cols + n).tolist(), strict=True)))
    assert np.allclose(out["betweenness_2mode"], np.asarray(bip.betweenness(directed=False))[:n], atol=1e-9)
    assert np.allclose(out["harmonic_2mode"], np.asarray(bip.harmonic_centrality(normalized=False))[:n], atol=1e-9)
    w = newman_projection(b)
    proj = ig.Graph(n=n, edges=list(zip(w.row.tolist(), w.col.tolist(), strict=True)))
    proj.es["weight"] = w.data.tolist()
    assert np.allclose(out["newman_strength"], proj.strength(weights="weight"), atol=1e-9)
    assert np.allclose(out["newman_pagerank"], proj.pagerank(weights="weight", damping=0.85), atol=1e-9)
    ev = np.asarray(proj.eigenvector_centrality(weights="weight"))
    assert np.allclose(out["newman_eigenvector"], ev, atol=1e-7)
    old = membership_projection(nodes, orgs, members)  # the one-mode projection the metrics replace
    assert (out["degree"].to_numpy() == np.asarray(old.degree())).all()
    geo = geographic_metrics(old)
    for col in ("countries_reached", "continents_reached", "subregions_reached"):
        assert (out[col].to_numpy() == geo[col].to_numpy()).all(), col


def test_a_big_organisation_forms_no_pairs():
    """3,000 members: the projection would hold 4.5M pairs (~100 MB); the metrics stay in a few MB."""
    pairs = [(f"p{i:04d}", "big") for i in range(3000)] + [(f"p{i:04d}", f"small{i % 7}") for i in range(0, 3000, 50)]
    nodes, orgs, members = frames(pairs)
    two = twomode(nodes, orgs, members)
    assert projection_pairs(two.sizes) > 4_400_000
    tracemalloc.start()
    out = twomode_metrics(nodes, orgs, members)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert peak_mb < 25, peak_mb
    assert (out["degree"] == 2999).all() and len(out) == 3000
    assert (co_member_counts(two.incidence) == 2999).all()
    # The place-place projection used by the views leaves the big organisation out, and says so.
    capped = membership_projection(nodes, orgs, members, max_members=PROJECTION_MAX_MEMBERS)
    assert capped.ecount() == sum(k * (k - 1) // 2 for k in np.bincount(np.arange(0, 3000, 50) // 50 % 7))
    assert any("big (3,000)" in m for m in capped["notes"].messages)


@pytest.fixture
def hand_registry(db_url: str) -> dict[str, int]:
    with db.session_scope(db.get_engine(db_url)) as session:
        places = {
            name: Place(gazetteer="source", gazetteer_id=f"t-{name}", name=f"City {name}", country_code=COUNTRY[name])
            for name in "abcd"
        }
        orgs = {name: Organisation(name=f"Network {name}", kind="global_network") for name in "ABC"}
        session.add_all([*places.values(), *orgs.values()])
        session.flush()
        session.add_all([Membership(place_id=places[p].id, organisation_id=orgs[o].id, role="active") for p, o in HAND])
        session.flush()
        return {name: p.id for name, p in places.items()}


def test_membership_run_stores_two_mode_codes(hand_registry, db_url):
    with db.session_scope(db.get_engine(db_url)) as session:
        result = analyse(session, "membership")
        run_id = result.run_id
    assert result.parameters["graph"] == "membership" and "Newman" in result.parameters["method"]
    assert result.summary["cities"] == 4 and result.summary["ties"] == len(HAND)
    with db.session_scope(db.get_engine(db_url)) as session:
        stored = dict(
            session.execute(
                select(CityResult.code, CityResult.value).where(
                    CityResult.run_id == run_id, CityResult.place_id == hand_registry["a"]
                )
            ).all()
        )
    assert stored["newman_strength"] == 2.0 and stored["betweenness_2mode"] == 1.0 and stored["degree"] == 2
    assert stored["connectivity"] == 2 * (2 + 2) + 2 * 2  # Taylor: A (b, c) and B (b), full members worth 2
    assert {"community", "organisations", "org_size_mean", "newman_pagerank"} <= set(stored)
    # every code has words in both languages in the one metric catalogue the pages read
    known = metrics.catalogue()
    for code in TWOMODE_COLUMNS:
        assert code in known, code


def test_cli_membership_metrics_and_views(hand_registry, db_url, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "m.csv"
    res = runner.invoke(app, ["network", "metrics", "--graph", "membership", "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "4 cities, 6 ties" in res.output and "stored as analysis run" in res.output
    table = pd.read_csv(out).set_index("name")
    assert table.loc["City a", "betweenness_2mode"] == 1.0 and table.loc["City d", "degree"] == 0
    res = runner.invoke(app, ["network", "communities", "--graph", "membership"])
    assert res.exit_code == 0, res.output


@pytest.mark.realdata
def test_covenant_signatories_at_real_scale():
    """The real Covenant list (11,973 signatories, one network, backers as further organisations) in seconds."""
    path = settings.shared_data_path("gcom_signatories_2024.xlsx")
    if not path.exists():
        pytest.skip(f"real data set absent: {path}")
    columns = ["organisation_id", "country_code", "supporter_name", "coordinator_name"]
    sheet = pd.read_excel(path, sheet_name="1", usecols=columns, dtype={"organisation_id": str})
    sheet = sheet.drop_duplicates("organisation_id")
    # Supporters and coordinators as further organisations ("-": none): a real two-mode structure.
    backers = sheet.melt("organisation_id", ["supporter_name", "coordinator_name"], value_name="org")
    backers = backers.loc[backers["org"].notna() & (backers["org"].astype(str).str.strip() != "-")]
    pairs = pd.concat(
        [
            pd.DataFrame({"place": sheet["organisation_id"], "org": "GCoM"}),
            pd.DataFrame({"place": backers["organisation_id"], "org": backers["org"].astype(str)}),
        ]
    )
    countries = dict(zip(sheet["organisation_id"], sheet["country_code"].astype(str).str[:2], strict=True))
    nodes, orgs, members = frames(list(zip(pairs["place"], pairs["org"], strict=True)), countries)
    two = twomode(nodes, orgs, members)
    assert projection_pairs(two.sizes) > 60_000_000  # what the old projection would have formed
    tracemalloc.start()
    started = time.perf_counter()
    out = twomode_metrics(nodes, orgs, members, workers=1)
    seconds = time.perf_counter() - started
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert seconds < 30 and peak_mb < 500, (seconds, peak_mb)
    assert (out["degree"] == len(sheet) - 1).all()  # everyone shares the Covenant with everyone
    backed = out["organisations"] > 1
    assert backed.any() and (out.loc[backed, "betweenness_2mode"] >= 0).all()
    assert out.loc[~backed, "betweenness_2mode"].eq(0).all()  # a place in one organisation brokers nothing
    assert out["countries_reached"].min() > 50
    assert sparse.issparse(two.incidence) and two.incidence.nnz == len(members.drop_duplicates())
