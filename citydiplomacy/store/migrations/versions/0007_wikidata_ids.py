"""wikidata ids and relation evidence: one fact, several sources

* ``place.wikidata_id`` (nullable, indexed): the place's Wikidata item, so that sources carrying ids join
  without matching names;
* ``relation_evidence``: one row per source that gives a relation (source, locator, retrieval time, the
  values it gave as JSON).  Each existing relation gets one row, its own provenance (its source, locator,
  retrieval time and signing year), so that no relation is without evidence.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Relations copied into evidence per round trip (the backfill reads and writes in chunks).
_CHUNK = 5000


def upgrade() -> None:
    # Plain ALTERs, not a batch: recreating ``place`` on SQLite would trip the foreign keys that point at it.
    op.add_column("place", sa.Column("wikidata_id", sa.String(length=20), nullable=True))
    op.create_index(op.f("ix_place_wikidata_id"), "place", ["wikidata_id"], unique=False)

    evidence = op.create_table(
        "relation_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["relation_id"],
            ["relation.id"],
            name=op.f("fk_relation_evidence_relation_id_relation"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_relation_evidence_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relation_evidence")),
        sa.UniqueConstraint("relation_id", "source_id", "source_locator", name="relation_evidence_key"),
    )
    with op.batch_alter_table("relation_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relation_evidence_relation_id"), ["relation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relation_evidence_source_id"), ["source_id"], unique=False)

    # Each relation's own provenance becomes its first piece of evidence (the year it gave, as its values).
    relation = sa.table(
        "relation", sa.column("id", sa.Integer()), sa.column("source_id", sa.Integer()),
        sa.column("source_locator", sa.String()), sa.column("retrieved_at", sa.DateTime(timezone=True)),
        sa.column("signed_year", sa.Integer()), sa.column("ended_year", sa.Integer()),
    )  # fmt: skip
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(relation).where(relation.c.id > last).order_by(relation.c.id).limit(_CHUNK)).all()
        if not rows:
            break
        last = rows[-1].id
        bind.execute(
            evidence.insert(),
            [
                {
                    "relation_id": r.id,
                    "source_id": r.source_id,
                    "source_locator": r.source_locator,
                    "retrieved_at": r.retrieved_at,
                    "values": {
                        k: v for k, v in (("signed_year", r.signed_year), ("ended_year", r.ended_year)) if v is not None
                    },
                }  # fmt: skip
                for r in rows
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("relation_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relation_evidence_source_id"))
        batch_op.drop_index(batch_op.f("ix_relation_evidence_relation_id"))
    op.drop_table("relation_evidence")
    op.drop_index(op.f("ix_place_wikidata_id"), table_name="place")
    op.drop_column("place", "wikidata_id")  # SQLite 3.35+ drops a column in place
