"""Measured experiments run in-process on the driver (no Ray): each writes a docs page."""
