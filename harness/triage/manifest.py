"""Model manifests, now the model catalogue (:mod:`harness.config.catalogue`) under its old names.

A manifest file given with ``--manifest`` is a catalogue file: the same keys, the same
validation, the shipped ``models.yaml`` for the emulated models. These names stay for the
code and the suites that import them.
"""

from __future__ import annotations

from harness.config.catalogue import Catalogue, ModelEntry, load_catalogue

ModelManifest = ModelEntry
"""One model's declared facts (a catalogue entry)."""
Manifests = Catalogue
"""Every model known to this run (the catalogue)."""
load_manifests = load_catalogue
"""The shipped catalogue, or a lab's file; errors name the file and key path."""

__all__ = ["Manifests", "ModelManifest", "load_manifests"]
