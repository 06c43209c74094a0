"""Issue 19, items 5 and 8: bad input is a clear 4xx in the one error envelope, never a
500, on both databases; lenient parsing is gone (strict, bounded, storable types)."""

from __future__ import annotations

import json
from typing import Annotated, Any, get_args, get_origin

import pytest
from annotated_types import Le
from fastapi.routing import APIRoute

from factories import TAXONOMY, make_world, write_jsonl
from labelops.services.item_files import read_item_file
from web.web_support import give_passwords, login

MAX_ID = 2**63 - 1
"""The largest id (``labelops.api.schemas.fields.MAX_ID``)."""
TOO_BIG = 2**63
JSON = {"content-type": "application/json"}


def _auth(world: Any, name: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[name]}"}


def _assert_envelope(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert {"code", "message", "message_id", "params"} <= error.keys()
    if field is not None:
        fields = [problem["field"] for problem in error.get("problems", [])]
        assert any(found and found.endswith(field) for found in fields), error
    return dict(error)


@pytest.mark.parametrize(
    "path",
    [
        f"/api/projects/{TOO_BIG}",
        f"/api/projects/{TOO_BIG}/progress",
        f"/api/users/{TOO_BIG}",
        f"/api/users?vendor_id={TOO_BIG}",
        f"/api/audits?project_id={TOO_BIG}",
        f"/api/projects/1/export?snapshot_id={TOO_BIG}",
        f"/api/lots/{TOO_BIG}",
        f"/api/taxonomies/{TOO_BIG}",
        "/api/projects/0",
        "/api/projects/-1",
        f"/api/projects/{MAX_ID + 10**20}",
    ],
)
def test_ids_out_of_range_are_422_not_500(client, session, path):
    world = make_world(session, n_items=1, overlap=1)
    error = _assert_envelope(client.get(path, headers=_auth(world)), 422)
    assert error["code"] == "invalid_input"


def test_largest_id_is_a_plain_404(client, session):
    world = make_world(session, n_items=1, overlap=1)
    _assert_envelope(client.get(f"/api/projects/{MAX_ID}", headers=_auth(world)), 404)
    labeller = _auth(world, "labeller-a1")
    _assert_envelope(client.get(f"/api/projects/{MAX_ID}/next", headers=labeller), 404)


def test_ids_out_of_range_on_pages_are_4xx(client, session):
    world = make_world(session, n_items=1, overlap=1)
    give_passwords(session, world, "admin")
    session.commit()
    login(client, "admin")
    for path in (
        f"/admin/projects/{TOO_BIG}",
        f"/admin/taxonomies/{TOO_BIG}",
        f"/admin/imports/{TOO_BIG}",
        f"/vendor/{TOO_BIG}",
        f"/quality/{TOO_BIG}",
        f"/audit/lots/{TOO_BIG}",
        "/admin/projects/0",
    ):
        response = client.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code)


def _upper_bound(annotation: Any, metadata: list[Any]) -> int | None:
    """The ``Le`` bound of a parameter, also inside ``Annotated[...] | None``."""
    for item in metadata:
        if isinstance(item, Le):
            return int(item.le)  # type: ignore[call-overload]
    for arg in get_args(annotation):
        if get_origin(arg) is Annotated:
            return _upper_bound(None, list(arg.__metadata__))
    return None


def _api_routes(routes: Any) -> Any:
    """Every ``APIRoute``, through the included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def test_every_id_parameter_is_bounded_in_one_type(client):
    """Every ``*_id`` path or query parameter of every route (API and pages) has the
    shared ``Id`` bounds: a new route with a bare ``int`` id fails here."""
    unbounded = []
    checked = 0
    routes = list(_api_routes(client.app.routes))
    assert len(routes) > 80  # the API's and the pages'
    for route in routes:
        for param in route.dependant.path_params + route.dependant.query_params:
            if not param.name.endswith("_id"):
                continue
            if "int" not in str(param.field_info.annotation):
                continue  # a text id (the audit trail's entity_id)
            checked += 1
            limit = _upper_bound(param.field_info.annotation, param.field_info.metadata)
            if limit is None or limit > MAX_ID:
                unbounded.append(f"{route.path} {param.name}")
    assert checked > 50 and not unbounded, unbounded


@pytest.mark.parametrize("since", ["2026-01-01T00:00:00", "2026-01-01", "0.5", "1700000000"])
def test_since_needs_an_iso_date_with_a_zone(client, session, since):
    world = make_world(session, n_items=1, overlap=1)
    project_id = world.project_ids["A"]
    response = client.get(
        f"/api/projects/{project_id}/quality/agreement",
        params={"since": since},
        headers={**_auth(world), "Accept-Language": "zh-Hant"},
    )
    error = _assert_envelope(response, 422, "since")
    assert "ISO 8601" in error["problems"][0]["message"]
    assert "時區" in error["problems"][0]["message"]


def test_since_with_a_zone_is_accepted(client, session):
    world = make_world(session, n_items=1, overlap=1)
    response = client.get(
        f"/api/projects/{world.project_ids['A']}/quality/agreement",
        params={"since": "2026-01-01T00:00:00+08:00"},
        headers=_auth(world),
    )
    assert response.status_code != 500
    assert response.json()["error"]["message_id"] == "errors.quality.no_labels"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('"gold_rate": NaN', "gold_rate"),
        ('"gold_rate": Infinity', "gold_rate"),
        ('"sla_hours": Infinity', "sla_hours"),
        ('"sla_hours": -Infinity', "sla_hours"),
        ('"gold_rate": false', "gold_rate"),
        ('"gold_rate": "0.1"', "gold_rate"),
        ('"sla_hours": true', "sla_hours"),
        ('"overlap": "2"', "overlap"),
        ('"overlap": 1.5', "overlap"),
        ('"vendor_ids": [true]', "vendor_ids.0"),
    ],
)
def test_lenient_numbers_are_rejected_with_the_field_named(client, session, raw, field):
    world = make_world(session, n_items=0)
    body = '{"name": "p", "taxonomy": "ads-test@1", "overlap": 1, ' + raw + "}"
    body = body.replace('"overlap": 1, "overlap"', '"overlap"')
    response = client.post("/api/projects", content=body, headers={**_auth(world), **JSON})
    _assert_envelope(response, 422, field)
    assert client.get("/api/projects", headers=_auth(world)).json()[-1]["name"] != "p"


def test_non_finite_numbers_elsewhere_are_rejected(client, session):
    world = make_world(session, n_items=1, overlap=1)
    project_id = world.project_ids["A"]
    patch = client.patch(
        f"/api/projects/{project_id}",
        content='{"gold_rate": NaN}',
        headers={**_auth(world), **JSON},
    )
    _assert_envelope(patch, 422, "gold_rate")
    lot = client.post(
        f"/api/projects/{project_id}/lots",
        content=json.dumps({"vendor_id": world.vendor_ids["A"]}),
        headers={**_auth(world), **JSON},
    )
    assert lot.status_code in (201, 409, 422), lot.text
    if lot.status_code == 201:
        audit = client.post(
            f"/api/lots/{lot.json()['id']}/audits",
            content='{"plan": "margin", "margin": Infinity}',
            headers={**_auth(world, "auditor"), **JSON},
        )
        _assert_envelope(audit, 422, "margin")


def test_the_envelope_renders_any_input():
    """The error response itself crashed on NaN (and on a lone surrogate)."""
    from labelops.api.errors import EnvelopeResponse

    body = EnvelopeResponse(
        {"error": {"params": {"value": float("nan"), "text": "a\ud800b", "n": float("inf")}}}
    ).body
    parsed = json.loads(body)
    assert parsed["error"]["params"] == {"value": "nan", "text": "a\\ud800b", "n": "inf"}


def test_a_lone_surrogate_in_item_text_names_row_and_field(client, session):
    world = make_world(session, n_items=0)
    project_id = world.project_ids["A"]
    body = '{"items": [{"external_id": "ok", "text": "fine"}, {"external_id": "s", "text": "a\\ud800b"}]}'
    response = client.post(
        f"/api/projects/{project_id}/items", content=body, headers={**_auth(world), **JSON}
    )
    error = _assert_envelope(response, 422)
    assert error["problems"] == [
        {"line": 2, "field": "text", "message": error["problems"][0]["message"]}
    ]
    assert "surrogate" in error["problems"][0]["message"]


def test_a_lone_surrogate_in_an_item_file_names_row_and_field(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_bytes(
        b'{"external_id": "a", "text": "fine"}\n'
        b'{"external_id": "b", "text": "x\\udc00y"}\n'
        b'{"external_id": "c", "text": "t", "metadata": {"score": NaN}}\n'
    )
    problems = read_item_file(path).problems
    assert [(p.line, p.field, p.message_id) for p in problems] == [
        (2, "text", "errors.input.lone_surrogate"),
        (3, "metadata.score", "errors.input.not_finite"),
    ]


def test_deeply_nested_metadata_is_refused_with_the_limit(client, session):
    world = make_world(session, n_items=0)
    project_id = world.project_ids["A"]
    metadata: dict[str, Any] = {}
    level = metadata
    for _ in range(900):
        level["a"] = {}
        level = level["a"]
    item = {"external_id": "deep", "text": "t", "metadata": metadata}
    response = client.post(
        f"/api/projects/{project_id}/items",
        content=json.dumps({"items": [item]}),
        headers={**_auth(world), **JSON},
    )
    error = _assert_envelope(response, 422)
    problem = error["problems"][0]
    assert problem["line"] == 1 and problem["field"].startswith("metadata.a.a")
    assert "32" in problem["message"]


def test_deeply_nested_metadata_in_a_file_is_a_row_problem(tmp_path):
    deep: Any = "leaf"
    for _ in range(40):
        deep = [deep]
    path = write_jsonl(tmp_path / "d.jsonl", [{"external_id": "x", "text": "t", "tags": deep}])
    problems = read_item_file(path).problems
    assert [(p.line, p.message_id) for p in problems] == [(1, "errors.input.too_deep")]
    assert problems[0].field is not None and problems[0].field.startswith("tags[0]")


def _nul_cases(world: Any) -> list[tuple[str, str, str, Any, str]]:
    project_id = world.project_ids["A"]
    taxonomy = json.loads(json.dumps(TAXONOMY))
    taxonomy["key"] = "nul-test"
    taxonomy["labels"][0]["name"]["en"] = "Comp\x00liant"
    return [
        ("admin", "POST", "/api/vendors", {"name": "v\x00"}, "name"),
        (
            "admin",
            "POST",
            "/api/users",
            {"username": "u1", "role": "labeller", "display_name": "D\x00"},
            "display_name",
        ),
        ("admin", "POST", "/api/users", {"username": "u\x00", "role": "admin"}, "username"),
        (
            "admin",
            "POST",
            f"/api/projects/{project_id}/gold",
            {
                "external_id": "a-0001",
                "labels": ["gambling"],
                "explanation_en": "because\x00",
                "explanation_zh": "因為",
            },
            "explanation_en",
        ),
        ("admin", "POST", "/api/taxonomies", taxonomy, "labels[0].name.en"),
        (
            "admin",
            "POST",
            "/api/audit/error-types",
            [{"key": "k", "name_en": "Wrong\x00", "name_zh": "錯"}],
            "name_en",
        ),
        ("labeller-a1", "POST", "/api/assignments/1/skip", {"reason": "r\x00"}, "reason"),
        ("labeller-a1", "POST", "/api/assignments/1/label", {"label": "g\x00"}, "label"),
        (
            "admin",
            "POST",
            f"/api/projects/{project_id}/items",
            {"items": [{"external_id": "n", "text": "t\x00"}]},
            "text",
        ),
        ("admin", "GET", "/api/audit-events?entity_type=a%00b", None, "entity_type"),
        ("admin", "GET", "/api/disputes?status=o%00", None, "status"),
        (
            "admin",
            "GET",
            f"/api/projects/{project_id}/quality/agreement?metric=k%00",
            None,
            "metric",
        ),
    ]


def test_a_nul_character_in_any_text_field_is_a_422_naming_it(client, session):
    world = make_world(session, n_items=2, overlap=1)
    for who, method, path, body, field in _nul_cases(world):
        response = client.request(method, path, json=body, headers=_auth(world, who))
        error = _assert_envelope(response, 422)
        named = [p.get("field") or "" for p in error.get("problems", [])] + [
            str(error["params"].get("field"))
        ]
        assert any(field in name for name in named), (path, error)
