"""Submitting, claiming and running jobs (the work of :mod:`.kinds`, the records of :mod:`citydiplomacy.store.jobs`)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from citydiplomacy.core.errors import CityDipError
from citydiplomacy.jobs.kinds import JOB_KINDS, check_parameters
from citydiplomacy.store import db
from citydiplomacy.store import jobs as queue

log = logging.getLogger(__name__)

__all__ = ["run_job", "start", "submit"]

#: Progress is written at most this often (s): enough to follow, few enough writes.
PROGRESS_EVERY_S = 0.5
#: How long a progress report waits for SQLite's write lock (s): once the job's own transaction has written,
#: it holds that lock, and a report waiting the usual 5 s for it kept the lock 5 s longer, every web write
#: meanwhile failing with 503.  A report that cannot get through is skipped (the next one, or the end, tells).
PROGRESS_LOCK_WAIT_S = 0.05


def worker_name() -> str:
    """Which process runs a job (host and process id)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def submit(engine: Engine, kind: str, parameters: dict[str, Any] | None, *, actor: str) -> dict[str, Any]:
    """Check a job request and queue it; refused while another job is running.

    Raises
    ------
    BadInput
        The kind or a parameter is wrong.
    JobBusy
        A job is running already (one at a time).
    """
    params = check_parameters(kind, parameters)
    busy = queue.running(engine)
    if busy is not None and busy["state"] == "running":
        raise queue.JobBusy(
            f"job {busy['id']} ({busy['kind']}) is running since {busy['started_at']}; one job runs at a time"
        )
    return queue.enqueue(engine, kind, params, actor=actor)


def run_job(
    engine: Engine, job_id: int, *, worker: str | None = None, progress: Callable[[str, float], None] | None = None
) -> dict[str, Any]:
    """Claim queued job ``job_id``, run it in one transaction and record how it ended.

    Parameters
    ----------
    progress
        ``progress(stage, fraction)`` for a terminal or a page (the job's record is updated too).

    Returns
    -------
    dict
        The job as it ended (``state`` ``done`` with its ``result``, or ``failed`` with its ``error``).

    Raises
    ------
    JobBusy
        Another job holds the lock; nothing was run.
    """
    job = queue.claim(engine, job_id, worker=worker or worker_name())
    kind = JOB_KINDS[job["kind"]]
    last = [0.0]

    def tick(stage: str, done: int, total: int) -> None:
        fraction = done / total if total else 0.0
        if progress is not None:
            progress(stage, fraction)
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or done >= total:
            last[0] = now
            # SQLite: the job's own transaction may hold the write lock; the next report gets through.
            with contextlib.suppress(OperationalError):
                queue.report_progress(engine, job_id, fraction, stage, wait_s=PROGRESS_LOCK_WAIT_S)

    try:
        with db.session_scope(engine) as session:
            session.info["actor"] = job["created_by"]
            session.info["context"] = f"job {job_id} {job['kind']}"
            result = kind.run(session, job["parameters"], tick)
    except Exception as exc:  # the work rolled back: record why, in words, and free the lock
        message = str(exc) if isinstance(exc, CityDipError) else f"{type(exc).__name__}: {exc}"
        log.warning("job %s (%s) failed: %s", job_id, job["kind"], message)
        queue.fail(engine, job_id, message)
        return queue.get_job(engine, job_id)
    queue.finish(engine, job_id, result)
    return queue.get_job(engine, job_id)


def start(engine: Engine, job_id: int) -> threading.Thread:
    """Run a queued job in a background thread of this process (the web's way); returns the thread."""

    def work() -> None:
        try:
            run_job(engine, job_id)
        except queue.JobBusy as exc:
            queue.fail(engine, job_id, str(exc))
        except Exception:  # pragma: no cover - logged, never kills the server
            log.exception("job %s could not run", job_id)

    thread = threading.Thread(target=work, name=f"citydip-job-{job_id}", daemon=True)
    thread.start()
    return thread
