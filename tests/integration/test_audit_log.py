"""The audit log: filters, keyset pages, and the streamed CSV export route, on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import select

from backend.core.db import get_engine, session_scope
from backend.core.errors import ValidationFailed
from backend.core.ids import new_id
from backend.models import AuditLog, Merchant
from backend.models.enums import ActorType
from backend.services.identity import sessions
from backend.services.reporting import audit_log
from tests.integration.identity_support import sign_up
from tests.integration.test_team import _join

pytestmark = pytest.mark.usefixtures("configured_app")


def _add_rows(merchant_id: str, count: int, *, start: datetime, action: str = "test.event") -> None:
    with session_scope() as db:
        for i in range(count):
            db.add(
                AuditLog(
                    id=new_id("aud"),
                    merchant_id=merchant_id,
                    actor_type=ActorType.SYSTEM,
                    action=action,
                    object_type="thing",
                    object_id=f"thing_{i}",
                    details={"n": i},
                    created_at=start + timedelta(seconds=i),
                )
            )


@pytest.fixture
def client() -> TestClient:
    from backend.api.app import create_app

    return TestClient(create_app())


def test_filters_and_pages() -> None:
    _, owner = sign_up()
    _, admin = _join(owner, "admin")
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    _add_rows(owner.merchant_id, 120, start=start)
    with session_scope(readonly=True) as db:
        facets = audit_log.facets(db, owner.merchant_id)
        everything = audit_log.parse_filters()
        first = audit_log.search(db, merchant_id=owner.merchant_id, filters=everything)
        second = audit_log.search(
            db, merchant_id=owner.merchant_id, filters=everything, cursor=first.next_cursor
        )
    assert {"test.event", "invitation.created", "merchant.created"} <= set(facets.actions)
    assert ("type:system", "PayPortal and customers") in facets.actors
    assert (f"user:{admin.user_id}", admin.email) in facets.actors
    assert len(first.entries) == audit_log.PAGE_SIZE and first.next_cursor
    ids = [e.id for e in first.entries + second.entries]
    assert len(set(ids)) == len(ids)  # no row twice across pages
    times = [e.created_at for e in first.entries + second.entries]
    assert times == sorted(times, reverse=True)

    by_admin = audit_log.parse_filters(actor=f"user:{admin.user_id}")
    with session_scope(readonly=True) as db:
        page = audit_log.search(db, merchant_id=owner.merchant_id, filters=by_admin)
    assert page.entries and {e.actor for e in page.entries} == {admin.email}

    in_range = audit_log.parse_filters(
        action="test.event", object_type="thing", date_from="2026-03-01", date_to="2026-03-01"
    )
    with session_scope(readonly=True) as db:
        page = audit_log.search(db, merchant_id=owner.merchant_id, filters=in_range, limit=200)
    assert len(page.entries) == 120 and page.next_cursor is None
    # Days are the merchant's: in Tokyo, 12:00 UTC is already 21:00, still 1 March.
    in_tokyo = audit_log.parse_filters(action="test.event", date_from="2026-03-02")
    with session_scope(readonly=True) as db:
        tokyo = audit_log.search(
            db, merchant_id=owner.merchant_id, filters=in_tokyo, timezone="Asia/Tokyo"
        )
        samoa = audit_log.search(
            db, merchant_id=owner.merchant_id, filters=in_tokyo, timezone="Pacific/Kiritimati"
        )
    assert tokyo.entries == [] and len(samoa.entries) == 50  # UTC+14: already 2 March


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"date_from": "2026-13-01"}, "from"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "from"),
    ],
)
def test_bad_filters_are_refused(fields: dict, param: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        audit_log.parse_filters(**fields)
    assert info.value.param == param


def test_another_merchants_rows_never_show() -> None:
    _, mine = sign_up()
    _, theirs = sign_up()
    with session_scope(readonly=True) as db:
        page = audit_log.search(db, merchant_id=mine.merchant_id, filters=audit_log.parse_filters())
    assert page.entries and all(e.actor != theirs.email for e in page.entries)


def test_csv_streams_in_batches_without_loading_the_log(client: TestClient) -> None:
    token, owner = sign_up()
    with session_scope() as db:
        merchant = db.get(Merchant, owner.merchant_id)
        merchant.timezone = "Europe/Paris"
        db.add(merchant)
    _add_rows(owner.merchant_id, 1_050, start=datetime(2026, 3, 1, tzinfo=UTC))
    _add_rows(owner.merchant_id, 1, start=datetime(2026, 3, 5, tzinfo=UTC), action="=HYPERLINK(1)")

    selects: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "audit_logs" in statement:
            selects.append(statement)

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        chunks = list(
            audit_log.iter_csv(
                merchant_id=owner.merchant_id,
                filters=audit_log.parse_filters(object_type="thing"),
                batch_size=200,
            )
        )
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    # 1 051 rows in batches of 200: six queries, each with a LIMIT, never one for everything.
    assert len(selects) == 6 and all("LIMIT" in s.upper() for s in selects)
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0] == audit_log.CSV_COLUMNS
    assert len(rows) == 1 + 1_051
    assert rows[1][4] == "'=HYPERLINK(1)"  # a formula is defused for spreadsheets

    client.cookies.set(sessions.COOKIE_NAME, token)
    with client.stream("GET", "/api/portal/audit-log.csv", params={"object_type": "thing"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        assert r.headers["content-disposition"].startswith('attachment; filename="audit-log-')
        body = "".join(r.iter_text())
    exported = list(csv.reader(io.StringIO(body)))
    assert len(exported) == 1 + 1_051
    assert exported[1][0] == "2026-03-05T00:00:00Z" and exported[1][7] == "test"
    with session_scope(readonly=True) as db:
        logged = db.exec(
            select(AuditLog).where(
                AuditLog.merchant_id == owner.merchant_id, AuditLog.action == "audit_log.exported"
            )
        ).one()
    assert logged.details == {"object_type": "thing"}


def test_export_needs_a_session_and_the_permission(client: TestClient) -> None:
    assert client.get("/api/portal/audit-log.csv").status_code == 401
    client.cookies.set(sessions.COOKIE_NAME, "not-a-session")
    assert client.get("/api/portal/audit-log.csv").status_code == 401
    _, owner = sign_up()
    analyst_token, _ = _join(owner, "analyst")
    client.cookies.set(sessions.COOKIE_NAME, analyst_token)
    refused = client.get("/api/portal/audit-log.csv")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    owner_token, _ = sign_up()
    client.cookies.set(sessions.COOKIE_NAME, owner_token)
    bad = client.get("/api/portal/audit-log.csv", params={"from": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "from"
