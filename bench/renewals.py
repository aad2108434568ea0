"""What the billing engine adds to a renewal's charge, and how a month of renewals scales.

    .venv/bin/python bench/renewals.py [--subscriptions 200] [--database sqlite|postgresql]

Two measurements in one run, on one fresh database:
- baseline: `--subscriptions` off-session charges of a saved card through
  `charges.charge_saved_method` alone (the charge path: idempotency, risk, routing, booking,
  ledger), one transaction each;
- engine: as many subscriptions on one test clock, then the clock advanced by a month, so the
  engine renews each one (draft, number, lines, charge through the same path, events, receipt,
  next moment) in the advance's transaction;
and then a second month, to see that a month's cost does not grow with the history behind it.
Prints CPU time per renewal and per baseline charge, and their ratio.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from _harness import database
from profile_charge import merchant_key

START = int(datetime(2025, 1, 15, 9, tzinfo=UTC).timestamp())
MONTH = 31 * 86_400


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    n = args.subscriptions
    with database(args.database) as url:
        key = merchant_key(url)
        from backend.core.db import session_scope
        from backend.models.enums import BillingInterval
        from backend.services.billing import catalogue, clock, subscriptions
        from backend.services.billing.periods import Recurrence
        from backend.services.context import Scope
        from backend.services.customers import payment_methods, records
        from backend.services.identity import api_keys
        from backend.services.payments import charges

        with session_scope() as db:
            scope = Scope(api_keys.authenticate(db, key).merchant_id, False)
            product = catalogue.create_product(db, scope, name="Bench plan")
            price = catalogue.create_price(
                db,
                scope,
                product_id=product.id,
                unit_amount=1_500,
                currency="USD",
                recurring=Recurrence(BillingInterval.MONTH),
            )
            made_clock = clock.create_clock(db, scope, frozen_time=START)

        def customer(on_clock: bool) -> str:
            with session_scope() as db:
                made = records.create_customer(
                    db,
                    scope,
                    email="bench@example.com",
                    test_clock=made_clock.id if on_clock else None,
                )
                payment_methods.attach(db, scope, made.id, type="card", token="pm_card_visa")
                return made.id

        plain = [customer(False) for _ in range(n)]
        started = time.process_time()
        for index, customer_id in enumerate(plain):
            with session_scope() as db:
                outcome = charges.charge_saved_method(
                    db, scope, customer_id, None, 1_500, "USD", f"bench-{index}"
                )
                assert outcome.ok
        baseline = (time.process_time() - started) / n * 1e6

        for _ in range(n):
            with session_scope() as db:
                subscriptions.create_subscription(
                    db, scope, customer_id=customer(True), items=[{"priceId": price.id}]
                )
        months = []
        for month in (1, 2):
            started = time.process_time()
            with session_scope() as db:
                clock.advance(db, scope, made_clock.id, START + month * MONTH)
            months.append((time.process_time() - started) / n * 1e6)

    print(f"{args.database}, {n} subscriptions")
    print(f"baseline: {baseline:,.0f} us of CPU per off-session charge of a saved card")
    for month, cost in enumerate(months, 1):
        print(f"engine, month {month}: {cost:,.0f} us of CPU per renewal ({cost / baseline:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
