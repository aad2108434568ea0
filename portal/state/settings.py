"""Settings: business profile, e-mail notifications, refund limits and the price (with a
worked example), each change checked against the member's role on the server."""

from __future__ import annotations

from zoneinfo import available_timezones

import reflex as rx
from babel import Locale

from backend.core.currency import format_money, to_major
from backend.core.db import session_scope
from backend.core.errors import NotFound, ServiceError
from backend.models import Merchant
from backend.services.identity.permissions import Permission
from backend.services.merchant import business_profile, notifications
from backend.services.payments.money_input import parse_money
from portal.state.auth import AuthState
from portal.state.viewer import current_viewer

COUNTRIES = sorted(business_profile.COUNTRIES.items(), key=lambda item: item[1])
TIMEZONES = [
    "UTC",
    *sorted(tz for tz in available_timezones() if "/" in tz and not tz.startswith("Etc/")),
]
LOCALES = [(code, Locale.parse(code).get_display_name("en")) for code in business_profile.LOCALES]
CURRENCIES = [
    "USD",
    "EUR",
    "GBP",
    "CAD",
    "AUD",
    "JPY",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "MXN",
    "BRL",
]


class SettingsState(AuthState):
    profile: dict[str, str] = {}
    currency_options: list[str] = CURRENCIES
    choices: dict[str, bool] = {}
    support_limit: str = ""
    step_up_threshold: str = ""
    limit_currency: str = ""
    tier: dict[str, str] = {}
    example_amount: str = ""
    example: dict[str, str] = {}
    can_manage: bool = False
    loaded: bool = False
    profile_message: str = ""
    profile_error: str = ""
    notify_message: str = ""
    limits_message: str = ""
    limits_error: str = ""
    example_error: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.profile_message = self.profile_error = self.notify_message = ""
        self.limits_message = self.limits_error = self.example_error = ""
        return self._reload()

    def _reload(self, example_amount: int | None = None):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            viewer.require(Permission.VIEW_DATA)
            with session_scope(readonly=True) as db:
                merchant = db.get(Merchant, viewer.ctx.merchant_id)
                if merchant is None:
                    raise NotFound("No such merchant")
                choices = notifications.get_choices(
                    db,
                    merchant_id=merchant.id,
                    user_id=viewer.ctx.user_id,
                    role=viewer.ctx.role,
                )
                price = business_profile.price(db, merchant.id, example_amount=example_amount)
        except ServiceError as exc:
            self.profile_error = exc.message
            self.loaded = True
            return None
        locale, currency = merchant.locale, merchant.default_currency
        self.profile = {
            "name": merchant.name,
            "support_email": merchant.support_email,
            "country": merchant.country,
            "timezone": merchant.timezone,
            "locale": merchant.locale,
            "default_currency": merchant.default_currency,
        }
        self.choices = choices.as_dict()
        self.currency_options = sorted({*CURRENCIES, merchant.default_currency})
        self.limit_currency = currency
        self.support_limit = str(to_major(merchant.support_refund_limit, currency))
        self.step_up_threshold = str(to_major(merchant.step_up_refund_threshold, currency))
        self.tier = {
            "name": price.tier_name + (" (negotiated price)" if price.negotiated else ""),
            "description": price.tier_description,
            "rate": price.describe(locale),
        }
        ex = price.example
        self.example_amount = str(to_major(ex.total, price.example_currency))
        self.example = {
            "total": format_money(ex.total, price.example_currency, locale),
            "platform": format_money(ex.platform_fee, price.example_currency, locale),
            "gateway": format_money(ex.gateway_fee, price.example_currency, locale),
            "net": format_money(ex.net, price.example_currency, locale),
        }
        self.can_manage = viewer.can(Permission.MANAGE_SETTINGS)
        self.loaded = True
        return None

    @rx.event
    def save_profile(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        profile = business_profile.Profile(
            **{
                key: str(form.get(key, ""))[:320]
                for key in business_profile.Profile.__annotations__
            }
        )
        try:
            viewer.require(Permission.MANAGE_SETTINGS)
            with session_scope() as db:
                business_profile.update_profile(
                    db,
                    viewer.ctx.merchant_id,
                    profile,
                    actor=viewer.actor(self.router.session.client_ip),
                )
        except ServiceError as exc:
            self.profile_error, self.profile_message = exc.message, ""
            return None
        self.profile_error, self.profile_message = "", "Business profile saved."
        return self._reload()

    @rx.event
    def toggle_notification(self, kind: str, value: bool):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            with session_scope() as db:
                saved = notifications.set_choices(
                    db,
                    merchant_id=viewer.ctx.merchant_id,
                    user_id=viewer.ctx.user_id,
                    choices={str(kind): bool(value)},
                )
        except ServiceError as exc:
            self.notify_message = exc.message
            return None
        self.choices = saved.as_dict()
        self.notify_message = "Saved."
        return None

    @rx.event
    def save_limits(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            viewer.require(Permission.MANAGE_SETTINGS)
            currency = self.limit_currency
            values = {}
            for key, param in (
                ("support_limit", "support_refund_limit"),
                ("step_up_threshold", "step_up_refund_threshold"),
            ):
                text = str(form.get(key, "")).strip()
                values[param] = parse_money(text, currency, viewer.locale, param=param, minimum=0)
            with session_scope() as db:
                business_profile.update_refund_limits(
                    db,
                    viewer.ctx.merchant_id,
                    **values,
                    actor=viewer.actor(self.router.session.client_ip),
                )
        except ServiceError as exc:
            self.limits_error, self.limits_message = exc.message, ""
            return None
        self.limits_error, self.limits_message = "", "Refund limits saved."
        return self._reload()

    @rx.event
    def try_example(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            amount = parse_money(
                str(form.get("amount", "")), self.limit_currency, viewer.locale, param="amount"
            )
        except ServiceError as exc:
            self.example_error = exc.message
            return None
        self.example_error = ""
        return self._reload(example_amount=amount)
