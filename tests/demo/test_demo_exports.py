"""The declared public surface of labelops.demo."""

from __future__ import annotations

import labelops.demo


def test_public_names() -> None:
    assert sorted(labelops.demo.__all__) == [
        "DemoItem",
        "LABEL_SHARES",
        "generate_demo_items",
        "load_demo_taxonomy",
    ]
