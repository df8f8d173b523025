"""``python -m harness`` runs the meterbench command."""

from harness.cli import main

main()
