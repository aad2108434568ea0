"""The portal's security pages, one unit of work per action: Settings, Security (authenticator
app, recovery codes, the phone for text-message codes), the step-up dialog, "Your sessions",
and the demo's outbox of sandbox texts (/dev/sms).

Each function takes the signed-in member's resolved session, opens its own unit of work and
returns plain values or frozen dataclasses the page state copies. The services underneath
check the step-up window where an action is sensitive (StepUpRequired reaches the page, which
asks for a fresh code and runs the action again).
"""

from __future__ import annotations

from dataclasses import dataclass

from ua_parser import parse

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.models import Merchant, User
from backend.services.identity import sessions, sms, step_up, two_factor
from backend.services.identity.sessions import SessionContext
from backend.services.reporting import audit_log

# ---------------------------------------------------------------------------------------------
# Settings, Security


@dataclass(frozen=True)
class SecurityOverview:
    two_factor_on: bool
    recovery_codes_left: int
    phone: str  # the verified phone, masked, or ""


def security_overview(ctx: SessionContext) -> SecurityOverview | None:
    """What the security page shows; None when the account is gone."""
    with session_scope(readonly=True) as db:
        user = db.get(User, ctx.user_id)
        left = two_factor.recovery_codes_left(db, ctx.user_id)
    if user is None:
        return None
    return SecurityOverview(
        two_factor.is_enabled(user), left, sms.mask(user.phone) if user.phone_verified_at else ""
    )


def begin_enrolment(ctx: SessionContext) -> two_factor.Enrolment:
    """A new authenticator-app key, kept until a first code confirms it."""
    with session_scope() as db:
        return two_factor.begin_enrolment(db, ctx.user_id)


def confirm_enrolment(ctx: SessionContext, code: str) -> list[str]:
    """Turn 2FA on with a first code; the recovery codes, shown this once."""
    with session_scope() as db:
        return two_factor.confirm_enrolment(db, ctx.user_id, code, session_id=ctx.session_id)


def regenerate_recovery_codes(ctx: SessionContext) -> list[str]:
    """New recovery codes (a fresh code first); the old ones stop working."""
    with session_scope() as db:
        return two_factor.regenerate_recovery_codes(db, ctx.user_id, session_id=ctx.session_id)


def disable_two_factor(ctx: SessionContext) -> None:
    """Turn 2FA off (a fresh code first)."""
    with session_scope() as db:
        two_factor.disable(db, ctx.user_id, session_id=ctx.session_id)


def start_phone_enrolment(ctx: SessionContext, number: str) -> str:
    """Text a code to a new phone; the masked number it went to. On an account with 2FA on, a
    new factor takes a fresh code first."""
    with session_scope() as db:
        user = db.get(User, ctx.user_id)
        if user is not None and two_factor.is_enabled(user):
            step_up.require_fresh(db, ctx.session_id)
        row = sms.start_phone_enrolment(db, ctx.user_id, number)
        return sms.mask(row.phone)


def confirm_phone(ctx: SessionContext, code: str) -> None:
    with session_scope() as db:
        sms.confirm_phone(db, ctx.user_id, code, merchant_id=ctx.merchant_id)


def remove_phone(ctx: SessionContext) -> None:
    with session_scope() as db:
        sms.remove_phone(db, ctx.user_id, merchant_id=ctx.merchant_id)


# ---------------------------------------------------------------------------------------------
# The step-up dialog


@dataclass(frozen=True)
class StepUpChoice:
    """The factors the member may prove now (none: 2FA must be set up first)."""

    methods: list[str]
    phone_hint: str  # the last four digits of the verified phone, or ""


def step_up_choice(ctx: SessionContext) -> StepUpChoice:
    with session_scope(readonly=True) as db:
        user = db.get(User, ctx.user_id)
        methods = two_factor.methods_for(user) if user else []
        phone = user.phone if user and user.phone_verified_at else None
    return StepUpChoice(methods, f"••• ••• {phone[-4:]}" if phone else "")


def send_step_up_sms(ctx: SessionContext) -> str:
    """Text a step-up code; the masked number it went to."""
    with session_scope() as db:
        return two_factor.send_sms(db, ctx.user_id, purpose="step_up")


def prove_step_up(ctx: SessionContext, method: str, code: str) -> None:
    """Prove a factor now: the session's step-up window opens."""
    with session_scope() as db:
        two_factor.step_up_with(
            db, session_id=ctx.session_id, user_id=ctx.user_id, method=method, code=code
        )


# ---------------------------------------------------------------------------------------------
# Your sessions


def describe_device(user_agent: str | None) -> str:
    """ "Chrome 140 on Linux" from a User-Agent header (ua-parser's maintained rules)."""
    if not user_agent:
        return "Unknown device"
    result = parse(user_agent)
    browser = result.user_agent.family if result.user_agent else "Unknown browser"
    if result.user_agent and result.user_agent.major:
        browser += f" {result.user_agent.major}"
    system = result.os.family if result.os else ""
    return f"{browser} on {system}" if system and system != "Other" else browser


@dataclass(frozen=True)
class SignedInSession:
    id: str
    device: str
    ip: str
    last_seen: str
    signed_in: str
    current: bool


def signed_in_sessions(ctx: SessionContext) -> list[SignedInSession]:
    """Where this person is signed in, the current browser first, times in the merchant's
    time zone."""
    with session_scope(readonly=True) as db:
        merchant = db.get(Merchant, ctx.merchant_id)
        tz = merchant.timezone if merchant else "UTC"
        found = sessions.active_sessions(db, ctx.user_id)
    return [
        SignedInSession(
            id=s.id,
            device=describe_device(s.user_agent),
            ip=s.ip_address or "Unknown address",
            last_seen=audit_log.format_time(s.last_seen_at, tz)[:-3],
            signed_in=audit_log.format_time(s.created_at, tz)[:-3],
            current=s.id == ctx.session_id,
        )
        for s in sorted(found, key=lambda s: s.id != ctx.session_id)
    ]


def revoke_session(ctx: SessionContext, session_id: str) -> None:
    """Sign out one of this person's other sessions (NotFound for anyone else's)."""
    with session_scope() as db:
        sessions.revoke_session(db, ctx, session_id)


def sign_out_others(ctx: SessionContext) -> int:
    """Sign out every other session of this person; how many."""
    with session_scope() as db:
        return sessions.sign_out_others(db, ctx)


# ---------------------------------------------------------------------------------------------
# The demo's /dev/sms


@dataclass(frozen=True)
class SentText:
    to: str
    body: str
    at: str


def sandbox_texts() -> list[SentText] | None:
    """The texts the sandbox twin "sent", newest first; None in production (no outbox)."""
    if get_settings().is_production:
        return None
    with session_scope(readonly=True) as db:
        rows = sms.sandbox_outbox(db)
    return [
        SentText(m.to_phone, m.body, m.created_at.strftime("%d %b %Y, %H:%M:%S UTC")) for m in rows
    ]
