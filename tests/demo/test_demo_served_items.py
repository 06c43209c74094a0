"""The demo's items do not give their answer away (issue #19: ``metadata.template`` held
``<true label>/<language>/<n>`` and ``GET /api/projects/{id}/next`` showed it)."""

from __future__ import annotations

import json

from labelops.demo import generate_demo_items, load_demo_taxonomy
from labelops.services import directory
from labelops.services.demo import VENDOR_B, seed_demo
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import Vendor
from labelops.types import Role

N_ITEMS = 200
NEXT = "/api/projects/{project_id}/next"


def _next_method(client) -> str:
    """The method the app serves the next task with (POST, or GET where it still is)."""
    methods: set[str] = set()
    for route in client.app.routes:
        if getattr(route, "path", None) == "/api/projects/{project_id}/next":
            methods |= set(getattr(route, "methods", None) or ())
    return "POST" if "POST" in methods else "GET"


def test_no_field_served_to_a_labeller_holds_the_true_class(client, session):
    seed_demo(session, n_items=N_ITEMS, n_prelabelled=30)
    truth = {item.external_id: item.true_label for item in generate_demo_items(N_ITEMS)}
    names = {
        label["key"]: {label["key"], label["name"]["en"], label["name"]["zh-Hant"]}
        for label in load_demo_taxonomy()["labels"]
    }
    vendor_b = session.query(Vendor).filter_by(name=VENDOR_B).one().id
    created = directory.create_user(
        session, SYSTEM_ACTOR, "new-labeller", role=Role.LABELLER, vendor_id=vendor_b
    )
    headers = {"Authorization": f"Bearer {created.token}"}
    method = _next_method(client)
    project_id = client.get("/api/projects", headers=headers).json()[0]["id"]
    served = 0
    for _ in range(80):
        response = client.request(method, NEXT.format(project_id=project_id), headers=headers)
        if response.status_code == 204:
            break
        assert response.status_code == 200, response.text
        body = response.json()
        item = body["item"]
        true_label = truth[item["external_id"]]
        assert "template" not in (item.get("metadata") or {})
        for field, value in item.items():
            shown = json.dumps(value, ensure_ascii=False)
            if field == "text":  # the ad's own words may name its topic; never the key
                assert true_label not in shown, (field, shown)
                continue
            for name in names[true_label]:
                assert name not in shown, (field, name, shown)
        label_url = f"/api/assignments/{body['assignment_id']}/label"
        assert client.post(label_url, json={"label": "compliant"}, headers=headers).is_success
        served += 1
    assert served == 80


def test_generated_items_keep_the_true_class_out_of_their_metadata():
    for item in generate_demo_items(500):
        assert item.true_label not in json.dumps(item.metadata)
