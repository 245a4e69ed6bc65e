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

from app.bootstrap import Container
from app.entrypoints.http.auth import require_organizer_access
from app.entrypoints.http.problems import Problem
from app.entrypoints.http.routes.params import in_thread, query_instant
from app.services.organizers.state import OrganizerState, organizer_state


def routes(container: Container) -> list[BaseRoute]:
    def state(organizer_id: str, as_of: datetime | None) -> OrganizerState | None:
        minimum = container.settings.minimum_quantity
        return organizer_state(container.ledger, organizer_id, as_of, minimum_quantity=minimum)

    async def get_state(request: Request) -> Response:
        """The organizer's ``OrganizerState``; 404 if unknown (or not registered at as_of)."""
        organizer_id: str = request.path_params["organizer_id"]
        require_organizer_access(request, container.settings, organizer_id)
        as_of = query_instant(request, "as_of")
        found = await in_thread(state, organizer_id, as_of)
        if found is None:
            when = "" if as_of is None else f" at {as_of.isoformat()}"
            raise Problem(
                404,
                "Organizer not found",
                f"no organizer {organizer_id!r} was registered{when}",
                slug="organizer-not-found",
            )
        return Response(found.model_dump_json(), media_type="application/json")

    return [Route("/api/organizers/{organizer_id}/state", get_state, methods=["GET"])]
