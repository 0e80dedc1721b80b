"""The dashboard's jobs page: what ran, what runs now (with its progress), and buttons to re-run the analyses."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from citydiplomacy import jobs
from citydiplomacy.core.errors import BadInput, Conflict
from citydiplomacy.store import jobs as queue
from citydiplomacy.web import auth
from citydiplomacy.web.deps import Editor, Viewer, check_csrf_form

router = APIRouter(include_in_schema=False)


@router.get("/jobs")
def jobs_page(request: Request, user: auth.CurrentUser = Viewer) -> Response:
    from citydiplomacy.web.pages import render

    engine = request.app.state.engine
    items = queue.list_jobs(engine, limit=30)
    busy = any(j["state"] in ("queued", "running") for j in items)
    return render(
        request, "jobs.html", jobs=items, busy=busy, message=request.query_params.get("message"),
    )  # fmt: skip


@router.post("/jobs")
async def jobs_submit(request: Request, user: auth.CurrentUser = Editor) -> Response:
    form = await request.form()
    check_csrf_form(request, str(form.get("csrf_token") or ""))
    kind = str(form.get("kind") or "")
    params = {}
    if kind == "assessment" and form.get("uncertainty_samples"):
        params["uncertainty_samples"] = str(form.get("uncertainty_samples"))
    engine = request.app.state.engine
    try:
        job = jobs.submit(engine, kind, params, actor=user.username)
    except (BadInput, Conflict) as exc:
        from citydiplomacy.web.pages import render

        status = 409 if isinstance(exc, Conflict) else 422
        items = queue.list_jobs(engine, limit=30)
        return render(request, "jobs.html", status_code=status, jobs=items, busy=True, message=None, error=str(exc))
    jobs.start(engine, job["id"])
    return RedirectResponse(f"/jobs?started={job['id']}", status_code=303)
