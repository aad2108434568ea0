"""Risk scoring: every payment is scored before any gateway is called.

`assess` adds up the points of the rules (their table and constants are in risk_rules), caps
the sum at 100 and decides: BLOCK at or above the merchant's `risk_block_score` (the payment
never reaches a gateway), REVIEW at or above its `risk_review_score`, otherwise ALLOW. The
blocklist it probes is managed in blocklist.

The rule that decided (RiskAssessment.rule), named in every refusal: for a block or a review,
the blocklist match or test card that forced it, otherwise the reason that weighed most (the
first among equals), or "block_score:N" / "review_score:N" when the merchant's threshold alone
caught a payment without signals (a threshold of 0). `describe_reason` puts a reason or rule in
words for people; every page that shows one uses it.

Cost (it runs on every charge): one statement (risk_lookup), built once per shape of input,
whose columns are an EXISTS probe of uq_blocklist_entry per value, the capped COUNTs (live
mode) over the velocity indexes (ix_payments_fingerprint_created, ix_payments_email_created,
ix_payments_ip_created, which carry livemode and merchant_id so that a count reads the index
alone, never the rows) and the COUNT/SUM of the usual amount over
ix_payments_merchant_currency_created. That last one grows with the merchant's volume, so for a
merchant with at least BASELINE_CACHE_MIN_PAYMENTS captured payments it is cached per process
for BASELINE_CACHE_TTL (a 30-day mean hardly moves in minutes) and left out of the statement;
smaller merchants are always computed exactly.

Amounts are compared in integers: amount > 5 x (sum / count) is amount * count > 5 * sum.

What callers must store for the rules to see past payments: Payment.card_fingerprint from the
gateway's CardDetails, Payment.customer_email lower-cased, Payment.ip_address as
`normalise_ip` gives it, Payment.amount_captured on capture. If the payment's own row is
already in the database when it is assessed, pass its id as RiskInput.payment_id so it does not
count itself.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from babel import Locale
from sqlmodel import Session

from backend.gateways.base import CardDetails, RiskTest
from backend.models import utcnow
from backend.models.enums import RiskDecision
from backend.services import labels
from backend.services.payments.risk_lookup import LookupShape, lookup_statement
from backend.services.payments.risk_rules import (
    AMOUNT_TIERS,
    BLOCKLIST_KINDS,
    BLOCKLIST_SCORE,
    CARD_VELOCITY_TIERS,
    COUNTRY_MISMATCH_POINTS,
    EMAIL_VELOCITY_TIERS,
    IP_VELOCITY_TIERS,
    MAX_SCORE,
    TEST_CARD_BLOCK_REASON,
    TEST_CARD_ELEVATED_REASON,
    USUAL_AMOUNT_MIN_PAYMENTS,
    USUAL_AMOUNT_WINDOW,
    VELOCITY_COUNT_CAP,
    VELOCITY_WINDOW,
    span_words,
)

# A merchant with at least this many captured payments in a currency has its usual amount
# cached per process for BASELINE_CACHE_TTL (see Cost above).
BASELINE_CACHE_MIN_PAYMENTS = 500
BASELINE_CACHE_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class RiskInput:
    merchant_id: str
    livemode: bool
    amount: int
    currency: str
    customer_email: str | None
    ip_address: str | None
    billing_country: str | None
    card: CardDetails | None
    # The payment being assessed, when its row is already stored: it is not counted.
    payment_id: str | None = None


@dataclass(frozen=True)
class RiskAssessment:
    score: int  # 0-100
    decision: RiskDecision
    reasons: list[str] = field(default_factory=list)
    # The reason (or threshold) that made it a block or a review; None when allowed.
    rule: str | None = None


# ---------------------------------------------------------------------------------------------
# Reasons in words: the one place that turns a stored reason (or a rule) into a phrase.

_VELOCITY_REASON = re.compile(r"velocity_(card|email|ip):(\d+)(\+?)_in_(\d+)([hm])")
_AMOUNT_REASON = re.compile(r"amount_far_above_usual:(\d+(?:\.\d+)?)x")
_MISMATCH_REASON = re.compile(r"country_mismatch:card=([A-Z]{2}),billing=([A-Z]{2})")
_THRESHOLD_REASON = re.compile(r"(review|block)_score:(\d+)")
_VELOCITY_SUBJECTS = {"card": "Card", "email": "E-mail", "ip": "IP address"}
_BLOCKLIST_WORDS = {
    "email": "e-mail",
    "card_fingerprint": "card",
    "ip_address": "IP address",
    "country": "country",
}
_FIXED_WORDS = {
    TEST_CARD_BLOCK_REASON: "Risk test card: always blocked",
    TEST_CARD_ELEVATED_REASON: "Risk test card: elevated risk",
}


def _country_name(code: str) -> str:
    return Locale("en").territories.get(code, code)


def describe_reason(reason: str) -> str:
    """A risk reason, or the rule of a refusal, in words for people: "Card used 7 times in
    the last hour", "On your blocklist: e-mail", "Risk test card: always blocked". English,
    like the rest of the merchant's portal; unknown reasons are shown readably as they are."""
    if reason in _FIXED_WORDS:
        return _FIXED_WORDS[reason]
    kind = reason.removeprefix("blocklisted_")
    if kind != reason and kind in _BLOCKLIST_WORDS:
        return f"On your blocklist: {_BLOCKLIST_WORDS[kind]}"
    if found := _VELOCITY_REASON.fullmatch(reason):
        subject, count, more, number, unit = found.groups()
        window = timedelta(hours=int(number)) if unit == "h" else timedelta(minutes=int(number))
        times = f"{count} or more times" if more else ("once" if count == "1" else f"{count} times")
        return f"{_VELOCITY_SUBJECTS[subject]} used {times} in the last {span_words(window)}"
    if found := _AMOUNT_REASON.fullmatch(reason):
        return f"Amount {found[1]} times your average payment in this currency"
    if found := _MISMATCH_REASON.fullmatch(reason):
        card, billing = (_country_name(code) for code in found.groups())
        return f"Card country ({card}) differs from billing country ({billing})"
    if found := _THRESHOLD_REASON.fullmatch(reason):
        return f"Score at or above your {found[1]} score ({found[2]})"
    return labels.words(reason)


def refusal_message(rule: str | None) -> str:
    """The message of a risk refusal for the merchant (API, portal): it names the rule."""
    if not rule:
        return "Blocked by the risk rules."
    return f"Blocked by the risk rules. {describe_reason(rule)}."


# ---------------------------------------------------------------------------------------------
# Normalisation shared by the blocklist and the rules, so stored and fresh values compare equal.


def normalise_ip(value: str) -> str:
    """The canonical text of an IP address ("::FFFF:1.2.3.4" and friends compare equal)."""
    address = ipaddress.ip_address(value.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def canonical_ip(value: str | None) -> str | None:
    """The canonical form of a client address, or None when it is not an IP address."""
    if not value or not value.strip():
        return None
    try:
        return normalise_ip(value)
    except ValueError:
        return None


def _lenient_ip(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    try:
        return normalise_ip(value)
    except ValueError:
        return value.strip()


def _lenient_email(value: str | None) -> str | None:
    return value.strip().lower() if value and value.strip() else None


def _lenient_country(value: str | None) -> str | None:
    return value.strip().upper() if value and value.strip() else None


# ---------------------------------------------------------------------------------------------
# Scoring


def _tier_points(value: int, tiers: tuple[tuple[int, int], ...]) -> int:
    for threshold, points in tiers:
        if value > threshold:
            return points
    return 0


def _window_label(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


def _count_label(count: int) -> str:
    return f"{VELOCITY_COUNT_CAP}+" if count >= VELOCITY_COUNT_CAP else str(count)


# (merchant_id, livemode, currency) -> (count, sum, computed at)
_baseline_cache: dict[tuple[str, bool, str], tuple[int, int, datetime]] = {}
_baseline_lock = threading.Lock()


def clear_baseline_cache() -> None:
    """Forget every cached usual amount (tests; after bulk imports)."""
    with _baseline_lock:
        _baseline_cache.clear()


def _cached_usual(key: tuple[str, bool, str], now: datetime) -> tuple[int, int] | None:
    with _baseline_lock:
        cached = _baseline_cache.get(key)
    if cached and now - cached[2] < BASELINE_CACHE_TTL:
        return cached[0], cached[1]
    return None


def _remember_usual(key: tuple[str, bool, str], count: int, total: int, now: datetime) -> None:
    with _baseline_lock:
        if count >= BASELINE_CACHE_MIN_PAYMENTS:
            _baseline_cache[key] = (count, total, now)
        else:
            _baseline_cache.pop(key, None)


def _amount_points(amount: int, usual: tuple[int, int] | None) -> tuple[int, str | None]:
    if usual is None:
        return 0, None
    count, total = usual
    if count < USUAL_AMOUNT_MIN_PAYMENTS or total <= 0:
        return 0, None
    # amount / (total / count) > multiple  <=>  amount * count > multiple * total
    for multiple, points in AMOUNT_TIERS:
        if amount * count > multiple * total:
            tenths = amount * count * 10 // total  # the ratio, rounded down to 0.1
            return points, f"amount_far_above_usual:{tenths // 10}.{tenths % 10}x"
    return 0, None


def _decide(score: int, review_score: int, block_score: int) -> RiskDecision:
    if score >= block_score:
        return RiskDecision.BLOCK
    if score >= review_score:
        return RiskDecision.REVIEW
    return RiskDecision.ALLOW


def _deciding_rule(
    decision: RiskDecision, signals: list[tuple[str, int]], review_score: int, block_score: int
) -> str | None:
    """What made it a block or a review: the heaviest signal (the first among equals), or the
    merchant's threshold when it caught a payment without any signal."""
    if decision is RiskDecision.ALLOW:
        return None
    if signals:
        return max(signals, key=lambda signal: signal[1])[0]
    if decision is RiskDecision.BLOCK:
        return f"block_score:{block_score}"
    return f"review_score:{review_score}"


def assess(
    db: Session,
    data: RiskInput,
    *,
    review_score: int,
    block_score: int,
    now: datetime | None = None,
) -> RiskAssessment:
    """Score a payment before it reaches any gateway. Reads only; writes nothing."""
    now = now or utcnow()
    # Risk test cards count in test mode only; a live card can never ask for an outcome.
    risk_test = data.card.risk_test if data.card and not data.livemode else None
    if risk_test is RiskTest.ALWAYS_BLOCK:
        reasons = [TEST_CARD_BLOCK_REASON]
        return RiskAssessment(MAX_SCORE, RiskDecision.BLOCK, reasons, TEST_CARD_BLOCK_REASON)
    velocity = data.livemode  # see (*) in the module docstring
    email = _lenient_email(data.customer_email)
    ip = _lenient_ip(data.ip_address)
    fingerprint = data.card.fingerprint if data.card and data.card.fingerprint else None
    card_country = _lenient_country(data.card.country if data.card else None)
    billing_country = _lenient_country(data.billing_country)
    countries = sorted({c for c in (card_country, billing_country) if c})
    currency = data.currency.strip().upper()
    usual_key = (data.merchant_id, data.livemode, currency)
    usual = _cached_usual(usual_key, now) if data.amount > 0 else None

    params: dict[str, object] = {"merchant_id": data.merchant_id, "livemode": data.livemode}
    wanted = [("email", email), ("card_fingerprint", fingerprint), ("ip_address", ip)]
    wanted += [("country", country) for country in countries]
    blocklist: list[tuple[str, str]] = []
    for kind, value in wanted:
        if value:
            param = f"listed_{len(blocklist)}"
            blocklist.append((kind, param))
            params[param] = value
    shape = LookupShape(
        blocklist=tuple(blocklist),
        card=velocity and bool(fingerprint),
        email=velocity and bool(email),
        ip=velocity and bool(ip),
        exclude_payment=velocity and bool(data.payment_id),
        usual_amount=data.amount > 0 and usual is None,
    )
    params.update(
        since=now - VELOCITY_WINDOW,
        fingerprint=fingerprint,
        email=email,
        ip=ip,
        payment_id=data.payment_id,
        usual_since=now - USUAL_AMOUNT_WINDOW,
        currency=currency,
    )
    values: list[object] = []
    if blocklist or shape.card or shape.email or shape.ip or shape.usual_amount:
        values = list(lookup_statement(shape).run(db, params))
    found = iter(values)

    hits = {kind for kind, _ in blocklist if next(found)}
    card_n = int(next(found)) if shape.card else 0  # type: ignore[call-overload]
    email_n = int(next(found)) if shape.email else 0  # type: ignore[call-overload]
    ip_n = int(next(found)) if shape.ip else 0  # type: ignore[call-overload]
    if shape.usual_amount:
        # PostgreSQL's SUM(bigint) is a Decimal.
        usual = int(next(found)), int(next(found))  # type: ignore[call-overload]
        _remember_usual(usual_key, *usual, now)

    if hits:
        reasons = [f"blocklisted_{kind}" for kind in BLOCKLIST_KINDS if kind in hits]
        return RiskAssessment(BLOCKLIST_SCORE, RiskDecision.BLOCK, reasons, reasons[0])

    signals: list[tuple[str, int]] = []  # (reason, points), in the order of the table
    window = _window_label(VELOCITY_WINDOW)
    for name, count, tiers in (
        ("card", card_n, CARD_VELOCITY_TIERS),
        ("email", email_n, EMAIL_VELOCITY_TIERS),
        ("ip", ip_n, IP_VELOCITY_TIERS),
    ):
        points = _tier_points(count, tiers)
        if points:
            signals.append((f"velocity_{name}:{_count_label(count)}_in_{window}", points))

    points, reason = _amount_points(data.amount, usual) if data.amount > 0 else (0, None)
    if reason:
        signals.append((reason, points))

    if card_country and billing_country and card_country != billing_country:
        mismatch = f"country_mismatch:card={card_country},billing={billing_country}"
        signals.append((mismatch, COUNTRY_MISMATCH_POINTS))

    if risk_test is RiskTest.ELEVATED_RISK:
        # The points that bring the score up to the merchant's review score, listed first.
        missing = min(review_score, MAX_SCORE) - sum(points for _, points in signals)
        signals.insert(0, (TEST_CARD_ELEVATED_REASON, max(missing, 0)))

    score = min(sum(points for _, points in signals), MAX_SCORE)
    decision = _decide(score, review_score, block_score)
    rule = _deciding_rule(decision, signals, review_score, block_score)
    return RiskAssessment(score, decision, [reason for reason, _ in signals], rule)
