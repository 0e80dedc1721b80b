"""outcome version: optimistic locking of outcome edits

An outcome's form was the one record form where the last save won: two editors of one outcome lost the first
one's change without a word.  Outcomes get the ``version`` column every other edited record has (existing
outcomes start at 1), so that a stale edit is refused with the conflict page (issue 10).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 00:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outcome") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("outcome") as batch:
        batch.drop_column("version")
