"""Pure codecs: framing, checksums, parsing and encoding, with no I/O."""
