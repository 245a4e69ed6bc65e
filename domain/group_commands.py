"""The organizer's command on platform group changes (a mixin of ``Organizer``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.groups import ChangeOutcome, GroupAction, classify_change
from domain.guards import check_aware, check_platform_id
from domain.organizer_state import OrganizerState


class GroupCommands(OrganizerState):
    def change_group(
        self,
        *,
        action: GroupAction,
        group_id: str,
        change_id: str,
        occurred_at: datetime,
        at: datetime,
        group_name: str | None = None,
    ) -> ChangeOutcome:
        """Apply one platform change; returns what it did. Unseen ids always leave a trace.

        A change id is known here while its entry is in the group's (folded) history, or
        from before issue 12 (``change_outcomes``); the ledger also checks the change's
        ``InputClaim`` first, which remembers every id since (domain/claims.py)."""
        check_platform_id(group_id, "group_id")
        check_platform_id(change_id, "change_id")
        check_aware(occurred_at, "occurred_at")
        entries = self.groups.get(group_id, [])
        if change_id in self.change_outcomes or any(e["change_id"] == change_id for e in entries):
            return ChangeOutcome.DUPLICATE
        outcome = classify_change(
            entries, action=action, occurred_at=occurred_at, change_id=change_id
        )
        fields: dict[str, Any] = {
            "group_id": group_id,
            "change_id": change_id,
            "occurred_at": occurred_at,
            "claimed": True,
            "timestamp": at,
        }
        if group_name is not None:  # absent otherwise: older clients' events stay as stored
            fields["group_name"] = group_name
        if outcome is ChangeOutcome.STALE:
            newest = entries[-1]
            self.trigger_event(
                self.StaleGroupChangeIgnored,
                action=action.value,
                newest_change_id=newest["change_id"],
                newest_occurred_at=newest["occurred_at"],
                **fields,
            )
        elif outcome is ChangeOutcome.REAFFIRMED:
            self.trigger_event(self.GroupChangeReaffirmed, action=action.value, **fields)
        elif action is GroupAction.ACTIVATED:
            self.trigger_event(self.GroupActivated, **fields)
        else:
            self.trigger_event(self.GroupDeactivated, **fields)
        return outcome
