"""The portal's list, search, filter and dashboard queries over a million payments.

    .venv/bin/python bench/dashboard.py [--rows 1000000] [--databases sqlite,postgresql]

For each database: a fresh migrated database, a merchant with --rows payments over a year
(statuses, currencies, brands, e-mails and last fours like a real shop's) and, as the baseline
in the same run, a second merchant with 10,000 payments. Each query runs on both merchants and
is reported as its median time and the ratio big/small: keyset pages and index-walking
searches stay near 1x however many rows there are (an OFFSET page or a sort of every match
would grow with the rows); the dashboard's figures read the running totals (per currency and
UTC quarter hour, hour and day: backend/services/payments/totals.py), summed from the
payments after loading as the demo seed does, so they grow with the cells of the range, not
with its payments. The dashboard's rows are also timed for a merchant on Asia/Kathmandu
(UTC+5:45), whose local days need hour and quarter-hour cells. A primary-key lookup is
printed as the floor.
PostgreSQL uses TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _harness import database
from sqlalchemy import insert, text
from sqlmodel import Session

from backend.core.db import make_engine
from backend.core.ids import new_id
from backend.models import Merchant, Payment
from backend.services.payments import totals
from backend.services.reporting import dashboard, payment_list, periods

BASELINE_ROWS = 10_000
STATUSES = ["succeeded"] * 70 + ["failed"] * 12 + ["refunded"] * 6 + ["authorized"] * 5
STATUSES += ["partially_refunded"] * 5 + ["disputed"] * 2
CURRENCIES = ["USD"] * 70 + ["EUR"] * 15 + ["GBP"] * 10 + ["JPY"] * 5
BRANDS = [("visa", "4242"), ("mastercard", "4444"), ("amex", "8431"), ("visa", "1881")]
NOW = datetime.now(UTC)


def fill(engine, merchant_id: str, rows: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    batch: list[dict] = []
    with engine.begin() as conn:
        for i in range(rows):
            status = rng.choice(STATUSES)
            currency = rng.choice(CURRENCIES)
            amount = rng.randint(500, 50_000)
            captured = amount if status not in ("failed", "authorized") else 0
            brand, last4 = rng.choice(BRANDS)
            if rng.random() < 0.05:
                last4 = f"{rng.randint(0, 9999):04d}"
            at = NOW - timedelta(seconds=rng.uniform(0, 365 * 86400))
            batch.append(
                {
                    "id": f"pay_{i:012d}{seed}",
                    "merchant_id": merchant_id,
                    "livemode": False,
                    "status": status,
                    "capture_method": "automatic",
                    "currency": currency,
                    "amount": amount,
                    "amount_captured": captured,
                    "amount_refunded": captured if status == "refunded" else 0,
                    "platform_fee": captured * 3 // 100,
                    "gateway_fee": captured * 29 // 1000,
                    "net_amount": captured - captured * 59 // 1000,
                    "gateway": "sandbox",
                    "payment_method_type": "card",
                    "card_brand": brand,
                    "card_last4": last4,
                    "customer_email": f"c{rng.randint(0, rows // 20)}@example.com",
                    "risk_reasons": [],
                    "metadata": {},
                    "created_at": at,
                    "updated_at": at,
                }
            )
            if len(batch) == 20_000:
                conn.execute(insert(Payment.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(Payment.__table__), batch)


def timed(fn: Callable[[], object], repeat: int = 7) -> float:
    fn()  # warm the cache and the plan
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def queries(db: Session, merchant_id: str) -> dict[str, Callable[[], object]]:
    scope = {"merchant_id": merchant_id, "livemode": False}
    last_month = periods.period_for("30d", "UTC")
    quarter = periods.period_for("90d", "UTC")
    month_np = periods.period_for("30d", "Asia/Kathmandu")
    quarter_np = periods.period_for("90d", "Asia/Kathmandu")
    first = payment_list.search_payments(db, **scope)
    cursor = first.next_cursor
    deep = None
    for _ in range(40):  # the cursor of page 40
        deep = payment_list.search_payments(db, **scope, cursor=deep).next_cursor

    def search(**filters: object) -> Callable[[], object]:
        f = payment_list.PaymentFilters(**filters)  # type: ignore[arg-type]
        return lambda: payment_list.search_payments(db, **scope, filters=f)

    return {
        "list: first page": search(),
        "list: next page (keyset)": lambda: payment_list.search_payments(
            db, **scope, cursor=cursor
        ),
        "list: page 41 (keyset)": lambda: payment_list.search_payments(db, **scope, cursor=deep),
        "filter: status refunded": search(statuses=("refunded",)),
        "filter: currency JPY + status": search(currency="JPY", statuses=("succeeded",)),
        "filter: last 7 days": search(created_from=NOW - timedelta(days=7)),
        "search: e-mail": search(query="c7@example.com"),
        "search: last4 4242": search(query="4242"),
        "search: amount 123.45": search(query="123.45"),
        "search: payment id": search(query="pay_000000000042"),
        "dashboard: KPIs 30 days": lambda: dashboard.kpis(
            db, **scope, currency="USD", period=last_month
        ),
        "dashboard: volume by day 90 days": lambda: dashboard.volume_by_day(
            db, **scope, currency="USD", period=quarter
        ),
        "dashboard: by method 30 days": lambda: dashboard.volume_by_method(
            db, **scope, currency="USD", period=last_month
        ),
        "dashboard: by currency 30 days": lambda: dashboard.volume_by_currency(
            db, **scope, period=last_month
        ),
        "dashboard: currencies used": lambda: dashboard.currencies_used(db, **scope),
        "dashboard: KPIs 30 days (Kathmandu)": lambda: dashboard.kpis(
            db, **scope, currency="USD", period=month_np
        ),
        "dashboard: by day 90 days (Kathmandu)": lambda: dashboard.volume_by_day(
            db, **scope, currency="USD", period=quarter_np
        ),
        "dashboard: by method 30 days (Kathmandu)": lambda: dashboard.volume_by_method(
            db, **scope, currency="USD", period=month_np
        ),
    }


def run(kind: str, rows: int) -> None:
    with database(kind) as url:
        engine = make_engine(url)
        big, small = new_id("mer"), new_id("mer")
        with Session(engine) as db:
            for mid in (big, small):
                db.add(Merchant(id=mid, name="Bench", support_email="bench@shop.test"))
            db.commit()
        started = time.perf_counter()
        fill(engine, big, rows, 1)
        fill(engine, small, BASELINE_ROWS, 2)
        loaded = time.perf_counter()
        with engine.begin() as conn:  # rows written directly: their totals summed from them
            for mid in (big, small):
                totals.rebuild(conn, mid)
        rebuilt = time.perf_counter() - loaded
        # VACUUM runs outside a transaction; it sets the visibility map that index-only scans
        # of the dashboard's covering index need.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE" if kind == "sqlite" else "VACUUM ANALYZE"))
        print(
            f"\n{kind}: {rows:,} + {BASELINE_ROWS:,} payments loaded in "
            f"{time.perf_counter() - started:.0f} s (their totals rebuilt in {rebuilt:.0f} s)"
        )
        with Session(engine) as db:
            floor = timed(lambda: db.get(Payment, f"pay_{42:012d}1", populate_existing=True))
            print(f"  floor: primary-key lookup {floor * 1000:.2f} ms")
            print(f"  {'query':41} {'10k rows':>10} {f'{rows // 1000}k rows':>10} {'ratio':>7}")
            small_q, big_q = queries(db, small), queries(db, big)
            for name in big_q:
                t_small, t_big = timed(small_q[name]), timed(big_q[name])
                print(
                    f"  {name:41} {t_small * 1000:8.2f}ms {t_big * 1000:8.2f}ms "
                    f"{t_big / t_small:6.1f}x"
                )
            if kind != "sqlite":
                explain(db, big)
        engine.dispose()


def explain(db: Session, merchant_id: str) -> None:
    """PostgreSQL's plans for the first page and a last-four search."""
    from sqlalchemy.dialects import postgresql

    statements = {
        "first page": payment_list.filtered_query(merchant_id, False, payment_list.PaymentFilters())
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(26),
        "last4 search": payment_list.filtered_query(
            merchant_id, False, payment_list.PaymentFilters()
        )
        .where(Payment.card_last4 == "4242")
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(26),
    }
    for name, statement in statements.items():
        sql = statement.compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
        plan = db.exec(text(f"EXPLAIN ANALYZE {sql}")).all()
        print(f"\n  EXPLAIN {name}:\n    " + "\n    ".join(r[0] for r in plan))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"portal queries benchmark, {os.cpu_count()} cores")
    for kind in args.databases.split(","):
        run(kind.strip(), args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
