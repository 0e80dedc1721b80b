"""network capability."""
