"""``GET /api/organizers/{organizer_id}/state[?as_of=ISO8601]``: time travel.

The state is rebuilt from the event store (the version in force at ``as_of``, from the
nearest snapshot), never from the read models, so it answers "what did the ledger
know then" even for instants the projections have moved past.
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.api.auth import require_organizer_access
from app.bootstrap import Container
from app.problems import Problem
from app.routes.params import in_thread, query_instant
from app.schemas import OrganizerState


def state_at(
    container: Container, organizer_id: str, as_of: datetime | None
) -> OrganizerState | None:
    """The organizer's state now or as of an instant; None if unknown then."""
    ledger = container.ledger
    organizer = (
        ledger.find(organizer_id) if as_of is None else ledger.get_as_of(organizer_id, as_of)
    )
    if organizer is None:
        return None
    return OrganizerState.of(
        organizer, minimum_quantity=container.settings.minimum_quantity, as_of=as_of
    )


def routes(container: Container) -> list[BaseRoute]:
    async def organizer_state(request: Request) -> Response:
        """The organizer's ``OrganizerState``; 404 if unknown (or not registered at as_of)."""
        organizer_id: str = request.path_params["organizer_id"]
        require_organizer_access(request, container.settings, organizer_id)
        as_of = query_instant(request, "as_of")
        state = await in_thread(state_at, container, organizer_id, as_of)
        if state is None:
            when = "" if as_of is None else f" at {as_of.isoformat()}"
            raise Problem(
                404,
                "Organizer not found",
                f"no organizer {organizer_id!r} was registered{when}",
                slug="organizer-not-found",
            )
        return Response(state.model_dump_json(), media_type="application/json")

    return [Route("/api/organizers/{organizer_id}/state", organizer_state, methods=["GET"])]
