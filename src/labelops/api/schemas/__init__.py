"""Request and response schemas (``XCreate`` / ``XUpdate`` / ``XPublic``)."""
