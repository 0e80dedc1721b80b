"""Jobs through the API: list and follow them (viewers), start one (editors); one job runs at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from citydiplomacy import jobs
from citydiplomacy.core.errors import BadInput
from citydiplomacy.store import jobs as queue
from citydiplomacy.web import auth
from citydiplomacy.web.deps import Editor, Viewer, check_csrf_header

router = APIRouter(tags=["jobs"])


class JobIn(BaseModel):
    """A job to run: its kind and its parameters (see ``citydip jobs run --help``)."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern="^(network|assessment)$", description="network or assessment")
    parameters: dict[str, Any] = Field(default_factory=dict, max_length=20)


@router.get("/jobs", responses={401: {}, 403: {}})
def list_jobs(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    user: auth.CurrentUser = Viewer,
) -> dict[str, Any]:
    """The newest jobs first, with state, progress, stage, error and the runs they stored."""
    engine = request.app.state.engine
    return {"items": queue.list_jobs(engine, limit=limit), "running": queue.running(engine)}


@router.get("/jobs/{job_id}", responses={401: {}, 403: {}, 404: {}})
def get_job(
    request: Request, job_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: auth.CurrentUser = Viewer
) -> dict[str, Any]:
    """One job (poll it to follow its progress)."""
    return queue.get_job(request.app.state.engine, job_id)


@router.post("/jobs", status_code=202, responses={401: {}, 403: {}, 409: {}, 422: {}})
def start_job(
    request: Request,
    body: Annotated[JobIn, Body()],
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> dict[str, Any]:
    """Start a job (editor): it runs in the background; 409 while another job runs."""
    engine = request.app.state.engine
    try:
        job = jobs.submit(engine, body.kind, body.parameters, actor=user.username)
    except BadInput as exc:
        raise HTTPException(
            status_code=422, detail=[{"loc": ["body", "parameters"], "msg": str(exc), "type": "value_error"}]
        ) from exc
    jobs.start(engine, job["id"])
    return job
