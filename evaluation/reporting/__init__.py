"""Helpers that reports use to word, format and draw result tables (no statistics here)."""
