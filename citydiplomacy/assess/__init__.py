"""assess capability."""
