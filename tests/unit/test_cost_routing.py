"""Cost routing's choice (routing.order_routes) and the circuit breaker's states (circuit.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from backend.gateways.base import Gateway
from backend.services.payments import circuit
from backend.services.payments.fees import PAYPAL_DEFAULT, STRIPE_DEFAULT, FeeSchedule
from backend.services.payments.routing import Route, order_routes, route_cost

NO_GATEWAY = cast(Gateway, object())


def route(label: str, percent_pips: int, fixed: dict[str, int] | None = None) -> Route:
    fees = FeeSchedule(percent_pips, fixed or {})
    return Route("stripe", NO_GATEWAY, fees, f"gwc_{label}", label)


def test_the_cheapest_goes_first_and_says_why_in_money():
    stripe = Route("stripe", NO_GATEWAY, STRIPE_DEFAULT, "gwc_s", "Stripe")
    paypal = Route("paypal", NO_GATEWAY, PAYPAL_DEFAULT, "gwc_p", "PayPal")
    ordered = order_routes([(paypal, False), (stripe, False)], 10_000, "USD")
    assert [r.label for r in ordered] == ["Stripe", "PayPal"]
    assert (
        ordered[0].reason == "cheapest: Stripe 2.9% + $0.30 = $3.20 vs PayPal 3.49% + $0.49 = $3.98"
    )
    assert ordered[1].reason == "next cheapest: PayPal 3.49% + $0.49 = $3.98"


def test_the_choice_depends_on_the_amount():
    flat = route("flat", 0, {"USD": 100})  # $1.00 whatever the amount
    percent = route("percent", 30_000)  # 3%
    assert order_routes([(flat, False), (percent, False)], 1_000, "USD")[0].label == "percent"
    assert order_routes([(flat, False), (percent, False)], 10_000, "USD")[0].label == "flat"


def test_a_fixed_fee_in_another_currency_does_not_apply():
    usd_fixed = route("usd", 29_000, {"USD": 30})
    dearer = route("dearer", 29_500)
    ordered = order_routes([(dearer, False), (usd_fixed, False)], 10_000, "EUR")
    assert ordered[0].label == "usd"  # 2.9% of 100.00 EUR, no 0.30 USD
    assert ordered[0].reason is not None and "2.9% = €2.90" in ordered[0].reason


def test_rounding_is_half_up_on_integers():
    # 2.9% of 1,050 is 30.45 -> 30; of 1,051 is 30.479 -> 30; 3.5% of 1,000 is exactly 35.
    assert route_cost(route("a", 29_000), 1_050, "USD") == 30
    assert route_cost(route("a", 25_000), 1_002, "USD") == 25  # 25.05 -> 25
    assert route_cost(route("a", 25_000), 1_010, "USD") == 25  # 25.25 -> 25
    assert route_cost(route("a", 25_000), 1_018, "USD") == 25  # 25.45 -> 25
    assert route_cost(route("a", 25_000), 1_020, "USD") == 26  # 25.5 -> 26 (half up)


def test_a_tie_keeps_the_merchants_order_and_says_so():
    first, second = route("first", 29_000), route("second", 29_000)
    ordered = order_routes([(first, False), (second, False)], 10_000, "USD")
    assert [r.label for r in ordered] == ["first", "second"]
    assert ordered[0].reason is not None and "tied with second" in ordered[0].reason


def test_pinned_processors_come_first_in_the_merchants_order_whatever_they_cost():
    dear, cheap, pinned = route("dear", 50_000), route("cheap", 1_000), route("pinned", 90_000)
    ordered = order_routes([(dear, False), (pinned, True), (cheap, False)], 10_000, "USD")
    assert [r.label for r in ordered] == ["pinned", "cheap", "dear"]
    assert ordered[0].reason == "pinned first in your order"
    assert ordered[1].reason is not None
    assert ordered[1].reason.startswith("after the pinned ones, cheapest:")


def test_without_an_amount_the_merchants_order_stands():
    dear, cheap = route("dear", 50_000), route("cheap", 1_000)
    ordered = order_routes([(dear, False), (cheap, False)], None, None)
    assert [r.label for r in ordered] == ["dear", "cheap"]
    assert [r.reason for r in ordered] == ["first in your order", "#2 in your order"]


def test_a_lone_processor_says_it_is_the_only_one():
    [only] = order_routes([(route("only", 29_000, {"USD": 30}), False)], 10_000, "USD")
    assert only.reason == "the only processor whose rules take it: only 2.9% + $0.30 = $3.20"


prices = st.tuples(st.integers(0, 100_000), st.integers(0, 1_000), st.booleans())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(prices, min_size=1, max_size=8),
    st.integers(0, 10**12),
    st.sampled_from(["USD", "EUR", "JPY", "KWD"]),
)
def test_the_order_is_pinned_then_by_cost_then_by_position(
    specs: list[tuple[int, int, bool]], amount: int, currency: str
):
    candidates = [
        (route(f"r{i}", pips, {currency: fixed}), pinned)
        for i, (pips, fixed, pinned) in enumerate(specs)
    ]
    ordered = order_routes(candidates, amount, currency)
    # A permutation of the candidates, each with a reason, the same every time.
    assert sorted(r.label for r in ordered) == sorted(r.label for r, _ in candidates)
    assert all(r.reason for r in ordered)
    assert order_routes(candidates, amount, currency) == ordered
    position = {r.label: i for i, (r, _) in enumerate(candidates)}
    pinned = {r.label for r, p in candidates if p}
    keys = [
        (0, position[r.label], 0)
        if r.label in pinned
        else (1, route_cost(r, amount, currency), position[r.label])
        for r in ordered
    ]
    if len(candidates) > 1:
        assert keys == sorted(keys)
    # The first unpinned route is never dearer than any other unpinned one.
    free = [r for r in ordered if r.label not in pinned]
    if free:
        costs = [route_cost(r, amount, currency) for r in free]
        assert costs[0] == min(costs)
        assert all(isinstance(c, int) and c >= 0 for c in costs)


# ---------------------------------------------------------------------------------------------
# The circuit breaker


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Where the circuits are shared: the database, or Redis when REDIS_URL is set."""
    from backend.core.config import get_settings

    if request.param == "redis":
        monkeypatch.setenv("REDIS_URL", request.getfixturevalue("redis_url"))
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield request.param
    get_settings.cache_clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, store: str) -> Iterator[dict[str, Any]]:
    from backend.models import utcnow

    now = {"t": utcnow()}
    monkeypatch.setattr(circuit, "utcnow", lambda: now["t"])
    circuit._CIRCUITS.clear()
    yield now
    circuit._CIRCUITS.clear()


def _key(name: str) -> str:
    return f"gwc_{name}_{uuid.uuid4().hex[:8]}"  # Redis is shared between test runs


def test_failures_open_the_circuit_then_one_trial_decides(db: Session, clock: dict[str, Any]):
    key = _key("breaker")
    for _ in range(circuit.FAILURES_TO_OPEN - 1):
        circuit.failed(db, key, False, "gateway_unreachable: refused")
        assert circuit.admit(db, key, False, "Stripe").allowed
    circuit.failed(db, key, False, "gateway_unreachable: refused")
    refused = circuit.admit(db, key, False, "Stripe")
    assert not refused.allowed
    assert refused.note is not None and refused.note.startswith("Stripe: Skipped since")
    assert "gateway_unreachable: refused" in refused.note

    clock["t"] += circuit.COOL_DOWN + timedelta(seconds=1)
    circuit._CIRCUITS.clear()  # another worker, reading the shared row
    trial = circuit.admit(db, key, False, "Stripe")
    assert trial.allowed and trial.trial
    assert not circuit.admit(db, key, False, "Stripe").allowed  # one trial at a time
    assert circuit.read_fresh(db, [key], False)[key].state == circuit.HALF_OPEN

    circuit.answered(db, key, False)
    assert circuit.admit(db, key, False, "Stripe").allowed
    circuit._CIRCUITS.clear()
    closed = circuit.read_fresh(db, [key], False)[key]
    assert (closed.state, closed.failures) == (circuit.CLOSED, 0)
    assert closed.last_error == "gateway_unreachable: refused"  # kept for the Processors page


def test_a_failed_trial_opens_it_again(db: Session, clock: dict[str, Any]):
    key = _key("relapse")
    for _ in range(circuit.FAILURES_TO_OPEN):
        circuit.failed(db, key, True, "gateway_unreachable")
    clock["t"] += circuit.COOL_DOWN
    assert circuit.admit(db, key, True, "Stripe").trial
    circuit.failed(db, key, True, "gateway_unreachable")
    assert not circuit.admit(db, key, True, "Stripe").allowed
    assert not circuit.admit(db, key, False, "Stripe").note  # the other mode is its own circuit


def test_failures_spread_beyond_the_window_never_open_it(db: Session, clock: dict[str, Any]):
    key = _key("sporadic")
    for _ in range(circuit.FAILURES_TO_OPEN * 2):
        circuit.failed(db, key, False, "gateway_unreachable")
        clock["t"] += circuit.WINDOW / (circuit.FAILURES_TO_OPEN - 1) + timedelta(seconds=1)
    assert circuit.admit(db, key, False, "Stripe").allowed


def test_the_circuit_in_words():
    assert circuit.describe(circuit.Circuit()) == "Taking payments."
    from backend.models import utcnow

    now = utcnow()
    opened = circuit.Circuit(circuit.OPEN, 5, now, now, None, "gateway_unreachable: refused", now)
    words = circuit.describe(opened, now)
    assert words.startswith("Skipped since ") and "one trial payment in 30 s" in words
    assert words.endswith("Last error: gateway_unreachable: refused.")


def test_an_unreachable_redis_never_stops_a_payment(db: Session, monkeypatch: pytest.MonkeyPatch):
    from backend.core.config import get_settings
    from backend.services.payments.routing import Health

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    get_settings.cache_clear()
    circuit._CIRCUITS.clear()
    try:
        health = Health(db, False)
        dead = route("anywhere", 29_000)
        assert health.admit(dead).allowed
        health.failed(dead, "gateway_unreachable")  # logged, not raised
        health.answered(dead)
    finally:
        get_settings.cache_clear()
        circuit._CIRCUITS.clear()
