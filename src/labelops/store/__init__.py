"""The system of record: typed models, engine, migrations, queries (no business rules)."""

__all__: list[str] = []  # submodules are imported by name
