"""One booking path: no module but payments/booking/ writes a payment's, refund's, dispute's,
payout's or order's money columns or moves their status, and only the ledger (which booking
calls) writes ledger rows. (The demo seed writes its history directly, with
booking's arithmetic; it books nothing that happens.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOOKING = "backend/services/payments/booking/"
SEED = "backend/services/merchant/demo.py"
MONEY_COLUMNS = {
    "amount_captured",
    "amount_refunded",
    "platform_fee",
    "gateway_fee",
    "net_amount",
    "platform_fee_refunded",
    "captured_at",
    "canceled_at",
    "authorized_at",
}
STATUS_ENUMS = {
    "PaymentStatus",
    "RefundStatus",
    "DisputeStatus",
    "OrderStatus",
    "PayoutStatus",
    "P",
    "R",
    "D",
    "PO",
}


def _a_subscription(target: ast.Attribute) -> bool:
    """`subscription.canceled_at`: when a subscription was canceled, which moves no money (its
    invoices are charged through the booking path like any payment)."""
    return isinstance(target.value, ast.Name) and target.value.id == "subscription"


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            for target in flat:
                if not isinstance(target, ast.Attribute):
                    continue
                if target.attr in MONEY_COLUMNS and not _a_subscription(target):
                    found.append((node.lineno, target.attr))
                value = node.value
                if (
                    target.attr == "status"
                    and isinstance(value, ast.Attribute)
                    and isinstance(value.value, ast.Name)
                    and value.value.id in STATUS_ENUMS
                ):
                    found.append((node.lineno, f"status = {value.value.id}.{value.attr}"))
    return found


def test_only_the_booking_module_moves_money() -> None:
    outside = []
    for path in sorted((ROOT / "backend").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name == SEED or name.startswith((BOOKING, "backend/models/")):
            continue
        outside += [f"{name}:{line}: {what}" for line, what in _writes(ast.parse(path.read_text()))]
    assert outside == []


def test_the_check_sees_a_write() -> None:
    sample = "payment.net_amount -= 5\nrefund.status = RefundStatus.FAILED\nx.status = 'open'\n"
    assert _writes(ast.parse(sample)) == [(1, "net_amount"), (2, "status = RefundStatus.FAILED")]
    # booking itself does write
    assert _writes(ast.parse((ROOT / BOOKING / "payments.py").read_text()))
