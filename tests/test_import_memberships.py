"""Importing membership lists: role mapping, unknown roles kept verbatim, organisations by acronym, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_helpers import dump_db, write_csv
from sqlalchemy import select
from typer.testing import CliRunner

from citydiplomacy.cli import app
from citydiplomacy.ingest.common import ImportAborted
from citydiplomacy.ingest.memberships import import_memberships
from citydiplomacy.model.vocab import map_role
from citydiplomacy.store import db
from citydiplomacy.store.queries import stats
from citydiplomacy.store.schema import AuditEntry, Membership, Organisation, Place, Source

FIXTURES = Path(__file__).with_name("fixtures") / "ingest"
MEMBERS = FIXTURES / "memberships_small.csv"
HEADER = ["city", "country", "organization", "role", "since", "until"]

runner = CliRunner()


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / MEMBERS.name
    target.write_bytes(MEMBERS.read_bytes())
    return target


def _add_uclg(url: str) -> int:
    with db.session_scope(db.get_engine(url)) as session:
        org = Organisation(name="United Cities and Local Governments", acronym="UCLG", kind="global_network", themes=[])
        session.add(org)
        session.flush()
        return org.id


@pytest.mark.parametrize(
    ("label", "role"),
    [
        ("Founding member", "founding"),
        ("membre fondateur", "founding"),
        ("miembro fundador", "founding"),
        ("عضو مؤسس", "founding"),
        ("Vice-President", "board"),
        ("Executive Bureau", "board"),
        ("عضو هیئت رئیسه", "board"),
        ("Secretariat host", "secretariat_host"),
        ("دبیرخانه", "secretariat_host"),
        ("observer", "observer"),
        ("ناظر", "observer"),
        ("Associate member", "associate"),
        ("honorary member", "honorary"),
        ("former member", "former"),
        ("عضو سابق", "former"),
        ("Full member", "active"),
        ("miembro", "active"),
        ("membre", "active"),
        ("عضو", "active"),
        ("", "active"),
        ("secretariat_host", "secretariat_host"),
    ],
)
def test_role_labels_in_several_languages_map_to_model_roles(label: str, role: str) -> None:
    assert map_role(label) == (role, True)


def test_unknown_role_label_is_other_and_unrecognised() -> None:
    assert map_role("Patron of the arts") == ("other", False)


def test_import_maps_roles_matches_acronym_and_creates_missing_organisation(db_url: str, tmp_path: Path) -> None:
    uclg_id = _add_uclg(db_url)
    report = import_memberships(_copy(tmp_path), actor="tester")

    assert report.committed and report.rows_read == 8 and report.rows_rejected == 0
    assert report.records_created["organisation"] == 1  # Asian Mayors Forum; UCLG matched by its acronym
    assert report.records_created["membership"] == 8
    assert report.unknown_labels == {"Patron of the arts": 1}
    assert any("Patron of the arts" in w for w in report.warnings)
    with db.session_scope() as session:
        orgs = {o.name: o for o in session.scalars(select(Organisation))}
        assert set(orgs) == {"United Cities and Local Governments", "Asian Mayors Forum"}
        assert orgs["United Cities and Local Governments"].id == uclg_id
        rows = session.execute(
            select(Place.name, Organisation.name, Membership.role, Membership.role_verbatim, Membership.since_year,
                   Membership.until_year, Membership.source_locator)
            .join(Place, Membership.place_id == Place.id)
            .join(Organisation, Membership.organisation_id == Organisation.id)
        ).all()  # fmt: skip
        got = {(r[0], r[1], r[2]): r[3:] for r in rows}
        uclg, amf = "United Cities and Local Governments", "Asian Mayors Forum"
        assert got[("Tehran", uclg, "founding")] == ("Founding member", 2004, None, "row 2")
        # "IR" and "Iran" are one country: both rows land on the same Tehran.
        assert got[("Tehran", uclg, "board")][0] == "Vice-President"
        assert got[("Istanbul", uclg, "secretariat_host")][:2] == ("Secretariat host", 2004)
        assert got[("Bishkek", amf, "founding")][0] == "membre fondateur"
        assert got[("Havana", amf, "observer")][0] == "ناظر"
        assert got[("Cardiff", amf, "active")][0] == "miembro"
        assert got[("Nantes", amf, "former")][1:3] == (1990, 2001)
        assert got[("Tehran", amf, "other")][0] == "Patron of the arts"
        tehrans = session.scalars(select(Place).where(Place.name == "Tehran")).all()
        assert len(tehrans) == 1 and tehrans[0].country_code == "IR"

        # provenance and audit trail of every created record
        source = session.scalars(select(Source)).one()
        for m in session.scalars(select(Membership)):
            assert (m.source_id, m.entered_by) == (source.id, "tester")
            assert m.source_locator.startswith("row ") and m.retrieved_at is not None
        membership_ids = set(session.scalars(select(Membership.id)))
        audited = set(session.scalars(select(AuditEntry.entity_id).where(AuditEntry.entity == "membership")))
        assert audited == membership_ids
        amf_audit = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "organisation", AuditEntry.entity_id == orgs[amf].id)
        ).all()
        assert [a.action for a in amf_audit] == ["insert"]


def test_membership_reimport_changes_nothing(db_url: str, tmp_path: Path) -> None:
    path = _copy(tmp_path)
    import_memberships(path)
    before, before_stats = dump_db(db_url), stats()

    again = import_memberships(path)

    assert again.records_created["membership"] == 0
    assert again.records_created["organisation"] == 0
    assert again.already_present["membership"] == 8
    assert stats() == before_stats
    assert dump_db(db_url) == before


def test_organisation_name_matching_ignores_case_and_accents(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", HEADER, [
        ["Tehran", "IR", "Cités Unies", "", "", ""],
        ["Istanbul", "TR", "CITES UNIES", "", "", ""],
    ])  # fmt: skip
    report = import_memberships(path)
    assert report.records_created["organisation"] == 1
    assert stats()["organisations"] == 1


BAD_MEMBERSHIP_ROWS = [
    (["Tehran", "Narnia", "UCLG", "", "", ""], "country", "unknown country"),
    (["Tehran", "IR", "", "", "", ""], "organization", "empty organization"),
    (["Tehran", "IR", "UCLG", "", "sometime", ""], "since", "not a year"),
    (["Tehran", "IR", "UCLG", "", "2010", "2001"], "until", "before since"),
    (["Tehran", "IR", "UCLG", "", "", "", "95", "51"], "lat", "outside"),
]


def test_bad_membership_rows_abort_with_location(db_url: str, tmp_path: Path) -> None:
    import_memberships(write_csv(tmp_path / "seed.csv", HEADER, [["Havana", "CU", "UCLG", "observer", "", ""]]))
    before = dump_db(db_url)
    for i, (row, field, words) in enumerate(BAD_MEMBERSHIP_ROWS):
        header = HEADER + ["lat", "lng"] if len(row) > len(HEADER) else HEADER
        good = ["Tehran", "IR", "UCLG", "", "", ""] + [""] * (len(header) - len(HEADER))
        path = write_csv(tmp_path / f"bad{i}.csv", header, [good, row])
        with pytest.raises(ImportAborted) as caught:
            import_memberships(path)
        assert str(caught.value).startswith(f"{path}:3: {field}: ")
        assert words in str(caught.value)
        result = runner.invoke(app, ["import", "memberships", str(path)])
        assert result.exit_code == 3 and words in result.stderr
        assert dump_db(db_url) == before, field


def test_cli_import_memberships(db_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "memberships", str(_copy(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert data["records_created"]["membership"] == 8
    assert data["unknown_labels"] == {"Patron of the arts": 1}
    assert stats()["memberships_by_role"]["other"] == 1
