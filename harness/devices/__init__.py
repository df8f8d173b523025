"""The device-under-test side: identity, domain vocabularies, device profiles."""
