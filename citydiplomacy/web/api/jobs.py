"""Jobs through the API: list and follow them (viewers), start one (editors); one job runs at a time."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from pydantic import Field

from citydiplomacy import jobs
from citydiplomacy.assess.methods.aggregate import AGGREGATIONS
from citydiplomacy.assess.methods.normalise import NORMALISATIONS
from citydiplomacy.core.errors import BadInput
from citydiplomacy.geo.regions import UN_M49_SUBREGIONS
from citydiplomacy.store import jobs as queue
from citydiplomacy.store.inputs import MAX_ID, MAX_YEAR, MIN_YEAR, StrictBody
from citydiplomacy.web import auth
from citydiplomacy.web.api.schemas import problems
from citydiplomacy.web.deps import Editor, Viewer, check_csrf_header

router = APIRouter(tags=["jobs"])

#: A region a network job can keep: a UN M49 sub-region by name, or a continent or ISO country code (AS, IR).
Region = Literal[tuple(UN_M49_SUBREGIONS)] | Annotated[str, Field(pattern=r"^[A-Z]{2}$")]  # type: ignore[valid-type]
JobYear = Annotated[int | None, Field(default=None, ge=MIN_YEAR, le=MAX_YEAR, description="Gregorian year")]


class NetworkParameters(StrictBody):
    """Parameters of a network job (all optional; see ``citydip jobs run --help``)."""

    graph: Literal["bilateral", "membership", "combined"] | None = None
    year: JobYear = None
    year_from: JobYear = None
    year_to: JobYear = None
    regions: list[Region] | None = Field(
        default=None, max_length=300, description="Continent codes, UN M49 sub-regions or ISO country codes"
    )


class AssessmentParameters(StrictBody):
    """Parameters of an assessment job (all optional; see ``citydip jobs run --help``)."""

    weights: Literal["equal", "rank-order"] | None = None
    normalise: Literal[tuple(NORMALISATIONS)] | None = None  # type: ignore[valid-type]
    aggregate: Literal[tuple(AGGREGATIONS)] | None = None  # type: ignore[valid-type]
    missing: Literal["available", "none", "mean", "median"] | None = None
    year: JobYear = None
    zero_policy: Literal["family", "place"] | None = None
    min_coverage: float | None = Field(default=None, ge=0, le=1)
    uncertainty_samples: int | None = Field(default=None, ge=0, le=100_000)
    uncertainty_seed: int | None = Field(default=None, ge=0, le=MAX_ID)


class MembershipModelParameters(StrictBody):
    """Parameters of a membership-model job: the organisation, and optionally the window and the reach."""

    organisation: str = Field(min_length=1, max_length=300, description="Name or acronym")
    window: int | None = Field(default=None, ge=1, le=30, description="Years of joins the model learns from")
    reach_km: float | None = Field(default=None, gt=0, le=2000, description="Members within reach, km")


class PartnerModelParameters(StrictBody):
    """Parameters of a partner-model job: optionally the seed and the training rounds."""

    seed: int | None = Field(default=None, ge=0, le=MAX_ID, description="Seed of the model's training")
    inner_rounds: int | None = Field(default=None, ge=1, le=10, description="Training rounds (each hides 10 % of ties)")


class NetworkJob(StrictBody):
    """A network job to run."""

    kind: Literal["network"]
    parameters: NetworkParameters = Field(default_factory=NetworkParameters)


class AssessmentJob(StrictBody):
    """An assessment job to run."""

    kind: Literal["assessment"]
    parameters: AssessmentParameters = Field(default_factory=AssessmentParameters)


class MembershipModelJob(StrictBody):
    """A membership-model job to run (refits the model `recommend members` reads when the data changed)."""

    kind: Literal["membership_model"]
    parameters: MembershipModelParameters


class PartnerModelJob(StrictBody):
    """A partner-model job to run (refits the model `recommend partners` reads when the data changed)."""

    kind: Literal["partner_model"]
    parameters: PartnerModelParameters = Field(default_factory=PartnerModelParameters)


#: A job to run: its kind and that kind's parameters (the schema lists each kind's parameters and types).
JobIn = Annotated[NetworkJob | AssessmentJob | MembershipModelJob | PartnerModelJob, Field(discriminator="kind")]


@router.get("/jobs", responses=problems(401, 422, 503))
def list_jobs(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """The newest jobs first, with state, progress, stage, error and the runs they stored."""
    engine = request.app.state.engine
    return {"items": queue.list_jobs(engine, limit=limit), "running": queue.running(engine)}


@router.get("/jobs/{job_id}", responses=problems(401, 404, 422, 503))
def get_job(
    request: Request, job_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: auth.CurrentUser = Viewer
) -> dict[str, Any]:
    """One job (poll it to follow its progress)."""
    return queue.get_job(request.app.state.engine, job_id)


@router.post("/jobs", status_code=202, responses=problems(401, 403, 409, 413, 422, 503))
def start_job(
    request: Request,
    body: Annotated[JobIn, Body()],
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:
    """Start a job (editor): it runs in the background; 409 while another job runs."""
    engine = request.app.state.engine
    try:
        job = jobs.submit(engine, body.kind, body.parameters.model_dump(exclude_none=True), actor=user.username)
    except BadInput as exc:
        raise HTTPException(
            status_code=422, detail=[{"loc": ["body", "parameters"], "msg": str(exc), "type": "value_error"}]
        ) from exc
    jobs.start(engine, job["id"])
    return job
