"""initial registry schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:29:45.416302
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "analysis_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_run")),
    )
    with op.batch_alter_table("analysis_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analysis_run_kind"), ["kind"], unique=False)

    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("context", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_at"), ["at"], unique=False)

    op.create_table(
        "model_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checksum", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_release")),
        sa.UniqueConstraint("version", name=op.f("uq_model_release_version")),
    )
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("uri", sa.Text(), nullable=True),
        sa.Column("citation", sa.Text(), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("name", name=op.f("uq_source_name")),
    )
    op.create_table(
        "place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gazetteer", sa.String(length=20), nullable=False),
        sa.Column("gazetteer_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_fa", sa.String(length=300), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=True),
        sa.Column("admin1_code", sa.String(length=20), nullable=True),
        sa.Column("admin_level", sa.String(length=30), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("is_capital", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_place_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place")),
        sa.UniqueConstraint("gazetteer", "gazetteer_id", name="gazetteer_key"),
    )
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_country_code"), ["country_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_source_id"), ["source_id"], unique=False)

    op.create_table(
        "city_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"], name=op.f("fk_city_result_place_id_place")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["analysis_run.id"],
            name=op.f("fk_city_result_run_id_analysis_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city_result")),
        sa.UniqueConstraint("run_id", "place_id", "code", name="city_result_key"),
    )
    with op.batch_alter_table("city_result", schema=None) as batch_op:
        batch_op.create_index("ix_city_result_place_code", ["place_id", "code"], unique=False)
        batch_op.create_index(batch_op.f("ix_city_result_run_id"), ["run_id"], unique=False)

    op.create_table(
        "indicator_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"], name=op.f("fk_indicator_value_place_id_place")),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_indicator_value_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_value")),
        sa.UniqueConstraint("place_id", "indicator_code", "year", name="indicator_value_key"),
    )
    with op.batch_alter_table("indicator_value", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicator_value_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_indicator_value_source_id"), ["source_id"], unique=False)

    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_fa", sa.String(length=300), nullable=True),
        sa.Column("acronym", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("scale", sa.String(length=20), nullable=True),
        sa.Column("founded", sa.Integer(), nullable=True),
        sa.Column("seat_place_id", sa.Integer(), nullable=True),
        sa.Column("seat_text", sa.String(length=300), nullable=True),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("eligibility", sa.JSON(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["seat_place_id"], ["place.id"], name=op.f("fk_organisation_seat_place_id_place")),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_organisation_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("name", name=op.f("uq_organisation_name")),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_acronym"), ["acronym"], unique=False)
        batch_op.create_index(batch_op.f("ix_organisation_source_id"), ["source_id"], unique=False)

    op.create_table(
        "place_mention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("name_in_source", sa.String(length=300), nullable=False),
        sa.Column("country_in_source", sa.String(length=120), nullable=False),
        sa.Column("lat_in_source", sa.Float(), nullable=True),
        sa.Column("lng_in_source", sa.Float(), nullable=True),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=120), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"], name=op.f("fk_place_mention_place_id_place")),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_place_mention_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_mention")),
        sa.UniqueConstraint("key", name=op.f("uq_place_mention_key")),
    )
    with op.batch_alter_table("place_mention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_mention_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_mention_status"), ["status"], unique=False)

    op.create_table(
        "place_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("lang", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["place.id"], name=op.f("fk_place_name_place_id_place"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_name")),
        sa.UniqueConstraint("place_id", "name", "lang", name="place_name_lang"),
    )
    with op.batch_alter_table("place_name", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_name_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_name_place_id"), ["place_id"], unique=False)

    op.create_table(
        "relation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_a_id", sa.Integer(), nullable=False),
        sa.Column("place_b_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("signed_year", sa.Integer(), nullable=True),
        sa.Column("ended_year", sa.Integer(), nullable=True),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("place_a_id < place_b_id", name=op.f("ck_relation_ordered_pair")),
        sa.ForeignKeyConstraint(["place_a_id"], ["place.id"], name=op.f("fk_relation_place_a_id_place")),
        sa.ForeignKeyConstraint(["place_b_id"], ["place.id"], name=op.f("fk_relation_place_b_id_place")),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_relation_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relation")),
        sa.UniqueConstraint("place_a_id", "place_b_id", "kind", name="relation_pair_kind"),
    )
    with op.batch_alter_table("relation", schema=None) as batch_op:
        batch_op.create_index("ix_relation_place_b", ["place_b_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relation_source_id"), ["source_id"], unique=False)

    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("title_fa", sa.String(length=500), nullable=True),
        sa.Column("happened_on", sa.Date(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("functions", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_activity_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"], name=op.f("fk_activity_place_id_place")),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_activity_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_source_id"), ["source_id"], unique=False)

    op.create_table(
        "member_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(length=80), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("qualifier", sa.String(length=20), nullable=True),
        sa.Column("as_of_year", sa.Integer(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_member_count_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_member_count_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_count")),
        sa.UniqueConstraint("organisation_id", "what", "as_of_year", name="member_count_key"),
    )
    with op.batch_alter_table("member_count", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_count_source_id"), ["source_id"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("role_verbatim", sa.String(length=200), nullable=True),
        sa.Column("since_year", sa.Integer(), nullable=True),
        sa.Column("until_year", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source_locator", sa.String(length=500), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entered_by", sa.String(length=120), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_membership_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"], name=op.f("fk_membership_place_id_place")),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_membership_source_id_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("place_id", "organisation_id", "role", name="membership_role"),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_source_id"), ["source_id"], unique=False)

    op.create_table(
        "activity_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=60), nullable=True),
        sa.CheckConstraint(
            "place_id IS NOT NULL OR organisation_id IS NOT NULL", name=op.f("ck_activity_participant_who")
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_activity_participant_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_activity_participant_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"], name=op.f("fk_activity_participant_place_id_place")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_participant")),
    )
    with op.batch_alter_table("activity_participant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_participant_activity_id"), ["activity_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("activity_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_participant_activity_id"))

    op.drop_table("activity_participant")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_source_id"))
        batch_op.drop_index(batch_op.f("ix_membership_place_id"))
        batch_op.drop_index(batch_op.f("ix_membership_organisation_id"))

    op.drop_table("membership")
    with op.batch_alter_table("member_count", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_count_source_id"))

    op.drop_table("member_count")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_source_id"))
        batch_op.drop_index(batch_op.f("ix_activity_place_id"))
        batch_op.drop_index(batch_op.f("ix_activity_kind"))

    op.drop_table("activity")
    with op.batch_alter_table("relation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relation_source_id"))
        batch_op.drop_index("ix_relation_place_b")

    op.drop_table("relation")
    with op.batch_alter_table("place_name", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_name_place_id"))
        batch_op.drop_index(batch_op.f("ix_place_name_name"))

    op.drop_table("place_name")
    with op.batch_alter_table("place_mention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_mention_status"))
        batch_op.drop_index(batch_op.f("ix_place_mention_place_id"))

    op.drop_table("place_mention")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_source_id"))
        batch_op.drop_index(batch_op.f("ix_organisation_acronym"))

    op.drop_table("organisation")
    with op.batch_alter_table("indicator_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_value_source_id"))
        batch_op.drop_index(batch_op.f("ix_indicator_value_place_id"))

    op.drop_table("indicator_value")
    with op.batch_alter_table("city_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_city_result_run_id"))
        batch_op.drop_index("ix_city_result_place_code")

    op.drop_table("city_result")
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_source_id"))
        batch_op.drop_index(batch_op.f("ix_place_name"))
        batch_op.drop_index(batch_op.f("ix_place_country_code"))

    op.drop_table("place")
    op.drop_table("source")
    op.drop_table("model_release")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_at"))
        batch_op.drop_index("ix_audit_entity")

    op.drop_table("audit_entry")
    op.drop_table("app_user")
    with op.batch_alter_table("analysis_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analysis_run_kind"))

    op.drop_table("analysis_run")
