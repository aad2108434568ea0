"""Reconciliation: our records against the processors' and the payout rail's.

stripe_import (the payouts a merchant's own Stripe account made, imported through the booking
path, from Stripe's list and its payout events alike), matching (the rules, on plain values),
runs (one run for a merchant and mode: gather both sides, match, keep the exceptions),
exceptions (read, resolve with a note, CSV) and page (what the portal's page does).
"""
