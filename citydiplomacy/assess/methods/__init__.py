"""One module per step of the Handbook workflow: denominate, impute, treat, normalise, weight, aggregate.

Every function takes and returns plain pandas/numpy objects (units as rows, indicator codes as columns)
so that the pipeline, the Monte Carlo engine and the tests share exactly the same arithmetic.
"""
