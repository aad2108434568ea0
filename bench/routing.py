"""What cost routing and the circuit breaker add to a charge, as ratios to a baseline.

    .venv/bin/python bench/routing.py [--batch 20] [--repeats 20] [--parts]
                                      [--database-url postgresql://...] [--redis-url redis://...]

Four merchants, each charging the sandbox's test card (`pm_card_visa`) through
`charges.charge`, one transaction per charge, each with its own idempotency key:
- baseline: no processors configured (the platform's default route, the sandbox);
- cost-routed: three enabled sandbox processors at different prices, so routing orders them
  by cost for each payment (the cheapest takes it);
- pinned + cost: the dearest of the three pinned, the other two cost-routed;
- skipped: as cost-routed, but the cheapest one's circuit is open (opened through
  `circuit.failed` FAILURES_TO_OPEN times before each of its batches, so the production
  cool-down never runs out mid-batch), so every payment is routed past it.

Batches of `--batch` charges of each variant alternate, `--repeats` times, the variants'
order rotating each round, so all meet the same machine (a first round, not counted, warms
up). Prints the CPU time (this process) per charge of the fastest and the median batch, the
wall time of the fastest, each with the variant's ratio to the baseline; then checks that
every payment went where routing should have sent it.

--parts then times, per variant, the three places where the variants' charges differ, each
called alone 2,000 times: choosing the routes (routing.candidate_routes: rules, cost order and
each route's reason in words), the circuit checks a charge makes (routing.first_closed and
routing.Health's admit and answered, as with_failover calls them) and the ledger's lookup of
who holds the money (ledger.postings.holder_of, a read of the payment's configuration).

SQLite (a temporary file) by default; with --database-url, a scratch database created on that
PostgreSQL server and dropped afterwards. With --redis-url the circuits live in that Redis
(use a database other than 0); their keys are deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

from _harness import database

VARIANTS = ("baseline", "cost-routed", "pinned + cost", "skipped")
# Sandbox processors, in the merchant's order: (name, percent in pips, fixed fee in cents).
# "cheap" is the cheapest for every amount charged here (10.00 to 59.99 USD).
PRICES = (("dear", 29_000, 30), ("middle", 26_000, 25), ("cheap", 22_000, 20))


@dataclass
class Variant:
    name: str
    merchant_id: str
    configs: dict[str, str] = field(default_factory=dict)  # price name -> configuration id
    cpu: list[float] = field(default_factory=list)  # us per charge, one per batch
    wall: list[float] = field(default_factory=list)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--redis-url", help="keep circuits in this Redis (not database 0)")
    parser.add_argument("--parts", action="store_true", help="time the parts alone (see above)")
    args = parser.parse_args()
    kind = "sqlite"
    if args.database_url:
        os.environ["TEST_DATABASE_URL"] = args.database_url  # _harness.database's server
        kind = "postgresql"
    if args.redis_url and urlparse(args.redis_url).path.strip("/") in ("", "0"):
        raise SystemExit("use a Redis database other than 0, e.g. redis://127.0.0.1:6379/1")
    with database(kind) as url:
        variants = _setup(url, args.redis_url)
        try:
            _run(variants, args.batch, args.repeats)
            _report(variants, kind, bool(args.redis_url), args.batch, args.repeats)
            _check(variants, args.batch * (args.repeats + 1))
            if args.parts:
                _parts(variants)
        finally:
            if args.redis_url:
                _forget_circuits(variants, args.redis_url)
    return 0


def _setup(url: str, redis_url: str | None) -> dict[str, Variant]:
    os.environ["DATABASE_URL"] = url
    os.environ["STRIPE_SECRET_KEY"] = ""  # the default route is the sandbox, offline
    os.environ["REDIS_URL"] = redis_url or ""
    from backend.core.config import get_settings
    from backend.core.db import get_engine, session_scope
    from backend.services.context import Scope
    from backend.services.identity import accounts
    from backend.services.payments import gateway_configs

    get_settings.cache_clear()
    get_engine.cache_clear()
    variants = {}
    for index, name in enumerate(VARIANTS):
        with session_scope() as db:
            created = accounts.create_merchant(
                db, email=f"bench{index}@shop.test", password="a long passphrase 1", name=name
            )
            # Risk never holds a payment for review: every one reaches routing.
            created.merchant.risk_review_score = created.merchant.risk_block_score = 101
            db.add(created.merchant)
            variant = Variant(name, created.merchant.id)
            if name != "baseline":
                scope = Scope(variant.merchant_id, False)
                for price, pips, fixed in PRICES:
                    rules = gateway_configs.Rules(
                        fee_percent_pips=pips, fee_fixed=fixed, fee_fixed_currency="USD"
                    )
                    config = gateway_configs.add(db, scope, gateway="sandbox", rules=rules)
                    variant.configs[price] = config.id
                if name == "pinned + cost":
                    gateway_configs.set_pinned(db, scope, variant.configs["dear"], True)
        variants[name] = variant
    return variants


def _open_cheapest(variant: Variant) -> None:
    """Open the cheapest processor's circuit afresh (closed first: an open one keeps its
    opening time), through the breaker's own calls, outside the timed batches."""
    from backend.core.db import session_scope
    from backend.services.payments import circuit

    key = variant.configs["cheap"]
    with session_scope() as db:
        circuit.answered(db, key, False)
        for _ in range(circuit.FAILURES_TO_OPEN):
            found = circuit.failed(db, key, False, "bench: connection refused")
    assert found.state == circuit.OPEN, found


def _charge_batch(variant: Variant, first: int, size: int) -> tuple[float, float]:
    """CPU and wall microseconds per charge for `size` charges, one transaction each."""
    from backend.core.db import session_scope
    from backend.services.context import Scope
    from backend.services.payments import charges

    scope = Scope(variant.merchant_id, False)
    inputs = [
        charges.ChargeInput(
            payment_method=charges.PaymentMethodInput("card", "pm_card_visa"),
            amount=1000 + n * 37 % 5000,
            currency="USD",
            idempotency_key=f"{variant.name}-{n}",
        )
        for n in range(first, first + size)
    ]
    cpu, wall = time.process_time(), time.perf_counter()
    for data in inputs:
        with session_scope() as db:
            outcome = charges.charge(db, scope, data)
        assert outcome.ok, outcome.error_message
    return (time.process_time() - cpu) / size * 1e6, (time.perf_counter() - wall) / size * 1e6


def _run(variants: dict[str, Variant], batch: int, repeats: int) -> None:
    order = list(variants.values())
    for number in range(repeats + 1):  # round 0 warms up caches and first-use costs
        for variant in order:
            if variant.name == "skipped":
                _open_cheapest(variant)
            cpu, wall = _charge_batch(variant, number * batch, batch)
            if number:
                variant.cpu.append(cpu)
                variant.wall.append(wall)
        order = order[1:] + order[:1]  # no variant always runs first or after another


def _report(variants: dict[str, Variant], kind: str, redis: bool, batch: int, repeats: int) -> None:
    base = variants["baseline"]
    where = f"{kind}, circuits in {'Redis' if redis else 'the database'}"
    print(f"[{where}] {repeats} batches of {batch} charges per variant, alternating")
    for variant in variants.values():
        line = (
            f"  {variant.name:<14} CPU fastest {min(variant.cpu):7,.0f} us "
            f"({min(variant.cpu) / min(base.cpu):.2f}x), median "
            f"{statistics.median(variant.cpu):7,.0f} us "
            f"({statistics.median(variant.cpu) / statistics.median(base.cpu):.2f}x); "
            f"wall fastest {min(variant.wall):7,.0f} us ({min(variant.wall) / min(base.wall):.2f}x)"
        )
        print(line)


def _check(variants: dict[str, Variant], charges_each: int) -> None:
    """Every payment succeeded at the processor routing should have chosen."""
    from sqlalchemy import func
    from sqlmodel import select

    from backend.core.db import session_scope
    from backend.models import Payment
    from backend.models.enums import PaymentStatus

    expected: dict[str, Callable[[Variant], str | None]] = {
        "baseline": lambda v: None,
        "cost-routed": lambda v: v.configs["cheap"],
        "pinned + cost": lambda v: v.configs["dear"],
        "skipped": lambda v: v.configs["middle"],
    }
    with session_scope(readonly=True) as db:
        for variant in variants.values():
            found = db.exec(
                select(Payment.gateway_config_id, Payment.status, func.count())
                .where(Payment.merchant_id == variant.merchant_id)
                .group_by(Payment.gateway_config_id, Payment.status)
            ).all()
            want = expected[variant.name](variant)
            assert [tuple(row) for row in found] == [
                (want, PaymentStatus.SUCCEEDED, charges_each)
            ], (variant.name, found)
    print(f"  routing checked: each variant's {charges_each} payments went where expected")


def _parts(variants: dict[str, Variant], calls: int = 2_000) -> None:
    print(f"  the parts alone, CPU per call ({calls:,} calls each):")
    for variant in variants.values():
        if variant.name == "skipped":
            _open_cheapest(variant)
        print(f"  {variant.name:<14} {_parts_of(variant, calls)}")


def _parts_of(variant: Variant, calls: int) -> str:
    from sqlmodel import select

    from backend.core.db import session_scope
    from backend.models import Payment
    from backend.services.ledger import postings
    from backend.services.payments import routing

    def per_call(work: Callable[[int], object]) -> float:
        started = time.process_time()
        for n in range(calls):
            work(n)
        return (time.process_time() - started) / calls * 1e6

    with session_scope(readonly=True) as db:
        payment = db.exec(select(Payment).where(Payment.merchant_id == variant.merchant_id)).first()
        assert payment is not None
        health = routing.Health(db, False)

        def routes(n: int) -> list[routing.Route]:
            return routing.candidate_routes(
                db,
                merchant_id=variant.merchant_id,
                livemode=False,
                amount=1000 + n * 37 % 5000,
                currency="USD",
                method="card",
            )

        chosen = routes(0)

        def checks(_n: int) -> None:  # as charges and with_failover make them
            routing.first_closed(db, chosen, False)
            for route in chosen:
                if health.admit(route).allowed:
                    health.answered(route)
                    return

        return (
            f"choosing the routes {per_call(routes):5.0f} us, "
            f"circuit checks {per_call(checks):4.0f} us, "
            f"ledger holder {per_call(lambda _n: postings.holder_of(db, payment)):4.0f} us"
        )


def _forget_circuits(variants: dict[str, Variant], redis_url: str) -> None:
    import redis

    from backend.services.payments import circuit

    client = redis.Redis.from_url(redis_url)
    keys = [
        circuit.redis_key(circuit.circuit_id(config_id, False))
        for variant in variants.values()
        for config_id in variant.configs.values()
    ]
    client.delete(*keys)


if __name__ == "__main__":
    raise SystemExit(main())
