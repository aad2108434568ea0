"""The SQLite group-commit writer: several requests to a transaction, each all-or-nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import event, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.core import group_commit
from backend.core.group_commit import GroupCommitter
from backend.models import FeeTier


@pytest.fixture
def engine(db_engine: Engine) -> Iterator[Engine]:
    with db_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE gc_rows (name TEXT PRIMARY KEY)")
    yield db_engine


def names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT name FROM gc_rows ORDER BY name")).scalars())


def insert(name: str) -> Callable[[Session], str]:
    def work(db: Session) -> str:
        db.execute(text("INSERT INTO gc_rows (name) VALUES (:name)"), {"name": name})
        return name

    return work


def fail_after_insert(name: str) -> Callable[[Session], str]:
    def work(db: Session) -> str:
        insert(name)(db)
        raise ValueError(f"{name} refused")

    return work


def held_writer(committer: GroupCommitter) -> tuple[threading.Event, threading.Event]:
    """Occupy the writer with a job that waits, so the jobs submitted meanwhile queue up and
    are taken together as the next batch."""
    started, release = threading.Event(), threading.Event()

    def blocker(db: Session) -> str:
        started.set()
        release.wait(10)
        return insert("a-first")(db)

    committer.submit(blocker)
    assert started.wait(10)
    return started, release


def test_queued_jobs_share_one_transaction_and_each_gets_its_own_answer(engine: Engine) -> None:
    committer = GroupCommitter(engine)
    _started, release = held_writer(committer)
    futures = [committer.submit(insert(f"job-{n:02d}")) for n in range(20)]
    release.set()
    assert [f.result(10) for f in futures] == [f"job-{n:02d}" for n in range(20)]
    assert committer.batches == 2  # the blocker alone, then the 20 queued jobs at once
    assert names(engine) == ["a-first", *[f"job-{n:02d}" for n in range(20)]]


def test_a_failing_job_rolls_back_only_its_own_changes(engine: Engine) -> None:
    committer = GroupCommitter(engine)
    _started, release = held_writer(committer)
    before = committer.submit(insert("before"))
    failing = committer.submit(fail_after_insert("failing"))
    after = committer.submit(insert("after"))
    release.set()
    assert before.result(10) == "before" and after.result(10) == "after"
    with pytest.raises(ValueError, match="failing refused"):
        failing.result(10)
    assert committer.batches == 2
    assert names(engine) == ["a-first", "after", "before"]


def test_recover_answers_in_the_same_transaction_after_the_rollback(engine: Engine) -> None:
    committer = GroupCommitter(engine)

    def keep_refusal(db: Session, exc: Exception) -> str:
        return insert(f"refusal: {exc}")(db)

    answer = committer.submit(fail_after_insert("work"), keep_refusal).result(10)
    assert answer == "refusal: work refused"
    assert names(engine) == ["refusal: work refused"]

    def not_mine(db: Session, exc: Exception) -> str:
        raise exc

    with pytest.raises(ValueError):
        committer.submit(fail_after_insert("other"), not_mine).result(10)
    assert names(engine) == ["refusal: work refused"]


def test_no_answer_before_the_commit_and_a_failed_commit_fails_the_whole_batch(
    engine: Engine,
) -> None:
    committer = GroupCommitter(engine)
    _started, release = held_writer(committer)
    futures = [committer.submit(insert(f"lost-{n}")) for n in range(3)]

    # The COMMIT of the batch holding these jobs fails: a job of that batch marks its session.
    def marker(db: Session) -> str:
        db.info["refuse_commit"] = True
        return "marked"

    def refuse_commit(session: Session) -> None:
        if session.info.get("refuse_commit"):
            raise RuntimeError("disk full")

    marked = committer.submit(marker)
    assert not any(f.done() for f in futures)
    event.listen(Session, "before_commit", refuse_commit)
    try:
        release.set()
        for future in [*futures, marked]:
            with pytest.raises(RuntimeError, match="disk full"):
                future.result(10)
    finally:
        event.remove(Session, "before_commit", refuse_commit)
    assert names(engine) == ["a-first"]  # committed earlier, in the blocker's own batch
    # The writer carries on with the next jobs.
    assert committer.submit(insert("next")).result(10) == "next"
    assert names(engine) == ["a-first", "next"]


def test_each_job_reads_rows_not_objects_an_earlier_job_of_the_batch_loaded(
    engine: Engine,
) -> None:
    committer = GroupCommitter(engine)
    _started, release = held_writer(committer)

    kept: list[FeeTier] = []  # an object still referenced, so the identity map keeps it

    def load(db: Session) -> str:
        tier = db.get(FeeTier, "starter")
        assert tier is not None
        kept.append(tier)
        return tier.description

    def rename(db: Session) -> str:  # a Core UPDATE, which the ORM's identity map never sees
        table = FeeTier.__table__  # type: ignore[attr-defined]
        db.connection().execute(
            update(table).where(table.c.id == "starter").values(description="renamed")
        )
        return "renamed"

    first, changed, second = (committer.submit(work) for work in (load, rename, load))
    release.set()
    assert first.result(10) != "renamed"
    assert changed.result(10) == "renamed"
    assert second.result(10) == "renamed"
    assert committer.batches == 2  # all three in one transaction


def test_a_job_cancelled_before_it_runs_is_skipped(engine: Engine) -> None:
    committer = GroupCommitter(engine)
    _started, release = held_writer(committer)
    cancelled = committer.submit(insert("cancelled"))
    kept = committer.submit(insert("kept"))
    assert cancelled.cancel()
    release.set()
    assert kept.result(10) == "kept"
    assert names(engine) == ["a-first", "kept"]


def test_an_idle_writer_ends_and_the_next_job_starts_another(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_commit, "_IDLE_SECONDS", 0.05)
    committer = GroupCommitter(engine)
    assert committer.submit(insert("one")).result(10) == "one"
    first = committer._writer
    assert first is not None
    first.join(5)
    assert not first.is_alive() and committer._writer is None
    assert committer.submit(insert("two")).result(10) == "two"
    assert names(engine) == ["one", "two"]
