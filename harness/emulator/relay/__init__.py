"""Emulated relay boards, the twins of ``harness.drivers.relay`` backends.
"""
