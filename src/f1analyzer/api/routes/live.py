"""``/live/*``: race-day sessions (thin routes over :mod:`f1analyzer.app.raceday_sessions`).

Not to be confused with ``POST /strategy/live`` (one pit call from a race state typed in).

* ``GET /live/sessions``: what can be followed (feeds, stored races) and the sessions running;
* ``POST /live/sessions``: start following (feed, season, event, speed, from_lap) -> ``id``;
* ``GET /live/{id}``: the session and its latest lap (snapshot + calls);
* ``GET /live/{id}/stream``: Server-Sent Events, one per lap and per track-status change, ``id:``
  = the snapshot's ``seq``; reconnecting with ``Last-Event-ID`` (or ``?last_event_id=``) replays
  what was missed; the stream ends with an ``end`` event;
* ``DELETE /live/{id}``: stop following.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from ...app.raceday_sessions import LiveSessions
from ...app.requests import LiveSessionRequest

router = APIRouter(prefix="/live", tags=["live"])

POLL_S = 0.25
KEEPALIVE_S = 15.0


def get_live(request: Request) -> LiveSessions:
    """The app's live sessions (``AppState.live``, made with the app's other services)."""
    return request.app.state.f1a.live


LiveDep = Annotated[LiveSessions, Depends(get_live)]


@router.get("/sessions", summary="What can be followed, and the live sessions")
def list_sessions(live: LiveDep) -> dict:
    return live.available()


@router.post("/sessions", status_code=201, summary="Start following a race")
def start_session(body: LiveSessionRequest, live: LiveDep) -> dict:
    return live.start(feed=body.feed, season=body.season, event=body.event, speed=body.speed,
                      from_lap=body.from_lap, session_key=body.session_key)


@router.get("/{sid}", summary="A live session: its latest lap (snapshot + calls)")
def get_session(sid: str, live: LiveDep) -> dict:
    return live.latest(sid)


@router.delete("/{sid}", summary="Stop following")
def stop_session(sid: str, live: LiveDep) -> dict:
    live.meta(sid)
    live.stop(sid)
    return {"id": sid, "stopping": True}


def sse(event: dict) -> str:
    return f"id: {event['id']}\nevent: {event['event']}\ndata: {json.dumps(event['data'], allow_nan=False)}\n\n"


@router.get("/{sid}/stream", summary="Server-Sent Events of a live session")
async def stream(sid: str, request: Request, live: LiveDep,
                 last_event_id: Annotated[int | None, Header(alias="Last-Event-ID")] = None,
                 after: Annotated[int | None, Query(alias="last_event_id", ge=0)] = None) -> StreamingResponse:
    meta = await asyncio.to_thread(live.meta, sid)  # 404 before the stream starts
    start = last_event_id if last_event_id is not None else (after or 0)
    if meta["state"] != "running" and start >= int(meta.get("last_id") or 0):
        # the session is over and the client has everything: 204 tells EventSource not to reconnect
        return Response(status_code=204)

    async def events():
        last, quiet_since = start, time.monotonic()
        yield "retry: 1000\n\n"
        while not await request.is_disconnected():
            # the in-process log answers at once; Redis is I/O: off the event loop
            batch = (await asyncio.to_thread(live.events_after, sid, last) if live.log.blocking
                     else live.events_after(sid, last))
            for e in batch:
                yield sse(e)
                last = e["id"]
                if e["event"] == "end":
                    return
            if batch:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > KEEPALIVE_S:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(POLL_S)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
