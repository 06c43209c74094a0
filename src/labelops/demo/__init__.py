"""Self-contained demo content for ``labelops demo``: an ads-policy taxonomy and ad items.

Pure: generates plain objects; the demo command seeds the database through services.
"""

from __future__ import annotations

__all__ = ["LABEL_SHARES", "DemoItem", "generate_demo_items", "load_demo_taxonomy"]

from labelops.demo.generator import LABEL_SHARES, DemoItem, generate_demo_items, load_demo_taxonomy
