"""The operator console: a returns line run from the browser (``meterbench console``).

A Starlette app served by uvicorn: the line at a glance (benches, live by server-sent events),
operator prompts answered in the browser, sign-in with local accounts and the site's roles,
every action in the audit log, and history pages read from the results store in pages.
"""
