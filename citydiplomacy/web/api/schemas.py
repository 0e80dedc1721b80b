"""Bodies of the REST API that are the web's own (login, users, review, pages, problems).

The bodies of record writes are the store's validated inputs (:mod:`citydiplomacy.store.inputs`), shared
with the dashboard's forms and the CLI; they are re-exported here for the API's OpenAPI document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from citydiplomacy.store.inputs import (  # noqa: F401  (the API's write bodies)
    NO_CONTROL_PATTERN,
    ActivityIn,
    ActivityUpdate,
    MembershipIn,
    MembershipUpdate,
    OrganisationIn,
    OrganisationUpdate,
    PlaceIn,
    PlaceUpdate,
    RelationIn,
    RelationUpdate,
)


class LoginIn(BaseModel):
    """Credentials for ``POST /api/auth/login``."""

    model_config = ConfigDict(extra="forbid")
    # No control characters in a user name (a NUL byte would reach the database as invalid text).
    username: str = Field(min_length=1, max_length=80, pattern=NO_CONTROL_PATTERN)
    password: str = Field(min_length=1, max_length=200)


class UserIn(BaseModel):
    """A new user (admin only)."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=8, max_length=200)
    role: Literal["viewer", "editor", "admin"] = "viewer"


class ResolveIn(BaseModel):
    """How to settle a place mention: an existing place or one of its candidates, on the version read."""

    model_config = ConfigDict(extra="forbid")
    place_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="An existing place")
    candidate: int | None = Field(default=None, ge=0, le=1000, description="Index into the mention's candidates")
    version: int = Field(ge=1, le=2**31 - 1, description="The mention's version you read (409 when stale)")

    @model_validator(mode="after")
    def _one(self) -> ResolveIn:
        if (self.place_id is None) == (self.candidate is None):
            raise ValueError("give exactly one of place_id and candidate")
        return self


class DecisionIn(BaseModel):
    """A review decision without a place ("keep as a new place", "none of these"), on the version read."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2**31 - 1, description="The mention's version you read (409 when stale)")


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


class Problem(BaseModel):
    """An error: a human-readable ``detail``."""

    detail: Any

    @field_validator("detail")
    @classmethod
    def _any(cls, v: Any) -> Any:
        return v
