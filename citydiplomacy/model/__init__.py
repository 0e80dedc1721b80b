"""model capability."""
