"""Users, roles, CSRF tokens and the login throttle of the web application.

* Passwords are stored as argon2id hashes (argon2-cffi); a hash made with weaker parameters is
  upgraded at the next successful login.
* Login sessions are rows of ``web_session`` (:mod:`citydiplomacy.web.sessions`), loaded with their
  user on every request: changing a user's password or role, disabling or deleting them ends their
  sessions at once; an admin can also end one session (:func:`end_session`) or all of a user's
  (:func:`end_sessions`).
* Every change to a user or an admin's ending of a session is written to the audit trail
  (:func:`citydiplomacy.store.audit.record_change`: entity ``app_user`` or ``web_session``, by the
  session's actor), never a password or its hash, nor anything of a session's token.
* Every state-changing request must carry a CSRF token: a logged-in user's is their session's own
  (form field ``csrf_token`` or header ``X-CSRF-Token``); an anonymous visitor's (the login form) is a
  signed double-submit cookie (:func:`citydiplomacy.web.sessions.new_anon_csrf`): no row per visitor.
* Roles are ordered: ``viewer`` reads, ``editor`` also writes and reviews, ``admin`` also manages users.
* Failed logins are counted in ``login_throttle`` (shared by every worker) per (address, account) and
  per address; past a few free failures each further one costs a doubling wait (:func:`login_wait`).
  A stranger failing from another address never slows the user's own address.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import Session

from citydiplomacy import settings
from citydiplomacy.core.errors import BadInput, NotFound
from citydiplomacy.store.audit import record_change
from citydiplomacy.store.schema import AppUser, LoginThrottle, utcnow
from citydiplomacy.web import sessions

ROLES: tuple[str, ...] = ("viewer", "editor", "admin")
ROLE_RANK: dict[str, int] = {role: i for i, role in enumerate(ROLES)}
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

_hasher = PasswordHasher()
# A fixed hash to verify against when the user does not exist, so a login for an unknown user takes as
# long as one for a known user (no user-name probing by timing).
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in user as the database has them now (loaded afresh on every request)."""

    id: int
    username: str
    role: str

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


class UserNotFound(NotFound):
    """No user has that name (or number)."""


class SessionNotFound(NotFound):
    """No live session has that number (it ended, expired, or never was)."""


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted, with the library's recommended cost)."""
    return _hasher.hash(password)


def get_user(session: Session, user_id: int) -> AppUser:
    """The user of number ``user_id``.

    Raises
    ------
    UserNotFound
        When no user has that number.
    """
    user = session.get(AppUser, user_id)
    if user is None:
        raise UserNotFound(f"no user {user_id} (see: citydip user list)")
    return user


def find_user(session: Session, username: str) -> AppUser:
    """The user named ``username`` (surrounding spaces ignored).

    Raises
    ------
    UserNotFound
        When no user has that name.
    """
    user = session.scalar(select(AppUser).where(AppUser.username == username.strip()))
    if user is None:
        raise UserNotFound(f"no user {username.strip()!r} (see: citydip user list)")
    return user


def _audit_user(session: Session, action: str, user: AppUser, changes: dict[str, object]) -> None:
    record_change(session, action=action, entity="app_user", entity_id=user.id, changes=changes)


def create_user(session: Session, username: str, password: str, role: str = "viewer") -> AppUser:
    """Add a user, or reset an existing user's password and role (the caller commits).

    Resetting ends every session of the user (they log in again with the new password and role) and
    enables a disabled user again.  Either is written to the audit trail (the password as "reset" only).

    Raises
    ------
    BadInput
        When the role is unknown, or the user name or password is empty or too short.
    """
    username = username.strip()
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not username or len(username) > 80:
        raise BadInput("the user name must have 1 to 80 characters")
    if len(password) < 8:
        raise BadInput("the password must have at least 8 characters")
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    if user is None:
        user = AppUser(username=username, password_hash=hash_password(password), role=role)
        session.add(user)
        session.flush()
        _audit_user(session, "insert", user, {"username": username, "role": role})
        return user
    changes: dict[str, object] = {"password": "reset"}
    if user.role != role:
        changes["role"] = [user.role, role]
    if user.disabled_at is not None:
        changes["disabled_at"] = [user.disabled_at, None]
    reason = "role" if user.role != role else "password"
    user.password_hash = hash_password(password)
    user.role = role
    user.disabled_at = None
    session.flush()
    ended = sessions.end_user_sessions(session, user.id, reason)
    if ended:
        changes["sessions_ended"] = len(ended)
    _audit_user(session, "update", user, changes)
    return user


def disable_user(session: Session, username: str) -> AppUser:
    """Disable a user (the caller commits): no more logins, every session ended at once; audited.

    Raises
    ------
    UserNotFound
        When no user has that name.
    """
    user = find_user(session, username)
    changes: dict[str, object] = {}
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        changes["disabled_at"] = [None, user.disabled_at]
    session.flush()
    ended = sessions.end_user_sessions(session, user.id, "disabled")
    if ended:
        changes["sessions_ended"] = len(ended)
    if changes:
        _audit_user(session, "update", user, changes)
    return user


def delete_user(session: Session, username: str) -> None:
    """Delete a user and their sessions (the caller commits); the audit trail keeps their name.

    Raises
    ------
    UserNotFound
        When no user has that name.
    """
    user = find_user(session, username)
    _audit_user(session, "delete", user, {"username": user.username, "role": user.role})
    session.delete(user)  # its web_session rows go with it (ON DELETE CASCADE): its cookies open nothing
    session.flush()


def _audit_session_ended(session: Session, session_id: int, username: str, reason: str) -> None:
    record_change(
        session,
        action="update",
        entity="web_session",
        entity_id=session_id,
        changes={"ended_reason": [None, reason], "user": username},
    )


def end_session(session: Session, session_id: int, reason: str = "admin") -> sessions.SessionInfo:
    """End the live session of number ``session_id`` (the caller commits); audited.  Returns what it was.

    Its next request is anonymous: sessions are checked against the database on every request.

    Raises
    ------
    SessionNotFound
        When no live session has that number (ended, expired, or never was).
    """
    found = sessions.live_sessions(session, session_id=session_id)
    if not found or not sessions.end_session(session, session_id, reason):
        raise SessionNotFound(f"no live session {session_id} (see: citydip user sessions)")
    _audit_session_ended(session, session_id, found[0].username, reason)
    return found[0]


def end_sessions(session: Session, user: AppUser, reason: str = "admin") -> int:
    """End every live session of ``user`` (the caller commits), one audit entry each; returns how many."""
    ended = sessions.end_user_sessions(session, user.id, reason)
    for session_id in ended:
        _audit_session_ended(session, session_id, user.username, reason)
    return len(ended)


@dataclass(frozen=True)
class UserInfo:
    """A user as ``citydip user list`` and the admins' page show them.

    ``last_login_at`` and ``last_seen_at`` come from the session rows still kept (None: none kept).
    """

    username: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    live_sessions: int
    id: int
    last_login_at: datetime | None
    last_seen_at: datetime | None


def list_users(session: Session) -> list[UserInfo]:
    """Every user, by name, with their role, state, number of live sessions, last login and last seen."""
    counts = sessions.live_session_counts(session)
    activity = sessions.last_activity(session)
    out = []
    for u in session.scalars(select(AppUser).order_by(AppUser.username)):
        last_login, last_seen = activity.get(u.id, (None, None))
        out.append(
            UserInfo(
                username=u.username,
                role=u.role,
                created_at=sessions.as_utc(u.created_at),
                disabled_at=sessions.as_utc(u.disabled_at) if u.disabled_at else None,
                live_sessions=counts.get(u.id, 0),
                id=u.id,
                last_login_at=last_login,
                last_seen_at=last_seen,
            )
        )
    return out


def authenticate(session: Session, username: str, password: str) -> AppUser | None:
    """The enabled user whose name and password match, else None.

    Constant work whether or not the user exists (no user-name probing by timing).
    """
    user = session.scalar(select(AppUser).where(AppUser.username == username.strip()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


# --- CSRF ------------------------------------------------------------------------------------------


def new_csrf_token() -> str:
    """A fresh random CSRF token (URL-safe text, 256 bits)."""
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of the expected CSRF token with the one a request carried."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


# --- login throttle --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottlePolicy:
    """How failed logins are slowed down (defaults from :mod:`citydiplomacy.settings`).

    The n-th failure of a key with ``free`` free failures makes the next attempt wait
    ``min(base_delay_s * 2 ** (n - free), max_delay_s)`` seconds (none while n < free).
    """

    free_failures: int = settings.WEB_THROTTLE_FREE_FAILURES
    address_free_failures: int = settings.WEB_THROTTLE_ADDRESS_FREE_FAILURES
    base_delay_s: float = settings.WEB_THROTTLE_BASE_DELAY_S
    max_delay_s: float = settings.WEB_THROTTLE_MAX_DELAY_S
    forget_s: float = settings.WEB_THROTTLE_FORGET_S

    def delay(self, failures: int, free: int) -> float:
        """Wait (seconds) after ``failures`` failures of a key allowing ``free`` free ones."""
        if failures < free:
            return 0.0
        return min(self.base_delay_s * 2.0 ** min(failures - free, 60), self.max_delay_s)


DEFAULT_THROTTLE = ThrottlePolicy()


def _throttle_keys(client: str, username: str, policy: ThrottlePolicy) -> list[tuple[str, int]]:
    # Per (address, account): guessing one account from one address is slowed; a stranger elsewhere
    # failing for the same account counts under their own address, so nobody can lock a user out.
    # Per address: spraying many accounts from one address is slowed too (with a larger allowance).
    client = (client or "?")[:100]
    account = username.strip().casefold()[:120]
    return [(f"acct:{client}|{account}", policy.free_failures), (f"addr:{client}", policy.address_free_failures)]


def login_wait(session: Session, client: str, username: str, policy: ThrottlePolicy = DEFAULT_THROTTLE) -> float:
    """Seconds this client must still wait before trying ``username`` again (0: go ahead)."""
    keys = [key for key, _ in _throttle_keys(client, username, policy)]
    now = utcnow()
    wait = 0.0
    for row in session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys))):
        if row.blocked_until is None or row.last_failure_at is None:
            continue
        if (now - sessions.as_utc(row.last_failure_at)).total_seconds() > policy.forget_s:
            continue
        wait = max(wait, (sessions.as_utc(row.blocked_until) - now).total_seconds())
    return wait


def retry_after(wait_s: float) -> str:
    """The ``Retry-After`` header value (whole seconds, at least 1) for a wait of ``wait_s`` seconds."""
    return str(max(1, math.ceil(wait_s)))


def _count_failure(session: Session, key: str, now: datetime, policy: ThrottlePolicy) -> int:
    """Add one failure to ``key`` atomically (workers may fail at the same moment); the new count."""
    cutoff = now - timedelta(seconds=policy.forget_s)
    dialect = session.get_bind().dialect.name
    if dialect in {"postgresql", "sqlite"}:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(LoginThrottle).values(key=key, failures=1, last_failure_at=now, blocked_until=None)
        stale = or_(LoginThrottle.last_failure_at.is_(None), LoginThrottle.last_failure_at < cutoff)
        stmt = stmt.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={"failures": case((stale, 1), else_=LoginThrottle.failures + 1), "last_failure_at": now},
        ).returning(LoginThrottle.failures)
        return int(session.execute(stmt).scalar_one())
    row = session.get(LoginThrottle, key, with_for_update=True)  # other databases: lock the row
    if row is None:
        row = LoginThrottle(key=key, failures=0)
        session.add(row)
    if row.last_failure_at is None or sessions.as_utc(row.last_failure_at) < cutoff:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    session.flush()
    return row.failures


def login_failed(session: Session, client: str, username: str, policy: ThrottlePolicy = DEFAULT_THROTTLE) -> None:
    """Count a failed login of ``username`` from ``client`` (the caller commits, although the login failed)."""
    now = utcnow()
    for key, free in _throttle_keys(client, username, policy):
        failures = _count_failure(session, key, now, policy)
        delay = policy.delay(failures, free)
        if delay > 0:
            session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == key)
                .values(blocked_until=now + timedelta(seconds=delay))
            )
    # Keys nobody failed on for a long time are of no use: purge them while we are writing anyway.
    session.execute(
        delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - timedelta(seconds=policy.forget_s))
    )


def login_succeeded(session: Session, client: str, username: str, policy: ThrottlePolicy = DEFAULT_THROTTLE) -> None:
    """Forget the failures of this (address, account) after a successful login (the address's stay counted)."""
    key = _throttle_keys(client, username, policy)[0][0]
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
