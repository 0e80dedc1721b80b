"""people, delegations and documents: who signed and who travelled, and the files of the record

* ``person``: officials and staff (names and titles in English and Persian, unit, the place or organisation they
  belong to, contact);
* ``agreement_signatory``: the people who signed an agreement, each in a role;
* ``activity``: ``direction`` (incoming | outgoing), ``purpose`` and ``ends_on`` of a delegation or a visit
  (``happened_on`` is its first day); existing activities keep every field (the new ones empty);
* ``activity_person``: the people taking part in an activity;
* ``document``: a file attached to an agreement or an activity, stored in the database (``content``) with its
  SHA-256, recognised media type, size and safe original name; a file is attached to a record once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _provenance(table: str) -> list[sa.Column | sa.ForeignKeyConstraint]:
    return [
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f(f"fk_{table}_source_id_source")),
    ]


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _indexes(table: str, columns: list[str]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_fa", sa.String(length=300), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("title_fa", sa.String(length=300), nullable=True),
        sa.Column("unit", sa.String(length=300), nullable=True),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        *_provenance("person"),
        _fk("person", "place_id", "place"),
        _fk("person", "organisation_id", "organisation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    _indexes("person", ["name", "place_id", "organisation_id", "source_id"])

    op.create_table(
        "agreement_signatory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=120), nullable=False),
        *_provenance("agreement_signatory"),
        _fk("agreement_signatory", "relation_id", "relation", "CASCADE"),
        _fk("agreement_signatory", "person_id", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_signatory")),
        sa.UniqueConstraint("relation_id", "person_id", "role", name="agreement_signatory_key"),
    )
    _indexes("agreement_signatory", ["person_id", "source_id"])

    op.create_table(
        "activity_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=120), nullable=True),
        _fk("activity_person", "activity_id", "activity", "CASCADE"),
        _fk("activity_person", "person_id", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_person")),
        sa.UniqueConstraint("activity_id", "person_id", name="activity_person_key"),
    )
    _indexes("activity_person", ["person_id"])

    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("direction", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("purpose", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_activity_direction"), "direction IS NULL OR direction IN ('incoming', 'outgoing')"
        )
        batch_op.create_check_constraint(
            op.f("ck_activity_dates"), "ends_on IS NULL OR happened_on IS NULL OR ends_on >= happened_on"
        )

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        *_provenance("document"),
        # Last: SQLite reads a row's columns in order, through the overflow pages of a large value before them.
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "(relation_id IS NOT NULL AND activity_id IS NULL) OR (relation_id IS NULL AND activity_id IS NOT NULL)",
            name=op.f("ck_document_of_what"),
        ),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_document_size")),
        _fk("document", "relation_id", "relation", "CASCADE"),
        _fk("document", "activity_id", "activity", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("relation_id", "sha256", name="document_relation_sha256"),
        sa.UniqueConstraint("activity_id", "sha256", name="document_activity_sha256"),
    )
    _indexes("document", ["sha256", "source_id"])


def downgrade() -> None:
    op.drop_table("document")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_activity_dates"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_activity_direction"), type_="check")
        for column in ("ends_on", "purpose", "direction"):
            batch_op.drop_column(column)
    op.drop_table("activity_person")
    op.drop_table("agreement_signatory")
    op.drop_table("person")
