"""Settings: business profile, e-mail notifications, refund limits and the price (with a
worked example), each change checked against the member's role on the server."""

from __future__ import annotations

from zoneinfo import available_timezones

import reflex as rx
from babel import Locale

from backend.core.currency import format_money, to_major
from backend.core.errors import ServiceError
from backend.services.identity.permissions import Permission
from backend.services.merchant import business_profile, portal_settings
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
    retry_days: str = ""
    dunning_end: str = "cancel"
    portal_allows_cancel: bool = True
    dunning_message: str = ""
    dunning_error: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.profile_message = self.profile_error = self.notify_message = ""
        self.limits_message = self.limits_error = self.example_error = ""
        self.dunning_message = self.dunning_error = ""
        return self._reload()

    def _reload(self, example_amount: int | None = None):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            page = portal_settings.settings_page(viewer.ctx, example_amount=example_amount)
        except ServiceError as exc:
            self.profile_error = exc.message
            self.loaded = True
            return None
        merchant, choices, price = page.merchant, page.choices, page.price
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
        self.retry_days = page.dunning.retry_days
        self.dunning_end = page.dunning.end
        self.portal_allows_cancel = page.dunning.portal_allows_cancel
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
            portal_settings.save_profile(
                viewer.ctx, profile, ip_address=self.router.session.client_ip
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
            saved = portal_settings.set_notification(viewer.ctx, str(kind), bool(value))
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
            portal_settings.save_refund_limits(
                viewer.ctx,
                {
                    "support_refund_limit": str(form.get("support_limit", "")).strip(),
                    "step_up_refund_threshold": str(form.get("step_up_threshold", "")).strip(),
                },
                self.limit_currency,
                viewer.locale,
                ip_address=self.router.session.client_ip,
            )
        except ServiceError as exc:
            self.limits_error, self.limits_message = exc.message, ""
            return None
        self.limits_error, self.limits_message = "", "Refund limits saved."
        return self._reload()

    @rx.event
    def save_dunning(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            portal_settings.save_dunning(
                viewer.ctx,
                str(form.get("retry_days", "")),
                str(form.get("dunning_end", "cancel")),
                str(form.get("portal_allows_cancel", "")) == "on",
                ip_address=self.router.session.client_ip,
            )
        except ServiceError as exc:
            self.dunning_error, self.dunning_message = exc.message, ""
            return None
        self.dunning_error, self.dunning_message = "", "Subscription settings saved."
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
