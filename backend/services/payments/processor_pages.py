"""The portal's Processors page for a signed-in member: which gateways take the payments of
the session's mode, in what order, for which payments and at what price.

Each function checks the member's permission, then (for changes that decide where live money
goes) a fresh second factor in live mode, in the same unit of work as the change, and acts
through gateway_configs. Turning a processor off or deleting it only takes a route away, so
it needs no step-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.models import GatewayConfig
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.checkout import wallet_domains
from backend.services.context import Actor, Scope
from backend.services.identity import step_up
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext
from backend.services.identity.step_up import StepUpRequired
from backend.services.payments import circuit, gateway_configs
from backend.services.payments.money_input import parse_money, parse_percent


def _scope(ctx: SessionContext) -> Scope:
    return Scope(ctx.merchant_id, ctx.livemode)


def _actor(ctx: SessionContext, ip_address: str | None) -> Actor:
    return Actor(ActorType.USER, ctx.user_id, ip_address or None)


@dataclass(frozen=True)
class Health:
    """A processor's circuit breaker as the page shows it."""

    state: str  # closed, open, half_open
    words: str  # "open since 22:14:05 UTC, not tried; a trial payment in 12 s (last error: …)"


@dataclass(frozen=True)
class ProcessorList:
    configs: list[GatewayConfig]  # in the merchant's order (pinned ones are tried first)
    in_use: set[str]  # ids of the configs that have payments
    health: dict[str, Health]  # by config id, read fresh from the shared circuit table


def processor_list(ctx: SessionContext) -> ProcessorList:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        configs = gateway_configs.list_configs(db, _scope(ctx))
        used = {c.id for c in configs if gateway_configs.has_payments(db, c.id)}
        circuits = circuit.read_fresh(db, [c.id for c in configs], ctx.livemode)
    health = {key: Health(c.state, circuit.describe(c)) for key, c in circuits.items()}
    return ProcessorList(list(configs), used, health)


def health_rule() -> str:
    """The circuit breaker's rule in words, from the constants routing uses."""
    seconds = int(circuit.WINDOW.total_seconds())
    return (
        f"After {circuit.FAILURES_TO_OPEN} failures to reach a processor within {seconds} "
        f"seconds it is skipped for {int(circuit.COOL_DOWN.total_seconds())} seconds, then "
        "tried again with one payment."
    )


def set_pinned(
    ctx: SessionContext, config_id: str, pinned: bool, *, ip_address: str | None
) -> None:
    """Pinning decides where live money goes first: a fresh code in live mode, either way."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        if ctx.livemode:
            step_up.require_fresh(db, ctx.session_id)
        gateway_configs.set_pinned(
            db, _scope(ctx), config_id, pinned, actor=_actor(ctx, ip_address)
        )


def needs_step_up(ctx: SessionContext) -> bool:
    """Whether a change of live processors would ask for a fresh second factor now."""
    if not ctx.livemode:
        return False
    try:
        with session_scope(readonly=True) as db:
            step_up.require_fresh(db, ctx.session_id)
    except StepUpRequired:
        return True
    return False


def get_processor(ctx: SessionContext, config_id: str) -> GatewayConfig:
    with session_scope(readonly=True) as db:
        return gateway_configs.get_config(db, _scope(ctx), config_id)


def save_processor(
    ctx: SessionContext,
    typed: Mapping[str, str],
    locale: str,
    *,
    editing_id: str,
    gateway: str,
    secret_key: str | None,
    webhook_secret: str | None,
    ip_address: str | None,
    client_id: str | None = None,
    webhook_id: str | None = None,
) -> GatewayConfig:
    """Change the processor `editing_id`, or add one of `gateway` when it is "", with the
    rules typed in the form (rules_from_form). PayPal: `client_id`, `secret_key` (its client
    secret) and `webhook_id`; None (or blank when editing) keeps what is stored."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    rules = rules_from_form(typed, locale)
    paypal = None
    if client_id is not None or webhook_id is not None:
        paypal = gateway_configs.PayPalCredentials(client_id or None, webhook_id or None)
    with session_scope() as db:
        if ctx.livemode:
            step_up.require_fresh(db, ctx.session_id)
        actor = _actor(ctx, ip_address)
        if editing_id:
            return gateway_configs.update(
                db,
                _scope(ctx),
                editing_id,
                rules=rules,
                secret_key=secret_key,
                webhook_secret=webhook_secret,
                actor=actor,
                paypal=paypal,
            )
        return gateway_configs.add(
            db,
            _scope(ctx),
            gateway=gateway,
            secret_key=secret_key,
            webhook_secret=webhook_secret,
            rules=rules,
            actor=actor,
            paypal=paypal,
        )


def set_enabled(
    ctx: SessionContext, config_id: str, enabled: bool, *, ip_address: str | None
) -> None:
    """Turning one on asks for a fresh code in live mode; turning it off does not."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        if enabled and ctx.livemode:
            step_up.require_fresh(db, ctx.session_id)
        gateway_configs.set_enabled(
            db, _scope(ctx), config_id, enabled, actor=_actor(ctx, ip_address)
        )


def move(ctx: SessionContext, config_id: str, offset: int, *, ip_address: str | None) -> None:
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        if ctx.livemode:
            step_up.require_fresh(db, ctx.session_id)
        gateway_configs.move(db, _scope(ctx), config_id, offset, actor=_actor(ctx, ip_address))


def delete(ctx: SessionContext, config_id: str, *, ip_address: str | None) -> None:
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        gateway_configs.delete(db, _scope(ctx), config_id, actor=_actor(ctx, ip_address))


def _split(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.replace(",", " ").split() if part)


def rules_from_form(typed: dict[str, str], locale: str) -> gateway_configs.Rules:
    """The form's text as rules: amounts in the range's one currency, the price in its own."""
    currencies = tuple(c.upper() for c in _split(typed["currencies"]))
    low, high = typed["min_amount"], typed["max_amount"]
    min_amount = max_amount = None
    if low or high:
        currency = gateway_configs.range_currency(currencies)
        if low:
            min_amount = parse_money(low, currency, locale, param="min_amount", minimum=0)
        if high:
            max_amount = parse_money(high, currency, locale, param="max_amount")
    percent = (
        parse_percent(typed["fee_percent"], locale, param="fee_percent")
        if typed["fee_percent"]
        else None
    )
    fixed_currency = typed["fee_fixed_currency"].upper() or None
    fees: dict[str, int | None] = {"fee_fixed": None, "dispute_fee": None}
    for name in fees:
        if typed.get(name):
            fees[name] = parse_money(
                typed[name], fixed_currency or "USD", locale, param=name, minimum=0
            )
    priced = any(fee is not None for fee in fees.values())
    return gateway_configs.Rules(
        currencies=currencies,
        min_amount=min_amount,
        max_amount=max_amount,
        fee_percent_pips=percent,
        fee_fixed=fees["fee_fixed"],
        fee_fixed_currency=fixed_currency if priced else None,
        dispute_fee=fees["dispute_fee"],
    )


def fallback_text(livemode: bool, configured: bool) -> str:
    """What happens to a payment no processor here takes."""
    stripe = get_settings().stripe_enabled
    if livemode and not stripe:
        if configured:
            return "Live payments no processor above takes are refused."
        return "Live payments are refused until you add a Stripe processor."
    if livemode:
        target = "the platform's Stripe account"
    else:
        target = "the platform's Stripe test account" if stripe else "the built-in sandbox"
    lead = "Payments no processor above takes go to " if configured else "Payments go to "
    return lead + target + "."


def wallets(ctx: SessionContext) -> wallet_domains.WalletsView:
    """Apple Pay and Google Pay on the live checkout: the domain's status at Stripe."""
    require(ctx.role, Permission.VIEW_DATA)
    return wallet_domains.view()


def register_wallet_domain(
    ctx: SessionContext, *, check_only: bool = False, ip_address: str | None = None
) -> None:
    """Register the checkout's domain with Stripe, or (check_only) ask Stripe to verify it
    again: the domain is APP_URL's host, never typed in. The merchant's audit log says who
    asked and what Stripe answered."""
    require(ctx.role, Permission.MANAGE_SETTINGS)
    with session_scope() as db:
        row = wallet_domains.check(db) if check_only else wallet_domains.register(db)
        audit.record(
            db,
            action="payment_method_domain.checked"
            if check_only
            else "payment_method_domain.registered",
            merchant_id=ctx.merchant_id,
            livemode=ctx.livemode,
            actor_type=ActorType.USER,
            actor_id=ctx.user_id,
            object_type="payment_method_domain",
            object_id=row.id,
            ip_address=ip_address or None,
            details={
                "domain": row.domain_name,
                "applePay": row.apple_pay_status,
                "googlePay": row.google_pay_status,
            },
        )
