"""Triage: the specification, its procedures and verdicts, access control and the audit log."""
