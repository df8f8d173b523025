"""The repository's root conftest: this checkout's own fixtures and hooks (``fixtures/``).

Runs from the checkout (the project's tests, ``pytest test_suites``, ``meterbench triage``
from here) load them; an installed meterbench has neither this file nor ``fixtures``.
"""

pytest_plugins = ["fixtures.forward_jsonl"]
