"""Benchmark: interlocking network connectivity of 20,000 cities x 500 organisations.

Synthetic, seeded memberships (each city in a Poisson(4) number of organisations, organisation
popularity Zipf-like, roles drawn 10 % board/secretariat, 60 % full, 30 % associate/observer), fed
as data frames.  Ours: the role matrix and ``Σ_j v_aj·(colsum_j − v_aj)`` on sparse matrices.
Baseline: the pairwise definition ``Σ_{i≠a} Σ_j v_aj·v_ij`` on a slice of cities (time extrapolated
to all cities), whose values must equal ours.

Run: ``python bench/bench_interlocking.py [--cities 20000] [--orgs 500] [--slice 40]``
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from citydiplomacy.network.graphs import role_matrix
from citydiplomacy.network.interlocking import connectivity, connectivity_pairwise, interlocking_connectivity


def synthetic(cities: int, orgs: int, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    per_city = rng.poisson(4, cities)
    popularity = 1.0 / np.arange(1, orgs + 1) ** 0.8
    popularity /= popularity.sum()
    place = np.repeat(np.arange(cities), per_city)
    org = rng.choice(orgs, size=len(place), p=popularity)
    roles = rng.choice(["board", "secretariat_host", "active", "associate", "observer"], size=len(place),
                       p=[0.07, 0.03, 0.6, 0.2, 0.1])  # fmt: skip
    nodes = pd.DataFrame({"place_id": np.arange(cities), "name": [f"city {i}" for i in range(cities)]})
    organisations = pd.DataFrame({"organisation_id": np.arange(orgs), "name": [f"org {j}" for j in range(orgs)]})
    members = pd.DataFrame({"place_id": place, "organisation_id": org, "role": roles})
    return nodes, organisations, members


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=20_000)
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--slice", type=int, default=40, help="cities computed by the pairwise baseline")
    args = parser.parse_args()

    nodes, orgs, members = synthetic(args.cities, args.orgs)
    print(f"{args.cities:,} cities x {args.orgs:,} organisations, {len(members):,} memberships (seeded)")

    tracemalloc.start()
    t = time.perf_counter()
    frame = interlocking_connectivity(nodes, orgs, members)
    total_s = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    v = role_matrix(nodes, orgs, members)
    t = time.perf_counter()
    conn = connectivity(v)
    core_s = time.perf_counter() - t
    print(f"ours: from frames {total_s:.3f} s (role matrix + connectivity; peak Python memory {peak:.0f} MB), "
          f"connectivity alone {core_s * 1000:.1f} ms")  # fmt: skip

    rows = np.random.default_rng(5).choice(args.cities, size=args.slice, replace=False)
    t = time.perf_counter()
    reference = connectivity_pairwise(v, rows)
    slice_s = time.perf_counter() - t
    baseline_s = slice_s * args.cities / args.slice
    equal = np.allclose(conn[rows], reference, rtol=0, atol=1e-9) and np.allclose(
        frame["connectivity"].to_numpy()[rows], reference
    )
    print(f"baseline (pairwise definition): {args.slice} cities in {slice_s:.2f} s -> "
          f"{baseline_s:,.0f} s for all (extrapolated)")  # fmt: skip
    print(f"RESULT: {total_s:.3f} s (target <= 2 s: {'met' if total_s <= 2 else 'NOT met'}); "
          f"{baseline_s / total_s:,.0f}x faster than the pairwise definition; "
          f"slice values {'equal' if equal else 'DIFFERENT'}")  # fmt: skip
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
