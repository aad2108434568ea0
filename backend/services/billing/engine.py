"""The billing engine's entry points. Subscriptions, invoices and dunning arrive with the
coordinator's work on issue 19 and plug in here; the catalogue, periods, proration and clocks
they build on are in this package already.

`run_clock` is what a test clock's advance calls (backend/services/billing/clock.py), inside
the advance's transaction, after the clock's frozen_time has moved forward: it runs every
subscription on this clock up to the clock's time, in time order (renewals, trial ends, retries,
cancellations at period end), reading "now" from the clock (`clock.now_for`). Until
subscriptions exist there is nothing on a clock to run, and it does nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from backend.models.billing import TestClock


def run_clock(db: Session, clock: TestClock, *, previous: datetime) -> None:
    """Run every subscription on `clock` through (previous, clock.frozen_time]: whatever fell
    due in that span happens, each at its own due time. Subscriptions arrive with the
    coordinator's work; until then no object lives on a clock and nothing is due."""
    del db, clock, previous  # nothing lives on a clock yet
