"""The package's one error hierarchy: every error it raises on purpose derives from :class:`CityDipError`.

Callers catch :class:`CityDipError` to catch them all; the CLI turns one into a message and a non-zero exit
(:attr:`CityDipError.exit_code`), the web into a 4xx/5xx answer (:attr:`CityDipError.http_status`) in the
user's language.  Each capability raises a subclass of one of the kinds below, so a caller that only needs
to know "the input was bad" or "that does not exist" catches :class:`BadInput` or :class:`NotFound`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AmbiguousPlace",
    "BadInput",
    "CityDipError",
    "Conflict",
    "NotFound",
    "PlaceNotFound",
    "RunNotFound",
    "Unavailable",
    "VersionConflict",
]


class CityDipError(Exception):
    """Base of every error the package raises on purpose."""

    #: Exit status of the ``citydip`` command when this error ends it.
    exit_code: int = 1
    #: HTTP status the web application answers with.
    http_status: int = 400


class BadInput(CityDipError, ValueError):
    """The input (a file, a row, a field, a parameter) cannot be used; the message says where and why."""

    http_status = 422


class NotFound(CityDipError, LookupError):
    """Something asked for by name or id does not exist."""

    http_status = 404


class PlaceNotFound(NotFound):
    """No place matches a name (and country)."""


class AmbiguousPlace(CityDipError, LookupError):
    """Several places match a name; ``candidates`` lists them (dicts with id, name, country, region,
    population) so the user can add a country or pick one."""

    http_status = 409

    def __init__(self, message: str, candidates: list[dict[str, Any]]):
        super().__init__(message)
        self.candidates = candidates


class RunNotFound(NotFound):
    """No stored analysis run matches what an analysis or a page needs; the message says what to run first."""


class Conflict(CityDipError):
    """The request conflicts with the registry's current state (a stale version, a job already running)."""

    http_status = 409
    exit_code = 3


class VersionConflict(Conflict):
    """A record was changed by someone else since the client read it."""

    def __init__(self, kind: str, record_id: int, given: int, current: int):
        super().__init__(
            f"{kind} {record_id} was changed by someone else (you edited version {given}, it is now at "
            f"version {current}); reload it and apply your change again"
        )
        self.kind = kind
        self.record_id = record_id
        self.current = current


class Unavailable(CityDipError, RuntimeError):
    """A service the operation needs is not there (the database, a headless browser)."""

    http_status = 503
    exit_code = 2
