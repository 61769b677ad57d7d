"""The org area."""
