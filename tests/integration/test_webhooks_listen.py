"""`python -m backend webhooks listen`: a merchant's test-mode events forwarded to a local
receiver as they happen, on SQLite and PostgreSQL; in process (with a stop event) and as the
real command, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import io
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from backend.__main__ import main
from backend.cli.webhooks_listen import listen
from backend.core.db import session_scope
from backend.models import WebhookEndpoint
from backend.services.context import Scope
from backend.services.webhooks.outbound.listener import DESCRIPTION
from tests.fakes.receiver import Receiver, Reply
from tests.integration import test_webhooks_outbound as base
from tests.integration.api_client import Merchant
from tests.integration.test_webhooks_outbound import emit, make_endpoint, readme_verifier

outbound, client, shop, receiver = base.outbound, base.client, base.shop, base.receiver
ROOT = Path(__file__).resolve().parents[2]
SECRET_LINE = re.compile(r"Signing secret: (whsec_\w+)")


def wait_for(condition: Callable[[], object], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def endpoints_of(merchant_id: str) -> list[WebhookEndpoint]:
    with session_scope(readonly=True) as db:
        query = select(WebhookEndpoint).where(WebhookEndpoint.merchant_id == merchant_id)
        return list(db.exec(query).all())


@pytest.fixture
def local() -> Iterator[Receiver]:
    """The developer's server on localhost (the merchant's real endpoint is `receiver`)."""
    with Receiver() as hook:
        yield hook


def test_listen_forwards_each_event_signed_prints_it_and_leaves_the_real_endpoints_alone(
    shop: Merchant, receiver: Receiver, local: Receiver
):
    scope = Scope(shop.merchant_id, livemode=False)
    real, _ = make_endpoint(scope, receiver.url)
    out, stop = io.StringIO(), threading.Event()
    forward_to = f"http://localhost:{local.port}/hook"
    worker = threading.Thread(
        target=listen,
        args=(shop.merchant_id, forward_to),
        kwargs={
            "stop": stop,
            "events": ["payment.succeeded", "payment.failed"],
            "out": out,
            "poll_seconds": 0.05,
        },
    )
    worker.start()
    try:
        wait_for(lambda: SECRET_LINE.search(out.getvalue()))
        secret = SECRET_LINE.search(out.getvalue())[1]  # type: ignore[index]
        [temporary] = [e for e in endpoints_of(shop.merchant_id) if e.id != real.id]
        assert (temporary.url, temporary.livemode, temporary.description) == (
            forward_to,
            False,
            DESCRIPTION,
        )

        paid = emit(scope, "payment.succeeded")
        wait_for(lambda: paid in out.getvalue())
        [request] = local.received
        assert readme_verifier()(request.body, request.headers["payportal-signature"], secret)
        line = next(x for x in out.getvalue().splitlines() if paid in x)
        assert re.fullmatch(
            rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d  payment\.succeeded  {paid}  \[200\] \d+ ms", line
        )
        # Not taken from the merchant's real endpoint: it got the event too.
        wait_for(lambda: len(receiver.received) == 1)

        local.script(Reply(500, b"oops"))
        failed = emit(scope, "payment.failed")
        emit(scope, "dispute.created")  # not asked for: not forwarded
        wait_for(lambda: failed in out.getvalue())
        line = next(x for x in out.getvalue().splitlines() if failed in x)
        assert re.search(
            r"\[500\] \d+ ms  Answered 500 Internal Server Error; attempt 1 of 12, next at ", line
        ), line
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert "Stopped. Temporary endpoint" in out.getvalue()
    assert [e.id for e in endpoints_of(shop.merchant_id)] == [real.id]  # removed, log and all
    assert len(local.received) == 2 and "dispute.created" not in out.getvalue()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--forward-to", "https://example.com/hook"], {}, "must be a URL on this machine"),
        (["--forward-to", "http://10.0.0.5/hook"], {}, "must be a URL on this machine"),
        (["--forward-to", "http://localhost:4242/hook", "--live"], {}, "test-mode events only"),
        (
            ["--forward-to", "http://localhost:4242/hook"],
            {"WEBHOOKS_ALLOW_LOOPBACK": "false"},  # APP_ENV=test here
            "development server only",
        ),
        (
            ["--forward-to", "http://localhost:4242/hook", "--events", "nope.event"],
            {},
            "Unknown event types",
        ),
    ],
)
def test_listen_refuses_what_it_must_not_forward_and_creates_nothing(
    shop: Merchant,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str],
    message: str,
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    base.reread_settings()
    code = main(["webhooks", "listen", "--merchant", shop.merchant_id, *args])
    assert code == 1
    assert message in capsys.readouterr().err
    assert endpoints_of(shop.merchant_id) == []


def test_listen_refuses_an_unknown_merchant(outbound: str, capsys: pytest.CaptureFixture[str]):
    code = main(
        ["webhooks", "listen", "--merchant", "mer_nope", "--forward-to", "http://localhost:1/h"]
    )
    assert code == 1 and "No such merchant" in capsys.readouterr().err


def test_the_command_runs_until_ctrl_c_then_removes_its_endpoint(
    outbound: str, shop: Merchant, local: Receiver
):
    env = {
        **os.environ,
        "DATABASE_URL": outbound,
        "APP_ENV": "development",  # as `make run`: localhost endpoints allowed
        "JOBS_BACKEND": "memory",
    }
    env.pop("WEBHOOKS_ALLOW_LOOPBACK", None)
    command = [sys.executable, "-m", "backend", "webhooks", "listen", "--merchant"]
    proc = subprocess.Popen(
        [*command, shop.merchant_id, "--forward-to", f"http://127.0.0.1:{local.port}/hook"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True)  # type: ignore[union-attr]
    reader.start()
    seen: list[str] = []

    def saw(text: str) -> bool:
        while not lines.empty():
            seen.append(lines.get())
        return any(text in line for line in seen)

    try:
        wait_for(lambda: saw("Signing secret: whsec_"), seconds=60)
        paid = emit(Scope(shop.merchant_id, False), "payment.succeeded")
        wait_for(lambda: saw(f"{paid}  [200]"))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=5)
    assert saw("Stopped. Temporary endpoint")
    assert len(local.received) == 1
    assert endpoints_of(shop.merchant_id) == []
