"""The audit area."""
