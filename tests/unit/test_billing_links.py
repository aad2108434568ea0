"""Signed invoice links: a token opens its own invoice only; anything else, including text no
token of ours can be (non-ASCII, empty, another invoice's signature), opens nothing."""

from __future__ import annotations

from backend.services.billing import links


def test_a_token_names_its_invoice_and_nothing_else() -> None:
    token = links.invoice_token("in_abc")
    assert links.invoice_id_from(token) == "in_abc"
    other = links.invoice_token("in_xyz")
    forged = "in_abc." + other.partition(".")[2]
    for bad in (forged, "in_abc", "", ".", "\u00a0", token + "\u00e9", "in_abc.\x00"):
        assert links.invoice_id_from(bad) is None
    assert links.invoice_url("in_abc").endswith(f"/invoice/{token}")
