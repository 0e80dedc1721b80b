"""Users, roles, login sessions, CSRF tokens and login rate limiting for the web application.

* Passwords are stored as argon2id hashes (argon2-cffi); a hash made with weaker parameters is
  upgraded at the next successful login.
* A login session is a signed, time-limited cookie (Starlette's ``SessionMiddleware``); an expired
  or tampered cookie simply means "not logged in".
* Every state-changing request made with the session cookie must carry the session's CSRF token:
  the ``csrf_token`` form field (dashboard forms) or the ``X-CSRF-Token`` header (API clients).
* Roles are ordered: ``viewer`` reads, ``editor`` also writes and reviews, ``admin`` also manages users.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from citydiplomacy.store.schema import AppUser

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
    """The logged-in user as the session records them."""

    id: int
    username: str
    role: str

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted, with the library's recommended cost)."""
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, role: str = "viewer") -> AppUser:
    """Add a user (or reset an existing user's password and role).

    Raises
    ------
    ValueError
        When the role is unknown, or the user name or password is empty or too short.
    """
    username = username.strip()
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not username or len(username) > 80:
        raise ValueError("the user name must have 1 to 80 characters")
    if len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    if user is None:
        user = AppUser(username=username, password_hash=hash_password(password), role=role)
        session.add(user)
    else:
        user.password_hash = hash_password(password)
        user.role = role
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> AppUser | None:
    """The user whose name and password match, else None (constant work whether or not the user exists)."""
    user = session.scalar(select(AppUser).where(AppUser.username == username.strip()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def new_csrf_token() -> str:
    """A fresh random CSRF token (URL-safe text, 256 bits)."""
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of the session's CSRF token with the one a request carried."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


class LoginRateLimiter:
    """Refuse logins after too many failures from one client or for one user name in a time window.

    Parameters
    ----------
    max_failures
        Failures allowed per key within ``window_s`` seconds before further attempts are refused.
    window_s
        Length of the sliding window (seconds).
    """

    def __init__(self, max_failures: int = 5, window_s: float = 60.0):
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, client: str, username: str) -> tuple[str, str]:
        return f"ip:{client}", f"user:{username.strip().casefold()}"

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, client: str, username: str) -> bool:
        """True when either the client or the user name has used up its failures."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._prune(k, now)) >= self.max_failures for k in self._keys(client, username))

    def failed(self, client: str, username: str) -> None:
        """Record a failed attempt."""
        now = time.monotonic()
        with self._lock:
            for key in self._keys(client, username):
                self._prune(key, now).append(now)

    def succeeded(self, client: str, username: str) -> None:
        """Forget the failures of a user name after a successful login (the client's stay counted)."""
        with self._lock:
            self._failures.pop(self._keys(client, username)[1], None)
