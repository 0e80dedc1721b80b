"""Interlocking network connectivity of cities through the organisations they belong to.

Taylor's interlocking network model (P. J. Taylor, "Specification of the world city network",
*Geographical Analysis* 33(2), 2001) applied to memberships of city networks: with ``v_aj`` the value
of city a's role in organisation j (:data:`citydiplomacy.settings.ROLE_VALUES`: secretariat host or
board 3, full member 2, associate or observer 1), the interlock of cities a and i is
``r_ai = Σ_j v_aj·v_ij`` and a city's connectivity is

    connectivity(a) = Σ_j Σ_{i≠a} v_aj·v_ij = Σ_j v_aj·(colsum_j − v_aj)

The right-hand form needs one pass over the sparse role matrix, O(cities × organisations) at most
and O(memberships) in practice, instead of the pairwise double sum.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from citydiplomacy.network.graphs import BuildNotes, NetworkInputError, prepare_nodes, role_matrix


def connectivity(values: sparse.sparray | sparse.spmatrix | np.ndarray) -> np.ndarray:
    """Interlocking connectivity of every row (city) of a city × organisation role-value matrix.

    Parameters
    ----------
    values
        ``v_aj`` ≥ 0, shape ``(cities, organisations)``, sparse or dense.

    Returns
    -------
    numpy.ndarray
        Shape ``(cities,)``: ``Σ_j v_aj·(Σ_i v_ij − v_aj)``.
    """
    v = sparse.csr_array(values, dtype=float)
    if v.shape[0] == 0:
        return np.zeros(0)
    if v.nnz and v.data.min() < 0:
        raise NetworkInputError("role values must be non-negative")
    colsum = np.asarray(v.sum(axis=0)).ravel()
    # Σ_j v_aj·colsum_j − Σ_j v_aj²: the city's own share is taken out of each organisation's total.
    return v @ colsum - np.asarray(v.multiply(v).sum(axis=1)).ravel()


def connectivity_pairwise(
    values: sparse.sparray | sparse.spmatrix | np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """The definition, pair by pair: ``Σ_{i≠a} Σ_j v_aj·v_ij`` for each city a in ``rows``.

    Quadratic in the number of cities: the reference for tests and the benchmark's baseline.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(rows),)`` (all cities when ``rows`` is None).
    """
    dense = np.asarray(sparse.csr_array(values, dtype=float).todense())
    rows = np.arange(dense.shape[0]) if rows is None else np.asarray(rows)
    out = np.zeros(len(rows))
    for k, a in enumerate(rows):
        total = 0.0
        for i in range(dense.shape[0]):
            if i != a:
                total += float(dense[a] @ dense[i])
        out[k] = total
    return out


def interlocking_connectivity(
    nodes: pd.DataFrame,
    organisations: pd.DataFrame,
    memberships: pd.DataFrame,
    role_values: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Interlocking connectivity of each place, absolute and relative to the most connected place.

    Parameters
    ----------
    nodes, organisations, memberships
        Frames as described in :mod:`citydiplomacy.network.graphs` (e.g. from
        :func:`~citydiplomacy.network.graphs.load_membership`).
    role_values
        Value of each role (default :data:`citydiplomacy.settings.ROLE_VALUES`); a role absent from
        it is an error, never silently 0.

    Returns
    -------
    pandas.DataFrame
        One row per node in frame order: ``place_id``, ``name``, ``organisations`` (number with a
        non-zero role), ``connectivity``, ``connectivity_rel`` (÷ the maximum; 0 when every city
        has 0).  ``.attrs["notes"]`` holds the :class:`BuildNotes` (duplicate memberships).
    """
    nodes = prepare_nodes(nodes)
    notes = BuildNotes()
    v = role_matrix(nodes, organisations, memberships, role_values, notes)
    conn = connectivity(v)
    top = conn.max() if len(conn) else 0.0
    out = pd.DataFrame(
        {
            "place_id": nodes["place_id"].to_numpy(),
            "name": nodes["name"].to_numpy(),
            "organisations": np.diff(v.indptr).astype(int),
            "connectivity": conn,
            "connectivity_rel": conn / top if top > 0 else np.zeros(len(conn)),
        }
    )
    out.attrs["notes"] = notes
    return out
