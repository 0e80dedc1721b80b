"""Jobs: the long analyses (network metrics, the assessment) run one at a time, recorded in the database."""
