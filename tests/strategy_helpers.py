"""Synthetic registries for the strategy tests: country blocs, geography and preferential ties."""

from __future__ import annotations

import numpy as np

from citydiplomacy.strategy.data import RegistryGraph

#: Country, centre latitude, centre longitude.
COUNTRIES = [
    ("FR", 46.5, 2.5),
    ("DE", 51.0, 10.0),
    ("IT", 42.5, 12.5),
    ("IR", 33.0, 53.0),
    ("TR", 39.0, 35.0),
    ("JP", 36.0, 138.0),
]
#: Country pairs that twin often (both directions).
AFFINITY = {"FR": "DE", "DE": "FR", "IT": "FR", "IR": "TR", "TR": "DE", "JP": "FR"}


def synthetic_graph(n: int = 240, m: int = 520, seed: int = 0) -> RegistryGraph:
    """A registry-like graph: ``n`` places in six countries and ``m`` ties shaped by country affinity,
    size (big cities attract ties) and distance (partners cluster near earlier partners)."""
    rng = np.random.default_rng(seed)
    codes = np.array([c for c, _, _ in COUNTRIES], dtype=object)
    country = rng.integers(0, len(COUNTRIES), n)
    lat = np.array([COUNTRIES[c][1] for c in country]) + rng.normal(0, 2.0, n)
    lng = np.array([COUNTRIES[c][2] for c in country]) + rng.normal(0, 2.0, n)
    population = np.exp(rng.normal(11.0, 1.3, n)).round()
    capital = np.zeros(n, dtype=bool)
    for c in range(len(COUNTRIES)):
        members = np.flatnonzero(country == c)
        capital[members[np.argmax(population[members])]] = True
    by_country = {codes[c]: np.flatnonzero(country == c) for c in range(len(COUNTRIES))}
    edges: set[tuple[int, int]] = set()
    while len(edges) < m:
        u = int(rng.integers(n))
        target = AFFINITY[codes[country[u]]] if rng.random() < 0.75 else codes[rng.integers(len(COUNTRIES))]
        pool = by_country[target]
        weight = population[pool] / population[pool].sum()
        v = int(rng.choice(pool, p=weight))
        if u != v:
            edges.add((min(u, v), max(u, v)))
    return RegistryGraph(
        place_ids=np.arange(1, n + 1, dtype=np.int64),
        names=np.array([f"City{i}" for i in range(n)], dtype=object),
        countries=codes[country],
        lat=lat,
        lng=lng,
        population=population,
        capital=capital,
        edges=np.array(sorted(edges), dtype=np.int64),
    )
