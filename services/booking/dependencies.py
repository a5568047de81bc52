"""Booking's nameko dependencies (none beyond the shared ones yet)."""
