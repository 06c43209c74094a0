"""Use cases. Each public function takes a ``Session`` (and the acting user) and runs
inside one transaction that it opens itself, writing audit events in it."""

__all__: list[str] = []  # submodules are imported by name
