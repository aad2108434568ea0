"""Database engine and sessions: SQLite by default, any SQLAlchemy URL by DATABASE_URL."""

from __future__ import annotations

import fcntl
import operator
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from pydantic_core import PydanticUndefined
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel, create_engine

from backend.core import json_codec
from backend.core.config import get_settings

# Execution option that makes a SQLite transaction take the write lock when it begins.
_IMMEDIATE = "sqlite_begin_immediate"

T = TypeVar("T", bound=SQLModel)


class _SQLiteWriter:
    """One writer at a time on a SQLite file, across the threads and processes of the app.

    Threads of a process queue on a lock; processes (several API workers, the job worker) on
    an flock of `<database>-lock`. Both wake the next writer the moment the lock is released,
    where SQLite's own busy handler polls with growing sleeps that wreck latency under load.
    Readers take neither: in WAL mode they run beside the writer.
    """

    def __init__(self, path: str | None) -> None:
        self._threads = threading.RLock()
        self._depth = threading.local()
        self._path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        self._threads.acquire()
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        if self._path is not None and depth == 0:
            try:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # releases the GIL while it waits
            except BaseException:
                self._depth.n = depth
                self._threads.release()
                raise

    def __exit__(self, *_: object) -> None:
        self._depth.n -= 1
        try:
            if self._path is not None and self._depth.n == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


_WRITERS: dict[str, _SQLiteWriter] = {}
_WRITERS_LOCK = threading.Lock()


def _sqlite_writer(engine: Engine) -> _SQLiteWriter:
    key = str(engine.url)
    with _WRITERS_LOCK:
        writer = _WRITERS.get(key)
        if writer is None:
            database = engine.url.database
            on_disk = database not in (None, "", ":memory:")
            writer = _WRITERS[key] = _SQLiteWriter(f"{database}-lock" if on_disk else None)
        return writer


def _savepoints_as_text(engine: Engine) -> None:
    """SAVEPOINT, RELEASE and ROLLBACK TO go to the driver as plain text.

    SQLAlchemy compiles its savepoint clauses anew each time (they are not in its statement
    cache), and the group-commit writer (backend.core.group_commit) takes a savepoint per request.
    The names are SQLAlchemy's own (sa_savepoint_N)."""

    def run(connection: Any, sql: str) -> None:
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    dialect: Any = engine.dialect
    dialect.do_savepoint = lambda conn, name: run(conn, f"SAVEPOINT {name}")
    dialect.do_release_savepoint = lambda conn, name: run(conn, f"RELEASE SAVEPOINT {name}")
    dialect.do_rollback_to_savepoint = lambda conn, name: run(conn, f"ROLLBACK TO SAVEPOINT {name}")


def make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    _savepoints_as_text(engine)
    return engine


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A pool as large as the server's thread pool: connections stay open, since opening one
        # (and setting its pragmas) costs far more than the queries a request runs.
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_serializer=json_codec.dumps,
            **({} if in_memory else {"pool_size": 40, "max_overflow": 10}),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # The driver's own transaction handling is turned off so that "begin" below decides
            # how each transaction starts. WAL lets readers run beside the writer; with
            # synchronous=NORMAL a commit does not wait for the disk (the WAL is synced at each
            # checkpoint): a power cut may lose the last commits, never corrupt the file.
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
    # One request holds one connection, and a worker runs at most 40 at once (its thread
    # pool): the pool keeps up to 32 open, so a busy worker never opens and closes connections
    # per request (a new PostgreSQL backend costs more than a charge), and never holds more
    # than 40. Size max_connections (or a PgBouncer) for 40 per worker.
    return create_engine(
        url, pool_pre_ping=True, pool_size=32, max_overflow=8, json_serializer=json_codec.dumps
    )


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
        with _sqlite_writer(bind), _unit_of_work(bind) as session:
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


# ---------------------------------------------------------------------------------------------
# New rows without the ORM's unit of work: for the hot paths that write several new rows.
#
# SQLModel's constructor runs pydantic's field machinery for every column (about 0.3 ms for a
# payment) and the unit of work then sorts, batches and tracks every object at flush; a
# request that only inserts rows it has just computed needs neither. `new_instance` builds an
# instance the way SQLAlchemy's loader builds one from a row, `insert_rows` writes rows with
# one Core INSERT per table (column types still apply: JSON, UTC timestamps), and `adopt`
# makes an inserted instance an ordinary persistent object of the session, as if it had been
# loaded: later changes to it are flushed as UPDATEs as usual.


class _Shape:
    """A table model's defaults and the mapping from attribute names to column names."""

    def __init__(self, model: type[SQLModel]) -> None:
        self.manager = model._sa_class_manager  # type: ignore[attr-defined]
        self.table = model.__table__  # type: ignore[attr-defined]
        mapper = model.__mapper__  # type: ignore[attr-defined]
        self.columns = {prop.key: prop.columns[0].key for prop in mapper.column_attrs}
        self.defaults: dict[str, Any] = {}
        self.factories: dict[str, Any] = {}
        for name, field in model.model_fields.items():
            if name not in self.columns:
                continue
            if field.default_factory is not None:
                self.factories[name] = field.default_factory
            elif field.default is not PydanticUndefined:
                self.defaults[name] = field.default
        self.insert = Prepared(insert(self.table), [c.key for c in self.table.c])


_SHAPES: dict[type[SQLModel], _Shape] = {}


def _shape(model: type[SQLModel]) -> _Shape:
    shape = _SHAPES.get(model)
    if shape is None:
        shape = _SHAPES[model] = _Shape(model)
    return shape


def _complete(model: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    """values and the fields' defaults for the rest, keyed by attribute name; refuses unknown
    attributes and missing values."""
    shape = _shape(model)
    unknown = values.keys() - shape.columns.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no columns {sorted(unknown)}")
    state = dict(shape.defaults)
    for name, factory in shape.factories.items():
        if name not in values:
            state[name] = factory()
    state.update(values)
    missing = shape.columns.keys() - state.keys()
    if missing:
        raise TypeError(f"{model.__name__} needs values for {sorted(missing)}")
    return state


def new_instance(model: type[T], **values: Any) -> T:
    """A transient `model` instance with these attribute values and the fields' defaults for
    the rest, built without SQLModel's constructor (no validation, as with table models)."""
    state = _complete(model, values)
    obj: T = _shape(model).manager.new_instance()
    obj.__dict__.update(state)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    return obj


def new_row(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """The column values of a new row, for `insert_rows`: what `row_values(new_instance(...))`
    gives, for rows nobody reads back as objects (audit rows, events, attempts)."""
    state = _complete(model, values)
    return {column: state[attr] for attr, column in _shape(model).columns.items()}


def row_values(obj: SQLModel) -> dict[str, Any]:
    """The column values of an instance, keyed by column name (for `insert_rows`)."""
    shape = _shape(type(obj))
    state = obj.__dict__
    return {column: state[attr] for attr, column in shape.columns.items()}


def insert_rows(
    db: Session | Connection, model: type[SQLModel], rows: Sequence[dict[str, Any]]
) -> None:
    """INSERT rows (dicts keyed by column name, every column given) in one statement."""
    _shape(model).insert.run_many(db, rows)


@contextmanager
def pipelined(db: Session | Connection) -> Iterator[None]:
    """On PostgreSQL (psycopg), the statements run inside go out without waiting for each
    answer, in one round trip; an error surfaces when the block ends, and still fails the
    transaction. Elsewhere a plain block."""
    connection = _connection(db)
    dbapi_connection: Any = connection.connection.dbapi_connection
    if connection.dialect.name != "postgresql" or not hasattr(dbapi_connection, "pipeline"):
        yield
        return
    with dbapi_connection.pipeline():
        yield


def adopt(db: Session, obj: T) -> T:
    """Make an instance whose row was just inserted with `insert_rows` persistent in db, as if
    it had been loaded from its row: no SQL, and later changes are flushed as UPDATEs."""
    make_transient_to_detached(obj)
    db.add(obj)
    return obj


class _Compiled:
    """A statement's SQL for one dialect and how to turn a dict of values into its parameters."""

    __slots__ = ("defaults", "names", "positional", "processors", "sql", "take")

    def __init__(self, compiled: Any, dialect: Any) -> None:
        expanding = sorted(name for name, bind in compiled.binds.items() if bind.expanding)
        if expanding:
            # SQLAlchemy renders these only at execution; give one bindparam per value.
            raise TypeError(f"Prepared takes no expanding IN parameters: {expanding}")
        self.sql: str = compiled.string
        self.positional: bool = compiled.positional
        self.names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
        # A literal in the statement is a parameter with its own value.
        self.defaults = tuple(
            None if compiled.binds[name].required else compiled.binds[name].effective_value
            for name in self.names
        )
        processors = []
        for index, name in enumerate(self.names):
            process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((index, process))
        self.processors = tuple(processors)
        # The values in parameter order, gathered in C: a charge binds about 150 values.
        getter = operator.itemgetter(*self.names) if self.names else (lambda _values: ())
        self.take: Callable[[dict[str, Any]], Any] = (
            (lambda values: (getter(values),)) if len(self.names) == 1 else getter
        )

    def params(self, values: dict[str, Any]) -> Any:
        try:
            raw = list(self.take(values))
        except KeyError:  # a value not given is the statement's own literal, or NULL
            raw = [values.get(n, d) for n, d in zip(self.names, self.defaults, strict=True)]
        for index, process in self.processors:
            raw[index] = process(raw[index])
        return raw if self.positional else dict(zip(self.names, raw, strict=True))


class Prepared:
    """A Core statement compiled once per dialect and run straight on the DBAPI cursor of the
    session's connection, in its transaction.

    For the few statements every charge runs: it does what SQLAlchemy's execution context does
    per call (the column types' bind processors: JSON, UTC timestamps...) and nothing else, no
    events and no result objects, which saves about 50 us per statement. The SQL is
    SQLAlchemy's own compilation of the statement for the dialect.
    """

    def __init__(self, statement: Any, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Any) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
            found = self._compiled[dialect.name] = _Compiled(compiled, dialect)
        return found

    def run(self, db: Session | Connection, values: dict[str, Any]) -> Any:
        """Execute once; the first row of the result, if it has one (RETURNING)."""
        connection = _connection(db)
        compiled = self._for(connection.dialect)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, compiled.params(values))
            return cursor.fetchone() if cursor.description else None
        finally:
            cursor.close()

    def run_many(self, db: Session | Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        connection = _connection(db)
        compiled = self._for(connection.dialect)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if len(rows) == 1:
                cursor.execute(compiled.sql, compiled.params(rows[0]))
            else:
                cursor.executemany(compiled.sql, [compiled.params(r) for r in rows])
        finally:
            cursor.close()


def _connection(db: Session | Connection) -> Connection:
    """The session's connection in its transaction; a statement that runs several in a row
    asks for it once and passes it on (each `Session.connection()` walks the session's
    transaction states)."""
    return db if isinstance(db, Connection) else db.connection()
