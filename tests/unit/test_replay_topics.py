"""Which stored topics a rebuild reads (projections/runner.py ``decided_topics``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eventsourcing import utils

from domain.claims import InputClaim
from domain.organizer import Organizer
from domain.prices import StripePrice
from projections.events import decided_classes, decided_topics
from projections.runner import READ_MODELS

OLD_TOPIC = "domain.old_organizer:Organizer.GroupActivated"


@pytest.fixture
def old_topic() -> Iterator[str]:
    """A topic a renamed class was once stored under, registered as a migration does."""
    utils.register_topic(OLD_TOPIC, Organizer.GroupActivated)
    try:
        yield OLD_TOPIC
    finally:
        utils._topic_cache.pop(OLD_TOPIC, None)


def every_model_decides() -> frozenset[type[object]]:
    return decided_classes(READ_MODELS.values())


def test_the_claims_are_left_out_and_every_organizer_and_price_event_kept() -> None:
    stored = [
        utils.get_topic(InputClaim.Claimed),
        utils.get_topic(Organizer.Registered),
        utils.get_topic(Organizer.GroupActivated),
        utils.get_topic(StripePrice.Started),
        utils.get_topic(StripePrice.Observed),
    ]
    assert decided_topics(stored, every_model_decides()) == stored[1:]


def test_an_old_topic_registered_for_a_decided_class_is_kept(old_topic: str) -> None:
    assert decided_topics([old_topic], every_model_decides()) == [old_topic]


def test_a_topic_that_does_not_resolve_is_kept_to_fail_as_before() -> None:
    assert decided_topics(["no_such.module:Gone"], every_model_decides()) == ["no_such.module:Gone"]


def test_only_the_classes_of_the_given_models_count() -> None:
    renewals = READ_MODELS["renewals"]
    observed = utils.get_topic(StripePrice.Observed)
    assert decided_topics([observed], decided_classes([renewals])) == []
    assert decided_topics([observed], decided_classes([READ_MODELS["prices"]])) == [observed]
