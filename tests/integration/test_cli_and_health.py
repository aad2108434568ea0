"""The admin CLI and the health endpoint, run as a user runs them (subprocess, real HTTP)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from backend.models import Dispute, Invoice, Payment, Refund, Subscription
from backend.models.enums import PaymentStatus
from backend.services.merchant import demo
from tests.support import ROOT


def run_cli(args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def db_url(db_engine) -> str:  # type: ignore[no-untyped-def]
    return str(db_engine.url)


def test_create_merchant_prints_ids_and_a_test_key(db_url: str):
    done = run_cli(
        [
            "create-merchant",
            "--email",
            "cli@shop.test",
            "--password",
            "a long passphrase 1",
            "--name",
            "CLI Shop",
        ],
        db_url,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["merchant_id"].startswith("mer_")
    assert result["user_id"].startswith("usr_")
    assert result["test_secret_key"].startswith("sk_test_")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-merchant", "--email", "bad", "--password", "a long passphrase 1"], "not valid"),
        (["create-merchant", "--email", "x@shop.test", "--password", "short"], "at least 10"),
        (["create-merchant", "--email", "x@shop.test", "--password", "password12"], "too easy"),
        (["create-merchant", "--email", "x@shop.test"], "required: --password"),
        (["no-such-command"], "invalid choice"),
        (["seed-demo", "--payments", "-1"], "zero or more"),
        (["seed-demo", "--payments", "many"], "invalid int value"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message(db_url: str, args: list[str], message: str):
    done = run_cli(args, db_url)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_on_an_unmigrated_database_says_what_to_do(tmp_path: Path):
    done = run_cli(["seed-demo"], f"sqlite:///{tmp_path / 'empty.db'}")
    assert done.returncode == 1
    assert "alembic upgrade head" in done.stderr


def test_seed_demo_is_realistic_and_consistent(db: Session):
    creds = demo.seed_demo(db, payments=300)
    db.commit()
    every = db.exec(select(Payment).where(Payment.merchant_id == creds.merchant_id)).all()
    payments = [p for p in every if "invoice" not in p.metadata_]  # the shop's own sales
    assert len(payments) == 300
    assert len({p.status for p in payments}) >= 7
    assert len({p.currency for p in payments}) >= 4
    ages = [p.created_at for p in payments]
    assert (max(ages) - min(ages)).days >= 80
    for p in payments:
        # Every captured payment's money adds up: what stays captured is fees plus net.
        assert (
            p.amount_captured - p.amount_refunded == p.platform_fee + p.gateway_fee + p.net_amount
        )
    refunded = sum(p.amount_refunded for p in payments)
    assert refunded == db.exec(select(func.sum(Refund.amount))).one()
    disputed = sum(1 for p in payments if p.status == PaymentStatus.DISPUTED)
    assert disputed == db.exec(select(func.count()).select_from(Dispute)).one()
    # Subscriptions the engine itself ran for a year on a test clock: renewals paid through
    # the charge path, a trial, and a card that started failing.
    statuses = sorted(db.exec(select(Subscription.status)).all())
    assert statuses == ["active", "active", "past_due", "trialing"]
    renewals = [p for p in every if "invoice" in p.metadata_ and p.status == "succeeded"]
    paid = db.exec(select(func.count()).where(Invoice.status == "paid", Invoice.amount_paid > 0))
    assert len(renewals) == paid.one() >= 3 * 12


def test_seed_demo_again_keeps_data_and_the_same_demo_key(db: Session):
    from backend.core.errors import AuthenticationFailed
    from backend.models import ApiKey, AuditLog
    from backend.services.identity import api_keys

    first = demo.seed_demo(db, payments=20)
    db.commit()
    audit_rows = db.exec(select(func.count()).select_from(AuditLog)).one()
    second = demo.seed_demo(db, payments=20)
    db.commit()
    assert (first.created, second.created) == (True, False)
    assert first.merchant_id == second.merchant_id
    # Every `make run` announces the same key, with no new key and no new audit row.
    assert first.test_secret_key == second.test_secret_key
    sales = [p for p in db.exec(select(Payment)).all() if "invoice" not in p.metadata_]
    assert len(sales) == 20  # and the subscriptions' invoices were not charged again
    assert db.exec(select(func.count()).select_from(AuditLog)).one() == audit_rows
    assert api_keys.authenticate(db, second.test_secret_key).merchant_id == first.merchant_id

    # A demo key that cannot be shown (from before test secrets were kept) is replaced.
    key = db.exec(select(ApiKey).where(ApiKey.name == demo.DEMO_KEY_NAME)).one()
    key.secret_encrypted = None
    db.add(key)
    db.commit()
    third = demo.seed_demo(db, payments=20)
    db.commit()
    assert third.test_secret_key != first.test_secret_key
    assert api_keys.authenticate(db, third.test_secret_key).merchant_id == first.merchant_id
    with pytest.raises(AuthenticationFailed):
        api_keys.authenticate(db, first.test_secret_key)


def test_health_reports_version_and_database(monkeypatch: pytest.MonkeyPatch):
    from backend.api import create_app
    from backend.core import db as db_module
    from backend.core.config import APP_VERSION

    client = TestClient(create_app())
    monkeypatch.setattr(db_module, "ping", lambda: True)
    ok = client.get("/api/health")
    assert ok.status_code == 200
    assert ok.json() == {"status": "ok", "version": APP_VERSION, "database": "ok"}


def test_health_is_503_when_the_database_does_not_answer(monkeypatch: pytest.MonkeyPatch):
    from backend.api import create_app
    from backend.core import db as db_module

    unreachable = db_module.make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setattr(db_module, "get_engine", lambda: unreachable)
    response = TestClient(create_app()).get("/api/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_api_app_runs_standalone_under_uvicorn(db_url: str):
    """`uvicorn backend.api:app` serves /api/health on its own, without Reflex."""
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": db_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.api:app", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health") as response:
                    body = json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert body["database"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_gateway_and_risk_settings_from_the_cli(db_url: str):
    created = json.loads(
        run_cli(
            ["create-merchant", "--email", "tune@shop.test", "--password", "a long passphrase 1"],
            db_url,
        ).stdout
    )
    merchant = created["merchant_id"]
    added = run_cli(
        [
            "gateway-add",
            "--merchant",
            merchant,
            "--gateway",
            "stripe",
            "--secret-key",
            "sk_test_" + "a1" * 12,
            "--currencies",
            "eur,gbp",
            "--priority",
            "1",
        ],
        db_url,
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["currencies"] == ["EUR", "GBP"]
    wrong_mode = run_cli(
        [
            "gateway-add",
            "--merchant",
            merchant,
            "--gateway",
            "stripe",
            "--live",
            "--secret-key",
            "sk_test_" + "a1" * 12,
        ],
        db_url,
    )
    assert wrong_mode.returncode == 1
    assert "sk_live_" in wrong_mode.stderr
    paypal = [
        "gateway-add",
        "--merchant",
        merchant,
        "--gateway",
        "paypal",
        "--client-id",
        "AbCdEf-client-id-123",
        "--secret-key",
        "EFgh-client-secret-456",
    ]
    added_paypal = run_cli([*paypal, "--webhook-id", "8PT597110X687430LKGECATA"], db_url)
    assert added_paypal.returncode == 0, added_paypal.stderr
    assert json.loads(added_paypal.stdout)["gateway"] == "paypal"
    no_id = run_cli(paypal[:5] + paypal[7:], db_url)  # no client id
    assert no_id.returncode == 1 and "client ID" in no_id.stderr

    tuned = run_cli(
        [
            "risk",
            "--merchant",
            merchant,
            "--review",
            "40",
            "--block",
            "70",
            "--block-value",
            "email=Fraud@Example.com",
            "--reason",
            "chargebacks",
        ],
        db_url,
    )
    assert tuned.returncode == 0, tuned.stderr
    result = json.loads(tuned.stdout)
    assert (result["review"], result["block"]) == (40, 70)
    assert result["blocked"] == {"kind": "email", "value": "fraud@example.com"}
    bad = run_cli(["risk", "--merchant", merchant, "--review", "90", "--block", "70"], db_url)
    assert bad.returncode == 1
    assert "review score must not be above the block score" in bad.stderr


def test_seed_demo_announces_once_the_app_answers(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run` starts this beside the app: the sign-in and key are printed after the app is
    up, so they are the last lines of the start-up, and the command in them charges."""
    import socket
    import threading
    import time

    import uvicorn

    from backend.api import create_app
    from backend.core.config import get_settings
    from backend.core.db import get_engine

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("DATABASE_URL", db_url)  # the app started below, in this process
    get_settings.cache_clear()
    get_engine.cache_clear()
    env = {**os.environ, "DATABASE_URL": db_url, "APP_URL": url}
    waiting = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend",
            "seed-demo",
            "--payments",
            "3",
            "--announce",
            "--when-ready",
            "--ready-timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = None
    try:
        time.sleep(3)
        assert waiting.poll() is None, "announced before the app answered"
        server = uvicorn.Server(
            uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
        )
        threading.Thread(target=server.run, daemon=True).start()
        out, err = waiting.communicate(timeout=60)
    finally:
        waiting.kill()
        if server is not None:
            server.should_exit = True
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
    assert waiting.returncode == 0, err
    assert err == ""
    lines = [line.strip() for line in out.strip().splitlines()]
    assert lines[1:5] == [
        f"Sign in at   {url}/login",
        "E-mail       owner@northwind.test",
        "Password     northwind-coffee-2026",
        lines[4],
    ] and lines[4].startswith("Test API key sk_test_")
    key = lines[4].removeprefix("Test API key ")
    command = out[out.index("curl ") :].strip()
    assert f"Bearer {key}" in command and "did not answer" not in out

    # The same key on the next run, and no wait without --when-ready.
    again = run_cli(["seed-demo", "--announce"], db_url)
    assert f"Test API key {key}" in again.stdout


def test_seed_demo_says_so_when_the_app_never_answers(db_url: str):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": db_url, "APP_URL": f"http://127.0.0.1:{port}"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend",
            "seed-demo",
            "--payments",
            "1",
            "--announce",
            "--when-ready",
            "--ready-timeout",
            "2",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert "Test API key sk_test_" in done.stdout and "did not answer" in done.stdout


def test_the_worker_is_quiet_while_it_polls(db_url: str, tmp_path: Path):
    """`make run` prints the worker's output beside the app's: Huey's per-task lines (several a
    second at rest) stay out, and stopping it prints nothing."""
    import signal
    import time

    # The queue make run uses (a SQLite file), not the tests' in-process one.
    env = {**os.environ, "DATABASE_URL": db_url, "JOBS_DB_PATH": str(tmp_path / "jobs.db")}
    env.pop("JOBS_BACKEND", None)
    env.pop("REDIS_URL", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "backend", "worker", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(8)  # the periodic ticks run every few seconds
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=30)
    assert out == "", out


def test_create_merchant_with_a_sandbox_bank_can_pay_out_in_test_mode(db_url: str):
    done = run_cli(
        [
            "create-merchant",
            "--email",
            "bank@shop.test",
            "--password",
            "a long passphrase 1",
            "--sandbox-bank",
        ],
        db_url,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["bank_account_id"].startswith("ba_")
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT provider, subtype, removed_at, access_token_encrypted IS NOT NULL "
                "FROM bank_accounts WHERE merchant_id = :m"
            ),
            {"m": result["merchant_id"]},
        ).one()
    engine.dispose()
    assert tuple(row) == ("sandbox", "checking", None, True)
