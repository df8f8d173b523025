"""The emulated world: device models, faults, populations, and the servers on the wire."""
