"""The five-level model of city diplomacy and its catalogues, as versioned, cited data.

See :mod:`citydiplomacy.model.catalogue` for the loader and query API.
"""

from citydiplomacy.model.catalogue import (
    DATA_DIR,
    DIMENSION_CODES,
    SEED_FILES,
    Cite,
    Item,
    Model,
    ModelError,
    clear_cache,
    load_model,
)

__all__ = [
    "DATA_DIR",
    "DIMENSION_CODES",
    "SEED_FILES",
    "Cite",
    "Item",
    "Model",
    "ModelError",
    "clear_cache",
    "load_model",
]
