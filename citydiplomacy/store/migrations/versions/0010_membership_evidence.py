"""membership evidence: one membership, several sources

* ``membership_evidence``: one row per source that gives a membership (source, locator, retrieval time, the
  values it gave as JSON: ``since_year``, ``until_year``, ``status``), the counterpart of
  ``relation_evidence`` (0007).  Each existing membership gets one row, its own provenance, so that no
  membership is without evidence;
* the relations entered since 0007 through an ORM session (by hand, the case study), which got no evidence
  then, get their own provenance as evidence the same way (0007's backfill).  The downgrade leaves those rows
  (they are what 0007 would have written).

``relation_evidence`` is not reused: its ``relation_id`` is a required key into ``relation``; holding
memberships there would make it nullable, add a second key and a rule that exactly one is set, and every
reader of relation evidence would have to filter.  A table of the same shape keeps both simple.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: Memberships copied into evidence per round trip (the backfill reads and writes in chunks).
_CHUNK = 5000


def upgrade() -> None:
    evidence = op.create_table(
        "membership_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name=op.f("fk_membership_evidence_membership_id_membership"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_membership_evidence_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_evidence")),
        sa.UniqueConstraint("membership_id", "source_id", "source_locator", name="membership_evidence_key"),
    )
    with op.batch_alter_table("membership_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_evidence_membership_id"), ["membership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_evidence_source_id"), ["source_id"], unique=False)

    # Each membership's own provenance becomes its first piece of evidence (the years and status it gave).
    membership = sa.table(
        "membership", sa.column("id", sa.Integer()), sa.column("source_id", sa.Integer()),
        sa.column("source_locator", sa.String()), sa.column("retrieved_at", sa.DateTime(timezone=True)),
        sa.column("entered_at", sa.DateTime(timezone=True)), sa.column("since_year", sa.Integer()),
        sa.column("until_year", sa.Integer()), sa.column("status", sa.String()),
    )  # fmt: skip
    bind = op.get_bind()
    last = 0
    while True:
        q = sa.select(membership).where(membership.c.id > last).order_by(membership.c.id).limit(_CHUNK)
        rows = bind.execute(q).all()
        if not rows:
            break
        last = rows[-1].id
        bind.execute(
            evidence.insert(),
            [
                {
                    "membership_id": r.id,
                    "source_id": r.source_id,
                    "source_locator": r.source_locator,
                    "retrieved_at": r.retrieved_at or r.entered_at,
                    "values": {
                        k: v
                        for k, v in (("since_year", r.since_year), ("until_year", r.until_year), ("status", r.status))
                        if v is not None
                    },
                }
                for r in rows
            ],
        )

    relation = sa.table(
        "relation", sa.column("id", sa.Integer()), sa.column("source_id", sa.Integer()),
        sa.column("source_locator", sa.String()), sa.column("retrieved_at", sa.DateTime(timezone=True)),
        sa.column("entered_at", sa.DateTime(timezone=True)), sa.column("signed_year", sa.Integer()),
        sa.column("ended_year", sa.Integer()), sa.column("status", sa.String()),
    )  # fmt: skip
    rel_evidence = sa.table(
        "relation_evidence", sa.column("relation_id", sa.Integer()), sa.column("source_id", sa.Integer()),
        sa.column("source_locator", sa.String()), sa.column("retrieved_at", sa.DateTime(timezone=True)),
        sa.column("values", sa.JSON()),
    )  # fmt: skip
    without = ~sa.exists().where(rel_evidence.c.relation_id == relation.c.id)
    last = 0
    while True:
        q = sa.select(relation).where(relation.c.id > last, without).order_by(relation.c.id).limit(_CHUNK)
        rows = bind.execute(q).all()
        if not rows:
            break
        last = rows[-1].id
        bind.execute(
            rel_evidence.insert(),
            [
                {
                    "relation_id": r.id,
                    "source_id": r.source_id,
                    "source_locator": r.source_locator,
                    "retrieved_at": r.retrieved_at or r.entered_at,
                    "values": {
                        k: v
                        for k, v in (("signed_year", r.signed_year), ("ended_year", r.ended_year), ("status", r.status))
                        if v is not None
                    },
                }
                for r in rows
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("membership_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_evidence_source_id"))
        batch_op.drop_index(batch_op.f("ix_membership_evidence_membership_id"))
    op.drop_table("membership_evidence")
