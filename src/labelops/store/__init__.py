"""The system of record: typed models, engine, migrations, queries (no business rules)."""
