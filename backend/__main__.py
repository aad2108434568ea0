"""Admin CLI: `python -m backend <command>` (also installed as `payportal-admin`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from backend.db import session_scope
from backend.services.errors import ServiceError


def _create_merchant(args: argparse.Namespace) -> dict[str, object]:
    from backend.services.accounts import create_merchant

    with session_scope() as db:
        created = create_merchant(db, email=args.email, password=args.password, name=args.name)
    return {
        "merchant_id": created.merchant.id,
        "user_id": created.user.id,
        "email": created.user.email,
        "test_secret_key": created.test_secret_key,
        "note": "The secret key is shown once; store it now.",
    }


def _seed_demo(args: argparse.Namespace) -> dict[str, object]:
    from backend.services.demo import seed_demo

    with session_scope() as db:
        creds = seed_demo(db, payments=args.payments)
    return {
        "merchant_id": creds.merchant_id,
        "email": creds.email,
        "password": creds.password,
        "test_secret_key": creds.test_secret_key,
        "created": creds.created,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    create = commands.add_parser("create-merchant", help="create a merchant and its owner")
    create.add_argument("--email", required=True, help="owner's sign-in e-mail")
    create.add_argument("--password", required=True, help="owner's password (10+ characters)")
    create.add_argument("--name", help="business name (defaults from the e-mail)")
    create.set_defaults(handler=_create_merchant)

    demo = commands.add_parser("seed-demo", help="create the demo merchant with test payments")
    demo.add_argument("--payments", type=int, default=300, help="how many payments (default 300)")
    demo.add_argument("--announce", action="store_true", help="print for people, not JSON")
    demo.set_defaults(handler=_seed_demo)
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
    if getattr(args, "announce", False):
        print(_announcement(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


def _announcement(result: dict[str, object]) -> str:
    from backend.config import get_settings

    url = get_settings().app_url
    return "\n".join(
        [
            "",
            "  Demo merchant ready" + (" (created)" if result["created"] else ""),
            f"  Sign in at   {url}/login",
            f"  E-mail       {result['email']}",
            f"  Password     {result['password']}",
            f"  Test API key {result['test_secret_key']}",
            "  (a new key on every run; older demo keys are revoked)",
            "",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
