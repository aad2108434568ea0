"""Payouts: paying a merchant's available balance to its verified bank account.

authority.py says who may (the owner in the portal, the merchant's own API key, the schedule);
schedules.py when a merchant is paid; creating.py makes a payout (booked through
payments.booking, then sent on the rail after the commit) and retries unsent ones;
scheduled.py the automatic payouts; sync.py applies the rail's events; canceling.py cancels a
pending payout; reads.py answers the balance, its transactions and the payouts.
"""
