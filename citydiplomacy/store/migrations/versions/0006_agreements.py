"""agreements: a relation is an agreement with its parties, titles, dates, themes and a status history

* ``relation`` may join a place and an organisation (``organisation_id``, ``place_b_id`` empty): the check
  ``ordered_pair`` becomes ``parties``;
* several agreements between the same parties are allowed: the unique (pair, kind) constraint becomes a plain
  index (the importers still ask "already present?" with it);
* new columns: ``title_fa``, ``valid_until``, ``responsible_unit``, ``functions``;
* ``relation_status``: every status an agreement took, who recorded it, when, why.  Each existing relation gets
  one row, its current status as first recorded (by ``entered_by`` at ``entered_at``, with its source), so no
  relation is without a history.

Nothing is lost: every relation keeps its id, fields, version and provenance.  A downgrade refuses while there
are agreements the old schema cannot hold (with an organisation, or a second one of a kind between two places).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PARTIES = (
    "(place_b_id IS NOT NULL AND organisation_id IS NULL AND place_a_id < place_b_id)"
    " OR (place_b_id IS NULL AND organisation_id IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("relation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("title_fa", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("responsible_unit", sa.String(length=300), nullable=True))
        # Existing relations have no functions yet: an empty list, as the model writes it.
        batch_op.add_column(sa.Column("functions", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.alter_column("place_b_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint("relation_pair_kind", type_="unique")
        batch_op.drop_constraint(batch_op.f("ck_relation_ordered_pair"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_relation_parties"), PARTIES)
        batch_op.create_foreign_key(
            batch_op.f("fk_relation_organisation_id_organisation"), "organisation", ["organisation_id"], ["id"]
        )
        batch_op.create_index("ix_relation_pair_kind", ["place_a_id", "place_b_id", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_relation_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "relation_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("previous_status", sa.String(length=30), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["relation_id"], ["relation.id"], name=op.f("fk_relation_status_relation_id_relation"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_relation_status_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relation_status")),
    )
    with op.batch_alter_table("relation_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relation_status_relation_id"), ["relation_id"], unique=False)

    # Every relation's current status, as first recorded: one INSERT ... SELECT, whatever the registry's size.
    op.execute(
        "INSERT INTO relation_status (relation_id, status, previous_status, effective_on, changed_at, changed_by,"
        " reason, source_id, source_locator)"
        " SELECT id, status, NULL, NULL, entered_at, entered_by, NULL, source_id, source_locator FROM relation"
    )


def downgrade() -> None:
    conn = op.get_bind()
    orphans = conn.execute(sa.text("SELECT count(*) FROM relation WHERE place_b_id IS NULL")).scalar_one()
    repeats = conn.execute(
        sa.text(
            "SELECT count(*) FROM relation r WHERE place_b_id IS NOT NULL AND EXISTS (SELECT 1 FROM relation o"
            " WHERE o.place_a_id = r.place_a_id AND o.place_b_id = r.place_b_id AND o.kind = r.kind AND o.id < r.id)"
        )
    ).scalar_one()
    if orphans or repeats:
        raise RuntimeError(
            f"cannot downgrade below 0006: {orphans} agreement(s) with an organisation and {repeats} second "
            "agreement(s) of a kind between the same two places have no place in the old schema; export them "
            "(citydip export relations) and delete them first"
        )
    with op.batch_alter_table("relation_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relation_status_relation_id"))
    op.drop_table("relation_status")
    with op.batch_alter_table("relation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relation_organisation_id"))
        batch_op.drop_index("ix_relation_pair_kind")
        batch_op.drop_constraint(batch_op.f("fk_relation_organisation_id_organisation"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_relation_parties"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_relation_ordered_pair"), "place_a_id < place_b_id")
        batch_op.create_unique_constraint("relation_pair_kind", ["place_a_id", "place_b_id", "kind"])
        batch_op.alter_column("place_b_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("functions")
        batch_op.drop_column("responsible_unit")
        batch_op.drop_column("valid_until")
        batch_op.drop_column("title_fa")
        batch_op.drop_column("organisation_id")
