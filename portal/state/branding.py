"""Checkout branding in the portal: the logo and the brand colour, with a contrast check."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.checkout import branding
from backend.services.identity import permissions, sessions
from backend.services.merchant import portal_settings
from portal.state.auth import AuthState

P = permissions.Permission


class BrandingState(AuthState):
    brand_color: str = "#4f46e5"
    draft_color: str = "#4f46e5"
    logo_url: str = ""
    can_manage: bool = False
    loaded: bool = False
    error: str = ""
    notice: str = ""
    uploading: bool = False

    @rx.var
    def preview_text_color(self) -> str:
        try:
            return branding.button_colors(self.draft_color).text
        except ServiceError:
            return branding.WHITE

    @rx.var
    def contrast_note(self) -> str:
        try:
            colors = branding.button_colors(self.draft_color)
        except ServiceError:
            return "Enter a colour as #rrggbb."
        text = "white" if colors.text == branding.WHITE else "dark"
        return (
            f"The Pay button gets {text} text: contrast {colors.ratio:.1f}:1, "
            f"{'meets' if colors.passes_aa else 'below'} WCAG AA (4.5:1)."
        )

    @rx.var
    def draft_valid(self) -> bool:
        try:
            branding.normalise_color(self.draft_color)
        except ServiceError:
            return False
        return True

    def _signed_in(self) -> sessions.SessionContext | None:
        return self._load_context()

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        ctx = self._signed_in()
        if ctx is None:
            return AuthState.require_session
        found = portal_settings.branding_page(ctx)
        if found is not None:
            self.brand_color = self.draft_color = found.brand_color
            self.logo_url = found.logo_url
        self.can_manage = permissions.can(self.role, P.MANAGE_SETTINGS)
        self.loaded = True
        return None

    @rx.event
    def set_draft_color(self, value: str) -> None:
        self.draft_color = value.strip()[:7]

    @rx.event
    def save_color(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        ctx = self._signed_in()
        if ctx is None:
            return AuthState.require_session
        try:
            color = portal_settings.save_brand_color(ctx, form.get("brand_color", ""))
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        self.brand_color = self.draft_color = color
        self.error, self.notice = "", "Brand colour saved."
        return None

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        ctx = self._signed_in()
        if ctx is None:
            return AuthState.require_session
        if not files:
            self.error = "Choose an image first."
            return None
        data = await files[0].read(branding.MAX_LOGO_BYTES + 1)
        try:
            url = portal_settings.upload_logo(ctx, data)
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        self.logo_url = url
        self.error, self.notice = "", "Logo uploaded. Your checkout shows it now."
        return None

    @rx.event
    def remove_logo(self):  # type: ignore[no-untyped-def]
        ctx = self._signed_in()
        if ctx is None:
            return AuthState.require_session
        try:
            portal_settings.remove_logo(ctx)
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        self.logo_url = ""
        self.error, self.notice = "", "Logo removed."
        return None
