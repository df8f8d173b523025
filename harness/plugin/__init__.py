"""harness/plugin"""
