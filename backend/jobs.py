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

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from backend.config import PROJECT_ROOT, get_settings


def make_huey() -> Huey:
    settings = get_settings()
    if settings.jobs_backend == "memory":
        # Tests: tasks run at once, in the caller's thread.
        return MemoryHuey("payportal", immediate=True)
    if settings.redis_url:
        return RedisHuey("payportal", url=settings.redis_url)
    return SqliteHuey(
        "payportal", filename=str(settings.jobs_db_path or PROJECT_ROOT / "payportal-jobs.db")
    )


huey = make_huey()
