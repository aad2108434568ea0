"""Inbound Stripe webhooks accepted per second, against the same server stack's ceiling.

    .venv/bin/python bench/webhooks.py [--seconds 10] [--concurrency 32] [--workers 2]
                                       [--databases sqlite,postgresql] [--payments 1000]

For each database: a fresh migrated database holding `--payments` Stripe payments that await
3-D Secure, then in one run, each server under uvicorn with the same worker count:
  1. the ceiling: bench/_ceiling_app.py, a bare ASGI app that checks the HMAC and inserts the
     row (no framework, no queue);
  2. POST /api/webhooks/stripe on backend.api:app: signature verified with the stripe SDK,
     the INSERT (requests arriving together share one commit), the task enqueued (Huey on
     its SQLite file, as without Redis);
  3. the worker (`python -m backend worker`) started on the backlog step 2 left (wrk's
     warm-up second included): its drain rate.
Every request is a new payment_intent.succeeded event for one of the payments (the first per
payment captures it, the others confirm), signed inside wrk by OpenSSL's HMAC through LuaJIT's
FFI: fresh timestamps, unique ids across wrk's warm-up and measured runs, and a load generator
that costs the two cores little.
Target (inbound webhooks issue): >= 2,000 accepted events/s at 32 connections on 2 cores with
SQLite, and >= 0.7 of the ceiling. PostgreSQL uses TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _harness import ROOT, Figures, database, load, server

SECRET = "whsec_bench_" + "5e" * 16

SIGNER = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len, const unsigned char *d,
                    size_t n, unsigned char *out, unsigned int *out_len);
]]
local secret, payments = "%(secret)s", %(payments)d
local head, mid1 = [==[%(head)s]==], [==[%(mid1)s]==]
local mid2, tail = [==[%(mid2)s]==], [==[%(tail)s]==]
local digest, size = ffi.new("unsigned char[32]"), ffi.new("unsigned int[1]")
local hex = {}
for i = 0, 255 do hex[i] = string.format("%%02x", i) end
local random = io.open("/dev/urandom", "rb")
local nonce = random:read(8):gsub(".", function(c) return hex[c:byte()] end)
random:close()

return function(n, headers)
  local now = tostring(os.time())
  local body = head .. nonce .. n .. mid1 .. now .. mid2 .. (n %% payments) .. tail
  local signed = now .. "." .. body
  ffi.C.HMAC(ffi.C.EVP_sha256(), secret, #secret, signed, #signed, digest, size)
  local sig = {}
  for i = 0, 31 do sig[i + 1] = hex[digest[i]] end
  headers["Stripe-Signature"] = "t=" .. now .. ",v1=" .. table.concat(sig)
  headers["Content-Type"] = "application/json"
  return body
end
"""


def _signer_script(directory: Path, payments: int) -> Path:
    """The Lua signer, with a realistic event around the three parts that change."""
    from tests.integration import webhook_signing as ws

    pi = ws.payment_intent(10_000, status="succeeded", metadata={"order_id": "ord_bench"})
    pi |= {"id": "pi_bench_@PI@", "amount_received": 10_000, "latest_charge": "ch_bench"}
    event = ws.event("payment_intent.succeeded", pi) | {"id": "evt_@ID@", "created": 1}
    text = ws.dumps(event).replace('"created":1,', '"created":@CREATED@,')
    head, rest = text.split("@ID@")
    mid1, rest = rest.split("@CREATED@")
    mid2, tail = rest.split("@PI@")
    path = directory / "sign.lua"
    parts = {"head": head, "mid1": mid1, "mid2": mid2, "tail": tail}
    path.write_text(SIGNER % {"secret": SECRET, "payments": payments, **parts})
    return path


def _seed(url: str, count: int) -> None:
    """A merchant and `count` Stripe payments awaiting 3-D Secure (pi_bench_0, ...)."""
    os.environ["DATABASE_URL"] = url
    from backend.core.config import get_settings
    from backend.core.db import get_engine, session_scope
    from backend.core.ids import new_id
    from backend.models import Merchant, Payment
    from backend.services.identity import accounts
    from backend.services.payments import booking, routing

    get_settings.cache_clear()
    get_engine.cache_clear()
    with session_scope() as db:
        created = accounts.create_merchant(
            db, email="bench@shop.test", password="a long passphrase 1", name="Bench"
        )
        merchant = db.get(Merchant, created.merchant.id)
        assert merchant is not None
        for i in range(count):
            payment = Payment(
                id=new_id("pay"),
                merchant_id=merchant.id,
                currency="USD",
                amount=10_000,
                gateway="stripe",
                gateway_payment_id=f"pi_bench_{i}",
                status="requires_action",
            )
            booking.set_fees(
                payment,
                10_000,
                booking.platform_fees(db, merchant.id),
                routing.DEFAULT_FEES["stripe"],
            )
            db.add(payment)
    get_engine().dispose()


def _backlog(url: str) -> int:
    from sqlalchemy import create_engine, text

    from backend.core.config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            query = (
                "SELECT count(*) FROM inbound_webhook_events WHERE status IN ('pending','failed')"
            )
            return conn.execute(text(query)).scalar_one()
    finally:
        engine.dispose()


def _drain(env: dict[str, str], url: str, workers: int, limit: float) -> tuple[int, float]:
    """Start the worker on the backlog; events processed and seconds until none is left."""
    backlog = _backlog(url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "backend", "worker", "--workers", str(workers)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.monotonic()
    try:
        left = backlog
        while left and time.monotonic() - started < limit:
            time.sleep(0.25)
            left = _backlog(url)
        return backlog - left, time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _run(label: str, base: str, body: str, args: argparse.Namespace) -> Figures:
    return load(
        label,
        base,
        method="POST",
        path="/api/webhooks/stripe",
        body_lua=body,
        concurrency=args.concurrency,
        seconds=args.seconds,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--drain-workers", type=int, default=4, help="worker threads")
    parser.add_argument("--payments", type=int, default=1_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()

    print(
        f"inbound webhooks benchmark: {args.concurrency} connections, {args.seconds:.0f} s each, "
        f"{args.workers} uvicorn worker(s), {os.cpu_count()} cores"
    )
    for kind in args.databases.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            signer = _signer_script(Path(tmp), args.payments)
            body = f'(function() SIGN = SIGN or dofile("{signer}"); return SIGN(n, headers) end)()'

            env = {
                "STRIPE_WEBHOOK_SECRET": SECRET,
                "REDIS_URL": "",
                "JOBS_BACKEND": "auto",
                "JOBS_DB_PATH": f"{tmp}/jobs.db",
            }
            with database(kind) as url:
                env["DATABASE_URL"] = url
                with server("bench._ceiling_app:app", env, workers=args.workers) as base:
                    ceiling = _run(f"[{kind}] bare ASGI: HMAC + INSERT (ceiling)", base, body, args)
            with database(kind) as url:
                env["DATABASE_URL"] = url
                _seed(url, args.payments)
                with server("backend.api:app", env, workers=args.workers) as base:
                    if httpx.post(f"{base}/api/webhooks/stripe").status_code == 404:
                        raise SystemExit("backend.api:app does not mount the webhook router")
                    accepted = _run(f"[{kind}] POST /api/webhooks/stripe", base, body, args)
                drained, seconds = _drain(env, url, args.drain_workers, limit=600)
            print(ceiling.line())
            print(accepted.line())
            print(
                f"[{kind}] accepted / ceiling = {accepted.rate / ceiling.rate:.2f}   "
                "target: >= 2000 events/s, ratio >= 0.7"
            )
            print(
                f"[{kind}] worker ({args.drain_workers} threads) drained {drained} events in "
                f"{seconds:.1f} s: {drained / seconds:.0f} events/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
