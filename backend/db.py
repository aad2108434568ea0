"""Database engine and sessions: SQLite by default, any SQLAlchemy URL by DATABASE_URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from backend.config import get_settings

# Execution option that makes a SQLite transaction take the write lock when it begins.
_IMMEDIATE = "sqlite_begin_immediate"
_SQLITE_WRITER = threading.RLock()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A pool as large as the server's thread pool: connections stay open, since opening one
        # (and setting its pragmas) costs far more than the queries a request runs.
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **({} if in_memory else {"pool_size": 40, "max_overflow": 10}),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # The driver's own transaction handling is turned off so that "begin" below decides
            # how each transaction starts. WAL lets readers run beside the writer.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
            # A unit of work that may write begins IMMEDIATE, taking the write lock up front:
            # SQLite has no SELECT ... FOR UPDATE, so this is what stops two captures from both
            # reading "authorized"; and in WAL mode a read transaction that later tries to
            # write fails at once with "database is locked" instead of waiting its turn.
            immediate = conn.get_execution_options().get(_IMMEDIATE, True)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=20)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None, *, readonly: bool = False) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error, always closes.

    On SQLite a unit of work takes the database's write lock when it begins, unless it is
    readonly (readers then run beside the writer). On PostgreSQL the services lock the rows they
    read and change with SELECT ... FOR UPDATE (`with_for_update()`, which SQLite ignores).
    """
    bind = engine or get_engine()
    if bind.dialect.name != "sqlite":
        with _unit_of_work(bind) as session:
            yield session
    elif readonly:
        with _unit_of_work(bind.execution_options(**{_IMMEDIATE: False})) as session:
            yield session
    else:
        # One writer at a time inside this process: threads queue here in order instead of
        # spinning in SQLite's busy handler, whose growing sleeps wreck latency under load.
        with _SQLITE_WRITER, _unit_of_work(bind) as session:
            yield session


@contextmanager
def _unit_of_work(bind: Engine) -> Iterator[Session]:
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def ping(engine: Engine | None = None) -> bool:
    """True when the database answers a trivial query."""
    try:
        with (engine or get_engine()).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
