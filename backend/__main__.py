"""Admin CLI: `python -m backend <command>` (also installed as `payportal-admin`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from backend.core.db import session_scope
from backend.core.errors import ServiceError


def _create_merchant(args: argparse.Namespace) -> dict[str, object]:
    from backend.services.identity.accounts import create_merchant

    with session_scope() as db:
        created = create_merchant(db, email=args.email, password=args.password, name=args.name)
        bank = None
        if args.sandbox_bank:
            from backend.services.merchant.bank_accounts import connect_sandbox

            bank = connect_sandbox(db, created.merchant.id, created.user.id)
    return {
        "merchant_id": created.merchant.id,
        **({"bank_account_id": bank.id} if bank is not None else {}),
        "user_id": created.user.id,
        "email": created.user.email,
        "test_secret_key": created.test_secret_key,
        "note": "The secret key is shown once; store it now.",
    }


def _seed_demo(args: argparse.Namespace) -> dict[str, object]:
    from backend.services.merchant.demo import seed_demo

    with session_scope() as db:
        creds = seed_demo(db, payments=args.payments)
    result: dict[str, object] = {
        "merchant_id": creds.merchant_id,
        "email": creds.email,
        "password": creds.password,
        "test_secret_key": creds.test_secret_key,
        "created": creds.created,
    }
    if args.when_ready:
        result["app_answered"] = _wait_until_ready(args.ready_timeout)
    return result


def _wait_until_ready(timeout: float) -> bool:
    """Wait until the app at APP_URL answers, so an announcement comes after the framework's
    start-up output (`reflex run --env prod` serves pages and API together, once built);
    False when it did not within `timeout` seconds."""
    import time

    import httpx

    from backend.core.config import get_settings

    url = get_settings().app_url.rstrip("/")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with httpx.Client(timeout=5) as client:
                if client.get(f"{url}/api/health").status_code == 200:
                    # The server logs its own start-up lines just after it answers.
                    time.sleep(1)
                    return True
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return False


def _gateway_add(args: argparse.Namespace) -> dict[str, object]:
    from backend.core.errors import NotFound
    from backend.models import Merchant
    from backend.services.context import Scope
    from backend.services.payments import gateway_configs

    with session_scope() as db:
        if db.get(Merchant, args.merchant) is None:
            raise NotFound(f"No such merchant: {args.merchant!r}", param="merchant")
        config = gateway_configs.add(
            db,
            Scope(args.merchant, args.live),
            gateway=args.gateway,
            priority=args.priority,
            secret_key=args.secret_key,
            paypal=gateway_configs.PayPalCredentials(args.client_id, args.webhook_id)
            if args.gateway == "paypal"
            else None,
            rules=gateway_configs.Rules(
                currencies=tuple(_split(args.currencies)),
                methods=tuple(_split(args.methods)),
                min_amount=args.min_amount,
                max_amount=args.max_amount,
            ),
        )
        if args.pinned:
            db.flush()
            gateway_configs.set_pinned(db, Scope(args.merchant, args.live), config.id, True)
    return {
        "gateway_config_id": config.id,
        "gateway": config.gateway,
        "priority": config.priority,
        "pinned": config.pinned,
        "currencies": config.currencies,
    }


def _risk(args: argparse.Namespace) -> dict[str, object]:
    from backend.services.payments import blocklist
    from backend.services.payments.risk_settings import set_risk_thresholds

    with session_scope() as db:
        result: dict[str, object] = {"merchant_id": args.merchant}
        if args.review is not None or args.block is not None:
            from backend.models import Merchant

            merchant = db.get(Merchant, args.merchant)
            review = (
                args.review
                if args.review is not None
                else getattr(merchant, "risk_review_score", 50)
            )
            block = (
                args.block if args.block is not None else getattr(merchant, "risk_block_score", 80)
            )
            merchant = set_risk_thresholds(db, args.merchant, review=review, block=block)
            result.update(review=merchant.risk_review_score, block=merchant.risk_block_score)
        if args.block_value:
            kind, _, value = args.block_value.partition("=")
            entry = blocklist.add_to_blocklist(db, args.merchant, kind, value, args.reason or "")
            result["blocked"] = {"kind": entry.kind, "value": entry.value}
        if args.unblock_value:
            kind, _, value = args.unblock_value.partition("=")
            result["unblocked"] = blocklist.remove_from_blocklist(db, args.merchant, kind, value)
    return result


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()] if value else []


def _worker(args: argparse.Namespace) -> None:
    """Run the background worker until interrupted (Ctrl-C or SIGTERM)."""
    import logging

    from backend.tasks import huey

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Huey logs every task it runs and every periodic tick at INFO: a line a second at rest.
    # Its warnings and errors (a task that failed, a worker that died) still show.
    logging.getLogger("huey").setLevel(logging.WARNING)
    consumer = huey.create_consumer(
        workers=args.workers,
        worker_type="thread",
        periodic=True,
        max_delay=2.0,
        check_worker_health=True,
    )
    consumer.run()  # until Ctrl-C or SIGTERM; nothing to print after (make run stops it)


def _webhooks_replay(args: argparse.Namespace) -> dict[str, object]:
    from backend.services.webhooks.inbound import queue

    event = queue.replay(args.event)
    queue.process(event.id)
    done = queue.get_event(event.id)
    return {
        "event": done.event_id,
        "type": done.event_type,
        "status": done.status,
        "error": done.error_message,
    }


def _webhooks_replay_failed(args: argparse.Namespace) -> dict[str, object]:
    from collections import Counter

    from backend.services.webhooks.inbound import queue

    replayed = queue.replay_failed(since=args.since)
    statuses = Counter(str(queue.process(event_pk)) for event_pk in replayed)
    return {"replayed": len(replayed), "statuses": dict(statuses)}


def _webhooks_listen(args: argparse.Namespace) -> dict[str, object]:
    from backend.cli import webhooks_listen

    return webhooks_listen.run(args)


def _wallet_domain(args: argparse.Namespace) -> dict[str, object]:
    """Register APP_URL's host with Stripe for Apple Pay and Google Pay, check it again, or
    show what Stripe last said."""
    from backend.services.checkout import wallet_domains

    with session_scope() as db:
        if args.action == "register":
            row = wallet_domains.register(db)
        elif args.action == "check":
            row = wallet_domains.check(db)
        else:
            row = wallet_domains.current(db)
        if row is None:
            return {"domain": wallet_domains.checkout_domain(), "registered": False}
        return {
            "domain": row.domain_name,
            "registered": True,
            "id": row.id,
            "livemode": row.livemode,
            "enabled": row.enabled,
            "applePay": {"status": row.apple_pay_status, "error": row.apple_pay_error},
            "googlePay": {"status": row.google_pay_status, "error": row.google_pay_error},
            "checkedAt": row.checked_at.isoformat(),
        }


def _aware_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    create = commands.add_parser("create-merchant", help="create a merchant and its owner")
    create.add_argument("--email", required=True, help="owner's sign-in e-mail")
    create.add_argument(
        "--password", required=True, help="owner's password (10+ characters, not guessable)"
    )
    create.add_argument("--name", help="business name (defaults from the e-mail)")
    create.add_argument(
        "--sandbox-bank",
        action="store_true",
        help="give it a verified sandbox bank account, so test payouts work at once "
        "(only without Plaid keys)",
    )
    create.set_defaults(handler=_create_merchant)

    demo = commands.add_parser("seed-demo", help="create the demo merchant with test payments")
    demo.add_argument("--payments", type=int, default=300, help="how many payments (default 300)")
    demo.add_argument("--announce", action="store_true", help="print for people, not JSON")
    demo.add_argument(
        "--when-ready",
        action="store_true",
        help="print only once the app at APP_URL answers (make run starts it beside the app)",
    )
    demo.add_argument(
        "--ready-timeout",
        type=float,
        default=1800,
        help="seconds to wait with --when-ready (default 1800: the first build is slow)",
    )
    demo.set_defaults(handler=_seed_demo)
    gateway = commands.add_parser("gateway-add", help="route a merchant's payments to a gateway")
    gateway.add_argument("--merchant", required=True, help="merchant id (mer_...)")
    gateway.add_argument("--gateway", required=True, choices=["sandbox", "stripe", "paypal"])
    gateway.add_argument("--live", action="store_true", help="live mode (default: test mode)")
    gateway.add_argument("--priority", type=int, help="lower is tried first (default: last)")
    gateway.add_argument(
        "--pinned",
        action="store_true",
        help="tried in priority order before the processors routed by cost (default: by cost)",
    )
    gateway.add_argument(
        "--secret-key", help="the merchant's own Stripe secret key, or its PayPal app's secret"
    )
    gateway.add_argument("--client-id", help="PayPal: the merchant's PayPal app's client ID")
    gateway.add_argument("--webhook-id", help="PayPal: the ID of the app's webhook to us")
    gateway.add_argument("--currencies", help="only these currencies, e.g. EUR,GBP")
    gateway.add_argument("--methods", help="only these methods, e.g. card")
    gateway.add_argument("--min-amount", type=int, help="only from this amount (minor units)")
    gateway.add_argument("--max-amount", type=int, help="only up to this amount (minor units)")
    gateway.set_defaults(handler=_gateway_add)

    risk = commands.add_parser("risk", help="tune a merchant's risk thresholds and blocklist")
    risk.add_argument("--merchant", required=True, help="merchant id (mer_...)")
    risk.add_argument("--review", type=int, help="flag for review at or above this score")
    risk.add_argument("--block", type=int, help="refuse at or above this score (101: never)")
    risk.add_argument(
        "--block-value",
        metavar="KIND=VALUE",
        help="add to the blocklist: email=, card_fingerprint=, ip_address=, country=",
    )
    risk.add_argument("--unblock-value", metavar="KIND=VALUE", help="remove from the blocklist")
    risk.add_argument("--reason", help="why (kept with the blocklist entry)")
    risk.set_defaults(handler=_risk)

    worker = commands.add_parser("worker", help="run the background job worker (Huey)")
    worker.add_argument("--workers", type=int, default=4, help="worker threads (default 4)")
    worker.set_defaults(handler=_worker)

    webhooks = commands.add_parser("webhooks", help="replay inbound events; listen locally")
    actions = webhooks.add_subparsers(dest="action", required=True, metavar="ACTION")
    replay = actions.add_parser("replay", help="process one event again, now")
    replay.add_argument("event", help="Stripe's event id (evt_...) or ours (whe_...)")
    replay.set_defaults(handler=_webhooks_replay)
    failed = actions.add_parser("replay-failed", help="process every failed and dead event again")
    failed.add_argument("--since", type=_aware_time, help="received since (ISO 8601)")
    failed.set_defaults(handler=_webhooks_replay_failed)
    listen = actions.add_parser(
        "listen", help="forward a merchant's test-mode events to a local URL as they happen"
    )
    listen.add_argument("--merchant", required=True, help="merchant id (mer_...)")
    listen.add_argument(
        "--forward-to", required=True, help="a local URL, e.g. http://localhost:4242/hook"
    )
    listen.add_argument("--events", help="only these event types, comma-separated (default *)")
    listen.add_argument("--live", action="store_true", help="refused: test mode only")
    listen.set_defaults(handler=_webhooks_listen)

    wallet = commands.add_parser(
        "wallet-domain",
        help="Apple Pay and Google Pay: register the checkout's domain (APP_URL's) with Stripe",
    )
    wallet.add_argument(
        "action",
        choices=("register", "check", "status"),
        help="register it (or check again if registered), check it again, or show its status",
    )
    wallet.set_defaults(handler=_wallet_domain)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "payments", 1) is not None and getattr(args, "payments", 1) < 0:
        print("error: --payments must be zero or more", file=sys.stderr)
        return 2
    try:
        result = args.handler(args)
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(
            f"error: the database is not ready ({exc.orig}); run `alembic upgrade head` first",
            file=sys.stderr,
        )
        return 1
    except SQLAlchemyError as exc:
        print(f"error: the database refused the change ({type(exc).__name__})", file=sys.stderr)
        return 1
    if result is None:
        return 0
    if getattr(args, "announce", False):
        print(_announcement(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


def _announcement(result: dict[str, object]) -> str:
    from backend.core.config import get_settings
    from backend.services.merchant.quickstart import charge_command

    url = get_settings().app_url
    return "\n".join(
        [
            "",
            "  Demo merchant ready" + (" (created)" if result["created"] else ""),
            f"  Sign in at   {url}/login",
            f"  E-mail       {result['email']}",
            f"  Password     {result['password']}",
            f"  Test API key {result['test_secret_key']}",
            "  (the same test key on every run; it is also under Developers, API keys)",
            "",
            "  A test charge:",
            "    " + charge_command(url, str(result["test_secret_key"])).replace("\n", "\n  "),
            "",
            *(
                []
                if result.get("app_answered", True)
                else [f"  (the app did not answer at {url} yet; see the messages above)", ""]
            ),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
