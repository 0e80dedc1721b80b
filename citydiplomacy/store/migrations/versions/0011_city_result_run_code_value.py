"""city results: an index on (run_id, code, value) for the rankings and the network table

A ranking reads one code of one run ordered by value; counting or ranking one code of a run on the full real
registry read every result of the run (154 ms for a count on SQLite, 1.1 ms with this index; the network table
558 -> 202 ms), measured by the performance work of issues 13 and 14.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 15:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_city_result_run_code_value", "city_result", ["run_id", "code", "value"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_city_result_run_code_value", table_name="city_result")
