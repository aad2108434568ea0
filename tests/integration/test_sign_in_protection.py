"""Sign-in protection on SQLite and PostgreSQL: the per-address throttle and the per account
and address pair throttle survive the caller's rollback; a stranger cannot lock the owner out;
known and unknown e-mails answer alike; passwords are re-hashed when the parameters change."""

from __future__ import annotations

import secrets
import statistics
import time
from datetime import timedelta

import pytest
from passlib.context import CryptContext
from sqlmodel import select

from backend.core import security
from backend.core.db import session_scope
from backend.core.errors import AuthenticationFailed, RateLimited
from backend.models import AuditLog, LoginThrottle, User
from backend.services.identity import devices, login_throttle, sessions, two_factor
from tests.integration.identity_support import PASSWORD, sign_up, unique_email

pytestmark = pytest.mark.usefixtures("configured_app")


def _attempt(address: str, password: str, ip: str | None) -> Exception | None:
    """One sign-in as the portal makes it: its own unit of work, rolled back on error."""
    try:
        with session_scope() as db:
            sessions.sign_in(db, email=address, password=password, ip_address=ip)
    except (AuthenticationFailed, RateLimited) as exc:
        return exc
    return None


def _age_failures(ip: str, seconds: int) -> None:
    with session_scope() as db:
        row = db.get(LoginThrottle, login_throttle.throttle_key(ip))
        assert row is not None
        row.last_failure_at -= timedelta(seconds=seconds)
        db.add(row)


def test_failures_for_an_account_count_although_each_attempt_rolls_back() -> None:
    address = unique_email()
    _, ctx = sign_up(address)
    for _ in range(sessions.MAX_FAILED_LOGINS):
        assert isinstance(_attempt(address, "wrong password!", None), AuthenticationFailed)
    refused = _attempt(address, PASSWORD, None)
    assert isinstance(refused, RateLimited)
    assert "Try again in 15 minutes" in refused.message or "16 minutes" in refused.message
    with session_scope(readonly=True) as db:
        failed = db.exec(
            select(AuditLog).where(
                AuditLog.merchant_id == ctx.merchant_id, AuditLog.action == "user.sign_in_failed"
            )
        ).all()
    assert len(failed) == sessions.MAX_FAILED_LOGINS


def _fresh_ip() -> str:
    """An address of its own, a /64 the throttle has never seen (it counts IPv6 per /64): the
    PostgreSQL database outlives a run, so an address from the clock can meet an old row."""
    return f"2001:db8:{secrets.randbelow(65536):x}:{secrets.randbelow(65536):x}::1"


def test_a_stranger_elsewhere_cannot_lock_the_owner_out() -> None:
    address = unique_email()
    _, ctx = sign_up(address)
    stranger = _fresh_ip()
    for _ in range(sessions.MAX_FAILED_LOGINS):
        assert isinstance(_attempt(address, "wrong password!", stranger), AuthenticationFailed)
    refused = _attempt(address, PASSWORD, stranger)
    assert isinstance(refused, RateLimited)
    assert "Too many failed sign-ins to this account from here" in refused.message
    # The owner from their own address is not affected.
    assert _attempt(address, PASSWORD, "198.51.100.77") is None
    # Nor from the stranger's very network (a shared NAT), on a browser known to the account;
    # a known-device cookie of another account, or a forged one, does not help.
    own = devices.device_cookie(ctx.user_id)
    other = devices.device_cookie("usr_someone_else")
    for cookie, allowed in ((other, False), (own[:-1] + "x", False), (own, True)):
        try:
            with session_scope() as db:
                two_factor.begin_login(
                    db, email=address, password=PASSWORD, ip_address=stranger, device=cookie
                )
            outcome = True
        except RateLimited:
            outcome = False
        assert outcome is allowed


def test_unknown_and_known_emails_answer_alike_in_about_the_same_time() -> None:
    address = unique_email()
    sign_up(address)
    timings: dict[bool, list[float]] = {True: [], False: []}
    messages: set[tuple[type, str]] = set()
    for attempt in range(4):
        for known in (True, False):
            who = address if known else unique_email("nobody")
            started = time.perf_counter()
            refused = _attempt(who, "wrong password!", f"192.0.2.{200 + attempt * 2 + known}")
            timings[known].append(time.perf_counter() - started)
            assert refused is not None
            messages.add((type(refused), refused.message))
    assert messages == {(AuthenticationFailed, sessions.WRONG_CREDENTIALS)}
    known, unknown = statistics.median(timings[True]), statistics.median(timings[False])
    assert 0.5 < known / unknown < 2, (known, unknown)
    # The pair throttle treats an unknown e-mail like a known one, so refusals do not tell.
    nobody, ip = unique_email("nobody"), "192.0.2.250"
    for _ in range(sessions.MAX_FAILED_LOGINS):
        _attempt(nobody, "wrong password!", ip)
    assert isinstance(_attempt(nobody, "wrong password!", ip), RateLimited)


def test_an_address_is_slowed_down_then_locked_and_told_how_long() -> None:
    ip = _fresh_ip()
    address = unique_email()
    sign_up(address)
    # The free failures, against accounts that do not even exist: no waiting yet.
    for _ in range(login_throttle.FREE_FAILURES - 1):
        assert isinstance(
            _attempt(unique_email("nobody"), "whatever pass", ip), AuthenticationFailed
        )
    assert isinstance(_attempt(unique_email("nobody"), "whatever pass", ip), AuthenticationFailed)
    # Now the next attempt must wait, even with the right password of a real account.
    slowed = _attempt(address, PASSWORD, ip)
    assert isinstance(slowed, RateLimited) and slowed.code == "sign_in_slowed"
    assert "Wait 2 seconds" in slowed.message or "Wait 1 second" in slowed.message
    assert 0 < slowed.retry_after <= 3
    # Each further failure doubles the wait.
    waits = []
    for _ in range(4):
        _age_failures(ip, 120)
        assert isinstance(
            _attempt(unique_email("nobody"), "whatever pass", ip), AuthenticationFailed
        )
        refused = _attempt(address, PASSWORD, ip)
        assert isinstance(refused, RateLimited)
        waits.append(refused.retry_after)
    assert waits == sorted(waits) and waits[-1] > waits[0] * 4
    # Up to the lock: then the address is shut out for LOCK_DURATION.
    with session_scope(readonly=True) as db:
        failures = db.get(LoginThrottle, login_throttle.throttle_key(ip)).failures
    for _ in range(login_throttle.LOCK_AT - failures):
        _age_failures(ip, 61)
        _attempt(unique_email("nobody"), "whatever pass", ip)
    locked = _attempt(address, PASSWORD, ip)
    assert isinstance(locked, RateLimited) and locked.code == "sign_in_locked"
    assert "Try again in 15 minutes" in locked.message
    # Another address is not affected, and the right password still works from there.
    assert _attempt(address, PASSWORD, "198.51.100.200") is None


def test_quiet_window_starts_the_count_afresh_and_ipv6_counts_per_64() -> None:
    assert login_throttle.throttle_key("2001:db8:1:2::1") == login_throttle.throttle_key(
        "2001:db8:1:2:ffff::9"
    )
    assert login_throttle.throttle_key("2001:db8:1:3::1") != login_throttle.throttle_key(
        "2001:db8:1:2::1"
    )
    assert login_throttle.throttle_key("::ffff:192.0.2.1") == "ip:192.0.2.1"
    ip = _fresh_ip()
    for attempt in range(login_throttle.FREE_FAILURES + 2):
        if attempt:
            _age_failures(ip, 120)  # past any wait, inside the window
        _attempt(unique_email("nobody"), "whatever pass", ip)
    assert isinstance(_attempt(unique_email("nobody"), "x" * 12, ip), RateLimited)
    _age_failures(ip, int(login_throttle.WINDOW.total_seconds()) + 1)
    assert isinstance(_attempt(unique_email("nobody"), "x" * 12, ip), AuthenticationFailed)
    with session_scope(readonly=True) as db:
        assert db.get(LoginThrottle, login_throttle.throttle_key(ip)).failures == 1


def test_password_hashed_with_old_parameters_is_rehashed_on_sign_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address = unique_email()
    sign_up(address)
    weaker = CryptContext(
        schemes=["argon2"], argon2__type="ID", argon2__memory_cost=8192, argon2__rounds=2
    )
    old_hash = weaker.hash(PASSWORD)
    with session_scope() as db:
        user = db.exec(select(User).where(User.email == address)).one()
        user.password_hash = old_hash
        db.add(user)
    assert "m=8192" in old_hash
    with session_scope() as db:
        sessions.sign_in(db, email=address, password=PASSWORD)
    with session_scope(readonly=True) as db:
        new_hash = db.exec(select(User.password_hash).where(User.email == address)).one()
    assert new_hash != old_hash and "m=8192" not in new_hash
    assert security.verify_password(PASSWORD, new_hash) == (True, False)
    # A wrong password never rewrites the hash.
    with session_scope() as db:
        user = db.exec(select(User).where(User.email == address)).one()
        user.password_hash = old_hash
        db.add(user)
    _attempt(address, "wrong password!", None)
    with session_scope(readonly=True) as db:
        assert db.exec(select(User.password_hash).where(User.email == address)).one() == old_hash
