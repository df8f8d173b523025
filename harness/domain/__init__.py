"""The domain vocabulary: device types, SMI statuses, roles, EUI-64, fault categories and
their precedence, CH return reasons. No I/O, and imports nothing of meterbench's own.
"""
