"""The office's workbook through the API: download the record as one XLSX, upload such a workbook to import it.

Thin over :mod:`citydiplomacy.ingest.workbook` (the one layout).  The upload is the raw XLSX as the request body
(``Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``), imported in the request's
one transaction: a bad workbook answers 422 with every problem located by sheet, row and column
(``loc: ["body", SHEET, ROW, COLUMN]``, shorter where a problem is the whole file or sheet), and nothing is written.
With ``files=true`` the download is a zip of the workbook and the documents' files (``documents/<sha256>``); such a
zip (``Content-Type: application/zip``) is uploaded the same way, each file checked against its checksum.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from citydiplomacy.ingest.workbook import WorkbookError, export_workbook, import_workbook
from citydiplomacy.store.inputs import MAX_ID
from citydiplomacy.store.lookup import get_place_by_id
from citydiplomacy.web import auth
from citydiplomacy.web.api.schemas import problems
from citydiplomacy.web.deps import Editor, Viewer, check_csrf_header, get_db

__all__ = ["XLSX", "router"]

router = APIRouter(tags=["office"])
DB = Annotated[Session, Depends(get_db)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"


def _temporary(suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(prefix="citydip-workbook-", suffix=suffix, delete=False)  # noqa: SIM115
    handle.close()
    return Path(handle.name)


@router.get(
    "/office/workbook",
    responses={
        **problems(401, 404, 422, 503),
        200: {"content": {XLSX: {}, ZIP: {}}, "description": "The workbook (or the zip with the documents)"},
    },
    response_class=FileResponse,
)
def download_workbook(
    db: DB,
    place_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this place's record")] = None,
    files: Annotated[bool, Query(description="A zip of the workbook and the documents' files")] = False,
    user: auth.CurrentUser = Viewer,
) -> FileResponse:
    """The office's record (or one place's) as one XLSX workbook: a sheet per record type, names not ids, dates
    in both calendars (see ``citydip workbook export``); with ``files``, a zip that also carries the documents."""
    suffix = ".zip" if files else ".xlsx"
    name = "citydip-office" + suffix
    if place_id is not None:
        place = get_place_by_id(db, place_id)  # 404 for an unknown place
        name = f"citydip-office-{place.country_code or 'xx'}-{place.id}{suffix}".lower()
    out = _temporary(suffix)
    export_workbook(db, out, place_id=place_id)
    return FileResponse(out, media_type=ZIP if files else XLSX, filename=name,
                        background=BackgroundTask(out.unlink, missing_ok=True))  # fmt: skip


@router.post(
    "/office/workbook",
    responses=problems(401, 403, 413, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                XLSX: {"schema": {"type": "string", "format": "binary"}},
                ZIP: {"schema": {"type": "string", "format": "binary"}},
            },
        }  # fmt: skip
    },
)
async def upload_workbook(
    request: Request,
    db: DB,
    user: auth.CurrentUser = Editor,
    _csrf: None = Depends(check_csrf_header),
) -> Any:
    """Import a workbook of the office's record (editor): records already held are kept, the rest added, in one
    transaction; 422 lists every problem by sheet, row and column, and then nothing is written."""
    path = _temporary(".xlsx")
    try:
        path.write_bytes(await request.body())
        try:  # the import is blocking database work: off the event loop
            summary = await run_in_threadpool(import_workbook, db, path, actor=user.username)
        except WorkbookError as exc:
            await run_in_threadpool(db.rollback)
            errors = [
                {"loc": ["body", *(x for x in (p.sheet, p.row, p.field) if x is not None)], "msg": p.reason,
                 "type": "workbook"}
                for p in exc.problems
            ]  # fmt: skip
            return JSONResponse({"detail": errors}, status_code=422)
        await run_in_threadpool(db.commit)
    finally:
        path.unlink(missing_ok=True)
    return {**summary.to_dict(), "file": None}
