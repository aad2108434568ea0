"""Where a charge's time goes, in one process, one request at a time (no concurrency, no HTTP).

    .venv/bin/python bench/profile_charge.py [--charges 500] [--databases sqlite,postgresql]
                                             [--profile 25]

Drives the ASGI app (`backend.api:app`) directly with hand-built requests, so the framework,
middleware, authentication, rate limit, idempotency and the service layer are all measured,
but no socket or event-loop contention is. Prints the mean cost of GET /api/health, of an
authenticated GET /api/payments/{id} and of POST /api/payments/charge (each charge with its
own Idempotency-Key), then, with --profile N, the N functions with the most cumulative time
over the charges (cProfile). The CPU time of this process is shown beside the wall time: on a
shared machine it is the steadier figure (the database server's own time is not in it). The
cost per charge here bounds what the HTTP benchmark (bench/payments_api.py) can reach.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import time
from typing import Any

from _harness import database


def merchant_key(url: str) -> str:
    os.environ["DATABASE_URL"] = url
    from backend.core.config import get_settings
    from backend.core.db import get_engine, session_scope
    from backend.services.identity import accounts

    get_settings.cache_clear()
    get_engine.cache_clear()
    with session_scope() as db:
        created = accounts.create_merchant(
            db, email="bench@shop.test", password="a long passphrase 1", name="Bench"
        )
        created.merchant.risk_review_score = created.merchant.risk_block_score = 101
        db.add(created.merchant)
    return created.test_secret_key


async def _call(
    app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def _run(kind: str, key: str, charges: int, profile_top: int) -> None:
    from backend.api.app import create_app

    app = create_app()
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def charge_body(n: int) -> bytes:
        return json.dumps(
            {
                "amountCents": 1000 + n % 5000,
                "currency": "USD",
                "paymentMethod": {"type": "card", "token": "pm_card_visa"},
            }
        ).encode()

    async def charge(n: int) -> dict[str, Any]:
        status, body = await _call(
            app,
            "POST",
            "/api/payments/charge",
            {**auth, "Idempotency-Key": f"profile-{kind}-{n}"},
            charge_body(n),
        )
        if status != 201:
            raise RuntimeError(f"charge answered {status}: {body[:300]!r}")
        return json.loads(body)

    # Warm-up: first-use costs (imports, statement compilation, connections) are not measured.
    first = await charge(-1)
    for n in range(-30, -1):
        await charge(n)
    payment_path = f"/api/payments/{first['payment']['id']}"

    async def timed(label: str, count: int, one: Any) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(count):
            await one(n)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"[{kind}] {label:<28} {elapsed / count * 1000:6.2f} ms each "
            f"({cpu / count * 1000:5.2f} ms CPU in this process) over {count}"
        )

    async def health(_: int) -> None:
        status, _body = await _call(app, "GET", "/api/health", {})
        assert status == 200

    async def get_payment(_: int) -> None:
        status, _body = await _call(app, "GET", payment_path, auth)
        assert status == 200

    await timed("GET /api/health", charges, health)
    await timed("GET /api/payments/{id}", charges, get_payment)
    await timed("POST /api/payments/charge", charges, charge)
    if profile_top:
        _inline_threadpool()
        profiler = cProfile.Profile(time.process_time)  # CPU time: waiting is not cost
        profiler.enable()
        for n in range(charges, charges * 2):
            await charge(n)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(profile_top)
        stats.sort_stats("tottime").print_stats(profile_top)
        _by_package(stats, charges)


def _by_package(stats: pstats.Stats, count: int) -> None:
    """Own time per package (site-packages name, the project's module, or Python itself)."""
    totals: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            package = filename.split("site-packages/")[1].split("/")[0]
        elif "/backend/" in filename:
            package = "backend/" + filename.split("/backend/")[1]
        elif filename == "~":
            package = f"builtin {name}"
        else:
            package = "python " + filename.rsplit("/", 1)[-1]
        totals[package] = totals.get(package, 0.0) + tottime
    print(f"own time per charge by package (ms, under cProfile, {count} charges)")
    for package, seconds in sorted(totals.items(), key=lambda item: -item[1])[:40]:
        print(f"  {seconds / count * 1000:7.3f}  {package}")


def _inline_threadpool() -> None:
    """cProfile sees one thread: run the thread-pool work, and the SQLite group-commit
    writer's, inline while profiling (each request then is a batch of one)."""
    import sys

    from backend.api import deps
    from backend.core.db import session_scope
    from backend.core.group_commit import Job, run_job

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    class InlineWriter:
        async def run(self, work: Any, recover: Any = None) -> Any:
            with session_scope() as db:
                value, error = run_job(db, Job(work, recover))
            if error is not None:
                raise error
            return value

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("backend.api") and hasattr(
            module, "run_in_threadpool"
        ):
            module.run_in_threadpool = inline  # type: ignore[attr-defined]
    deps.committer_for = lambda _engine: InlineWriter()  # type: ignore[assignment]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--charges", type=int, default=500)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--profile", type=int, default=0, help="print the top N of cProfile")
    args = parser.parse_args()
    for kind in args.databases.split(","):
        with database(kind) as url:
            key = merchant_key(url)
            os.environ["API_RATE_LIMIT"] = "1000000/second"
            from backend.core.config import get_settings
            from backend.core.db import get_engine

            get_settings.cache_clear()
            asyncio.run(_run(kind, key, args.charges, args.profile))
            get_engine().dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
