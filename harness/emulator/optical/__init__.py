"""The emulated optical port: an IEC 62056-21 meter engine and the servers that carry it."""
