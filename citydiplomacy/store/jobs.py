"""The job queue: long analyses recorded in the database and run one at a time, by any worker or host.

A job is ``queued`` when asked for, ``running`` while a worker holds the single :class:`JobLock` row, then
``done`` or ``failed`` (with the error, in words).  Claiming is one conditional ``UPDATE`` of the lock row, so
two web workers, or a web worker and a ``citydip jobs run``, never run jobs at the same time, on SQLite and
on PostgreSQL alike.  A worker reports progress (which also proves it is alive); a lock whose job has not
reported for :data:`~citydiplomacy.settings.JOB_STALE_AFTER_S` is taken over and that job marked failed.

What a job *does* lives above the analyses (:mod:`citydiplomacy.jobs`); this module only keeps the records.
Every function here runs its own short transaction, so progress is visible while the job's own work is
still uncommitted.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update

from citydiplomacy import settings
from citydiplomacy.core.errors import Conflict, NotFound
from citydiplomacy.store import db
from citydiplomacy.store.schema import Job, JobLock, utcnow

__all__ = ["JobBusy", "claim", "enqueue", "fail", "finish", "get_job", "job_dict", "list_jobs", "report_progress"]

LOCK_ID = 1


class JobBusy(Conflict):
    """Another job is running; only one runs at a time."""


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; the registry's clock is UTC (schema.utcnow).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def job_dict(job: Job) -> dict[str, Any]:
    """A job as JSON-ready data (the API's and the CLI's form)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "parameters": job.parameters or {},
        "state": job.state,
        "progress": job.progress,
        "stage": job.stage,
        "error": job.error,
        "result": job.result,
        "created_by": job.created_by,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "worker": job.worker,
    }


def enqueue(engine: Engine, kind: str, parameters: dict[str, Any], *, actor: str) -> dict[str, Any]:
    """Record a queued job and return it (the caller has checked ``kind`` and ``parameters``)."""
    with db.session_scope(engine) as session:
        job = Job(kind=kind, parameters=parameters, state="queued", created_by=actor)
        session.add(job)
        session.flush()
        return job_dict(job)


def get_job(engine: Engine, job_id: int) -> dict[str, Any]:
    """One job.

    Raises
    ------
    NotFound
        No job has that id.
    """
    with db.session_scope(engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        return job_dict(job)


def list_jobs(engine: Engine, *, limit: int = 50, state: str | None = None) -> list[dict[str, Any]]:
    """The newest jobs first (optionally of one state)."""
    with db.session_scope(engine) as session:
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if state:
            query = query.where(Job.state == state)
        return [job_dict(j) for j in session.scalars(query)]


def running(engine: Engine) -> dict[str, Any] | None:
    """The job holding the lock, if any."""
    with db.session_scope(engine) as session:
        lock = session.get(JobLock, LOCK_ID)
        job = session.get(Job, lock.job_id) if lock is not None and lock.job_id is not None else None
        return job_dict(job) if job is not None else None


def claim(engine: Engine, job_id: int, *, worker: str) -> dict[str, Any]:
    """Take the lock for queued job ``job_id`` and mark it running.

    Raises
    ------
    NotFound
        No such job.
    JobBusy
        Another job holds the lock (its id and kind are in the message), or this job is not queued.
    """
    now = utcnow()
    stale = now - timedelta(seconds=settings.JOB_STALE_AFTER_S)
    with db.session_scope(engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        if job.state != "queued":
            raise JobBusy(f"job {job_id} is {job.state}, not queued")
        lock = session.get(JobLock, LOCK_ID)
        if lock is None:  # a registry migrated before the lock row existed
            session.add(JobLock(id=LOCK_ID))
            session.flush()
        holder = session.get(JobLock, LOCK_ID).job_id
        holder_job = session.get(Job, holder) if holder is not None else None
        holder_dead = holder_job is None or holder_job.state != "running" or (
            _aware(holder_job.heartbeat_at or holder_job.started_at or now) < stale
        )  # fmt: skip
        # One conditional UPDATE decides: the lock is free (or its holder is dead) at the moment of writing.
        condition = JobLock.job_id.is_(None) if holder is None or not holder_dead else or_(
            JobLock.job_id.is_(None), JobLock.job_id == holder
        )  # fmt: skip
        taken = session.execute(
            update(JobLock).where(JobLock.id == LOCK_ID, condition).values(job_id=job_id, claimed_at=now)
        ).rowcount
        if taken != 1:
            what = (
                f"job {holder_job.id} ({holder_job.kind}, {holder_job.stage or 'starting'})" if holder_job else "a job"
            )
            raise JobBusy(f"{what} is running; one job runs at a time — wait for it or see `citydip jobs list`")
        if holder_job is not None and holder_dead and holder_job.state == "running":
            holder_job.state = "failed"
            holder_job.error = "its worker stopped reporting progress; the lock was taken over"
            holder_job.finished_at = now
        started = session.execute(
            update(Job).where(Job.id == job_id, Job.state == "queued")
            .values(state="running", started_at=now, heartbeat_at=now, worker=worker[:200], progress=0.0)
        ).rowcount  # fmt: skip
        if started != 1:
            raise JobBusy(f"job {job_id} was started by another worker")
    return get_job(engine, job_id)


def report_progress(engine: Engine, job_id: int, fraction: float, stage: str, *, wait_s: float | None = None) -> None:
    """Record a running job's progress (0-1) and stage; doubles as its heartbeat.

    With ``wait_s``, a SQLite database locked by another writer (the job's own transaction, once it has
    written) makes this fail within ``wait_s`` seconds (``OperationalError``) instead of the usual wait.
    """
    now = utcnow()
    values = {"progress": max(0.0, min(1.0, float(fraction))), "stage": stage[:200], "heartbeat_at": now}
    with engine.connect() as conn, db.lock_wait(conn, wait_s) if wait_s is not None else contextlib.nullcontext(conn):
        conn.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(**values))
        conn.commit()


def _release(session: Any, job_id: int) -> None:
    session.execute(update(JobLock).where(JobLock.id == LOCK_ID, JobLock.job_id == job_id).values(job_id=None))


def finish(engine: Engine, job_id: int, result: dict[str, Any]) -> None:
    """Mark a job done with its result and release the lock."""
    with db.session_scope(engine) as session:
        session.execute(
            update(Job).where(Job.id == job_id)
            .values(state="done", progress=1.0, stage="done", result=result, finished_at=utcnow())
        )  # fmt: skip
        _release(session, job_id)


def fail(engine: Engine, job_id: int, error: str) -> None:
    """Mark a job failed with its error (in words) and release the lock."""
    with db.session_scope(engine) as session:
        session.execute(
            update(Job).where(Job.id == job_id).values(state="failed", error=error[:5000], finished_at=utcnow())
        )
        _release(session, job_id)
