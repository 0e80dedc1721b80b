"""CityDiplomacy Observatory: the system of record and analysis workbench for a city's international relations.

Data flows one way: sources -> ``ingest`` -> ``store`` -> ``assess`` / ``network`` / ``strategy`` ->
``report`` / ``web``.
"""

from __future__ import annotations

__all__ = ["__version__"]


def _installed_version() -> str:
    """The version in pyproject.toml, as installed; a marker when imported from a never-installed tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("citydiplomacy")
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> str:
    # Computed on first use (PEP 562): importlib.metadata costs ~40 ms, which `citydip --help` need not pay.
    if name == "__version__":
        globals()["__version__"] = value = _installed_version()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
