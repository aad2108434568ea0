"""Group commit: on SQLite, one thread per process runs the API's write requests, several
requests to a transaction.

SQLite has one writer at a time, so a process's write requests already queue for its write
lock; what each then pays on its own is the transaction around its few statements: a pool
checkout, BEGIN IMMEDIATE, the COMMIT that writes every page it touched to the WAL, and the
wake-ups of up to 40 threads taking turns at the lock. Here one writer thread takes every
request waiting in its queue, runs each in its own SAVEPOINT of one transaction and commits
once: the pages a batch shares (index leaves, the same table's last page) are written once.

What each request sees is unchanged:
- its changes are all kept or all undone: an error inside a job rolls back its savepoint only,
  and the next job of the batch goes on;
- its answer is released only after the COMMIT: nobody hears of a payment that is not durable.
  When the COMMIT itself fails, every job of the batch gets that error, as each would alone;
- jobs run one after another, in the order they arrived, as they would behind the write lock.

There is no waiting for company: a lone request runs at once, in a batch of one. Batches grow
only while the writer is busy, which is when sharing a commit pays.

The batching itself (a queue, one thread draining it a batch at a time, started on demand and
ended when idle) is BatchWriter, which other writers share: the inbound webhook endpoint stores
each batch of events with one multi-row INSERT (backend/api/routes/webhooks_stripe.py).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.core.db import session_scope

log = logging.getLogger(__name__)

T = TypeVar("T")
J = TypeVar("J")

# A job may take a second chance at an error that rolled its savepoint back: `recover(db, exc)`
# runs in a fresh savepoint of the same transaction (keeping a refusal's answer, say). It
# re-raises what it does not handle.
Recover = Callable[[Session, Exception], Any]

MAX_BATCH = 64
_IDLE_SECONDS = 5.0  # a writer with nothing to do for this long ends; the next job starts one


class Job(Generic[T]):
    """One unit of work waiting for the writer, and the future its caller waits on."""

    __slots__ = ("future", "recover", "work")

    def __init__(self, work: Callable[[Session], T], recover: Recover | None) -> None:
        self.work = work
        self.recover = recover
        self.future: Future[T] = Future()


class BatchWriter(Generic[J]):
    """One thread that takes every job waiting in the queue, up to max_batch, and hands them to
    write_batch together. A lone job is a batch of one at once (no timer); jobs that arrive while
    a batch is written make up the next. The thread starts with the first job and ends after
    _IDLE_SECONDS with nothing to do; the next job starts another.

    write_batch must answer every job of its batch, whatever fails: nobody else will."""

    def __init__(self, max_batch: int, name: str) -> None:
        self.max_batch = max_batch
        self.name = name
        self._jobs: queue.SimpleQueue[J] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def put(self, job: J) -> None:
        with self._lock:
            self._jobs.put(job)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write, name=self.name, daemon=True)
                self._writer.start()

    def queued(self) -> int:
        """Jobs waiting for the writer (not counting the batch it is writing)."""
        return self._jobs.qsize()

    def write_batch(self, batch: list[J]) -> None:
        raise NotImplementedError

    def _write(self) -> None:
        while True:
            try:
                first = self._jobs.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                with self._lock:  # put() starts a new writer once this one is gone
                    if self._jobs.empty():
                        self._writer = None
                        return
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            try:
                self.write_batch(batch)
            except Exception:  # a bug in write_batch: log it, and keep writing the next batches
                log.exception("%s: writing a batch of %d failed", self.name, len(batch))


class GroupCommitter(BatchWriter[Job[Any]]):
    """The writer of one engine in this process (see the module docstring)."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch, "group-commit")
        self.engine = engine
        self.batches = 0  # how many transactions the writer committed (tests, benchmarks)

    def submit(self, work: Callable[[Session], T], recover: Recover | None = None) -> Future[T]:
        job = Job(work, recover)
        self.put(job)
        return job.future

    async def run(self, work: Callable[[Session], T], recover: Recover | None = None) -> T:
        return await asyncio.wrap_future(self.submit(work, recover))

    def write_batch(self, batch: list[Job[Any]]) -> None:
        done: list[tuple[Job[Any], Any, BaseException | None]] = []
        try:
            with session_scope(self.engine) as db:
                for job in batch:
                    if job.future.set_running_or_notify_cancel():
                        done.append((job, *run_job(db, job)))
            self.batches += 1
        except BaseException as exc:  # the COMMIT failed: none of it happened
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        for job, value, error in done:
            if error is None:
                job.future.set_result(value)
            else:
                job.future.set_exception(error)


def run_job(db: Session, job: Job[Any]) -> tuple[Any, Exception | None]:
    """Run JOB in a savepoint of db's transaction: its value, or the error that undid it. The
    writer's own step, public so that the benchmarks can replay it inline."""
    try:
        with db.begin_nested():
            return job.work(db), None
    except Exception as exc:  # the job's own changes are rolled back; the batch goes on
        if job.recover is None:
            return None, exc
        try:
            with db.begin_nested():
                return job.recover(db, exc), None
        except Exception as again:
            return None, again
    finally:
        # Everything is flushed by now. The next job starts with an empty identity map, as in
        # a session of its own: it reads rows, never an object an earlier job loaded (which a
        # Core UPDATE since then would have left stale).
        db.expunge_all()


_COMMITTERS: dict[int, GroupCommitter] = {}
_COMMITTERS_LOCK = threading.Lock()


def committer_for(engine: Engine) -> GroupCommitter:
    """This process's writer for engine (one per engine object)."""
    key = id(engine)
    with _COMMITTERS_LOCK:
        found = _COMMITTERS.get(key)
        if found is None or found.engine is not engine:
            found = _COMMITTERS[key] = GroupCommitter(engine)
        return found
