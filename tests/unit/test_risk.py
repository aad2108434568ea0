"""Risk scoring before any gateway call, and the merchant's blocklist."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from backend.core.errors import NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.gateways import cards
from backend.gateways.base import CardDetails, RiskTest
from backend.models import AuditLog, BlocklistEntry, Merchant, Payment, utcnow
from backend.models.enums import PaymentStatus, RiskDecision
from backend.services.payments import blocklist, risk, risk_rules
from backend.services.payments.risk import RiskInput, assess

NOW = utcnow()
CARD = CardDetails(
    brand="visa",
    last4="4242",
    exp_month=12,
    exp_year=NOW.year + 3,
    fingerprint=cards.fingerprint("4242424242424242"),
    country="US",
)
OTHER_CARD = CardDetails(
    brand="mastercard", last4="4444", fingerprint=cards.fingerprint("5555555555554444")
)
EMAIL = "buyer@example.test"
IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def _fresh_baseline_cache():
    risk.clear_baseline_cache()
    yield
    risk.clear_baseline_cache()


def _merchant(db: Session, email: str) -> Merchant:
    # A bare row: accounts.create_merchant would also hash an owner's password (slow, and
    # nothing here needs a user).
    row = Merchant(id=new_id("mer"), name=email.split("@")[1], support_email=email)
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def merchant(db: Session) -> Merchant:
    return _merchant(db, "owner@shop.test")


@pytest.fixture
def other(db: Session) -> Merchant:
    return _merchant(db, "owner@other.test")


def add_payments(
    db: Session,
    merchant: Merchant,
    count: int,
    *,
    minutes_ago: float = 5,
    livemode: bool = True,
    **fields,
) -> list[Payment]:
    rows = [
        Payment(
            id=new_id("pay"),
            merchant_id=merchant.id,
            livemode=livemode,
            amount=fields.get("amount", 1000),
            currency=fields.get("currency", "USD"),
            status=fields.get("status", PaymentStatus.FAILED),
            amount_captured=fields.get("amount_captured", 0),
            card_fingerprint=fields.get("card_fingerprint"),
            customer_email=fields.get("customer_email"),
            ip_address=fields.get("ip_address"),
            created_at=NOW - timedelta(minutes=minutes_ago),
        )
        for _ in range(count)
    ]
    db.add_all(rows)
    db.commit()
    return rows


def add_captured(db: Session, merchant: Merchant, count: int, amount: int, **fields):
    fields.setdefault("status", PaymentStatus.SUCCEEDED)
    return add_payments(db, merchant, count, amount=amount, amount_captured=amount, **fields)


def payment(merchant: Merchant, **overrides) -> RiskInput:
    values = {
        "merchant_id": merchant.id,
        "livemode": True,
        "amount": 1000,
        "currency": "USD",
        "customer_email": None,
        "ip_address": None,
        "billing_country": None,
        "card": None,
    }
    values.update(overrides)
    return RiskInput(**values)


def score(db: Session, data: RiskInput, review: int = 50, block: int = 80):
    return assess(db, data, review_score=review, block_score=block, now=NOW)


# -- nothing to see ------------------------------------------------------------------------


def test_an_ordinary_payment_is_allowed(db: Session, merchant: Merchant):
    data = payment(merchant, customer_email=EMAIL, ip_address=IP, card=CARD, billing_country="US")
    result = score(db, data)
    assert result == risk.RiskAssessment(0, RiskDecision.ALLOW, [])


def test_a_payment_with_nothing_known_is_allowed(db: Session, merchant: Merchant):
    assert score(db, payment(merchant)).decision is RiskDecision.ALLOW


# -- card velocity -------------------------------------------------------------------------


@pytest.mark.parametrize(("earlier", "points"), [(3, 0), (4, 25), (6, 25), (7, 50), (20, 50)])
def test_card_velocity_tiers(db: Session, merchant: Merchant, earlier: int, points: int):
    add_payments(db, merchant, earlier, card_fingerprint=CARD.fingerprint)
    result = score(db, payment(merchant, card=CARD))
    assert result.score == points
    assert result.reasons == ([f"velocity_card:{earlier}_in_1h"] if points else [])


def test_card_velocity_counts_declined_payments_too(db: Session, merchant: Merchant):
    add_payments(db, merchant, 4, card_fingerprint=CARD.fingerprint, status=PaymentStatus.FAILED)
    assert score(db, payment(merchant, card=CARD)).score == 25


def test_card_velocity_counts_only_the_last_hour(db: Session, merchant: Merchant):
    add_payments(db, merchant, 3, card_fingerprint=CARD.fingerprint, minutes_ago=59)
    add_payments(db, merchant, 10, card_fingerprint=CARD.fingerprint, minutes_ago=61)
    assert score(db, payment(merchant, card=CARD)).score == 0


def test_card_velocity_counts_only_this_card(db: Session, merchant: Merchant):
    add_payments(db, merchant, 10, card_fingerprint=OTHER_CARD.fingerprint)
    assert score(db, payment(merchant, card=CARD)).score == 0


def test_card_velocity_counts_every_merchant_in_live_mode(db, merchant, other):
    add_payments(db, other, 4, card_fingerprint=CARD.fingerprint)
    assert score(db, payment(merchant, card=CARD)).reasons == ["velocity_card:4_in_1h"]


VELOCITY_INPUTS = {"card": CARD, "customer_email": EMAIL, "ip_address": IP}
VELOCITY_FIELDS = {"card_fingerprint": CARD.fingerprint, "customer_email": EMAIL, "ip_address": IP}


def test_velocity_neither_scores_nor_counts_test_mode_payments(db, merchant, other):
    # A merchant testing with 4242 from one address and one e-mail, as often as tests need
    # (and another merchant doing the same): nothing is flagged.
    add_payments(db, merchant, 40, livemode=False, **VELOCITY_FIELDS)
    add_payments(db, other, 40, livemode=False, **VELOCITY_FIELDS)
    result = score(db, payment(merchant, livemode=False, **VELOCITY_INPUTS))
    assert result == risk.RiskAssessment(0, RiskDecision.ALLOW, [])
    # Nor do those 80 test payments count for a live one: that is scored on live payments.
    live = score(db, payment(merchant, livemode=True, **VELOCITY_INPUTS))
    assert live == risk.RiskAssessment(0, RiskDecision.ALLOW, [])


def test_live_payments_are_not_counted_in_test_mode(db, merchant):
    add_payments(db, merchant, 40, livemode=True, **VELOCITY_FIELDS)
    assert score(db, payment(merchant, livemode=False, **VELOCITY_INPUTS)).score == 0
    # The same payment in live mode: every velocity rule at its top tier.
    result = score(db, payment(merchant, livemode=True, **VELOCITY_INPUTS))
    assert result.reasons == [
        "velocity_card:40_in_1h",
        "velocity_email:40_in_1h",
        "velocity_ip:40_in_1h",
    ]
    assert (result.score, result.decision) == (100, RiskDecision.BLOCK)
    assert result.rule == "velocity_card:40_in_1h"  # the heaviest of the three


def test_the_assessed_payment_does_not_count_itself(db: Session, merchant: Merchant):
    rows = add_payments(db, merchant, 4, card_fingerprint=CARD.fingerprint)
    assert score(db, payment(merchant, card=CARD)).score == 25
    assert score(db, payment(merchant, card=CARD, payment_id=rows[0].id)).score == 0


def test_counts_stop_at_the_cap(db: Session, merchant: Merchant):
    add_payments(db, merchant, risk_rules.VELOCITY_COUNT_CAP + 5, ip_address=IP)
    assert score(db, payment(merchant, ip_address=IP)).reasons == [
        f"velocity_ip:{risk_rules.VELOCITY_COUNT_CAP}+_in_1h"
    ]


# -- e-mail velocity -----------------------------------------------------------------------


@pytest.mark.parametrize(("earlier", "points"), [(5, 0), (6, 20), (10, 20), (11, 40)])
def test_email_velocity_tiers(db: Session, merchant: Merchant, earlier: int, points: int):
    add_payments(db, merchant, earlier, customer_email=EMAIL)
    result = score(db, payment(merchant, customer_email="  Buyer@Example.TEST "))
    assert result.score == points
    assert result.reasons == ([f"velocity_email:{earlier}_in_1h"] if points else [])


def test_email_velocity_counts_only_this_merchant(db, merchant, other):
    add_payments(db, other, 20, customer_email=EMAIL)
    add_payments(db, other, 20, customer_email=EMAIL, livemode=False)
    assert score(db, payment(merchant, customer_email=EMAIL)).score == 0
    add_payments(db, merchant, 6, customer_email=EMAIL)
    assert score(db, payment(merchant, customer_email=EMAIL)).score == 20


def test_email_velocity_counts_only_the_last_hour(db, merchant):
    add_payments(db, merchant, 20, customer_email=EMAIL, minutes_ago=65)
    assert score(db, payment(merchant, customer_email=EMAIL)).score == 0


# -- IP velocity ---------------------------------------------------------------------------


@pytest.mark.parametrize(("earlier", "points"), [(10, 0), (11, 20), (30, 20), (31, 40)])
def test_ip_velocity_tiers(db: Session, merchant: Merchant, earlier: int, points: int):
    add_payments(db, merchant, earlier, ip_address=IP)
    result = score(db, payment(merchant, ip_address=IP))
    assert result.score == points
    assert result.reasons == ([f"velocity_ip:{earlier}_in_1h"] if points else [])


def test_ip_velocity_counts_every_merchant_in_live_mode(db, merchant, other):
    add_payments(db, other, 11, ip_address=IP)
    assert score(db, payment(merchant, ip_address=IP)).score == 20
    # ...but only the merchant's own in test mode (everyone tests from 127.0.0.1).
    add_payments(db, other, 40, ip_address="127.0.0.1", livemode=False)
    assert score(db, payment(merchant, ip_address="127.0.0.1", livemode=False)).score == 0


def test_ip_addresses_compare_in_canonical_form(db, merchant):
    add_payments(db, merchant, 11, ip_address=risk.normalise_ip("2001:DB8:0:0::1"))
    assert score(db, payment(merchant, ip_address="2001:db8::1")).score == 20
    add_payments(db, merchant, 11, ip_address="198.51.100.4")
    assert score(db, payment(merchant, ip_address="::ffff:198.51.100.4")).score == 20


# -- amount far above the usual ------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "points", "reason"),
    [
        (5000, 0, None),  # exactly 5x is not "more than 5x"
        (5001, 25, "amount_far_above_usual:5.0x"),
        (8333, 25, "amount_far_above_usual:8.3x"),
        (10000, 25, "amount_far_above_usual:10.0x"),
        (10001, 45, "amount_far_above_usual:10.0x"),
        (123456, 45, "amount_far_above_usual:123.4x"),
    ],
)
def test_amount_tiers(db: Session, merchant: Merchant, amount: int, points: int, reason):
    add_captured(db, merchant, 10, 1000)
    result = score(db, payment(merchant, amount=amount))
    assert result.score == points
    assert result.reasons == ([reason] if reason else [])


def test_amount_rule_needs_ten_captured_payments(db: Session, merchant: Merchant):
    add_captured(db, merchant, 9, 1000)
    add_payments(db, merchant, 20, amount=1000, status=PaymentStatus.FAILED)
    add_payments(db, merchant, 20, amount=1000, status=PaymentStatus.AUTHORIZED)
    assert score(db, payment(merchant, amount=100_000)).score == 0
    add_captured(db, merchant, 1, 1000, status=PaymentStatus.REFUNDED)
    assert score(db, payment(merchant, amount=100_000)).score == 45


def test_amount_rule_uses_the_mean_not_the_median(db: Session, merchant: Merchant):
    add_captured(db, merchant, 9, 1000)
    add_captured(db, merchant, 1, 91_000)  # mean 10_000
    assert score(db, payment(merchant, amount=50_000)).score == 0
    assert score(db, payment(merchant, amount=50_001)).score == 25


def test_amount_rule_counts_captured_amounts(db: Session, merchant: Merchant):
    # Authorized 10_000, captured 1_000: the usual amount is what was actually charged.
    add_payments(
        db, merchant, 10, amount=10_000, amount_captured=1000, status=PaymentStatus.SUCCEEDED
    )
    assert score(db, payment(merchant, amount=5001)).score == 25


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"currency": "EUR"},
        {"livemode": False},
        {"minutes_ago": 31 * 24 * 60},
    ],
)
def test_amount_rule_compares_same_currency_mode_and_30_days(db, merchant, elsewhere):
    add_captured(db, merchant, 10, 100_000, **elsewhere)  # a huge usual... elsewhere
    add_captured(db, merchant, 10, 1000)
    assert score(db, payment(merchant, amount=10_001)).score == 45


def test_other_merchants_payments_are_not_the_usual_amount(db, merchant, other):
    add_captured(db, other, 50, 100)
    assert score(db, payment(merchant, amount=100_000)).score == 0
    add_captured(db, merchant, 10, 100_000)
    add_captured(db, other, 50, 1)
    assert score(db, payment(merchant, amount=100_000)).score == 0


def test_amount_rule_is_integer_exact_for_huge_amounts(db, merchant):
    # Floats would lose the last unit here (2**53 < 10**17).
    usual = 10**16
    add_captured(db, merchant, 10, usual, currency="IDR")
    assert score(db, payment(merchant, amount=5 * usual, currency="IDR")).score == 0
    assert score(db, payment(merchant, amount=5 * usual + 1, currency="idr")).score == 25


def test_big_merchants_usual_amount_is_cached(db, merchant, monkeypatch):
    monkeypatch.setattr(risk, "BASELINE_CACHE_MIN_PAYMENTS", 10)
    add_captured(db, merchant, 10, 1000)
    assert score(db, payment(merchant, amount=6000)).score == 25
    add_captured(db, merchant, 10, 10_000)  # the mean moves to 5500...
    assert score(db, payment(merchant, amount=6000)).score == 25  # ...not seen for a while
    later = NOW + risk.BASELINE_CACHE_TTL
    fresh = assess(db, payment(merchant, amount=6000), review_score=50, block_score=80, now=later)
    assert fresh.score == 0


def test_small_merchants_usual_amount_is_never_cached(db, merchant):
    add_captured(db, merchant, 10, 1000)
    assert score(db, payment(merchant, amount=6000)).score == 25
    add_captured(db, merchant, 10, 10_000)
    assert score(db, payment(merchant, amount=6000)).score == 0


# -- country mismatch ----------------------------------------------------------------------


def test_country_mismatch(db: Session, merchant: Merchant):
    gb_card = CardDetails(brand="visa", last4="0000", country="GB")
    result = score(db, payment(merchant, card=gb_card, billing_country="us"))
    assert result.score == 15
    assert result.reasons == ["country_mismatch:card=GB,billing=US"]


@pytest.mark.parametrize(
    ("card_country", "billing"), [("US", "US"), ("us", "US"), (None, "US"), ("GB", None)]
)
def test_no_country_mismatch_without_two_different_countries(db, merchant, card_country, billing):
    card = CardDetails(brand="visa", last4="0000", country=card_country)
    assert score(db, payment(merchant, card=card, billing_country=billing)).score == 0


# -- blocklist -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "overrides"),
    [
        ("email", "Buyer@Example.test", {"customer_email": "buyer@example.TEST"}),
        ("card_fingerprint", CARD.fingerprint, {"card": CARD}),
        ("card_fingerprint", "4242 4242 4242 4242", {"card": CARD}),
        ("ip_address", IP, {"ip_address": IP}),
        ("country", "gb", {"billing_country": "GB"}),
        ("country", "US", {"card": CARD, "billing_country": "US"}),
        ("country", "US", {"card": CARD}),  # the card's country
    ],
)
@pytest.mark.parametrize("livemode", [True, False])
def test_blocklisted_values_block(db, merchant, kind, value, overrides, livemode):
    blocklist.add_to_blocklist(db, merchant.id, kind, value)
    db.commit()
    result = score(db, payment(merchant, livemode=livemode, **overrides))
    reason = f"blocklisted_{kind}"
    assert result == risk.RiskAssessment(100, RiskDecision.BLOCK, [reason], rule=reason)


def test_blocklist_names_every_match_and_blocks_whatever_the_block_score(db, merchant):
    blocklist.add_to_blocklist(db, merchant.id, "email", EMAIL)
    blocklist.add_to_blocklist(db, merchant.id, "ip_address", IP)
    db.commit()
    data = payment(merchant, customer_email=EMAIL, ip_address=IP, card=CARD)
    result = score(db, data, review=200, block=200)
    assert result.decision is RiskDecision.BLOCK and result.score == 100
    assert result.reasons == ["blocklisted_email", "blocklisted_ip_address"]
    assert result.rule == "blocklisted_email"


def test_another_merchants_blocklist_does_not_apply(db, merchant, other):
    blocklist.add_to_blocklist(db, other.id, "email", EMAIL)
    db.commit()
    assert score(db, payment(merchant, customer_email=EMAIL)).decision is RiskDecision.ALLOW


def test_a_value_of_another_kind_does_not_match(db, merchant):
    # The blocklist query matches kind and value together, not each on its own.
    blocklist.add_to_blocklist(db, merchant.id, "country", "US")
    blocklist.add_to_blocklist(db, merchant.id, "email", EMAIL)
    db.commit()
    data = payment(merchant, customer_email="someone@else.test", billing_country="GB")
    assert score(db, data).decision is RiskDecision.ALLOW


# -- decisions -----------------------------------------------------------------------------


def test_decision_thresholds(db: Session, merchant: Merchant):
    add_payments(db, merchant, 7, card_fingerprint=CARD.fingerprint)  # +50
    data = payment(merchant, card=CARD)
    assert score(db, data, review=50, block=80).decision is RiskDecision.REVIEW
    assert score(db, data, review=51, block=80).decision is RiskDecision.ALLOW
    assert score(db, data, review=10, block=50).decision is RiskDecision.BLOCK
    assert score(db, data, review=10, block=51).decision is RiskDecision.REVIEW


def test_points_add_up_and_stop_at_100(db: Session, merchant: Merchant):
    add_payments(db, merchant, 7, card_fingerprint=CARD.fingerprint)  # +50
    add_payments(db, merchant, 11, customer_email=EMAIL)  # +40
    add_payments(db, merchant, 31, ip_address=IP)  # +40
    add_captured(db, merchant, 10, 100)  # +45 at 10_001
    gb_card = CardDetails(brand="visa", last4="4242", fingerprint=CARD.fingerprint, country="GB")
    data = payment(
        merchant,
        amount=10_001,
        card=gb_card,
        customer_email=EMAIL,
        ip_address=IP,
        billing_country="US",
    )
    result = score(db, data)
    assert result.score == 100
    assert result.decision is RiskDecision.BLOCK
    assert result.reasons == [
        "velocity_card:7_in_1h",
        "velocity_email:11_in_1h",
        "velocity_ip:31_in_1h",
        "amount_far_above_usual:100.0x",
        "country_mismatch:card=GB,billing=US",
    ]


def test_two_rules_together(db: Session, merchant: Merchant):
    add_payments(db, merchant, 4, card_fingerprint=CARD.fingerprint)  # +25
    gb_card = CardDetails(brand="visa", last4="4242", fingerprint=CARD.fingerprint, country="GB")
    result = score(db, payment(merchant, card=gb_card, billing_country="US"))
    assert (result.score, result.decision) == (40, RiskDecision.ALLOW)


def test_the_rule_is_the_heaviest_signal_of_a_block_or_a_review(db, merchant):
    add_payments(db, merchant, 4, card_fingerprint=CARD.fingerprint)  # +25
    add_captured(db, merchant, 10, 100)  # +25 at 501 (5.01x): a tie with the card
    gb_card = CardDetails(brand="visa", last4="4242", fingerprint=CARD.fingerprint, country="GB")
    data = payment(merchant, amount=501, card=gb_card, billing_country="US")  # +15
    result = score(db, data, review=50, block=80)
    assert (result.score, result.decision) == (65, RiskDecision.REVIEW)
    assert result.rule == "velocity_card:4_in_1h"  # the first of the two heaviest
    assert score(db, data, review=60, block=65).rule == "velocity_card:4_in_1h"
    assert score(db, data, review=70, block=80).rule is None  # allowed: no rule fired


def test_a_threshold_of_zero_is_the_rule_when_nothing_else_fired(db, merchant):
    assert score(db, payment(merchant), review=0, block=80).rule == "review_score:0"
    assert score(db, payment(merchant), review=0, block=0).rule == "block_score:0"


# -- risk test cards (Stripe's Radar test cards) -----------------------------------------------

BLOCK_CARD = CardDetails(
    brand="visa",
    last4="0019",
    fingerprint=cards.fingerprint("4100000000000019"),
    country="US",
    risk_test=RiskTest.ALWAYS_BLOCK,
)
ELEVATED_CARD = CardDetails(
    brand="visa",
    last4="9235",
    fingerprint=cards.fingerprint("4000000000009235"),
    country="US",
    risk_test=RiskTest.ELEVATED_RISK,
)


@pytest.mark.parametrize(("review", "block"), [(50, 80), (101, 101), (0, 0)])
def test_the_block_test_card_is_always_blocked_in_test_mode(db, merchant, review, block):
    statements = _record_statements(db)
    result = score(db, payment(merchant, livemode=False, card=BLOCK_CARD), review, block)
    reason = "test_card_always_blocks"
    assert result == risk.RiskAssessment(100, RiskDecision.BLOCK, [reason], rule=reason)
    assert statements == []  # decided without a look at the database


def test_the_elevated_test_card_lands_in_review_in_test_mode(db, merchant):
    result = score(db, payment(merchant, livemode=False, card=ELEVATED_CARD))
    reason = "test_card_elevated_risk"
    assert result == risk.RiskAssessment(50, RiskDecision.REVIEW, [reason], rule=reason)
    # At the merchant's own review score, whatever it is.
    assert score(db, payment(merchant, livemode=False, card=ELEVATED_CARD), 65, 90).score == 65


def test_the_elevated_test_card_goes_through_the_other_rules(db, merchant):
    gb_card = replace(ELEVATED_CARD, country="GB")
    data = payment(merchant, livemode=False, card=gb_card, billing_country="US")  # +15
    result = score(db, data)
    assert (result.score, result.decision) == (50, RiskDecision.REVIEW)
    assert result.reasons == ["test_card_elevated_risk", "country_mismatch:card=GB,billing=US"]
    assert result.rule == "test_card_elevated_risk"  # its 35 points weigh most
    # The merchant's thresholds decide, as for any payment.
    assert score(db, data, review=80, block=80).decision is RiskDecision.BLOCK
    assert score(db, data, review=101, block=101).decision is RiskDecision.ALLOW
    blocklist.add_to_blocklist(db, merchant.id, "country", "GB")
    db.commit()
    assert score(db, data).reasons == ["blocklisted_country"]


@pytest.mark.parametrize("card", [BLOCK_CARD, ELEVATED_CARD])
def test_risk_test_cards_mean_nothing_in_live_mode(db, merchant, card):
    assert score(db, payment(merchant, livemode=True, card=card)) == risk.RiskAssessment(
        0, RiskDecision.ALLOW, []
    )


# -- reasons in words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("velocity_card:7_in_1h", "Card used 7 times in the last hour"),
        ("velocity_email:11_in_1h", "E-mail used 11 times in the last hour"),
        ("velocity_ip:50+_in_1h", "IP address used 50 or more times in the last hour"),
        ("velocity_card:1_in_30m", "Card used once in the last 30 minutes"),
        ("amount_far_above_usual:8.3x", "Amount 8.3 times your average payment in this currency"),
        (
            "country_mismatch:card=GB,billing=US",
            "Card country (United Kingdom) differs from billing country (United States)",
        ),
        ("blocklisted_email", "On your blocklist: e-mail"),
        ("blocklisted_card_fingerprint", "On your blocklist: card"),
        ("blocklisted_ip_address", "On your blocklist: IP address"),
        ("blocklisted_country", "On your blocklist: country"),
        ("test_card_always_blocks", "Risk test card: always blocked"),
        ("test_card_elevated_risk", "Risk test card: elevated risk"),
        ("block_score:0", "Score at or above your block score (0)"),
        ("review_score:0", "Score at or above your review score (0)"),
        ("something_new:3", "Something new:3"),  # a reason of a later version: still readable
    ],
)
def test_describe_reason(reason: str, words: str):
    assert risk.describe_reason(reason) == words


def test_every_reason_the_rules_give_reads_in_words(db, merchant):
    add_payments(db, merchant, 40, **VELOCITY_FIELDS)
    add_captured(db, merchant, 10, 100)
    gb_card = replace(CARD, country="GB")
    data = payment(merchant, amount=10_001, card=gb_card, customer_email=EMAIL, ip_address=IP)
    reasons = score(db, replace(data, billing_country="US")).reasons
    assert len(reasons) == 5
    for reason in reasons:
        assert "_" not in risk.describe_reason(reason), reason


def test_the_refusal_message_names_the_rule():
    assert risk.refusal_message("velocity_card:7_in_1h") == (
        "Blocked by the risk rules. Card used 7 times in the last hour."
    )
    assert risk.refusal_message(None) == "Blocked by the risk rules."


# -- cost ----------------------------------------------------------------------------------


def _record_statements(db: Session) -> list[tuple[str, object]]:
    """The SELECTs run on db's connection, as SQLite ran them (values in place). Recorded by
    the driver itself: the risk statement goes straight to the cursor (backend.core.db.Prepared),
    past SQLAlchemy's events."""
    statements: list[tuple[str, object]] = []

    def _record(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, None))

    db.connection().connection.dbapi_connection.set_trace_callback(_record)  # type: ignore[union-attr]
    return statements


@pytest.mark.parametrize("livemode", [True, False])
def test_a_full_assessment_is_one_statement_on_the_right_indexes(db, merchant, livemode):
    add_payments(db, merchant, 2, card_fingerprint=CARD.fingerprint, customer_email=EMAIL)
    add_captured(db, merchant, 10, 1000)
    statements = _record_statements(db)
    data = payment(
        merchant,
        livemode=livemode,
        customer_email=EMAIL,
        ip_address=IP,
        card=CARD,
        billing_country="GB",
    )
    score(db, data)
    assert len(statements) == 1  # blocklist, velocity counts and usual amount together
    # Velocity is a live-mode rule: in test mode its counts are not even in the statement.
    velocity = (
        ["ix_payments_fingerprint_created", "ix_payments_email_created", "ix_payments_ip_created"]
        if livemode
        else []
    )

    used: list[str] = []
    conn = db.connection()  # the session's own: another would wait for its write lock
    for statement, parameters in statements:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        text = "\n".join(row[-1] for row in plan)
        # Every table access is an index search, never a scan of the table.
        assert not re.search(r"\bSCAN (payments|blocklist_entries)\b", text), text
        used += re.findall(r"SEARCH \w+ USING (?:COVERING )?INDEX (\w+)", text)
    assert sorted(used) == sorted(
        [
            *["uq_blocklist_entry"] * 5,  # e-mail, card, IP, the card's and the billing country
            *velocity,
            # The merchant's usual amount in this currency (index of migration 0009).
            "ix_payments_merchant_currency_created",
        ]
    )


def test_a_payment_with_nothing_to_count_costs_one_statement(db: Session, merchant: Merchant):
    statements = _record_statements(db)
    score(db, payment(merchant, amount=0))
    assert statements == []
    score(db, payment(merchant))
    assert len(statements) == 1  # the usual amount only


# -- blocklist management ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("email", "  Someone@Example.TEST ", "someone@example.test"),
        ("ip_address", " 203.0.113.7 ", "203.0.113.7"),
        ("ip_address", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("ip_address", "::ffff:203.0.113.7", "203.0.113.7"),
        ("country", " gb", "GB"),
        ("card_fingerprint", CARD.fingerprint, CARD.fingerprint),
        ("card_fingerprint", "4242-4242-4242-4242", CARD.fingerprint),
        ("card_fingerprint", "Abc123XyZ987", "Abc123XyZ987"),  # another processor's fingerprint
    ],
)
def test_add_to_blocklist_normalises(db, merchant, kind, value, stored):
    entry = blocklist.add_to_blocklist(db, merchant.id, kind, value, reason=" chargebacks ")
    db.commit()
    assert (entry.kind, entry.value, entry.reason) == (kind, stored, "chargebacks")
    assert entry.id.startswith("blk_")


@pytest.mark.parametrize(
    ("kind", "value", "param"),
    [
        ("phone", "+15555550100", "kind"),
        ("EMAIL", "a@b.test", "kind"),
        ("email", "not-an-email", "value"),
        ("email", "", "value"),
        ("email", None, "value"),
        ("ip_address", "300.1.1.1", "value"),
        ("ip_address", "example.test", "value"),
        ("country", "USA", "value"),
        ("country", "U1", "value"),
        ("card_fingerprint", "4242 4242 4242 4241", "value"),  # a mistyped card number
        ("card_fingerprint", "short", "value"),
        ("card_fingerprint", "x" * 65, "value"),
        ("card_fingerprint", "abc/def+ghi", "value"),
    ],
)
def test_add_to_blocklist_refuses_bad_values(db, merchant, kind, value, param):
    with pytest.raises(ValidationFailed) as info:
        blocklist.add_to_blocklist(db, merchant.id, kind, value)
    assert info.value.param == param
    assert "4242 4242 4242 4241" not in info.value.message


def test_add_to_blocklist_refuses_a_long_reason(db, merchant):
    with pytest.raises(ValidationFailed) as info:
        blocklist.add_to_blocklist(db, merchant.id, "country", "US", reason="x" * 301)
    assert info.value.param == "reason"


def test_a_blocked_card_number_is_stored_as_its_fingerprint_only(db, merchant):
    blocklist.add_to_blocklist(db, merchant.id, "card_fingerprint", "4242424242424242")
    db.commit()
    entry = db.exec(select(BlocklistEntry)).one()
    audit_rows = db.exec(select(AuditLog).where(AuditLog.action.like("blocklist%"))).all()
    assert "4242424242424242" not in repr(entry.model_dump())
    assert all("4242424242424242" not in repr(row.model_dump()) for row in audit_rows)


def test_adding_twice_is_idempotent(db: Session, merchant: Merchant):
    first = blocklist.add_to_blocklist(db, merchant.id, "email", "a@b.test", reason="fraud")
    db.commit()
    again = blocklist.add_to_blocklist(db, merchant.id, "email", "A@B.TEST", reason="other")
    db.commit()
    assert again.id == first.id and again.reason == "fraud"
    assert len(db.exec(select(BlocklistEntry)).all()) == 1
    created = db.exec(select(AuditLog).where(AuditLog.action == "blocklist_entry.created")).all()
    assert len(created) == 1


def test_a_concurrent_add_of_the_same_value_returns_the_winners_entry(db, merchant, monkeypatch):
    winner = blocklist.add_to_blocklist(db, merchant.id, "country", "RU")
    db.commit()
    real_find = blocklist._find_entry
    calls = iter([None])  # the first look finds nothing, as if the winner were not yet committed
    monkeypatch.setattr(blocklist, "_find_entry", lambda *a: next(calls, None) or real_find(*a))
    entry = blocklist.add_to_blocklist(db, merchant.id, "country", "ru")
    assert entry.id == winner.id
    db.commit()  # the outer transaction survived the failed savepoint
    assert len(db.exec(select(BlocklistEntry)).all()) == 1


def test_the_unique_index_guards_the_blocklist(db, merchant):
    db.add(BlocklistEntry(id=new_id("blk"), merchant_id=merchant.id, kind="country", value="RU"))
    db.add(BlocklistEntry(id=new_id("blk"), merchant_id=merchant.id, kind="country", value="RU"))
    with pytest.raises(IntegrityError):
        db.commit()


def test_remove_from_blocklist(db: Session, merchant: Merchant, other: Merchant):
    blocklist.add_to_blocklist(db, merchant.id, "email", "a@b.test")
    blocklist.add_to_blocklist(db, other.id, "email", "a@b.test")
    db.commit()
    assert blocklist.remove_from_blocklist(db, merchant.id, "email", " A@b.test") is True
    db.commit()
    assert blocklist.remove_from_blocklist(db, merchant.id, "email", "a@b.test") is False
    assert [e.merchant_id for e in db.exec(select(BlocklistEntry))] == [other.id]
    assert score(db, payment(merchant, customer_email="a@b.test")).score == 0
    deleted = db.exec(select(AuditLog).where(AuditLog.action == "blocklist_entry.deleted")).all()
    assert len(deleted) == 1
    with pytest.raises(ValidationFailed):
        blocklist.remove_from_blocklist(db, merchant.id, "nonsense", "x")


def test_delete_blocklist_entry_by_id_is_tenant_scoped(db, merchant, other):
    theirs = blocklist.add_to_blocklist(db, other.id, "country", "FR")
    mine = blocklist.add_to_blocklist(db, merchant.id, "country", "FR")
    db.commit()
    with pytest.raises(NotFound):
        blocklist.delete_blocklist_entry(db, merchant.id, theirs.id)
    with pytest.raises(NotFound):
        blocklist.delete_blocklist_entry(db, merchant.id, "blk_missing")
    assert blocklist.delete_blocklist_entry(db, merchant.id, mine.id).id == mine.id
    db.commit()
    assert blocklist.list_blocklist(db, merchant.id) == []
    assert [e.id for e in blocklist.list_blocklist(db, other.id)] == [theirs.id]


def test_list_blocklist_by_kind(db, merchant):
    blocklist.add_to_blocklist(db, merchant.id, "country", "FR")
    blocklist.add_to_blocklist(db, merchant.id, "email", "a@b.test")
    db.commit()
    assert {e.kind for e in blocklist.list_blocklist(db, merchant.id)} == {"country", "email"}
    assert [e.value for e in blocklist.list_blocklist(db, merchant.id, "email")] == ["a@b.test"]
