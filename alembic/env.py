"""Alembic environment: migrates the database named by the application settings.

The URL comes from `sqlalchemy.url` when a caller set it on the Config (tests do, with
`Config.set_main_option`), otherwise from `backend.core.config.get_settings().database_url`.
A caller may also hand over an open connection in `Config.attributes["connection"]`.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import backend.models  # noqa: F401  (registers every table on SQLModel.metadata)
from backend.core.config import get_settings, normalise_database_url
from backend.models.types import UTCDateTime

config = context.config

# Command-line runs log as alembic.ini says; programmatic callers (tests) can keep their own
# logging by setting Config.attributes["configure_logger"] = False.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    return normalise_database_url(url)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render the project's column types so generated migrations import and run."""
    if type_ == "type":
        # script.py.mako imports `sqlmodel` and `backend.models.types` for these.
        if isinstance(obj, UTCDateTime):
            return "backend.models.types.UTCDateTime()"
        if isinstance(obj, AutoString):
            length = obj.impl.length
            args = f"length={length}" if length is not None else ""
            return f"sqlmodel.sql.sqltypes.AutoString({args})"
    return False  # everything else: alembic's default rendering


def configure_options() -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        # SQLite cannot ALTER most things, so autogenerate wraps changes in batch operations
        # (copy-and-move on SQLite, plain ALTERs elsewhere). Rendered for every backend, so a
        # revision generated against PostgreSQL still runs on a developer's SQLite file.
        "render_as_batch": True,
        "render_item": render_item,
    }


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade head --sql`) instead of running it."""
    context.configure(
        url=database_url(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **configure_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_on_connection(connection: Connection) -> None:
    context.configure(connection=connection, **configure_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on_connection(connection)
        return
    # A private engine without backend.core.db's SQLite pragmas: foreign keys stay off (SQLite's
    # default), which batch mode needs when it copies and drops referenced tables.
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            run_on_connection(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
