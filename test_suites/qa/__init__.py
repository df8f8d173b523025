"""QA suites on the Service Request route: collected only when named (see install_uninstall)."""
