"""backend.core.db.Prepared and pipelined: statements straight to the driver, several INSERTs in one
round trip on PostgreSQL, errors still fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.engine import Engine

from backend.core.db import Prepared, make_engine, pipelined, session_scope

ROWS = Table("pipelined_rows", MetaData(), Column("n", Integer, primary_key=True))
INSERT = Prepared(insert(ROWS), ["n"])


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    ROWS.drop(engine, checkfirst=True)
    ROWS.create(engine)
    yield engine
    ROWS.drop(engine)
    engine.dispose()


def stored(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(ROWS.c.n).order_by(ROWS.c.n)).scalars())


def test_rows_written_in_a_pipeline_are_committed_with_the_transaction(engine: Engine) -> None:
    with session_scope(engine) as db, pipelined(db):
        INSERT.run_many(db, [{"n": 1}])
        INSERT.run_many(db, [{"n": 2}, {"n": 3}])
    assert stored(engine) == [1, 2, 3]


def test_an_error_inside_the_pipeline_fails_the_whole_transaction(engine: Engine) -> None:
    # Prepared runs on the driver's cursor: the driver's own IntegrityError.
    driver_error = engine.dialect.dbapi.IntegrityError  # type: ignore[union-attr]
    with pytest.raises(driver_error), session_scope(engine) as db:
        INSERT.run_many(db, [{"n": 10}])
        with pipelined(db):
            INSERT.run_many(db, [{"n": 11}])
            INSERT.run_many(db, [{"n": 11}])  # the same key again
            INSERT.run_many(db, [{"n": 12}])
    assert stored(engine) == []


def test_an_expanding_in_is_refused_when_first_compiled(engine: Engine) -> None:
    # SQLAlchemy renders an expanding IN only at execution, which Prepared skips: refuse it
    # loudly rather than send "__[POSTCOMPILE_...]" to the database.
    prepared = Prepared(select(ROWS.c.n).where(ROWS.c.n.in_([1, 2])))
    with session_scope(engine) as db, pytest.raises(TypeError, match="expanding IN"):
        prepared.run(db, {})
