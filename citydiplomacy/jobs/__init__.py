"""Jobs: the long analyses (network metrics, the assessment) run on request, one at a time, recorded in the
database with their progress and failure, so the dashboard and the CLI can start, follow and list them.

:mod:`.kinds` says what each kind of job does and which parameters it takes; :mod:`.runner` claims a job
(:mod:`citydiplomacy.store.jobs` keeps the records and the lock), runs it in one transaction and records how
it ended.  Either everything a job computes is stored, or (on failure) nothing is.
"""

from citydiplomacy.jobs.kinds import JOB_KINDS, check_parameters
from citydiplomacy.jobs.runner import run_job, start, submit

__all__ = ["JOB_KINDS", "check_parameters", "run_job", "start", "submit"]
