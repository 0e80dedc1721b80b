"""office record: activities serve an agreement or a membership, with cost; dues, outcomes, follow-up actions

* ``activity``: ``relation_id`` / ``membership_id`` (the agreement or membership it serves), ``cost_amount``,
  ``cost_currency`` (ISO 4217), ``funding_source``; existing activities keep every field (the new ones empty);
* ``membership_due``: a membership's dues in one year (amount, currency);
* ``outcome``: a result of an agreement or an activity (a code of ``model/data/outcomes.yaml``, quantity, unit,
  evidence);
* ``follow_up_action``: what is due next, its owner, due date and state (open, done, cancelled).

Revision ID: 0008
Revises: 0006 (re-chained onto 0007 at merge)
Create Date: 2026-12-03 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _provenance() -> list[sa.Column]:
    return [
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("membership_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cost_amount", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("cost_currency", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("funding_source", sa.String(length=300), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_activity_relation_id_relation"), "relation", ["relation_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_activity_membership_id_membership"),
            "membership",
            ["membership_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_activity_relation_id"), ["relation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_membership_id"), ["membership_id"], unique=False)

    op.create_table(
        "membership_due",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        *_provenance(),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_membership_due_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name=op.f("fk_membership_due_membership_id_membership"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_membership_due_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_due")),
        sa.UniqueConstraint("membership_id", "year", name="membership_due_year"),
    )
    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=60), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("happened_on", sa.Date(), nullable=True),
        *_provenance(),
        sa.CheckConstraint("relation_id IS NOT NULL OR activity_id IS NOT NULL", name=op.f("ck_outcome_of_what")),
        sa.ForeignKeyConstraint(
            ["relation_id"], ["relation.id"], name=op.f("fk_outcome_relation_id_relation"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"], name=op.f("fk_outcome_activity_id_activity"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_outcome_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome")),
    )
    op.create_table(
        "follow_up_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        *_provenance(),
        sa.CheckConstraint(
            "relation_id IS NOT NULL OR activity_id IS NOT NULL", name=op.f("ck_follow_up_action_of_what")
        ),
        sa.CheckConstraint("state IN ('open', 'done', 'cancelled')", name=op.f("ck_follow_up_action_state")),
        sa.ForeignKeyConstraint(
            ["relation_id"],
            ["relation.id"],
            name=op.f("fk_follow_up_action_relation_id_relation"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_follow_up_action_activity_id_activity"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_follow_up_action_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_action")),
    )
    for table, columns in (
        ("membership_due", ["membership_id", "source_id"]),
        ("outcome", ["relation_id", "activity_id", "source_id"]),
        ("follow_up_action", ["relation_id", "activity_id", "due_on", "source_id"]),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("follow_up_action")
    op.drop_table("outcome")
    op.drop_table("membership_due")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_membership_id"))
        batch_op.drop_index(batch_op.f("ix_activity_relation_id"))
        batch_op.drop_constraint(batch_op.f("fk_activity_membership_id_membership"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_activity_relation_id_relation"), type_="foreignkey")
        for column in ("funding_source", "cost_currency", "cost_amount", "membership_id", "relation_id"):
            batch_op.drop_column(column)
