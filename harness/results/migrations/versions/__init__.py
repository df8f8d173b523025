"""One module per schema change of the results store, oldest first (see ``down_revision``)."""
