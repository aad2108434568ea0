"""Fee arithmetic on integer minor units.

The rounding rule: a percentage fee is `amount * percent_pips / 1_000_000` rounded half up to
the currency's minor unit (ROUND_HALF_UP on exact integers, never floats), plus the fixed fee
when it is set for that currency. Fees are capped so they never exceed the amount (platform fee
first, then the gateway's), and net is always `total - platform_fee - gateway_fee`, so
fee + net == total holds for every amount and currency by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import format_percent

from backend.core.currency import exponent, format_money
from backend.models import FeeOverride, FeeTier

PIPS_PER_UNIT = 1_000_000  # 100% in hundredths of a basis point


def percent_of(amount: int, percent_pips: int) -> int:
    """amount * pips / 1e6 rounded half up, exact on integers of any size."""
    if amount < 0 or percent_pips < 0:
        raise ValueError("amount and percentage must be non-negative")
    quotient, remainder = divmod(amount * percent_pips, PIPS_PER_UNIT)
    return quotient + (1 if remainder * 2 >= PIPS_PER_UNIT else 0)


@dataclass(frozen=True)
class FeeSchedule:
    """A percentage plus fixed fees per currency (a fixed fee only applies in its currency)."""

    percent_pips: int
    fixed_fees: dict[str, int] = field(default_factory=dict)

    def fee_for(self, amount: int, currency: str) -> int:
        return percent_of(amount, self.percent_pips) + self.fixed_fees.get(currency, 0)


def describe(schedule: FeeSchedule, locale: str = "en_US") -> str:
    """The price as people write it in the locale: "2.9% + $0.30", "1,5%"."""
    percent = format_percent(
        Decimal(schedule.percent_pips) / PIPS_PER_UNIT, format="#,##0.####%", locale=locale
    )
    fixed = [format_money(v, c, locale) for c, v in schedule.fixed_fees.items() if v]
    return percent + (f" + {', '.join(fixed)}" if fixed else "")


# Stripe's standard card pricing: 2.9% + 30 cents (US). Configurable per gateway.
STRIPE_DEFAULT = FeeSchedule(percent_pips=29_000, fixed_fees={"USD": 30})
# PayPal Checkout's standard US price: 3.49% + 0.49 USD.
PAYPAL_DEFAULT = FeeSchedule(percent_pips=34_900, fixed_fees={"USD": 49})


@dataclass(frozen=True)
class FeeBreakdown:
    total: int
    platform_fee: int
    gateway_fee: int
    net: int


def compute_fees(
    amount: int, currency: str, platform: FeeSchedule, gateway: FeeSchedule
) -> FeeBreakdown:
    platform_fee = min(platform.fee_for(amount, currency), amount)
    gateway_fee = min(gateway.fee_for(amount, currency), amount - platform_fee)
    return FeeBreakdown(amount, platform_fee, gateway_fee, amount - platform_fee - gateway_fee)


def schedule_of(tier: FeeTier, override: FeeOverride | None) -> FeeSchedule:
    """A tier's price with the fields an override sets (its null fields keep the tier's)."""
    percent = tier.percent_pips
    fixed, fixed_currency = tier.fixed_fee, tier.fixed_fee_currency
    if override is not None:
        if override.percent_pips is not None:
            percent = override.percent_pips
        if override.fixed_fee is not None:
            fixed = override.fixed_fee
            fixed_currency = override.fixed_fee_currency or fixed_currency
    return FeeSchedule(percent, {fixed_currency: fixed} if fixed else {})


def returned_platform_fee(
    *, original_fee: int, captured: int, refunded_before: int, refund: int
) -> int:
    """The platform fee handed back with one refund, in proportion to the amount refunded.

    Computed on the running total so that partial refunds that add up to the whole amount
    return exactly the whole fee, never a cent more or less.
    """
    if captured <= 0:
        return 0
    after = (original_fee * (refunded_before + refund) * 2 + captured) // (2 * captured)
    before = (original_fee * refunded_before * 2 + captured) // (2 * captured)
    return after - before


DEFAULT_DISPUTE_FEE = 1_500  # Stripe's 15.00 USD


def dispute_fee(currency: str, configured: dict[str, int] | None) -> int:
    """The processor's fee for a dispute in `currency` (minor units): the configured amount,
    else 15.00 in a currency with cents (USD 15.00, EUR 15.00) and 1,500 of a currency without
    (JPY 1,500), 15.000 of one with mills: a default of the right order until the merchant
    sets the processor's real fee on the Processors page."""
    if configured and currency in configured:
        return int(configured[currency])
    return DEFAULT_DISPUTE_FEE * 10 ** max(exponent(currency) - 2, 0)


# A bank debit (ACH) returned by the customer's bank after it succeeded costs the merchant this
# fee, as Stripe charges 4.00 USD for an ACH Direct Debit failure or return. Bank debits are
# USD only, so it has one currency.
BANK_RETURN_FEE = 400
