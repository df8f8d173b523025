"""Bench files, their models, loading, locking and the Bench object."""
