"""Resolve source place mentions (name, country, optional coordinates) to gazetteer entries.

Decisions (documented here because importers rely on them)
-----------------------------------------------------------
* **Coordinates are a hard constraint.**  When a mention has coordinates, only gazetteer places within
  ``max_distance_km`` of them are ever linked; a same-named town farther away is never chosen.
* **Districts.**  ``"Spandau (Berlin)"``, ``"Berlin – Mitte"``, ``"Stari Grad (Sarajevo)"``: the district
  part is looked up first near the parent (GeoNames holds many districts); if found it is linked with
  ``admin_level="district"``.  If the gazetteer lacks the district (``"District 12 (Tehran)"``) the
  mention is linked to the *parent city* with ``admin_level="district"``, ``name`` = the source name,
  ``lat``/``lng`` = the source coordinates (when given) and the parent in ``candidates[0]`` with
  ``"role": "parent"``; importers that want districts as separate places key them on the source name
  plus the parent id.  A parent farther than ``max_distance_km`` from the source coordinates is not used.
* **Areas.**  ``"Unna (district)"``, ``"X County"``: an ISO 3166-2 subdivision of that name wins
  (``status="subdivision"``); otherwise the eponymous town is linked with ``admin_level="region"``.
  UK nations ("Wales, United Kingdom") resolve to their GB-ENG/GB-SCT/GB-WLS/GB-NIR subdivision.
* **Ambiguity.**  Without coordinates, several same-named places of comparable size and no qualifier to
  choose between them give ``status="ambiguous"`` with the candidates (no guess).  One place is chosen
  when it dominates: it is the capital, or at least :data:`DOMINANCE` times as populous as the next.
* **Unknown country.**  ``resolve`` never raises: an unknown country without coordinates gives
  ``status="unresolved"`` and ``candidates=({"reason": "unknown country ..."},)``; with coordinates the
  place is searched near them in any country.
* **Unresolved** mentions keep the source name and coordinates (``gazetteer="source"``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from citydiplomacy import settings
from citydiplomacy.ingest.gazetteer import (
    RELATED_COUNTRIES,
    UK_NATIONS,
    CountryRef,
    Gazetteer,
    get_gazetteer,
)
from citydiplomacy.ingest.normalise import loose_from_key, normalise_name, split_qualifier

__all__ = ["Resolution", "Resolver", "UnknownCountry", "get_gazetteer", "DOMINANCE"]

#: Without coordinates, the most populous candidate is chosen when it has this many times the
#: population of the runner-up (or is the capital); otherwise the mention is ambiguous.
DOMINANCE = 4.0

#: Weight of the population of a candidate matched only through an alternate name (not its own name).
ALT_WEIGHT = 0.3

#: Minimum fuzzy similarity (0-100) of a name to a gazetteer name near the source coordinates.
NEAR_FUZZY_MIN = 80.0

#: Minimum fuzzy similarity (0-100) for a country-wide fuzzy match without coordinates.
FAR_FUZZY_MIN = 95.0

#: Candidates of the same name closer together than this (km) are one place recorded twice.
SAME_PLACE_KM = 15.0

#: A district's main part is looked for within this distance (km) of its parent city.
DISTRICT_RADIUS_KM = 40.0

_AREA_WORDS = {
    "district",
    "county",
    "region",
    "province",
    "municipality",
    "samtgemeinde",
    "verbandsgemeinde",
    "amt",
    "kreis",
    "landkreis",
    "parish",
    "prefecture",
    "oblast",
    "raion",
    "rayon",
    "department",
    "state",
    "canton",
    "commune",
    "borough",
    "governorate",
    "regency",
    "island",
}


# Words that are place names somewhere but never identify the area they appear in.
_GENERIC_WORDS = {
    "lake",
    "lakes",
    "port",
    "west",
    "east",
    "north",
    "south",
    "valley",
    "city",
    "saint",
    "sainte",
    "san",
    "santa",
    "new",
    "greater",
    "upper",
    "lower",
    "hills",
    "bay",
    "beach",
    "island",
    "islands",
    "county",
    "district",
    "coast",
    "central",
    "mount",
    "river",
    "park",
    "shire",
    "town",
    "village",
}


# ISO 3166-2 top-level types naming wide areas (not a town's own municipality).
_WIDE_AREA_TYPES = {
    "province",
    "region",
    "state",
    "department",
    "governorate",
    "administrative region",
    "prefecture",
    "republic",
    "autonomous region",
    "autonomous community",
    "land",
    "voivodship",
    "metropolitan region",
    "regional state",
    "union territory",
    "emirate",
    "oblast",
    "country",
    "territory",
    "nation",
    "autonomous republic",
    "federal territory",
    "capital territory",
    "geographical region",
}


# ISO 3166-2 types that are a town's own municipality (the town is meant, not an area).
_TOWN_LIKE_TYPES = {
    "municipality",
    "urban municipality",
    "local council",
    "commune",
    "city",
    "town",
    "city with county rights",
    "special municipality",
    "quarter",
    "parish",
    "capital city",
    "city municipality",
}


class UnknownCountry(ValueError):
    """A country name that no table recognises (``resolve`` reports it instead of raising)."""


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving one mention.  See the module docstring for the conventions."""

    gazetteer: str
    gazetteer_id: str | None
    name: str
    country_code: str | None
    admin_level: str
    lat: float | None
    lng: float | None
    population: int | None
    is_capital: bool
    score: float
    status: str
    candidates: tuple[dict, ...] = ()
    alt_names: tuple[str, ...] = field(default=(), repr=False)

    @property
    def linked(self) -> bool:
        """True when the mention is linked to a GeoNames entry (status ``resolved``)."""
        return self.status == "resolved" and self.gazetteer == "geonames"


@dataclass
class _Query:
    name: str
    variants: list[str]
    qualifier: str | None
    form: str
    country: CountryRef
    lat: float | None
    lng: float | None
    area: bool


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class Resolver:
    """Resolve place mentions against a :class:`~citydiplomacy.ingest.gazetteer.Gazetteer`.

    Parameters
    ----------
    gazetteer : Gazetteer, optional
        Defaults to the process-wide :func:`get_gazetteer`.
    max_distance_km : float
        With coordinates, linked places lie within this distance (km) of them.
    accept_score : float
        Resolutions scoring below this (0-100) are returned as ``ambiguous`` for review.
    use_coordinates : bool
        When False, coordinates passed to :meth:`resolve` are ignored for matching (they are still
        returned for unresolved mentions).
    """

    def __init__(
        self,
        gazetteer: Gazetteer | None = None,
        *,
        max_distance_km: float = settings.RESOLVE_MAX_DISTANCE_KM,
        accept_score: float = settings.RESOLVE_ACCEPT_SCORE,
        use_coordinates: bool = True,
    ) -> None:
        self.gaz = gazetteer if gazetteer is not None else get_gazetteer()
        self.max_distance_km = float(max_distance_km)
        self.accept_score = float(accept_score)
        self.use_coordinates = use_coordinates
        self._cache: dict[tuple, Resolution] = {}

    # ------------------------------------------------------------------ public
    def resolve(
        self, name: str, country: str | None = None, lat: float | None = None, lng: float | None = None
    ) -> Resolution:
        """Resolve one mention.

        Parameters
        ----------
        name : str
            Source place name, possibly qualified ("Córdoba, Bolívar", "Spandau (Berlin)").
        country : str, optional
            Country in any form (name, ISO2/ISO3, UK nation, "Ohio, United States").
        lat, lng : float, optional
            Source coordinates in degrees.

        Returns
        -------
        Resolution
        """
        key = (name, country, _finite(lat), _finite(lng))
        hit = self._cache.get(key)
        if hit is None:
            try:
                hit = self._resolve(*key)
            except Exception as exc:  # never let one bad row stop an import
                hit = self._unresolved(str(name), None, key[2], key[3], f"error: {exc!r}")
            self._cache[key] = hit
        return hit

    def resolve_many(
        self,
        mentions: Iterable[tuple[str, str | None, float | None, float | None]],
        progress: Callable[[int], None] | None = None,
    ) -> list[Resolution]:
        """Resolve many mentions (each distinct mention once), in input order.

        ``progress`` is called with the number of mentions done so far, every 500 mentions and at the end.
        """
        out: list[Resolution] = []
        for n, (name, country, lat, lng) in enumerate(mentions, 1):
            out.append(self.resolve(name, country, lat, lng))
            if progress is not None and n % 500 == 0:
                progress(n)
        if progress is not None:
            progress(len(out))
        return out

    # ------------------------------------------------------------------ core
    def _parse(self, name: str, country: str | None, lat: float | None, lng: float | None) -> _Query:
        raw = " ".join(str(name).split())
        main, qual, form = split_qualifier(raw)
        area = False
        if qual is not None and normalise_name(qual) in _AREA_WORDS:
            area, qual = True, None
        words = normalise_name(main).split()
        if words and words[-1] in _AREA_WORDS and len(words) > 1:
            area = True
        variants = [raw]
        if main != raw:
            variants.append(main)
        if area and words and words[-1] in _AREA_WORDS and len(words) > 1:
            variants.append(" ".join(words[:-1]))
        ref = self.gaz.parse_country(country)
        if form == "comma" and qual is not None:
            # "Wales, United Kingdom" / "Varna, Bulgaria": the qualifier is the country itself.
            qref = self.gaz.parse_country(qual)
            if qref.code is not None and qref.qualifier is None and ref.code in (None, qref.code):
                ref = CountryRef(qref.code, qref.subdivision or ref.subdivision)
                qual = None
                variants = [main]
        if qual is None and ref.qualifier:
            qual, form = ref.qualifier, "comma"
        if not self.use_coordinates:
            lat = lng = None
        return _Query(raw, variants, qual, form, ref, lat, lng, area)

    def _countries(self, q: _Query) -> list[str | None]:
        cc = q.country.code
        if cc is None:
            return [None]
        return [cc, *RELATED_COUNTRIES.get(cc, ())]

    def _exact(self, q: _Query, variants: list[str]) -> np.ndarray:
        countries = self._countries(q)
        for cc_group in ([countries[0]], countries[1:]):
            found: list[np.ndarray] = []
            for v in variants:
                for cc in cc_group:
                    idx = self.gaz.lookup(v, cc)
                    if len(idx):
                        found.append(idx)
                if found:
                    break  # the full name outranks its main part
            if found:
                return np.unique(np.concatenate(found))
        return np.empty(0, dtype=np.int32)

    def _resolve(self, name: str, country: str | None, lat: float | None, lng: float | None) -> Resolution:
        q = self._parse(name, country, lat, lng)
        has_xy = q.lat is not None and q.lng is not None
        if q.country.code is None and country not in (None, "") and not has_xy:
            return self._unresolved(q.name, None, lat, lng, f"unknown country {country!r}")
        if q.form in ("paren", "dash") and q.qualifier and not q.area:
            res = self._resolve_district(q)
            if res is not None:
                return res
        res = self._resolve_near(q) if has_xy else self._resolve_blind(q)
        if res is not None:
            return res
        sub = self._subdivision(q)
        if sub is not None:
            return sub
        return self._unresolved(q.name, q.country.code, lat, lng, "no gazetteer match")

    # ........................................................ with coordinates
    def _resolve_near(self, q: _Query, variants: list[str] | None = None) -> Resolution | None:
        assert q.lat is not None and q.lng is not None
        variants = variants or q.variants
        idx = self._exact(q, variants)
        if q.country.code is None or not len(idx):
            # Same-named places in any country (e.g. a border town filed under the neighbour).
            any_idx = np.unique(np.concatenate([self.gaz.lookup(v) for v in variants]))
            idx = any_idx if not len(idx) else idx
        if len(idx):
            d = self.gaz.distance_km(idx, q.lat, q.lng)
            ok = d <= self.max_distance_km
            if ok.any():
                idx, d = idx[ok], d[ok]
                # Closest wins, but a much bigger place a little farther away is the likelier referent.
                rank = d / (1.0 + np.log10(self.gaz.population[idx] + 10.0))
                best = int(np.argmin(rank))
                score = 100.0 - 10.0 * float(d[best]) / self.max_distance_km
                return self._resolved(int(idx[best]), score, q, distance=float(d[best]))
        sub = self.gaz.find_subdivision(variants[0], q.country.code) if q.country.code else None
        if sub is not None and sub.type.casefold() not in _TOWN_LIKE_TYPES:
            return None  # an ISO 3166-2 area by that exact name ("Gers", "Nottinghamshire"): not a fuzzy town
        return self._fuzzy_near(q, variants)

    def _fuzzy_near(self, q: _Query, variants: list[str]) -> Resolution | None:
        assert q.lat is not None and q.lng is not None
        near = self.gaz.near(q.lat, q.lng, self.max_distance_km)
        if not len(near):
            return None
        choices: list[str] = []
        owners: list[int] = []
        for i in near:
            i = int(i)
            for raw in {self.gaz.names[i], *self.gaz.alternate_names(i)}:
                key = normalise_name(raw)
                if len(key) > 1:
                    choices.append(key)
                    owners.append(i)
        best: tuple[float, int] | None = None
        for v in variants:
            key = normalise_name(v)
            if len(key) < 3:
                continue
            for scorer in (fuzz.ratio, _token_score):
                hit = process.extractOne(key, choices, scorer=scorer, score_cutoff=NEAR_FUZZY_MIN)
                if hit is not None and (best is None or hit[1] > best[0]):
                    best = (float(hit[1]), owners[hit[2]])
        if best is None or best[0] < 90.0:
            # A weak spelling match ("Greater Geelong" ~ "East Geelong") loses to the town the area is
            # named after ("Geelong").
            part = self._part_near(q, variants, choices, owners)
            if part is not None or best is None:
                return part
        i = best[1]
        d = float(self.gaz.distance_km(i, q.lat, q.lng))
        score = best[0] - 10.0 * d / self.max_distance_km
        return self._resolved(i, max(score, self.accept_score), q, distance=d)

    def _part_near(self, q: _Query, variants: list[str], choices: list[str], owners: list[int]) -> Resolution | None:
        """An area named after a town it contains: "Greater Geelong", "Bega Valley", "Canterbury-Bankstown".

        A nearby place whose whole name is a run of the mention's words (and at least 30 % of its
        letters, not a generic word) is linked with ``admin_level="region"``; the most populous wins.
        """
        assert q.lat is not None and q.lng is not None
        best: tuple[int, int] | None = None
        for v in variants:
            key = normalise_name(v)
            padded = f" {key} "
            if len(key.split()) < 2:
                continue
            for choice, i in zip(choices, owners, strict=True):
                if (
                    len(choice) >= 4
                    and choice not in _GENERIC_WORDS
                    and len(choice) >= 0.3 * len(key)
                    and f" {choice} " in padded
                    and choice != key
                ):
                    pop = int(self.gaz.population[i])
                    if best is None or pop > best[0]:
                        best = (pop, i)
        if best is None:
            return None
        i = best[1]
        d = float(self.gaz.distance_km(i, q.lat, q.lng))
        res = self._resolved(i, 85.0 - 5.0 * d / self.max_distance_km, q, distance=d)
        return _replace(res, admin_level="region")

    # ........................................................ without coordinates
    def _resolve_blind(self, q: _Query) -> Resolution | None:
        idx = self._exact(q, q.variants)
        fuzzy_score = 100.0
        if not len(idx):
            idx, fuzzy_score = self._fuzzy_country(q)
        if not len(idx):
            return None
        if q.qualifier:
            narrowed = self._narrow_by_qualifier(idx, q)
            if len(narrowed):
                idx = narrowed
            else:
                fuzzy_score -= 5.0  # the qualifier could not be confirmed
        if q.country.code is not None and not q.area and self._prefers_subdivision(q, idx):
            return None
        return self._choose(idx, q, fuzzy_score)

    def _prefers_subdivision(self, q: _Query, idx: np.ndarray) -> bool:
        """A bare name equal to a top-level subdivision ("Wales") means the area, not a small town."""
        sub = self.gaz.find_subdivision(q.variants[0], q.country.code)
        if sub is None or sub.parent_code is not None:
            return False
        if sub.code in UK_NATIONS.values():
            return True
        # Municipality-like subdivisions (Slovenia, Malta, North Macedonia...) are the town itself.
        return (
            sub.type.casefold() in _WIDE_AREA_TYPES
            and normalise_name(sub.name) == normalise_name(q.variants[0])
            and int(self.gaz.population[idx].max()) < 20_000
        )

    def _fuzzy_country(self, q: _Query) -> tuple[np.ndarray, float]:
        cc = q.country.code
        if cc is None:
            return np.empty(0, dtype=np.int32), 0.0
        keys = self.gaz.country_keys(cc)
        if not keys:
            return np.empty(0, dtype=np.int32), 0.0
        best: tuple[float, str] | None = None
        for v in q.variants:
            key = normalise_name(v)
            if len(key) < 4:
                continue
            hit = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=FAR_FUZZY_MIN)
            if hit is not None and (best is None or hit[1] > best[0]):
                best = (float(hit[1]), hit[0])
        if best is None:
            return np.empty(0, dtype=np.int32), 0.0
        idx = self.gaz.lookup_key(best[1])
        return idx[self.gaz.country[idx] == cc], best[0]

    def _qualifier_places(self, q: _Query) -> tuple[np.ndarray, set[str]]:
        """Places named like the qualifier, and admin1 codes those places lie in."""
        assert q.qualifier is not None
        countries = [c for c in self._countries(q) if c is not None] or [None]
        found = [self.gaz.lookup(q.qualifier, cc) for cc in countries]
        idx = np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int32)
        return idx, {self.gaz.admin1[int(i)] for i in idx}

    def _narrow_by_qualifier(self, idx: np.ndarray, q: _Query) -> np.ndarray:
        qidx, admin1s = self._qualifier_places(q)
        if not len(qidx):
            return np.empty(0, dtype=np.int32)
        keep = []
        for i in idx:
            i = int(i)
            if self.gaz.admin1[i] in admin1s:
                keep.append(i)
                continue
            if q.form in ("paren", "dash"):
                # A parent city: the place lies near it.
                d = self.gaz.distance_km(qidx, float(self.gaz.lat[i]), float(self.gaz.lng[i]))
                if float(d.min()) <= DISTRICT_RADIUS_KM:
                    keep.append(i)
        return np.asarray(keep, dtype=np.int32)

    def _choose(self, idx: np.ndarray, q: _Query, name_score: float) -> Resolution | None:
        # A place matched through its primary name outranks one matched only through an alternate
        # name ("Dundee" is West Dundee's alternate name): alternate-only matches weigh ALT_WEIGHT.
        wanted = {loose_from_key(normalise_name(v)) for v in q.variants}
        own = [loose_from_key(normalise_name(self.gaz.names[int(i)])) in wanted for i in idx]
        weight = np.where(own, 1.0, ALT_WEIGHT)
        pop = np.maximum(self.gaz.population[idx].astype(float), 1.0) * weight
        order = np.argsort(-pop, kind="stable")
        idx, pop = idx[order], pop[order]
        top = int(idx[0])
        if len(idx) == 1:
            return self._resolved(top, name_score - 5.0, q)
        d = self.gaz.distance_km(idx[1:], float(self.gaz.lat[top]), float(self.gaz.lng[top]))
        others = pop[1:][d > SAME_PLACE_KM]
        runner_up = float(others.max()) if len(others) else 0.0
        capital = bool(self.gaz.is_capital[top])
        if capital or pop[0] >= DOMINANCE * max(runner_up, 1.0):
            margin = 0.0 if runner_up == 0 else min(10.0, 3.0 * math.log10(pop[0] / max(runner_up, 1.0)))
            return self._resolved(top, name_score - 10.0 + margin, q)
        cands = tuple(self._candidate(int(i), name_score) for i in idx[:10])
        return Resolution(
            gazetteer="source",
            gazetteer_id=None,
            name=q.name,
            country_code=q.country.code,
            admin_level="city",
            lat=None,
            lng=None,
            population=None,
            is_capital=False,
            score=float(name_score - 30.0),
            status="ambiguous",
            candidates=cands,
        )

    # ........................................................ districts
    def _resolve_district(self, q: _Query) -> Resolution | None:
        """``main (parent)`` / ``parent – main``: find the district near its parent, else the parent."""
        assert q.qualifier is not None
        # "Vienna 23 – Liesing", "Budapest XX – Pesterzsébet": the parent is the city, not its number.
        parent_name = _strip_numeral(q.qualifier)
        parent_q = _Query(parent_name, [parent_name], None, "plain", q.country, q.lat, q.lng, False)
        main = q.variants[-1]
        has_xy = q.lat is not None and q.lng is not None
        # "Bonn (Bonn)": the qualifier restates the place.
        if normalise_name(main) == normalise_name(q.qualifier):
            sub_q = _Query(main, [main], None, "plain", q.country, q.lat, q.lng, False)
            return self._resolve_near(sub_q) if has_xy else self._resolve_blind(sub_q)
        if normalise_name(_strip_numeral(main)) == normalise_name(parent_name):
            main = ""  # "Prague 6 (Prague)", "Budapest XIII (Budapest)": a numbered district of the parent
        if not main:
            return self._as_district_of(self._resolve_near(parent_q) if has_xy else self._resolve_blind(parent_q), q)
        main_q = _Query(main, [main], None, "plain", q.country, q.lat, q.lng, False)
        if has_xy:
            res = self._resolve_near(main_q)
            if res is not None:
                return _replace(res, admin_level="district")
            parent = self._resolve_near(parent_q)
        else:
            parent = self._resolve_blind(parent_q)
            if parent is not None and parent.status == "resolved":
                # The district itself, if GeoNames has it near the parent.
                idx = self._exact(main_q, main_q.variants)
                if len(idx):
                    pi = self.gaz.index_of(parent.gazetteer_id)  # type: ignore[arg-type]
                    d = self.gaz.distance_km(idx, float(self.gaz.lat[pi]), float(self.gaz.lng[pi]))
                    close = idx[d <= DISTRICT_RADIUS_KM]
                    if len(close):
                        best = int(close[np.argmax(self.gaz.population[close])])
                        res = self._resolved(best, 90.0, q)
                        return _replace(res, admin_level="district")
            elif parent is None:
                # The qualifier is no place ("Oberursel (Taunus)", "Langen (Hessen)"): use the main part.
                area_q = _Query(main, [main], q.qualifier, "paren", q.country, None, None, False)
                res = self._resolve_blind(area_q)
                if res is not None:
                    return res
        return self._as_district_of(parent, q)

    def _as_district_of(self, parent: Resolution | None, q: _Query) -> Resolution | None:
        """The mention as a district of the resolved ``parent`` city (see the module docstring)."""
        if parent is None or parent.status != "resolved" or parent.gazetteer != "geonames":
            return None
        has_xy = q.lat is not None and q.lng is not None
        pi = self.gaz.index_of(parent.gazetteer_id)  # type: ignore[arg-type]
        distance = float(self.gaz.distance_km(int(pi), q.lat, q.lng)) if has_xy else None
        info = self._candidate(int(pi), parent.score, distance)
        info["role"] = "parent"
        return Resolution(
            gazetteer="geonames",
            gazetteer_id=parent.gazetteer_id,
            name=q.name,
            country_code=parent.country_code,
            admin_level="district",
            lat=q.lat if has_xy else parent.lat,
            lng=q.lng if has_xy else parent.lng,
            population=None,
            is_capital=False,
            score=min(parent.score, 90.0),
            status="resolved" if parent.score >= self.accept_score else "ambiguous",
            candidates=(info,),
            alt_names=(),
        )

    # ........................................................ subdivisions & results
    def _subdivision(self, q: _Query) -> Resolution | None:
        cc = q.country.code
        sub = None
        for v in q.variants:
            sub = self.gaz.find_subdivision(v, cc)
            if sub is not None:
                break
        if (
            sub is None
            and q.country.subdivision
            and normalise_name(q.variants[-1])
            in (
                normalise_name(self.gaz.subdivision(q.country.subdivision).name),  # type: ignore[union-attr]
            )
        ):
            sub = self.gaz.subdivision(q.country.subdivision)
        if sub is None:
            return None
        level = "subdivision" if sub.parent_code is None else "region"
        return Resolution(
            gazetteer="iso3166-2",
            gazetteer_id=sub.code,
            name=sub.name,
            country_code=sub.country_code,
            admin_level=level,
            lat=q.lat,
            lng=q.lng,
            population=None,
            is_capital=False,
            score=85.0,
            status="subdivision",
            candidates=({"type": sub.type, "parent_code": sub.parent_code},),
        )

    def _candidate(self, i: int, score: float, distance: float | None = None) -> dict:
        p = self.gaz.place(i)
        return {
            "gazetteer_id": p["gazetteer_id"],
            "name": p["name"],
            "country_code": p["country_code"],
            "lat": p["lat"],
            "lng": p["lng"],
            "population": p["population"],
            "score": round(float(score), 1),
            "distance_km": None if distance is None else round(distance, 2),
        }

    def _resolved(self, i: int, score: float, q: _Query, distance: float | None = None) -> Resolution:
        p = self.gaz.place(i)
        score = float(max(0.0, min(100.0, score)))
        status = "resolved" if score >= self.accept_score else "ambiguous"
        return Resolution(
            gazetteer="geonames",
            gazetteer_id=p["gazetteer_id"],
            name=p["name"],
            country_code=p["country_code"],
            admin_level="region" if q.area else "city",
            lat=p["lat"],
            lng=p["lng"],
            population=p["population"],
            is_capital=p["is_capital"],
            score=round(score, 1),
            status=status,
            candidates=(self._candidate(i, score, distance),),
            alt_names=self.gaz.alternate_names(i),
        )

    def _unresolved(self, name: str, cc: str | None, lat: float | None, lng: float | None, reason: str) -> Resolution:
        return Resolution(
            gazetteer="source",
            gazetteer_id=None,
            name=name,
            country_code=cc,
            admin_level="city",
            lat=_finite(lat),
            lng=_finite(lng),
            population=None,
            is_capital=False,
            score=0.0,
            status="unresolved",
            candidates=({"reason": reason},),
        )


def _token_score(a: str, b: str, *, processor: object = None, score_cutoff: float | None = None) -> float:
    """Similarity for names with extra words: "Heidenheim" ~ "Heidenheim an der Brenz".

    Only the gazetteer name may add words, after the query's (``b`` starts with the words of ``a``), so
    that "District 12 Tehran" does not match "Tehran" nor "Gers" "Montestruc-sur-Gers".  Damped to 92
    so that an exact match outranks it.
    """
    qa, qb = a.split(), b.split()
    # The gazetteer name must start with the query's words ("Gers" is not "Montestruc-sur-Gers").
    s = 92.0 if qa and len(qb) > len(qa) and qb[: len(qa)] == qa else 0.0
    return s if score_cutoff is None or s >= score_cutoff else 0.0


_ROMAN = re.compile(r"^[ivxlc]+$")


def _strip_numeral(name: str) -> str:
    """Drop trailing district numbers: "Vienna 23" -> "Vienna", "Budapest XIII" -> "Budapest"."""
    words = name.split()
    while len(words) > 1 and (words[-1].rstrip(".").isdigit() or _ROMAN.match(words[-1].casefold())):
        words.pop()
    return " ".join(words)


def _replace(res: Resolution, **changes: object) -> Resolution:
    from dataclasses import replace

    return replace(res, **changes)
