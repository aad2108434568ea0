"""Charges per second through the sandbox over HTTP, against the same server's health ceiling.

    .venv/bin/python bench/payments_api.py [--seconds 10] [--concurrency 32] [--workers 2]
                                           [--databases sqlite,postgresql]
                                           [--server uvicorn|granian]

For each database: a fresh migrated database, one server for `backend.api:app` as docs/operations.md
says to run the API on its own (uvicorn with uvloop and httptools, or granian), a
merchant whose risk thresholds are raised (the benchmark charges one test card hundreds of
times a second, which the velocity rules would rightly block), then in the same run:
  1. GET /api/health at the same concurrency (the framework's ceiling on this machine),
  2. POST /api/payments/charge with pm_card_visa, each with its own Idempotency-Key.
Target (issue 3): >= 500 charges/s at 32 clients, p95 < 50 ms, >= 0.5 of the ceiling.
PostgreSQL uses TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).

Each line also shows the CPU time the server spent per request (its worker processes and, on
PostgreSQL, the database backends serving it). On a machine shared with other work the rates
move with the neighbours' load, the CPU cost per request hardly does: the ratio of the two CPU
costs is the ratio to the ceiling the same code would reach on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import sys

from _harness import SERVERS, Figures, cpu_meter, database, load, server


def _merchant(url: str) -> str:
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
    get_engine().dispose()
    return created.test_secret_key


CHARGE_BODY = (
    'string.format(\'{"amountCents": %d, "currency": "USD", '
    '"paymentMethod": {"type": "card", "token": "pm_card_visa"}}\', 1000 + n % 5000)'
)


def verdict(kind: str, ceiling: Figures, charges: Figures) -> str:
    ratio = charges.rate / ceiling.rate

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    line = (
        f"[{kind}] {charges.rate:.0f} charges/s (>= 500: {mark(charges.rate >= 500)}), "
        f"p95 {charges.p95:.1f} ms (< 50: {mark(charges.p95 < 50)}), "
        f"charges / ceiling {ratio:.2f} (>= 0.5: {mark(ratio >= 0.5)})"
    )
    if charges.cpu_ms and ceiling.cpu_ms:
        line += f"; by CPU per request {ceiling.cpu_ms / charges.cpu_ms:.2f}"
    if charges.errors:
        line += f"; {charges.errors} charges were not 2xx: NOT a valid run"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn")
    args = parser.parse_args()

    print(
        f"payments API benchmark: {args.concurrency} clients, {args.seconds:.0f} s each, "
        f"{args.workers} {args.server} worker(s), {os.cpu_count()} cores"
    )
    for kind in args.databases.split(","):
        with database(kind) as url:
            key = _merchant(url)
            env = {"DATABASE_URL": url, "API_RATE_LIMIT": "1000000/second"}
            with server("backend.api:app", env, workers=args.workers, kind=args.server) as base:
                cpu = cpu_meter(base, url)
                ceiling = load(
                    f"[{kind}] GET /api/health (ceiling)",
                    base,
                    path="/api/health",
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                    cpu=cpu,
                )
                charges = load(
                    f"[{kind}] POST /api/payments/charge",
                    base,
                    method="POST",
                    path="/api/payments/charge",
                    body_lua=CHARGE_BODY,
                    headers={
                        "Authorization": f"Bearer {key}",
                        "Content-Type": "application/json",
                        "Idempotency-Key": "bench-{n}",
                    },
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                    cpu=cpu,
                )
            print(ceiling.line())
            print(charges.line())
            print(verdict(kind, ceiling, charges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
