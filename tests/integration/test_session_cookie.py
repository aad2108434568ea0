"""POST /api/session and /api/session/sign-out through the real app, on SQLite and PostgreSQL:
the one-time grant, the HttpOnly cookie and its flags, sign-out revoking the session row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from backend.core.db import session_scope
from backend.models import User, UserSession, utcnow
from backend.services.identity import devices, sessions
from tests.integration.identity_support import PASSWORD, sign_up, unique_email


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api.app import create_app

    return TestClient(create_app(), base_url="http://localhost")


def _grant(address: str | None = None) -> tuple[str, str]:
    """(grant, e-mail) for a fresh sign-in, as the portal's state gets it."""
    address = address or unique_email()
    sign_up(address)
    with session_scope() as db:
        token, _ = sessions.sign_in(db, email=address, password=PASSWORD)
        return sessions.issue_grant(db, token), address


def _set_cookies(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def test_a_grant_sets_an_httponly_strict_cookie_once(client: TestClient) -> None:
    grant, address = _grant()
    # The grant is not a session token, and the state's token stopped working.
    with session_scope() as db:
        assert sessions.resolve(db, grant) is None
    answer = client.post(
        "/api/session",
        data={"grant": grant, "next": "/payments?status=failed"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/payments?status=failed"
    cookies = _set_cookies(answer)
    session_cookie = cookies[sessions.COOKIE_NAME].lower()
    for flag in ("httponly", "samesite=strict", "path=/", "max-age="):
        assert flag in session_cookie
    assert "secure" not in session_cookie  # plain-http development; production: below
    assert "httponly" in cookies[devices.COOKIE_NAME].lower()
    assert answer.headers["cache-control"] == "no-store"
    token = client.cookies.get(sessions.COOKIE_NAME)
    with session_scope() as db:
        ctx = sessions.resolve(db, token)
        assert ctx is not None and ctx.email == address
        row = db.get(UserSession, ctx.session_id)
        assert row is not None and row.expires_at - row.created_at > timedelta(hours=1)
    # Used once: a second post is refused with a clear message, and sets nothing.
    again = client.post("/api/session", data={"grant": grant}, follow_redirects=False)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_grant"
    assert "expired or was already used" in again.json()["error"]["message"]
    assert "set-cookie" not in again.headers


def test_an_expired_grant_is_refused_and_its_session_never_lists(client: TestClient) -> None:
    grant, address = _grant()
    with session_scope() as db:
        user = db.exec(select(User).where(User.email == address)).one()
        row = db.exec(
            select(UserSession)
            .where(UserSession.user_id == user.id)
            .order_by(col(UserSession.created_at).desc())
        ).first()
        assert row is not None and row.expires_at <= utcnow() + sessions.GRANT_LIFETIME
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
    answer = client.post("/api/session", data={"grant": grant}, follow_redirects=False)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_grant"
    with session_scope(readonly=True) as db:
        assert row.id not in {s.id for s in sessions.active_sessions(db, user.id)}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "application/x-www-form-urlencoded"),
        ("grant=nope&next=/dashboard", "application/x-www-form-urlencoded"),
        ("grant=%00%ff&grant=x", "application/x-www-form-urlencoded"),
        ("grant=" + "a" * 5000, "application/x-www-form-urlencoded"),
        ('{"grant": 12}', "application/json"),
        ("[1, 2", "application/json"),
        ("\xff\xfe", "text/plain"),
    ],
)
def test_junk_is_a_clear_400_never_a_500(client: TestClient, body: str, content_type: str) -> None:
    answer = client.post(
        "/api/session",
        content=body.encode("latin-1"),
        headers={"content-type": content_type},
        follow_redirects=False,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["message"]  # the grant's, or the edge's (not UTF-8)
    assert "set-cookie" not in answer.headers


def test_next_never_leaves_the_site(client: TestClient) -> None:
    for target, expected in [
        ("https://evil.test/", "/dashboard"),
        ("//evil.test", "/dashboard"),
        ("/\\evil.test", "/dashboard"),
        ("/settings", "/settings"),
    ]:
        grant, _ = _grant()
        answer = client.post(
            "/api/session", data={"grant": grant, "next": target}, follow_redirects=False
        )
        assert answer.headers["location"] == expected


def test_a_grant_posted_from_another_site_is_refused(client: TestClient) -> None:
    grant, _ = _grant()
    answer = client.post(
        "/api/session",
        data={"grant": grant},
        headers={"origin": "https://evil.test"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "set-cookie" not in answer.headers
    # The grant was not spent by the refused post.
    ok = client.post("/api/session", data={"grant": grant}, follow_redirects=False)
    assert ok.status_code == 303


def test_sign_out_revokes_the_row_and_clears_the_cookie(client: TestClient) -> None:
    grant, _ = _grant()
    client.post("/api/session", data={"grant": grant}, follow_redirects=False)
    token = client.cookies.get(sessions.COOKIE_NAME)
    with session_scope() as db:
        ctx = sessions.resolve(db, token)
    assert ctx is not None
    answer = client.post("/api/session/sign-out", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    cleared = _set_cookies(answer)[sessions.COOKIE_NAME].lower()
    assert 'pp_session=""' in cleared and "max-age=0" in cleared and "httponly" in cleared
    assert sessions.COOKIE_NAME not in client.cookies
    with session_scope() as db:
        assert sessions.resolve(db, token) is None
        assert db.get(UserSession, ctx.session_id).revoked_at is not None  # type: ignore[union-attr]
    # Signing out again, or with no cookie at all, is harmless.
    assert client.post("/api/session/sign-out", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_in_production(
    configured_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.api.app import create_app
    from backend.core.config import get_settings

    monkeypatch.setenv("SECRET_KEY", "a private production secret for this test only")
    monkeypatch.delenv("WEBHOOKS_ALLOW_LOOPBACK", raising=False)
    get_settings.cache_clear()
    grant, _ = _grant()  # signed up before: production refuses the .test addresses
    monkeypatch.setenv("APP_ENV", "production")
    get_settings.cache_clear()
    client = TestClient(create_app(), base_url="https://localhost")
    answer = client.post("/api/session", data={"grant": grant}, follow_redirects=False)
    assert answer.status_code == 303
    assert "secure" in _set_cookies(answer)[sessions.COOKIE_NAME].lower()
    assert answer.headers["strict-transport-security"].startswith("max-age=")
