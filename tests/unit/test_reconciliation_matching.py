"""The matching rules on plain values: what pairs, what differs, what waits for the grace
period, and what is not ours to report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.gateways.base import ProcessorBalanceTransaction as BT
from backend.services.reconciliation.matching import Ours, match, their_key

NOW = datetime(2026, 3, 10, tzinfo=UTC)
OLD = NOW - timedelta(days=5)
JUDGED = NOW - timedelta(days=2)


def ours(id_: str, type_: str, processor_id: str, amount: int, fee: int | None = None, *, at=OLD):
    kind = {"charge": "payment", "refund": "refund"}.get(type_, "dispute")
    return Ours(id_, type_, kind, f"{kind}_{id_}", processor_id, "USD", amount, fee, at)


def theirs(id_: str, type_: str, source: str, amount: int, fee: int = 0, *, at=OLD) -> BT:
    return BT(id_, type_, amount, fee, amount - fee, "USD", source, at, at)


def kinds(result) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(f.kind.value, f.our_id, f.their_id) for f in result.findings}


def test_equal_sides_find_nothing_and_count_as_checked() -> None:
    result = match(
        [ours("t1", "charge", "pi_1", 10_000, 320), ours("t2", "refund", "re_1", -2_500)],
        [theirs("x1", "charge", "pi_1", 10_000, 320), theirs("x2", "refund", "re_1", -2_500)],
        judged_before=JUDGED,
        report_unknown=True,
    )
    assert result.findings == []
    assert (result.our_ids, result.their_ids) == ({"t1", "t2"}, {"x1", "x2"})


def test_amount_and_fee_are_compared_separately() -> None:
    result = match(
        [ours("t1", "charge", "pi_1", 10_000, 320)],
        [theirs("x1", "payment", "pi_1", 9_900, 327)],
        judged_before=JUDGED,
        report_unknown=True,
    )
    assert kinds(result) == {("amount_differs", "t1", "x1"), ("fee_differs", "t1", "x1")}
    fee = next(f for f in result.findings if f.kind == "fee_differs")
    assert (fee.expected, fee.actual) == (320, 327)


def test_a_fee_we_do_not_book_is_not_compared() -> None:
    result = match(
        [ours("t1", "refund", "re_1", -500)],
        [theirs("x1", "refund", "re_1", -500, fee=3)],
        judged_before=JUDGED,
        report_unknown=True,
    )
    assert result.findings == []


def test_missing_sides_wait_for_the_grace_period() -> None:
    recent = NOW - timedelta(hours=1)
    result = match(
        [ours("t1", "charge", "pi_1", 100), ours("t2", "charge", "pi_2", 100, at=recent)],
        [theirs("x1", "charge", "pi_9", 100), theirs("x2", "charge", "pi_8", 100, at=recent)],
        judged_before=JUDGED,
        report_unknown=True,
    )
    assert kinds(result) == {("missing_theirs", "t1", ""), ("missing_ours", "", "x1")}


def test_the_platform_accounts_unknown_movements_are_not_reported() -> None:
    result = match(
        [], [theirs("x1", "charge", "pi_9", 100)], judged_before=JUDGED, report_unknown=False
    )
    assert result.findings == []


def test_a_dispute_and_its_reinstatement_pair_by_direction() -> None:
    assert their_key(theirs("x1", "adjustment", "dp_1", -100)) == "dispute"
    assert their_key(theirs("x2", "adjustment", "dp_1", 100)) == "dispute_reversal"
    assert their_key(theirs("x3", "adjustment", "ch_1", 100)) is None  # not a dispute's
    assert their_key(theirs("x4", "payout", "po_1", -100)) is None
    result = match(
        [ours("t1", "dispute", "dp_1", -100, 1500), ours("t2", "dispute_reversal", "dp_1", 100)],
        [theirs("x1", "adjustment", "dp_1", -100, 1500), theirs("x2", "adjustment", "dp_1", 100)],
        judged_before=JUDGED,
        report_unknown=True,
    )
    assert result.findings == []
