"""Processors in the portal: which gateways take the payments of the current mode, in what
order, for which payments and at what price.

Changing live-mode processors (adding one, editing it, turning it on, reordering) asks for a
fresh second-factor code first: it decides where live money goes. Turning one off or deleting
it only takes a route away, so it does not. The add and edit forms ask before they open, so a
Stripe key typed into them is never held in the step-up dialog's state; should the 5-minute
window close while the form is open, Save asks again and the form keeps what was typed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import reflex as rx

from backend.core.config import get_settings
from backend.core.currency import format_money
from backend.core.errors import ServiceError
from backend.services import labels
from backend.services.identity.permissions import Permission
from backend.services.identity.step_up import StepUpRequired
from backend.services.payments import gateway_configs, processor_pages
from backend.services.payments.fees import describe
from backend.services.payments.routing import DEFAULT_FEES, GATEWAY_NAMES, config_fees
from portal.state.auth import AuthState
from portal.state.formatting import major_text, when
from portal.state.step_up import step_up_then
from portal.state.viewer import Viewer, current_viewer

LIVE_ACTION = "Change live payment processors"
# The form's fields, as typed (the state keeps them so an error never loses what was typed).
FORM_FIELDS = (
    "currencies",
    "min_amount",
    "max_amount",
    "fee_percent",
    "fee_fixed",
    "fee_fixed_currency",
    "dispute_fee",
)


def _percent(pips: int | None) -> str:
    return "" if pips is None else f"{Decimal(pips) / 10_000:f}".rstrip("0").rstrip(".")


def _amounts(config: Any, locale: str) -> str:  # a GatewayConfig
    low, high = config.min_amount, config.max_amount
    if low is None and high is None:
        return "Any amount"
    currency = (config.currencies or ["USD"])[0]
    if low is not None and high is not None:
        return f"{format_money(low, currency, locale)} to {format_money(high, currency, locale)}"
    if low is not None:
        return f"From {format_money(low, currency, locale)}"
    return f"Up to {format_money(high or 0, currency, locale)}"


_HEALTH_COLORS = {"closed": "green", "open": "red", "half_open": "amber"}
_HEALTH_BADGES = {"closed": "Reachable", "open": "Skipped: unreachable", "half_open": "On trial"}


def _row(
    config: Any,
    position: int,
    last: int,
    in_use: bool,
    locale: str,
    health: processor_pages.Health | None = None,
) -> dict:
    row = _row_of(config, position, last, in_use, locale)
    state = health.state if health else "closed"
    row["health_state"] = state
    row["health_badge"] = _HEALTH_BADGES.get(state, state)
    row["health_color"] = _HEALTH_COLORS.get(state, "gray")
    row["health"] = health.words if health else "Taking payments."
    row["pinned"] = "yes" if config.pinned else ""
    row["routing"] = (
        "Pinned: tried in your order, before the processors routed by cost"
        if config.pinned
        else "Routed by cost: tried when it is the cheapest for the payment"
    )
    return row


def _row_of(config: Any, position: int, last: int, in_use: bool, locale: str) -> dict:
    key = gateway_configs.masked_key(config)
    if config.gateway == "paypal":
        return _paypal_row(config, position, last, in_use, locale, key)
    if config.gateway == "sandbox":
        account = "Test cards only, no real money"
    elif key:
        account = f"Your Stripe account (key {key})"
    else:
        account = "The platform's Stripe account"
    secret = gateway_configs.masked_webhook_secret(config)
    if not key:
        webhooks = ""
    elif secret:
        webhooks = f"Events from your Stripe account arrive, signed with {secret}"
    else:
        webhooks = "Refunds and disputes made in your Stripe account do not reach us yet"
    schedule = config_fees(config, config.gateway)
    standard = schedule == DEFAULT_FEES[config.gateway]
    return {
        "id": config.id,
        "position": str(position),
        "name": labels.gateway(config.gateway),
        "account": account,
        "currencies": ", ".join(config.currencies) if config.currencies else "All currencies",
        "amounts": _amounts(config, locale),
        "price": describe(schedule, locale) + (" (standard)" if standard else ""),
        "enabled": "yes" if config.enabled else "",
        "first": "yes" if position == 1 else "",
        "last": "yes" if position == last else "",
        "in_use": "yes" if in_use else "",
        "webhooks": webhooks,
        "webhook_ok": "yes" if secret else "",
        "webhook_url": f"{get_settings().app_url.rstrip('/')}/api/webhooks/stripe/{config.id}"
        if key
        else "",
    }


def _paypal_row(
    config: Any, position: int, last: int, in_use: bool, locale: str, key: str | None
) -> dict:
    found = gateway_configs.paypal_credentials(config)
    environment = found[2] if found else "sandbox"
    webhook_id = found[3] if found else None
    schedule = config_fees(config, config.gateway)
    return {
        "id": config.id,
        "position": str(position),
        "name": labels.gateway(config.gateway),
        "account": f"Your PayPal app (client ID {key}, {environment})",
        "currencies": ", ".join(config.currencies) if config.currencies else "All currencies",
        "amounts": _amounts(config, locale),
        "price": describe(schedule, locale)
        + (" (standard)" if schedule == DEFAULT_FEES[config.gateway] else ""),
        "enabled": "yes" if config.enabled else "",
        "first": "yes" if position == 1 else "",
        "last": "yes" if position == last else "",
        "in_use": "yes" if in_use else "",
        "webhooks": f"Events from your PayPal app arrive, checked for webhook ID {webhook_id}"
        if webhook_id
        else "PayPal's events do not reach us yet: add the webhook below in your PayPal app",
        "webhook_ok": "yes" if webhook_id else "",
        "webhook_url": f"{get_settings().app_url.rstrip('/')}/api/webhooks/paypal/{config.id}",
    }


_WALLET_WORDS = {"active": "Active", "inactive": "Not active"}


def _wallets(found: Any, viewer: Viewer) -> dict[str, str]:  # a wallet_domains.WalletsView
    """The Apple Pay and Google Pay panel in words."""
    if not found.stripe:
        summary = (
            "Without Stripe keys the checkout shows test wallet buttons (Apple Pay and Google "
            "Pay stand-ins paying with the test card Visa 4242). With Stripe keys, Stripe's "
            "Payment Element shows the real ones once this domain is registered."
        )
    elif not found.registered:
        summary = (
            f"{found.domain} is not registered with Stripe: the live checkout shows no "
            "Apple Pay or Google Pay until it is."
        )
    else:
        checked = when(found.checked_at, viewer.timezone, viewer.locale)
        summary = f"{found.domain} is registered with Stripe (checked {checked})."

    def status(code: str, error: str) -> str:
        words = _WALLET_WORDS.get(code, "Not registered")
        return f"{words}: {error}" if error else words

    return {
        "stripe": "yes" if found.stripe else "",
        "registered": "yes" if found.registered else "",
        "domain": found.domain,
        "summary": summary,
        "apple_pay": status(found.apple_pay, found.apple_pay_error),
        "apple_pay_on": "yes" if found.apple_pay == "active" else "",
        "google_pay": status(found.google_pay, found.google_pay_error),
        "google_pay_on": "yes" if found.google_pay == "active" else "",
        "association": (
            "Served at /.well-known/apple-developer-merchantid-domain-association."
            if found.association_file
            else "Not set (APPLE_PAY_DOMAIN_ASSOCIATION): live Apple Pay needs Apple's file "
            "from Stripe's dashboard at /.well-known/apple-developer-merchantid-domain-association."
        ),
    }


class ProcessorsState(AuthState):
    rows: list[dict[str, str]] = []
    fallback: str = ""
    health_rule: str = ""
    loaded: bool = False
    can_manage: bool = False
    error: str = ""
    notice: str = ""
    form_open: bool = False
    editing_id: str = ""
    form_gateway: str = "stripe"
    form_values: dict[str, str] = {}
    has_key: bool = False
    # Apple Pay and Google Pay on the live checkout: the checkout domain's status at Stripe.
    wallets: dict[str, str] = {}

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.error = self.notice = ""
        self.form_open = False
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            found = processor_pages.processor_list(viewer.ctx)
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return None
        configs = found.configs
        self.rows = [
            _row(c, i, len(configs), c.id in found.in_use, viewer.locale, found.health.get(c.id))
            for i, c in enumerate(configs, start=1)
        ]
        self.wallets = _wallets(processor_pages.wallets(viewer.ctx), viewer)
        self.health_rule = processor_pages.health_rule()
        self.fallback = processor_pages.fallback_text(viewer.ctx.livemode, bool(configs))
        self.can_manage = viewer.can(Permission.MANAGE_SETTINGS)
        self.loaded = True
        return None

    @rx.var
    def gateway_options(self) -> list[list[str]]:
        names = [n for n in GATEWAY_NAMES if not (self.livemode and n == "sandbox")]
        return [[n, labels.gateway(n)] for n in names]

    @rx.event
    def new_processor(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        if self._needs_step_up(viewer):
            return step_up_then(ProcessorsState.new_processor, LIVE_ACTION)
        self.editing_id, self.error, self.notice, self.has_key = "", "", "", False
        self.form_gateway = "stripe" if viewer.ctx.livemode else "sandbox"
        self.form_values = {"fee_fixed_currency": viewer.default_currency}
        self.form_open = True
        return None

    @rx.event
    def edit_processor(self, config_id: str):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        if self._needs_step_up(viewer):
            return step_up_then(ProcessorsState.edit_processor, LIVE_ACTION, config_id=config_id)
        try:
            config = processor_pages.get_processor(viewer.ctx, str(config_id)[:64])
        except ServiceError as exc:
            self.error = exc.message
            return None
        rules = gateway_configs.rules_of(config)
        range_currency = rules.currencies[0] if len(rules.currencies) == 1 else "USD"
        fixed_currency = rules.fee_fixed_currency or viewer.default_currency
        self.form_values = {
            "currencies": ", ".join(rules.currencies),
            "min_amount": major_text(rules.min_amount, range_currency),
            "max_amount": major_text(rules.max_amount, range_currency),
            "fee_percent": _percent(rules.fee_percent_pips),
            "fee_fixed": major_text(rules.fee_fixed, fixed_currency),
            "fee_fixed_currency": fixed_currency,
            "dispute_fee": major_text(rules.dispute_fee, fixed_currency),
        }
        self.editing_id, self.form_gateway = config.id, config.gateway
        self.has_key = config.credentials_encrypted is not None
        self.error = self.notice = ""
        self.form_open = True
        return None

    def _needs_step_up(self, viewer: Viewer) -> bool:
        return processor_pages.needs_step_up(viewer.ctx)

    @rx.event
    def confirmed(self) -> None:
        self.error, self.notice = "", "Confirmed: save again to apply the change."

    @rx.event
    def close_form(self) -> None:
        self.form_open, self.editing_id = False, ""

    @rx.event
    def choose_gateway(self, gateway: str) -> None:
        if gateway in GATEWAY_NAMES and not self.editing_id:
            self.form_gateway = gateway

    @rx.event
    def save(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        typed = {name: str(form.get(name, ""))[:400].strip() for name in FORM_FIELDS}
        secret = str(form.get("secret_key", ""))[:300].strip() or None
        webhook_secret = str(form.get("webhook_secret", ""))[:500].strip() or None
        paypal = self.form_gateway == "paypal"
        client_id = str(form.get("client_id", ""))[:200].strip() if paypal else None
        webhook_id = str(form.get("webhook_id", ""))[:100].strip() if paypal else None
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            config = processor_pages.save_processor(
                viewer.ctx,
                typed,
                viewer.locale,
                editing_id=self.editing_id,
                gateway=self.form_gateway,
                secret_key=secret,
                webhook_secret=webhook_secret,
                ip_address=self.router.session.client_ip,
                client_id=client_id,
                webhook_id=webhook_id,
            )
        except StepUpRequired:
            # The form stays open with what was typed (the key too: it stays in the page).
            self.form_values = typed
            return step_up_then(ProcessorsState.confirmed, LIVE_ACTION)
        except ServiceError as exc:
            self.form_values, self.error = typed, exc.message
            return None
        name = labels.gateway(config.gateway)
        self.notice = f"Saved {name}." if self.editing_id else f"Added {name}."
        self.error, self.form_open, self.editing_id = "", False, ""
        return self._reload()

    @rx.event
    def set_enabled(self, config_id: str, enabled: bool):  # type: ignore[no-untyped-def]
        return self._change(
            lambda ctx, ip: processor_pages.set_enabled(
                ctx, str(config_id)[:64], bool(enabled), ip_address=ip
            ),
            "Turned it on: it takes new payments."
            if enabled
            else "Turned it off: it takes no "
            "new payments, and its payments' captures and refunds still go through it.",
            resume=(ProcessorsState.set_enabled, {"config_id": config_id, "enabled": enabled}),
        )

    @rx.event
    def move(self, config_id: str, offset: int):  # type: ignore[no-untyped-def]
        return self._change(
            lambda ctx, ip: processor_pages.move(
                ctx, str(config_id)[:64], 1 if offset == 1 else -1, ip_address=ip
            ),
            "Order saved: processors are tried from the top.",
            resume=(ProcessorsState.move, {"config_id": config_id, "offset": offset}),
        )

    @rx.event
    def set_pinned(self, config_id: str, pinned: bool):  # type: ignore[no-untyped-def]
        return self._change(
            lambda ctx, ip: processor_pages.set_pinned(
                ctx, str(config_id)[:64], bool(pinned), ip_address=ip
            ),
            "Pinned: tried in your order, before the others."
            if pinned
            else "Unpinned: routed by cost.",
            resume=(ProcessorsState.set_pinned, {"config_id": config_id, "pinned": pinned}),
        )

    @rx.event
    def delete(self, config_id: str):  # type: ignore[no-untyped-def]
        return self._change(
            lambda ctx, ip: processor_pages.delete(ctx, str(config_id)[:64], ip_address=ip),
            "Deleted.",
            resume=None,
        )

    @rx.event
    def register_wallet_domain(self, check_only: bool):  # type: ignore[no-untyped-def]
        return self._change(
            lambda ctx, ip: processor_pages.register_wallet_domain(
                ctx, check_only=bool(check_only), ip_address=ip
            ),
            "Checked with Stripe." if check_only else "Registered with Stripe.",
            resume=None,
        )

    def _change(self, act, done: str, *, resume):  # type: ignore[no-untyped-def]
        """act(session context, client address): the service checks permission and step-up."""
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            act(viewer.ctx, self.router.session.client_ip)
        except StepUpRequired:
            if resume is None:
                raise
            handler, kwargs = resume
            return step_up_then(handler, LIVE_ACTION, **kwargs)
        except ServiceError as exc:
            # Refused, perhaps because the page was stale (a payment since): show it as it is.
            self.error, self.notice = exc.message, ""
            return self._reload()
        self.error, self.notice = "", done
        return self._reload()
