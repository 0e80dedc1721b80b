"""Login sessions through the API (admins): list the live ones, end one by its number.

Thin over :mod:`citydiplomacy.web.auth` (which writes the audit trail) and :mod:`citydiplomacy.web.sessions`.
A session is named by its number; nothing of its token (nor the token's hash) is ever shown.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from citydiplomacy.store.inputs import MAX_ID, NO_CONTROL_PATTERN
from citydiplomacy.web import auth, sessions
from citydiplomacy.web.api.schemas import problems
from citydiplomacy.web.deps import Admin, check_csrf_header, get_db

router = APIRouter(tags=["auth"])
DB = Annotated[Session, Depends(get_db)]
#: Bounded like every other path id (past 64 bits the database drivers overflow).
SessionId = Annotated[int, Path(ge=1, le=MAX_ID, description="The session's number")]
#: Every status these operations can answer (503 like every other database-backed operation).
ERRORS = problems(401, 403, 404, 422, 503)


class SessionOut(BaseModel):
    """A live session: its number, its user, when it started, was last seen and expires, and its client."""

    id: int
    user_id: int
    username: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client: str | None
    user_agent: str | None
    current: bool


class SessionList(BaseModel):
    """The live sessions, by user name then the most recently seen first."""

    items: list[SessionOut]
    total: int


def _out(info: sessions.SessionInfo, current: int | None) -> dict[str, Any]:
    return {**asdict(info), "current": info.id == current}


@router.get("/sessions", response_model=SessionList, responses=ERRORS)
def list_sessions(
    request: Request,
    db: DB,
    username: Annotated[
        str | None, Query(min_length=1, max_length=80, pattern=NO_CONTROL_PATTERN, description="Only this user's")
    ] = None,
    admin: auth.CurrentUser = Admin,
) -> dict[str, Any]:
    """The live sessions (admin only), optionally of one user; ``current`` marks the caller's own."""
    user_id = auth.find_user(db, username).id if username is not None else None
    live = sessions.request_session(request)
    items = [_out(info, live.session_id if live else None) for info in sessions.live_sessions(db, user_id)]
    return {"items": items, "total": len(items)}


@router.delete("/sessions/{session_id}", status_code=204, responses=ERRORS)
def end_session(
    request: Request,
    session_id: SessionId,
    db: DB,
    admin: auth.CurrentUser = Admin,
    _csrf: None = Depends(check_csrf_header),
) -> Response:
    """End a live session (admin only): its next request is anonymous; audited.  Ending your own logs you out."""
    live = sessions.request_session(request)
    auth.end_session(db, session_id)  # SessionNotFound: 404
    db.commit()
    if live is not None and live.session_id == session_id:
        sessions.forget_session(request)
    return Response(status_code=204)
