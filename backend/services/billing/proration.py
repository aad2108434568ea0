"""Proration: what a change in the middle of a billing period credits and charges, exactly, in
integer minor units. Pure arithmetic, no database.

Subscriptions bill in advance: at the start of a period [start, end) an item (a price's unit
amount * quantity) is billed in full. When the item changes at `moment` (another price, another
quantity, added or removed), as Stripe does:

- the **credit** hands back the old item's unused time, [moment, end);
- the **charge** bills the new item's remaining time, [moment, end).

Time is counted in whole seconds (as Stripe prorates): `elapsed` = the whole seconds from start
to moment, `length` = the period's whole seconds (a fraction of a second is dropped).

**Rounding.** One function rounds, `share`: the part of an amount that pays for [start, moment)
is amount * elapsed / length rounded to the nearest minor unit, a half unit up (on integers, no
float: (2 * amount * elapsed + length) // (2 * length)). It is 0 at the start, the whole amount
at the end, and never decreases as the moment moves on. The credit and the charge are never
rounded themselves: each is the amount minus its share (`unused`), so

    used part + unused part == amount, exactly, for every amount, moment and currency;

the customer ends up paying `share(old)` for the time the old item ran plus `unused(new)` for
the rest, and a chain of changes in one period telescopes the same way: no minor unit is lost
or made, a credit never exceeds what was billed, and a charge never exceeds the new item's
amount for a whole period. Zero-decimal (JPY) and three-decimal (KWD) currencies need nothing
special: amounts are already integers in their minor unit.

What the billing engine uses: `Item`, `share`, `unused`, `prorate` (→ `Proration`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.core.currency import normalise_currency
from backend.services.billing.periods import Period, utc, whole_seconds


@dataclass(frozen=True)
class Item:
    """A subscription item as billing sees it: unit amount (minor units) * quantity."""

    currency: str
    unit_amount: int
    quantity: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", normalise_currency(self.currency))
        for name in ("unit_amount", "quantity"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, not {value!r}")

    @property
    def amount(self) -> int:
        """What a whole period of it costs."""
        return self.unit_amount * self.quantity


@dataclass(frozen=True)
class Proration:
    """A change at one moment: credit the old item's unused time, charge the new one's.

    Both are >= 0 minor units; an invoice shows the credit as a negative line."""

    currency: str
    credit: int
    charge: int

    @property
    def net(self) -> int:
        """What the change adds to the customer's bill (negative: owed back)."""
        return self.charge - self.credit


def share(amount: int, period: Period, moment: datetime) -> int:
    """The part of `amount` that pays for [period.start, moment), rounded half up."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount must be an int >= 0, not {amount!r}")
    moment = utc(moment)
    if not period.start <= moment <= period.end:
        raise ValueError(f"{moment} is outside the period {period.start} .. {period.end}")
    length = period.seconds
    if length < 1:
        raise ValueError("a billing period lasts at least a second")
    elapsed = min(whole_seconds(moment - period.start), length)
    return (2 * amount * elapsed + length) // (2 * length)


def unused(amount: int, period: Period, moment: datetime) -> int:
    """The part of `amount` that pays for [moment, period.end): amount - share."""
    return amount - share(amount, period, moment)


def prorate(period: Period, moment: datetime, old: Item | None, new: Item | None) -> Proration:
    """The credit for old's unused time and the charge for new's remaining time at `moment`.

    `old` is None when an item is added mid-period, `new` None when one is removed (or when
    the change starts a new period, whose first bill the engine makes in full). Both given
    must be in the same currency (a subscription bills in one)."""
    if old is None and new is None:
        raise ValueError("prorate needs an old item, a new item or both")
    currencies = {item.currency for item in (old, new) if item is not None}
    if len(currencies) != 1:
        raise ValueError(f"one currency per subscription, not {sorted(currencies)}")
    credit = unused(old.amount, period, moment) if old is not None else 0
    charge = unused(new.amount, period, moment) if new is not None else 0
    return Proration(currencies.pop(), credit=credit, charge=charge)
