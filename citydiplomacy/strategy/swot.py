"""SWOT workbench: strengths, weaknesses, opportunities and threats of a city, IFE/EFE matrices, the
SO/ST/WO/WT strategy grid and recommendations linked to the gaps they answer.

Items come from three places, each marked in ``source``:

* ``catalogue`` — paper 003's lists for Tehran (9 weaknesses, 7 strengths, 9 opportunities, 6 threats),
  offered when the city is Tehran (or with ``use_catalogue=True``);
* ``assessment`` — the city's strongest and weakest dimensions of the latest assessment against a peer
  group of the user's choice (default: every assessed place), and its tie count against the peers';
* ``user`` — items an office adds (:func:`add_items`), stored as JSON in an ``analysis_run`` of kind
  ``"swot"`` (one run per change, so the history stays; the latest run of a place holds its items).

IFE (strengths, weaknesses) and EFE (opportunities, threats) matrices: weights sum to 1 in each
matrix (equal unless given), ratings 1-4 (IFE: major weakness 1, minor weakness 2, minor strength 3,
major strength 4; EFE: how well the city responds, 1 poor - 4 superior, default 2), weighted total =
Σ weight × rating (2.5 is the midpoint).  Recommendations are drawn from paper 002's ten solutions and
paper 003's seven recommendations through their ``links`` to weaknesses and threats (editorial links, see
``model/data/strategy.yaml``); assessment-derived gaps link through :data:`DIMENSION_SOLUTIONS`.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from citydiplomacy import settings
from citydiplomacy.core.errors import BadInput
from citydiplomacy.store import runs
from citydiplomacy.store.db import get_engine, session_scope
from citydiplomacy.store.lookup import find_place
from citydiplomacy.store.schema import Relation
from citydiplomacy.strategy.recommend_partners import latest_dimension_scores

KINDS = ("strength", "weakness", "opportunity", "threat")
HEADINGS = {"strength": "Strengths", "weakness": "Weaknesses", "opportunity": "Opportunities", "threat": "Threats"}
INTERNAL, EXTERNAL = ("strength", "weakness"), ("opportunity", "threat")

#: Solutions answering a gap on an assessment dimension (editorial, like the catalogue's links).
DIMENSION_SOLUTIONS: dict[str, tuple[str, ...]] = {
    "networks": ("solution.cooperation_networks", "solution.international_institutions"),
    "economy": ("solution.attracting_investment", "solution.joint_projects"),
    "research": ("solution.training_exchange", "solution.digital_platforms"),
    "development": ("solution.joint_projects", "solution.global_crises"),
    "security": ("solution.global_crises",),
    "representation": ("solution.international_institutions", "solution.specialised_institutions"),
    "culture": ("solution.training_exchange", "solution.cooperation_networks"),
}

#: A dimension is a strength/weakness when it differs from the peers' mean by at least this (0-100 scale).
DIMENSION_MARGIN = settings.SWOT_DIMENSION_MARGIN
WEIGHT_TOLERANCE = 1e-6


class SwotError(BadInput):
    """Bad SWOT input: unknown city or kind, weights not summing to 1, ratings outside 1-4."""


def _item(kind: str, code: str, text: str, source: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "code": code, "text": text, "source": source, **extra}


def stored_items(engine: Engine, place_id: int) -> list[dict[str, Any]]:
    """User-entered items of a place (latest ``swot`` run), oldest first."""
    with session_scope(engine) as session:
        run = runs.latest_run(session, "swot", {"place_id": place_id})
        return list((run.summary or {}).get("items", [])) if run is not None else []


def _normalise_kind(kind: str) -> str:
    key = kind.strip().lower()
    aliases = {
        "strengths": "strength",
        "weaknesses": "weakness",
        "opportunities": "opportunity",
        "threats": "threat",
        "s": "strength",
        "w": "weakness",
        "o": "opportunity",
        "t": "threat",
    }
    key = aliases.get(key, key)
    if key not in KINDS:
        raise SwotError(f"unknown SWOT kind {kind!r}: use strength, weakness, opportunity or threat")
    return key


def new_items(
    existing: list[dict[str, Any]], pairs: list[tuple[str, str]], actor: str = "citydip"
) -> list[dict[str, Any]]:
    """Validated user items for ``(kind, text)`` pairs, coded after ``existing`` (nothing is stored).

    Raises
    ------
    SwotError
        An unknown kind or an empty text (then none of the pairs is accepted).
    """
    out = []
    for i, (kind, text) in enumerate(pairs, 1):
        k = _normalise_kind(kind)
        if not text.strip():
            raise SwotError("a SWOT item needs a text")
        out.append(_item(k, f"user.{k}.{len(existing) + i}", text.strip(), "user", entered_by=actor))
    return out


def add_items(
    city: str,
    items: list[tuple[str, str]],
    *,
    country: str | None = None,
    engine: Engine | None = None,
    actor: str = "citydip",
) -> list[dict[str, Any]]:
    """Store user SWOT items (``(kind, text)`` pairs) for ``city``; return all its user items.

    All items are validated before anything is written, and the new list is written in one transaction.

    Raises
    ------
    SwotError
        Unknown city, unknown kind or empty text.
    """
    engine = engine or get_engine()
    with session_scope(engine) as session:
        try:
            place_id = find_place(session, city, country).id
        except LookupError as exc:
            raise SwotError(str(exc)) from exc
    current = stored_items(engine, place_id)
    current += new_items(current, items, actor)
    with session_scope(engine) as session:
        runs.new_run(session, "swot", {"place_id": place_id}, summary={"items": current}, actor=actor)
    return current


def _catalogue_items() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Paper 003's SWOT items and the recommendation catalogue (solutions + recommendations)."""
    from citydiplomacy.model import load_model

    model = load_model()
    items = []
    for kind in KINDS:
        for it in model.swot(kind):
            items.append(_item(kind, it.code, it.name, "catalogue", cite=f"{it.cite.source} {it.cite.locator}"))
    recs = []
    for it in list(model.solutions) + list(model.swot("recommendation")):
        recs.append(
            {
                "code": it.code,
                "name": it.name,
                "description": it.description,
                "links": list(it.get("links", []) or []),
                "cite": f"{it.cite.source} {it.cite.locator}",
            }
        )
    return items, recs


def _assessment_items(
    engine: Engine, place_id: int, peer_ids: list[int] | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Strength/weakness suggestions from the latest assessment and the tie counts, with notes."""
    notes: list[str] = []
    items: list[dict[str, Any]] = []
    with session_scope(engine) as session:
        dims = latest_dimension_scores(session)
        ties: dict[int, int] = {}
        for a, b in session.execute(select(Relation.place_a_id, Relation.place_b_id)):
            ties[a] = ties.get(a, 0) + 1
            ties[b] = ties.get(b, 0) + 1
    peers = [p for p in (peer_ids if peer_ids is not None else list(dims)) if p != place_id]
    mine = dims.get(place_id)
    if not mine:
        notes.append("no assessment of this city: run `citydip assess CITY` for dimension-based suggestions")
    elif not [p for p in peers if p in dims]:
        notes.append("no assessed peers to compare with")
    else:
        for dim, value in sorted(mine.items()):
            values = [dims[p][dim] for p in peers if p in dims and dim in dims[p]]
            if not values:
                continue
            mean = float(np.mean(values))
            diff = value - mean
            if abs(diff) < DIMENSION_MARGIN:
                continue
            kind = "strength" if diff > 0 else "weakness"
            major = abs(diff) >= 3 * DIMENSION_MARGIN
            word = "Strong" if diff > 0 else "Weak"
            items.append(
                _item(
                    kind,
                    f"assessment.{dim}",
                    f"{word} on urban {dim}: {value:.0f} vs peers' {mean:.0f}",
                    "assessment",
                    dimension=dim,
                    major=major,
                    gap=round(diff, 1),
                )
            )
    if peers:
        peer_ties = [ties.get(p, 0) for p in peers]
        median = float(np.median(peer_ties))
        own = ties.get(place_id, 0)
        if own > 1.5 * median and own - median >= 2:
            items.append(
                _item(
                    "strength",
                    "assessment.ties",
                    f"{own} partner cities vs the peers' median {median:.0f}",
                    "assessment",
                    major=own > 3 * median,
                )
            )
        elif own < 0.5 * median:
            items.append(
                _item(
                    "weakness",
                    "assessment.ties",
                    f"{own} partner cities vs the peers' median {median:.0f}",
                    "assessment",
                    dimension="networks",
                    major=own == 0,
                )
            )
    return items, notes


def _matrix(items: list[dict[str, Any]], kinds: tuple[str, str], weights: dict[str, Any], name: str) -> dict[str, Any]:
    """IFE or EFE matrix over ``items`` of ``kinds``; ``weights`` maps item code -> weight or {weight, rating}."""
    rows = [it for it in items if it["kind"] in kinds]
    if not rows:
        return {"rows": [], "total": None, "weights_sum": 0.0}
    given = {it["code"]: weights[it["code"]] for it in rows if it["code"] in weights}
    w_of = {c: (v["weight"] if isinstance(v, dict) else v) for c, v in given.items()}
    w_of = {c: w for c, w in w_of.items() if w is not None}
    if w_of:
        missing = [it["code"] for it in rows if it["code"] not in w_of]
        if missing:
            raise SwotError(f"{name}: weights given for some items but not for {', '.join(missing[:5])}")
        total_w = sum(float(w) for w in w_of.values())
        if any(float(w) < 0 for w in w_of.values()) or abs(total_w - 1.0) > WEIGHT_TOLERANCE:
            raise SwotError(f"{name} weights must be non-negative and sum to 1; they sum to {total_w:.6g}")
    out = []
    for it in rows:
        w = float(w_of[it["code"]]) if w_of else 1.0 / len(rows)
        spec = given.get(it["code"])
        rating = spec.get("rating") if isinstance(spec, dict) else None
        if rating is None:
            if it["kind"] == "strength":
                rating = 4 if it.get("major") else 3
            elif it["kind"] == "weakness":
                rating = 1 if it.get("major") else 2
            else:
                rating = 2
        if rating not in (1, 2, 3, 4):
            raise SwotError(f"{name}: rating of {it['code']} must be 1, 2, 3 or 4, got {rating!r}")
        out.append(
            {
                "code": it["code"],
                "kind": it["kind"],
                "text": it["text"],
                "weight": w,
                "rating": rating,
                "score": w * rating,
            }
        )
    return {
        "rows": out,
        "total": round(sum(r["score"] for r in out), 4),
        "weights_sum": round(sum(r["weight"] for r in out), 6),
    }


def build_swot(
    city: str,
    *,
    country: str | None = None,
    peers: list[str] | None = None,
    weights: dict[str, Any] | None = None,
    use_catalogue: bool | None = None,
    pending: list[tuple[str, str]] | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """The SWOT workbench of ``city``.

    Parameters
    ----------
    peers
        Names of the peer cities (``"Name"`` or ``"Name:CC"``) for the assessment comparison; default
        every assessed place.
    weights
        Item code -> weight (or ``{"weight": w, "rating": r}``) for the IFE/EFE matrices; each matrix's
        given weights must sum to 1.
    use_catalogue
        Include paper 003's lists (default: only for Tehran).
    pending
        ``(kind, text)`` items not stored yet, included as they would be once stored (so a command can
        validate the whole workbench before writing anything).

    Returns
    -------
    dict
        ``city``, ``items`` (by kind), ``ife`` and ``efe`` (rows, total), ``grid`` (SO/ST/WO/WT
        strategies), ``recommendations`` (catalogue items with the gaps they answer), ``notes``.

    Raises
    ------
    SwotError
        Unknown city or peer, weights not summing to 1, ratings outside 1-4.
    """
    engine = engine or get_engine()
    with session_scope(engine) as session:
        try:
            place = find_place(session, city, country)
            peer_ids = None
            if peers is not None:
                peer_ids = []
                for spec in peers:
                    name, _, cc = spec.partition(":")
                    peer_ids.append(find_place(session, name.strip(), cc.strip() or None).id)
        except LookupError as exc:
            raise SwotError(str(exc)) from exc
        place_id, name, cc = place.id, place.name, place.country_code
    catalogue_items, catalogue_recs = _catalogue_items()
    if use_catalogue is None:
        use_catalogue = name == "Tehran" and cc == "IR"
    items, notes = _assessment_items(engine, place_id, peer_ids)
    if use_catalogue:
        items = catalogue_items + items
    user = stored_items(engine, place_id)
    items += user + new_items(user, pending or [])
    weights = weights or {}
    unknown = set(weights) - {it["code"] for it in items}
    if unknown:
        raise SwotError(f"weights for unknown items: {', '.join(sorted(unknown)[:5])}")
    ife = _matrix(items, INTERNAL, weights, "IFE")
    efe = _matrix(items, EXTERNAL, weights, "EFE")

    present = {it["code"] for it in items}
    gap_dims = {it["dimension"] for it in items if it["kind"] == "weakness" and it.get("dimension")}
    recs = []
    for rec in catalogue_recs:
        answers = [c for c in rec["links"] if c in present]
        answers += [f"assessment.{d}" for d in sorted(gap_dims) if rec["code"] in DIMENSION_SOLUTIONS.get(d, ())]
        if answers:
            recs.append({**rec, "answers": answers})
    recs.sort(key=lambda r: (-len(r["answers"]), r["code"]))
    text = {it["code"]: it["text"] for it in items}
    by_kind = {k: [it for it in items if it["kind"] == k] for k in KINDS}
    grid: dict[str, list[str]] = {"SO": [], "ST": [], "WO": [], "WT": []}
    for s in by_kind["strength"][:3]:
        for o in by_kind["opportunity"][:2]:
            grid["SO"].append(f"Use “{s['text']}” to pursue “{o['text']}”")
        for t in by_kind["threat"][:1]:
            grid["ST"].append(f"Use “{s['text']}” to counter “{t['text']}”")
    for rec in recs:
        weak = [a for a in rec["answers"] if a.startswith(("weakness.", "assessment.", "user.weakness"))]
        threat = [a for a in rec["answers"] if a.startswith(("threat.", "user.threat"))]
        quadrant = "WT" if weak and threat else ("WO" if weak else "ST")
        grid[quadrant].append(f"{rec['name']} — answers " + "; ".join(text.get(a, a) for a in rec["answers"][:3]))
    if not items:
        notes.append("no SWOT items: add some with --add KIND=TEXT, or run an assessment")
    return {
        "city": {
            "place_id": place_id,
            "name": name,
            "country_code": cc,
            "peers": "all assessed places" if peers is None else peers,
        },
        "items": by_kind,
        "ife": ife,
        "efe": efe,
        "grid": grid,
        "recommendations": recs,
        "notes": notes,
    }


def render_markdown(swot: dict[str, Any]) -> str:
    """The workbench as Markdown."""
    c = swot["city"]
    lines = [f"# SWOT — {c['name']} ({c['country_code'] or '?'})", ""]
    for kind in KINDS:
        lines += [f"## {HEADINGS[kind]}", ""]
        lines += [f"- {it['text']} *({it['source']})*" for it in swot["items"][kind]] or ["- —"]
        lines.append("")
    for key, title in (("ife", "IFE matrix"), ("efe", "EFE matrix")):
        m = swot[key]
        lines += [
            f"## {title} (weighted total {m['total']})",
            "",
            "| factor | weight | rating | score |",
            "|---|---|---|---|",
        ]
        lines += [f"| {r['text']} | {r['weight']:.3f} | {r['rating']} | {r['score']:.3f} |" for r in m["rows"]]
        lines.append("")
    lines += ["## Strategy grid", ""]
    for q, entries in swot["grid"].items():
        lines += [f"### {q}", ""] + ([f"- {e}" for e in entries] or ["- —"]) + [""]
    lines += ["## Recommendations", ""]
    lines += [f"- **{r['name']}** — answers {', '.join(r['answers'])} ({r['cite']})" for r in swot["recommendations"]]
    if swot["notes"]:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in swot["notes"]]
    return "\n".join(lines) + "\n"


def render_html(swot: dict[str, Any]) -> str:
    """The workbench as a self-contained HTML page (the Markdown structure, escaped)."""
    c = swot["city"]
    e = html.escape
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>SWOT — {e(c['name'])}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .5em}</style></head><body>",
        f"<h1>SWOT — {e(c['name'])} ({e(c['country_code'] or '?')})</h1>",
    ]
    for kind in KINDS:
        parts.append(f"<h2>{HEADINGS[kind]}</h2><ul>")
        parts += [f"<li>{e(it['text'])} <small>({e(it['source'])})</small></li>" for it in swot["items"][kind]]
        parts.append("</ul>")
    for key, title in (("ife", "IFE matrix"), ("efe", "EFE matrix")):
        m = swot[key]
        parts.append(
            f"<h2>{title} — weighted total {m['total']}</h2><table><tr><th>factor</th><th>weight</th>"
            "<th>rating</th><th>score</th></tr>"
        )
        parts += [
            f"<tr><td>{e(r['text'])}</td><td>{r['weight']:.3f}</td><td>{r['rating']}</td><td>{r['score']:.3f}</td></tr>"
            for r in m["rows"]
        ]
        parts.append("</table>")
    parts.append("<h2>Strategy grid</h2>")
    for q, entries in swot["grid"].items():
        parts.append(f"<h3>{q}</h3><ul>" + "".join(f"<li>{e(x)}</li>" for x in entries) + "</ul>")
    parts.append("<h2>Recommendations</h2><ul>")
    parts += [f"<li><b>{e(r['name'])}</b> — answers {e(', '.join(r['answers']))}</li>" for r in swot["recommendations"]]
    parts.append("</ul>" + "".join(f"<p><i>{e(n)}</i></p>" for n in swot["notes"]) + "</body></html>")
    return "\n".join(parts)


def write_swot(swot: dict[str, Any], path: str | Path) -> Path:
    """Write the workbench to ``path`` (.json, .md or .html) atomically: a failure leaves no partial file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        body = json.dumps(swot, ensure_ascii=False, indent=2, default=str)
    elif suffix in (".md", ".markdown"):
        body = render_markdown(swot)
    elif suffix in (".html", ".htm"):
        body = render_html(swot)
    else:
        raise SwotError(f"unknown output format {suffix or '(none)'}: use .json, .md or .html")
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
