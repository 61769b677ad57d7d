"""Notifications: reminders computed from the data, the in-product notification centre, and outside channels."""
