"""The admin's taxonomy upload names the label and field of a missing zh-Hant name
(issue #19: the same TypeError as the API and CLI gave a 500 here)."""

from __future__ import annotations

import json

from factories import make_world
from web.web_support import give_passwords, login


def test_taxonomy_upload_without_a_zh_hant_name_says_which_label(client, session):
    world = make_world(session, n_items=0)
    give_passwords(session, world, "admin")
    csrf = login(client, "admin")
    taxonomy = {
        "key": "web-no-zh",
        "version": 1,
        "labels": [
            {"key": "ok", "name": {"en": "OK", "zh-Hant": "可"}},
            {"key": "scam_without_chinese", "name": {"en": "Scam"}},
        ],
    }
    response = client.post(
        "/admin/taxonomies",
        data={"csrf_token": csrf},
        files={"file": ("no-zh.json", json.dumps(taxonomy).encode(), "application/json")},
    )
    assert 400 <= response.status_code < 500, response.status_code
    page = response.text
    assert "scam_without_chinese" in page and "labels[1].name.zh-Hant" in page
    assert "no-zh.json" in page
