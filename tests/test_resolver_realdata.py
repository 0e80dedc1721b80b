"""The resolver on a sample of the real sister-city file (skips when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from citydiplomacy.geo.gazetteer import get_gazetteer, haversine_km
from citydiplomacy.geo.resolve import Resolver

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def twin_rows() -> pd.DataFrame:
    from citydiplomacy import settings

    path: Path = settings.shared_data_path("twin_cities.csv")
    if not path.exists():
        pytest.skip(f"real data absent: {path}")
    return pd.read_csv(path)


def test_every_country_value_maps(twin_rows: pd.DataFrame) -> None:
    gaz = get_gazetteer()
    values = set(twin_rows["country1"].dropna()) | set(twin_rows["country2"].dropna())
    unmapped = sorted(v for v in values if gaz.parse_country(v).code is None)
    assert unmapped == []


def test_sample_with_coordinates_reaches_the_targets(twin_rows: pd.DataFrame) -> None:
    sample = twin_rows.sample(1000, random_state=7)
    cols = ["name", "country", "lat", "lng"]
    sides = [
        sample[["city1", "country1", "lat1", "lng1"]].set_axis(cols, axis=1),
        sample[["city2", "country2", "lat2", "lng2"]].set_axis(cols, axis=1),
    ]
    places = pd.concat(sides).drop_duplicates(["name", "country"])
    places["country"] = places["country"].astype(object).where(places["country"].notna(), None)
    gaz = get_gazetteer()
    results = Resolver(gaz).resolve_many(
        zip(places["name"], places["country"], places["lat"], places["lng"], strict=True)
    )
    right = wrong = 0
    for res, lat, lng in zip(results, places["lat"], places["lng"], strict=True):
        if res.linked:
            i = gaz.index_of(res.gazetteer_id, res.gazetteer)
            d = float(haversine_km(lat, lng, gaz.lat[i], gaz.lng[i]))
            right += d <= 30.0
            wrong += d > 30.0
    n = len(results)
    assert n > 1500
    assert right / n >= 0.90, f"linked within 30 km: {right / n:.2%}"
    assert wrong / n <= 0.01, f"linked farther: {wrong / n:.2%}"
