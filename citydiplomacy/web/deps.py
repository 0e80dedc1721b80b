"""Request dependencies shared by the API and the dashboard: database session, user, role, CSRF, language.

The session and its user are loaded from the database (:mod:`citydiplomacy.web.sessions`) once per
request, so the dependencies that need them are plain functions run in the thread pool.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from citydiplomacy.core.errors import CityDipError
from citydiplomacy.present import i18n
from citydiplomacy.web import auth, sessions

API_PREFIX = "/api"


class LoginRequired(CityDipError):
    """A dashboard page needs a logged-in user: redirect to the login page."""


def get_db(request: Request) -> Iterator[Session]:
    """A database session for one request; rolled back (nothing partially written) unless committed.

    The session's ``actor`` (the logged-in user) and ``context`` are what the audit hook records.
    """
    session: Session = request.app.state.sessionmaker()
    # Kept for the session lookup, so that it runs on this request's connection (one pool checkout).
    setattr(request.state, sessions.REQUEST_DB, session)
    user = current_user(request)
    session.info["actor"] = user.username if user else "anonymous"
    session.info["context"] = f"web {request.method} {request.url.path}"[:300]
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _user(live: sessions.LiveSession | None) -> auth.CurrentUser | None:
    return auth.CurrentUser(id=live.user_id, username=live.username, role=live.role) if live else None


def current_user(request: Request) -> auth.CurrentUser | None:
    """The user of the session cookie as the database has them now, or None (no, ended or expired session)."""
    return _user(sessions.request_session(request))


def known_user(request: Request) -> auth.CurrentUser | None:
    """The user if this request already loaded them, else None; never touches the database (error pages)."""
    return _user(sessions.loaded_session(request))


def language(request: Request) -> str:
    """The page language (``?lang=`` or the cookie; the middleware stores a new choice in the cookie)."""
    return getattr(request.state, "lang", i18n.DEFAULT_LANGUAGE)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def require(role: str):  # type: ignore[no-untyped-def]
    """Dependency factory: the current user, who must have ``role`` or above (401/403 otherwise).

    Dashboard pages redirect anonymous users to the login page instead of answering 401.
    """

    # ``db``: resolved first (and shared with the route, FastAPI caches it per request), so that the user is
    # loaded on the request's own connection.
    def dependency(request: Request, db: Session = Depends(get_db)) -> auth.CurrentUser:  # in the thread pool
        user = current_user(request)
        if user is None:
            if not _is_api(request):
                raise LoginRequired()
            raise HTTPException(status_code=401, detail="log in first (POST /api/auth/login)")
        if not user.can(role):
            raise HTTPException(status_code=403, detail=f"this needs the {role} role; you are {user.role}")
        return user

    return dependency


def check_csrf_header(request: Request) -> None:
    """Writes through the API must echo the session's CSRF token in the ``X-CSRF-Token`` header."""
    live = sessions.request_session(request)
    if not auth.csrf_matches(live.csrf_token if live else None, request.headers.get(auth.CSRF_HEADER)):
        raise HTTPException(status_code=403, detail="missing or wrong X-CSRF-Token header")


def check_csrf_form(request: Request, token: str | None) -> None:
    """Dashboard forms must carry the CSRF token of the page: the session's, or the anonymous signed cookie's."""
    if not auth.csrf_matches(sessions.expected_csrf(request), token):
        raise HTTPException(status_code=403, detail="the form expired or was not sent from this site; reload it")


def csrf_token(request: Request) -> str:
    """The CSRF token for this page's forms (an anonymous visitor gets a signed cookie with it)."""
    return sessions.form_csrf_token(request)


Viewer = Depends(require("viewer"))
Editor = Depends(require("editor"))
Admin = Depends(require("admin"))
