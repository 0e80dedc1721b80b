"""Geography: the embedded gazetteer (places, countries, subdivisions), name keys, world regions, distances."""
