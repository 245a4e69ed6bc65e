"""Response and request models shared by the HTTP API and the CLI's ``--json``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from domain.organizer import Organizer

if TYPE_CHECKING:
    from app.services.ledger import LedgerApplication


class StripeState(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    customer_id: str | None = None
    subscription_id: str | None = None
    subscription_item_id: str | None = None
    price_id: str | None = None
    status: str | None = None
    billed_quantity: int | None = None
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    observed_at: datetime | None = None


class OrganizerState(BaseModel):
    """An organizer's state as the ledger knew it at ``as_of`` (or now)."""

    # Dumped whole, defaults included: documented as always present.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    organizer_id: str = Field(description="The platform's organizer id")
    as_of: datetime | None = Field(default=None, description="null for the current state")
    version: int = Field(description="Aggregate version this state was built from")
    active_group_ids: list[str] = Field(description="Sorted ids of the active groups")
    active_group_count: int
    billable_quantity: int = Field(description="Active groups, never below the minimum")
    stripe: StripeState
    last_synced_quantity: int | None = None
    last_synced_at: datetime | None = None

    @classmethod
    def of(
        cls, organizer: Organizer, *, minimum_quantity: int, as_of: datetime | None = None
    ) -> OrganizerState:
        snapshot = organizer.subscription_snapshot
        stripe = StripeState(customer_id=organizer.stripe_customer_id)
        if snapshot is not None:
            stripe = StripeState(
                customer_id=organizer.stripe_customer_id,
                subscription_id=snapshot.subscription_id,
                subscription_item_id=snapshot.item_id,
                price_id=snapshot.price_id,
                status=snapshot.status,
                billed_quantity=snapshot.quantity,
                current_period_start=snapshot.current_period_start,
                current_period_end=snapshot.current_period_end,
                observed_at=snapshot.observed_at,
            )
        active = organizer.active_group_ids
        return cls(
            organizer_id=organizer.platform_organizer_id,
            as_of=as_of,
            version=organizer.version,
            active_group_ids=active,
            active_group_count=len(active),
            billable_quantity=organizer.billable_quantity(minimum=minimum_quantity),
            stripe=stripe,
            last_synced_quantity=organizer.last_synced_quantity,
            last_synced_at=organizer.last_synced_at,
        )


def organizer_state(
    ledger: LedgerApplication, organizer_id: str, as_of: datetime | None, *, minimum_quantity: int
) -> OrganizerState | None:
    """The organizer's state now, or as the event store knew it at ``as_of``; None if it
    was unknown then. Built from the event store, never from the read models."""
    organizer = (
        ledger.find(organizer_id) if as_of is None else ledger.get_as_of(organizer_id, as_of)
    )
    if organizer is None:
        return None
    return OrganizerState.of(organizer, minimum_quantity=minimum_quantity, as_of=as_of)
