"""Validated inputs of record writes (pydantic): the API's bodies, the dashboard's forms, the CLI and imports.

Vocabulary fields are ``Literal`` types built from :mod:`citydiplomacy.model.vocab`, so the OpenAPI
document lists the allowed terms and a wrong term is a 422 naming the field.  Every write body carries
provenance (``source`` name and ``source_locator``); updates also carry the ``version`` the client
read (optimistic locking).

Every id is bounded to the registry's id range and every text refuses control characters (NUL above
all): PostgreSQL cannot store a NUL and SQLite's drivers overflow past 64 bits, so unbounded input
surfaced as a 500 or 503 instead of a 422 naming the field.

The JSON schema of a body is exactly what it accepts: the text types (:data:`Line`, :data:`Multiline`,
:data:`Name`, :data:`IsoDate`) document their validators as patterns, and the models validate JSON types
strictly (``0`` is not a boolean, ``""`` not a date).  The only rules a JSON schema cannot state, between two
fields, answer a 422 of type ``cross_field`` naming both fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError

from citydiplomacy.model import load_model
from citydiplomacy.model.outcomes import load_outcomes
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
#: The model's functions of city diplomacy (papers 001, 002, 004): an agreement's themes beside its dimensions.
FUNCTION_CODES: tuple[str, ...] = tuple(item.code for item in load_model().functions)
ModelFunction = Literal[FUNCTION_CODES]  # type: ignore[valid-type]
AdminLevel = Literal["city", "district", "subdivision", "region"]
#: The catalogue of outcomes (``model/data/outcomes.yaml``): what an agreement or an activity produced.
OutcomeCode = Literal[tuple(load_outcomes())]  # type: ignore[valid-type]
ActionState = Literal["open", "done", "cancelled"]

#: Smallest and largest year of the registry's year fields (and of its dates).
MIN_YEAR, MAX_YEAR = 1000, 2200
Year = Field(default=None, ge=MIN_YEAR, le=MAX_YEAR, description="Gregorian year")

#: Largest record id (the schema's ids are 32-bit integers): a larger one cannot name a record.
MAX_ID = 2**31 - 1
#: Largest offset of a paginated list (the API's and the dashboard's).
MAX_OFFSET = 10_000_000

# The patterns below are what the validators accept, written for the OpenAPI document (ECMA-262 and
# Python read them alike: explicit classes, no \d or \s, whose meaning differs between the two).
#: What :func:`check_query_text` accepts: no C0 control character, no DEL.
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f]*$"
#: What free text (notes, descriptions) accepts: no control character but tab, newline, carriage return.
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
#: Python's whitespace (``str.isspace``) outside the control characters, as a regex class body.
_SPACES = r"\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: A name: single-line text with at least one character that is neither a control nor whitespace.
NAME_PATTERN = rf"^[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f{_SPACES}][^\x00-\x1f\x7f]*$"
#: A date as ``YYYY-MM-DD`` (RFC 3339 full-date) in the registry's years.
DATE_PATTERN = r"^(1[0-9]{3}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"

_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_VISIBLE = re.compile(rf"[^\x00-\x1f\x7f{_SPACES}]")
_DATE = re.compile(DATE_PATTERN)


def check_text(value: str, *, multiline: bool = False) -> str:
    """Return ``value`` unchanged, or raise ``ValueError`` when it is not plain text.

    Plain text has no C0 control character, no DEL and no lone surrogate (``\\udXXX`` escapes in JSON that
    make no character: no database can store them).

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
    bad = (_CONTROL_MULTILINE if multiline else _CONTROL_LINE).search(value) or _SURROGATE.search(value)
    if bad:
        char = bad.group()
        if char == "\x00":
            name = "a NUL byte"
        elif _SURROGATE.match(char):
            name = f"the lone surrogate U+{ord(char):04X} (not a character)"
        else:
            name = f"the control character U+{ord(char):04X}"
        raise ValueError(f"contains {name}; remove it")
    return value


def check_query_text(value: str | None) -> str | None:
    """:func:`check_text` for an optional single-line query parameter (a search, a filter)."""
    return None if value is None else check_text(value)


def _line(value: str) -> str:
    return check_text(value).strip()


def _multiline(value: str) -> str:
    return check_text(value, multiline=True).strip()


def _name(value: str) -> str:
    check_text(value)
    if not _VISIBLE.search(value):
        raise ValueError("is blank; give a name")
    return value.strip()


def _encodable(value: str) -> str:
    bad = _SURROGATE.search(value)
    if bad:
        raise ValueError(f"contains the lone surrogate U+{ord(bad.group()):04X} (not a character); remove it")
    return value


def _iso_date(value: Any) -> Any:
    """A date as JSON carries it: ``YYYY-MM-DD`` text (a ``date`` from Python callers passes as it is)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise PydanticCustomError(
            "date_type", f"Input should be a date as YYYY-MM-DD between {MIN_YEAR} and {MAX_YEAR}"
        )
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "date_value", "Input is not a date of the calendar ({error})", {"error": str(exc)}
        ) from None


@dataclass(frozen=True)
class Documented:
    """Annotation that adds keywords (a ``pattern``) to a type's JSON schema, for what a validator checks."""

    keywords: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        out = handler(schema)
        out.update(dict(self.keywords))
        return out


def documented(**keywords: Any) -> Documented:
    """:class:`Documented` with these JSON-schema keywords."""
    return Documented(tuple(keywords.items()))


# The text and date types of every write body: one place decides what each accepts and documents it.
#: Single-line text: no control characters (NUL above all); surrounding whitespace is dropped.
Line = Annotated[str, AfterValidator(_line), documented(pattern=NO_CONTROL_PATTERN)]
#: Free text: tab, newline and carriage return allowed besides.
Multiline = Annotated[str, AfterValidator(_multiline), documented(pattern=MULTILINE_PATTERN)]
#: A required name: single-line text with something visible in it.
Name = Annotated[str, AfterValidator(_name), documented(pattern=NAME_PATTERN)]
#: A secret (a password): any characters, only real ones (no lone surrogate).
Secret = Annotated[str, AfterValidator(_encodable)]
#: A date: ``YYYY-MM-DD`` text only (not a number, not an empty string).
IsoDate = Annotated[date, BeforeValidator(_iso_date), documented(pattern=DATE_PATTERN)]


def cross_field(message: str) -> PydanticCustomError:
    """The error of a rule between fields that a JSON schema cannot state (it names the fields)."""
    return PydanticCustomError("cross_field", message)


_INTEGER_ANNOTATIONS = (int, int | None)


class StrictBody(BaseModel):
    """Base of every request body: JSON types exactly as its schema says, unknown fields are errors.

    No ``0`` or ``"true"`` for a boolean, no ``"1"`` for an integer, no number for a date or a text; an
    integral number (``3.0``) is an integer, as in JSON Schema.  Callers that hold text (the dashboard's
    forms) validate with ``model_validate(data, strict=False)``.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _integral_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            key: int(value)
            if isinstance(value, float) and value.is_integer() and key in fields
            and fields[key].annotation in _INTEGER_ANNOTATIONS
            else value
            for key, value in data.items()
        }  # fmt: skip


class _Body(StrictBody):
    """Common fields of the record bodies: provenance.

    The dashboard's forms validate with ``strict=False`` after :func:`citydiplomacy.store.records.body_from_form`
    has turned blank fields into absent ones.
    """

    source: Line | None = Field(default=None, max_length=300, description="Name of the source of the record")
    source_locator: Line | None = Field(default=None, max_length=500, description="Where in the source")

    @model_validator(mode="after")
    def _empty_is_none(self) -> Any:
        # Text that was only whitespace is absent (the types above strip it after validating it).
        for name, info in type(self).model_fields.items():
            if not info.is_required() and getattr(self, name) == "":
                setattr(self, name, None)
        return self


class PlaceIn(_Body):
    """A place entered by hand (kept under the ``manual`` gazetteer)."""

    name: Name = Field(min_length=1, max_length=300)
    name_fa: Line | None = Field(default=None, max_length=300)
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    admin_level: AdminLevel = "city"
    lat: float | None = Field(default=None, ge=-90, le=90, description="degrees north")
    lng: float | None = Field(default=None, ge=-180, le=180, description="degrees east")
    population: int | None = Field(default=None, ge=0, le=100_000_000)
    is_capital: bool = False


class OrganisationIn(_Body):
    """A UN agency, city network, forum or fund."""

    name: Name = Field(min_length=1, max_length=300)
    name_fa: Line | None = Field(default=None, max_length=300)
    acronym: Line | None = Field(default=None, max_length=40)
    kind: OrganisationKind
    scale: Literal["global", "regional"] | None = None
    founded: int | None = Year
    seat_place_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    themes: list[Annotated[Line, Field(max_length=200)]] = Field(default_factory=list, max_length=50)
    description: Multiline | None = Field(default=None, max_length=10_000)


class RelationIn(_Body):
    """A bilateral relation; the two places may be given in either order (stored ordered).

    Rules between fields (422 ``cross_field``): ``place_a_id`` and ``place_b_id`` differ; ``ended_year`` is
    not before ``signed_year``.
    """

    place_a_id: int = Field(ge=1, le=MAX_ID)
    place_b_id: int = Field(ge=1, le=MAX_ID)
    kind: RelationKind
    status: RelationStatus = "active"
    title: Line | None = Field(default=None, max_length=500)
    signed_on: IsoDate | None = None
    signed_year: int | None = Year
    ended_year: int | None = Year
    dimensions: list[Dimension] = Field(default_factory=list, max_length=len(DIMENSIONS))
    notes: Multiline | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _check(self) -> RelationIn:
        if self.place_a_id == self.place_b_id:
            raise cross_field("place_a_id and place_b_id are the same place; a relation needs two different places")
        if self.signed_year and self.ended_year and self.ended_year < self.signed_year:
            raise cross_field("ended_year is before signed_year")
        if self.signed_on and not self.signed_year:
            self.signed_year = self.signed_on.year
        return self


class MembershipIn(_Body):
    """A place's membership of an organisation in one role.

    Rule between fields (422 ``cross_field``): ``until_year`` is not before ``since_year``.
    """

    place_id: int = Field(ge=1, le=MAX_ID)
    organisation_id: int = Field(ge=1, le=MAX_ID)
    role: MembershipRole = "active"
    role_verbatim: Line | None = Field(default=None, max_length=200)
    since_year: int | None = Year
    until_year: int | None = Year
    notes: Multiline | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _check(self) -> MembershipIn:
        if self.since_year and self.until_year and self.until_year < self.since_year:
            raise cross_field("until_year is before since_year")
        return self


#: The ISO 4217 currency codes (pycountry's list), upper case.
CURRENCY_CODES: tuple[str, ...] = tuple(sorted(c.alpha_3 for c in pycountry.currencies))


def _currency(value: str) -> str:
    if value not in CURRENCY_CODES:
        hint = f" (upper case: {value.upper()})" if value.upper() in CURRENCY_CODES else ""
        raise ValueError(f"unknown currency {value!r}{hint}: an ISO 4217 code such as IRR, EUR or USD")
    return value


#: A currency: an ISO 4217 code in upper case (``IRR``, ``EUR``), checked against pycountry's list.
Currency = Annotated[str, AfterValidator(_currency), documented(enum=CURRENCY_CODES)]


#: A delegation's or a visit's direction: the partner came to the city (incoming) or the city went (outgoing).
Direction = Literal["incoming", "outgoing"]
#: The activity kinds that are delegations or visits (they have a direction, participants, a purpose).
DELEGATION_KINDS: tuple[str, ...] = ("delegation", "visit")
#: What a document attached to an agreement or an activity is.
DocumentKind = Literal["signed_text", "minutes", "other"]


class ActivityIn(_Body):
    """An activity or event (visit, hosted summit, award, project, ...), optionally serving an agreement or a
    membership, with its cost (amount >= 0 in an ISO 4217 currency) and who paid for it."""

    kind: ActivityKind
    title: Name = Field(min_length=1, max_length=500)
    title_fa: Line | None = Field(default=None, max_length=500)
    happened_on: IsoDate | None = None
    year: int | None = Year
    place_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    dimensions: list[Dimension] = Field(default_factory=list, max_length=len(DIMENSIONS))
    description: Multiline | None = Field(default=None, max_length=10_000)
    relation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The agreement it serves")
    membership_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The membership it serves")
    cost_amount: float | None = Field(default=None, ge=0, le=1e15, description="What it cost, in cost_currency")
    cost_currency: Currency | None = Field(default=None, description="ISO 4217 code of the cost (IRR, EUR, ...)")
    funding_source: Line | None = Field(default=None, max_length=300, description="Who paid: budget line, fund")
    direction: Direction | None = Field(
        default=None, description="A delegation's or visit's direction: incoming (the partner came) or outgoing"
    )
    purpose: Multiline | None = Field(default=None, max_length=10_000, description="What the delegation is for")
    ends_on: IsoDate | None = Field(default=None, description="Last day (happened_on is the first)")

    @model_validator(mode="after")
    def _check(self) -> ActivityIn:
        if self.happened_on and not self.year:
            self.year = self.happened_on.year
        if self.cost_amount is not None and not self.cost_currency:
            raise cross_field("cost_currency: a cost needs its currency (ISO 4217, e.g. IRR)")
        if self.direction is not None and self.kind not in DELEGATION_KINDS:
            raise cross_field(f"direction: only a delegation or a visit has a direction, not a {self.kind}")
        if self.ends_on is not None and self.happened_on is None:
            raise cross_field("ends_on, happened_on: a last day needs its first day (happened_on)")
        if self.ends_on is not None and self.happened_on is not None and self.ends_on < self.happened_on:
            raise cross_field("ends_on is before happened_on (the first day)")
        return self


class DueIn(_Body):
    """A membership's dues for one year: amount (>= 0) in an ISO 4217 currency."""

    membership_id: int = Field(ge=1, le=MAX_ID)
    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR, description="Gregorian year")
    amount: float = Field(ge=0, le=1e15)
    currency: Currency


class DueUpdate(DueIn):
    """Replace a year's dues (membership, year, amount, currency): a yearly figure without a version, the last
    save wins."""


class OutcomeIn(_Body):
    """A result of an agreement or an activity: a code of the outcome catalogue, quantity, unit, evidence."""

    relation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The agreement that produced it")
    activity_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The activity that produced it")
    code: OutcomeCode = Field(description="A code of model/data/outcomes.yaml")
    quantity: float | None = Field(default=None, ge=0, le=1e15)
    unit: Line | None = Field(default=None, max_length=60)
    evidence: Multiline | None = Field(default=None, max_length=10_000, description="What shows it happened")
    happened_on: IsoDate | None = None

    @model_validator(mode="after")
    def _of_what(self) -> OutcomeIn:
        if self.relation_id is None and self.activity_id is None:
            raise cross_field("relation_id, activity_id: an outcome belongs to an agreement or an activity")
        return self


class ActionIn(_Body):
    """A follow-up action: what is to be done, by whom (required), by when."""

    relation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The agreement it follows up")
    activity_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The activity it follows up")
    title: Name = Field(min_length=1, max_length=500)
    owner: Name = Field(min_length=1, max_length=200, description="Who is responsible (a person or a unit)")
    due_on: IsoDate | None = None

    @model_validator(mode="after")
    def _of_what(self) -> ActionIn:
        if self.relation_id is None and self.activity_id is None:
            raise cross_field("relation_id, activity_id: an action follows up an agreement or an activity")
        return self


# --- people, delegations and documents (issue 10: the office's record) ------------------------------------------


class PersonIn(_Body):
    """An official or a member of staff: name and title in English and Persian, unit, where they belong."""

    name: Name = Field(min_length=1, max_length=300, description="Name (Latin script)")
    name_fa: Line | None = Field(default=None, max_length=300, description="Name in Persian")
    title: Line | None = Field(default=None, max_length=300, description="Title or position in English")
    title_fa: Line | None = Field(default=None, max_length=300, description="Title or position in Persian")
    unit: Line | None = Field(default=None, max_length=300, description="Unit or department")
    place_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The city the person works for")
    organisation_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The organisation the person works for"
    )
    contact: Line | None = Field(default=None, max_length=300, description="E-mail or telephone (optional)")
    notes: Multiline | None = Field(default=None, max_length=10_000)


class SignatoryIn(_Body):
    """A person who signed an agreement, in a role (``signatory`` unless told)."""

    relation_id: int = Field(ge=1, le=MAX_ID, description="The agreement")
    person_id: int = Field(ge=1, le=MAX_ID, description="The person who signed")
    role: Name = Field(default="signatory", min_length=1, max_length=120, description="Their role on the agreement")


class PersonParticipantIn(StrictBody):
    """A person taking part in a delegation or a visit, in a role (optional)."""

    person_id: int = Field(ge=1, le=MAX_ID)
    role: Line | None = Field(default=None, max_length=120, description="Head of delegation, host, ...")


class DelegationIn(ActivityIn):
    """A delegation or a visit: an activity with a direction (required), dates, purpose, the agreement it serves
    and its participants (people, places, organisations)."""

    kind: Literal[DELEGATION_KINDS] = "delegation"  # type: ignore[valid-type]
    direction: Direction = Field(description="incoming (the partner came) or outgoing (the city went)")
    people: list[PersonParticipantIn] = Field(default_factory=list, max_length=200)
    place_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list, max_length=200)
    organisation_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list, max_length=200)


class DocumentIn(_Body):
    """What a document is and what it belongs to (the file itself travels beside it): exactly one of
    ``relation_id`` and ``activity_id``."""

    relation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The agreement it belongs to")
    activity_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The activity it belongs to")
    kind: DocumentKind = Field(default="other", description="signed_text, minutes or other")
    title: Line | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _of_what(self) -> DocumentIn:
        if (self.relation_id is None) == (self.activity_id is None):
            raise cross_field("relation_id, activity_id: a document belongs to one agreement or one activity")
        return self


class VersionedUpdate(StrictBody):
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


class PersonUpdate(PersonIn, VersionedUpdate):
    """Replace a person's fields."""


class OutcomeUpdate(OutcomeIn, VersionedUpdate):
    """Replace an outcome's fields if ``version`` is current (a stale edit is refused with 409)."""


class SignatoryUpdate(SignatoryIn):
    """Replace a signatory's fields (agreement, person, role): a link without a version, the last save wins."""


class ParticipantIn(StrictBody):
    """A person taking part in a delegation or a visit (an activity), in a role (optional)."""

    activity_id: int = Field(ge=1, le=MAX_ID, description="The delegation, visit or other activity")
    person_id: int = Field(ge=1, le=MAX_ID, description="The person taking part")
    role: Line | None = Field(default=None, max_length=120, description="Head of delegation, host, ...")


class ParticipantUpdate(ParticipantIn):
    """Replace a participant's fields: a link without a version, the last save wins."""


class PartyIn(StrictBody):
    """A city or an organisation taking part in an activity (a delegation's city, a summit's network), in a role
    (optional): one of the two."""

    activity_id: int = Field(ge=1, le=MAX_ID, description="The activity")
    place_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The city taking part")
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The organisation taking part")
    role: Line | None = Field(default=None, max_length=60, description="Host, guest, co-organiser, ...")

    @model_validator(mode="after")
    def _who(self) -> PartyIn:
        if (self.place_id is None) == (self.organisation_id is None):
            raise cross_field("place_id, organisation_id: a city or an organisation takes part (one of the two)")
        return self


class PartyUpdate(PartyIn):
    """Replace a taking-part city's or organisation's fields: a link without a version, the last save wins."""


class DocumentUpdate(_Body):
    """Replace what a document says it is (kind, title, provenance); its file and checksum stay as uploaded."""

    kind: DocumentKind = Field(default="other", description="signed_text, minutes or other")
    title: Line | None = Field(default=None, max_length=500)


class ActionUpdate(ActionIn, VersionedUpdate):
    """Replace a follow-up action's fields (its state changes through its own form)."""


def _no_default(schema: dict[str, Any]) -> None:
    # An omitted field of a partial update keeps its value; "default": null in the schema would say otherwise.
    schema.pop("default", None)


def _unset(**kwargs: Any) -> Any:
    """A field of a partial update (PATCH): optional, its omission documented as "keeps the value"."""
    return Field(default=None, json_schema_extra=_no_default, **kwargs)


class _AgreementFields(_Body):
    """What an agreement says besides its parties and status (shared by the create, edit and patch bodies)."""

    kind: RelationKind
    title: Line | None = Field(default=None, max_length=500, description="Title in English")
    title_fa: Line | None = Field(default=None, max_length=500, description="Title in Persian")
    signed_on: IsoDate | None = None
    signed_year: int | None = Year
    valid_until: IsoDate | None = Field(default=None, description="Valid until, or due for renewal on")
    ended_year: int | None = Year
    responsible_unit: Line | None = Field(default=None, max_length=300, description="The responsible unit")
    dimensions: list[Dimension] = Field(default_factory=list, max_length=len(DIMENSIONS))
    functions: list[ModelFunction] = Field(default_factory=list, max_length=len(FUNCTION_CODES))
    notes: Multiline | None = Field(default=None, max_length=10_000)


_ONE_PARTNER = {
    "oneOf": [
        {"required": ["partner_place_id"], "properties": {"partner_place_id": {"type": "integer"}}},
        {"required": ["partner_organisation_id"], "properties": {"partner_organisation_id": {"type": "integer"}}},
    ]
}


def check_agreement(body: Any) -> None:
    """The rules between an agreement's fields (422 ``cross_field``), for every body that states them all.

    Exactly one partner (a place or an organisation), not the place itself; ``valid_until`` not before
    ``signed_on``; ``ended_year`` not before ``signed_year``.  Fills ``signed_year`` from ``signed_on``.
    """
    if (body.partner_place_id is None) == (body.partner_organisation_id is None):
        raise cross_field("give exactly one of partner_place_id and partner_organisation_id")
    if body.partner_place_id == body.place_id:
        raise cross_field("place_id and partner_place_id are the same place; an agreement needs two parties")
    if body.signed_on and body.valid_until and body.valid_until < body.signed_on:
        raise cross_field("valid_until is before signed_on")
    if body.signed_on and not body.signed_year:
        body.signed_year = body.signed_on.year
    if body.signed_year and body.ended_year and body.ended_year < body.signed_year:
        raise cross_field("ended_year is before signed_year")


class AgreementIn(_AgreementFields):
    """A new agreement: a place and its partner (another place, or an organisation), with its first status.

    Rules between fields (422 ``cross_field``): exactly one of ``partner_place_id`` and
    ``partner_organisation_id``; the partner place is not the place itself; ``valid_until`` is not before
    ``signed_on``; ``ended_year`` is not before ``signed_year``.  Several agreements between the same
    parties are allowed.
    """

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_ONE_PARTNER)

    place_id: int = Field(ge=1, le=MAX_ID, description="The city (the office's own, usually)")
    partner_place_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The partner city")
    partner_organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The partner organisation")
    status: RelationStatus = "active"
    status_reason: Line | None = Field(default=None, max_length=1000, description="Why it starts in this status")

    @model_validator(mode="after")
    def _check(self) -> AgreementIn:
        check_agreement(self)
        return self


class AgreementEdit(_AgreementFields, VersionedUpdate):
    """Replace an agreement's fields and parties (the dashboard's edit form); its status changes only through
    ``POST /api/agreements/{agreement_id}/status``, with a reason."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_ONE_PARTNER)

    place_id: int = Field(ge=1, le=MAX_ID, description="The city")
    partner_place_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The partner city")
    partner_organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The partner organisation")

    @model_validator(mode="after")
    def _check(self) -> AgreementEdit:
        check_agreement(self)
        return self


class AgreementPatch(VersionedUpdate):
    """Change some of an agreement's fields: those given are replaced, the others kept (send the ``version``).

    The result must still follow the agreement's rules (422 ``cross_field``): to change a place partner for an
    organisation, send ``"partner_place_id": null`` with the new ``partner_organisation_id``.  The status
    changes only through ``POST /api/agreements/{agreement_id}/status``.
    """

    place_id: int = _unset(ge=1, le=MAX_ID)
    partner_place_id: int | None = _unset(ge=1, le=MAX_ID)
    partner_organisation_id: int | None = _unset(ge=1, le=MAX_ID)
    kind: RelationKind = _unset()
    title: Line | None = _unset(max_length=500)
    title_fa: Line | None = _unset(max_length=500)
    signed_on: IsoDate | None = _unset()
    signed_year: int | None = _unset(ge=MIN_YEAR, le=MAX_YEAR)
    valid_until: IsoDate | None = _unset()
    ended_year: int | None = _unset(ge=MIN_YEAR, le=MAX_YEAR)
    responsible_unit: Line | None = _unset(max_length=300)
    dimensions: list[Dimension] = _unset(max_length=len(DIMENSIONS))
    functions: list[ModelFunction] = _unset(max_length=len(FUNCTION_CODES))
    notes: Multiline | None = _unset(max_length=10_000)
    source: Line | None = _unset(max_length=300)
    source_locator: Line | None = _unset(max_length=500)


class ActionStateIn(VersionedUpdate):
    """A follow-up action done or cancelled (or reopened), as of a date (default: today)."""

    state: ActionState
    on: IsoDate | None = None


class StatusChangeIn(VersionedUpdate):
    """A change of an agreement's status: the new status, why (required), as of when, per which source.

    Only the changes of the model's lifecycle are allowed (``model/data/agreement_lifecycle.yaml``); another
    answers 409 naming the allowed ones.
    """

    status: RelationStatus
    reason: Name = Field(min_length=1, max_length=1000, description="Why the status changes")
    effective_on: IsoDate | None = Field(default=None, description="When the change took effect, if known")
    source: Line | None = Field(default=None, max_length=300, description="Name of the source that says so")
    source_locator: Line | None = Field(default=None, max_length=500, description="Where in the source")

    @model_validator(mode="after")
    def _empty_is_none(self) -> StatusChangeIn:
        for name in ("source", "source_locator"):
            if getattr(self, name) == "":
                setattr(self, name, None)
        return self
