"""The cost of a charge's unit of work alone, as the SQLite group-commit writer runs it.

    .venv/bin/python bench/charge_job.py [--batch 32] [--repeats 25] [--database sqlite]
                                         [--sql-floor | --ledger-share]

No HTTP, no event loop, no other thread: batches of `--batch` charges (each through the API's
own unit of work: Idempotency-Key claim, service call, stored answer) run in one transaction,
one savepoint each, as backend.core.group_commit does. Prints the CPU time per charge of the
fastest, first-quartile and median batch: the fastest is the cost with the least interference
from the machine's other work. Set against bench/payments_api.py's CPU per charge, the
difference is what serving costs beside the work: HTTP, the event loop and the GIL.

--sql-floor (SQLite) then records the statements one charge sends to SQLite and replays them
on a bare sqlite3 connection, with fresh ids each time, in the same batches: what SQLite
itself costs per charge (statements written out in full, so parsing is included), with no
application code at all. The unit of work minus that floor is the application's own work.

--ledger-share then times batches alternately with and without the capture's ledger posting
(the journal, its entries, the balance transactions and the balance row; replaced by nothing in
this process only): what the ledger adds to a charge, as a ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import time
from collections.abc import Callable
from typing import Any

from _harness import database
from profile_charge import merchant_key

IDS = re.compile(r"\b(?:idk|ord|pay|att|aud|evt)_[0-9a-z]{26}\b")


def _figures(label: str, costs: list[float]) -> str:
    costs = sorted(costs)
    return (
        f"{label}: fastest {costs[0]:.0f} us, first quartile {costs[len(costs) // 4]:.0f} us, "
        f"median {statistics.median(costs):.0f} us of CPU per charge"
    )


def _timed_batches(repeats: int, batch: int, run_batch: Callable[[int], None]) -> list[float]:
    costs = []
    for index in range(repeats):
        started = time.process_time()
        run_batch(index)
        costs.append((time.process_time() - started) / batch * 1e6)
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--sql-floor", action="store_true", help="SQLite's own cost (see above)")
    parser.add_argument(
        "--ledger-share", action="store_true", help="with and without the ledger (see above)"
    )
    args = parser.parse_args()
    with database(args.database) as url:
        key = merchant_key(url)
        from sqlalchemy import event

        from backend.api import deps
        from backend.api.routes import payments as routes
        from backend.core.db import get_engine, session_scope
        from backend.core.group_commit import Job, run_job
        from backend.services.identity import api_keys
        from backend.services.payments import charges

        who = deps.Caller(api_keys.authenticate_cached(key), "127.0.0.1")
        traced: list[str] = []
        tracing = [False]
        if args.sql_floor:

            @event.listens_for(get_engine(), "connect")
            def _trace(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.set_trace_callback(
                    lambda sql: traced.append(sql) if tracing[0] else None
                )

            get_engine().dispose()

        def job(n: int) -> Job[object]:
            key = f"job-{n}"
            data = charges.ChargeInput(  # what the API makes of bench/payments_api.py's body
                payment_method=charges.PaymentMethodInput("card", "pm_card_visa"),
                amount=1000 + n % 5000,
                currency="USD",
                ip_address=who.actor.ip_address,
                idempotency_key=key,
            )

            def work(db: object) -> object:
                outcome = charges.charge(db, who.scope, data, actor=who.actor)  # type: ignore[arg-type]
                return routes.outcome_result(outcome, 201)

            unit = deps.AtomicUnit("POST", "/api/payments/charge", who, key, "0" * 64, work)
            return Job(unit.answer, unit.refused)

        def charge_batches(index: int) -> None:
            batch = [job(index * args.batch + k) for k in range(args.batch)]
            with session_scope() as db:
                for one in batch:
                    _value, error = run_job(db, one)
                    if error is not None:
                        raise error

        costs = _timed_batches(args.repeats, args.batch, charge_batches)
        print(
            _figures(f"[{args.database}] charge unit of work, {args.batch} per transaction", costs)
        )
        if args.ledger_share:
            _ledger_share(args, charge_batches)
        if not args.sql_floor or args.database != "sqlite":
            return 0

        tracing[0] = True
        with session_scope() as db:
            run_job(db, job(10**8))
        tracing[0] = False
        get_engine().dispose()
        body = [s for s in traced if not s.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")
        # Every statement is written out before the clock starts: only SQLite is timed.
        prepared = []
        for n in range(args.repeats * args.batch):
            suffix = f"{n:08d}"
            prepared.append(
                [
                    IDS.sub(lambda m, s=suffix: m.group(0)[:-8] + s, sql).replace(
                        f"'job-{10**8}'", f"'floor-{suffix}'"
                    )
                    for sql in body
                ]
            )

        def replayed(index: int) -> None:
            connection.execute("BEGIN IMMEDIATE")
            for statements in prepared[index * args.batch : (index + 1) * args.batch]:
                connection.execute("SAVEPOINT s")
                for sql in statements:
                    connection.execute(sql).fetchall()
                connection.execute("RELEASE s")
            connection.execute("COMMIT")

        floor = _timed_batches(args.repeats, args.batch, replayed)
        print(_figures(f"[sqlite] the same {len(body)} statements on bare sqlite3", floor))
    return 0


def _ledger_share(args: argparse.Namespace, charge_batches: Callable[[int], None]) -> None:
    from backend.services.ledger import postings

    posting = postings.captured
    with_ledger: list[float] = []
    without: list[float] = []
    batches = iter(range(10**6, 10**7))  # batch numbers after the main run's: fresh keys
    for _ in range(args.repeats):  # alternately, so both meet the same machine
        for costs, replacement in ((with_ledger, posting), (without, lambda *a, **k: None)):
            postings.captured = replacement  # type: ignore[assignment]
            number = next(batches)
            costs += _timed_batches(1, args.batch, lambda _n, b=number: charge_batches(b))
    postings.captured = posting  # type: ignore[assignment]
    print(_figures(f"[{args.database}] with the ledger", with_ledger))
    print(_figures(f"[{args.database}] without the ledger", without))
    ratio = min(with_ledger) / min(without)
    print(
        f"[{args.database}] ledger share: fastest batch {ratio:.2f}x, median "
        f"{statistics.median(with_ledger) / statistics.median(without):.2f}x"
    )


if __name__ == "__main__":
    raise SystemExit(main())
