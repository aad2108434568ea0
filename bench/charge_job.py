"""The cost of a charge's unit of work alone, as the SQLite group-commit writer runs it.

    .venv/bin/python bench/charge_job.py [--batch 32] [--repeats 25] [--database sqlite]

No HTTP, no event loop, no other thread: batches of `--batch` charges (each through the API's
own unit of work: Idempotency-Key claim, service call, stored answer) run in one transaction,
one savepoint each, as backend.group_commit does. Prints the CPU time per charge of the
fastest, first-quartile and median batch: the fastest is the cost with the least interference
from the machine's other work. Set against bench/payments_api.py's CPU per charge, the
difference is what serving costs beside the work: HTTP, the event loop and the GIL.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _harness import database
from profile_charge import _merchant


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    with database(args.database) as url:
        key = _merchant(url)
        from backend.api import deps
        from backend.api.routes import payments as routes
        from backend.db import session_scope
        from backend.group_commit import _Job, _run_job
        from backend.services import api_keys, payments

        who = deps.Caller(api_keys.authenticate_cached(key), "127.0.0.1")

        def job(n: int) -> _Job[object]:
            key = f"job-{n}"
            data = payments.ChargeInput(  # what the API makes of bench/payments_api.py's body
                payment_method=payments.PaymentMethodInput("card", "pm_card_visa"),
                amount=1000 + n % 5000,
                currency="USD",
                ip_address=who.actor.ip_address,
                idempotency_key=key,
            )

            def work(db: object) -> object:
                outcome = payments.charge(db, who.scope, data, actor=who.actor)  # type: ignore[arg-type]
                return routes._outcome_result(outcome, 201)

            unit = deps._Unit("POST", "/api/payments/charge", who, key, "0" * 64, work)
            return _Job(unit.answer, unit.refused)

        costs: list[float] = []
        made = 0
        for _ in range(args.repeats):
            batch = [job(made + k) for k in range(args.batch)]
            made += args.batch
            started = time.process_time()
            with session_scope() as db:
                for one in batch:
                    _value, error = _run_job(db, one)
                    if error is not None:
                        raise error
            costs.append((time.process_time() - started) / args.batch * 1e6)
        costs.sort()
        print(
            f"[{args.database}] charge unit of work, {args.batch} per transaction: "
            f"fastest {costs[0]:.0f} us, first quartile {costs[len(costs) // 4]:.0f} us, "
            f"median {statistics.median(costs):.0f} us of CPU per charge"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
