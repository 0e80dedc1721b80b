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
* **Coordinates vs stated country.**  Source files carry geocoding errors ("Perth, Scotland" with the
  coordinates of Perth, Western Australia).  When the place found near the coordinates lies in a country
  the stated one does not cover (:func:`~citydiplomacy.geo.gazetteer.countries_compatible`: the same
  code, a territory of the stated sovereign -- "Macau, China" -> MO, "Réunion, France" -> RE -- or a
  contested pair such as EH/MA, PS/IL, XK/RS) and the stated country has a place of that exact or
  alternate name, the mention is ``ambiguous`` with candidates [the same-country places, the place near
  the coordinates], each with a ``reason``; nothing is guessed.  When the stated country has no such
  place the coordinates win (the country text may be the error), but only for a place whose own
  GeoNames name is the mention's: a foreign place bearing it only as an alias or part ("Nagylak,
  Hungary" -> Nădlac, Romania) is not forced on it (``ambiguous``, one candidate).
* **Long and merged names** (with coordinates, when nothing else matched): a locating qualifier is
  dropped ("Weiden in der Oberpfalz" -> Weiden), a merged municipality links one of the towns it is
  named after within :data:`REDUCED_RADIUS_KM` (``admin_level="region"``: "Oadby and Wigston",
  "Vire-Normandie"), a post-Soviet district its eponymous centre ("Suoyarvsky District" -> Suoyarvi,
  region).  Only a place whose own name is the reduced form is accepted; saint names, generic words and
  districts named after no town ("Leninsky District") are never reduced.
* **Ambiguity.**  Without coordinates, several same-named places of comparable size and no qualifier to
  choose between them give ``status="ambiguous"`` with the candidates (no guess).  One place is chosen
  when it dominates: it is the capital, or at least :data:`DOMINANCE` times as populous as the next.
* **Unknown country.**  ``resolve`` never raises: an unknown country without coordinates gives
  ``status="unresolved"`` and ``candidates=({"reason": "unknown country ..."},)``; with coordinates the
  place is searched near them in any country.
* **Units of the second source.**  Entries of the countries-states-cities database
  (``gazetteer="csc"``, see :mod:`citydiplomacy.geo.gazetteer`) have no population (0): among same-named
  places GeoNames' populated towns dominate them.  An entry flagged a unit (county, rayon, commune,
  "Politischer Bezirk Feldkirch") is linked for an area mention ("Feldkirch District",
  ``admin_level="region"``), or when no town of the name is at hand; a bare "Feldkirch" is the town.
  A name that is an ISO 3166-2 subdivision (including the database's English state names, "Gyeonggi
  Province") and no place's exact name resolves to the subdivision, never to a fuzzy town.
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
from citydiplomacy.core.errors import BadInput
from citydiplomacy.geo.gazetteer import (
    PLACE_GAZETTEERS,
    RELATED_COUNTRIES,
    UK_NATIONS,
    CountryRef,
    Gazetteer,
    compatible_countries,
    countries_compatible,
    get_gazetteer,
)
from citydiplomacy.geo.names import loose_from_key, normalise_name, split_qualifier

__all__ = ["Resolution", "Resolver", "UnknownCountry", "get_gazetteer", "DOMINANCE", "reduced_forms", "raion_stems"]

# The resolver's thresholds are tunables of the settings module (short names kept for this module's code).
DOMINANCE = settings.RESOLVE_DOMINANCE
ALT_WEIGHT = settings.RESOLVE_ALT_WEIGHT
NEAR_FUZZY_MIN = settings.RESOLVE_NEAR_FUZZY_MIN
FAR_FUZZY_MIN = settings.RESOLVE_FAR_FUZZY_MIN
CONFLICT_CANDIDATES = settings.RESOLVE_CONFLICT_CANDIDATES
SAME_PLACE_KM = settings.RESOLVE_SAME_PLACE_KM
DISTRICT_RADIUS_KM = settings.RESOLVE_DISTRICT_RADIUS_KM

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


class UnknownCountry(BadInput):
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
    #: The linked entry's Wikidata id ("Q18459"), when the gazetteer knows it.
    wikidata_id: str | None = None

    @property
    def linked(self) -> bool:
        """True when the mention is linked to a gazetteer entry (GeoNames or CSC, status ``resolved``)."""
        return self.status == "resolved" and self.gazetteer in PLACE_GAZETTEERS


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
    """Resolve place mentions against a :class:`~citydiplomacy.geo.gazetteer.Gazetteer`.

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

    def entry_resolution(self, i: int, score: float = 100.0) -> Resolution:
        """The resolution linking gazetteer entry ``i`` itself (a source named it by its Wikidata id, say)."""
        q = _Query(self.gaz.names[i], [self.gaz.names[i]], None, "plain", CountryRef(str(self.gaz.country[i])),
                   None, None, False)  # fmt: skip
        return self._resolved(i, score, q)

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
        res = None
        if q.form in ("paren", "dash") and q.qualifier and not q.area:
            res = self._resolve_district(q)
        if res is None:
            res = self._resolve_near(q) if has_xy else self._resolve_blind(q)
        if res is not None:
            return self._check_country(q, res) if has_xy else res
        sub = self._subdivision(q)
        if sub is not None:
            return sub
        return self._unresolved(q.name, q.country.code, lat, lng, "no gazetteer match")

    # ........................................................ with coordinates
    def _resolve_near(self, q: _Query, variants: list[str] | None = None) -> Resolution | None:
        assert q.lat is not None and q.lng is not None
        variants = variants or q.variants
        idx = self._exact(q, variants)
        stated_has_name = q.country.code is not None and len(idx) > 0
        if q.country.code is None or not len(idx):
            # Same-named places in any country (e.g. a border town filed under the neighbour).
            idx = self._lookup_any(variants)
        res = self._nearest_of(idx, q)
        if res is not None:
            return res
        if stated_has_name:
            # The stated country has the name, only not near the coordinates: a same-named place near
            # them abroad means that country and coordinates conflict (settled by _check_country).
            res = self._nearest_of(self._lookup_any(variants), q)
            if res is not None:
                return res
        sub = self.gaz.find_subdivision(variants[0], q.country.code) if q.country.code else None
        if sub is not None and sub.type.casefold() not in _TOWN_LIKE_TYPES:
            return None  # an ISO 3166-2 area by that exact name ("Gers", "Nottinghamshire"): not a fuzzy town
        res = self._fuzzy_near(q, variants)
        if res is None:
            res = self._reduced_near(q, variants)
        return res

    def _lookup_any(self, variants: list[str]) -> np.ndarray:
        return np.unique(np.concatenate([self.gaz.lookup(v) for v in variants]))

    def _nearest_of(self, idx: np.ndarray, q: _Query) -> Resolution | None:
        """The likeliest of places ``idx`` within ``max_distance_km`` of the coordinates, if any."""
        assert q.lat is not None and q.lng is not None
        if not len(idx):
            return None
        d = self.gaz.distance_km(idx, q.lat, q.lng)
        ok = d <= self.max_distance_km
        if not ok.any():
            return None
        idx, d = idx[ok], d[ok]
        idx, d = self._units_for_areas(idx, q, d)
        # Closest wins, but a much bigger place a little farther away is the likelier referent.
        rank = d / (1.0 + np.log10(self.gaz.population[idx] + 10.0))
        best = int(np.argmin(rank))
        score = 100.0 - 10.0 * float(d[best]) / self.max_distance_km
        return self._resolved(int(idx[best]), score, q, distance=float(d[best]))

    def _units_for_areas(self, idx: np.ndarray, q: _Query, *more: np.ndarray) -> tuple[np.ndarray, ...]:
        """Keep the units among ``idx`` for an area mention, the towns otherwise (when both are there).

        ``more`` are arrays aligned with ``idx``, filtered alike.
        """
        unit = self.gaz.is_unit[idx]
        keep = unit if q.area else ~unit
        if keep.all() or not keep.any():
            return (idx, *more)
        return (idx[keep], *(m[keep] for m in more))

    # ........................................................ long forms, districts, merged municipalities
    def _reduced_near(self, q: _Query, variants: list[str]) -> Resolution | None:
        """Names longer than the gazetteer's: try the forms of :func:`reduced_forms` near the coordinates.

        Only a place whose OWN GeoNames name is the reduced form, within :data:`REDUCED_RADIUS_KM`
        of the coordinates, is accepted ("Weiden in der Oberpfalz" -> Weiden, "Oadby and Wigston" ->
        Oadby as a region); Russian-style districts ("Suoyarvsky District") go to their eponymous
        centre (:meth:`_raion_near`).
        """
        assert q.lat is not None and q.lng is not None
        raion = self._raion_near(q, q.name)
        if raion is not None:
            return raion
        main = variants[-1]
        merged_area = q.country.code is not None and self.gaz.find_subdivision(main, q.country.code) is not None
        for kind, forms in reduced_forms(main):
            if kind == "parts" and merged_area:
                continue  # "Miren-Kostanjevica" is an ISO 3166-2 municipality: the area itself wins
            best: tuple[int, int, float] | None = None
            for form in forms:
                key = loose_from_key(normalise_name(form))
                for i in self._lookup_any([form]):
                    i = int(i)
                    if loose_from_key(normalise_name(self.gaz.names[i])) != key:
                        continue  # an alias only ("Winkel" as another town's old name)
                    if q.country.code and not countries_compatible(q.country.code, str(self.gaz.country[i])):
                        continue
                    d = float(self.gaz.distance_km(i, q.lat, q.lng))
                    if d <= REDUCED_RADIUS_KM and (best is None or self.gaz.population[i] > best[0]):
                        best = (int(self.gaz.population[i]), i, d)
            if best is not None:
                _, i, d = best
                res = self._resolved(i, 90.0 - 5.0 * d / REDUCED_RADIUS_KM, q, distance=d)
                return _replace(res, admin_level="region") if kind == "parts" else res
        return None

    def _raion_near(self, q: _Query, main: str) -> Resolution | None:
        """ "Suoyarvsky District" -> Suoyarvi: a post-Soviet district named after its centre town."""
        assert q.lat is not None and q.lng is not None
        if q.country.code not in _RAION_COUNTRIES:
            return None
        stems = raion_stems(main)
        if not stems:
            return None
        best: tuple[int, int, float] | None = None
        for i in self.gaz.near(q.lat, q.lng, self.max_distance_km):
            i = int(i)
            for raw in (self.gaz.names[i], *self.gaz.alternate_names(i)):
                key = loose_from_key(normalise_name(raw))
                if any(key.startswith(st) and len(key) <= len(st) + 4 for st in stems):
                    if best is None or self.gaz.population[i] > best[0]:
                        d = float(self.gaz.distance_km(i, q.lat, q.lng))
                        best = (int(self.gaz.population[i]), i, d)
                    break
        if best is None:
            return None
        _, i, d = best
        res = self._resolved(i, 85.0 - 5.0 * d / self.max_distance_km, q, distance=d)
        return _replace(res, admin_level="region")

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
            if q.country.code and any(self.gaz.find_subdivision(v, q.country.code) for v in q.variants):
                return None  # a subdivision's name and no place's ("Gyeonggi Province"): not a fuzzy town
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
        (idx,) = self._units_for_areas(idx, q)
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
        # Namesakes all within SAME_PLACE_KM of the top are one place (a GeoNames town of unknown population
        # and its CSC municipality, Pendik): settled, whatever their populations.
        if capital or not len(others) or pop[0] >= DOMINANCE * max(runner_up, 1.0):
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
                    pi = self.gaz.index_of(parent.gazetteer_id, parent.gazetteer)  # type: ignore[arg-type]
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
        if parent is None or not parent.linked:
            return None
        has_xy = q.lat is not None and q.lng is not None
        pi = self.gaz.index_of(parent.gazetteer_id, parent.gazetteer)  # type: ignore[arg-type]
        distance = float(self.gaz.distance_km(int(pi), q.lat, q.lng)) if has_xy else None
        info = self._candidate(int(pi), parent.score, distance)
        info["role"] = "parent"
        return Resolution(
            gazetteer=parent.gazetteer,
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

    # ........................................................ coordinates vs country
    def _check_country(self, q: _Query, res: Resolution) -> Resolution:
        """Do not let the coordinates overrule the stated country when that country has the name.

        The source file has geocoding errors ("Perth, Scotland" with the coordinates of Perth, Western
        Australia).  When the place found near the coordinates lies in a country that the stated one
        does not cover (:func:`~citydiplomacy.geo.gazetteer.countries_compatible`) and the stated
        country has a place of that exact (or alternate) name, the mention is ``ambiguous`` with both
        readings as candidates.  When the stated country has no such place, the coordinates win: the
        country text may be the error (a twin filed under its partner's country).
        """
        cc = q.country.code
        if cc is None or res.gazetteer not in PLACE_GAZETTEERS or res.country_code is None:
            return res
        if countries_compatible(cc, res.country_code):
            return res
        assert q.lat is not None and q.lng is not None
        allowed = compatible_countries(cc)
        same: np.ndarray = np.empty(0, dtype=np.int32)
        for v in q.variants:
            found = [self.gaz.lookup(v, c) for c in allowed]
            same = np.unique(np.concatenate(found))
            if len(same):
                break  # the full name outranks its main part
        if not len(same):
            ni = self.gaz.index_of(res.gazetteer_id, res.gazetteer)  # type: ignore[arg-type]
            if self._named_as(q, int(ni)):
                return res
            # Only a spelling, alternate-name or partial match across the border ("Nagylak, Hungary"
            # -> Nădlac, Romania; "Limerick Township, United States" -> Limerick, Ireland): the
            # gazetteer lacks the stated place; do not force the foreign one on it.
            near = self._candidate(int(ni), res.score, float(self.gaz.distance_km(int(ni), q.lat, q.lng)))
            near["reason"] = (
                f"near the coordinates, but in {res.country_code}, not the stated {cc}, and named differently"
            )
            return _replace(
                res,
                gazetteer="source",
                gazetteer_id=None,
                name=q.name,
                country_code=cc,
                lat=q.lat,
                lng=q.lng,
                population=None,
                is_capital=False,
                score=min(res.score, 50.0),
                status="ambiguous",
                candidates=(near,),
                alt_names=(),
            )
        # Places bearing the name as their own before those bearing it as an alias, then by size.
        own = np.array([self._named_as(q, int(i)) for i in same], dtype=bool)
        order = np.lexsort((-self.gaz.population[same], ~own))
        same = same[order][:CONFLICT_CANDIDATES]
        d_same = self.gaz.distance_km(same, q.lat, q.lng)
        cands = []
        for i, d in zip(same, d_same, strict=True):
            c = self._candidate(int(i), 60.0, float(d))
            c["reason"] = "name+country match; coordinates point elsewhere"
            cands.append(c)
        ni = self.gaz.index_of(res.gazetteer_id, res.gazetteer)  # type: ignore[arg-type]
        near = self._candidate(int(ni), res.score, float(self.gaz.distance_km(int(ni), q.lat, q.lng)))
        near["reason"] = f"near the coordinates, but in {res.country_code}, not the stated {cc}"
        cands.append(near)
        return Resolution(
            gazetteer="source",
            gazetteer_id=None,
            name=q.name,
            country_code=cc,
            admin_level=res.admin_level,
            lat=q.lat,
            lng=q.lng,
            population=None,
            is_capital=False,
            score=50.0,
            status="ambiguous",
            candidates=tuple(cands),
        )

    def _named_as(self, q: _Query, i: int) -> bool:
        """Place ``i``'s own GeoNames name is the mention's name (or its parent's), not just an alias."""
        own = loose_from_key(normalise_name(self.gaz.names[i]))
        names = [*q.variants, *([q.qualifier] if q.qualifier else [])]
        return any(loose_from_key(normalise_name(v)) == own for v in names)

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
            "gazetteer": p["gazetteer"],
            "gazetteer_id": p["gazetteer_id"],
            "wikidata_id": p["wikidata_id"],
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
            gazetteer=p["gazetteer"],
            gazetteer_id=p["gazetteer_id"],
            name=p["name"],
            country_code=p["country_code"],
            admin_level="region" if q.area or p["is_unit"] else "city",
            lat=p["lat"],
            lng=p["lng"],
            population=p["population"],
            is_capital=p["is_capital"],
            score=round(score, 1),
            status=status,
            candidates=(self._candidate(i, score, distance),),
            alt_names=self.gaz.alternate_names(i),
            wikidata_id=p["wikidata_id"],
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


REDUCED_RADIUS_KM = settings.RESOLVE_REDUCED_RADIUS_KM

# Lower-case words that start a locating qualifier: "Waren an der Müritz", "Zell am See", "Évry-sur-Seine".
_QUALIFIER_WORDS = {
    "an", "am", "im", "in", "ob", "bei", "auf", "upon", "on", "sur", "sous", "les", "lès", "en", "de",
    "del", "della", "di", "du", "des", "la", "le", "nad", "pod", "na", "i", "op", "aan", "d", "l",
}  # fmt: skip

# Locating qualifiers after a town's own name; "in" only as "in der/dem/den".
_HEAD_QUALIFIERS = {"an", "am", "im", "in", "ob", "bei", "auf", "upon", "on"}
_ARTICLES = {"der", "dem", "den", "die", "the"}

# Lower-case words joining the towns a merged municipality is named after.
_JOINERS = {"and", "og", "och", "en", "und", "et", "y", "e", "&"}

# Name parts too common to identify a town on their own.
_WEAK_PARTS = _GENERIC_WORDS | {
    "sankt", "saint", "sainte", "st", "ste", "santo", "sao", "bad", "mont", "val", "vale", "little",
    "great", "nieder", "ober", "unter", "alt", "neu", "klein", "gross", "groß", "markt", "dorf",
    "normandie", "bretagne", "vercors", "valley", "beit", "kfar", "ben", "tel",
}  # fmt: skip

_RAION_COUNTRIES = {"RU", "BY", "UA", "KZ", "KG"}
_RAION = re.compile(
    r"^(?P<adj>[a-z]{3,}?)(?:skiy|skii|skoy|skoi|sky|ski|sk)\s+(?:district|raion|rayon|municipal district)$"
)
# District adjectives that name no town: "Leninsky District", "Sovetsky District", "Tsentralny".
_SOVIET_STEMS = (
    "lenin", "sovet", "oktyabr", "kirov", "pervomay", "zavod", "tsentral", "krasnoarmey", "frunzen",
    "kalinin", "sverdlov", "kuybyshev", "dzerzhin", "ordzhonikidze", "proletar", "kommun", "zheleznodor",
    "promyshlen", "industrial", "moskov", "primor", "vostoch", "zapad", "sever", "yuzh", "komintern",
    "avtozavod", "kras", "molodezh", "pushkin", "gorkov", "chkalov", "kuibyshev", "sovetsk", "tsentr",
)  # fmt: skip


def raion_stems(name: str) -> list[str]:
    """Stems of the town a post-Soviet district adjective is formed from (empty when not one).

    "Suoyarvsky District" -> ["suoyarv"]; "Slantsevsky District" -> ["slantsev", "slants"];
    "Leninsky District" -> [] (named after no town).
    """
    m = _RAION.match(normalise_name(name))
    if m is None:
        return []
    adj = m.group("adj")
    if adj.startswith(_SOVIET_STEMS):
        return []
    stems = [adj]
    for suffix in ("yov", "yev", "ov", "ev", "in", "en"):
        if adj.endswith(suffix) and len(adj) - len(suffix) >= 4:
            stems.append(adj[: -len(suffix)])
            break
    return [s for s in stems if len(s) >= 4]


def reduced_forms(name: str) -> list[tuple[str, list[str]]]:
    """Shorter forms of a long place name, as ``(kind, forms)`` pairs, most specific first.

    * ``("head", [...])``: the name without a locating qualifier ("Weiden in der Oberpfalz" ->
      "Weiden", "Waren an der Müritz" -> "Waren") -- the same town;
    * ``("parts", [...])``: the towns a merged municipality is named after ("Oadby and Wigston",
      "Vire-Normandie", "Mook en Middelaar", "Cubjac-Auvézère-Val d'Ans") -- one of its parts.

    Generic or too short parts ("Saint", "Port", "Bad", "Val") are never offered.
    """
    words = " ".join(str(name).split()).replace("’", "'").split(" ")
    out: list[tuple[str, list[str]]] = []
    # "X an der Y", "X im Y" (German/English locating qualifiers): the head before them.
    for k in range(1, len(words) - 1):
        if words[k] in _HEAD_QUALIFIERS:
            j = k + 1
            while j < len(words) - 1 and words[j] in _ARTICLES:
                j += 1
            if words[k] == "in" and j == k + 1:
                break  # Italian/Spanish "San Lorenzo in Campo" is a name of its own
            head = " ".join(words[:k])
            if words[j][:1].isupper() and _strong(head) and _first_word(head) not in _WEAK_PARTS:
                out.append(("head", [head]))
            break
    # Merged municipalities: split on joiners, dashes and hyphens; cut each part at a qualifier word.
    text = " ".join(words)
    text = re.sub(r"-(?:" + "|".join(sorted(_QUALIFIER_WORDS)) + r")-.*$", "", text)  # "-sur-Yerre"
    text = re.sub(r"\s+(?:an der|in der|ob der|am|im|an|bei|upon|on)\s+.*$", "", text)
    parts = [p.strip(" '") for p in re.split(r"\s+(?:and|og|och|en|und|&)\s+|\s*[–—/]\s*|-(?:et-)?", text)]
    parts = [p for p in parts if p]
    # "Saint-Raphaël", "Port-Jérôme": a saint's or generic first word makes one name, not a merger.
    if len(parts) >= 2 and _first_word(parts[0]) not in _WEAK_PARTS:
        whole = normalise_name(text)  # a part that is the whole name once normalised (a control character cut off)
        strong = [p for p in parts if p[:1].isupper() and _strong(p) and normalise_name(p) != whole]
        if strong:
            out.append(("parts", strong))
    return out


def _first_word(text: str) -> str:
    words = normalise_name(text).split()
    return words[0] if words else ""


def _strong(part: str) -> bool:
    key = normalise_name(part)
    return len(key.replace(" ", "")) >= 4 and key not in _WEAK_PARTS and _first_word(key) not in {"d", "l"}


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
