"""Representation of participants against the population margins (issue 17, items 1-2)."""
