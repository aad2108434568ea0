"""The portal's session cookie, set and cleared only here, so no script can read it.

After a sign-in (or sign-up, invitation, second factor) the portal's state holds a one-time
grant (services.identity.sessions.issue_grant); the page posts it here as a plain form, and the
answer sets `pp_session` HttpOnly and SameSite=Strict (Secure in production) and sends the
browser on. The next page load opens a new websocket whose handshake carries the cookie, which
is how the state learns who is signed in. A successful sign-in also marks the browser as a
known device for that account (`pp_device`, signed, HttpOnly): see services.identity.devices.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backend.api.errors import error_response
from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.services.identity import devices, sessions

router = APIRouter(prefix="/api/session", tags=["portal session"], include_in_schema=False)
_MAX_FIELD = 2000


def _secure() -> bool:
    settings = get_settings()
    return settings.is_production or settings.app_url.startswith("https://")


async def _fields(request: Request) -> dict[str, str]:
    """The posted fields, from a form (the portal) or a JSON object; junk gives no fields."""
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, str) and len(v) <= _MAX_FIELD}
    pairs = parse_qs(text, keep_blank_values=True, max_num_fields=10)
    return {k: v[0] for k, v in pairs.items() if v and len(v[0]) <= _MAX_FIELD}


def _cross_site(request: Request) -> Response | None:
    """A form posted from another site (login CSRF, forced sign-out) is refused."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        return error_response(403, "cross_site", "Sign in from the portal's own page")
    return None


@router.post("")
async def open_session(request: Request) -> Response:
    """Trade a sign-in's one-time grant for the HttpOnly session cookie; 303 to the next page."""
    refused = _cross_site(request)
    if refused is not None:
        return refused
    fields = await _fields(request)

    def redeem() -> tuple[str, str]:
        with session_scope() as db:
            token, row = sessions.redeem_grant(db, fields.get("grant"))
            return token, devices.device_cookie(row.user_id)

    try:
        token, device = await run_in_threadpool(redeem)
    except ValidationFailed as exc:
        return error_response(400, exc.code, exc.message, exc.param)
    response = RedirectResponse(sessions.safe_next(fields.get("next")), status_code=303)
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        max_age=get_settings().session_max_hours * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(),
    )
    response.set_cookie(
        devices.COOKIE_NAME,
        device,
        max_age=int(devices.REMEMBER_FOR.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(),
    )
    return response


@router.post("/sign-out")
async def close_session(request: Request) -> Response:
    """Revoke the session row behind the cookie and clear the cookie; 303 to sign-in."""
    refused = _cross_site(request)
    if refused is not None:
        return refused
    token = request.cookies.get(sessions.COOKIE_NAME)

    def revoke() -> None:
        with session_scope() as db:
            sessions.sign_out(db, token)

    await run_in_threadpool(revoke)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        sessions.COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=_secure()
    )
    return response
