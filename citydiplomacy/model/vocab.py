"""Controlled vocabularies of the registry, and the mapping of free text onto them.

The terms follow the five-level model (seed paper 000) and the case-study papers (002, 003).
"""

from __future__ import annotations

import re

from citydiplomacy.core.text import fold

RELATION_KINDS: dict[str, str] = {
    "sister_city": "sister-city agreement",
    "mou": "memorandum of understanding",
    "cooperation_memorandum": "cooperation memorandum",
    "friendship": "friendship (friendly cities)",
    "partnership": "international municipal partnership",
}

#: The lifecycle of an agreement, in order (the changes allowed between them: ``data/agreement_lifecycle.yaml``).
RELATION_STATUSES: dict[str, str] = {
    "proposed": "proposed",
    "in_negotiation": "in negotiation",
    "signed": "signed, not yet in force",
    "active": "in force",
    "dormant": "in force, nothing done under it for long",
    "suspended": "suspended",
    "ended": "ended",
}

MEMBERSHIP_ROLES: dict[str, str] = {
    "founding": "founding member",
    "board": "board / presidency",
    "secretariat_host": "secretariat host",
    "active": "active / full member",
    "associate": "associate member",
    "observer": "observer",
    "honorary": "honorary member",
    "former": "former member",
    "other": "other role (see role_verbatim)",
}

ORGANISATION_KINDS: dict[str, str] = {
    "un_agency": "UN agency",
    "global_network": "global city network",
    "regional_network": "regional city network",
    "forum": "forum",
    "fund": "fund",
    "international_organisation": "other international organisation",
    "public_authority": "public authority (region, province, ministry)",
    "support_organisation": "support organisation (association, energy agency, NGO)",
}

MEMBERSHIP_STATUSES: dict[str, str] = {
    "active": "active",
    "suspended": "suspended (e.g. on hold for not reporting)",
    "ended": "ended",
}

#: How an organisation backs a place's membership (``membership_backer.role``): the Covenant of Mayors'
#: Covenant Supporters and Covenant Coordinators.
BACKER_ROLES: dict[str, str] = {
    "supporter": "supporter (a not-for-profit organisation promoting and supporting the member)",
    "coordinator": "coordinator (a public authority giving guidance, technical and financial support)",
}

#: Facts a source states about a place (``place_fact.code``), for the indicators to read.
PLACE_FACTS: dict[str, str] = {
    "commitment_com2020": "Covenant of Mayors 2020 commitment (1 made, 0 not)",
    "commitment_com2030": "Covenant of Mayors 2030 commitment (1 made, 0 not)",
    "commitment_com2050": "Covenant of Mayors 2050 commitment (1 made, 0 not)",
    "commitment_adaptation": "Mayors Adapt (climate adaptation) commitment (1 made, 0 not)",
    "action_plan_expected": "an own climate action plan is expected (1) or made jointly (0)",
    "population_at_adhesion": "population declared on joining (inhabitants)",
    "missions_hosted": "foreign diplomatic missions (embassies, consulates, …) in the place (count)",
    "mission_sending_countries": "distinct countries with a diplomatic mission in the place (count)",
    "embassies_hosted": "embassies in the place (count)",
    "air_destinations_intl": "distinct places abroad reached by a direct scheduled air route (count)",
    "air_countries": "distinct foreign countries reached by a direct scheduled air route (count)",
}

ACTIVITY_KINDS: dict[str, str] = {
    "visit": "visit",
    "delegation": "delegation",
    "summit_hosted": "summit hosted",
    "exhibition": "exhibition",
    "festival": "festival",
    "sports_event": "sports event",
    "project": "project",
    "award": "award",
    "declaration": "declaration",
    "aid": "aid",
    "ranking": "ranking",
    "office": "office or institution established",
}

DIMENSIONS: dict[str, str] = {
    "security": "urban security",
    "economy": "urban economy",
    "culture": "urban culture",
    "networks": "urban network (cooperation)",
    "representation": "urban representation",
    "development": "urban development",
    "research": "urban research",
}

# Free-text role labels (English, French, Spanish, Persian, ...) -> model role.  Checked in order:
# the first pattern that matches wins, so the specific roles come before the generic "member".
_ROLE_PATTERNS: list[tuple[str, str]] = [
    (r"\b(former|ex|past|withdrawn|left)\b|سابق", "former"),
    (r"secretariat|headquarter|\bhq\b|\bhost\b|دبیرخانه", "secretariat_host"),
    (r"board|presiden|president|chair|vice|executive|bureau|presidium|council member|رئیس|هیئت", "board"),
    (r"found|fondat|fundador|مؤسس|موسس", "founding"),
    (r"honou?r|honorary|افتخاری", "honorary"),
    (r"observ|ناظر", "observer"),
    (r"associat|affiliat|dependent|partner member|وابسته", "associate"),
    (r"^(active|full|ordinary|regular|member|membre|miembro|yes|x|عضو|فعال)", "active"),
    (r"\b(active|full)\b", "active"),
]


# Labels are folded before matching (NFKD drops the hamza of «ئ»/«ؤ»), so the patterns must be folded too.
_ROLE_PATTERNS = [(fold(pattern), role) for pattern, role in _ROLE_PATTERNS]


def map_role(label: str | None) -> tuple[str, bool]:
    """Map a free-text membership role onto the model's roles.

    Returns
    -------
    tuple[str, bool]
        The model role and whether the label was recognised.  An empty label means an active
        member (the usual meaning of a bare membership list); an unrecognised one maps to
        ``other`` with ``False`` so the importer can keep it verbatim and report it.
    """
    if label is None or not label.strip():
        return "active", True
    key = fold(label).replace("_", " ").replace("-", " ")
    if key.replace(" ", "_") in MEMBERSHIP_ROLES:
        return key.replace(" ", "_"), True
    for pattern, role in _ROLE_PATTERNS:
        if re.search(pattern, key):
            return role, True
    return "other", False
