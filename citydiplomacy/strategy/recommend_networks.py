"""Network recommender: city networks and bodies a city should join, with reasons.

Paper 002's first recommendation for Tehran is to expand its memberships.  For a city, every
organisation of the registry it is not a member of is scored from

* its **partners** that are members (a partner is the natural sponsor of an application),
* its **peers** that are members (places of the same continent within a factor 3 in population),
* the organisation's **scope** (a regional network only admits its region; a global one anyone),
* its **reach** (member count, log-scaled against the largest in the registry),
* its **themes** against the city's weakest assessment dimensions (when an assessment was run),

and checked against the organisation's **eligibility** rules (``Organisation.eligibility`` JSON, e.g.
Metropolis' ``min_population`` 250,000 or ``min_urban_area_population`` 1,000,000).  Ineligible bodies
are reported apart, with the rule that excludes them.

Score = 0.30 partners + 0.20 peers + 0.20 scope + 0.15 reach + 0.15 themes, each in ``[0, 1]``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select

from citydiplomacy import settings
from citydiplomacy.store.db import get_engine, session_scope
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.schema import MemberCount
from citydiplomacy.strategy.data import RegistryGraph, country_info, load_registry_graph
from citydiplomacy.strategy.recommend_partners import RecommendError, latest_dimension_scores

WEIGHTS = settings.NETWORK_RECOMMENDER_WEIGHTS

#: Organisation kinds a city joins (international organisations such as the IMF admit states, not cities).
JOINABLE_KINDS = frozenset({"global_network", "regional_network", "forum", "un_agency", "fund"})

_ARAB_LEAGUE = "DZ BH KM DJ EG IQ JO KW LB LY MR MA OM PS QA SA SO SD SY TN AE YE"
_OIC = (
    "AF AL DZ AZ BH BD BJ BN BF CM TD KM CI DJ EG GA GM GN GW GY ID IR IQ JO KZ KW KG LB LY MY MV ML MR MA "
    "MZ NE NG OM PK PS QA SA SN SL SO SD SR SY TJ TG TN TR TM UG AE UZ YE"
)
_MEDITERRANEAN = "ES FR MC IT MT SI HR BA ME AL GR TR CY SY LB IL PS EG LY TN DZ MA"
_BALTIC = "SE FI EE LV LT PL DE DK RU NO"
_SOUTHEAST_ASIA = "BN KH ID LA MY MM PH SG TH TL VN"

#: Regional scope of the regional networks of paper 000's Table 3 (editorial: each body's membership area):
#: organisation name or acronym -> ``{"countries": [...]}`` or ``{"continents": [...]}``.  An organisation's
#: own ``eligibility`` JSON may carry the same keys and then wins.
REGIONAL_SCOPE: dict[str, dict[str, list[str]]] = {
    "ATO": {"countries": _ARAB_LEAGUE.split()},
    "OICC": {"countries": _OIC.split()},
    "Eurocities": {"continents": ["EU"]},
    "MedCities": {"countries": _MEDITERRANEAN.split()},
    "UBC": {"countries": _BALTIC.split()},
    "SEACCN": {"countries": _SOUTHEAST_ASIA.split()},
    "AMF": {"continents": ["AS"]},
}

#: Words in an organisation's themes that serve a dimension of the model (paper 000's seven dimensions).
DIMENSION_THEMES: dict[str, tuple[str, ...]] = {
    "security": ("peace", "human_rights", "disarmament", "refugees", "crisis", "resilience"),
    "economy": ("invest", "economy", "private_sector", "finance", "tourism", "entrepreneur", "loans"),
    "culture": ("culture", "heritage", "creative", "education", "identity"),
    "networks": ("cooperation", "knowledge", "network", "friendship", "exchange"),
    "representation": ("governance", "democracy", "multilevel", "decentralisation", "branding"),
    "development": (
        "development",
        "sustainable",
        "urban_services",
        "infrastructure",
        "housing",
        "environment",
        "climate",
        "water",
        "liveability",
        "smart",
    ),
    "research": ("knowledge", "science", "monitoring", "research", "innovation", "training", "capacity"),
}


def _scope(org: dict[str, Any]) -> dict[str, list[str]] | None:
    rules = org.get("eligibility") or {}
    if rules.get("countries") or rules.get("continents"):
        return {k: rules[k] for k in ("countries", "continents") if rules.get(k)}
    for key in (org.get("acronym"), org.get("name")):
        if key and key in REGIONAL_SCOPE:
            return REGIONAL_SCOPE[key]
    return None


def eligibility(org: dict[str, Any], country: str, population: float, capital: bool) -> tuple[bool | None, str]:
    """Whether a place may join ``org``: ``(True | False | None (unknown), explanation)``.

    Rules read from ``org["eligibility"]``: ``min_population`` / ``min_urban_area_population`` (either
    suffices, paper 002's wording for Metropolis), ``capitals_only``, and the regional scope.
    """
    rules = org.get("eligibility") or {}
    scope = _scope(org)
    if scope:
        continent = country_info().get(country, {}).get("continent", "")
        inside = country in scope.get("countries", []) or continent in scope.get("continents", [])
        if not inside:
            return False, f"regional body: {country or 'unknown country'} is outside its area"
    if rules.get("capitals_only") and not capital:
        return False, "admits capitals only"
    thresholds = [rules[k] for k in ("min_population", "min_urban_area_population") if rules.get(k)]
    if thresholds:
        low = min(thresholds)
        if math.isnan(population):
            return None, f"population unknown (needs more than {low:,} inhabitants)"
        if population < low:
            return False, f"population {population:,.0f} below its threshold of {low:,}"
        return True, f"population {population:,.0f} meets its threshold of {low:,}"
    return True, "no size rule" if not scope else "inside its regional area"


def recommend_networks(
    city: str,
    *,
    country: str | None = None,
    top: int = 10,
    engine: Engine | None = None,
    graph: RegistryGraph | None = None,
) -> dict[str, Any]:
    """Organisations ``city`` should join, ranked, with components and reasons.

    Returns
    -------
    dict
        ``city``, ``current`` (organisations joined), ``recommendations`` (``organisation``, ``score``,
        ``components`` 0-1 each, ``eligibility``, ``reasons``), ``ineligible`` (with the rule), ``weights``.

    Raises
    ------
    RecommendError
        Unknown city, or ``top < 1``.
    """
    if top < 1:
        raise RecommendError("--top must be at least 1")
    engine = engine or get_engine()
    with session_scope(engine) as session:
        try:
            place = find_place(session, city, country)
        except LookupError as exc:
            raise RecommendError(str(exc)) from exc
        place_id, place_name = place.id, place.name
        dims = latest_dimension_scores(session).get(place_id, {})
        counts: dict[int, int] = {}
        latest = (
            select(MemberCount.organisation_id, func.max(MemberCount.count))
            .where(MemberCount.what == "members")
            .group_by(MemberCount.organisation_id)
        )
        for oid, count in session.execute(latest):
            counts[oid] = int(count)
    graph = graph or load_registry_graph(engine)
    u = graph.index_of(place_id)
    cc, pop, cap = str(graph.countries[u]), float(graph.population[u]), bool(graph.capital[u])
    partners = sorted(
        {int(b) for a, b in graph.edges.tolist() if a == u} | {int(a) for a, b in graph.edges.tolist() if b == u}
    )
    continents = graph.continents()
    logpop = np.log(graph.population)
    peers = np.flatnonzero((continents == continents[u]) & (np.abs(logpop - math.log(pop)) <= math.log(3)))
    peers = peers[peers != u] if not math.isnan(pop) else np.array([], dtype=int)
    members_of: dict[int, set[int]] = {}
    for node, orgs in graph.memberships.items():
        for oid in orgs:
            members_of.setdefault(oid, set()).add(node)
    current = graph.memberships.get(u, {})
    weakest = sorted(dims, key=dims.get)[:3] if dims else []  # type: ignore[arg-type]
    max_reach = math.log1p(max(counts.values(), default=1))
    recs, ineligible = [], []
    for oid, org in sorted(graph.organisations.items()):
        if oid in current or org["kind"] not in JOINABLE_KINDS:
            continue
        label = org["acronym"] or org["name"]
        ok, why = eligibility(org, cc, pop, cap)
        if ok is False:
            ineligible.append({"organisation": label, "name": org["name"], "reason": why})
            continue
        members = members_of.get(oid, set())
        partner_members = [int(p) for p in partners if p in members]
        peer_members = [int(p) for p in peers if p in members]
        scope = _scope(org)
        components = {
            "partners": len(partner_members) / len(partners) if partners else 0.0,
            "peers": len(peer_members) / len(peers) if len(peers) else 0.0,
            "scope": 1.0 if scope else 0.5,
            "reach": math.log1p(counts[oid]) / max_reach if oid in counts and max_reach > 0 else 0.0,
            "themes": 0.0,
        }
        reasons = []
        if partner_members:
            names = ", ".join(str(graph.names[p]) for p in partner_members[:3])
            reasons.append(f"{len(partner_members)} of the city's partners are members: {names}")
        if peer_members:
            reasons.append(f"{len(peer_members)} similar-size cities of the continent are members")
        if scope:
            reasons.append("regional body covering the city's region")
        if oid in counts:
            reasons.append(f"{counts[oid]:,} members")
        themes = [t.lower() for t in org.get("themes") or []]
        served = [d for d in weakest if any(w in t for t in themes for w in DIMENSION_THEMES.get(d, ()))]
        if weakest:
            components["themes"] = len(served) / len(weakest)
        if served:
            reasons.append("themes serve the city's weaker dimensions: " + ", ".join(served))
        elif themes:
            reasons.append("themes: " + ", ".join(themes[:4]))
        reasons.append(why if ok else f"eligibility: {why}")
        score = sum(WEIGHTS[k] * v for k, v in components.items())
        recs.append(
            {
                "organisation": label,
                "name": org["name"],
                "kind": org["kind"],
                "scale": org["scale"],
                "score": round(score, 4),
                "components": {k: round(v, 4) for k, v in components.items()},
                "eligible": ok,
                "reasons": reasons,
            }
        )
    recs.sort(key=lambda r: (-r["score"], r["organisation"]))
    return {
        "city": {
            "place_id": place_id,
            "name": place_name,
            "country_code": cc,
            "population": None if math.isnan(pop) else pop,
            "partners": len(partners),
            "peers": int(len(peers)),
            "weakest_dimensions": weakest,
        },
        "current": sorted(graph.organisations[o]["acronym"] or graph.organisations[o]["name"] for o in current),
        "weights": WEIGHTS,
        "recommendations": recs[:top],
        "ineligible": ineligible,
    }
