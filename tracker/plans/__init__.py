"""The plans area."""
