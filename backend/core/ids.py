"""Public object ids: a type prefix and a time-ordered random part (ULID alphabet).

Time order keeps primary-key indexes append-mostly; 80 random bits make ids unguessable.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case as ids are shown
# Every 10-bit value as its two characters: an id's 130 bits are 13 lookups, where one
# divmod per character costs a charge (about ten ids) tens of microseconds.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_SHIFTS = range(120, -1, -10)


def new_id(prefix: str) -> str:
    """prefix_ then 26 characters: 10 for the milliseconds since 1970 and 16 for 80 random
    bits, 5 bits a character, most significant first (so ids sort by creation time)."""
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | int.from_bytes(os.urandom(10))
    return prefix + "_" + "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])
