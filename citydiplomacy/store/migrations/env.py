"""Alembic environment: runs against the engine handed over by :func:`citydiplomacy.store.db.upgrade`."""

from __future__ import annotations

from alembic import context

from citydiplomacy.store.db import get_engine
from citydiplomacy.store.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or get_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
