"""Settings, Bank account: the payout account, connected through Plaid Link or the sandbox twin."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity.permissions import Permission
from backend.services.identity.step_up import StepUpRequired
from backend.services.merchant import bank_page
from backend.services.payments import bank_linking
from portal.state.auth import AuthState
from portal.state.formatting import when
from portal.state.step_up import step_up_then
from portal.state.viewer import current_viewer

ACTION = "Change the payout bank account"


class BankAccountState(AuthState):
    loaded: bool = False
    can_manage: bool = False
    provider: str = "sandbox"
    account: dict[str, str] = {}
    sandbox_choices: list[list[str]] = []  # [value "institution:subtype", label]
    picking: bool = False  # the sandbox twin's bank picker is open
    confirm_remove: bool = False
    error: str = ""
    notice: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.error = self.notice = ""
        self.picking = self.confirm_remove = False
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        page = bank_page.bank_page(viewer.ctx)
        account = page.account
        self.account = (
            _shown(account, page.verified_by, viewer.timezone, viewer.locale) if account else {}
        )
        self.can_manage = viewer.can(Permission.MANAGE_BANK)
        self.provider = page.provider
        self.sandbox_choices = page.sandbox_choices
        self.loaded = True
        return None

    @rx.event
    def start_connect(self):  # type: ignore[no-untyped-def]
        """Ask for a fresh code first, then open Plaid Link (or the sandbox bank picker)."""
        self.error = self.notice = ""
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            token = bank_page.start_connect(viewer.ctx)
            if token is None:  # the sandbox twin: its own bank picker
                self.picking = True
                return None
        except StepUpRequired:
            return step_up_then(BankAccountState.start_connect, ACTION)
        except ServiceError as exc:
            self.error = exc.message
            return None
        script = bank_linking.open_link_with(token)
        return rx.call_script(script, callback=BankAccountState.plaid_finished)

    @rx.event
    def cancel_pick(self) -> None:
        self.picking = False

    @rx.event
    def connect_sandbox(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        choice = str(form.get("account", ""))[:80]
        institution_id, _, subtype = choice.partition(":")
        try:
            public_token, account_id = bank_page.sandbox_link(institution_id, subtype)
        except ServiceError as exc:
            self.error = exc.message
            return None
        return self._connect(public_token, account_id)

    @rx.event
    def plaid_finished(self, result: dict):  # type: ignore[no-untyped-def, type-arg]
        result = result if isinstance(result, dict) else {}
        if not result.get("public_token"):  # Link closed: by the person, or on an error
            self.error = str(result.get("error") or "")[:300]
            self.notice = "" if self.error else "No bank account was connected."
            return None
        return self._connect(
            str(result["public_token"])[:200], str(result.get("account_id", ""))[:200]
        )

    @rx.event
    def resume_connect(self, public_token: str, account_id: str):  # type: ignore[no-untyped-def]
        """After a fresh code: the same, still unused, public token and account."""
        return self._connect(str(public_token)[:200], str(account_id)[:200])

    def _connect(self, public_token: str, account_id: str):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            bank_page.connect(
                viewer.ctx,
                public_token,
                account_id,
                ip_address=self.router.session.client_ip or None,
            )
        except StepUpRequired:
            return step_up_then(
                BankAccountState.resume_connect,
                ACTION,
                public_token=public_token,
                account_id=account_id,
            )
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.picking, self.error = False, ""
        self.notice = "Connected and verified: this is now your payout account."
        return self._reload()

    @rx.event
    def ask_remove(self) -> None:
        self.confirm_remove, self.error, self.notice = True, "", ""

    @rx.event
    def keep(self) -> None:
        self.confirm_remove = False

    @rx.event
    def remove(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            bank_page.remove(viewer.ctx, ip_address=self.router.session.client_ip or None)
        except StepUpRequired:
            return step_up_then(BankAccountState.remove, ACTION)
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.confirm_remove = False
        self.notice = "Removed. Connect an account to receive payouts."
        return self._reload()


def _shown(account: Any, by: str, timezone: str, locale: str) -> dict[str, str]:
    return {
        "bank": account.institution_name,
        "name": account.account_name,
        "number": f"{account.subtype.capitalize()} ••{account.mask}",
        "routing": account.routing_number,
        "verified": f"Verified {when(account.verified_at, timezone, locale)}"
        + (f" by {by}" if by else ""),
        "via": "Plaid" if account.provider == "plaid" else "the Plaid sandbox twin",
    }
