"""A taxonomy without a name in one language is a 422 naming the label and the field, in
the one error envelope (issue #19: it was a 500 from a TypeError in the renderer)."""

from __future__ import annotations

import copy

import pytest

from factories import TAXONOMY, make_world


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("en", "Label 'gambling' has no name in zh-Hant"),
        ("zh-TW", "標籤「gambling」缺少 zh-Hant 名稱"),
    ],
)
def test_a_label_without_a_zh_hant_name_is_a_422_naming_label_and_field(
    client, session, accept_language, expected
):
    world = make_world(session, n_items=0)
    document = copy.deepcopy(TAXONOMY)
    document["key"] = "no-zh"
    del document["labels"][1]["name"]["zh-Hant"]
    response = client.post(
        "/api/taxonomies",
        json=document,
        headers={
            "Authorization": f"Bearer {world.tokens['admin']}",
            "Accept-Language": accept_language,
        },
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["message_id"] == "errors.taxonomy.label_name_missing"
    assert error["params"]["field"] == "labels[1].name.zh-Hant"
    assert error["params"]["label"] == "gambling"
    assert expected in error["message"] and "labels[1].name.zh-Hant" in error["message"]


def test_a_definition_that_is_not_text_is_a_422(client, session):
    world = make_world(session, n_items=0)
    document = copy.deepcopy(TAXONOMY)
    document["key"] = "bad-definition"
    document["labels"][2]["definition"]["en"] = ["not", "text"]
    response = client.post(
        "/api/taxonomies",
        json=document,
        headers={"Authorization": f"Bearer {world.tokens['admin']}"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["params"]["field"] == "labels[2].definition.en"
    assert "financial_scam" in error["message"]
