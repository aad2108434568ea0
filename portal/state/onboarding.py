"""The dashboard's set-up checklist for a new merchant's owner."""

from __future__ import annotations

import reflex as rx

from backend.services.merchant import onboarding
from portal.state.auth import AuthState


class OnboardingState(AuthState):
    steps: list[dict[str, str]] = []
    done_count: int = 0

    @rx.event
    def load(self) -> None:
        ctx = self._load_context()
        if ctx is None:
            self.steps, self.done_count = [], 0
            return
        steps = onboarding.read_checklist(ctx)
        done = sum(step.done for step in steps)
        # Once everything is done the checklist has nothing to say.
        self.steps = (
            []
            if done == len(steps)
            else [
                {
                    "key": s.key,
                    "title": s.title,
                    "why": s.why,
                    "href": s.href,
                    "done": "yes" if s.done else "",
                }
                for s in steps
            ]
        )
        self.done_count = done
