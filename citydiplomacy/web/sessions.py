"""Web state kept in the database, shared by every worker: login sessions and the generated secret key.

* A login session is a row of ``web_session``.  The cookie carries a random token; the row keeps only the
  token's SHA-256, so a copy of the table (a backup, a log of queries) opens no session.  Admins name a
  session by its number (``web_session.id``), which tells nothing of the token.
* Every request loads its session and its user afresh: an ended or expired session, or a disabled user,
  is anonymous at once, and the role is the user's current one (a demoted editor can no longer write).
* :func:`live_sessions` lists the live sessions (for admins: who is logged in, from where, since when);
  :func:`end_session` ends one by its number, :func:`end_user_sessions` all of a user's.
* The request-level helpers (:func:`request_session`, :func:`log_in`, :func:`log_out`,
  :func:`form_csrf_token`) connect a request's cookies to those rows; the cookies they set are queued in
  the request's state and sent by the application's middleware.
* The secret key that signs the anonymous visitor's CSRF cookie is ``CITYDIP_SECRET_KEY`` when set, else
  generated once and kept in ``app_setting``, so restarts and several workers share it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from citydiplomacy import settings
from citydiplomacy.core.errors import Unavailable
from citydiplomacy.store.schema import AppSetting, AppUser, WebSession, utcnow

#: Why a session ended (``web_session.ended_reason``).
END_REASONS: tuple[str, ...] = ("logout", "password", "role", "disabled", "admin")
#: Key of ``request.state`` under which the request's database session is kept (the session lookup uses it).
REQUEST_DB = "citydip_db"


@dataclass(frozen=True)
class LiveSession:
    """A valid session as one request sees it: the session row's number and CSRF token, the user's current data."""

    session_id: int
    csrf_token: str
    user_id: int
    username: str
    role: str


def as_utc(moment: datetime) -> datetime:
    """The same moment as an aware UTC datetime (SQLite hands back naive datetimes, PostgreSQL aware ones)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def token_hash(token: str) -> str:
    """The ``web_session.token_hash`` of a cookie token: its SHA-256 as 64 hexadecimal digits."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def create_session(
    db: Session,
    user: AppUser,
    *,
    max_age_s: float = settings.WEB_SESSION_MAX_AGE_S,
    client: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, WebSession]:
    """Start a session for ``user`` (the caller commits).

    Parameters
    ----------
    db
        Database session to add the row to.
    user
        The user who logged in.
    max_age_s
        Lifetime of the session from now (seconds).
    client, user_agent
        The client's address and ``User-Agent`` header, kept for the user's and admins' information.

    Returns
    -------
    tuple of (str, WebSession)
        The token for the cookie (256 random bits, never stored) and the new row.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(seconds=max_age_s),
        last_seen_at=now,
        client=(client or None) and client[:100],
        user_agent=(user_agent or None) and user_agent[:300],
    )
    db.add(row)
    # Sessions ended or expired long ago are of no use any more: purge them while we are writing anyway.
    cutoff = now - timedelta(seconds=settings.WEB_SESSION_KEEP_S)
    db.execute(delete(WebSession).where(WebSession.expires_at < cutoff))
    db.flush()
    return token, row


def load_session(
    bind: Engine | Session, token: str, *, touch_s: float = settings.WEB_SESSION_TOUCH_S
) -> LiveSession | None:
    """The live session of a cookie token, or None (unknown, ended, expired, or its user disabled).

    ``bind``: the request's own database session (the lookup is its first statement, so a request checks
    out one pooled connection, not two), or an engine (a short transaction of its own).  ``last_seen_at``
    is written, and committed at once, only when it is older than ``touch_s`` seconds.
    """
    if not token or len(token) > 200:
        return None
    if isinstance(bind, Session):
        return _lookup(bind, token, touch_s)
    with Session(bind) as db:
        return _lookup(db, token, touch_s)


def _lookup(db: Session, token: str, touch_s: float) -> LiveSession | None:
    now = utcnow()
    # Columns, not ORM entities: this runs on every request.  A read only is left open: the request's
    # own statements go on in the same transaction, without a round trip to end it.
    row = db.connection().execute(_live_session_statement(), {"token_hash": token_hash(token)}).first()
    if row is None or as_utc(row.expires_at) <= now or row.disabled_at is not None:
        return None
    if (now - as_utc(row.last_seen_at)).total_seconds() >= touch_s:
        try:
            db.execute(update(WebSession).where(WebSession.id == row.id).values(last_seen_at=now))
            db.commit()
        except OperationalError:  # e.g. SQLite busy with another writer: last seen is only informative
            db.rollback()
    return LiveSession(row.id, row.csrf_token, row.user_id, row.username, row.role)


@cache
def _live_session_statement() -> Any:
    """The session lookup, built once (building a statement costs more than running it)."""
    return (
        select(
            WebSession.id, WebSession.csrf_token, WebSession.expires_at, WebSession.last_seen_at,
            AppUser.id.label("user_id"), AppUser.username, AppUser.role, AppUser.disabled_at,
        )
        .join(AppUser, AppUser.id == WebSession.user_id)
        .where(WebSession.token_hash == bindparam("token_hash"), WebSession.ended_at.is_(None))
    )  # fmt: skip


def _is_live(now: datetime) -> Any:
    """The condition of a live session row: not ended, not expired at ``now``."""
    return WebSession.ended_at.is_(None) & (WebSession.expires_at > now)


def end_session(db: Session, session_id: int, reason: str = "logout") -> bool:
    """End one session by its number (the caller commits); True when it was still live."""
    result = db.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    return bool(result.rowcount)


def end_user_sessions(db: Session, user_id: int, reason: str) -> list[int]:
    """End every live session of one user (the caller commits); the numbers of those that were live."""
    result = db.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, _is_live(utcnow()))
        .values(ended_at=utcnow(), ended_reason=reason)
        .returning(WebSession.id)
    )
    return sorted(result.scalars())


@dataclass(frozen=True)
class SessionInfo:
    """A live session as admins see it: its number, its user, when and from where (never its token)."""

    id: int
    user_id: int
    username: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client: str | None
    user_agent: str | None


def live_sessions(db: Session, user_id: int | None = None, session_id: int | None = None) -> list[SessionInfo]:
    """The live (not ended, not expired) sessions, by user name then the most recently seen first.

    Parameters
    ----------
    db
        Database session.
    user_id
        Only this user's sessions.
    session_id
        Only the session of this number (an empty list when it is not live).
    """
    query = (
        select(
            WebSession.id, WebSession.user_id, AppUser.username, WebSession.created_at, WebSession.last_seen_at,
            WebSession.expires_at, WebSession.client, WebSession.user_agent,
        )
        .join(AppUser, AppUser.id == WebSession.user_id)
        .where(_is_live(utcnow()))
        .order_by(AppUser.username, WebSession.last_seen_at.desc(), WebSession.id.desc())
    )  # fmt: skip
    if user_id is not None:
        query = query.where(WebSession.user_id == user_id)
    if session_id is not None:
        query = query.where(WebSession.id == session_id)
    return [
        SessionInfo(
            id=row.id,
            user_id=row.user_id,
            username=row.username,
            created_at=as_utc(row.created_at),
            last_seen_at=as_utc(row.last_seen_at),
            expires_at=as_utc(row.expires_at),
            client=row.client,
            user_agent=row.user_agent,
        )
        for row in db.execute(query)
    ]


def last_activity(db: Session) -> dict[int, tuple[datetime, datetime]]:
    """Per user id, the start of their latest session and the last time any of their sessions was seen.

    Ended and expired sessions count while their rows are kept (``WEB_SESSION_KEEP_S``).
    """
    rows = db.execute(
        select(WebSession.user_id, func.max(WebSession.created_at), func.max(WebSession.last_seen_at)).group_by(
            WebSession.user_id
        )
    )
    return {user_id: (as_utc(login), as_utc(seen)) for user_id, login, seen in rows}


def live_session_counts(db: Session) -> dict[int, int]:
    """Number of live (not ended, not expired) sessions per user id."""
    rows = db.execute(select(WebSession.user_id, func.count()).where(_is_live(utcnow())).group_by(WebSession.user_id))
    return {user_id: count for user_id, count in rows}


def stored_secret_key(engine: Engine) -> str:
    """The secret key kept in ``app_setting``, generated (384 random bits) and stored on first use.

    Safe when several workers start at once: the first insert wins, the others read its key.
    """
    name = settings.WEB_SECRET_KEY_SETTING
    with Session(engine) as db:
        value = db.scalar(select(AppSetting.value).where(AppSetting.name == name))
        if value:
            return value
        db.add(AppSetting(name=name, value=secrets.token_urlsafe(48)))
        try:
            db.commit()
        except IntegrityError:  # another worker stored its key first: use that one
            db.rollback()
        value = db.scalar(select(AppSetting.value).where(AppSetting.name == name))
    if not value:  # pragma: no cover - the row was just written
        raise Unavailable("the generated secret key could not be stored in the database")
    return value


# --- anonymous CSRF tokens -------------------------------------------------------------------------


def _anon_signature(secret: str, nonce: str, issued: str) -> str:
    message = f"citydip anonymous csrf|{nonce}|{issued}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def new_anon_csrf(secret: str) -> str:
    """A CSRF token for an anonymous visitor: ``nonce.issued.signature``, for a cookie and the form.

    Signed double submit: the form field must equal the cookie, and the cookie must carry this site's
    signature, so a token another site planted (or made up) is refused, and no row is stored.
    """
    nonce = secrets.token_urlsafe(24)
    issued = str(int(time.time()))
    return f"{nonce}.{issued}.{_anon_signature(secret, nonce, issued)}"


def anon_csrf_valid(secret: str, token: str | None, max_age_s: float = settings.WEB_ANON_CSRF_MAX_AGE_S) -> bool:
    """True when ``token`` was made by :func:`new_anon_csrf` with ``secret`` less than ``max_age_s`` s ago."""
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    nonce, issued, signature = parts
    if not hmac.compare_digest(_anon_signature(secret, nonce, issued), signature):
        return False
    return 0 <= time.time() - int(issued) <= max_age_s


# --- the request's session: cookie <-> row -----------------------------------------------------------

#: Cookie with the session token (HttpOnly; the token is the only key to the session).
SESSION_COOKIE = "citydip_session"
#: Cookie with an anonymous visitor's signed CSRF token (the login form's double submit).
CSRF_COOKIE = "citydip_csrf"
#: Key in the ASGI scope's state of the ``Set-Cookie`` headers a request queued (the middleware sends them).
COOKIE_QUEUE = "citydip_cookies"
_UNLOADED = object()


@dataclass
class WebConfig:
    """What the request-level helpers need of the application (``app.state.web``).

    Parameters
    ----------
    engine
        The application's database engine.
    max_age_s
        Lifetime of a login session (seconds).
    secure_cookies
        Mark the cookies ``Secure`` (served behind HTTPS).
    secret_key
        Key that signs anonymous CSRF tokens; None: the one kept in the database (read on first use).
    """

    engine: Engine
    max_age_s: float = settings.WEB_SESSION_MAX_AGE_S
    secure_cookies: bool = False
    secret_key: str | None = None

    def secret(self) -> str:
        """The signing key (read from, or generated into, the database once per process)."""
        if self.secret_key is None:
            self.secret_key = stored_secret_key(self.engine)
        return self.secret_key


def _config(request: Request) -> WebConfig:
    return request.app.state.web


def client_address(request: Request) -> str:
    """The client's address as the server sees it ("?" when unknown)."""
    return request.client.host if request.client else "?"


def queue_cookie(request: Request, name: str, value: str, max_age_s: float) -> None:
    """Have the answer set a cookie (``max_age_s`` <= 0 deletes it); HttpOnly, SameSite=Lax, path /."""
    holder = Response()
    holder.set_cookie(
        name,
        value,
        max_age=int(max_age_s),
        path="/",
        secure=_config(request).secure_cookies,
        httponly=True,
        samesite="lax",
    )
    queue: list[bytes] = request.scope.setdefault("state", {}).setdefault(COOKIE_QUEUE, [])
    queue.extend(value for key, value in holder.raw_headers if key == b"set-cookie")


def request_session(request: Request) -> LiveSession | None:
    """The live session of this request's cookie (loaded from the database once per request), or None.

    A cookie whose session is gone (ended, expired, unknown) is deleted in the answer.
    """
    cached = getattr(request.state, "citydip_session", _UNLOADED)
    if cached is not _UNLOADED:
        return cached  # type: ignore[return-value]
    token = request.cookies.get(SESSION_COOKIE)
    bind = getattr(request.state, REQUEST_DB, None) or _config(request).engine
    live = load_session(bind, token) if token else None
    if token and live is None:
        queue_cookie(request, SESSION_COOKIE, "", 0)
    request.state.citydip_session = live
    return live


def loaded_session(request: Request) -> LiveSession | None:
    """The session if this request already loaded it, else None; never touches the database (error pages)."""
    cached = getattr(request.state, "citydip_session", None)
    return cached if isinstance(cached, LiveSession) else None


def expected_csrf(request: Request) -> str | None:
    """The CSRF token this request's form or header must carry: the session's, else the signed cookie's."""
    live = request_session(request)
    if live is not None:
        return live.csrf_token
    cookie = request.cookies.get(CSRF_COOKIE)
    return cookie if anon_csrf_valid(_config(request).secret(), cookie) else None


def form_csrf_token(request: Request) -> str:
    """The CSRF token to put in this page's forms; gives an anonymous visitor a signed cookie if needed."""
    issued = getattr(request.state, "citydip_anon_csrf", None)
    if issued:
        return issued
    expected = expected_csrf(request)
    if expected:
        return expected
    token = new_anon_csrf(_config(request).secret())
    queue_cookie(request, CSRF_COOKIE, token, settings.WEB_ANON_CSRF_MAX_AGE_S)
    request.state.citydip_anon_csrf = token
    return token


def log_in(request: Request, db: Session, user: AppUser) -> LiveSession:
    """Start a session for ``user`` and set its cookie (the caller commits).

    A session the browser had before is ended: a fresh token and CSRF token for every login.
    """
    config = _config(request)
    previous = request_session(request)
    if previous is not None:
        end_session(db, previous.session_id, "logout")
    token, row = create_session(
        db,
        user,
        max_age_s=config.max_age_s,
        client=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    queue_cookie(request, SESSION_COOKIE, token, config.max_age_s)
    live = LiveSession(row.id, row.csrf_token, user.id, user.username, user.role)
    request.state.citydip_session = live
    return live


def log_out(request: Request, db: Session) -> None:
    """End this request's session, if any, and delete its cookie (the caller commits)."""
    live = request_session(request)
    if live is not None:
        end_session(db, live.session_id, "logout")
    forget_session(request)


def forget_session(request: Request) -> None:
    """Delete the session cookie in the answer and treat the rest of this request as anonymous.

    For a session that was just ended otherwise (an admin ending their own), so the browser drops its
    dead cookie at once.
    """
    queue_cookie(request, SESSION_COOKIE, "", 0)
    request.state.citydip_session = None
