"""The progress area."""
