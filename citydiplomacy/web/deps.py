"""Request dependencies shared by the API and the dashboard: database session, user, role, CSRF, language."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from citydiplomacy.core.errors import CityDipError
from citydiplomacy.present import i18n
from citydiplomacy.web import auth

API_PREFIX = "/api"


class LoginRequired(CityDipError):
    """A dashboard page needs a logged-in user: redirect to the login page."""


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A database session for one request; rolled back (nothing partially written) unless committed.

    The session's ``actor`` (the logged-in user) and ``context`` are what the audit hook records.
    ``async`` although the session is synchronous: creating it touches no database, and running the
    dependency on the event loop saves two thread-pool hops a request (the endpoint still runs in one).
    """
    session: Session = request.app.state.sessionmaker()
    user = current_user(request)
    session.info["actor"] = user.username if user else "anonymous"
    session.info["context"] = f"web {request.method} {request.url.path}"[:300]
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def current_user(request: Request) -> auth.CurrentUser | None:
    """The user of the session cookie, or None (no cookie, expired, or tampered)."""
    data = request.session.get("user") if "session" in request.scope else None
    if not isinstance(data, dict):
        return None
    try:
        return auth.CurrentUser(id=int(data["id"]), username=str(data["username"]), role=str(data["role"]))
    except (KeyError, TypeError, ValueError):
        return None


def language(request: Request) -> str:
    """The page language (``?lang=`` or the cookie; the middleware stores a new choice in the cookie)."""
    return getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def require(role: str):  # type: ignore[no-untyped-def]
    """Dependency factory: the current user, who must have ``role`` or above (401/403 otherwise).

    Dashboard pages redirect anonymous users to the login page instead of answering 401.
    """

    async def dependency(request: Request) -> auth.CurrentUser:  # no I/O: run on the event loop
        user = current_user(request)
        if user is None:
            if not _is_api(request):
                raise LoginRequired()
            raise HTTPException(status_code=401, detail="log in first (POST /api/auth/login)")
        if not user.can(role):
            raise HTTPException(status_code=403, detail=f"this needs the {role} role; you are {user.role}")
        return user

    return dependency


async def check_csrf_header(request: Request) -> None:
    """Writes through the API must echo the session's CSRF token in the ``X-CSRF-Token`` header."""
    expected = request.session.get("csrf") if "session" in request.scope else None
    if not auth.csrf_matches(expected, request.headers.get(auth.CSRF_HEADER)):
        raise HTTPException(status_code=403, detail="missing or wrong X-CSRF-Token header")


def check_csrf_form(request: Request, token: str | None) -> None:
    """Dashboard forms must carry the session's CSRF token in the ``csrf_token`` field."""
    expected = request.session.get("csrf") if "session" in request.scope else None
    if not auth.csrf_matches(expected, token):
        raise HTTPException(status_code=403, detail="the form expired or was not sent from this site; reload it")


Viewer = Depends(require("viewer"))
Editor = Depends(require("editor"))
Admin = Depends(require("admin"))
