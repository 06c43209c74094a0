"""Server-rendered web workspace (pages over the services)."""
