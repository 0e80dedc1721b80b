"""CityDiplomacy Observatory: the system of record and analysis workbench for a city's international relations.

Data flows one way: sources -> ``ingest`` -> ``store`` -> ``assess`` / ``network`` / ``strategy`` ->
``report`` / ``web``.
"""

__version__ = "0.1.0"
