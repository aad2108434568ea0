"""Which gateway handles a payment: per-merchant configuration, rules, cost and failover.

Among the configurations whose rules match the payment (currency, amount, method), pinned ones
are tried first in the merchant's order; the others follow cheapest first for that amount and
currency by their configured price (percentage rounded half up on integers, plus the fixed fee
in that currency), ties in the merchant's order. Each route carries why it was chosen, in words,
and every try is recorded with it as a PaymentAttempt by the caller's `record` callback.

A gateway that is unreachable (`GatewayUnavailable`, outcome known) hands over to the next and
counts against its circuit breaker (`circuit.py`): one that keeps failing is skipped without
being tried for a cool-down. A gateway that may have acted is asked again, never replaced; a
card decline is an answer, never a reason to try elsewhere.

With no configuration a merchant's test mode uses Stripe when STRIPE_SECRET_KEY is set and the
built-in sandbox otherwise; live mode never uses the sandbox.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TypeVar

from sqlmodel import Session, select

from backend.core.config import get_settings
from backend.core.crypto import decrypt_json
from backend.core.currency import format_money
from backend.core.errors import ServiceError, ValidationFailed
from backend.core.ttl_cache import TTLMemo, forget_on_commit
from backend.gateways.base import Gateway, GatewayUnavailable
from backend.models import GatewayConfig, Payment, PaymentMethod
from backend.services.payments import circuit
from backend.services.payments.fees import PAYPAL_DEFAULT, STRIPE_DEFAULT, FeeSchedule, describe

GATEWAY_NAMES = ("sandbox", "stripe", "paypal")
# The ways to pay that payments, saved methods and processor rules name.
PAYMENT_METHOD_TYPES = ("card", "paypal", "bank")
# What each gateway can take: a configuration whose rules name no method still only gets these.
# "bank": a US bank debit (ACH), through Stripe's us_bank_account or the sandbox's test banks.
GATEWAY_METHODS: dict[str, tuple[str, ...]] = {
    "sandbox": ("card", "bank"),
    "stripe": ("card", "bank"),
    "paypal": ("paypal",),
}
# The sandbox charges what Stripe would, so test mode shows realistic fees and net amounts.
# PayPal's standard US price for PayPal Checkout: 3.49% + 0.49 USD.
DEFAULT_FEES = {
    "sandbox": STRIPE_DEFAULT,
    "stripe": STRIPE_DEFAULT,
    "paypal": PAYPAL_DEFAULT,
}

T = TypeVar("T")
log = logging.getLogger(__name__)


class AllGatewaysUnavailable(ServiceError):
    status = 503
    code = "gateway_unavailable"


# The codes of AllGatewaysUnavailable: no processor answered, so nothing is decided yet.
UNAVAILABLE_CODES = frozenset({"gateway_unavailable", "gateway_outcome_unknown"})


GATEWAY_LABELS = {"sandbox": "Sandbox", "stripe": "Stripe", "paypal": "PayPal"}


@dataclass(frozen=True)
class Route:
    name: str
    gateway: Gateway
    fees: FeeSchedule
    config_id: str | None = None
    # The processor account in words ("Stripe", "Stripe account …4242") and why this payment
    # went to it ("cheapest: …", "pinned first", "failover: …"), kept on its PaymentAttempt.
    label: str = ""
    reason: str | None = None


@lru_cache(maxsize=64)
def _build(name: str, secret: str | None, paypal: tuple[str, str, str] | None = None) -> Gateway:
    """The gateway client of `name`: `secret` is a merchant's own Stripe key; `paypal` a
    merchant's PayPal app (client id, secret, environment), without which PayPal is its
    offline twin (test mode only: candidate_routes never sends a live payment there)."""
    if name == "paypal":
        from backend.gateways.paypal import PayPalClient, PayPalGateway, PayPalTwin

        if paypal is None:
            return PayPalTwin()
        settings = get_settings()
        client_id, client_secret, environment = paypal
        client = PayPalClient(
            client_id, client_secret, environment=environment, api_base=settings.paypal_api_base
        )
        return PayPalGateway(client, return_url=settings.app_url)
    if name == "sandbox":
        from backend.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    if name == "stripe":
        settings = get_settings()
        key = secret or settings.stripe_secret_key
        if not key:
            raise ValidationFailed(
                "Stripe is not configured for this account: set STRIPE_SECRET_KEY or add a "
                'Stripe gateway with credentials, or use gatewayType "sandbox" in test mode',
                code="gateway_not_configured",
                param="gatewayType",
            )
        from backend.gateways.stripe_gateway import StripeGateway

        return StripeGateway(key, api_base=settings.stripe_api_base)
    raise ValidationFailed(f"Unknown gateway {name!r}", param="gatewayType")


def config_fees(config: GatewayConfig | None, name: str) -> FeeSchedule:
    """The processor's price: the configuration's own where it sets one, else the gateway's."""
    fees = DEFAULT_FEES[name]
    if config is None or (config.fee_percent_pips is None and config.fee_fixed is None):
        return fees
    return FeeSchedule(
        config.fee_percent_pips if config.fee_percent_pips is not None else fees.percent_pips,
        dict(config.fee_fixed) if config.fee_fixed is not None else fees.fixed_fees,
    )


def _route(config: GatewayConfig | None, name: str) -> Route:
    secret, paypal = None, None
    if config is not None and config.credentials_encrypted:
        stored = decrypt_json(config.credentials_encrypted)
        if name == "paypal" and stored.get("client_id") and stored.get("client_secret"):
            environment = str(stored.get("environment") or "sandbox")
            paypal = (str(stored["client_id"]), str(stored["client_secret"]), environment)
        else:
            secret = stored.get("secret_key")
    config_id = config.id if config else None
    gateway = _build(name, secret, paypal) if paypal else _build(name, secret)
    label = GATEWAY_LABELS.get(name, name)
    if paypal:
        label = f"PayPal app \u2026{paypal[0][-4:]}"
    elif secret:
        label = f"{label} account \u2026{str(secret)[-4:]}"
    return Route(name, gateway, config_fees(config, name), config_id, label)


@dataclass(frozen=True)
class _Candidate:
    """An enabled gateway configuration, detached from any session, with its route built."""

    gateway: str
    currencies: tuple[str, ...]
    methods: tuple[str, ...]
    min_amount: int | None
    max_amount: int | None
    # The route, or why it cannot be built (raised only if this gateway is chosen).
    route: Route | ServiceError
    pinned: bool = False

    def chosen(self) -> Route:
        if isinstance(self.route, ServiceError):
            error = self.route  # a fresh exception each time: threads share this entry
            raise type(error)(error.message, code=error.code, param=error.param)
        return self.route


# Each merchant's enabled gateways per mode, in priority order, with their credentials already
# decrypted into a route. A configuration changed in another worker applies to payments at most
# CACHE_TTL_SECONDS later (2 s by default); in this process at once (forget_on_commit below).
_CONFIGS: TTLMemo[tuple[_Candidate, ...]] = TTLMemo("gateway_configs")


def _enabled_configs(db: Session, merchant_id: str, livemode: bool) -> tuple[_Candidate, ...]:
    def load() -> tuple[_Candidate, ...]:
        configs = db.exec(
            select(GatewayConfig)
            .where(
                GatewayConfig.merchant_id == merchant_id,
                GatewayConfig.livemode == livemode,
                GatewayConfig.enabled == True,  # noqa: E712
            )
            .order_by(GatewayConfig.priority, GatewayConfig.created_at, GatewayConfig.id)
        ).all()
        return tuple(
            _Candidate(
                c.gateway,
                tuple(c.currencies or ()),
                tuple(c.methods or ()),
                c.min_amount,
                c.max_amount,
                _route_or_error(c),
                bool(c.pinned),
            )
            for c in configs
        )

    return _CONFIGS.get((merchant_id, livemode), load)


def _route_or_error(config: GatewayConfig) -> Route | ServiceError:
    try:
        return _route(config, config.gateway)
    except ServiceError as exc:
        return exc


forget_on_commit(GatewayConfig, _CONFIGS, lambda row: (row.merchant_id, row.livemode))  # type: ignore[attr-defined]


def _matches(
    config: GatewayConfig | _Candidate, amount: int | None, currency: str | None, method: str
) -> bool:
    """Whether a configuration takes the payment; an amount or currency of None (saving a
    card, no payment yet) matches any rule on it."""
    return (
        method in GATEWAY_METHODS.get(config.gateway, ())
        and (not config.currencies or currency is None or currency in config.currencies)
        and (not config.methods or method in config.methods)
        and (config.min_amount is None or amount is None or amount >= config.min_amount)
        and (config.max_amount is None or amount is None or amount <= config.max_amount)
    )


def merchant_takes(
    db: Session, *, merchant_id: str, livemode: bool, amount: int, currency: str, method: str
) -> bool:
    """Whether one of the merchant's own enabled processors takes `method` for this amount and
    currency: what a payment link offers beside cards (Stripe's dynamic payment methods)."""
    return any(
        _matches(c, amount, currency, method) and not (livemode and c.gateway == "sandbox")
        for c in _enabled_configs(db, merchant_id, livemode)
    )


def candidate_routes(
    db: Session,
    *,
    merchant_id: str,
    livemode: bool,
    amount: int | None,
    currency: str | None,
    method: str,
    requested: str | None = None,
) -> list[Route]:
    if requested is not None and requested not in GATEWAY_NAMES:
        raise ValidationFailed(
            f"gatewayType must be one of {', '.join(GATEWAY_NAMES)}", param="gatewayType"
        )
    if livemode and requested == "sandbox":
        raise ValidationFailed(
            "The sandbox gateway only takes test-mode payments",
            param="gatewayType",
            code="gateway_not_available",
        )
    configs = _enabled_configs(db, merchant_id, livemode)
    if configs:
        matching = [
            c
            for c in configs
            if _matches(c, amount, currency, method)
            and requested in (None, c.gateway)
            and not (livemode and c.gateway == "sandbox")
        ]
        if matching:
            return order_routes(
                [(c.chosen(), c.pinned) for c in matching], amount, currency, requested
            )
    default = "no processor of yours takes this payment: the platform's default"
    if method == "paypal" or requested == "paypal":
        return [replace(_paypal_fallback(livemode, method, requested), reason=default)]
    if requested == "sandbox" or (
        requested is None and not livemode and not get_settings().stripe_enabled
    ):
        return [replace(_route(None, "sandbox"), reason=default)]
    if requested in (None, "stripe") and (get_settings().stripe_enabled or requested):
        return [replace(_route(None, "stripe"), reason=default)]
    raise ValidationFailed(
        "No gateway is configured for live payments on this account",
        code="gateway_not_configured",
        param="gatewayType",
    )


def route_cost(route: Route, amount: int, currency: str) -> int:
    """What the processor charges for the payment, in minor units: its percentage rounded half
    up on integers plus its fixed fee when that is in the payment's currency."""
    return route.fees.fee_for(amount, currency)


def price_words(route: Route, amount: int, currency: str) -> str:
    """The price that applies to this payment and its result: "Stripe 2.9% + $0.30 = $3.20"."""
    fixed = route.fees.fixed_fees.get(currency)
    applicable = FeeSchedule(route.fees.percent_pips, {currency: fixed} if fixed else {})
    cost = format_money(route_cost(route, amount, currency), currency)
    return f"{route.label or route.name} {describe(applicable)} = {cost}"


def order_routes(
    candidates: list[tuple[Route, bool]],
    amount: int | None,
    currency: str | None,
    requested: str | None = None,
) -> list[Route]:
    """The matching routes (given in the merchant's order, each with whether it is pinned) in
    the order to try them, each with why: pinned ones first in the merchant's order, then the
    others cheapest first for this amount and currency, ties in the merchant's order (a stable
    sort: the same inputs always give the same order). Without an amount (saving a card) the
    merchant's order stands."""
    asked = f'gatewayType "{requested}"; ' if requested else ""
    if len(candidates) == 1:
        route = candidates[0][0]
        price = (
            f": {price_words(route, amount, currency)}" if amount is not None and currency else ""
        )
        return [replace(route, reason=f"{asked}the only processor whose rules take it{price}")]
    pinned = [route for route, is_pinned in candidates if is_pinned]
    free = [route for route, is_pinned in candidates if not is_pinned]
    ordered: list[Route] = [
        replace(r, reason=f"{asked}pinned {_nth(i)} in your order") for i, r in enumerate(pinned)
    ]
    if amount is None or currency is None:
        start = len(ordered)
        return ordered + [
            replace(r, reason=f"{asked}{_nth(start + i)} in your order") for i, r in enumerate(free)
        ]
    costed = sorted(
        ((route_cost(r, amount, currency), i, r) for i, r in enumerate(free)),
        key=lambda item: (item[0], item[1]),
    )
    for position, (cost, _, route) in enumerate(costed):
        words = price_words(route, amount, currency)
        if position == 0:
            others = [price_words(r, amount, currency) for _, _, r in costed[1:3]]
            more = len(costed) - 3
            vs = (
                f" vs {', '.join(others)}" + (f" and {more} more" if more > 0 else "")
                if others
                else ""
            )
            tied = [r.label or r.name for c, _, r in costed[1:] if c == cost]
            tie = f" (tied with {', '.join(tied)}: first in your order)" if tied else ""
            after = "after the pinned ones, " if pinned else ""
            reason = f"{asked}{after}cheapest: {words}{vs}{tie}"
        else:
            reason = f"{asked}next cheapest: {words}"
        ordered.append(replace(route, reason=reason))
    return ordered


def _nth(index: int) -> str:
    return "first" if index == 0 else f"#{index + 1}"


def _paypal_fallback(livemode: bool, method: str, requested: str | None) -> Route:
    """No PayPal processor takes the payment: test mode uses PayPal's offline twin."""
    if method != "paypal" or requested not in (None, "paypal"):
        raise ValidationFailed(
            'PayPal takes paymentMethod.type "paypal" only, and only PayPal takes it',
            code="gateway_not_available",
            param="gatewayType" if requested else "paymentMethod.type",
        )
    if livemode:
        raise ValidationFailed(
            "No PayPal processor is set up for live payments on this account: add one on the "
            "Processors page",
            code="gateway_not_configured",
            param="paymentMethod.type",
        )
    return _route(None, "paypal")


def _config_for_payment(db: Session, payment: Payment) -> GatewayConfig | None:
    """The configuration that took the payment, even if disabled since. Payments from before
    configurations were recorded on them use the gateway's first one (or none: the
    platform's default)."""
    if payment.gateway_config_id is not None:
        config = db.exec(
            select(GatewayConfig).where(
                GatewayConfig.id == payment.gateway_config_id,
                GatewayConfig.merchant_id == payment.merchant_id,
            )
        ).first()
        if config is not None:
            return config
    return db.exec(
        select(GatewayConfig)
        .where(
            GatewayConfig.merchant_id == payment.merchant_id,
            GatewayConfig.livemode == payment.livemode,
            GatewayConfig.gateway == payment.gateway,
        )
        .order_by(GatewayConfig.priority)
    ).first()


def route_key(route: Route) -> str:
    """The processor account a route reaches: its configuration, or the platform's gateway."""
    return route.config_id or route.name


def route_for_saved_card(db: Session, method: PaymentMethod, *, for_charge: bool = True) -> Route:
    """The processor account a saved card lives at: it can be charged there only. A
    configuration turned off takes no new charges, saved cards' included (`for_charge`), but
    its cards can still be detached."""
    if method.gateway_config_id is None:
        return _route(None, method.gateway)
    config = db.exec(
        select(GatewayConfig).where(
            GatewayConfig.id == method.gateway_config_id,
            GatewayConfig.merchant_id == method.merchant_id,
        )
    ).first()
    if config is None or (for_charge and not config.enabled):
        raise ValidationFailed(
            "The processor this card was saved at is turned off: turn it on again, or save "
            "the card anew",
            code="payment_method_unavailable",
            param="paymentMethod",
        )
    return _route(config, method.gateway)


def route_for_payment(db: Session, payment: Payment) -> Route:
    """The gateway that holds an existing payment: captures, voids and refunds never switch
    gateway or configuration (credentials and price)."""
    return _route(_config_for_payment(db, payment), payment.gateway)


def config_of_payment(db: Session, payment: Payment) -> GatewayConfig | None:
    """The configuration whose credentials an existing payment's gateway calls use (None: the
    platform's own)."""
    return _config_for_payment(db, payment)


def route_for_config(config: GatewayConfig | None, name: str = "stripe") -> Route:
    """The gateway of one configuration (None: the platform's own account of `name`), for
    reading that processor account as a whole (its payouts and balance movements)."""
    return _route(config, config.gateway if config is not None else name)


def fees_for_payment(db: Session, payment: Payment) -> FeeSchedule:
    """The processor's price for an existing payment, without building a gateway client."""
    return config_fees(_config_for_payment(db, payment), payment.gateway)


RecordAttempt = Callable[[Route, str, str | None, str | None, int], None]


def call(
    route: Route,
    operation: Callable[[Gateway], T],
    record: RecordAttempt,
    outcome_of: Callable[[T], tuple[str, str | None, str | None]],
) -> T:
    """Run one gateway operation, recording the attempt whatever happens."""
    started = time.perf_counter()
    try:
        result = operation(route.gateway)
    except GatewayUnavailable as exc:
        record(route, "error", exc.code, exc.message, _ms(started))
        raise
    except ServiceError as exc:
        record(route, "rejected", exc.code, exc.message, _ms(started))
        raise
    outcome, code, message = outcome_of(result)
    record(route, outcome, code, message, _ms(started))
    return result


@dataclass(frozen=True)
class Health:
    """The circuit breakers of one mode's processor accounts, read and written through `db`."""

    db: Session
    livemode: bool

    def admit(self, route: Route) -> circuit.Admission:
        try:
            return circuit.admit(
                self.db, route_key(route), self.livemode, route.label or route.name
            )
        except circuit.SHARING_ERRORS:
            # Where circuits are shared cannot be read: payments go on as without a breaker.
            log.warning("circuit of %s unreadable; trying it", route_key(route), exc_info=True)
            return circuit.Admission(True)

    def failed(self, route: Route, error: str) -> None:
        try:
            circuit.failed(self.db, route_key(route), self.livemode, error)
        except circuit.SHARING_ERRORS:
            log.warning("circuit of %s not updated", route_key(route), exc_info=True)

    def answered(self, route: Route) -> None:
        try:
            circuit.answered(self.db, route_key(route), self.livemode)
        except circuit.SHARING_ERRORS:
            log.warning("circuit of %s not updated", route_key(route), exc_info=True)


def first_closed(db: Session, routes: list[Route], livemode: bool) -> Route:
    """The first route whose circuit is closed (the first route when none is)."""
    for route in routes:
        if circuit.read(db, route_key(route), livemode).state == circuit.CLOSED:
            return route
    return routes[0]


def with_failover(
    routes: list[Route],
    operation: Callable[[Gateway], T],
    record: RecordAttempt,
    outcome_of: Callable[[T], tuple[str, str | None, str | None]],
    *,
    health: Health | None = None,
) -> tuple[Route, T]:
    """The first route that answers, and its answer.

    A gateway whose circuit is open (`health`) is skipped without being tried. A gateway that
    was never reached (refused connection, bad credentials, rate limit) hands over to the next
    and counts against its circuit. A gateway that may have acted without answering (read
    timeout, reset, 5xx) is asked once more with the same idempotency key, which replays its
    first answer; if it still cannot say, the payment stops there rather than risk charging the
    customer twice on another gateway. Each route tried carries why it was chosen, with why the
    ones before it were passed over.
    """
    errors: list[str] = []
    passed_over: list[str] = []
    for route in routes:
        if health is not None:
            admission = health.admit(route)
            if not admission.allowed:
                passed_over.append(admission.note or f"{route.label} skipped")
                errors.append(admission.note or route.name)
                continue
            if admission.trial and admission.note:
                passed_over.append(admission.note)
        tried = _explained(route, passed_over)
        try:
            result = call(tried, operation, record, outcome_of)
        except GatewayUnavailable as exc:
            if not exc.outcome_unknown:
                if health is not None:
                    health.failed(route, exc.message)
                errors.append(f"{route.name}: {exc.message}")
                passed_over.append(f"failover: {route.label or route.name} could not be reached")
                continue
        except ServiceError:
            if health is not None:
                health.answered(route)  # it answered: a refusal is not an outage
            raise
        else:
            if health is not None:
                health.answered(route)
            return tried, result
        again = replace(
            tried,
            reason=f"asked again with the same idempotency key: {route.label or route.name} may "
            "have acted, so it is never replaced by another",
        )
        try:
            result = call(again, operation, record, outcome_of)
        except GatewayUnavailable as exc:
            raise AllGatewaysUnavailable(
                f"{route.name} did not answer and may have processed the payment; retry the "
                "request with the same Idempotency-Key to learn its outcome",
                code="gateway_outcome_unknown",
            ) from exc
        if health is not None:
            health.answered(route)
        return again, result
    raise AllGatewaysUnavailable(
        f"The payment processor could not be reached. Try again shortly. ({'; '.join(errors)})"
    )


def _explained(route: Route, passed_over: list[str]) -> Route:
    if not passed_over:
        return route
    why = "; ".join(note.rstrip(".") for note in passed_over)  # notes may be sentences
    return replace(route, reason=f"{why}; then {route.reason}" if route.reason else why)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
