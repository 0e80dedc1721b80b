"""place names: drop the two indexes no query uses (place_id alone, and name)

Every name written kept three indexes up to date, and an import of the real twinning list writes 230,000
names inside the transaction that holds the write lock.  The unique (place_id, name, lang) index leads with
place_id and serves every query by place; names are looked up case-folded (``lower(name) = ...``, ``LIKE``),
which the plain index on name never served.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 19:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("place_name") as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_name_place_id"))
        batch_op.drop_index(batch_op.f("ix_place_name_name"))


def downgrade() -> None:
    with op.batch_alter_table("place_name") as batch_op:
        batch_op.create_index(batch_op.f("ix_place_name_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_name_name"), ["name"], unique=False)
