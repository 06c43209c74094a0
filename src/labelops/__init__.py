"""labelops: ads-integrity labelling operations.

Importing the package does no I/O; everything is built by explicit factories
(``labelops.api.create_app``, ``labelops.store.create_engine_for``).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
