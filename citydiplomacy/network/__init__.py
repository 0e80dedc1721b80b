"""Network analytics of sister-city and membership networks.

One module per step: :mod:`.graphs` (frames or registry -> igraph graphs, filters),
:mod:`.regions` (world regions, haversine distances), :mod:`.metrics` (per-city metrics),
:mod:`.communities` (Leiden), :mod:`.interlocking` (Taylor's interlocking connectivity),
:mod:`.twomode` (membership metrics on the place–organisation graph, no projection),
:mod:`.analysis` (a stored run), :mod:`.draw` (ego network and partner map figures),
:mod:`.commands` (``citydip network …``).
"""
