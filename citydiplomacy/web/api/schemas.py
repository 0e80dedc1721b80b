"""Bodies of the REST API that are the web's own (login, users, review, pages, problems).

The bodies of record writes are the store's validated inputs (:mod:`citydiplomacy.store.inputs`), shared
with the dashboard's forms and the CLI; they are re-exported here for the API's OpenAPI document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from citydiplomacy.store.inputs import (  # noqa: F401  (the API's write bodies)
    MAX_ID,
    NO_CONTROL_PATTERN,
    ActivityIn,
    ActivityUpdate,
    MembershipIn,
    MembershipUpdate,
    Name,
    OrganisationIn,
    OrganisationUpdate,
    PlaceIn,
    PlaceUpdate,
    RelationIn,
    RelationUpdate,
    Secret,
    StrictBody,
    cross_field,
)


class LoginIn(StrictBody):
    """Credentials for ``POST /api/auth/login``."""

    # No control characters in a user name (a NUL byte would reach the database as invalid text).
    username: str = Field(min_length=1, max_length=80, pattern=NO_CONTROL_PATTERN)
    password: Secret = Field(min_length=1, max_length=200)


class UserIn(StrictBody):
    """A new user (admin only)."""

    username: Name = Field(min_length=1, max_length=80)
    password: Secret = Field(min_length=8, max_length=200)
    role: Literal["viewer", "editor", "admin"] = "viewer"


class ResolveIn(StrictBody):
    """How to settle a place mention: an existing place or one of its candidates (exactly one of the two),
    on the version read."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        # "Exactly one of place_id and candidate", said in the schema so that clients (and fuzzers) know it.
        json_schema_extra={
            "oneOf": [
                {"required": ["place_id"], "properties": {"place_id": {"type": "integer"}}},
                {"required": ["candidate"], "properties": {"candidate": {"type": "integer"}}},
            ]
        },
    )
    place_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="An existing place")
    candidate: int | None = Field(default=None, ge=0, le=1000, description="Index into the mention's candidates")
    version: int = Field(ge=1, le=MAX_ID, description="The mention's version you read (409 when stale)")

    @model_validator(mode="after")
    def _one(self) -> ResolveIn:
        if (self.place_id is None) == (self.candidate is None):
            raise cross_field("give exactly one of place_id and candidate")
        return self


class DecisionIn(StrictBody):
    """A review decision without a place ("keep as a new place", "none of these"), on the version read."""

    version: int = Field(ge=1, le=MAX_ID, description="The mention's version you read (409 when stale)")


class Page(BaseModel):
    """One page of a list: ``items`` (records as objects), the ``total`` matching, and the window."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class Session(BaseModel):
    """The logged-in user and the CSRF token to send as ``X-CSRF-Token`` with every write."""

    username: str
    role: str
    csrf_token: str


class FieldError(BaseModel):
    """What is wrong with one field: where (``["body", "name"]``, ``["query", "limit"]``), why, the kind."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An error: ``detail`` in words, or (a 422) the list of fields that are wrong, each named by ``loc``."""

    detail: str | list[FieldError]


#: Every error status the API answers with, and what it means (the body is always a :class:`Problem`).
PROBLEMS: dict[int, str] = {
    400: "A multipart form that cannot be parsed (an upload)",
    401: "Not logged in",
    403: "Role too low, or the X-CSRF-Token header missing or wrong",
    404: "No such record",
    409: "Stale version, duplicate record, or a job already running",
    413: "Request body too large",
    # Two kinds of 422 come from what a schema cannot state: a referenced record that does not exist
    # (type reference_not_found) and a rule between two fields (type cross_field, in the body's description).
    422: "Invalid input: the fields that are wrong, each named by loc; type reference_not_found: a referenced "
    "record does not exist; type cross_field: a rule between two fields (see the body's description); type "
    "document_refused: an uploaded file that is empty or whose content is not of an allowed type",
    429: "Too many failed logins; wait Retry-After seconds",
    503: "The database is unavailable; nothing was written",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of an operation that can answer these error statuses (Problem bodies)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"model": Problem, "description": PROBLEMS[code]}
        if code == 429:
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "string"}}
            }
        out[code] = entry
    return out
