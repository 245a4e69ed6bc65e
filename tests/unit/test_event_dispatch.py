"""Every read model and the reactor decide about every event class of the aggregate.

Dispatch is on classes (projections/events.py): each model names the classes it handles
and those it ignores on purpose. A new event class of ``Organizer`` fails here until each
of them has decided, instead of being dropped silently by all of them.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.services.process.manager import RenewalReactor
from domain.organizer import Organizer
from domain.prices import PRICE_EVENT_CLASSES, StripePrice
from projections.base import ReadModel
from projections.events import NEVER_RECORDED, EventClass, organizer_event_classes
from projections.prices import PricesProjection
from projections.runner import READ_MODELS

MODELS: list[type[ReadModel]] = [*READ_MODELS.values(), RenewalReactor]


def handled(model: type[ReadModel]) -> frozenset[EventClass]:
    if model is RenewalReactor:  # a singledispatchmethod: its registry is its table
        registry: dict[Any, Any] = RenewalReactor.__dict__["react"].dispatcher.registry
        return frozenset(cls for cls in registry if cls is not object)
    return model.handles


def test_the_reactors_handles_are_its_registry() -> None:
    assert RenewalReactor.handles == handled(RenewalReactor)
    assert Organizer.RenewalUpcoming in RenewalReactor.handles


def test_the_enumeration_finds_the_aggregates_events() -> None:
    events = organizer_event_classes()
    assert Organizer.Registered in events
    assert Organizer.GroupActivated in events
    assert Organizer.DraftCorrectionRequested in events
    assert events >= NEVER_RECORDED


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
class TestEveryEventHasADecision:
    def test_every_event_class_is_handled_or_ignored(self, model: type[ReadModel]) -> None:
        undecided = organizer_event_classes() - handled(model) - model.IGNORED
        assert sorted(c.__qualname__ for c in undecided) == []

    def test_no_class_is_both_handled_and_ignored(self, model: type[ReadModel]) -> None:
        both = handled(model) & model.IGNORED
        assert sorted(c.__qualname__ for c in both) == []

    def test_no_handled_or_ignored_class_is_stale(self, model: type[ReadModel]) -> None:
        known = organizer_event_classes() | PRICE_EVENT_CLASSES
        stale = (handled(model) | model.IGNORED) - known
        assert sorted(c.__qualname__ for c in stale) == []

    def test_a_recorded_event_is_never_handled_as_its_base(self, model: type[ReadModel]) -> None:
        # The reactor's singledispatch follows subclasses: an ignored subclass of a
        # handled class would in fact be handled (and the tables do not follow them).
        shadowed = {
            ignored
            for ignored in model.IGNORED
            for cls in handled(model)
            if ignored is not cls and issubclass(ignored, cls)
        }
        assert sorted(c.__qualname__ for c in shadowed) == []


class TestPriceEvents:
    """A price is no organizer's (domain/prices.py): its read model decides every price
    event; the organizer's models key rows by organizer and pass over other streams
    (tests/integration/test_prices.py applies a price event to each of them)."""

    def test_the_prices_model_decides_every_price_event(self) -> None:
        decided = PricesProjection.handles | PricesProjection.IGNORED
        assert sorted(c.__qualname__ for c in PRICE_EVENT_CLASSES - decided) == []

    def test_the_prices_model_handles_the_observations(self) -> None:
        assert PricesProjection.handles == {StripePrice.Observed}
