"""The ledger: what the merchant is owed and where that money is.

Every booking of backend.services.payments.booking writes a journal here in the same
transaction: entries that sum to zero per currency (journal.py), the merchant's balance
transactions and the cached balance row (balances in balances.py). postings.py says which
entries each money event books; availability.py when captured funds become available, and
release.py makes them so; payouts pay the available balance out.
"""
