"""The risk rules: what scores a payment, how many points, and how a reason reads.

risk.assess adds up the points of these rules, caps the sum at 100 and decides against the
merchant's thresholds; rule_descriptions explains them to merchants from the same constants.

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

Reasons are stable, machine-readable strings: "velocity_card:6_in_1h",
"amount_far_above_usual:8.3x", "blocklisted_email", "country_mismatch:card=GB,billing=US",
"test_card_always_blocks"; people read them through risk.describe_reason. Counts are capped at
VELOCITY_COUNT_CAP and then shown as "50+": the rules only need to know whether a threshold is
passed, and the cap bounds the work each count does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

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


@dataclass(frozen=True)
class RuleDescription:
    """One rule as the portal explains it to merchants, built from the constants above so the
    explanation cannot drift from what is scored."""

    name: str
    counts: str
    points: str


def _tiers_text(tiers: tuple[tuple[int, int], ...], unit: str) -> str:
    return ", ".join(f"more than {n}{unit}: +{points}" for n, points in reversed(tiers))


def span_words(window: timedelta) -> str:
    """'hour', '2 hours', '30 minutes': the span in words, after "the last"."""
    minutes = int(window.total_seconds()) // 60
    number, unit = (minutes // 60, "hour") if minutes % 60 == 0 else (minutes, "minute")
    return unit if number == 1 else f"{number} {unit}s"


def rule_descriptions() -> list[RuleDescription]:
    span = span_words(VELOCITY_WINDOW)
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
