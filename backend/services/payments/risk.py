"""Risk scoring: every payment is scored before any gateway is called.

`assess` adds up the points of the rules below, caps the sum at 100 and decides: BLOCK at or
above the merchant's `risk_block_score` (the payment never reaches a gateway), REVIEW at or
above its `risk_review_score`, otherwise ALLOW.

| Reason                    | What is counted or compared                        | When    | Pts   |
|---------------------------|----------------------------------------------------|---------|-------|
| velocity_card:N_in_1h     | earlier payments with this card fingerprint in the | N > 3   | +25   |
|                           | last hour, all merchants of the platform (*)       | N > 6   | +50   |
| velocity_email:N_in_1h    | earlier payments of this merchant with this        | N > 5   | +20   |
|                           | customer e-mail in the last hour                   | N > 10  | +40   |
| velocity_ip:N_in_1h       | earlier payments from this IP address in the last  | N > 10  | +20   |
|                           | hour, all merchants of the platform (*)            | N > 30  | +40   |
| amount_far_above_usual:Rx | R = amount / mean of the merchant's captured       | R > 5   | +25   |
|                           | payments in this currency and mode, last 30 days;  | R > 10  | +45   |
|                           | only when there are at least 10 of them            |         |       |
| country_mismatch:         | the card's country and the billing country, both   | differ  | +15   |
|   card=XX,billing=YY      | known                                              |         |       |
| blocklisted_<kind>        | the merchant's blocklist: email, card_fingerprint, | a match | =100  |
|                           | ip_address, country (card's or billing country)    |         | BLOCK |
| test_card_always_blocks   | risk test card 4100 0000 0000 0019 (test mode)     | always  | =100  |
|                           |                                                    |         | BLOCK |
| test_card_elevated_risk   | risk test card 4000 0000 0000 9235 (test mode)     | always  | up to |
|                           |                                                    |         | review|

Within a rule only the highest tier reached counts (a card seen 8 times scores 50, not 75).
Every threshold and point value is a module-level constant below, so it can be tuned.

(*) Velocity is a live-mode rule; test mode and live mode never count each other's payments.
In test mode the velocity rules neither score a payment nor count it for later ones (no
velocity column is even in the statement). Test mode takes published test cards and tokens only
(the sandbox refuses every other number, and so does Stripe's test mode), so a test-mode payment
is always a test-card payment, and, as with Stripe's published test cards, testing is never
throttled: a merchant may charge pm_card_visa from 127.0.0.1 with one e-mail as often as their
tests need. No money moves in test mode, so there is no card testing to stop. The other rules
(blocklist, usual amount, country mismatch) score test payments as live ones, and the risk test
cards below produce each outcome on purpose. Live mode is unchanged: card and IP velocity count
every merchant's live payments, e-mail velocity the merchant's own.

A match on the blocklist always blocks, whatever the merchant's block score: the merchant said
never to take this money. The other rules are then not scored.

Risk test cards (Stripe's Radar test cards; test mode only, never in live mode). The sandbox
reports them in CardDetails.risk_test (through Stripe's test mode, Stripe's own Radar answers
for them instead). `4100 0000 0000 0019` (pm_card_radarBlock) is
always blocked, whatever the thresholds, and nothing else is looked up. `4000 0000 0000 9235`
(pm_card_riskLevelElevated) scores as elevated risk: its reason adds the points that bring the
score up to the merchant's review score, and the decision follows the thresholds as for any
payment, so with the usual thresholds it lands in review (another rule may still block it).

The rule that decided (RiskAssessment.rule), named in every refusal: for a block or a review,
the blocklist match or test card that forced it, otherwise the reason that weighed most (the
first among equals), or "block_score:N" / "review_score:N" when the merchant's threshold alone
caught a payment without signals (a threshold of 0). `describe_reason` puts a reason or rule in
words for people; every page that shows one uses it.

Reasons are stable, machine-readable strings: "velocity_card:6_in_1h",
"amount_far_above_usual:8.3x", "blocklisted_email", "country_mismatch:card=GB,billing=US",
"test_card_always_blocks"; people read them through `describe_reason`. Counts are capped at
VELOCITY_COUNT_CAP and then shown as "50+": the rules only need to know whether a threshold is
passed, and the cap bounds the work each count does.

Cost (it runs on every charge): one statement, built once per shape of input, whose columns
are an EXISTS probe of uq_blocklist_entry per value, the capped COUNTs (live mode) over the
velocity indexes (ix_payments_fingerprint_created, ix_payments_email_created,
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
from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect
from sqlmodel import Session, select

from backend.core.db import Prepared
from backend.core.errors import NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.gateways import cards
from backend.gateways.base import CardDetails, RiskTest
from backend.models import BlocklistEntry, Payment, utcnow
from backend.models.enums import ActorType, PaymentStatus, RiskDecision
from backend.services import audit, labels
from backend.services.identity.accounts import normalise_email

# ---------------------------------------------------------------------------------------------
# Tunable rules: (more than N, points), highest tier first.

VELOCITY_WINDOW = timedelta(hours=1)
CARD_VELOCITY_TIERS: tuple[tuple[int, int], ...] = ((6, 50), (3, 25))
EMAIL_VELOCITY_TIERS: tuple[tuple[int, int], ...] = ((10, 40), (5, 20))
IP_VELOCITY_TIERS: tuple[tuple[int, int], ...] = ((30, 40), (10, 20))
# Counting stops here; must stay above every velocity threshold.
VELOCITY_COUNT_CAP = 50

USUAL_AMOUNT_WINDOW = timedelta(days=30)
USUAL_AMOUNT_MIN_PAYMENTS = 10
# (more than N times the mean, points), highest first.
AMOUNT_TIERS: tuple[tuple[int, int], ...] = ((10, 45), (5, 25))
# Payments that were captured, whatever happened to them afterwards.
CAPTURED_STATUSES: tuple[str, ...] = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
    PaymentStatus.DISPUTED,
)
BASELINE_CACHE_MIN_PAYMENTS = 500
BASELINE_CACHE_TTL = timedelta(minutes=10)

COUNTRY_MISMATCH_POINTS = 15
BLOCKLIST_SCORE = 100
MAX_SCORE = 100

TEST_CARD_BLOCK_REASON = "test_card_always_blocks"
TEST_CARD_ELEVATED_REASON = "test_card_elevated_risk"

BLOCKLIST_KINDS: tuple[str, ...] = ("email", "card_fingerprint", "ip_address", "country")

if any(
    threshold >= VELOCITY_COUNT_CAP
    for tiers in (CARD_VELOCITY_TIERS, EMAIL_VELOCITY_TIERS, IP_VELOCITY_TIERS)
    for threshold, _ in tiers
):
    raise RuntimeError("VELOCITY_COUNT_CAP must stay above every velocity threshold")


# ---------------------------------------------------------------------------------------------
# Inputs and results


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


@dataclass(frozen=True)
class RuleDescription:
    """One rule as the portal explains it to merchants, built from the constants above so the
    explanation cannot drift from what is scored."""

    name: str
    counts: str
    points: str


def _tiers_text(tiers: tuple[tuple[int, int], ...], unit: str) -> str:
    return ", ".join(f"more than {n}{unit}: +{points}" for n, points in reversed(tiers))


def _span(window: timedelta) -> str:
    """'hour', '2 hours', '30 minutes': the span in words, after "the last"."""
    minutes = int(window.total_seconds()) // 60
    number, unit = (minutes // 60, "hour") if minutes % 60 == 0 else (minutes, "minute")
    return unit if number == 1 else f"{number} {unit}s"


def rule_descriptions() -> list[RuleDescription]:
    span = _span(VELOCITY_WINDOW)
    days = USUAL_AMOUNT_WINDOW.days
    return [
        RuleDescription(
            "Card velocity",
            f"Payments with the same card in the last {span} (live mode only)",
            _tiers_text(CARD_VELOCITY_TIERS, ""),
        ),
        RuleDescription(
            "E-mail velocity",
            f"Your payments from the same customer e-mail in the last {span} (live mode only)",
            _tiers_text(EMAIL_VELOCITY_TIERS, ""),
        ),
        RuleDescription(
            "IP velocity",
            f"Payments from the same IP address in the last {span} (live mode only)",
            _tiers_text(IP_VELOCITY_TIERS, ""),
        ),
        RuleDescription(
            "Unusual amount",
            f"Amount against your average payment in that currency over {days} days "
            f"(once you have {USUAL_AMOUNT_MIN_PAYMENTS} of them)",
            _tiers_text(AMOUNT_TIERS, "x the average"),
        ),
        RuleDescription(
            "Country mismatch",
            "The card's country differs from the billing country",
            f"+{COUNTRY_MISMATCH_POINTS}",
        ),
        RuleDescription(
            "Blocklist",
            "The e-mail, card, IP address or country is on your blocklist",
            "always blocked",
        ),
        RuleDescription(
            "Risk test cards",
            "Test mode only: 4100 0000 0000 0019 is always blocked; 4000 0000 0000 9235 "
            "scores up to your review score",
            "0019: always blocked; 9235: review",
        ),
    ]


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
        return f"{_VELOCITY_SUBJECTS[subject]} used {times} in the last {_span(window)}"
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


# Statements are built from the tables' columns (Core), not the models' attributes (ORM): they
# read plain values, and Core statements skip the ORM's per-execution work.
_P = Payment.__table__.c  # type: ignore[attr-defined]
_B = BlocklistEntry.__table__.c  # type: ignore[attr-defined]


def _capped_count(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    """A scalar subquery: how many payments match, counting no further than the cap. It reads
    only columns of the velocity indexes (created_at, not id), so the rows are never visited."""
    matching = sa_select(_P.created_at).where(*conditions).limit(VELOCITY_COUNT_CAP).subquery()
    return sa_select(func.count()).select_from(matching).scalar_subquery()


def _listed(kind: str, param: str) -> ColumnElement[bool]:
    """Whether the merchant's blocklist holds the value bound to `param`: one probe of
    uq_blocklist_entry."""
    return (
        sa_select(_B.id)
        .where(
            _B.merchant_id == bindparam("merchant_id"),
            _B.kind == kind,
            _B.value == bindparam(param),
        )
        .exists()
    )


@dataclass(frozen=True)
class _Shape:
    """What one assessment has to look up; each shape has one statement, built once."""

    blocklist: tuple[tuple[str, str], ...]  # (kind, parameter) probed; up to two countries
    card: bool  # the velocity counts: live mode only
    email: bool
    ip: bool
    exclude_payment: bool
    usual_amount: bool


_STATEMENTS: dict[_Shape, Prepared] = {}
_STATEMENTS_LOCK = threading.Lock()


def _statement(shape: _Shape) -> Prepared:
    """Every lookup of an assessment as the columns of one SELECT: one round trip.

    Bound parameters: merchant_id, livemode, since (velocity window), the blocklist values
    (named in the shape), fingerprint, email, ip, payment_id, and currency and usual_since for
    the usual amount.
    """
    found = _STATEMENTS.get(shape)
    if found is not None:
        return found
    columns: list[ColumnElement[object] | ScalarSelect[object]] = [
        _listed(kind, param) for kind, param in shape.blocklist
    ]

    common: list[ColumnElement[bool]] = [
        _P.created_at >= bindparam("since"),
        _P.livemode == bindparam("livemode"),
    ]
    if shape.exclude_payment:
        common.append(_P.id != bindparam("payment_id"))
    # `merchant_id || ''` keeps the planner off the merchant's own indexes, which would walk
    # every payment the merchant took in the hour; the value's index finds a handful of rows.
    own = _P.merchant_id + "" == bindparam("merchant_id")
    # Card and IP: every merchant's payments; e-mail: the merchant's own.
    if shape.card:
        columns.append(_capped_count(_P.card_fingerprint == bindparam("fingerprint"), *common))
    if shape.email:
        columns.append(_capped_count(_P.customer_email == bindparam("email"), own, *common))
    if shape.ip:
        columns.append(_capped_count(_P.ip_address == bindparam("ip"), *common))
    statement = sa_select(*columns)
    if shape.usual_amount:
        usual = (
            sa_select(
                func.count().label("n"),
                func.coalesce(func.sum(_P.amount_captured), 0).label("total"),
            )
            .where(
                _P.merchant_id == bindparam("merchant_id"),
                _P.livemode == bindparam("livemode"),
                # One bound value per status: Prepared takes no expanding IN.
                _P.status.in_(
                    [bindparam(f"captured_{n}", s) for n, s in enumerate(CAPTURED_STATUSES)]
                ),
                _P.created_at >= bindparam("usual_since"),
                _P.currency == bindparam("currency"),
            )
            .subquery("usual")
        )
        statement = sa_select(*columns, usual.c.n, usual.c.total).select_from(usual)
    prepared = Prepared(statement)
    with _STATEMENTS_LOCK:
        _STATEMENTS[shape] = prepared
    return prepared


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
    shape = _Shape(
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
        values = list(_statement(shape).run(db, params))
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


# ---------------------------------------------------------------------------------------------
# The blocklist. Adding is idempotent: the list is a set, and "make sure this value is blocked"
# is what a merchant (or a retried API call, or a double click) means; adding a value that is
# already there returns the existing entry unchanged. Removing by kind and value is idempotent
# too; removing by entry id is a lookup, so a missing or another merchant's id is a 404.

_FINGERPRINT = re.compile(r"[A-Za-z0-9]{8,64}")
_COUNTRY = re.compile(r"[A-Z]{2}")


def normalise_blocklist_value(kind: str, value: object) -> str:
    """The stored form of a blocklist value, or ValidationFailed (param "kind" or "value")."""
    if kind not in BLOCKLIST_KINDS:
        raise ValidationFailed(
            f"The kind must be one of: {', '.join(BLOCKLIST_KINDS)}", param="kind"
        )
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("A value to block is required", param="value")
    value = value.strip()
    if kind == "email":
        return normalise_email(value, param="value")
    if kind == "ip_address":
        try:
            return normalise_ip(value)
        except ValueError:
            raise ValidationFailed("That is not a valid IP address", param="value") from None
    if kind == "country":
        country = value.upper()
        if not _COUNTRY.fullmatch(country):
            raise ValidationFailed(
                "A country is a two-letter ISO 3166 code, such as US or GB", param="value"
            )
        return country
    # card_fingerprint. A card number pasted by mistake is turned into its fingerprint, so the
    # card is blocked and the number is never stored. Messages never repeat the value.
    try:
        number = cards.normalise_number(value)
    except ValueError:
        number = None
    if number is not None:
        if not cards.luhn_valid(number):
            raise ValidationFailed(
                "That looks like a card number but is not a valid one", param="value"
            )
        return cards.fingerprint(number)
    if not _FINGERPRINT.fullmatch(value):
        raise ValidationFailed(
            "A card fingerprint is 8 to 64 letters and digits, as shown on a payment",
            param="value",
        )
    return value


def _find_entry(db: Session, merchant_id: str, kind: str, value: str) -> BlocklistEntry | None:
    return db.exec(
        select(BlocklistEntry).where(
            BlocklistEntry.merchant_id == merchant_id,
            BlocklistEntry.kind == kind,
            BlocklistEntry.value == value,
        )
    ).first()


# What a payment offers to block, by blocklist kind: the payment's own stored values.
PAYMENT_BLOCKABLES: dict[str, str] = {
    "card_fingerprint": "card_fingerprint",
    "email": "customer_email",
    "ip_address": "ip_address",
}


def blockable_values(db: Session, payment: Payment) -> list[tuple[str, str, bool]]:
    """(kind, value, already blocked) for each value of the payment the blocklist can take."""
    found = []
    for kind, attribute in PAYMENT_BLOCKABLES.items():
        value = getattr(payment, attribute)
        if value:
            listed = _find_entry(db, payment.merchant_id, kind, value) is not None
            found.append((kind, value, listed))
    return found


def add_to_blocklist(
    db: Session,
    merchant_id: str,
    kind: str,
    value: str,
    reason: str = "",
    *,
    actor_type: ActorType = ActorType.SYSTEM,
    actor_id: str | None = None,
) -> BlocklistEntry:
    """Block a value for the merchant (idempotent), in the caller's transaction."""
    value = normalise_blocklist_value(kind, value)
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise ValidationFailed("The reason is too long (300 characters at most)", param="reason")
    existing = _find_entry(db, merchant_id, kind, value)
    if existing is not None:
        return existing
    entry = BlocklistEntry(
        id=new_id("blk"), merchant_id=merchant_id, kind=kind, value=value, reason=reason
    )
    try:
        with db.begin_nested():  # a concurrent add of the same value loses only this savepoint
            db.add(entry)
    except IntegrityError:
        existing = _find_entry(db, merchant_id, kind, value)
        if existing is None:
            raise
        return existing
    audit.record(
        db,
        action="blocklist_entry.created",
        merchant_id=merchant_id,
        actor_type=actor_type,
        actor_id=actor_id,
        object_type="blocklist_entry",
        object_id=entry.id,
        details={"kind": kind, "value": value, "reason": reason},
    )
    return entry


def _remove(
    db: Session, entry: BlocklistEntry, actor_type: ActorType, actor_id: str | None
) -> None:
    db.delete(entry)
    audit.record(
        db,
        action="blocklist_entry.deleted",
        merchant_id=entry.merchant_id,
        actor_type=actor_type,
        actor_id=actor_id,
        object_type="blocklist_entry",
        object_id=entry.id,
        details={"kind": entry.kind, "value": entry.value},
    )
    db.flush()


def remove_from_blocklist(
    db: Session,
    merchant_id: str,
    kind: str,
    value: str,
    *,
    actor_type: ActorType = ActorType.SYSTEM,
    actor_id: str | None = None,
) -> bool:
    """Unblock a value (normalised as when added). False when it was not on the list."""
    entry = _find_entry(db, merchant_id, kind, normalise_blocklist_value(kind, value))
    if entry is None:
        return False
    _remove(db, entry, actor_type, actor_id)
    return True


def delete_blocklist_entry(
    db: Session,
    merchant_id: str,
    entry_id: str,
    *,
    actor_type: ActorType = ActorType.SYSTEM,
    actor_id: str | None = None,
) -> BlocklistEntry:
    """Remove one entry by id; NotFound when it is missing or another merchant's."""
    entry = db.get(BlocklistEntry, entry_id)
    if entry is None or entry.merchant_id != merchant_id:
        raise NotFound("No such blocklist entry", param="id")
    _remove(db, entry, actor_type, actor_id)
    return entry


def list_blocklist(db: Session, merchant_id: str, kind: str | None = None) -> list[BlocklistEntry]:
    """The merchant's entries, newest first, optionally of one kind."""
    query = select(BlocklistEntry).where(BlocklistEntry.merchant_id == merchant_id)
    if kind is not None:
        query = query.where(BlocklistEntry.kind == kind)
    return list(db.exec(query.order_by(BlocklistEntry.created_at.desc())))  # type: ignore[attr-defined]
