"""What each kind of job does, and the parameters it accepts (checked before anything is queued)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy.orm import Session

from citydiplomacy.core.errors import BadInput

Progress = Callable[[str, int, int], None]

__all__ = ["JOB_KINDS", "JobKind", "check_parameters"]


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its label, the parameters it accepts (name -> type) and the work it does."""

    name: str
    label: str
    parameters: dict[str, type]
    run: Callable[[Session, dict[str, Any], Progress], dict[str, Any]]


def _network_filter(params: dict[str, Any]) -> Any:
    from citydiplomacy.network.graphs import NetworkFilter

    regions = params.get("regions")
    return NetworkFilter(
        year_from=params.get("year_from", params.get("year")),
        year_to=params.get("year_to", params.get("year")),
        regions=tuple(regions) if regions else None,
    )


def run_network(session: Session, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Network metrics of one graph of the registry (default: the bilateral graph, now)."""
    from citydiplomacy.network.analysis import analyse

    result = analyse(session, params.get("graph", "bilateral"), _network_filter(params), progress=progress)
    return {"runs": {"network": result.run_id}, "cities": result.summary.get("cities")}


def run_assessment(session: Session, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The assessment of every place; first the network run it needs, when none matches the current data."""
    from citydiplomacy.assess.indicators import matching_network_run
    from citydiplomacy.assess.registry_index import AssessmentChoices, assess
    from citydiplomacy.network.analysis import analyse
    from citydiplomacy.network.graphs import NetworkFilter
    from citydiplomacy.store import runs

    choices = AssessmentChoices(**{k: v for k, v in params.items() if k in ASSESSMENT_PARAMETERS})
    out: dict[str, Any] = {"runs": {}}
    network = matching_network_run(session, choices.year)
    if network is None or network.data_version != runs.data_version(session):
        # The indicators must read network metrics of the same data: compute them first (same transaction).
        def network_progress(stage: str, done: int, total: int) -> None:
            progress(f"network: {stage}", done, 2 * total)

        flt = NetworkFilter(year_from=choices.year, year_to=choices.year)
        out["runs"]["network"] = analyse(session, "bilateral", flt, progress=network_progress).run_id
        session.flush()
    progress("indicators and the City Diplomacy Index", 1, 2)
    result = assess(session, None, choices)
    out["runs"]["assessment"] = result.run_id
    out["places_with_cdi"] = int(result.scores["CDI"].notna().sum())
    progress("done", 2, 2)
    return out


def run_membership_model(session: Session, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The model that ranks likely joiners of one organisation, refitted when the registry's data changed."""
    from citydiplomacy.strategy.membership import REACH_KM, WINDOW, train_membership_model

    progress("fitting the membership model", 0, 1)
    # Its own sessions (read, then one short write): this job's session only reads.
    out = train_membership_model(
        params["organisation"], window=params.get("window", WINDOW), reach_km=params.get("reach_km", REACH_KM),
        engine=session.get_bind(),
    )  # fmt: skip
    progress("done", 1, 1)
    return out


def run_partner_model(session: Session, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The model that ranks candidate partners (`recommend partners`), refitted when the registry's data changed."""
    from citydiplomacy.strategy.recommend_partners import train_partner_model

    progress("fitting the partner model", 0, 1)
    # Its own sessions (read, then one short write): this job's session only reads.
    out = train_partner_model(
        seed=params.get("seed", 0), inner_rounds=params.get("inner_rounds", 3), engine=session.get_bind()
    )
    progress("done", 1, 1)
    return out


def _assessment_parameters() -> dict[str, type]:
    from citydiplomacy.assess.registry_index import AssessmentChoices

    types = {"int": int, "float": float, "str": str, "int | None": int}
    return {f.name: types.get(str(f.type), str) for f in fields(AssessmentChoices)}


ASSESSMENT_PARAMETERS = (
    "weights", "normalise", "aggregate", "missing", "year", "zero_policy", "min_coverage",
    "uncertainty_samples", "uncertainty_seed",
)  # fmt: skip

JOB_KINDS: dict[str, JobKind] = {
    "network": JobKind(
        "network",
        "Network metrics",
        {"graph": str, "year": int, "year_from": int, "year_to": int, "regions": list},
        run_network,
    ),
    "assessment": JobKind(
        "assessment",
        "Assessment (indicators, City Diplomacy Index)",
        {
            "weights": str,
            "normalise": str,
            "aggregate": str,
            "missing": str,
            "year": int,
            "zero_policy": str,
            "min_coverage": float,
            "uncertainty_samples": int,
            "uncertainty_seed": int,
        },  # fmt: skip
        run_assessment,
    ),
    "membership_model": JobKind(
        "membership_model",
        "Membership model (who is likely to join an organisation)",
        {"organisation": str, "window": int, "reach_km": float},
        run_membership_model,
    ),
    "partner_model": JobKind(
        "partner_model",
        "Partner model (candidate sister cities)",
        {"seed": int, "inner_rounds": int},
        run_partner_model,
    ),
}


def check_parameters(kind: str, parameters: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a job request before it is queued; returns the parameters with their types.

    Raises
    ------
    BadInput
        An unknown kind, an unknown parameter, or a value of the wrong type (the message names it).
    """
    if kind not in JOB_KINDS:
        raise BadInput(f"unknown job kind {kind!r}; one of {', '.join(JOB_KINDS)}")
    spec = JOB_KINDS[kind].parameters
    out: dict[str, Any] = {}
    for name, value in (parameters or {}).items():
        if name not in spec:
            raise BadInput(f"job {kind} takes no parameter {name!r} (it takes {', '.join(spec)})")
        if value is None or value == "":
            continue
        wanted = spec[name]
        try:
            if wanted is list:
                out[name] = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
            elif wanted is int:
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError
                out[name] = int(value)
            elif wanted is float:
                out[name] = float(value)
            else:
                out[name] = str(value)
        except (TypeError, ValueError):
            raise BadInput(f"job {kind}: parameter {name} must be {wanted.__name__}, not {value!r}") from None
    if kind == "network" and out.get("graph", "bilateral") not in ("bilateral", "membership", "combined"):
        raise BadInput(f"job network: graph must be bilateral, membership or combined, not {out['graph']!r}")
    if kind == "assessment" and not 0 <= out.get("uncertainty_samples", 0) <= 100_000:
        raise BadInput("job assessment: uncertainty_samples must be between 0 and 100000")
    if kind == "membership_model" and not out.get("organisation"):
        raise BadInput("job membership_model needs the organisation (name or acronym): --set organisation=GCoM")
    if kind == "partner_model" and not 1 <= out.get("inner_rounds", 3) <= 10:
        raise BadInput("job partner_model: inner_rounds must be between 1 and 10")
    return out
