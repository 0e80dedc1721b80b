"""The lifecycle of an agreement: its statuses and the status changes allowed, from ``agreement_lifecycle.yaml``.

The store (:func:`citydiplomacy.store.records.change_status`) refuses any change this table does not list;
the dashboard offers only the allowed ones.  The statuses are exactly the registry's relation statuses
(:data:`citydiplomacy.model.vocab.RELATION_STATUSES`); loading checks that the two agree.

Examples
--------
>>> from citydiplomacy.model.lifecycle import load_lifecycle
>>> lifecycle = load_lifecycle()
>>> lifecycle.allowed("active")
('dormant', 'suspended', 'ended')
>>> lifecycle.allows("ended", "active")
False
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from citydiplomacy.model.catalogue import DATA_DIR, Cite, ModelError
from citydiplomacy.model.vocab import RELATION_STATUSES

__all__ = ["LIFECYCLE_FILE", "Lifecycle", "StatusInfo", "load_lifecycle"]

LIFECYCLE_FILE = DATA_DIR / "agreement_lifecycle.yaml"


@dataclass(frozen=True)
class StatusInfo:
    """One status of the lifecycle: its code, words in both languages, whether it is in force, its citation."""

    code: str
    name: str
    name_fa: str
    description: str
    in_force: bool
    cite: Cite

    def label(self, lang: str = "en") -> str:
        """The status's name in ``lang`` (``fa``: Persian)."""
        return self.name_fa if lang == "fa" else self.name


@dataclass(frozen=True)
class Lifecycle:
    """The statuses (in lifecycle order) and, for each, the statuses it may change to."""

    version: str
    statuses: tuple[StatusInfo, ...]
    transitions: dict[str, tuple[str, ...]]

    def status(self, code: str) -> StatusInfo:
        """The status ``code``.

        Raises
        ------
        KeyError
            An unknown status.
        """
        for info in self.statuses:
            if info.code == code:
                return info
        raise KeyError(f"unknown agreement status {code!r}")

    def allowed(self, current: str) -> tuple[str, ...]:
        """The statuses an agreement in ``current`` may change to (none for an unknown status)."""
        return self.transitions.get(current, ())

    def allows(self, current: str, new: str) -> bool:
        """True when an agreement in ``current`` may change to ``new``."""
        return new in self.allowed(current)


def _problems(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    declared = {s.get("file") for s in data.get("sources") or []}
    codes = [s.get("code") for s in data.get("statuses") or []]
    if set(codes) != set(RELATION_STATUSES) or len(codes) != len(set(codes)):
        problems.append(f"statuses {codes} are not exactly the relation statuses {sorted(RELATION_STATUSES)}")
    for s in data.get("statuses") or []:
        for key in ("name", "name_fa", "description"):
            if not s.get(key):
                problems.append(f"status {s.get('code')}: missing {key}")
        cite = s.get("cite") or {}
        if cite.get("source") not in declared or not cite.get("locator"):
            problems.append(f"status {s.get('code')}: cite needs a declared source and a locator")
    for origin, targets in (data.get("transitions") or {}).items():
        for code in [origin, *(targets or [])]:
            if code not in codes:
                problems.append(f"transition {origin} -> {targets}: unknown status {code!r}")
    return problems


@cache
def load_lifecycle(path: Path = LIFECYCLE_FILE) -> Lifecycle:
    """Read and check the lifecycle table.

    Raises
    ------
    ModelError
        A status that is not a relation status, a transition naming an unknown status, a missing citation.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = _problems(data)
    if problems:
        raise ModelError([f"{path.name}: {p}" for p in problems])
    statuses = tuple(
        StatusInfo(
            code=s["code"],
            name=s["name"],
            name_fa=s["name_fa"],
            description=s["description"],
            in_force=bool(s.get("in_force")),
            cite=Cite(s["cite"]["source"], str(s["cite"]["locator"])),
        )
        for s in data["statuses"]
    )
    transitions = {origin: tuple(targets or ()) for origin, targets in (data.get("transitions") or {}).items()}
    return Lifecycle(version=str(data["version"]), statuses=statuses, transitions=transitions)
