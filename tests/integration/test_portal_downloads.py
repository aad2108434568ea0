"""The portal's download routes through the real app: cookie sessions, roles, tenant isolation,
CSV filters, monthly statements (PDF and CSV) and evidence files (served as downloads, never
as pages)."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.models import BalanceTransaction, Dispute, Membership, Payment, utcnow
from backend.models.enums import ActorType, Role
from backend.services.context import Actor, Scope
from backend.services.identity import accounts, sessions
from backend.services.merchant import demo
from backend.services.payments import dispute_evidence

PASSWORD = "a long passphrase 1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def client(configured_app: str, tmp_path, monkeypatch) -> TestClient:
    monkeypatch.setenv("UPLOADS_DIR", str(tmp_path / "uploads"))
    from backend.core.config import get_settings

    get_settings.cache_clear()
    from backend.api.app import create_app

    return TestClient(create_app())


def sign_in(email: str) -> str:
    with session_scope() as db:
        token, _ = sessions.sign_in(db, email=email, password=PASSWORD)
    return token


def new_account(role: Role = Role.OWNER) -> tuple[str, str]:
    """(merchant id, session token) of a fresh merchant seen by a member with `role`."""
    email = f"owner-{uuid.uuid4().hex[:10]}@shop.test"
    with session_scope() as db:
        created = accounts.create_merchant(db, email=email, password=PASSWORD, name="Shop")
        demo._seed_payments(db, created.merchant, __import__("random").Random(7), 60)
        if role != Role.OWNER:
            membership = db.exec(
                select(Membership).where(Membership.user_id == created.user.id)
            ).one()
            membership.role = role
            db.add(membership)
    return created.merchant.id, sign_in(email)


def test_csv_needs_a_session_and_the_export_permission(client: TestClient) -> None:
    assert client.get("/api/portal/exports/payments.csv").status_code == 401
    client.cookies.set("pp_session", "not-a-token")
    assert client.get("/api/portal/exports/payments.csv").status_code == 401
    _, support = new_account(Role.SUPPORT)
    client.cookies.set("pp_session", support)
    refused = client.get("/api/portal/exports/payments.csv")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_csv_rows_follow_filters_and_stay_in_the_tenant(client: TestClient) -> None:
    merchant_id, token = new_account(Role.ANALYST)
    other_id, _ = new_account()
    client.cookies.set("pp_session", token)
    response = client.get("/api/portal/exports/payments.csv", params={"status": "refunded"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    lines = response.content.decode("utf-8-sig").splitlines()
    with session_scope(readonly=True) as db:
        refunded = db.exec(
            select(Payment.id).where(
                Payment.merchant_id == merchant_id, Payment.status == "refunded"
            )
        ).all()
        foreign = set(db.exec(select(Payment.id).where(Payment.merchant_id == other_id)).all())
    ids = {line.split(",")[0] for line in lines[1:]}
    assert ids == set(refunded) and not ids & foreign
    bad = client.get("/api/portal/exports/payments.csv", params={"status": "bogus"})
    assert bad.status_code == 422
    bad_date = client.get("/api/portal/exports/payments.csv", params={"from": "yesterday"})
    assert bad_date.status_code == 422


STATEMENT_FORMATS = ("pdf", "csv")


@pytest.mark.parametrize("fmt", STATEMENT_FORMATS)
def test_statements_need_a_session_and_the_export_permission(client: TestClient, fmt: str) -> None:
    month = utcnow().strftime("%Y-%m")
    assert client.get(f"/api/portal/statements/{month}.{fmt}").status_code == 401
    client.cookies.set("pp_session", "not-a-token")
    assert client.get(f"/api/portal/statements/{month}.{fmt}").status_code == 401
    _, support = new_account(Role.SUPPORT)
    client.cookies.set("pp_session", support)
    refused = client.get(f"/api/portal/statements/{month}.{fmt}")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("fmt", STATEMENT_FORMATS)
def test_a_bad_month_is_a_clear_422(client: TestClient, fmt: str) -> None:
    _, token = new_account()
    client.cookies.set("pp_session", token)
    for bad in ("2026-99", "2026-1-1", "last-month"):
        response = client.get(f"/api/portal/statements/{bad}.{fmt}")
        assert response.status_code == 422
        assert response.json()["error"]["message"] == "Give the month as YYYY-MM"


def test_monthly_statement_pdf(client: TestClient) -> None:
    _, token = new_account()
    client.cookies.set("pp_session", token)
    month = utcnow().strftime("%Y-%m")
    response = client.get(f"/api/portal/statements/{month}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.content.startswith(b"%PDF-")


def test_monthly_statement_csv_is_the_ledger_of_its_own_merchant(client: TestClient) -> None:
    """The demo's history (booked into the ledger by its backfill) over the last months: each
    month's CSV holds only this merchant's transactions of that month, and adds up."""
    merchant_id, token = new_account(Role.ANALYST)
    other_id, _ = new_account()
    client.cookies.set("pp_session", token)
    month = utcnow().strftime("%Y-%m")
    response = client.get(f"/api/portal/statements/{month}.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert 'filename="statement-' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    blank = rows.index([])
    summary, items = rows[1:blank], rows[blank + 2 :]
    assert items, "the demo books this month"
    with session_scope(readonly=True) as db:
        mine = set(
            db.exec(
                select(BalanceTransaction.id).where(BalanceTransaction.merchant_id == merchant_id)
            ).all()
        )
        theirs = set(
            db.exec(
                select(BalanceTransaction.id).where(BalanceTransaction.merchant_id == other_id)
            ).all()
        )
    ids = {row[0] for row in items}
    assert ids <= mine and not ids & theirs
    for currency in {row[0] for row in summary}:
        lines = [row for row in summary if row[0] == currency]
        opening, closing = Decimal(lines[0][5]), Decimal(lines[-1][5])
        activity = sum(Decimal(row[7]) for row in items if row[8] == currency)
        assert opening + activity == closing


def test_balance_transactions_csv_follows_the_filters_in_major_units(client: TestClient) -> None:
    """The Balance page's export: the export permission, private headers, only this
    merchant's transactions of the chosen type and currency, amounts in major units that add
    up to the ledger's, and free text that a spreadsheet never runs."""
    url = "/api/portal/exports/balance_transactions.csv"
    assert client.get(url).status_code == 401
    _, support = new_account(Role.SUPPORT)
    client.cookies.set("pp_session", support)
    assert client.get(url).status_code == 403
    merchant_id, token = new_account(Role.ANALYST)
    other_id, _ = new_account()
    with session_scope() as db:
        row = db.exec(
            select(BalanceTransaction).where(
                BalanceTransaction.merchant_id == merchant_id,
                BalanceTransaction.type == "charge",
                BalanceTransaction.currency == "USD",
            )
        ).first()
        assert row is not None
        row.description = '=HYPERLINK("http://evil.test")'
        db.add(row)
    client.cookies.set("pp_session", token)
    response = client.get(url, params={"type": "charge", "currency": "usd"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert 'filename="balance-transactions-test-' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, items = rows[0], rows[1:]
    assert header[:3] == ["id", "created", "type"]
    assert items and {(r[2], r[8]) for r in items} == {("Charge", "USD")}
    with session_scope(readonly=True) as db:
        charges = db.exec(
            select(BalanceTransaction).where(
                BalanceTransaction.merchant_id == merchant_id,
                BalanceTransaction.type == "charge",
                BalanceTransaction.currency == "USD",
            )
        ).all()
        theirs = set(
            db.exec(
                select(BalanceTransaction.id).where(BalanceTransaction.merchant_id == other_id)
            ).all()
        )
    assert {r[0] for r in items} == {t.id for t in charges} and not theirs & {r[0] for r in items}
    assert sum(Decimal(r[7]) for r in items) == Decimal(sum(t.net for t in charges)) / 100
    (guarded,) = [r for r in items if r[0] == row.id]
    assert guarded[3] == '\'=HYPERLINK("http://evil.test")'
    everything = client.get(url)
    assert len(everything.content.decode("utf-8-sig").splitlines()) > len(rows)
    refused = client.get(url, params={"type": "bogus"})
    assert refused.status_code in (400, 422)


def test_evidence_is_downloaded_with_its_sniffed_type_only_by_its_merchant(
    client: TestClient,
) -> None:
    merchant_id, token = new_account()
    _, other_token = new_account()
    with session_scope() as db:
        payment = db.exec(
            select(Payment).where(Payment.merchant_id == merchant_id, Payment.status == "succeeded")
        ).first()
        assert payment is not None
        from backend.services.payments import booking

        dispute = booking.open_dispute(db, payment)
        db.flush()
        (row,) = dispute_evidence.add_evidence(
            db,
            Scope(merchant_id, False),
            dispute.id,
            [dispute_evidence.Upload("proof <b>.png", PNG)],
            actor=Actor(ActorType.SYSTEM),
        )
        dispute_id, file_id = dispute.id, row.id
    url = f"/api/portal/disputes/{dispute_id}/evidence/{file_id}"
    client.cookies.set("pp_session", token)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")
    client.cookies.set("pp_session", other_token)
    assert client.get(url).status_code == 404
    with session_scope(readonly=True) as db:
        assert db.get(Dispute, dispute_id) is not None
