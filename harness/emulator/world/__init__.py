"""The emulated world: devices, their models, faults, field histories, populations and PKI.

No wire protocol here; the emulated instruments (``harness.emulator.<kind>``) serve it.
"""
