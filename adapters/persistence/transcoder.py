"""An orjson-backed transcoder for eventsourcing, with typed round-trips.

orjson writes UUIDs and datetimes as bare strings, which would come back as
strings. So values of registered types are tagged first (``{"_type_", "_data_"}``,
the same envelope as the library's ``JSONTranscoder``, so stored rows stay readable
by it), then orjson does the byte work in C.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    Transcoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from domain.groups import GroupLog
from domain.syncs import SyncState

_PLAIN = (str, int, bool, float, type(None))


class OrjsonTranscoder(Transcoder):
    """Transcoder with the library's registration API and orjson's speed."""

    def __init__(self) -> None:
        self.types: dict[type, Transcoding] = {}
        self.names: dict[str, Transcoding] = {}

    def register(self, transcoding: Transcoding) -> None:
        self.types[transcoding.type] = transcoding
        self.names[transcoding.name] = transcoding

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(self._tag(obj))

    def decode(self, data: bytes) -> Any:
        return self._untag(orjson.loads(data))

    def _tag(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN:
            return obj
        if kind is dict:
            return {key: self._tag(value) for key, value in obj.items()}
        if kind is list or kind is tuple:
            return [self._tag(value) for value in obj]
        transcoding = self.types.get(kind)
        if transcoding is None:
            msg = f"Object of type {kind} is not serializable: register a transcoding for it"
            raise TranscodingNotRegisteredError(msg)
        return {"_type_": transcoding.name, "_data_": self._tag(transcoding.encode(obj))}

    def _untag(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is dict:
            if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
                try:
                    transcoding = self.names[obj["_type_"]]
                except KeyError:
                    msg = f"Data serialized as {obj['_type_']!r} has no registered transcoding"
                    raise TranscodingNotRegisteredError(msg) from None
                return transcoding.decode(self._untag(obj["_data_"]))
            return {key: self._untag(value) for key, value in obj.items()}
        if kind is list:
            return [self._untag(value) for value in obj]
        return obj


class SyncStateAsDict(Transcoding):
    """An organizer's ``SyncState`` (in snapshots), as a dict of its fields.

    ``name`` is stored in every snapshot row that holds one: renaming it is a migration."""

    type = SyncState
    name = "organizer_sync_state"

    def encode(self, obj: SyncState) -> dict[str, Any]:
        return obj.as_state()

    def decode(self, data: dict[str, Any]) -> SyncState:
        return SyncState.from_state(data)


class GroupLogAsRows(Transcoding):
    """A group's entries in an organizer snapshot, one ``[occurred_at, change_id,
    active]`` row each (issue 12). Snapshots before it hold plain lists of dicts, which
    still decode (as lists). ``name`` is stored in snapshot rows: renaming it is a
    migration."""

    type = GroupLog
    name = "organizer_group_log"

    def encode(self, obj: GroupLog) -> list[list[object]]:
        return obj.compact()

    def decode(self, data: list[list[object]]) -> GroupLog:
        return GroupLog.from_compact(data)


def ledger_transcoder() -> OrjsonTranscoder:
    """The transcoder every ledger store uses: UUID, Decimal, aware datetimes, and the
    organizer's typed state in snapshots."""
    transcoder = OrjsonTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    transcoder.register(SyncStateAsDict())
    transcoder.register(GroupLogAsRows())
    return transcoder
