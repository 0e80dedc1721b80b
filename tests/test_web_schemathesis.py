"""Property-based run of schemathesis over every operation of the API's own OpenAPI document, writes included.

An editor's session (cookie and ``X-CSRF-Token``, as a real client sends them) drives every operation of
``/api/openapi.json`` on a small seeded registry: schemathesis's coverage cases (boundaries, missing and
wrong-typed fields, unexpected methods) and its positive and negative fuzzing, each response checked with
all its default checks (status code documented, content type, response schema and headers, valid data
accepted, invalid data refused, ``Allow`` on 405, ...).  No input may cause a server error, and the writes
must really happen (201s, 200s and a 202, not only refusals).

``CITYDIP_SCHEMATHESIS_EXAMPLES`` sets the fuzzed cases per operation and mode (CI: a few; the issue's
probe used about 500).  ``CITYDIP_SCHEMATHESIS_SEED`` picks another random stream (default: fixed).
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from sqlalchemy import Engine, select

schemathesis = pytest.importorskip("schemathesis")

from schemathesis import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402
from test_web_support import seed as seed_registry  # noqa: E402

from citydiplomacy.store import db  # noqa: E402
from citydiplomacy.store import jobs as queue  # noqa: E402
from citydiplomacy.store.schema import AppUser  # noqa: E402
from citydiplomacy.web import auth, sessions  # noqa: E402
from citydiplomacy.web.api.workbook import XLSX, ZIP  # noqa: E402
from citydiplomacy.web.app import SESSION_COOKIE, create_app  # noqa: E402

EXAMPLES = int(os.environ.get("CITYDIP_SCHEMATHESIS_EXAMPLES") or 6)
SEED = int(os.environ.get("CITYDIP_SCHEMATHESIS_SEED") or 20260415)
#: Writes that an editor can make succeed (POST /api/users needs an admin: an editor's 403 is the answer).
CREATES = ("/api/places", "/api/organisations", "/api/relations", "/api/memberships", "/api/activities")


@dataclass
class EditorSession:
    """The editor's live session; renewed when a case logged it out (POST /api/auth/logout must work)."""

    engine: Engine
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def renew(self) -> None:
        # Straight to the session store, not through POST /api/auth/login: the run's failed logins from
        # this address have rightly throttled it.
        with db.session_scope(self.engine) as s:
            user = s.scalar(select(AppUser).where(AppUser.username == "editor"))
            token, row = sessions.create_session(s, user)
            csrf = row.csrf_token
        self.cookies = {SESSION_COOKIE: token}
        self.headers = {auth.CSRF_HEADER: csrf}


#: The 422s that a schema-valid body may get, for what no JSON schema can state (documented on every 422):
#: ``document_refused``: an uploaded file whose bytes are not of an allowed type, or are none (a schema says
#: ``format: binary``, not what the bytes must be); ``workbook``: a workbook upload whose bytes are not a
#: workbook of the office's layout.
STATEFUL_422 = {"reference_not_found", "cross_field", "document_refused", "workbook"}
# The workbook upload's body is raw XLSX (or zip) bytes: sent as schemathesis sends any binary body.
schemathesis.serializer.alias(XLSX, "application/octet-stream")
schemathesis.serializer.alias(ZIP, "application/octet-stream")  # the workbook with its documents' files


def accepts_valid_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's positive_data_acceptance, except for the body rules a JSON schema cannot state.

    A referenced place or organisation that does not exist (the registry's state: like a 404 for an id in
    the path, which schemathesis allows) and two fields that must differ or be in order (a relation's two
    places, until_year after since_year) answer a 422 whose every error is of one of those types, naming
    the fields.  Any other 422 for schema-valid data still fails.
    """
    if response.status_code == 422:
        try:
            errors = response.json()["detail"]
        except Exception:
            errors = None
        if isinstance(errors, list) and errors and all(e.get("type") in STATEFUL_422 for e in errors):
            return None
    return positive_data_acceptance(ctx, response, case)


@pytest.fixture
def web_app(sqlite_url: str):  # type: ignore[no-untyped-def]
    seed_registry(sqlite_url)
    app = create_app(sqlite_url, secret_key="schemathesis")
    yield app
    # Jobs the run started run in threads of this process: let them end before the registry goes.
    deadline = time.monotonic() + 60
    while queue.running(app.state.engine) is not None and time.monotonic() < deadline:
        time.sleep(0.2)


def _label(case: Any) -> str:
    return f"{case.operation.method.upper()} {case.operation.path}"


def test_every_operation_conforms(web_app) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", web_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every operation, writes included; none is left out.
    assert len(operations) == len([m for p in web_app.openapi()["paths"].values() for m in p])
    assert {op.method.upper() for op in operations} >= {"GET", "POST", "PUT"} and len(operations) >= 35
    editor = EditorSession(web_app.state.engine)
    editor.renew()
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    failures: list[str] = []
    started = time.monotonic()

    def run(case: Any) -> None:
        label = _label(case)
        try:
            response = case.call_and_validate(
                headers=editor.headers,
                cookies=editor.cookies,
                excluded_checks=[positive_data_acceptance],
                additional_checks=[accepts_valid_data],
            )
        except (Exception, BaseExceptionGroup) as exc:  # collect every failure (all operations run), fail at the end
            failures.append(f"{label}: {exc}\n    {case.as_curl_command()}")
            return
        statuses[label][response.status_code] += 1
        if case.operation.path == "/api/auth/logout" and response.status_code == 204:
            editor.renew()  # the case ended the session, as it should: the next cases need a live one

    for operation in operations:
        coverage = schema.config.generation_for(operation=operation, phase="coverage")
        for case in schema.iter_coverage_cases(
            operation, generation_modes=list(GenerationMode), generation_config=coverage
        ):
            run(case)
        # Negative fuzzing needs something to make invalid (GET /api/health, /api/me take no input at all).
        # Nor can a raw binary body (the workbook upload) be made invalid for a schema: any bytes are a string.
        has_input = bool(list(operation.iter_parameters())) or any(
            body.media_type == "application/json" for body in operation.body
        )
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[: 2 if has_input else 1]:
            fuzz: Callable[..., None]

            @seed(SEED)
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def fuzz(case: Any) -> None:
                run(case)

            fuzz()

    elapsed = time.monotonic() - started
    total = sum(sum(c.values()) for c in statuses.values()) + len(failures)
    print(f"\nschemathesis: {len(operations)} operations, {total} cases, {len(failures)} failures, {elapsed:.1f} s")
    assert not failures, f"{len(failures)} of {total} cases failed:\n" + "\n".join(failures[:40])
    assert not [(label, c) for label, counts in statuses.items() for c in counts if c >= 500]
    # The run really wrote as the editor: every kind of record was created, some updated, reviewed, a job started.
    for path in CREATES:
        assert statuses[f"POST {path}"][201] > 0, (path, statuses[f"POST {path}"])
    updates = sum(counts[200] for label, counts in statuses.items() if label.startswith("PUT "))
    assert updates > 0, {label: counts for label, counts in statuses.items() if label.startswith("PUT ")}
    assert statuses["POST /api/jobs"][202] > 0, statuses["POST /api/jobs"]
    assert statuses["POST /api/auth/logout"][204] > 0
    # As a logged-in user throughout, never 401 (the session stayed live across the logouts); a login with
    # made-up credentials is the one 401.
    anonymous = {label: counts for label, counts in statuses.items() if 401 in counts}
    assert set(anonymous) <= {"POST /api/auth/login"}, anonymous
