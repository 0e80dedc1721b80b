"""The REST API under ``/api``: paginated, filterable reads; authenticated, CSRF-checked, audited writes.

Reading needs any logged-in user (viewer and up); writing and reviewing need an editor; managing users
needs an admin.  Log in with ``POST /api/auth/login``, then send the session cookie, and on writes the
``X-CSRF-Token`` header with the token the login returned.  Updates carry the ``version`` the client read;
a stale version answers 409 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, Response
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from citydiplomacy.core.errors import BadInput, CityDipError, VersionConflict
from citydiplomacy.store import queries, review
from citydiplomacy.store.inputs import MAX_ID, MAX_OFFSET, NO_CONTROL_PATTERN, check_query_text
from citydiplomacy.store.records import RECORD_KINDS, FieldProblem, create_record, record_dict, update_record
from citydiplomacy.store.schema import AppUser, PlaceMention
from citydiplomacy.web import auth, data, sessions
from citydiplomacy.web.api import schemas
from citydiplomacy.web.deps import Admin, Editor, Viewer, check_csrf_header, get_db

router = APIRouter()
DB = Annotated[Session, Depends(get_db)]
Limit = Annotated[int, Query(ge=1, le=data.MAX_LIMIT, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Records to skip")]
# A NUL in a search answered 503 on PostgreSQL and matched everything on SQLite: control characters are a 422
# (the validator words it; the pattern documents it, so clients and schemathesis know).
NoControl = AfterValidator(check_query_text)
Plain: dict[str, Any] = {"pattern": NO_CONTROL_PATTERN}
Text = Annotated[str | None, Query(max_length=200, json_schema_extra=Plain), NoControl]
Code = Annotated[str | None, Query(max_length=60, json_schema_extra=Plain), NoControl]
Id = Annotated[int | None, Query(ge=1, le=MAX_ID)]
YearQ = Annotated[int | None, Query(ge=0, le=3000)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
# What each kind of operation can answer besides its success (every error body is a Problem).
READ = schemas.problems(401, 422, 503)  # a list or a record (parameters: 422)
READ_ONE = schemas.problems(401, 404, 422, 503)
CREATE = schemas.problems(401, 403, 409, 413, 422, 503)  # a missing referenced record is a 422 naming the field
UPDATE = schemas.problems(401, 403, 404, 409, 413, 422, 503)


def _not_found(what: str, record_id: int) -> HTTPException:
    return HTTPException(status_code=404, detail=f"no {what} {record_id}")


# --- session ---------------------------------------------------------------------------------------


@router.post(
    "/auth/login", response_model=schemas.Session, tags=["auth"], responses=schemas.problems(401, 413, 422, 429, 503)
)
def login(body: schemas.LoginIn, request: Request, db: DB) -> dict[str, str]:
    """Log in: sets the session cookie and returns the CSRF token for writes.

    Failed logins slow further attempts from the same address (429 with ``Retry-After``, in seconds).
    """
    client = sessions.client_address(request)
    wait = auth.login_wait(db, client, body.username)
    if wait > 0:
        seconds = auth.retry_after(wait)
        raise HTTPException(
            status_code=429,
            detail=f"too many failed logins; try again in {seconds} s",
            headers={"Retry-After": seconds},
        )
    user = auth.authenticate(db, body.username, body.password)
    if user is None:
        auth.login_failed(db, client, body.username)
        db.commit()  # the failure counts although the login failed
        raise HTTPException(status_code=401, detail="wrong user name or password")
    auth.login_succeeded(db, client, body.username)
    return start_session(request, db, user)


def start_session(request: Request, db: Session, user: AppUser) -> dict[str, str]:
    """Start a fresh session for ``user`` (new token and CSRF token each login: no session fixation); commits."""
    live = sessions.log_in(request, db, user)
    db.commit()  # the session, and a re-hashed password if any
    return {"username": live.username, "role": live.role, "csrf_token": live.csrf_token}


@router.post("/auth/logout", status_code=204, tags=["auth"], responses=schemas.problems(503))
def logout(request: Request, db: DB) -> Response:
    """End the session: its cookie no longer works anywhere, even if someone kept a copy."""
    sessions.log_out(request, db)
    db.commit()
    return Response(status_code=204)


@router.get("/me", response_model=schemas.Session, tags=["auth"], responses=schemas.problems(401, 503))
def me(request: Request, user: auth.CurrentUser = Viewer) -> dict[str, str]:
    """The logged-in user and the session's CSRF token."""
    live = sessions.request_session(request)
    return {"username": user.username, "role": user.role, "csrf_token": live.csrf_token if live else ""}


@router.post("/users", status_code=201, tags=["auth"], responses=CREATE)
def add_user(
    body: schemas.UserIn, db: DB, user: auth.CurrentUser = Admin, _csrf: None = Depends(check_csrf_header)
) -> dict[str, Any]:
    """Add a user or reset a user's password and role (admin only); a reset ends the user's sessions."""
    created = auth.create_user(db, body.username, body.password, body.role)
    db.commit()
    return {"id": created.id, "username": created.username, "role": created.role}


# --- reads -----------------------------------------------------------------------------------------


@router.get("/stats", tags=["read"], responses=schemas.problems(401, 503))
def stats(db: DB, user: auth.CurrentUser = Viewer) -> dict[str, Any]:
    """Key figures: counts per record kind, relations by kind, places and mentions by status."""
    return queries.stats(db)  # on the request's own connection (a second one per request can empty the pool)


@router.get("/places", response_model=schemas.Page, tags=["read"], responses=READ)
def list_places(
    db: DB,
    q: Text = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    status: Text = None,
    admin_level: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """Places (cities, districts, subdivisions) by name in any language, country, status, level: the best
    matches first (the whole name, its beginning, a word's beginning, anywhere), each with its ``region``,
    ``match`` and the ``matched_name`` (an alternate name, when that is what matched)."""
    return data.place_page(db, q, country, status, admin_level, limit=limit, offset=offset)


@router.get("/places/{place_id}", tags=["read"], responses=READ_ONE)
def get_place(place_id: PathId, db: DB, user: auth.CurrentUser = Viewer) -> Response:
    """A city profile: the place, relations by kind and status, memberships, activities, results."""
    # In the thread pool like its dependencies: the session and user now come from the database, and a
    # database call on the event loop, waiting for a pooled connection that a request finishing on the
    # loop holds, stalls every client under load.
    body = data.city_profile_json(db, place_id)
    if body is None:
        raise _not_found("place", place_id)
    return Response(body, media_type="application/json")


@router.get("/relations", response_model=schemas.Page, tags=["read"], responses=READ)
def list_relations(
    db: DB,
    place_id: Id = None,
    kind: Text = None,
    status: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """Bilateral relations (stored once, ``place_a_id < place_b_id``), each with its ``evidence`` (its sources)."""
    return data.with_evidence(db, data.page(db, data.relations_query(place_id, kind, status), limit, offset))


@router.get("/memberships", response_model=schemas.Page, tags=["read"], responses=READ)
def list_memberships(
    db: DB,
    place_id: Id = None,
    organisation_id: Id = None,
    role: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """Memberships of places in organisations, with roles, each with its ``evidence`` (its sources)."""
    found = data.page(db, data.memberships_query(place_id, organisation_id, role), limit, offset)
    return data.with_evidence(db, found, of="membership")


@router.get("/organisations", response_model=schemas.Page, tags=["read"], responses=READ)
def list_organisations(
    db: DB, q: Text = None, kind: Text = None, limit: Limit = 50, offset: Offset = 0, user: auth.CurrentUser = Viewer
) -> dict[str, Any]:
    """Organisations (UN agencies, city networks, forums, funds)."""
    return data.page(db, data.organisations_query(q, kind), limit, offset)


@router.get("/organisations/{organisation_id}", tags=["read"], responses=READ_ONE)
def get_organisation(organisation_id: PathId, db: DB, user: auth.CurrentUser = Viewer) -> dict[str, Any]:
    """An organisation profile: members with coordinates and roles, member counts over time."""
    profile = data.organisation_profile(db, organisation_id)
    if profile is None:
        raise _not_found("organisation", organisation_id)
    return profile


@router.get("/activities", response_model=schemas.Page, tags=["read"], responses=READ)
def list_activities(
    db: DB,
    place_id: Id = None,
    organisation_id: Id = None,
    kind: Text = None,
    year_from: YearQ = None,
    year_to: YearQ = None,
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """Activities and events, the newest first."""
    return data.page(db, data.activities_query(place_id, organisation_id, kind, year_from, year_to), limit, offset)


@router.get("/audit", response_model=schemas.Page, tags=["read"], responses=READ)
def list_audit(
    db: DB,
    entity: Text = None,
    entity_id: Id = None,
    actor: Text = None,
    action: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """The audit log: who changed what, when (``changes`` maps a field to ``[old, new]``)."""
    return data.page(db, data.audit_query(entity, entity_id, actor, action), limit, offset)


@router.get("/review", response_model=schemas.Page, tags=["review"], responses=READ)
def list_review(
    db: DB,
    status: Annotated[str, Query(max_length=20, json_schema_extra=Plain), NoControl] = "ambiguous",
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """The review queue: place mentions the resolver could not settle, with their candidates (region,
    population, distance from the source's coordinates) and ``best``, the index of the likeliest one."""
    return review.queue(db, status, limit, offset)


@router.get("/runs", response_model=schemas.Page, tags=["results"], responses=READ)
def list_runs(
    db: DB, kind: Text = None, limit: Limit = 50, offset: Offset = 0, user: auth.CurrentUser = Viewer
) -> dict[str, Any]:
    """Analysis runs (assessment, network, ...) with their parameters."""
    return data.page(db, data.runs_query(kind), limit, offset)


@router.get("/rankings", tags=["results"], responses=READ)
def rankings(
    db: DB,
    run_id: Id = None,
    code: Annotated[str, Query(max_length=60, json_schema_extra=Plain), NoControl] = data.CDI_CODE,
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """Places ranked by the index (or any stored code) of an assessment run, with rank intervals."""
    out = data.ranking(db, run_id, code, limit, offset)
    if out is None:
        return {"items": [], "total": 0, "limit": limit, "offset": offset, "run": None, "code": code, "codes": []}
    return out


@router.get("/network", tags=["results"], responses=READ)
def network(
    db: DB,
    run_id: Id = None,
    code: Code = None,
    limit: Limit = 50,
    offset: Offset = 0,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """Places by a network metric (centrality, connectivity, community) of a network run."""
    out = data.network_table(db, run_id, code, limit, offset)
    if out is None:
        return {"items": [], "total": 0, "limit": limit, "offset": offset, "run": None, "code": code, "codes": []}
    return out


# --- writes ----------------------------------------------------------------------------------------


def _register_writes(kind_name: str) -> None:
    kind = RECORD_KINDS[kind_name]

    def create(
        body: Any,
        db: DB,
        user: auth.CurrentUser = Editor,
        _csrf: None = Depends(check_csrf_header),
    ) -> dict[str, Any]:
        obj = create_record(db, kind_name, body, user.username)
        db.commit()
        return record_dict(obj)

    def update(
        record_id: PathId,
        body: Any,
        db: DB,
        user: auth.CurrentUser = Editor,
        _csrf: None = Depends(check_csrf_header),
    ) -> dict[str, Any]:
        try:
            obj = update_record(db, kind_name, record_id, body, user.username)
        except LookupError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        db.commit()
        return record_dict(obj)

    def get_one(record_id: PathId, db: DB, user: auth.CurrentUser = Viewer) -> dict[str, Any]:
        obj = db.get(kind.model, record_id)
        if obj is None:
            raise _not_found(kind.label, record_id)
        return record_dict(obj)

    # The bodies' types are only known here (one pair per record kind): give FastAPI real classes,
    # not the postponed annotation strings.
    create.__annotations__["body"] = Annotated[kind.create, Body()]
    update.__annotations__["body"] = Annotated[kind.update, Body()]
    # One name for a kind's id in every path (GET and PUT /places/{place_id}): the document then has one
    # path per resource, and a 405's Allow header lists the methods of that one path.
    id_name = f"{kind.label}_id"
    record_path = f"/{kind_name}/{{{id_name}}}"
    for handler in (update, get_one):
        handler.__annotations__["record_id"] = Annotated[int, Path(ge=1, le=MAX_ID, alias=id_name)]
    create.__doc__ = f"Add a {kind.label} (editor); returns it with its id and version."
    update.__doc__ = f"Replace a {kind.label}'s fields (editor); send the version you read, 409 if stale."
    get_one.__doc__ = f"One {kind.label} record with all its fields, including its version."
    router.add_api_route(
        f"/{kind_name}",
        create,
        methods=["POST"],
        status_code=201,
        tags=["write"],
        responses=CREATE,
        name=f"create_{kind.label}",
    )
    router.add_api_route(
        record_path,
        update,
        methods=["PUT"],
        tags=["write"],
        responses=UPDATE,
        name=f"update_{kind.label}",
    )
    if kind_name not in ("places", "organisations"):  # those have a profile GET above
        router.add_api_route(
            record_path,
            get_one,
            methods=["GET"],
            tags=["read"],
            responses=READ_ONE,
            name=f"get_{kind.label}",
        )


for _kind, _spec in RECORD_KINDS.items():
    if _spec.generic_api:  # agreements: their own operations (web/api/agreements.py)
        _register_writes(_kind)


def _decide(decision: Callable[[], PlaceMention]) -> dict[str, Any]:
    """Run a review decision of :mod:`citydiplomacy.store.review`; its errors become HTTP answers."""
    try:
        mention = decision()
    except VersionConflict:
        raise  # the application's handler answers 409 "changed by someone else"
    except BadInput as exc:
        raise HTTPException(
            status_code=422,
            detail=[{"loc": ["body", "candidate"], "msg": str(exc), "type": FieldProblem.error_type}],
        ) from exc
    except CityDipError as exc:  # NotFound 404, Conflict 409
        raise HTTPException(status_code=exc.http_status, detail=str(exc)) from exc
    return record_dict(mention)


@router.post("/review/{mention_id}/resolve", tags=["review"], responses=UPDATE)
def resolve(
    mention_id: PathId,
    db: DB,
    body: Annotated[schemas.ResolveIn, Body()],
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:
    """Resolve a review-queue item with one of its candidates or an existing place (send the ``version``
    you read): sets its place, status ``reviewed``, reviewer and time, and merges its provisional place."""
    out = _decide(
        lambda: review.resolve(
            db,
            mention_id,
            candidate=body.candidate,
            place_id=body.place_id,
            version=body.version,
            actor=user.username,
        )  # fmt: skip
    )
    db.commit()
    return out


@router.post("/review/{mention_id}/keep", tags=["review"], responses=UPDATE)
def keep(
    mention_id: PathId,
    db: DB,
    body: Annotated[schemas.DecisionIn, Body()],
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:
    """Keep a review-queue item as a new place: status ``kept``, its place confirmed as a place of its own."""
    out = _decide(lambda: review.keep(db, mention_id, version=body.version, actor=user.username))
    db.commit()
    return out


@router.post("/review/{mention_id}/reject", tags=["review"], responses=UPDATE)
def reject(
    mention_id: PathId,
    db: DB,
    body: Annotated[schemas.DecisionIn, Body()],
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:
    """None of the candidates is right: status ``rejected``, the reviewer recorded; the place stays its own."""
    out = _decide(lambda: review.reject(db, mention_id, version=body.version, actor=user.username))
    db.commit()
    return out
