"""Validated inputs of record writes (pydantic): the API's bodies, the dashboard's forms, the CLI and imports.

Vocabulary fields are ``Literal`` types built from :mod:`citydiplomacy.model.vocab`, so the OpenAPI
document lists the allowed terms and a wrong term is a 422 naming the field.  Every write body carries
provenance (``source`` name and ``source_locator``); updates also carry the ``version`` the client
read (optimistic locking).

Every id is bounded to the registry's id range and every text refuses control characters (NUL above
all): PostgreSQL cannot store a NUL and SQLite's drivers overflow past 64 bits, so unbounded input
surfaced as a 500 or 503 instead of a 422 naming the field.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from citydiplomacy.model.vocab import (
    ACTIVITY_KINDS,
    DIMENSIONS,
    MEMBERSHIP_ROLES,
    ORGANISATION_KINDS,
    RELATION_KINDS,
    RELATION_STATUSES,
)

RelationKind = Literal[tuple(RELATION_KINDS)]  # type: ignore[valid-type]
RelationStatus = Literal[tuple(RELATION_STATUSES)]  # type: ignore[valid-type]
MembershipRole = Literal[tuple(MEMBERSHIP_ROLES)]  # type: ignore[valid-type]
OrganisationKind = Literal[tuple(ORGANISATION_KINDS)]  # type: ignore[valid-type]
ActivityKind = Literal[tuple(ACTIVITY_KINDS)]  # type: ignore[valid-type]
Dimension = Literal[tuple(DIMENSIONS)]  # type: ignore[valid-type]
AdminLevel = Literal["city", "district", "subdivision", "region"]

Year = Field(default=None, ge=1000, le=2200, description="Gregorian year")
ShortText = Field(default=None, max_length=500)

#: Largest record id (the schema's ids are 32-bit integers): a larger one cannot name a record.
MAX_ID = 2**31 - 1
#: Largest offset of a paginated list (the API's and the dashboard's).
MAX_OFFSET = 10_000_000
#: Free-text fields (the forms' text areas), where tab, newline and carriage return are allowed.
MULTILINE_FIELDS = frozenset({"notes", "description"})

#: What :func:`check_query_text` accepts, as a JSON-schema pattern (documented in the OpenAPI document).
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f]*$"

_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(value: str, *, multiline: bool = False) -> str:
    """Return ``value`` unchanged, or raise ``ValueError`` when it holds a C0 control character or DEL.

    Parameters
    ----------
    value
        The text.
    multiline
        Free text: tab, newline and carriage return are allowed.

    Raises
    ------
    ValueError
        Naming the character (``NUL`` or its code point), so pydantic answers a 422 for the field.
    """
    bad = (_CONTROL_MULTILINE if multiline else _CONTROL_LINE).search(value)
    if bad:
        char = bad.group()
        name = "a NUL byte" if char == "\x00" else f"the control character U+{ord(char):04X}"
        raise ValueError(f"contains {name}; remove it")
    return value


def check_query_text(value: str | None) -> str | None:
    """:func:`check_text` for an optional single-line query parameter (a search, a filter)."""
    return None if value is None else check_text(value)


class _Body(BaseModel):
    """Common behaviour: unknown fields are errors; blank strings count as absent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str | None = Field(default=None, max_length=300, description="Name of the source of the record")
    source_locator: str | None = Field(default=None, max_length=500, description="Where in the source")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}
        return data

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        multiline = info.field_name in MULTILINE_FIELDS
        if isinstance(value, str):
            check_text(value, multiline=multiline)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    check_text(item, multiline=multiline)
        return value


class PlaceIn(_Body):
    """A place entered by hand (kept under the ``manual`` gazetteer)."""

    name: str = Field(min_length=1, max_length=300)
    name_fa: str | None = Field(default=None, max_length=300)
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    admin_level: AdminLevel = "city"
    lat: float | None = Field(default=None, ge=-90, le=90, description="degrees north")
    lng: float | None = Field(default=None, ge=-180, le=180, description="degrees east")
    population: int | None = Field(default=None, ge=0, le=100_000_000)
    is_capital: bool = False


class OrganisationIn(_Body):
    """A UN agency, city network, forum or fund."""

    name: str = Field(min_length=1, max_length=300)
    name_fa: str | None = Field(default=None, max_length=300)
    acronym: str | None = Field(default=None, max_length=40)
    kind: OrganisationKind
    scale: Literal["global", "regional"] | None = None
    founded: int | None = Year
    seat_place_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    themes: list[str] = Field(default_factory=list, max_length=50)
    description: str | None = Field(default=None, max_length=10_000)


class RelationIn(_Body):
    """A bilateral relation; the two places may be given in either order (stored ordered)."""

    place_a_id: int = Field(ge=1, le=MAX_ID)
    place_b_id: int = Field(ge=1, le=MAX_ID)
    kind: RelationKind
    status: RelationStatus = "active"
    title: str | None = ShortText
    signed_on: date | None = None
    signed_year: int | None = Year
    ended_year: int | None = Year
    dimensions: list[Dimension] = Field(default_factory=list)
    notes: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _check(self) -> RelationIn:
        if self.place_a_id == self.place_b_id:
            raise ValueError("a relation needs two different places")
        if self.signed_year and self.ended_year and self.ended_year < self.signed_year:
            raise ValueError("ended_year is before signed_year")
        if self.signed_on and not self.signed_year:
            self.signed_year = self.signed_on.year
        return self


class MembershipIn(_Body):
    """A place's membership of an organisation in one role."""

    place_id: int = Field(ge=1, le=MAX_ID)
    organisation_id: int = Field(ge=1, le=MAX_ID)
    role: MembershipRole = "active"
    role_verbatim: str | None = Field(default=None, max_length=200)
    since_year: int | None = Year
    until_year: int | None = Year
    notes: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _check(self) -> MembershipIn:
        if self.since_year and self.until_year and self.until_year < self.since_year:
            raise ValueError("until_year is before since_year")
        return self


class ActivityIn(_Body):
    """An activity or event (visit, hosted summit, award, project, ...)."""

    kind: ActivityKind
    title: str = Field(min_length=1, max_length=500)
    title_fa: str | None = Field(default=None, max_length=500)
    happened_on: date | None = None
    year: int | None = Year
    place_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    dimensions: list[Dimension] = Field(default_factory=list)
    description: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _check(self) -> ActivityIn:
        if self.happened_on and not self.year:
            self.year = self.happened_on.year
        return self


class VersionedUpdate(BaseModel):
    """Mixin of update bodies: the version the client read; a stale one is refused with 409."""

    version: int = Field(ge=1, le=MAX_ID, description="The record's version as last read (optimistic locking)")


class PlaceUpdate(PlaceIn, VersionedUpdate):
    """Replace a place's fields."""


class OrganisationUpdate(OrganisationIn, VersionedUpdate):
    """Replace an organisation's fields."""


class RelationUpdate(RelationIn, VersionedUpdate):
    """Replace a relation's fields."""


class MembershipUpdate(MembershipIn, VersionedUpdate):
    """Replace a membership's fields."""


class ActivityUpdate(ActivityIn, VersionedUpdate):
    """Replace an activity's fields."""
