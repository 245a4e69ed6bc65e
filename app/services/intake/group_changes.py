"""Platform group changes in batches: validate item by item, apply per organizer.

Shared by ``POST /internal/group-changes`` and ``ledger import-group-changes``; no HTTP
here. Every item gets one of four outcomes (``applied``, ``duplicate``, ``stale``,
``rejected``). A rejected item is refused before anything is recorded, so it never
blocks or half-applies the others. The domain's fifth outcome, ``reaffirmed``, is
reported as ``applied`` with ``effect: "reaffirmed"`` (see docs/group-changes.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Protocol, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
)

from adapters.observability.metrics import QUARANTINED_INPUTS
from adapters.persistence.database import StoreUnavailableError
from app.services.claims import Claims, take_group_change
from app.services.errors import NotReadyError
from app.services.ledger import ConcurrencyError
from domain.groups import ChangeOutcome, GroupAction
from domain.limits import id_problem
from domain.organizer import Organizer, OrganizerError
from projections.times import parse_instant

T = TypeVar("T")

MAX_CHANGES_PER_REQUEST = 1_000
# Platform and ledger clocks drift; anything further ahead is a bug, not skew.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# Worth retrying the whole batch later (change ids make that harmless): the store is
# unreachable (from our SQL or eventsourcing's) or not migrated, or an organizer stayed
# contended by other writers.
RETRY_LATER_ERRORS: tuple[type[Exception], ...] = (
    StoreUnavailableError,
    OperationalError,
    InterfaceError,
    NotReadyError,
    ConcurrencyError,
)


class ChangeLedger(Protocol):
    """The part of :class:`app.services.ledger.LedgerApplication` a batch needs."""

    @property
    def clock(self) -> Callable[[], datetime]: ...

    def update_claiming(
        self,
        platform_organizer_id: str,
        decide: Callable[[Organizer, datetime, Claims], T],
        *,
        register: bool = False,
    ) -> T: ...


class Outcome(StrEnum):
    """The contract's four outcomes (``reaffirmed`` folds into ``applied``)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    REJECTED = "rejected"


def _platform_id(value: str) -> str:
    problem = id_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _instant(value: object) -> datetime:
    if not isinstance(value, str):
        msg = "must be an ISO 8601 string with a timezone"
        raise ValueError(msg)
    return parse_instant(value)


MAX_GROUP_NAME = 200


def _group_name(value: object) -> str | None:
    """Trimmed; blank is no name; bounded and printable (it is shown to organizers)."""
    if value is None:
        return None
    if not isinstance(value, str):
        msg = "must be a string"
        raise ValueError(msg)
    name = value.strip()
    if len(name) > MAX_GROUP_NAME:
        msg = f"must be at most {MAX_GROUP_NAME} characters"
        raise ValueError(msg)
    if not name.isprintable():
        msg = "must be printable text (no control characters)"
        raise ValueError(msg)
    return name or None


PlatformId = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_platform_id)
]


# This model both validates each item and documents it in /openapi.json: the docstring
# and the field descriptions are the contract's text.
class GroupChangeItem(BaseModel):
    """One change as the platform sends it; unknown extra fields are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    change_id: PlatformId
    organizer_id: PlatformId
    group_id: PlatformId
    action: GroupAction
    occurred_at: Annotated[datetime, BeforeValidator(_instant)] = Field(
        description="ISO 8601 with a timezone"
    )
    group_name: Annotated[str | None, BeforeValidator(_group_name)] = Field(
        default=None,
        max_length=MAX_GROUP_NAME,
        description="Optional: the group's name as organizers know it (trimmed, at most "
        "200 printable characters); shown beside the id",
    )


def _unchecked(value: object) -> object:
    return value


# An item of a batch stays as sent: each is validated on its own (``validate_change``), so
# one bad item is rejected alone instead of failing the batch. Documented as the item model.
RawChange = Annotated[Any, PlainValidator(_unchecked, json_schema_input_type=GroupChangeItem)]


# The body of POST /internal/group-changes, validated (the envelope; a failure is the
# route's 400 or 413) and documented by this one model.
class GroupChangeBatch(BaseModel):
    """Platform group changes, at most 1,000; each item gets its own outcome."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    changes: list[RawChange] = Field(max_length=MAX_CHANGES_PER_REQUEST)


@dataclass(frozen=True, slots=True)
class ValidChange:
    """An item that passed validation, with its position in the batch or file."""

    index: int
    item: GroupChangeItem


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one item; ``index`` is its position (a line number in files)."""

    index: int
    change_id: str | None
    outcome: Outcome
    reason: str | None = None
    effect: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "index": self.index,
            "change_id": self.change_id,
            "outcome": self.outcome.value,
        }
        if self.reason is not None:
            body["reason"] = self.reason
        if self.effect is not None:
            body["effect"] = self.effect
        return body


Checked = ValidChange | ItemResult


def rejected(index: int, raw: object, reason: str) -> ItemResult:
    """A ``rejected`` result, echoing the item's change id when it has a usable one."""
    change_id = raw.get("change_id") if isinstance(raw, dict) else None
    return ItemResult(
        index, change_id if isinstance(change_id, str) else None, Outcome.REJECTED, reason
    )


def validate_change(index: int, raw: object, *, now: datetime) -> Checked:
    """Check one item's shape and time; a failure names the field in its reason."""
    if not isinstance(raw, dict):
        return rejected(index, raw, "each change must be a JSON object")
    try:
        item = GroupChangeItem.model_validate(raw)
    except ValidationError as error:
        return rejected(index, raw, _reason(error))
    if item.occurred_at > now + MAX_CLOCK_SKEW:
        return rejected(index, raw, "occurred_at is in the future")
    return ValidChange(index, item)


def _reason(error: ValidationError) -> str:
    parts = []
    for detail in error.errors():
        field = ".".join(str(part) for part in detail["loc"]) or "change"
        parts.append(f"{field}: {detail['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def process_batch(ledger: ChangeLedger, items: Sequence[object]) -> list[ItemResult]:
    """Validate and apply a batch (the HTTP body's ``changes``); results in input order."""
    now = ledger.clock()
    return apply_checked(ledger, [validate_change(i, raw, now=now) for i, raw in enumerate(items)])


def apply_checked(ledger: ChangeLedger, checked: Sequence[Checked]) -> list[ItemResult]:
    """Apply the valid items, one ``update`` (one load, one save) per organizer.

    Items keep their relative order within an organizer, which is all the domain
    needs: organizers are independent streams. Results come back in input order.
    """
    by_organizer: dict[str, list[ValidChange]] = {}
    for entry in checked:
        if isinstance(entry, ValidChange):
            by_organizer.setdefault(entry.item.organizer_id, []).append(entry)
    outcomes: dict[int, ItemResult] = {}
    for organizer_id, changes in by_organizer.items():
        for result in ledger.update_claiming(organizer_id, _decider(changes), register=True):
            outcomes[result.index] = result
    results = [
        outcomes[entry.index] if isinstance(entry, ValidChange) else entry for entry in checked
    ]
    rejected_items = sum(1 for r in results if r.outcome is Outcome.REJECTED)
    if rejected_items:
        QUARANTINED_INPUTS.labels(kind="group_change").inc(rejected_items)
    return results


def _decider(
    changes: list[ValidChange],
) -> Callable[[Organizer, datetime, Claims], list[ItemResult]]:
    # Called again from scratch on a freshly loaded organizer if the save loses a race.
    def decide(organizer: Organizer, at: datetime, claims: Claims) -> list[ItemResult]:
        return [_apply_one(organizer, claims, change, at) for change in changes]

    return decide


def _apply_one(
    organizer: Organizer, claims: Claims, change: ValidChange, at: datetime
) -> ItemResult:
    item = change.item
    try:
        outcome = take_group_change(
            organizer,
            claims,
            action=item.action,
            group_id=item.group_id,
            change_id=item.change_id,
            occurred_at=item.occurred_at,
            at=at,
            group_name=item.group_name,
        )
    except OrganizerError as error:
        # The aggregate checks before it records, so refusing here leaves no trace.
        return ItemResult(change.index, item.change_id, Outcome.REJECTED, str(error))
    if outcome is ChangeOutcome.REAFFIRMED:
        return ItemResult(change.index, item.change_id, Outcome.APPLIED, effect="reaffirmed")
    return ItemResult(change.index, item.change_id, Outcome(outcome.value))


def summarize(results: Iterable[ItemResult]) -> dict[str, int]:
    """Counts per outcome, every outcome present (zero when none)."""
    counts = dict.fromkeys((o.value for o in Outcome), 0)
    for result in results:
        counts[result.outcome.value] += 1
    return counts
