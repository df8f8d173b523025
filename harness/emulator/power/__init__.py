"""Emulated power supplies on the wire, the twins of ``harness.drivers.power`` backends.
"""
