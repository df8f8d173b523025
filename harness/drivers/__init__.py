"""Instrument kinds (an abstract base class each) and their backends."""
