"""The background job runner: Huey.

Why Huey: a small, well-kept task queue with retries, delays and periodic tasks, whose storage
is pluggable without changing the tasks: a SQLite file by default (no extra server, so `make
run` starts a worker beside the app), Redis when REDIS_URL is set (several workers on several
machines take tasks in parallel, each task goes to exactly one of them). Celery or RQ would
need a broker even for the demo; Dramatiq has no serverless storage.

The queue only says "look at this row soon". What must not be lost lives in the database (the
inbound events, the outbox, the deliveries, each with a status and a due time), and periodic
sweeps enqueue whatever is due, so a task lost with a crashed worker is found again.

Tasks live in backend.tasks; `python -m backend worker` runs the consumer.
"""

from __future__ import annotations

import sqlite3

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.storage import SqliteStorage

from backend.core.config import PROJECT_ROOT, get_settings


class _SqliteStorage(SqliteStorage):
    """Huey's SQLite queue without an fsync per task: WAL with synchronous=NORMAL (Huey itself
    offers only FULL or OFF). A power cut can lose the last tasks, never the file, and a lost
    task costs nothing: the sweeps find its row again. With FULL, each enqueue held the queue's
    lock through a ~4 ms fsync, which capped every process together near 250 tasks/s."""

    def _create_connection(self) -> sqlite3.Connection:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


def make_huey() -> Huey:
    settings = get_settings()
    if settings.jobs_backend == "memory":
        # Tests: tasks run at once, in the caller's thread.
        return MemoryHuey("payportal", immediate=True)
    if settings.redis_url:
        return RedisHuey("payportal", url=settings.redis_url)
    return SqliteHuey(
        "payportal",
        filename=str(settings.jobs_db_path or PROJECT_ROOT / "payportal-jobs.db"),
        storage_class=_SqliteStorage,
    )


huey = make_huey()
