"""The emulated world: device models, faults, populations, and the servers that put them on the wire."""
