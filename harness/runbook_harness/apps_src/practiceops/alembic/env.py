"""Runs the migrations online against the app's own DATABASE_URL (its own role owns the schema)."""

import os

from alembic import context
from sqlalchemy import create_engine, pool


def engine_url(url: str) -> str:
    """The app's URL with SQLAlchemy's psycopg 3 driver, whatever driver the app itself names."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme.startswith("postgres") else url


engine = create_engine(engine_url(os.environ["DATABASE_URL"]), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
