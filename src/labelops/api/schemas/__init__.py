"""Request and response schemas (``XCreate`` / ``XUpdate`` / ``XPublic``)."""

__all__: list[str] = []  # submodules are imported by name
