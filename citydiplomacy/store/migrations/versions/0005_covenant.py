"""covenant of mayors: membership status and day of joining, backers of a membership, facts about places

The Global Covenant of Mayors list gives, for each signatory, a status (published / on hold) and a date of
adhesion; the organisations that back a signatory (a Covenant Supporter such as Climate Alliance, a
Covenant Coordinator such as a region), which are neither members nor networks the signatory belongs to;
and commitment flags (2020, 2030, 2050, adaptation) that indicators read.  Hence two nullable columns of
``membership``, a ``membership_backer`` table and a ``place_fact`` table (one value per place, code and
source).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _provenance(table: str) -> list:
    return [
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f(f"fk_{table}_source_id_source")),
    ]


def upgrade() -> None:
    with op.batch_alter_table("membership") as batch_op:
        batch_op.add_column(sa.Column("since_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=30), nullable=True))

    op.create_table(
        "membership_backer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        *_provenance("membership_backer"),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name=op.f("fk_membership_backer_membership_id_membership"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_membership_backer_organisation_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_backer")),
        sa.UniqueConstraint("membership_id", "organisation_id", "role", name="membership_backer_key"),
    )
    with op.batch_alter_table("membership_backer") as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_backer_membership_id"), ["membership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_backer_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_backer_source_id"), ["source_id"], unique=False)

    op.create_table(
        "place_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        *_provenance("place_fact"),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"], name=op.f("fk_place_fact_place_id_place")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_fact")),
        sa.UniqueConstraint("place_id", "code", "source_id", name="place_fact_key"),
    )
    with op.batch_alter_table("place_fact") as batch_op:
        batch_op.create_index(batch_op.f("ix_place_fact_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_fact_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_fact_source_id"), ["source_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("place_fact") as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_fact_source_id"))
        batch_op.drop_index(batch_op.f("ix_place_fact_code"))
        batch_op.drop_index(batch_op.f("ix_place_fact_place_id"))
    op.drop_table("place_fact")
    with op.batch_alter_table("membership_backer") as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_backer_source_id"))
        batch_op.drop_index(batch_op.f("ix_membership_backer_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_membership_backer_membership_id"))
    op.drop_table("membership_backer")
    with op.batch_alter_table("membership") as batch_op:
        batch_op.drop_column("status")
        batch_op.drop_column("since_date")
