"""The catalogue of outcomes an agreement or an activity records, from ``outcomes.yaml``.

Examples
--------
>>> from citydiplomacy.model.outcomes import load_outcomes
>>> load_outcomes()["funds_mobilised"].label("fa")
'منابع مالی جذب\u200cشده'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from citydiplomacy.model.catalogue import DATA_DIR, ModelError

__all__ = ["OUTCOMES_FILE", "OutcomeKind", "load_outcomes"]

OUTCOMES_FILE = DATA_DIR / "outcomes.yaml"


@dataclass(frozen=True)
class OutcomeKind:
    """One entry of the catalogue: its code, names in English and Persian, the unit it is usually counted in."""

    code: str
    name: str
    name_fa: str
    unit: str

    def label(self, lang: str = "en") -> str:
        """The outcome's name in ``lang`` (``fa``: Persian)."""
        return self.name_fa if lang == "fa" else self.name


@cache
def load_outcomes() -> dict[str, OutcomeKind]:
    """The catalogue, code -> :class:`OutcomeKind`, in the file's order.

    Raises
    ------
    ModelError
        An entry without a code or a name in both languages, or a code given twice.
    """
    raw = yaml.safe_load(OUTCOMES_FILE.read_text(encoding="utf-8"))
    out: dict[str, OutcomeKind] = {}
    for i, entry in enumerate(raw.get("outcomes") or [], start=1):
        code, name, name_fa = entry.get("code"), entry.get("name"), entry.get("name_fa")
        if not (code and name and name_fa):
            raise ModelError(f"{OUTCOMES_FILE.name}: outcome {i} needs code, name and name_fa")
        if code in out:
            raise ModelError(f"{OUTCOMES_FILE.name}: outcome code {code!r} given twice")
        out[code] = OutcomeKind(code, name, name_fa, entry.get("unit") or "")
    return out
