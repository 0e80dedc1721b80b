"""The admins' dashboard page of users and their login sessions: who is logged in, from where, since when.

Admins end one session, all of a user's, or disable a user (:mod:`citydiplomacy.web.auth` does the work and
writes the audit trail).  Sessions are checked against the database on every request, so an ended session
is anonymous at its very next request; an admin who ends their own current session is logged out at once.
Every action is a POST form with the page's CSRF token and answers with a redirect to the page, whose notice
says what happened in the page's language.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from citydiplomacy.store.inputs import MAX_ID
from citydiplomacy.web import auth, sessions
from citydiplomacy.web.deps import Admin, check_csrf_form, get_db

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
CsrfField = Annotated[str, Form(max_length=200)]
PAGE = "/admin/users"

#: ``?done=`` of the page -> the message key of its notice (and whether it reports a problem).
NOTICES: dict[str, tuple[str, bool]] = {
    "ended": ("flash_session_ended", False),
    "ended_all": ("flash_sessions_ended", False),
    "disabled": ("flash_user_disabled", False),
    "gone": ("flash_session_gone", True),
    "not_self": ("flash_not_self", True),
}


def _known_id(number: int, what: str) -> int:
    if not 1 <= number <= MAX_ID:
        raise HTTPException(status_code=404, detail=f"no {what} {number}")
    return number


def _count(text: str | None) -> int | None:
    """The ``?n=`` of a notice (how many sessions ended), None unless a small whole number."""
    return int(text) if text and text.isdigit() and len(text) <= 6 else None


def _back(done: str, count: int | None = None) -> RedirectResponse:
    return RedirectResponse(f"{PAGE}?done={done}" + (f"&n={count}" if count is not None else ""), status_code=303)


def _logged_out() -> RedirectResponse:
    return RedirectResponse("/login?ended=1", status_code=303)


def _current_id(request: Request) -> int | None:
    live = sessions.request_session(request)
    return live.session_id if live else None


@router.get(PAGE)
def users_page(request: Request, db: DB, admin: auth.CurrentUser = Admin) -> Response:
    from citydiplomacy.web.pages import render

    by_user: dict[int, list[sessions.SessionInfo]] = defaultdict(list)
    for live in sessions.live_sessions(db):
        by_user[live.user_id].append(live)
    done = request.query_params.get("done") or ""
    notice, problem = NOTICES.get(done, (None, False))
    return render(
        request,
        "admin_users.html",
        users=auth.list_users(db),
        sessions_of=by_user,
        current_session=_current_id(request),
        notice=notice,
        problem=problem,
        notice_count=_count(request.query_params.get("n")),
    )


@router.post("/admin/sessions/{session_id}/end")
def end_session(
    request: Request, session_id: int, db: DB, admin: auth.CurrentUser = Admin, csrf_token: CsrfField = ""
) -> Response:
    check_csrf_form(request, csrf_token)
    _known_id(session_id, "session")
    mine = session_id == _current_id(request)
    try:
        auth.end_session(db, session_id)
    except auth.SessionNotFound:
        return _back("gone")
    db.commit()
    if mine:
        sessions.forget_session(request)
        return _logged_out()
    return _back("ended")


@router.post("/admin/users/{user_id}/end-sessions")
def end_user_sessions(
    request: Request, user_id: int, db: DB, admin: auth.CurrentUser = Admin, csrf_token: CsrfField = ""
) -> Response:
    check_csrf_form(request, csrf_token)
    user = auth.get_user(db, _known_id(user_id, "user"))
    ended = auth.end_sessions(db, user)
    db.commit()
    if user.id == admin.id and ended:
        sessions.forget_session(request)
        return _logged_out()
    return _back("ended_all", ended)


@router.post("/admin/users/{user_id}/disable")
def disable_user(
    request: Request, user_id: int, db: DB, admin: auth.CurrentUser = Admin, csrf_token: CsrfField = ""
) -> Response:
    check_csrf_form(request, csrf_token)
    user = auth.get_user(db, _known_id(user_id, "user"))
    if user.id == admin.id:  # an admin never locks themselves out (perhaps the last admin)
        return _back("not_self")
    auth.disable_user(db, user.username)
    db.commit()
    return _back("disabled")
