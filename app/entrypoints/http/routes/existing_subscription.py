"""The organizer API for subscriptions made before the ledger (issue 13): what was found,
and the confirmed move to the per-group price. Guarded like organizer_api.py (the
organizer itself or staff). The use case is app/services/organizers/existing.py, which
shares ``ledger enroll-existing``'s code path."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.stripe.gateway import StripeCallError
from app.bootstrap import Container
from app.entrypoints.http.auth import require_organizer_access
from app.entrypoints.http.openapi import Operation
from app.entrypoints.http.problems import Problem
from app.entrypoints.http.routes.organizer_api import (
    ORGANIZER,
    ROLES,
    json_response,
    stripe_unavailable,
)
from app.entrypoints.http.routes.params import in_thread
from app.services.organizers.errors import AlreadyEnrolledError, StripeNotConfiguredError
from app.services.organizers.existing import (
    ExistingSubscription,
    MoveRefusedError,
    NoExistingSubscriptionError,
    confirm_existing,
    find_existing,
)
from app.services.process.enroll import EnrollmentError

PATH = "/api/organizers/{organizer_id}/existing-subscription"
OPERATIONS = [
    Operation(
        "get",
        PATH,
        "getExistingSubscription",
        "A subscription made before the ledger (found by metadata.organizer_id, or linked "
        "by ops) and what moves to the per-group price when; asks Stripe (paced) unless "
        "ops linked it",
        "organizers",
        ExistingSubscription,
        params=(ORGANIZER,),
        errors=(401, 403, 404, 409, 503),
        roles=ROLES,
    ),
    Operation(
        "post",
        f"{PATH}/confirm",
        "confirmExistingSubscription",
        "Move the found subscription's item to the per-group price from its next renewal, "
        "with no proration and no Checkout; idempotent (a confirmed move answers 200 again)",
        "organizers",
        ExistingSubscription,
        params=(ORGANIZER,),
        errors=(401, 403, 404, 409, 503),
        roles=ROLES,
    ),
]

Handler = Callable[[Container, str], ExistingSubscription]


def routes(container: Container) -> list[BaseRoute]:
    settings = container.settings

    def endpoint(use_case: Handler) -> Callable[[Request], object]:
        async def handle(request: Request) -> Response:
            organizer_id: str = request.path_params["organizer_id"]
            require_organizer_access(request, settings, organizer_id)
            try:
                found = await in_thread(use_case, container, organizer_id)
            except NoExistingSubscriptionError:
                raise Problem(
                    404,
                    "No existing subscription",
                    f"no subscription made before the ledger was found for {organizer_id!r}",
                    slug="no-existing-subscription",
                ) from None
            except AlreadyEnrolledError:
                raise Problem(
                    409,
                    "Already enrolled",
                    "this organizer's subscription is billed per group already",
                    slug="already-enrolled",
                ) from None
            except (MoveRefusedError, EnrollmentError) as error:
                raise Problem(409, "Cannot move", str(error), slug="cannot-move") from None
            except StripeNotConfiguredError as error:
                raise Problem(
                    503, "Stripe not configured", str(error), slug="not-configured"
                ) from None
            except StripeCallError as error:
                raise stripe_unavailable(organizer_id, error) from None
            return json_response(found)

        return handle

    return [
        Route(PATH, endpoint(find_existing), methods=["GET"]),
        Route(f"{PATH}/confirm", endpoint(confirm_existing), methods=["POST"]),
    ]
