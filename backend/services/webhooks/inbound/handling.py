"""What a handler of an inbound event may answer besides applying it: the event changes nothing
here (Ignore), or it needs an earlier event first (Defer)."""

from __future__ import annotations


class Ignore(Exception):  # control flow, not an error
    """The event has nothing to change here (not our object, stale, backwards): mark ignored."""


class Defer(Exception):
    """An earlier event this one needs has not been applied yet: retry later."""
