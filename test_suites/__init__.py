"""The triage suites: procedures that run unchanged on the emulated bench and a physical one."""
