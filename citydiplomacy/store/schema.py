"""The registry's schema (SQLAlchemy 2 declarative), shared by SQLite and PostgreSQL.

Every entity carries its provenance (:class:`Provenanced`): the source it came from, where in that
source (``source_locator``: a row, a page, a SPARQL binding), when the source was retrieved and who
entered the record.  Every change is written to :class:`AuditEntry` (see :mod:`citydiplomacy.store.audit`).
Entities that people edit carry a ``version`` column used for optimistic locking.

Vocabularies (relation kinds, membership roles, ...) are plain strings checked against
:mod:`citydiplomacy.model.vocab`, so a new term in the model data needs no migration.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware current time (UTC): the one clock of the registry."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base; a stable naming convention keeps Alembic migrations portable."""

    from sqlalchemy import MetaData

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Source(Base):
    """A source of records: a file, a paper, a SPARQL query result, a form in the web dashboard."""

    __tablename__ = "source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # file | paper | wikidata | manual | model
    uri: Mapped[str | None] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(Text)
    retrieved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Provenanced:
    """Mixin: where a record came from and who entered it."""

    @declared_attr
    def source_id(cls) -> Mapped[int | None]:  # noqa: N805 - SQLAlchemy's declared_attr idiom
        return mapped_column(ForeignKey("source.id"), index=True)

    source_locator: Mapped[str | None] = mapped_column(String(500))
    retrieved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    entered_by: Mapped[str] = mapped_column(String(120), default="citydip")
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Versioned:
    """Mixin: a version counter for optimistic locking of concurrent edits."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Place(Provenanced, Versioned, Base):
    """A city, town, district or subdivision.

    ``gazetteer`` says which authority ``gazetteer_id`` belongs to: ``geonames`` (a GeoNames id),
    ``csc`` (a countries-states-cities database city id: a municipality or unit GeoNames lacks),
    ``iso3166-2`` (a subdivision code such as ``GB-WLS``) or ``source`` (a place the gazetteer lacks, kept with
    its source coordinates; ``status`` then says why).
    """

    __tablename__ = "place"
    __table_args__ = (UniqueConstraint("gazetteer", "gazetteer_id", name="gazetteer_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gazetteer: Mapped[str] = mapped_column(String(20))
    gazetteer_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300), index=True)
    name_fa: Mapped[str | None] = mapped_column(String(300))
    country_code: Mapped[str | None] = mapped_column(String(2), index=True)
    admin1_code: Mapped[str | None] = mapped_column(String(20))
    admin_level: Mapped[str] = mapped_column(String(30), default="city")  # city | district | subdivision | region
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    is_capital: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(30), default="gazetteer")  # gazetteer | subdivision | unresolved
    #: The place's Wikidata item ("Q64"), where a source gave it: sources carrying ids join by it, not by name.
    wikidata_id: Mapped[str | None] = mapped_column(String(20), index=True)

    names: Mapped[list[PlaceName]] = relationship(back_populates="place", cascade="all, delete-orphan")


class PlaceName(Base):
    """A name of a place in one language or script (``lang`` is BCP 47, ``und`` when unknown)."""

    __tablename__ = "place_name"
    __table_args__ = (UniqueConstraint("place_id", "name", "lang", name="place_name_lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No indexes of their own: the unique (place_id, name, lang) index leads with place_id, and names are
    # looked up case-folded (lower(name), LIKE), which a plain index on name does not serve.
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    lang: Mapped[str] = mapped_column(String(12), default="und")
    kind: Mapped[str] = mapped_column(String(20), default="alias")  # official | alias | source

    place: Mapped[Place] = relationship(back_populates="names")


class PlaceMention(Versioned, Base):
    """A place name as a source wrote it, and what the resolver made of it (the review queue).

    ``status``: ``resolved`` | ``subdivision`` | ``ambiguous`` (waits for review) | ``unresolved``
    (kept with source coordinates) | ``reviewed`` (a person chose a gazetteer place) | ``kept`` (a person
    confirmed it is a place of its own) | ``rejected`` (a person found none of the candidates right).
    ``version`` makes review decisions optimistic: a second decision on the same version is refused.
    """

    __tablename__ = "place_mention"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``name|country|lat|lng`` as the source wrote them (coordinates rounded to 1e-5 degrees, ~1 m):
    #: two places of one name in one country stay apart when their coordinates differ.
    key: Mapped[str] = mapped_column(String(500), unique=True)
    name_in_source: Mapped[str] = mapped_column(String(300))
    country_in_source: Mapped[str] = mapped_column(String(120), default="")
    lat_in_source: Mapped[float | None] = mapped_column(Float)
    lng_in_source: Mapped[float | None] = mapped_column(Float)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), index=True)
    candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    place: Mapped[Place | None] = relationship()


class Organisation(Provenanced, Versioned, Base):
    """A UN agency, city network, forum or fund (``kind``), global or regional (``scale``)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    name_fa: Mapped[str | None] = mapped_column(String(300))
    acronym: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # un_agency | global_network | regional_network | forum | fund
    scale: Mapped[str | None] = mapped_column(String(20))  # global | regional
    founded: Mapped[int | None] = mapped_column(Integer)
    seat_place_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"))
    seat_text: Mapped[str | None] = mapped_column(String(300))
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. {"min_population": 250000}
    description: Mapped[str | None] = mapped_column(Text)

    seat: Mapped[Place | None] = relationship()
    member_counts: Mapped[list[MemberCount]] = relationship(back_populates="organisation", cascade="all, delete-orphan")


class MemberCount(Provenanced, Base):
    """How many members of a kind an organisation had, as of a year."""

    __tablename__ = "member_count"
    __table_args__ = (UniqueConstraint("organisation_id", "what", "as_of_year", name="member_count_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(80), default="members")  # members | observer cities | countries
    count: Mapped[int] = mapped_column(Integer)
    qualifier: Mapped[str | None] = mapped_column(String(20))  # None (exact) | more_than | about
    as_of_year: Mapped[int | None] = mapped_column(Integer)

    organisation: Mapped[Organisation] = relationship(back_populates="member_counts")


class Relation(Provenanced, Versioned, Base):
    """An agreement or relation between two places, or between a place and an organisation.

    Two places are stored once, ordered (``place_a_id < place_b_id``); with an organisation, ``place_a_id`` is
    the place, ``organisation_id`` the organisation and ``place_b_id`` is empty.  The same parties may hold
    several agreements (two MoUs with one city, years apart).  ``status`` is the current one; every change of
    it is a :class:`RelationStatus` row (who, when, why), the allowed changes are the model's
    (:mod:`citydiplomacy.model.lifecycle`).  ``dimensions`` and ``functions`` are the agreement's themes in
    the model's terms.
    """

    __tablename__ = "relation"
    __table_args__ = (
        CheckConstraint(
            "(place_b_id IS NOT NULL AND organisation_id IS NULL AND place_a_id < place_b_id)"
            " OR (place_b_id IS NULL AND organisation_id IS NOT NULL)",
            name="parties",
        ),
        # The importers' "already present?" question (pair and kind), no longer a uniqueness rule.
        Index("ix_relation_pair_kind", "place_a_id", "place_b_id", "kind"),
        Index("ix_relation_place_b", "place_b_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    place_a_id: Mapped[int] = mapped_column(ForeignKey("place.id"))
    place_b_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # sister_city | mou | cooperation_memorandum | friendship | ...
    status: Mapped[str] = mapped_column(String(30), default="active")
    title: Mapped[str | None] = mapped_column(String(500))
    title_fa: Mapped[str | None] = mapped_column(String(500))
    signed_on: Mapped[date | None] = mapped_column(Date)
    signed_year: Mapped[int | None] = mapped_column(Integer)
    ended_year: Mapped[int | None] = mapped_column(Integer)
    #: Valid until, or due for renewal on.
    valid_until: Mapped[date | None] = mapped_column(Date)
    #: The unit of the city government responsible for the agreement.
    responsible_unit: Mapped[str | None] = mapped_column(String(300))
    dimensions: Mapped[list[str]] = mapped_column(JSON, default=list)
    functions: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)

    place_a: Mapped[Place] = relationship(foreign_keys=[place_a_id])
    place_b: Mapped[Place | None] = relationship(foreign_keys=[place_b_id])
    organisation: Mapped[Organisation | None] = relationship()
    history: Mapped[list[RelationStatus]] = relationship(
        back_populates="relation", cascade="all, delete-orphan", order_by="RelationStatus.id", passive_deletes=True
    )


class RelationStatus(Base):
    """One status an agreement took: which, from which, who recorded it and when, why, as of when, per which source.

    The first row of an agreement has no ``previous_status`` (the status it was first recorded with).
    """

    __tablename__ = "relation_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    relation_id: Mapped[int] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(30))
    previous_status: Mapped[str | None] = mapped_column(String(30))
    #: The date the change took effect, when known (a signing, a termination); ``changed_at`` is when it was recorded.
    effective_on: Mapped[date | None] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    source_locator: Mapped[str | None] = mapped_column(String(500))

    relation: Mapped[Relation] = relationship(back_populates="history")


class RelationEvidence(Base):
    """One source's evidence of a relation: where it says so (locator), when it was read, what it gave.

    The same relation from two sources is one :class:`Relation` with two evidence rows; ``values`` holds what
    the source gave (e.g. ``{"signed_year": 1988}``), so that disagreements between sources can be listed.
    """

    __tablename__ = "relation_evidence"
    __table_args__ = (UniqueConstraint("relation_id", "source_id", "source_locator", name="relation_evidence_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    relation_id: Mapped[int] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"), index=True)
    source_locator: Mapped[str | None] = mapped_column(String(500))
    retrieved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Membership(Provenanced, Versioned, Base):
    """A place's membership of an organisation in one role (a place may hold several roles)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("place_id", "organisation_id", "role", name="membership_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))  # founding | board | secretariat_host | active | ...
    role_verbatim: Mapped[str | None] = mapped_column(String(200))
    since_year: Mapped[int | None] = mapped_column(Integer)
    #: The day of joining when the source gives it (the Covenant of Mayors' date of adhesion).
    since_date: Mapped[date | None] = mapped_column(Date)
    until_year: Mapped[int | None] = mapped_column(Integer)
    #: ``model.vocab.MEMBERSHIP_STATUSES`` (active, suspended, ended); None when the source says nothing.
    status: Mapped[str | None] = mapped_column(String(30))
    notes: Mapped[str | None] = mapped_column(Text)

    place: Mapped[Place] = relationship()
    organisation: Mapped[Organisation] = relationship()


class MembershipEvidence(Base):
    """One source's evidence of a membership: where it says so (locator), when it was read, what it gave.

    The same membership (place, organisation, role) from two sources is one :class:`Membership` with two
    evidence rows; ``values`` holds what each source gave (``{"since_year": 2015, "status": "active"}``), so
    that disagreements (a year, a status) can be listed.  The counterpart of :class:`RelationEvidence`.
    """

    __tablename__ = "membership_evidence"
    __table_args__ = (UniqueConstraint("membership_id", "source_id", "source_locator", name="membership_evidence_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"), index=True)
    source_locator: Mapped[str | None] = mapped_column(String(500))
    retrieved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MembershipBacker(Provenanced, Base):
    """An organisation backing a place's membership in a role of its own (``model.vocab.BACKER_ROLES``).

    The Covenant of Mayors names, for a signatory, a *Covenant Supporter* (a network such as Climate
    Alliance) and a *Covenant Coordinator* (a region or province): they support the signatory's membership,
    they are not members themselves, nor is the signatory their member; a membership row would count
    them as networks with thousands of members.
    """

    __tablename__ = "membership_backer"
    __table_args__ = (UniqueConstraint("membership_id", "organisation_id", "role", name="membership_backer_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))  # supporter | coordinator


class PlaceFact(Provenanced, Base):
    """A fact a source states about a place (``model.vocab.PLACE_FACTS``), one value per source.

    Keyed by source, not by year like :class:`IndicatorValue` (a surveyed indicator value): two sources
    stating the same fact are two rows, so they can be compared, and a re-import of one source changes
    nothing.  Flags are 1.0 / 0.0 (a commitment made, or stated as not made).
    """

    __tablename__ = "place_fact"
    __table_args__ = (UniqueConstraint("place_id", "code", "source_id", name="place_fact_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id"), index=True)
    code: Mapped[str] = mapped_column(String(60), index=True)
    value: Mapped[float] = mapped_column(Float)
    year: Mapped[int | None] = mapped_column(Integer)


class Activity(Provenanced, Versioned, Base):
    """An activity or event: a visit, a hosted summit, an award, a project, a ranking, ...

    A delegation or a visit (``kind``) also has a ``direction`` (``incoming``: the partner came; ``outgoing``:
    the city went), a ``purpose``, its first day (``happened_on``) and last day (``ends_on``), the agreement it
    serves (``relation_id``) and its participants: places and organisations (:class:`ActivityParticipant`) and
    people (:class:`ActivityPerson`).  It stays one activity, so the agreement's health and the reports count it.
    """

    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint("direction IS NULL OR direction IN ('incoming', 'outgoing')", name="direction"),
        CheckConstraint("ends_on IS NULL OR happened_on IS NULL OR ends_on >= happened_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    title: Mapped[str] = mapped_column(String(500))
    title_fa: Mapped[str | None] = mapped_column(String(500))
    happened_on: Mapped[date | None] = mapped_column(Date)
    year: Mapped[int | None] = mapped_column(Integer)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    dimensions: Mapped[list[str]] = mapped_column(JSON, default=list)
    functions: Mapped[list[str]] = mapped_column(JSON, default=list)
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    #: The agreement or the membership the activity serves (issue 10: the office's record).
    relation_id: Mapped[int | None] = mapped_column(ForeignKey("relation.id", ondelete="SET NULL"), index=True)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("membership.id", ondelete="SET NULL"), index=True)
    #: What it cost, in ``cost_currency`` (ISO 4217), and who paid (a budget line, a fund, a partner).
    cost_amount: Mapped[float | None] = mapped_column(Float)
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    funding_source: Mapped[str | None] = mapped_column(String(300))
    #: A delegation's or visit's direction (``incoming`` | ``outgoing``), purpose and last day (issue 10).
    direction: Mapped[str | None] = mapped_column(String(10))
    purpose: Mapped[str | None] = mapped_column(Text)
    ends_on: Mapped[date | None] = mapped_column(Date)

    place: Mapped[Place | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    participants: Mapped[list[ActivityParticipant]] = relationship(
        back_populates="activity", cascade="all, delete-orphan"
    )
    people: Mapped[list[ActivityPerson]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityPerson.id"
    )


class ActivityParticipant(Base):
    """A place or organisation taking part in an activity."""

    __tablename__ = "activity_participant"
    __table_args__ = (CheckConstraint("place_id IS NOT NULL OR organisation_id IS NOT NULL", name="who"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[str | None] = mapped_column(String(60))

    activity: Mapped[Activity] = relationship(back_populates="participants")


class Person(Provenanced, Versioned, Base):
    """An official or a member of staff: names and titles in English and Persian, unit, where they belong.

    ``place_id`` / ``organisation_id``: the city or organisation the person works for (the office's own city,
    a partner's), when known; ``contact`` is free text (an e-mail address, a telephone number), optional.
    """

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    name_fa: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(300))
    title_fa: Mapped[str | None] = mapped_column(String(300))
    unit: Mapped[str | None] = mapped_column(String(300))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    contact: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)

    place: Mapped[Place | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class AgreementSignatory(Provenanced, Base):
    """A person who signed an agreement, in a role (``signatory``, ``witness``, ``on behalf of the mayor``)."""

    __tablename__ = "agreement_signatory"
    __table_args__ = (UniqueConstraint("relation_id", "person_id", "role", name="agreement_signatory_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    relation_id: Mapped[int] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(String(120), default="signatory")

    person: Mapped[Person] = relationship()


class ActivityPerson(Base):
    """A person taking part in an activity (a delegation's member, a visit's host), in a role."""

    __tablename__ = "activity_person"
    __table_args__ = (UniqueConstraint("activity_id", "person_id", name="activity_person_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(120))

    activity: Mapped[Activity] = relationship(back_populates="people")
    person: Mapped[Person] = relationship()


class Document(Provenanced, Base):
    """A file attached to an agreement or an activity (the signed text, minutes), stored in the database.

    ``content`` is the file itself (deferred: lists never load it), ``sha256`` its checksum (hex),
    ``media_type`` the type its bytes were recognised as (never the type the uploader claimed), ``file_name``
    the original name made safe (no directories, no control characters).  The same file (checksum) is attached
    to a record once.
    """

    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint(
            "(relation_id IS NOT NULL AND activity_id IS NULL) OR (relation_id IS NULL AND activity_id IS NOT NULL)",
            name="of_what",
        ),
        CheckConstraint("size_bytes > 0", name="size"),
        UniqueConstraint("relation_id", "sha256", name="document_relation_sha256"),
        UniqueConstraint("activity_id", "sha256", name="document_activity_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relation_id: Mapped[int | None] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30), default="other")  # signed_text | minutes | other
    title: Mapped[str | None] = mapped_column(String(500))
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class MembershipDue(Provenanced, Base):
    """The dues of a membership in one year: an amount in an ISO 4217 currency."""

    __tablename__ = "membership_due"
    __table_args__ = (
        UniqueConstraint("membership_id", "year", name="membership_due_year"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))


class Outcome(Provenanced, Versioned, Base):
    """A result an agreement or an activity produced: a code of the outcome catalogue, a quantity, evidence.

    ``version`` makes edits optimistic (migration 0012): a second stale edit is refused, not silently lost."""

    __tablename__ = "outcome"
    __table_args__ = (CheckConstraint("relation_id IS NOT NULL OR activity_id IS NOT NULL", name="of_what"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    relation_id: Mapped[int | None] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(60))
    evidence: Mapped[str | None] = mapped_column(Text)
    happened_on: Mapped[date | None] = mapped_column(Date)


class FollowUpAction(Provenanced, Versioned, Base):
    """Something the office must do next for an agreement (or one of its activities): who, by when, its state."""

    __tablename__ = "follow_up_action"
    __table_args__ = (
        CheckConstraint("relation_id IS NOT NULL OR activity_id IS NOT NULL", name="of_what"),
        CheckConstraint("state IN ('open', 'done', 'cancelled')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relation_id: Mapped[int | None] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(20), default="open")
    done_on: Mapped[date | None] = mapped_column(Date)


class IndicatorValue(Provenanced, Base):
    """A hand-entered or surveyed indicator value for a place and year (computed ones live in results)."""

    __tablename__ = "indicator_value"
    __table_args__ = (UniqueConstraint("place_id", "indicator_code", "year", name="indicator_value_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id"), index=True)
    indicator_code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)


class AnalysisRun(Base):
    """One run of an analysis (assessment, index, network metrics, ...) with every parameter it used."""

    __tablename__ = "analysis_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # assessment | network | index | ...
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="citydip")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    model_version: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The registry's data version (:func:`citydiplomacy.store.runs.data_version`) the run read.
    data_version: Mapped[int | None] = mapped_column(Integer)


class CityResult(Base):
    """A per-place number produced by a run: an indicator, a score, a rank, a network metric."""

    __tablename__ = "city_result"
    __table_args__ = (
        UniqueConstraint("run_id", "place_id", "code", name="city_result_key"),
        Index("ix_city_result_place_code", "place_id", "code"),
        # One code of one run by value: the rankings and the network table (migration 0011).
        Index("ix_city_result_run_code_value", "run_id", "code", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_run.id", ondelete="CASCADE"), index=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id"))
    code: Mapped[str] = mapped_column(String(60))
    value: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AppUser(Base):
    """A user of the observatory with a role: viewer, editor or admin."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="viewer")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Set when an admin disables the user: no login, every session ended.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One change to one record: who, when, what (``changes`` maps a field to ``[old, new]``)."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))  # insert | update | delete | import
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    context: Mapped[str | None] = mapped_column(String(300))  # e.g. "import twinning twin_cities.csv"


class ModelRelease(Base):
    """Which version of the model data (five-level model, catalogues) was loaded into this database."""

    __tablename__ = "model_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    checksum: Mapped[str] = mapped_column(String(80))


class PlaceRedirect(Base):
    """A place merged into another: links to the old id lead to the place it became."""

    __tablename__ = "place_redirect"

    old_place_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id", ondelete="CASCADE"), index=True)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    merged_by: Mapped[str] = mapped_column(String(120))


class Job(Base):
    """A long analysis run on request (network metrics, the assessment), one at a time, with its progress.

    ``state``: ``queued`` -> ``running`` -> ``done`` | ``failed``.  ``result`` names the runs it stored.
    """

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0-1
    stage: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(120), default="citydip")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(200))


class JobLock(Base):
    """The single row that says which job is running: claimed by one conditional UPDATE, so two workers
    (processes, hosts) never run jobs at the same time."""

    __tablename__ = "job_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    job_id: Mapped[int | None] = mapped_column(Integer)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A login session of the web application, checked on every request (so it can be ended at once).

    ``token_hash`` is the SHA-256 of the random token the cookie carries: a copy of the table gives no
    session.  ``id`` is a plain number that names the session to admins (pages, API, CLI, audit trail)
    without revealing anything of its token.
    """

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    client: Mapped[str | None] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_reason: Mapped[str | None] = mapped_column(String(40))  # logout | password | role | disabled | admin


class LoginThrottle(Base):
    """Failed logins per key (an address, or an address and an account), shared by every web worker."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AppSetting(Base):
    """A value the application generates and keeps (e.g. the session-signing key made on first start)."""

    __tablename__ = "app_setting"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
